"""Folders of audio files: the user's own tracks."""

import logging
from pathlib import Path

__all__ = ["load_audio_folder", "list_audio_files"]

logger = logging.getLogger(__name__)


def list_audio_files(path):
    """Audio files directly inside ``path``, sorted by name.

    A file counts as audio when libsndfile reads its extension
    (:data:`sk_reseq.audio.SUPPORTED_FORMATS`); other files are skipped.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    NotADirectoryError
        If ``path`` is a file.
    ValueError
        If the folder holds no audio file, or two files share a name
        without extension (``a.wav`` and ``a.flac``).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sk_reseq.audio import save_audio
    >>> from sk_reseq.datasets import list_audio_files
    >>> folder = tempfile.mkdtemp()
    >>> save_audio(os.path.join(folder, "b.wav"), np.zeros((1, 8), dtype=np.float32), 8000)
    >>> save_audio(os.path.join(folder, "a.flac"), np.zeros((1, 8), dtype=np.float32), 8000)
    >>> [p.name for p in list_audio_files(folder)]
    ['a.flac', 'b.wav']
    """
    from ..audio import SUPPORTED_FORMATS

    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"Audio folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"Expected a folder of audio files, got a file: {folder}")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_FORMATS
    )
    if not files:
        raise ValueError(
            f"No audio files in {folder}; "
            f"readable extensions: {', '.join(sorted(SUPPORTED_FORMATS))}."
        )
    stems = [p.stem for p in files]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise ValueError(
            f"Audio files in {folder} share names without extension: {repeated[:5]}; "
            "track names must be unique."
        )
    return files


def load_audio_folder(path, sr=22050):
    """Load every audio file of a folder, resampled to ``sr``.

    Parameters
    ----------
    path : str or path-like
        Folder; only the files directly inside it are read (see
        :func:`list_audio_files`), in name order.
    sr : int, default=22050
        Sample rate of the returned audio (files are resampled with soxr).

    Returns
    -------
    audio : list of np.ndarray of float32 [shape=(channels, samples)]
    names : list of str
        File names without extension, the track ids used in ratings files.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sk_reseq.audio import save_audio
    >>> from sk_reseq.datasets import load_audio_folder
    >>> folder = tempfile.mkdtemp()
    >>> save_audio(os.path.join(folder, "x.wav"), np.zeros((2, 800), dtype=np.float32), 8000)
    >>> audio, names = load_audio_folder(folder, sr=16000)
    >>> names, audio[0].shape
    (['x'], (2, 1600))
    """
    from ..audio import load_audio

    audio, names = [], []
    for file in list_audio_files(path):
        logger.debug("loading %s", file)
        audio.append(load_audio(file, sr=sr)[0])
        names.append(file.stem)
    return audio, names
