"""Audio I/O: load, resample, validate and save (atomically).

Audio is float32 with shape ``(channels, samples)``, like librosa's
multi-channel convention. Files are read and written with soundfile
(libsndfile: WAV, FLAC, OGG/Vorbis, MP3 where the library supports it)
and resampled with soxr.
"""

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ._atomic import atomic_path
from ._validation import check_audio

__all__ = ["load_audio", "save_audio", "resample", "audio_info", "SUPPORTED_FORMATS"]

#: Container formats soundfile can read here, by file extension.
SUPPORTED_FORMATS = tuple(f".{ext.lower()}" for ext in sf.available_formats())


def _check_readable(path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Audio file not found: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"Expected an audio file, got a directory: {path}")
    if path.suffix.lower() not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Unsupported audio format {path.suffix!r} for {path}; supported: "
            f"{', '.join(sorted(SUPPORTED_FORMATS))}."
        )
    return path


def audio_info(path):
    """Sample rate, channels, frames, format and subtype of an audio file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import audio_info, save_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> save_audio(path, np.zeros((2, 100), dtype=np.float32), 8000)
    >>> info = audio_info(path)
    >>> info.samplerate, info.channels, info.frames
    (8000, 2, 100)
    """
    path = _check_readable(path)
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ValueError(f"Could not read audio file {path}: {exc}") from exc


def load_audio(path, sr=None, mono=False, *, offset=0.0, duration=None):
    """Load an audio file as float32 ``(channels, samples)``.

    Parameters
    ----------
    path : str or path-like
        WAV, FLAC, OGG, MP3 or any format libsndfile reads
        (:data:`SUPPORTED_FORMATS`).
    sr : float, optional
        Resample to this rate (soxr, high quality). ``None`` keeps the file's rate.
    mono : bool, default=False
        Average the channels into one.
    offset, duration : float
        Start time and length to read, in seconds.

    Returns
    -------
    audio : np.ndarray [shape=(channels, samples)], float32
    sr : int
        The sample rate of ``audio``.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing, unreadable, unsupported or empty files.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import load_audio, save_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.flac")
    >>> save_audio(path, 0.1 * np.ones((2, 44100), dtype=np.float32), 44100)
    >>> y, sr = load_audio(path, sr=22050)
    >>> y.shape, sr, y.dtype
    ((2, 22050), 22050, dtype('float32'))
    """
    info = audio_info(path)
    start = int(round(offset * info.samplerate))
    frames = -1 if duration is None else int(round(duration * info.samplerate))
    try:
        data, file_sr = sf.read(str(path), start=start, frames=frames, dtype="float32",
                                always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ValueError(f"Could not decode audio file {path}: {exc}") from exc
    if data.size == 0:
        raise ValueError(f"Audio file {path} holds no samples (in the requested range).")
    audio = np.ascontiguousarray(data.T)
    if not np.all(np.isfinite(audio)):
        raise ValueError(f"Audio file {path} contains NaN or infinite samples.")
    if mono:
        audio = audio.mean(axis=0, keepdims=True)
    if sr is not None and sr != file_sr:
        audio = resample(audio, file_sr, sr)
        file_sr = sr
    return audio, int(file_sr)


def resample(audio, orig_sr, target_sr):
    """Resample ``(channels, samples)`` audio with soxr (high quality).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.audio import resample
    >>> resample(np.zeros((2, 44100), dtype=np.float32), 44100, 22050).shape
    (2, 22050)
    """
    for name, rate in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if not (np.isfinite(rate) and rate > 0):
            raise ValueError(f"{name} must be a positive sample rate, got {rate!r}.")
    audio = check_audio(audio)
    if orig_sr == target_sr:
        return audio.astype(np.float32)
    out = soxr.resample(np.ascontiguousarray(audio.T, dtype=np.float32), orig_sr, target_sr,
                        quality="HQ")
    return np.ascontiguousarray(out.T)


def save_audio(path, audio, sr, subtype=None, *, format=None):
    """Write ``(channels, samples)`` audio atomically.

    The data go to a temporary file in the destination folder, which is
    renamed over ``path`` only once complete, so a failure never leaves a
    partial file behind.

    Parameters
    ----------
    path : str or path-like
        Destination; the format follows the extension unless ``format`` is given.
    audio : array-like [shape=(channels, samples) or (samples,)]
    sr : int
        Sample rate.
    subtype : str, optional
        libsndfile subtype (e.g. ``"PCM_16"``, ``"FLOAT"``); default is the
        format's default. :func:`sk_reseq.cli` passes the input's subtype.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import save_audio, audio_info
    >>> path = os.path.join(tempfile.mkdtemp(), "out.wav")
    >>> save_audio(path, np.zeros((1, 10), dtype=np.float32), 16000, subtype="PCM_24")
    >>> audio_info(path).subtype
    'PCM_24'
    """
    path = Path(path)
    audio = check_audio(audio)
    ext = path.suffix.lower()
    if format is None and ext not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Unsupported output format {ext!r} for {path}; supported: "
            f"{', '.join(sorted(SUPPORTED_FORMATS))}."
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"Output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"Output folder is not writable: {parent}")
    fmt = format or ext.lstrip(".").upper()
    if subtype is not None and not sf.check_format(fmt, subtype):
        subtype = None  # e.g. a WAV's PCM_16 into OGG: fall back to the format's default
    with atomic_path(path, suffix=".part") as tmp:
        sf.write(tmp, audio.T, int(sr), subtype=subtype, format=fmt)
