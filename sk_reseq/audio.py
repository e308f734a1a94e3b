"""Audio I/O: load, resample, validate and save (atomically).

Audio is float32 with shape ``(channels, samples)``, like librosa's
multi-channel convention. Files are read and written with soundfile
(libsndfile: WAV, FLAC, OGG/Vorbis, MP3 where the library supports it)
and resampled with soxr.
"""

import logging
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ._atomic import atomic_path, scratch_path
from ._validation import check_audio

__all__ = [
    "load_audio",
    "save_audio",
    "read_blocks",
    "audio_writer",
    "resample",
    "audio_info",
    "output_subtype",
    "check_audio_output",
    "SUPPORTED_FORMATS",
]

logger = logging.getLogger(__name__)

#: Container formats soundfile can read here, by file extension.
SUPPORTED_FORMATS = tuple(f".{ext.lower()}" for ext in sf.available_formats())

# Frames per block when reading and writing: files move through buffers of
# this size, never through a whole-file copy in the other layout.
_BLOCK_FRAMES = 1 << 16

# Uncompressed subtypes: sample depth class -> subtypes, nearest first.
# Anything else a file may hold (MP3, Vorbis, Opus, ADPCM, u-law, GSM, ...)
# is lossy and counts as 16-bit: its subtype is never copied into a PCM
# container (libsndfile's check_format("WAV", "MPEG_LAYER_III") says yes,
# yet writing it fails).
_PCM_LADDERS = {
    "PCM_U8": ("PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"),
    "PCM_S8": ("PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"),
    "PCM_16": ("PCM_16", "PCM_24", "PCM_32", "FLOAT"),
    "PCM_24": ("PCM_24", "PCM_32", "FLOAT", "PCM_16"),
    "PCM_32": ("PCM_32", "FLOAT", "DOUBLE", "PCM_24", "PCM_16"),
    "FLOAT": ("FLOAT", "DOUBLE", "PCM_32", "PCM_24", "PCM_16"),
    "DOUBLE": ("DOUBLE", "FLOAT", "PCM_32", "PCM_24", "PCM_16"),
}
# Lossless compressed subtypes: the uncompressed depth they stand for.
_LOSSLESS_DEPTH = {"ALAC_16": "PCM_16", "ALAC_20": "PCM_24", "ALAC_24": "PCM_24",
                   "ALAC_32": "PCM_32", "DWVW_24": "PCM_24", "DPCM_8": "PCM_S8",
                   "DPCM_16": "PCM_16"}
# Lossy codecs libsndfile can write (MPEG layers I and II it only reads).
_WRITABLE_CODECS = ("VORBIS", "OPUS", "MPEG_LAYER_III")
# Channels and rates libsndfile's encoders accept (checked on libsndfile
# 1.2): beyond them opening the file fails, and Vorbis past 200 kHz or
# 255 channels crashes the process, so they are checked before any trial.
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_ENCODER_LIMITS = {
    "MPEG_LAYER_III": {"channels": 2, "rates": _MP3_RATES},
    "OPUS": {"channels": 255, "rates": (8000, 12000, 16000, 24000, 48000)},
    "VORBIS": {"channels": 255, "max_rate": 200000},
}
_FORMAT_LIMITS = {"FLAC": {"channels": 8, "max_rate": 655350}}
# Bytes per sample of the fixed-size subtypes, to read a WAV header's frame count.
_SAMPLE_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4,
                 "FLOAT": 4, "DOUBLE": 8, "ULAW": 1, "ALAW": 1}


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

    The file is read in blocks straight into the returned array, so loading
    needs no memory beyond the audio itself (and a block). A file shorter
    than its header declares (a truncated download or copy) is loaded as far
    as it goes, with a warning logged that gives the frames declared and read.

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
        Start time (>= 0) and length (> 0) to read, in seconds.

    Returns
    -------
    audio : np.ndarray [shape=(channels, samples)], float32
    sr : int
        The sample rate of ``audio``.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing, unreadable, unsupported, damaged or empty files.

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
    if not offset >= 0:
        raise ValueError(f"offset must be >= 0 seconds, got {offset!r}.")
    if duration is not None and not duration > 0:
        raise ValueError(f"duration must be > 0 seconds (or None for all), got {duration!r}.")
    start = int(round(offset * info.samplerate))
    frames = None if duration is None else int(round(duration * info.samplerate))
    try:
        with sf.SoundFile(str(path)) as f:
            audio = _read_channels_first(f, path, start, frames)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ValueError(f"Could not decode audio file {path}: {exc}") from exc
    if audio.size == 0:
        raise ValueError(f"Audio file {path} holds no samples (in the requested range).")
    _warn_if_truncated(path, info, start, frames, audio.shape[1])
    file_sr = info.samplerate
    if mono:
        audio = audio.mean(axis=0, keepdims=True)
    if sr is not None and sr != file_sr:
        audio = resample(audio, file_sr, sr)
        file_sr = sr
    return audio, int(file_sr)


def _read_channels_first(f, path, start, frames):
    """Read ``frames`` (None: all) from ``start`` of an open file into (channels, n) float32.

    Blocks go straight into the preallocated result, which is sized from the
    header; a file that holds fewer frames gives a shorter result, one that
    holds more (an MP3 header's estimate) is read on to its end.
    """
    available = max(f.frames - start, 0)
    n = available if frames is None else min(frames, available)
    audio = np.empty((f.channels, n), dtype=np.float32)
    if start and available:
        f.seek(start)
    buf = np.empty((min(_BLOCK_FRAMES, max(n, 1)), f.channels), dtype=np.float32)
    pos = 0
    while pos < n:
        m = min(len(buf), n - pos)
        try:
            block = f.read(m, dtype="float32", out=buf[:m])
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise _decode_error(f, path, start + pos, m, exc) from exc
        if not len(block):
            break
        _check_finite(block, path)
        audio[:, pos : pos + len(block)] = block.T
        pos += len(block)
    if pos < n:
        return audio[:, :pos].copy()  # rare (a header that overcounts): drop the unused rest
    extra = []
    while available and (frames is None or n < frames):
        block = f.read(_BLOCK_FRAMES if frames is None else min(_BLOCK_FRAMES, frames - n),
                       dtype="float32", always_2d=True)
        if not len(block):
            break
        _check_finite(block, path)
        extra.append(block.T)
        n += len(block)
    return np.concatenate([audio, *extra], axis=1) if extra else audio


def _decode_error(f, path, lo, m, exc):
    """The error for a block of ``m`` frames from ``lo`` that libsndfile could not decode."""
    sr, total = f.samplerate, f.frames
    return ValueError(
        f"Could not decode audio file {path} between {lo / sr:.2f} s and "
        f"{(lo + m) / sr:.2f} s of the {total / sr:.2f} s its header declares "
        f"(frames {lo}-{lo + m} of {total}): {exc} The file is truncated or damaged."
    )


def read_blocks(path, frames=_BLOCK_FRAMES):
    """Read an audio file block by block, as float32 ``(channels, m)`` arrays.

    The blocks cover the file in order, each ``frames`` long but the last;
    memory does not grow with the file's length. Errors and warnings are
    those of :func:`load_audio` (a file shorter than its header declares is
    read as far as it goes, with a warning), raised when the generator
    reaches the bad part.

    Parameters
    ----------
    path : str or path-like
    frames : int, default=65536
        Frames per block.

    Yields
    ------
    block : np.ndarray [shape=(channels, m)], float32
        A new array each time: the caller may keep it.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import read_blocks, save_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "x.flac")
    >>> save_audio(path, np.zeros((2, 1000), dtype=np.float32), 8000)
    >>> [b.shape for b in read_blocks(path, frames=400)]
    [(2, 400), (2, 400), (2, 200)]
    """
    frames = int(frames)
    if frames < 1:
        raise ValueError(f"frames must be a positive number of frames per block, got {frames}.")
    info = audio_info(path)
    n = 0
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                try:
                    block = f.read(frames, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    raise _decode_error(f, path, n, frames, exc) from exc
                if not len(block):
                    break
                _check_finite(block, path)
                n += len(block)
                yield np.ascontiguousarray(block.T)
    except (sf.LibsndfileError, RuntimeError) as exc:  # opening the stream
        raise ValueError(f"Could not decode audio file {path}: {exc}") from exc
    if n == 0:
        raise ValueError(f"Audio file {path} holds no samples.")
    _warn_if_truncated(path, info, 0, None, n)


def _check_finite(block, path):
    if not np.isfinite(block).all():
        raise ValueError(f"Audio file {path} contains NaN or infinite samples.")


def _declared_frames(path, info):
    """Frames the file's header declares; ``None`` if it declares none.

    libsndfile trims the count of a WAV whose data chunk runs past the end
    of the file to what is there, so WAV headers are read here; other
    formats (FLAC, MP3) report their header's count as it stands.
    """
    if info.format not in ("WAV", "WAVEX", "RF64"):
        return info.frames
    width = _SAMPLE_BYTES.get(info.subtype)
    if width is None:  # compressed WAV: no fixed frame size to divide by
        return info.frames
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:] != b"WAVE":
            return info.frames
        size64 = None
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return info.frames
            name, size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if name == b"ds64":  # RF64: the 64-bit sizes (RIFF, data, ...)
                body = fh.read(size)
                size64 = int.from_bytes(body[8:16], "little") if len(body) >= 16 else None
                fh.seek(size & 1, 1)
            elif name == b"data":
                if size == 0xFFFFFFFF:
                    size = size64
                # 0 or unknown: written by a streaming tool that never filled it in
                return size // (width * info.channels) if size else None
            else:
                fh.seek(size + (size & 1), 1)


# Largest shortfall of a compressed file's decoded frames against its declared
# count that is not taken for truncation (Vorbis blocks: at most 8192 frames).
_CODEC_SLACK_FRAMES = 8192


def _warn_if_truncated(path, info, start, frames, n_read):
    """Log a warning if ``path`` ended before its header said (only where it was read up to)."""
    sr = info.samplerate
    end = start + n_read
    declared = _declared_frames(path, info)
    # A WAV header counts its frames exactly; a compressed stream's count is an
    # estimate that may exceed what decodes by up to a codec block (Vorbis: a
    # few hundred frames on intact files), which is no truncation.
    slack = 0 if info.format in ("WAV", "WAVEX", "RF64") else _CODEC_SLACK_FRAMES
    if declared is not None and end + slack < (
            declared if frames is None else min(declared, start + frames)):
        logger.warning(
            "%s is truncated: its header declares %d frames (%.2f s) but the file holds "
            "only %d (%.2f s); the rest is missing.", path, declared, declared / sr, end, end / sr)
    elif (info.format == "OGG" and "lacks an end-of-stream bit" in info.extra_info
          and (frames is None or n_read < frames)):
        logger.warning(
            "%s is truncated: it ends without the Ogg end-of-stream mark, after %d frames "
            "(%.2f s); the rest is missing.", path, end, end / sr)


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


def output_subtype(format, subtype=None):
    """The subtype to write a ``format`` file in, given the source's ``subtype``.

    The source's subtype when the format holds it and it is uncompressed
    (or the format's own codec, e.g. Vorbis into OGG); else the nearest the
    format holds: the same bit depth or more (24-bit and float stay 24-bit
    in FLAC), 16-bit PCM for a lossy source (MP3, Vorbis, Opus, ADPCM, ...)
    into a PCM container, and the format's own codec for a lossy format.
    A lossy source's subtype never goes into a PCM container.

    Parameters
    ----------
    format : str
        libsndfile format, e.g. ``"WAV"``, ``"FLAC"``, ``"MP3"``.
    subtype : str, optional
        The source's subtype; None gives the format's default.

    Returns
    -------
    subtype : str

    Raises
    ------
    ValueError
        Unknown format or subtype.

    Examples
    --------
    >>> from sk_reseq.audio import output_subtype
    >>> output_subtype("WAV", "MPEG_LAYER_III"), output_subtype("FLAC", "FLOAT")
    ('PCM_16', 'PCM_24')
    >>> output_subtype("MP3", "PCM_24"), output_subtype("OGG", "OPUS")
    ('MPEG_LAYER_III', 'OPUS')
    """
    format = str(format).upper()
    if format not in sf.available_formats():
        raise ValueError(f"Unknown audio format {format!r}; known: "
                         f"{', '.join(sorted(sf.available_formats()))}.")
    if subtype is None:
        return sf.default_subtype(format)
    subtype = str(subtype).upper()
    if subtype not in sf.available_subtypes():
        raise ValueError(f"Unknown audio subtype {subtype!r}; known: "
                         f"{', '.join(sorted(sf.available_subtypes()))}.")
    held = sf.available_subtypes(format)
    if not any(s in held for s in _PCM_LADDERS):  # a lossy format: its codec, or the source's
        return (subtype if subtype in held and subtype in _WRITABLE_CODECS
                else sf.default_subtype(format))
    if subtype in held and (subtype in _PCM_LADDERS or subtype in _LOSSLESS_DEPTH):
        return subtype
    depth = subtype if subtype in _PCM_LADDERS else _LOSSLESS_DEPTH.get(subtype, "PCM_16")
    return next((s for s in _PCM_LADDERS[depth] if s in held), sf.default_subtype(format))


def _resolve_output(path, sr, channels, subtype, format):
    """Check ``path``'s format and the audio's shape against it; return (format, subtype)."""
    path = Path(path)
    ext = path.suffix.lower()
    if format is None and ext not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Unsupported output format {ext or '(no extension)'!r} for {path}; supported: "
            f"{', '.join(sorted(SUPPORTED_FORMATS))}."
        )
    fmt = (format or ext.lstrip(".")).upper()
    subtype = output_subtype(fmt, subtype)
    if not (float(sr) == int(sr) and int(sr) > 0):
        raise ValueError(f"sample rate must be a positive whole number of Hz, got {sr!r}.")
    sr = int(sr)
    for limits, what in ((_FORMAT_LIMITS.get(fmt), fmt), (_ENCODER_LIMITS.get(subtype), subtype)):
        if limits is None:
            continue
        rates = limits.get("rates")
        ok_rate = sr in rates if rates else sr <= limits["max_rate"]
        if channels > limits["channels"] or not ok_rate:
            accepted = (", ".join(map(str, rates)) if rates else f"up to {limits['max_rate']}")
            codec = "" if what == fmt else f" ({what})"
            raise ValueError(
                f"{path}: {fmt} output{codec} holds 1 to {limits['channels']} channels at "
                f"{accepted} Hz; the audio has {channels} channel(s) at {sr} Hz. Choose another "
                "format (e.g. .wav)" + (" or resample the audio." if not ok_rate else ".")
            )
    return fmt, subtype


def check_audio_output(path, sr, channels, subtype=None, *, format=None):
    """Check, before any work, that audio of this shape can be written at ``path``.

    Checks the extension (or ``format``), picks the subtype with
    :func:`output_subtype`, checks the channels and rate against what the
    format's encoder accepts, then writes a few silent frames to a
    temporary file in the destination folder and removes it: that proves
    the folder writable (even for root on a read-only file system) and the
    combination accepted by libsndfile.

    Parameters
    ----------
    path : str or path-like
    sr : int
        Sample rate of the audio to write.
    channels : int
    subtype : str, optional
        The source's subtype (see :func:`output_subtype`).
    format : str, optional
        libsndfile format; default from the extension.

    Returns
    -------
    format, subtype : str
        What :func:`save_audio` will write.

    Raises
    ------
    ValueError
        Unsupported extension or subtype, or a channel count or rate the format
        does not hold.
    FileNotFoundError, IsADirectoryError, PermissionError
        Missing or unwritable folder, ``path`` a directory.

    Examples
    --------
    >>> import tempfile, os
    >>> from sk_reseq.audio import check_audio_output
    >>> folder = tempfile.mkdtemp()
    >>> check_audio_output(os.path.join(folder, "out.wav"), 44100, 2, "MPEG_LAYER_III")
    ('WAV', 'PCM_16')
    >>> os.listdir(folder)
    []
    """
    fmt, subtype = _resolve_output(path, sr, channels, subtype, format)
    with scratch_path(Path(path), suffix=".part") as tmp:
        try:
            sf.write(tmp, np.zeros((16, channels), dtype=np.float32), int(sr), subtype=subtype,
                     format=fmt)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise ValueError(
                f"{path}: cannot write {fmt} ({subtype}) with {channels} channel(s) at {sr} Hz: "
                f"{exc}"
            ) from exc
    return fmt, subtype


def save_audio(path, audio, sr, subtype=None, *, format=None):
    """Write ``(channels, samples)`` audio atomically.

    The data go to a temporary file in the destination folder, which is
    renamed over ``path`` only once complete, so a failure never leaves a
    partial file behind. They are written in blocks, so saving needs no
    copy of the whole audio.

    Parameters
    ----------
    path : str or path-like
        Destination; the format follows the extension unless ``format`` is given.
    audio : array-like [shape=(channels, samples) or (samples,)]
    sr : int
        Sample rate.
    subtype : str, optional
        libsndfile subtype, usually the source file's (:mod:`sk_reseq.cli`
        passes the input's): kept when the format holds it, else the nearest
        the format holds (:func:`output_subtype`). Default: the format's default.
    format : str, optional
        libsndfile format (e.g. ``"WAV"``).

    Raises
    ------
    ValueError
        See :func:`check_audio_output`, which checks the same before any work.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import save_audio, audio_info
    >>> path = os.path.join(tempfile.mkdtemp(), "out.wav")
    >>> save_audio(path, np.zeros((1, 10), dtype=np.float32), 16000, subtype="PCM_24")
    >>> audio_info(path).subtype
    'PCM_24'
    """
    audio = check_audio(audio)
    with audio_writer(path, sr, audio.shape[0], subtype, format=format) as write:
        for i in range(0, audio.shape[1], _BLOCK_FRAMES):
            write(audio[:, i : i + _BLOCK_FRAMES])


@contextmanager
def audio_writer(path, sr, channels, subtype=None, *, format=None):
    """Write audio block by block, atomically: a context giving ``write(block)``.

    ``write`` takes ``(channels, m)`` arrays and appends them. The blocks go
    to a temporary file in the destination folder, renamed over ``path``
    when the context exits without error (removed otherwise), as in
    :func:`save_audio`.

    Parameters
    ----------
    path, sr, subtype, format
        As in :func:`save_audio`.
    channels : int

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import audio_writer, audio_info
    >>> path = os.path.join(tempfile.mkdtemp(), "out.flac")
    >>> with audio_writer(path, 8000, 2) as write:
    ...     for _ in range(3):
    ...         write(np.zeros((2, 100), dtype=np.float32))
    >>> audio_info(path).frames
    300
    """
    path = Path(path)
    fmt, subtype = _resolve_output(path, sr, channels, subtype, format)
    with atomic_path(path, suffix=".part") as tmp:
        try:
            out = sf.SoundFile(tmp, "w", int(sr), channels, subtype, format=fmt)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise ValueError(
                f"{path}: cannot write {fmt} ({subtype}) with {channels} channel(s) at "
                f"{sr} Hz: {exc}"
            ) from exc
        with out:
            yield lambda block: out.write(np.asarray(block).T)
