"""Shared fixtures: deterministic test signals and the optional real-music folder."""

import os
from pathlib import Path

import numpy as np
import pytest

# Two pytest-xdist workers share 2 cores: one thread each keeps runs stable.
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a core dependency
    pass

MUSIC_DIR = Path(__file__).resolve().parents[2] / "shared" / "music"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def music_files():
    """Real music from ../shared/music; skips cleanly when the folder is absent."""
    files = sorted(MUSIC_DIR.glob("*.ogg")) if MUSIC_DIR.is_dir() else []
    if not files:
        pytest.skip(f"no real music at {MUSIC_DIR}")
    return files


def pink_noise(n_samples, n_channels=1, seed=0):
    """Pink (1/f power) noise, unit RMS, float64 ``(n_channels, n_samples)``."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((n_channels, n_samples))
    spectrum = np.fft.rfft(white, axis=-1)
    f = np.arange(spectrum.shape[-1])
    spectrum[..., 1:] /= np.sqrt(f[1:])
    spectrum[..., 0] = 0
    pink = np.fft.irfft(spectrum, n=n_samples, axis=-1)
    return pink / pink.std(axis=-1, keepdims=True)
