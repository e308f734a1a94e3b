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
- ``"drn"``: a :class:`~sk_reseq.models.DRNRegressor` on the raw PCM: on a
  CPU the filterbank DRN of :data:`~sk_reseq.models.CPU_DRN_PARAMS`, with
  ``device="cuda"`` the paper's network;
- ``"resonance"``: a :class:`~sk_reseq.preprocessing.ResonanceProfile`
  whose band model learnt real music from the panel's clean excerpts, then
  a :class:`~sk_reseq.models.RatingTargetRegressor` (linear). It needs
  neither torch nor Essentia to predict: the default model.

Training is seeded and single-threaded, so the same arguments give the same
model (predictions equal within 1e-6 on one machine). The default model
(:func:`load_default_model`) is rebuilt by ``sk-reseq train --preset default``
from the project root, where ``../shared/corpus`` and ``../shared/music``
hold its real music.
"""

import logging
from contextlib import contextmanager

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ._constants import MODEL_SR as SR
from ._constants import REAL_MUSIC, WINDOW_SECONDS
from .datasets import load_panel
from .persistence import default_model_path, load_default_model
from .preprocessing import ResonanceProfile, WindowSampler

__all__ = ["PRESETS", "make_model", "train_model", "default_model_path", "load_default_model"]

logger = logging.getLogger(__name__)

#: Real music the default model learns from (relative to the project root; see
#: ../shared/corpus/README.md and ../shared/music/README.md for the sources).
DEFAULT_SOURCE = REAL_MUSIC

#: Named training settings. ``default`` rebuilds the shipped default model:
#: two 12 s excerpts of each of the 108 real tracks, four resonance variants
#: each, 5 s windows, the oracle factor as target.
PRESETS = {
    "default": dict(model="resonance", source=DEFAULT_SOURCE, n_tracks=216, variants=4,
                    duration=12.0, n_windows=6, window=5.0, target="oracle", net_params={}),
    "paper": dict(model="ffn", features="essentia", n_tracks=120, duration=8.0, n_windows=25,
                  net_params=dict(hidden_sizes=(64, 32), max_epochs=60)),
    "small": dict(model="ffn", features="essentia", n_tracks=40, duration=6.0, n_windows=20,
                  net_params=dict(hidden_sizes=(32,), max_epochs=20)),
}


def make_model(model="ffn", features=None, *, architecture=None, random_state=0,
               **net_params):
    """An unfitted model of the factor on stereo windows at 22 050 Hz.

    The one builder of the models: ``sk-reseq train``, the experiment and the
    demo take their models from it, so their steps have the same names and
    tuned parameters (``ffnregressor__lr``) carry over from one to the other.

    Parameters
    ----------
    model : {"ffn", "drn", "resonance", "baseline"}
        ``"baseline"`` is :class:`~sk_reseq.models.MeanRatingRegressor`.
    features : {"essentia", "resonances", "precomputed"}, optional
        Inputs of the FFN (default ``"essentia"``, the paper's features);
        ``"precomputed"`` leaves the feature step out, for features computed
        once beforehand (the experiment's cross-validation). Not used by the
        other models.
    architecture : {"cpu", "paper"} or None, default=None
        The DRN's network: ``"cpu"`` the filterbank DRN of
        :data:`~sk_reseq.models.CPU_DRN_PARAMS`, ``"paper"`` the paper's
        (``DRNRegressor()``'s defaults); None is ``"paper"`` when ``device``
        names a GPU (``"cuda"``, ``"cuda:1"``) and ``"cpu"`` otherwise.
    random_state : int
    **net_params
        Parameters of the network (e.g. ``hidden_sizes``, ``max_epochs``);
        they override the architecture's.

    Returns
    -------
    model : Pipeline
        Steps named after their classes in lower case (``standardscaler``,
        ``ffnregressor``, ``drnregressor``, ...).

    Examples
    --------
    >>> from sk_reseq.training import make_model
    >>> [name for name, _ in make_model("ffn", "resonances").steps]
    ['elcspectrum', 'resonancedetector', 'standardscaler', 'ffnregressor']
    >>> [name for name, _ in make_model("ffn", "precomputed").steps]
    ['standardscaler', 'ffnregressor']
    >>> make_model("drn", architecture="paper")[-1].n_blocks
    10
    """
    from .models import (
        CPU_DRN_PARAMS,
        DRNRegressor,
        FFNRegressor,
        MeanRatingRegressor,
        RatingTargetRegressor,
    )

    if model in ("drn", "resonance", "baseline") and features is not None:
        raise ValueError(f"features applies to the FFN only, not to model={model!r}.")
    if architecture is not None and model != "drn":
        raise ValueError(f"architecture applies to the DRN only, not to model={model!r}.")
    if model in ("resonance", "baseline") and net_params:
        raise ValueError(f"network parameters {sorted(net_params)} apply to 'ffn' and 'drn', "
                         f"not to model={model!r}.")
    if model == "baseline":
        return Pipeline([("meanratingregressor", MeanRatingRegressor())])
    if model == "drn":
        if architecture is None:
            gpu = str(net_params.get("device", "cpu")).startswith("cuda")
            architecture = "paper" if gpu else "cpu"
        if architecture not in ("cpu", "paper"):
            raise ValueError(f"architecture must be 'cpu' or 'paper', got {architecture!r}.")
        params = {**(CPU_DRN_PARAMS if architecture == "cpu" else {}), **net_params}
        return Pipeline([("drnregressor", DRNRegressor(random_state=random_state, **params))])
    if model == "resonance":
        return Pipeline([
            ("resonanceprofile", ResonanceProfile(sr=SR, random_state=random_state)),
            ("ratingtargetregressor", RatingTargetRegressor(LinearRegression())),
        ])
    if model != "ffn":
        raise ValueError("model must be 'ffn', 'drn', 'resonance' or 'baseline', "
                         f"got {model!r}.")
    features = "essentia" if features is None else features
    if features == "essentia":
        from .features import FeatureSummarizer

        front = [("featuresummarizer", FeatureSummarizer(sr=SR))]
    elif features == "resonances":
        from .preprocessing import ELCSpectrum, ResonanceDetector

        front = [("elcspectrum", ELCSpectrum(sr=SR)), ("resonancedetector", ResonanceDetector())]
    elif features == "precomputed":
        front = []
    else:
        raise ValueError("features must be 'essentia', 'resonances' or 'precomputed', "
                         f"got {features!r}.")
    net = FFNRegressor(random_state=random_state, **net_params)
    return Pipeline(front + [("standardscaler", StandardScaler()), ("ffnregressor", net)])


@contextmanager
def _single_thread(model):
    # Thread count changes the order of float reductions: one thread makes
    # training bit-for-bit repeatable (and is faster for these small models).
    with threadpool_limits(1):
        if model == "resonance":  # no torch needed
            yield
            return
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def train_model(data="simulated", model="ffn", features=None, *, n_tracks=120, duration=8.0,
                n_raters=15, n_windows=25, source=None, variants=1, window=WINDOW_SECONDS,
                target="ratings", random_state=0, net_params=None, progress=None):
    """Train a model of the attenuation factor on rated tracks.

    Parameters
    ----------
    data : "simulated", path or dict
        See :func:`sk_reseq.datasets.load_panel`.
    model, features : str
        See :func:`make_model` (``features="precomputed"`` excepted: the
        windows are audio).
    n_tracks, duration, n_raters : int, float, int
        Size of a simulated panel.
    n_windows : int
        Random causal windows per track.
    source : str, path or sequence, optional
        Music of a simulated panel (folders or files); None is synthetic.
    variants : int, default=1
        Resonance variants per excerpt of a simulated panel (rows of one
        source file form a group: never split across training and validation).
    window : float, default=0.5
        Seconds of audio per window (the paper: 0.5); the model predicts
        from this much audio, and :class:`~sk_reseq.equalizer.AutoEqualizer`
        reads it from the model (``window_``).
    target : {"ratings", "oracle"}, default="ratings"
        What the model learns: the raters' ratings (the paper), or, for a
        simulated panel, the oracle factor the simulated raters answer
        from. The oracle is the factor that restores the clean music; the
        simulated raters scale it by 0.45 (fitted to the paper's Table 1),
        so a model of the ratings can restore at most about half of it.
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
    if target not in ("ratings", "oracle"):
        raise ValueError(f"target must be 'ratings' or 'oracle', got {target!r}.")
    if target == "oracle" and data != "simulated":
        raise ValueError("target='oracle' needs a simulated panel (data='simulated'); rated "
                         "folders have ratings only.")
    if features == "precomputed":
        raise ValueError("train_model reads audio windows: features='precomputed' is for "
                         "make_model only; use 'essentia' or 'resonances'.")
    if model == "resonance" and data != "simulated":
        raise ValueError("model='resonance' learns real music from a simulated panel's clean "
                         "excerpts: use data='simulated' with source=<folders of music>.")
    panel = load_panel(data, sr=SR, n_tracks=n_tracks, n_raters=n_raters, duration=duration,
                       source=source, variants=variants, return_clean=model == "resonance",
                       random_state=random_state, progress=progress)
    Y = panel.oracle if target == "oracle" else panel.ratings
    sampler = WindowSampler(duration=window, sr=SR, n_windows=n_windows, random_state=random_state)
    X, Y, rows = sampler.fit_resample(panel.audio, Y)
    weights = _distance_weights(panel.oracle_distances)[rows] if target == "oracle" else None
    groups = np.asarray(panel.groups)[rows]
    net_params = dict(net_params or {})
    if model == "drn":  # the DRN reads windows of exactly n_samples
        net_params.setdefault("n_samples", X.shape[-1])
    est = make_model(model, features, random_state=random_state, **net_params)
    logger.info("training %s on %d windows of %d tracks (%s)", model, len(X), len(panel.audio),
                panel.source)
    with _single_thread(model):
        if model == "resonance":
            _fit_resonance_model(est, X, Y, panel, variants, sampler, weights)
        elif model == "baseline":
            est.fit(X, Y)
        else:  # the nets hold out whole groups for early stopping
            est.fit(X, Y, **{f"{est.steps[-1][0]}__groups": groups})
    est.window_ = window
    est.training_info_ = {
        "source": panel.source, "n_tracks": len(panel.audio), "n_windows": int(len(X)),
        "model": model, "features": features if model == "ffn" else None, "target": target,
        "window": window, "random_state": random_state,
    }
    return est


def _distance_weights(distances):
    """Weights under which squared error to the oracle is the distance users judge by.

    Near its minimum a variant's distance to the clean music is about
    ``d0 * (1 - removed)`` with ``d(f) = a f^2 + b f + c``; the mean share of
    the distance left, over variants, is then a sum of ``(a / d0) (f - f*)^2``:
    least squares to the oracle weighted by ``a / d0``. ``d0`` is floored at
    its median, so that clean variants (``d0 = 0``) count, but not infinitely.
    """
    steps = np.linspace(0.0, 1.0, distances.shape[1])
    curvature = np.polyfit(steps, distances.T, 2)[0].clip(min=0.0)
    start = distances[:, 0]
    weights = curvature / np.maximum(start, np.median(start))
    return weights / weights.mean()


def _fit_resonance_model(est, X, Y, panel, variants, sampler, weights=None):
    """Fit the profile's band model on the clean excerpts, then the rest on the panel.

    The band model must learn music without added resonances, so it is fit
    on windows of the clean excerpts (one variant of each), and then held
    fixed (``prefit``) while the pipeline fits on the panel's resonant windows.
    """
    profile = est.steps[0][1]
    clean = panel.clean[::variants]  # rows of one excerpt are consecutive
    windows, _, _ = clone(sampler).fit_resample(clean, np.zeros(len(clean)))
    fitted = clone(profile).fit(windows)
    est.set_params(resonanceprofile__band_model=fitted.band_model_,
                   resonanceprofile__prefit=True)
    est.fit(X, Y, **({} if weights is None else {"ratingtargetregressor__sample_weight": weights}))
