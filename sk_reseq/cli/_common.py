"""Helpers shared by the command modules: output checks, progress bars, figures, loudness."""

import math
import sys
from pathlib import Path

import numpy as np

from .._atomic import atomic_path, check_writable
from .._atomic import same_file as _same_file
from .._optional import import_optional
from ..audio import check_audio_output

# Inputs longer than this get a progress bar (unless --quiet).
PROGRESS_MIN_SECONDS = 20.0


def check_distinct(path, others):
    """Fail if ``path`` is the same file as one of ``others`` (a mapping label -> path)."""
    for label, other in others.items():
        if other is not None and _same_file(path, other):
            raise ValueError(
                f"output {path} is the same file as {label} ({other}); choose another path "
                "(sk-reseq never overwrites its input, nor one output with another)."
            )


def check_output_path(path, *, others=None):
    """Fail before any work if ``path`` cannot be written or is one of ``others``.

    Writability is tested by creating and removing a temporary file in the
    destination folder (``os.access`` says yes to root on a read-only mount).
    """
    check_distinct(path, others or {})
    check_writable(path)


def check_audio_output_path(path, info, *, others=None):
    """:func:`check_output_path` for audio shaped like ``info``.

    ``info`` is an :func:`~sk_reseq.audio.audio_info` result.

    Also checks the extension, the channels and the rate against the output
    format (by a trial write). Returns the subtype to write.
    """
    check_distinct(path, others or {})
    _, subtype = check_audio_output(path, info.samplerate, info.channels, info.subtype)
    return subtype


def figure_formats():
    """File extensions matplotlib can save figures as (without the dot).

    Called by :func:`check_figure_path` before any work, so a core install
    without matplotlib (the ``plot`` extra) fails at once, naming the extra.
    """
    backend_bases = import_optional("matplotlib.backend_bases", "figures (--plot, --report)")
    return sorted(backend_bases.FigureCanvasBase.get_supported_filetypes())


def check_figure_path(path, *, others=None):
    """:func:`check_output_path` for a figure: also its extension must be an image format."""
    ext = Path(path).suffix.lower().lstrip(".")
    formats = figure_formats()
    if ext not in formats:
        raise ValueError(
            f"unsupported figure format {('.' + ext) if ext else '(no extension)'!r} for {path}; "
            f"supported: {', '.join('.' + f for f in formats)}."
        )
    check_output_path(path, others=others)


def progress_bar(total, desc, quiet, seconds=None, unit="sample"):
    """A tqdm bar, or None when quiet or when the input is short."""
    if quiet or (seconds is not None and seconds < PROGRESS_MIN_SECONDS):
        return None
    from tqdm.auto import tqdm

    # SI prefixes (1.76M samples) only for large counts: "7.00/8.00 fits" reads as fractions.
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=bool(total and total >= 10_000),
                leave=False)


def save_figure(fig, path):
    """Save a matplotlib figure atomically and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, dpi=120)
    finally:
        plt.close(fig)


def use_agg():
    """Select matplotlib's file-only backend (the CLI never opens windows)."""
    import matplotlib

    matplotlib.use("Agg")


# -- loudness and clipping (eq, auto) ------------------------------------

#: Choices of ``--on-clip``.
ON_CLIP = ("warn", "error", "normalize")
#: True peak that ``--on-clip normalize`` lowers an output to, dBTP (EBU R 128's maximum).
NORMALIZE_TRUE_PEAK_DBTP = -1.0
# The loudness options and their defaults.
_LOUDNESS_DEFAULTS = {"match_loudness": False, "gain": 0.0, "on_clip": "warn"}
# Subtypes whose files keep samples beyond full scale: float, and the lossy
# codecs (they decode them back, checked on libsndfile 1.2). Integer PCM
# clips them when written.
_KEEPS_OVERS = frozenset({"FLOAT", "DOUBLE", "VORBIS", "OPUS", "MPEG_LAYER_III"})
# Scratch format of the equalized signal before its gain is known: float
# keeps what is beyond full scale; W64 holds files past 4 GB.
_SCRATCH_FORMAT, _SCRATCH_SUBTYPE = "W64", "FLOAT"


def add_loudness_arguments(parser):
    """Add ``--match-loudness``, ``--gain DB``, ``--on-clip`` (see :func:`equalize_with_levels`)."""
    g = parser.add_argument_group(
        "loudness and clipping",
        "Every run reports the integrated loudness (ITU-R BS.1770, LUFS) and the true peak "
        "(dBTP, 4x oversampled) of IN and OUT.")
    g.add_argument("--match-loudness", action="store_true",
                   help="bring OUT's integrated loudness to IN's with one gain (attenuating "
                        "resonances makes OUT quieter; a quieter version tends to be judged "
                        "worse)")
    g.add_argument("--gain", type=float, default=0.0, metavar="DB",
                   help="gain in dB applied to OUT, after --match-loudness (default: 0)")
    g.add_argument("--on-clip", choices=ON_CLIP, default="warn",
                   help="when OUT's true peak would exceed 0 dBTP: warn (default; a PCM "
                        "format clips the samples beyond full scale, float keeps them), error "
                        "(write nothing, exit status 2) or normalize (lower OUT to "
                        f"{NORMALIZE_TRUE_PEAK_DBTP:g} dBTP, below --match-loudness's level if "
                        "need be)")


def check_loudness_arguments(args, *, batch=False):
    """Fail before any work on loudness options that cannot apply (``batch``: the ``-o`` form)."""
    if not math.isfinite(args.gain):
        raise ValueError(f"--gain must be a finite number of dB, got {args.gain!r}.")
    if args.match_loudness and getattr(args, "delta", False):
        raise ValueError("--match-loudness brings the equalized output to IN's loudness; it "
                         "does not apply to --delta (what is removed).")
    if batch:
        given = [f"--{k.replace('_', '-')}" for k, default in _LOUDNESS_DEFAULTS.items()
                 if getattr(args, k) != default]
        if given:
            raise ValueError(f"{', '.join(given)} take the form IN OUT (one file); the batch "
                             "form (-o OUT_DIR) does not.")


def _file_levels(path, *, with_loudness=True):
    """Integrated loudness (None past 5 channels), true peak and sample peak of a file.

    Read in blocks: constant memory.
    """
    from sklearn.utils import Bunch

    from ..audio import audio_info, read_blocks
    from ..loudness import LoudnessMeter

    info = audio_info(path)
    meter = LoudnessMeter(info.samplerate, info.channels)
    for block in read_blocks(path):
        meter.update(block)
    loudness = meter.integrated_loudness() if with_loudness and info.channels <= 5 else None
    return Bunch(loudness=loudness, true_peak=meter.true_peak(),
                 sample_peak=meter.sample_peak())


def _copy_with_gain(source, destination, gain_db, subtype, format):
    """Write ``source`` (a file) into ``destination`` scaled by ``gain_db``, atomically.

    Returns the number of samples beyond full scale written.
    """
    from ..audio import audio_info, audio_writer, read_blocks

    info = audio_info(source)
    scale = np.float32(10.0 ** (gain_db / 20.0))
    overs = 0
    with audio_writer(destination, info.samplerate, info.channels, subtype,
                      format=format) as write:
        for block in read_blocks(source):
            if gain_db:
                block *= scale
            overs += int(np.count_nonzero(np.abs(block) > 1.0))
            write(block)
    return overs


def _db_text(value, unit):
    return f"{value:+.1f} {unit}" if math.isfinite(value) else f"-inf {unit}"


def _gain_to_ceiling(args, true_peak):
    """The --gain that brings an output of ``true_peak`` (dBTP) to the normalize ceiling."""
    return math.floor(10 * (args.gain + NORMALIZE_TRUE_PEAK_DBTP - true_peak)) / 10


def equalize_with_levels(source, destination, equalizer, args, *, format=None, **kwargs):
    """:func:`~sk_reseq.equalizer.equalize_file` with the loudness options of ``args``.

    Measures IN (ITU-R BS.1770 integrated loudness, true peak), equalizes it
    into a float scratch file next to OUT (nothing beyond full scale is lost
    there) and measures that; then chooses the gain (``--match-loudness``,
    ``--gain``, ``--on-clip``) and writes OUT from the scratch file with it,
    atomically. Everything goes in blocks, so memory stays constant as in
    ``equalize_file``; the scratch file takes the float size of the audio on
    disk while the command runs. A warning (stderr) says when OUT clips,
    and how to avoid it; ``--on-clip error`` raises instead, before OUT is
    written. OUT's figures are the written signal's (before a lossy codec's
    encoding), derived from the scratch file's and the gain.

    Parameters
    ----------
    source, destination : str or path-like
        IN and OUT.
    equalizer : ResonanceEqualizer or AutoEqualizer
    args : argparse.Namespace
        ``match_loudness``, ``gain``, ``on_clip`` (see
        :func:`add_loudness_arguments`) and ``command`` (for the warning).
    format : str, optional
        OUT's format (default: from its extension).
    **kwargs
        Passed to ``equalize_file`` (``analyze_output``, ``progress``, ...).

    Returns
    -------
    result : Bunch
        ``equalize_file``'s result, with ``levels``: ``input`` and
        ``output`` (each ``loudness`` in LUFS or None past 5 channels,
        ``true_peak`` in dBTP, ``sample_peak`` in dBFS), ``gain_db`` (applied
        to OUT), ``gains`` (its parts by source), ``overs`` (samples beyond
        full scale written) and ``clipped`` (OUT's format clipped them).
    report : str
        The summary's loudness part, e.g. ``"loudness -14.2 -> -15.9 LUFS
        (-1.7 LU), true peak -0.9 -> -1.8 dBTP"``.
    """
    from sklearn.utils import Bunch

    from .._atomic import scratch_path
    from ..audio import audio_info
    from ..equalizer import equalize_file
    from ..loudness import loudness_gain

    info = audio_info(source)
    fmt, subtype = check_audio_output(destination, info.samplerate, info.channels,
                                      info.subtype, format=format)
    before = _file_levels(source)
    if args.match_loudness and before.loudness is None:
        raise ValueError(f"--match-loudness: ITU-R BS.1770 defines the loudness of 1 to 5 "
                         f"channels; {source} has {info.channels}.")
    with scratch_path(Path(destination), suffix="." + _SCRATCH_FORMAT.lower()) as scratch:
        result = equalize_file(source, scratch, equalizer, subtype=_SCRATCH_SUBTYPE,
                               format=_SCRATCH_FORMAT, **kwargs)
        eq_levels = _file_levels(scratch, with_loudness=before.loudness is not None)
        gains = {}
        if args.match_loudness:
            gains["loudness match"] = loudness_gain(eq_levels.loudness, before.loudness)
        if args.gain:
            gains["--gain"] = args.gain
        peak = eq_levels.true_peak + sum(gains.values())
        if peak > 0.0 and args.on_clip == "error":
            raise ValueError(
                f"{destination} would clip: its true peak would be {_db_text(peak, 'dBTP')}; "
                f"nothing was written. Lower it with --gain {_gain_to_ceiling(args, peak):+.1f} "
                f"(to {NORMALIZE_TRUE_PEAK_DBTP:g} dBTP), or use --on-clip normalize or "
                "--on-clip warn.")
        if peak > 0.0 and args.on_clip == "normalize":
            gains["normalize"] = NORMALIZE_TRUE_PEAK_DBTP - peak
        gain_db = sum(gains.values())
        overs = _copy_with_gain(scratch, destination, gain_db, subtype, fmt)
    shifted = {k: None if v is None else v + gain_db for k, v in eq_levels.items()}
    levels = Bunch(input=before, output=Bunch(**shifted), gain_db=gain_db, gains=gains,
                   overs=overs, clipped=bool(overs) and subtype not in _KEEPS_OVERS)
    result.levels = levels
    if levels.output.true_peak > 0.0:
        _warn_clipping(args, destination, levels, subtype)
    return result, _levels_report(levels)


def _warn_clipping(args, destination, levels, subtype):
    out = levels.output
    if levels.clipped:
        what = f"{levels.overs} samples beyond full scale were clipped in the {subtype} file"
    elif levels.overs:
        what = (f"the {subtype} file keeps its {levels.overs} samples beyond full scale, but "
                "playback or a conversion to PCM will clip them")
    else:
        what = "its inter-sample peaks go beyond full scale: a DAC or a lossy encoder may clip"
    already = (f" (IN already peaks at {_db_text(levels.input.true_peak, 'dBTP')})"
               if levels.input.true_peak > 0.0 else "")
    print(f"sk-reseq {args.command}: warning: {destination}: true peak "
          f"{_db_text(out.true_peak, 'dBTP')}, sample peak {_db_text(out.sample_peak, 'dBFS')}"
          f"{already}: {what}. Lower it with --gain "
          f"{_gain_to_ceiling(args, out.true_peak):+.1f} (to {NORMALIZE_TRUE_PEAK_DBTP:g} "
          "dBTP), or use --on-clip normalize (or --on-clip error to refuse).", file=sys.stderr)


def _levels_report(levels):
    """The summary's loudness part (see :func:`equalize_with_levels`)."""
    before, after = levels.input, levels.output
    if before.loudness is None:
        loudness = "loudness n/a (BS.1770: 1 to 5 channels)"
    else:
        change = after.loudness - before.loudness
        change = f"{change:+.1f} LU" if math.isfinite(change) else "silent"
        loudness = (f"loudness {_db_text(before.loudness, '')}-> "
                    f"{_db_text(after.loudness, 'LUFS')} ({change})")
    report = (f"{loudness}, true peak {_db_text(before.true_peak, '')}-> "
              f"{_db_text(after.true_peak, 'dBTP')}")
    if levels.gains:
        parts = ", ".join(f"{name} {value:+.1f}" for name, value in levels.gains.items())
        report += f"; gain {levels.gain_db:+.1f} dB ({parts})"
    return report
