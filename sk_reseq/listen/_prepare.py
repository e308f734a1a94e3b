"""Prepare a listening panel: loudness-aligned tracks in 17 loudness-matched equalized variants.

Layout of a panel folder (everything below is written by :func:`prepare_panel`)::

    PANEL_DIR/
      manifest.json            tracks, variant files, factors, durations, loudness
      audio/_noise.flac        the pink-noise reference played between tracks
      audio/<track>/track.json per-track record, written last: marks the track done
      audio/<track>/v00.flac   factor 0     (no attenuation)
      ...
      audio/<track>/v16.flac   factor 1     (full attenuation)
      ratings.sqlite           created by the server (see ``_db.py``)
"""

import hashlib
import json
import logging
import math
import re
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from .. import __version__
from .._atomic import atomic_path, atomic_write_json
from ..loudness import integrated_loudness, loudness_gain

__all__ = ["prepare_panel", "panel_factors", "pink_noise_reference", "MANIFEST_NAME"]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
NOISE_NAME = "_noise"  # track ids never start with "_", so no clash
TRACK_RECORD_NAME = "track.json"
MANIFEST_VERSION = 1

# What the browser decodes (Chromium: FLAC, Ogg Vorbis) -> (extension, soundfile subtype).
CODECS = {"flac": (".flac", "PCM_16"), "vorbis": (".ogg", "VORBIS")}
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3", ".w64", ".rf64"}
_TRACK_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def panel_factors(n_steps=17):
    """The attenuation factors of a panel: ``n_steps`` evenly spaced in [0, 1].

    Examples
    --------
    >>> from sk_reseq.listen import panel_factors
    >>> panel_factors(5)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> len(panel_factors())
    17
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}.")
    return [i / (n_steps - 1) for i in range(n_steps)]


def pink_noise_reference(*, sr=44100, noise_seconds=10.0, silence_seconds=0.5, channels=2,
                         fade_seconds=0.02, random_state=0):
    """The reference played between tracks: pink noise surrounded by silence.

    As in the paper's listening test (section 3.3): ``noise_seconds`` of pink
    (1/f power) noise with short fades, preceded and followed by
    ``silence_seconds`` of silence. The noise is the same on every channel
    (a centred image) and has unit RMS; :func:`prepare_panel` scales it to
    the panel's loudness target.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    noise_seconds, silence_seconds, fade_seconds : float
        Durations of the noise, of the silence on each side and of the
        raised-cosine fades at the noise's ends.
    channels : int
        Number of (identical) channels.
    random_state : int or None
        Seed of the noise.

    Returns
    -------
    audio : np.ndarray [shape=(channels, samples)], float32

    Examples
    --------
    >>> from sk_reseq.listen import pink_noise_reference
    >>> x = pink_noise_reference(sr=8000, noise_seconds=1.0, silence_seconds=0.25)
    >>> x.shape
    (2, 12000)
    >>> float(abs(x[:, :2000]).max())  # the leading silence
    0.0
    """
    for name, value in [("noise_seconds", noise_seconds), ("silence_seconds", silence_seconds),
                        ("fade_seconds", fade_seconds)]:
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0 seconds, got {value!r}.")
    if noise_seconds <= 0:
        raise ValueError(f"noise_seconds must be > 0, got {noise_seconds!r}.")
    n = max(int(round(noise_seconds * sr)), 2)
    rng = np.random.default_rng(random_state)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))  # 1/f power = 1/sqrt(f) amplitude
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n=n)
    noise /= noise.std()
    n_fade = min(int(round(fade_seconds * sr)), n // 2)
    if n_fade:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n_fade))
        noise[:n_fade] *= ramp
        noise[-n_fade:] *= ramp[::-1]
    silence = np.zeros(int(round(silence_seconds * sr)))
    mono = np.concatenate([silence, noise, silence]).astype(np.float32)
    return np.repeat(mono[None, :], channels, axis=0)


def _db(x):
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_path(path):
    """A temporary path next to ``path`` (same extension), renamed over it on success."""
    return atomic_path(path, suffix=Path(path).suffix + ".tmp")


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _track_id(path):
    return _TRACK_ID_UNSAFE.sub("_", path.stem).strip("._") or "track"


def _find_tracks(audio_dir):
    files = sorted(p for p in audio_dir.iterdir()
                   if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise ValueError(
            f"audio_dir {str(audio_dir)!r} holds no audio files "
            f"(looked for {', '.join(sorted(AUDIO_SUFFIXES))})."
        )
    ids = {}
    for path in files:
        track = _track_id(path)
        if track in ids:
            raise ValueError(
                f"audio files {ids[track].name!r} and {path.name!r} both map to track id "
                f"{track!r}; rename one of them."
            )
        ids[track] = path
    return ids


def _source_signature(path):
    stat = path.stat()
    return {"file": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _variants_intact(panel_dir, record):
    """True when every variant file the record lists exists with its recorded hash."""
    try:
        for variant in record["variants"]:
            path = panel_dir / variant["file"]
            if not path.is_file() or path.stat().st_size != variant["bytes"]:
                return False
            if _sha256(path) != variant["sha256"]:
                return False
    except (KeyError, TypeError):
        return False
    return True


def _save_variant(path, audio, sr, codec, quality):
    from ..audio import save_audio

    _, subtype = CODECS[codec]
    if codec == "vorbis":
        # save_audio has no quality setting; libsndfile maps compression_level c to quality 1 - c.
        import soundfile

        with _atomic_path(path) as tmp:
            soundfile.write(tmp, audio.T, sr, format="OGG", subtype="VORBIS",
                            compression_level=1.0 - quality)
    else:
        save_audio(path, audio, sr, subtype=subtype)


def _edge_fades(audio, sr, seconds=0.01):
    """Raised-cosine fade-in and fade-out, so the looping player never clicks."""
    n = min(int(round(seconds * sr)), audio.shape[-1] // 2)
    if n:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)
        audio = audio.copy()
        audio[:, :n] *= ramp
        audio[:, -n:] *= ramp[::-1]
    return audio


def _render_track(source, track, panel_dir, settings):
    """Loudness-align one track, render and encode its variants; return its record.

    Variants are written one at a time (a minute of stereo audio in 17
    variants would hold ~350 MB). Each is brought back to the target
    loudness if ``match_loudness``. If one exceeds the peak ceiling, all are
    rendered again with a common lower gain.
    """
    from ..audio import load_audio
    from ..equalizer import ResonanceEqualizer

    audio, sr = load_audio(source, duration=settings["max_seconds"])
    audio = np.asarray(audio, dtype=np.float32)
    source_lufs = integrated_loudness(audio, sr)
    if not math.isfinite(source_lufs):
        raise ValueError(f"track {source.name!r} is silent (loudness -inf LUFS); "
                         "remove it from the folder.")
    gain_db = settings["target_lufs"] - source_lufs
    aligned = audio * np.float32(10.0 ** (gain_db / 20.0))
    equalizer = ResonanceEqualizer(sr=sr, **settings["equalizer"])
    track_dir = panel_dir / "audio" / track
    track_dir.mkdir(parents=True, exist_ok=True)
    suffix, _ = CODECS[settings["codec"]]
    ceiling = 10.0 ** (settings["peak_ceiling_dbfs"] / 20.0)

    def render(scale):
        records, peak = [], 0.0
        for step, factor in enumerate(settings["factors"]):
            # Fades after the EQ: its filters would smear fades made before it.
            variant = _edge_fades(
                np.asarray(equalizer.equalize(aligned, factor=factor), dtype=np.float32), sr
            )
            loudness = integrated_loudness(variant, sr)
            match_db = (loudness_gain(loudness, settings["target_lufs"])
                        if settings["match_loudness"] else 0.0)
            variant *= np.float32(10.0 ** (match_db / 20.0)) * scale
            variant_peak = float(np.max(np.abs(variant)))
            peak = max(peak, variant_peak)
            if peak > ceiling * 1.0001:
                return None, peak  # over the ceiling: stop, start again lower
            path = track_dir / f"v{step:02d}{suffix}"
            _save_variant(path, variant, sr, settings["codec"], settings["quality"])
            records.append({
                "step": step,
                "factor": factor,
                "file": path.relative_to(panel_dir).as_posix(),
                "bytes": path.stat().st_size,
                "sha256": _sha256(path),
                # Loudness scales with the gain (BS.1770 gates are relative): no second pass.
                "loudness_lufs": round(loudness + match_db + _db(float(scale)), 3),
                "match_gain_db": round(match_db, 3),
                "peak_dbfs": round(_db(variant_peak), 3),
            })
        return records, peak

    records, peak = render(np.float32(1.0))
    guard_db = 0.0
    while records is None:
        # Scale by the highest peak seen so far; repeat if a later variant peaks higher still.
        guard_db += _db(ceiling / peak)
        logger.warning("track %s: lowered by %.2f dB to keep peaks <= %.1f dBFS "
                       "(misses the loudness target)",
                       track, -guard_db, settings["peak_ceiling_dbfs"])
        records, peak = render(np.float32(10.0 ** (guard_db / 20.0)))
    return {
        "id": track,
        "source": _source_signature(source),
        "settings": settings,
        "sr": int(sr),
        "channels": int(audio.shape[0]),
        "frames": int(audio.shape[1]),
        "duration": round(audio.shape[1] / sr, 4),
        "source_loudness_lufs": round(source_lufs, 3),
        "gain_db": round(gain_db + guard_db, 3),
        "peak_limited": bool(guard_db < 0),
        "variants": records,
    }


def _render_and_record(source, track, panel_dir, settings):
    """Render one track and write its record last (the record marks it done)."""
    record = _render_track(source, track, panel_dir, settings)
    atomic_write_json(panel_dir / "audio" / track / TRACK_RECORD_NAME, record)
    return record


def _prepare_noise(panel_dir, settings):
    from ..audio import save_audio

    sr = 44100
    noise = pink_noise_reference(sr=sr, noise_seconds=settings["noise_seconds"],
                                 silence_seconds=settings["silence_seconds"])
    # The loudness gates drop the silent ends: the noise itself meets the target.
    gain = 10.0 ** ((settings["target_lufs"] - integrated_loudness(noise, sr)) / 20.0)
    ceiling = 10.0 ** (settings["peak_ceiling_dbfs"] / 20.0)
    noise = noise * np.float32(min(gain, ceiling / float(np.abs(noise).max())))
    path = panel_dir / "audio" / f"{NOISE_NAME}.flac"
    record = {"file": path.relative_to(panel_dir).as_posix(),
              "noise_seconds": settings["noise_seconds"],
              "silence_seconds": settings["silence_seconds"],
              "duration": round(noise.shape[1] / sr, 4)}
    old = _read_json(panel_dir / MANIFEST_NAME)
    old_noise = (old or {}).get("noise", {})
    if (path.is_file() and {k: old_noise.get(k) for k in record} == record
            and old_noise.get("sha256") == _sha256(path)):
        return old_noise
    save_audio(path, noise, sr, subtype="PCM_16")
    record.update(sha256=_sha256(path), loudness_lufs=round(integrated_loudness(noise, sr), 3))
    return record


def prepare_panel(audio_dir, panel_dir, *, target_lufs=-23.0, peak_ceiling_dbfs=-1.0, n_steps=17,
                  codec="flac", quality=0.9, max_seconds=None, noise_seconds=10.0,
                  silence_seconds=0.5, equalizer_params=None, match_loudness=True, n_jobs=None,
                  progress=False):
    """Render a listening-test panel from a folder of tracks.

    Every audio file directly in ``audio_dir`` becomes one track (its id is
    the file name without extension). Each track is

    0. cut to its first ``max_seconds`` if given;
    1. loudness-aligned: one gain brings its ITU-R BS.1770-4 integrated
       loudness (:func:`sk_reseq.loudness.integrated_loudness`) to
       ``target_lufs`` (-23 LUFS, EBU R128's programme level, leaves
       headroom for unmastered mixes);
    2. rendered with :class:`sk_reseq.equalizer.ResonanceEqualizer` at the
       ``n_steps`` factors 0, 1/16, ..., 1 (the paper's 17 steps), each
       variant with 10 ms fades at both ends (the browser loops the track;
       the fades keep the loop click-free);
    3. loudness-matched (``match_loudness``, the default): each variant is
       brought back to ``target_lufs`` by its own gain (recorded as
       ``match_gain_db``). Attenuating resonances lowers the loudness (at
       factor 1, by 0.7 to 8.4 LU on eight 20 s excerpts of real music with
       the default equalizer), and listeners tend to prefer the louder of
       two versions, which would push ratings towards 0; matched, the
       variants differ by their spectrum only. With
       ``match_loudness=False`` the variants keep the level the equalizer
       gives them, as on a real equalizer;
    4. peak-guarded: if any variant's sample peak would exceed
       ``peak_ceiling_dbfs``, all variants of the track are lowered by the
       same gain (they stay matched; the track then plays below the target,
       which the manifest records in ``peak_limited``);
    5. encoded with ``codec``: ``"flac"`` (default; lossless 16-bit, so no
       codec artefact differs between variants that a listener might judge;
       about half the size of WAV) or ``"vorbis"`` (Ogg Vorbis at
       ``quality``; about 5x smaller than FLAC at 0.9, for large panels).
       Chromium and Firefox decode both with the Web Audio API.

    The work is resumable: a track whose record ``audio/<track>/track.json``
    exists, whose source file is unchanged (size, modification time), whose
    settings are the same and whose variant files all match their recorded
    SHA-256 is skipped; any other track is rendered again. Every file is
    written to a temporary file and renamed, so an interrupted run leaves
    no half-written file behind. ``manifest.json`` is rewritten at the end.

    Parameters
    ----------
    audio_dir : str or path-like
        Folder of source tracks (WAV, FLAC, Ogg, AIFF, MP3, ...).
    panel_dir : str or path-like
        Output folder (created if needed).
    target_lufs : float
        Integrated loudness target in LUFS.
    peak_ceiling_dbfs : float
        Highest sample peak allowed in any variant, dBFS (<= 0).
    n_steps : int
        Number of attenuation factors (the paper: 17).
    codec : {"flac", "vorbis"}
        Encoding of the variants.
    quality : float
        Vorbis quality in [0, 1] (libsndfile's scale); ignored for FLAC.
    max_seconds : float or None
        Keep at most this many seconds of each track (the paper's excerpts
        lasted 46 s on average). The browser holds a track's 17 decoded
        variants in memory, about 6 MB per second of stereo audio, so
        excerpts of a minute or two keep the page light.
    noise_seconds, silence_seconds : float
        The pink-noise reference between tracks: ``noise_seconds`` of noise
        (the paper: 10) with ``silence_seconds`` of silence on each side.
    equalizer_params : dict or None
        Extra keyword arguments for ``ResonanceEqualizer`` (``sr`` is each
        track's own rate, ``match_loudness`` the argument below), recorded in
        the manifest: JSON values only.
    match_loudness : bool
        Bring every variant to ``target_lufs`` (step 3); False keeps the
        equalizer's loudness drop.
    n_jobs : int or None
        Tracks rendered in parallel (joblib); None means 1, -1 all cores.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    manifest : dict
        The content written to ``PANEL_DIR/manifest.json``; its
        ``"rendered"`` and ``"skipped"`` keys list the track ids of this run.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from sk_reseq.audio import save_audio
    >>> from sk_reseq.listen import prepare_panel
    >>> src, panel = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
    >>> t = np.arange(22050) / 22050
    >>> tone = 0.1 * np.sin(2 * np.pi * 440 * t)[None].astype("float32")
    >>> save_audio(src / "tone.wav", tone, 22050)
    >>> manifest = prepare_panel(src, panel, n_steps=3, noise_seconds=0.5)
    >>> [v["file"] for v in manifest["tracks"][0]["variants"]]
    ['audio/tone/v00.flac', 'audio/tone/v01.flac', 'audio/tone/v02.flac']
    >>> [round(v["loudness_lufs"]) for v in manifest["tracks"][0]["variants"]]
    [-23, -23, -23]
    >>> prepare_panel(src, panel, n_steps=3, noise_seconds=0.5)["skipped"]
    ['tone']
    """
    from tqdm.auto import tqdm

    audio_dir, panel_dir = Path(audio_dir), Path(panel_dir)
    if not audio_dir.is_dir():
        raise ValueError(f"audio_dir {str(audio_dir)!r} is not a folder.")
    for name, value, low, high in [("target_lufs", target_lufs, -70.0, 0.0),
                                   ("peak_ceiling_dbfs", peak_ceiling_dbfs, -60.0, 0.0),
                                   ("quality", quality, 0.0, 1.0)]:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not low <= value <= high):
            raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}.")
    if max_seconds is not None and (isinstance(max_seconds, bool)
                                    or not isinstance(max_seconds, (int, float))
                                    or not math.isfinite(max_seconds) or max_seconds <= 0):
        raise ValueError("max_seconds must be None or a positive number of seconds, "
                         f"got {max_seconds!r}.")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                               or n_jobs == 0):
        raise ValueError("n_jobs must be None or a non-zero integer (-1: all cores), "
                         f"got {n_jobs!r}.")
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {sorted(CODECS)}, got {codec!r}.")
    if equalizer_params is not None and not isinstance(equalizer_params, dict):
        raise TypeError("equalizer_params must be a dict or None, "
                        f"got {type(equalizer_params).__name__}.")
    if "sr" in (equalizer_params or {}):
        raise ValueError("equalizer_params must not set 'sr': "
                         "each track is equalized at its own rate.")
    if "match_loudness" in (equalizer_params or {}):
        raise ValueError("equalizer_params must not set 'match_loudness': use "
                         "prepare_panel(match_loudness=...), which matches each variant to "
                         "target_lufs.")
    if not isinstance(match_loudness, (bool, np.bool_)):
        raise ValueError(f"match_loudness must be True or False, got {match_loudness!r}.")
    settings = {
        "target_lufs": float(target_lufs),
        "peak_ceiling_dbfs": float(peak_ceiling_dbfs),
        "factors": panel_factors(n_steps),
        "codec": codec,
        "quality": float(quality) if codec == "vorbis" else None,
        "max_seconds": None if max_seconds is None else float(max_seconds),
        "equalizer": dict(equalizer_params or {}),
        "match_loudness": bool(match_loudness),
    }
    try:
        json.dumps(settings, allow_nan=False)  # recorded in the manifest
        from ..equalizer import ResonanceEqualizer

        ResonanceEqualizer(**settings["equalizer"])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"equalizer_params must be ResonanceEqualizer keyword arguments with JSON "
                        f"values (numbers, strings, booleans), got {equalizer_params!r}: "
                        f"{exc}") from None
    # Validates noise_seconds and silence_seconds.
    pink_noise_reference(sr=100, noise_seconds=noise_seconds, silence_seconds=silence_seconds)
    tracks = _find_tracks(audio_dir)
    panel_dir.mkdir(parents=True, exist_ok=True)
    (panel_dir / "audio").mkdir(exist_ok=True)

    done, todo = {}, []
    for track, source in tqdm(tracks.items(), desc="verify", unit="track", disable=not progress,
                              leave=False):
        record = _read_json(panel_dir / "audio" / track / TRACK_RECORD_NAME)
        if (record is not None and record.get("settings") == settings
                and record.get("source") == _source_signature(source)
                and _variants_intact(panel_dir, record)):
            done[track] = record
        else:
            todo.append(track)
    logger.info("%d track(s) to render, %d already done", len(todo), len(done))
    with tqdm(total=len(tracks), initial=len(done), desc="prepare", unit="track",
              disable=not progress) as bar:
        jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_render_and_record)(tracks[track], track, panel_dir, settings)
            for track in todo)
        for record in jobs:
            done[record["id"]] = record
            bar.update()
    records = [{k: v for k, v in done[t].items() if k != "settings"} for t in tracks]

    noise = _prepare_noise(panel_dir, {**settings, "noise_seconds": float(noise_seconds),
                                       "silence_seconds": float(silence_seconds)})
    manifest = {
        "format_version": MANIFEST_VERSION,
        "created_by": f"sk_reseq {__version__}",
        **settings,
        "noise": noise,
        "tracks": records,
    }
    atomic_write_json(panel_dir / MANIFEST_NAME, manifest)
    skipped = [t for t in tracks if t not in todo]
    return {**manifest, "rendered": [t for t in tracks if t in todo], "skipped": skipped}
