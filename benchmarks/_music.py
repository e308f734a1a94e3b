"""The benchmarks' test audio: real music from ../shared/music when it is there."""

from pathlib import Path

import numpy as np

from sk_reseq.audio import load_audio
from sk_reseq.datasets import make_synthetic_music

MUSIC = Path(__file__).resolve().parents[2] / "shared" / "music"


def stereo_music(seconds, sr=44100):
    """``seconds`` of stereo music at ``sr`` and where it came from.

    The ``*.ogg`` files of ../shared/music in name order, joined and cut to
    length; generated music (``make_synthetic_music``, seed 0) when they are
    missing or too short.
    """
    n = int(seconds * sr)
    pieces, total = [], 0
    for path in sorted(MUSIC.glob("*.ogg")) if MUSIC.is_dir() else []:
        audio, _ = load_audio(path, sr=sr)
        pieces.append(audio[:2] if audio.shape[0] >= 2 else np.vstack([audio, audio]))
        total += audio.shape[1]
        if total >= n:
            return np.concatenate(pieces, axis=1)[:, :n], "shared/music"
    return make_synthetic_music(1, duration=seconds, sr=sr, random_state=0)[0], "generated music"
