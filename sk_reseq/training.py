"""Train a factor-prediction model end to end, and the default model shipped with sk_reseq.

:func:`train_model` goes from data (a simulated panel, a folder of audio
with ratings, or arrays) to a fitted model that
:class:`~sk_reseq.equalizer.AutoEqualizer` can use: windows of 0.5 s at
22 050 Hz (:class:`~sk_reseq.preprocessing.WindowSampler`), then

- ``"ffn"``: :class:`~sk_reseq.features.FeatureSummarizer` (the paper's 679
  Essentia features) or, with ``features="resonances"``, the equalizer's own
  analysis (:class:`~sk_reseq.preprocessing.ELCSpectrum` and
  :class:`~sk_reseq.preprocessing.ResonanceDetector`, no Essentia needed),
  a :class:`~sklearn.preprocessing.StandardScaler` and an
  :class:`~sk_reseq.models.FFNRegressor`;
- ``"drn"``: a :class:`~sk_reseq.models.DRNRegressor` on the raw PCM.

Training is seeded and single-threaded in torch, so the same arguments give
the same model (predictions equal within 1e-6). The default model
(:func:`load_default_model`) is rebuilt by ``sk-reseq train --preset default``.
"""

import logging
from contextlib import contextmanager
from pathlib import Path

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .datasets import load_panel
from .preprocessing import WindowSampler

__all__ = ["PRESETS", "make_model", "train_model", "default_model_path", "load_default_model"]

logger = logging.getLogger(__name__)

SR = 22050

#: Named training settings. ``default`` rebuilds the shipped default model.
PRESETS = {
    "default": dict(model="ffn", features="essentia", n_tracks=120, duration=8.0, n_windows=25,
                    net_params=dict(hidden_sizes=(64, 32), max_epochs=60)),
    "small": dict(model="ffn", features="essentia", n_tracks=40, duration=6.0, n_windows=20,
                  net_params=dict(hidden_sizes=(32,), max_epochs=20)),
}


def make_model(model="ffn", features=None, *, random_state=0, **net_params):
    """An unfitted model on 0.5 s windows at 22 050 Hz.

    Parameters
    ----------
    model : {"ffn", "drn"}
    features : {"essentia", "resonances"}, optional
        Inputs of the FFN (default ``"essentia"``, the paper's features);
        not used by the DRN.
    random_state : int
    **net_params
        Parameters of the network (e.g. ``hidden_sizes``, ``max_epochs``).

    Returns
    -------
    model : Pipeline

    Examples
    --------
    >>> from sk_reseq.training import make_model
    >>> [name for name, _ in make_model("ffn", "resonances").steps]
    ['elcspectrum', 'resonancedetector', 'standardscaler', 'ffnregressor']
    """
    from .models import DRNRegressor, FFNRegressor

    if model == "drn":
        if features is not None:
            raise ValueError("features applies to the FFN only; the DRN reads raw audio.")
        return Pipeline([("drnregressor", DRNRegressor(random_state=random_state, **net_params))])
    if model != "ffn":
        raise ValueError(f"model must be 'ffn' or 'drn', got {model!r}.")
    features = "essentia" if features is None else features
    if features == "essentia":
        from .features import FeatureSummarizer

        front = [("featuresummarizer", FeatureSummarizer(sr=SR))]
    elif features == "resonances":
        from .preprocessing import ELCSpectrum, ResonanceDetector

        front = [("elcspectrum", ELCSpectrum(sr=SR)), ("resonancedetector", ResonanceDetector())]
    else:
        raise ValueError(f"features must be 'essentia' or 'resonances', got {features!r}.")
    net = FFNRegressor(random_state=random_state, **net_params)
    return Pipeline(front + [("standardscaler", StandardScaler()), ("ffnregressor", net)])


@contextmanager
def _single_torch_thread():
    # Thread count changes the order of float reductions: one thread makes
    # training bit-for-bit repeatable (and is faster for these small nets).
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_model(data="simulated", model="ffn", features=None, *, n_tracks=120, duration=8.0,
                n_raters=15, n_windows=25, random_state=0, net_params=None, progress=None):
    """Train a model of the attenuation factor on rated tracks.

    Parameters
    ----------
    data : "simulated", path or dict
        See :func:`sk_reseq.datasets.load_panel`.
    model, features : str
        See :func:`make_model`.
    n_tracks, duration, n_raters : int, float, int
        Size of a simulated panel.
    n_windows : int
        Random causal windows per track.
    random_state : int
        Seeds the panel, the windows and the network.
    net_params : dict, optional
        Network parameters.
    progress : callable, optional
        Called with 1 after each simulated track.

    Returns
    -------
    model : Pipeline
        Fitted; ``model.training_info_`` holds what it was trained on.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.training import train_model
    >>> model = train_model(model="ffn", features="resonances", n_tracks=4, duration=1.0,
    ...                     n_windows=4, net_params=dict(hidden_sizes=(4,), max_epochs=2))
    >>> model.predict(np.zeros((1, 2, 11025), dtype=np.float32)).shape
    (1,)
    """
    panel = load_panel(data, sr=SR, n_tracks=n_tracks, n_raters=n_raters, duration=duration,
                       random_state=random_state, progress=progress)
    sampler = WindowSampler(duration=0.5, sr=SR, n_windows=n_windows, random_state=random_state)
    X, Y, groups = sampler.fit_resample(panel.audio, panel.ratings)
    est = make_model(model, features, random_state=random_state, **(net_params or {}))
    logger.info("training %s on %d windows of %d tracks (%s)", model, len(X), len(panel.audio),
                panel.source)
    with _single_torch_thread():
        est.fit(X, Y, **{f"{est.steps[-1][0]}__groups": groups})
    est.training_info_ = {
        "source": panel.source, "n_tracks": len(panel.audio), "n_windows": int(len(X)),
        "model": model, "features": features if model == "ffn" else None,
        "random_state": random_state,
    }
    return est


def default_model_path():
    """Where the default model lives inside the installed package."""
    return Path(__file__).resolve().parent / "data" / "default_model.skops"


def load_default_model():
    """The model shipped with sk_reseq (trained on a simulated panel).

    Rebuilt by ``sk-reseq train --preset default --out <path>``; see
    :data:`PRESETS`.

    Returns
    -------
    model : Pipeline

    Raises
    ------
    FileNotFoundError
        If the package was installed without its data file.
    """
    from .persistence import load_model

    path = default_model_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"The default model is missing from the installation ({path}); pass a model "
            "explicitly or rebuild it with `sk-reseq train --preset default --out PATH`."
        )
    return load_model(path)
