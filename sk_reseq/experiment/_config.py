"""The experiment's settings: :class:`ExperimentConfig` and the named :data:`CONFIGS`."""

import dataclasses
from dataclasses import dataclass, field

from .._constants import REAL_MUSIC

__all__ = ["CONFIGS", "MODEL_LABELS", "NETS", "ExperimentConfig", "get_config"]

NETS = ("ffn", "drn")
MODEL_LABELS = {"baseline": "Baseline", "ffn": "FFN", "drn": "DRN"}


@dataclass(frozen=True)
class ExperimentConfig:
    """Sizes and settings of one experiment.

    Parameters
    ----------
    name : str
        Label written into the outputs.
    n_tracks, n_raters, duration : int, int, float
        Size of the simulated listening test (``data="simulated"`` only).
    source : tuple of str or None
        Music of the simulated listening test: folders or files (paths
        relative to the current folder), None for the built-in synthetic
        music.
    variants : int
        Resonance variants of each excerpt of the simulated test (rows of
        one music file stay in one group, so on one side of every split).
    n_windows : int
        Windows drawn per track.
    models : tuple of str
        Among ``"baseline"``, ``"ffn"``, ``"drn"``.
    hpo_n_partitions, hpo_n_test, hpo_n_valid, hpo_n_test_windows : int
        The HPO partitions (:class:`HPOSplit`).
    hpo_n_iter, hpo_n_points : int
        Settings tried per network and proposed per iteration.
    cv_n_splits, cv_n_repeats : int
        The repeated grouped K-fold.
    drn_architecture : {"paper", "cpu"}
        The DRN: the paper's network or the filterbank DRN of
        :data:`~sk_reseq.models.CPU_DRN_PARAMS` (see
        :func:`sk_reseq.training.make_model`).
    ffn_params, drn_params : dict
        Fixed parameters of the networks (e.g. ``max_epochs``), over the
        architecture's.
    ffn_space, drn_space : dict
        Changes to :func:`ffn_search_space` / :func:`drn_search_space`:
        ``name: [low, high]`` new bounds (same prior), ``name: None`` leaves
        the parameter out of the search.
    random_state : int
        Seeds every step.

    Examples
    --------
    >>> from sk_reseq.experiment import get_config
    >>> get_config("paper").cv_n_repeats
    5
    """

    name: str
    n_tracks: int = 150
    n_raters: int = 15
    duration: float = 10.0
    source: tuple = None
    variants: int = 1
    n_windows: int = 100
    models: tuple = ("baseline", "ffn", "drn")
    hpo_n_partitions: int = 2
    hpo_n_test: int = 10
    hpo_n_valid: int = 10
    hpo_n_test_windows: int = 100
    hpo_n_iter: int = 50
    hpo_n_points: int = 1
    cv_n_splits: int = 5
    cv_n_repeats: int = 5
    ffn_params: dict = field(default_factory=dict)
    drn_architecture: str = "paper"
    drn_params: dict = field(default_factory=dict)
    ffn_space: dict = field(default_factory=dict)
    drn_space: dict = field(default_factory=dict)
    random_state: int = 0

    def to_dict(self):
        """The config as JSON-compatible data."""
        out = dataclasses.asdict(self)
        out["models"] = list(self.models)
        return out


_SMALL_DRN = {"n_blocks": [2, 4], "block_size_low": [4, 16], "block_size_mid": [4, 16],
              "block_size_high": [4, 16], "pool_size": [100, 1000], "final_size": [4, 16]}

# The filterbank DRN keeps the architecture of CPU_DRN_PARAMS; only its learning rate is searched.
_CPU_DRN_SPACE = {"n_blocks": None, "block_size_low": None, "block_size_mid": None,
                  "block_size_high": None, "pool_size": None, "final_size": None,
                  "lr": [1e-3, 5e-3]}

#: Named experiment sizes (:class:`ExperimentConfig`) for :func:`run_experiment`
#: and ``sk-reseq experiment --config``: ``"paper"`` (the paper's protocol: 150
#: tracks, two search partitions of 10/10/130 tracks, 5 x 5-fold CV), ``"quick"``
#: (a minute or two on 2 CPU cores), ``"real"`` (the protocol on a panel of the
#: real music of ``../shared``) and ``"tiny"`` (the test suite's toy sizes).
CONFIGS = {
    # the paper: 150 tracks, 2 HPO partitions of 10/10/130, 5 x 5-fold CV
    "paper": ExperimentConfig(name="paper", ffn_params={"max_epochs": 100},
                              drn_params={"max_epochs": 50}),
    # minutes on 2 CPU cores: small panel, short training. Many tracks, few
    # windows each: the target is per track, so tracks teach more than
    # windows. Its DRN is the filterbank one of CPU_DRN_PARAMS: DRNs on the
    # samples that fit here (3-9 blocks of 8-16 channels, receptive fields of
    # 15-1023 samples) stayed at the baseline.
    "quick": ExperimentConfig(
        name="quick", n_tracks=300, duration=3.0, n_windows=2, hpo_n_partitions=1, hpo_n_test=10,
        hpo_n_valid=10, hpo_n_test_windows=2, hpo_n_iter=4, hpo_n_points=2, cv_n_splits=5,
        cv_n_repeats=2,
        ffn_params={"max_epochs": 40, "early_stopping_patience": 8, "lr_reduce_patience": 4},
        drn_architecture="cpu",
        ffn_space={"n_blocks": [1, 2], "block_size_low": [32, 128], "block_size_mid": [32, 128],
                   "block_size_high": [32, 128], "lr": [1e-3, 3e-3]},
        drn_space=dict(_CPU_DRN_SPACE),
    ),
    # the protocol on real music, within 30 minutes on 2 CPU cores: a panel of
    # 4 s excerpts of the 108 recordings of ../shared (two excerpts each, four
    # resonance variants of each excerpt), as `sk-reseq panel make --source
    # ../shared/corpus ../shared/music --n-tracks 216 --variants 4 --duration 4`
    # writes it. The real music's target is subtler than the synthetic one:
    # more windows per track and 5 x 5-fold CV (25 runs). The FFN overfits the
    # 679 features of about 4000 windows (5-fold grouped CV: 2 blocks of
    # 108-32 units 0.99x the baseline's MSBE, ridge regression 0.84x), so
    # small, weight-decayed nets with slow learning rates (16 units, 0.89x).
    "real": ExperimentConfig(
        name="real", n_tracks=216, duration=4.0, source=REAL_MUSIC, variants=4, n_windows=6,
        hpo_n_partitions=1, hpo_n_test=10, hpo_n_valid=10, hpo_n_test_windows=6, hpo_n_iter=6,
        hpo_n_points=2, cv_n_splits=5, cv_n_repeats=5,
        ffn_params={"weight_decay": 1e-2, "max_epochs": 100, "early_stopping_patience": 10,
                    "lr_reduce_patience": 4},
        drn_architecture="cpu",
        ffn_space={"n_blocks": [1, 2], "block_size_low": [8, 64], "block_size_mid": [8, 64],
                   "block_size_high": [8, 64], "lr": [1e-4, 1e-3]},
        drn_space=dict(_CPU_DRN_SPACE),
    ),
    # the test suite's end-to-end run: same code path, toy sizes
    "tiny": ExperimentConfig(
        name="tiny", n_tracks=12, n_raters=5, duration=1.0, n_windows=4, hpo_n_test=2,
        hpo_n_valid=2, hpo_n_test_windows=4, hpo_n_iter=2, cv_n_splits=2, cv_n_repeats=2,
        ffn_params={"max_epochs": 3, "batch_size": 16},
        drn_params={"max_epochs": 1, "batch_size": 8, "predict_batch_size": 64},
        ffn_space={"n_blocks": [1, 2], "block_size_low": [4, 16], "block_size_mid": [4, 16],
                   "block_size_high": [4, 16]},
        drn_space={**_SMALL_DRN, "n_blocks": [1, 2], "block_size_low": [2, 4],
                   "block_size_mid": [2, 4], "block_size_high": [2, 4]},
    ),
}


def get_config(config):
    """An :class:`ExperimentConfig` from a name of :data:`CONFIGS` or a config.

    Examples
    --------
    >>> from sk_reseq.experiment import get_config
    >>> get_config("quick").name
    'quick'
    """
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, str) and config in CONFIGS:
        return CONFIGS[config]
    raise ValueError(f"Unknown config {config!r}; choose one of {sorted(CONFIGS)} "
                     "or pass an ExperimentConfig.")
