"""One entry point for "the data" of a command: simulated, a folder, or arrays."""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_panel"]


def load_panel(data="simulated", *, sr=22050, n_tracks=150, n_raters=15, duration=10.0,
               source=None, variants=1, return_clean=False, random_state=None, progress=None):
    """Tracks and their ratings, from a simulated panel, a folder or arrays.

    Parameters
    ----------
    data : "simulated", path or dict
        ``"simulated"``: :func:`make_listening_test` with ``n_tracks``,
        ``n_raters``, ``duration``, ``source``, ``variants``, ``return_clean``
        and ``random_state``. A folder: audio
        files plus ``ratings.csv`` (long format, see :func:`load_ratings`),
        either side by side or as written by ``sk-reseq panel make``
        (``audio/`` and ``ratings.csv``). A dict with ``audio`` (list of
        ``(channels, samples)`` arrays), ``ratings`` and optionally ``sr`` and
        ``track_names``.
    sr : int, default=22050
        Sample rate of the returned audio.
    source : str, path-like or list, optional
        Music of a simulated panel (folders or files; several folders are
        joined): see :func:`make_listening_test`. None is synthetic music.
    variants : int, default=1
        Resonance variants per excerpt of a simulated panel.
    return_clean : bool, default=False
        Also return a simulated panel's clean excerpts (``clean``).
    progress : callable, optional
        Called with 1 after each simulated track.

    Returns
    -------
    panel : Bunch
        ``audio`` (list of float32 arrays at ``sr``), ``ratings``
        ``(n_tracks, n_raters)`` with NaN = declined, ``track_names``,
        ``groups`` (the music of each track: rows of one group share music;
        from the ``group`` column of a folder's ``tracks.csv``, else one group
        per track) and ``source``; a simulated
        panel also has ``oracle``, ``oracle_distances`` and ``n_resonances``, and ``clean`` with
        ``return_clean``.

    Raises
    ------
    ValueError
        A folder with no audio, no ratings, or ratings for tracks that are
        missing (see :func:`align_ratings`).

    Examples
    --------
    >>> from sk_reseq.datasets import load_panel
    >>> panel = load_panel("simulated", n_tracks=2, n_raters=3, duration=1.0, random_state=0)
    >>> len(panel.audio), panel.ratings.shape
    (2, (2, 3))
    """
    if isinstance(data, str) and data == "simulated":
        from ._panel import make_listening_test

        sim = make_listening_test(n_tracks, n_raters, duration=duration, sr=sr,
                                  source=source, variants=variants,
                                  return_clean=return_clean, random_state=random_state,
                                  progress=progress)
        panel = Bunch(audio=sim.audio, ratings=np.asarray(sim.ratings, dtype=float),
                      track_names=list(sim.track_names), groups=sim.groups, oracle=sim.oracle,
                      oracle_distances=sim.oracle_distances,
                      n_resonances=sim.n_resonances,
                      source="simulated" if source is None
                      else f"simulated on {len(set(sim.groups.tolist()))} music files")
        if return_clean:
            panel.clean = sim.clean
        return panel
    if isinstance(data, (str, os.PathLike)):
        from ._folders import list_audio_files, load_audio_folder
        from ._ratings import align_ratings, load_ratings

        folder = Path(data)
        if not folder.is_dir():
            raise ValueError("data must be 'simulated' or an existing folder; "
                             f"{folder} is not a folder.")
        audio_dir = folder / "audio" if (folder / "audio").is_dir() else folder
        list_audio_files(audio_dir)  # no audio files: say so first
        csv = folder / "ratings.csv"
        if not csv.is_file():
            raise ValueError(f"No ratings in {folder}: expected {csv.name} (columns track, rater, "
                             "rating; an empty rating = declined) next to the audio files.")
        audio, names = load_audio_folder(audio_dir, sr=sr)
        ratings = align_ratings(load_ratings(csv), names)
        return Bunch(audio=audio, ratings=ratings.to_numpy(dtype=float), track_names=names,
                     groups=_folder_groups(folder / "tracks.csv", names), source=str(folder))
    if isinstance(data, dict) and {"audio", "ratings"} <= set(data):
        from ..audio import resample

        audio = [resample(a, data.get("sr", sr), sr) for a in data["audio"]]
        ratings = np.asarray(data["ratings"], dtype=float)
        if ratings.shape[0] != len(audio):
            raise ValueError(f"data has {len(audio)} tracks but ratings for {ratings.shape[0]}.")
        names = list(data.get("track_names", [f"track{i:03d}" for i in range(len(audio))]))
        groups = np.asarray(data.get("groups", np.arange(len(audio))))
        return Bunch(audio=audio, ratings=ratings, track_names=names, groups=groups,
                     source="in-memory")
    raise TypeError("data must be 'simulated', a folder of audio files with ratings.csv, or a "
                    f"dict with 'audio', 'sr' and 'ratings'; got {type(data).__name__}.")


def _folder_groups(tracks_csv, names):
    """Groups of a folder's tracks: ``tracks.csv``'s ``group`` column, else one per track.

    ``sk-reseq panel make --variants`` writes the column: variants of one
    recording share a group, so that grouped splits keep them together.
    """
    if not tracks_csv.is_file():
        return np.arange(len(names))
    import pandas as pd

    try:
        table = pd.read_csv(tracks_csv, dtype={"track": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"{tracks_csv} is not a readable CSV file: {exc}") from None
    if "group" not in table.columns:
        return np.arange(len(names))
    if "track" not in table.columns or table["track"].duplicated().any():
        raise ValueError(f"{tracks_csv} has a 'group' column, so it needs a 'track' column "
                         "with one row per track.")
    group = table.set_index("track")["group"].reindex(names)
    missing = group.index[group.isna()].tolist()
    if missing:
        raise ValueError(f"{tracks_csv} gives no group for {len(missing)} of the audio files "
                         f"(e.g. {missing[0]!r}); every track needs one.")
    return group.to_numpy()
