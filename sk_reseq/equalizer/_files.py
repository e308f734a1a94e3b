"""Equalizing audio files: one file in blocks, or whole catalogs in parallel.

A file is read, equalized and written block by block through the
equalizer's streaming path (``process_block`` / ``flush``), so memory does
not grow with its length; the streamed output is the offline output delayed
by the equalizer's latency, which is cut here, so the file written holds the
offline result sample for sample (to float rounding) and has the input's
length. Catalogs are spread over local processes (joblib) or a dask cluster.
"""

import csv
import json
import logging
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._atomic import atomic_open, atomic_write_json, check_writable, same_file
from .._optional import import_optional
from .._validation import check_factor
from ..audio import (
    _CODEC_SLACK_FRAMES,
    _LOSSLESS_DEPTH,
    _PCM_LADDERS,
    SUPPORTED_FORMATS,
    audio_info,
    audio_writer,
    read_blocks,
)
from ._auto import AutoEqualizer
from ._resonance import ResonanceEqualizer

__all__ = ["equalize_file", "equalize_files", "MANIFEST_COLUMNS"]

logger = logging.getLogger(__name__)

#: Columns of :func:`equalize_files`' manifest, in order.
MANIFEST_COLUMNS = ("file", "output", "duration", "rate", "channels", "factor_mean",
                    "factor_min", "factor_max", "strongest_gain_db", "seconds", "status", "error")

# Frames per block read, equalized and written (1.5 s at 44.1 kHz).
_BLOCK_FRAMES = 1 << 16

# The equalizer a worker process loaded, by the path of its pickle: loaded
# once per worker, not once per file (joblib's workers outlive one call).
_WORKER_EQUALIZER = {}


def _for_rate(equalizer, sr):
    """A fitted copy of ``equalizer`` at sample rate ``sr``; ``equalizer`` is not changed.

    The copy shares the fitted model of an :class:`AutoEqualizer` (prediction
    does not change it), so the default model is loaded once, not per file.
    """
    params = equalizer.get_params(deep=False)
    params["sr"] = sr
    if isinstance(equalizer, AutoEqualizer) and hasattr(equalizer, "model_"):
        params["model"] = equalizer.model_
    return type(equalizer)(**params).fit()


def _check_equalizer(equalizer):
    if not isinstance(equalizer, (ResonanceEqualizer, AutoEqualizer)):
        raise TypeError("equalizer must be a ResonanceEqualizer or an AutoEqualizer, got "
                        f"{type(equalizer).__name__}.")
    return equalizer


def _factor_stats(eq):
    """Mean, min and max of the factor ``eq`` applied to the last stream."""
    if isinstance(eq, AutoEqualizer):
        factors = np.asarray(eq.factors_.factors, dtype=np.float64)
    else:
        factors = np.atleast_1d(np.asarray(check_factor(eq.factor), dtype=np.float64))
    return float(factors.mean()), float(factors.min()), float(factors.max())


def equalize_file(source, destination, equalizer, *, subtype=None, format=None,
                  block_frames=_BLOCK_FRAMES, analyze_output=False, progress=None):
    """Equalize an audio file into another, block by block (constant memory).

    The output has the input's rate, channels and length, and equals what
    the equalizer's offline path (:meth:`~ResonanceEqualizer.transform` on
    the whole file) gives, to float rounding. It is written atomically: on
    any error nothing is left at ``destination``.

    Parameters
    ----------
    source, destination : str or path-like
        Input and output files; the output's extension sets its format
        unless ``format`` is given. They must differ.
    equalizer : ResonanceEqualizer or AutoEqualizer
        Its settings are used at the file's sample rate, on a copy: the
        equalizer itself is not changed (an ``AutoEqualizer``'s fitted model
        is shared, not reloaded).
    subtype : str, optional
        The subtype to write (see :func:`sk_reseq.audio.output_subtype`);
        None takes the source's, or the nearest the format holds.
    format : str, optional
        libsndfile format of the output (e.g. ``"FLAC"``).
    block_frames : int, default=65536
        Frames per block.
    analyze_output : bool, default=False
        Also run the detector (at factor 0) on the output as it is written,
        for ``output_analysis``.
    progress : callable, optional
        Called with the seconds of audio done after each block.

    Returns
    -------
    result : Bunch
        ``duration`` (s), ``rate``, ``channels``, ``frames``, ``factor_mean``,
        ``factor_min``, ``factor_max``, ``strongest_gain_db`` (the strongest
        attenuation of the mean gain curve, dB, <= 0), ``seconds`` (wall
        time), ``analysis`` (the equalizer's mean analysis of the input, see
        :attr:`ResonanceEqualizer.stream_analysis_`), ``factors`` (an
        ``AutoEqualizer``'s factor curve, else None) and ``output_analysis``
        (None unless ``analyze_output``).

    Raises
    ------
    ValueError, OSError
        An unreadable, unsupported or damaged input, or an output that cannot
        be written (format, channels, rate, folder).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import save_audio, load_audio
    >>> from sk_reseq.equalizer import ResonanceEqualizer, equalize_file
    >>> folder = tempfile.mkdtemp()
    >>> x = 0.1 * np.random.default_rng(0).standard_normal((2, 22050)).astype(np.float32)
    >>> save_audio(os.path.join(folder, "in.wav"), x, 22050, subtype="FLOAT")
    >>> eq = ResonanceEqualizer(factor=0.5)
    >>> r = equalize_file(os.path.join(folder, "in.wav"), os.path.join(folder, "out.wav"), eq,
    ...                   block_frames=4096)
    >>> r.frames, r.factor_mean, bool(r.strongest_gain_db < 0)
    (22050, 0.5, True)
    >>> y, _ = load_audio(os.path.join(folder, "out.wav"))
    >>> offline = ResonanceEqualizer(factor=0.5, sr=22050).fit_transform(x)
    >>> bool(np.max(np.abs(y - offline)) < 1e-5)
    True
    """
    start = time.perf_counter()
    _check_equalizer(equalizer)
    if same_file(source, destination):
        raise ValueError(f"output {destination} is the same file as the input; choose another "
                         "path (sk-reseq never overwrites its input).")
    info = audio_info(source)
    sr, channels = info.samplerate, info.channels
    eq = _for_rate(equalizer, sr)
    monitor = None
    if analyze_output:
        base = eq.equalizer_ if isinstance(eq, AutoEqualizer) else eq
        monitor = _for_rate(base, sr).set_params(factor=0.0, factor_rate=None)
    # The first latency_ samples of the stream are its delay: not written.
    skip = [eq.latency_]

    def emit(write, y):
        cut = min(skip[0], y.shape[1])
        skip[0] -= cut
        if y.shape[1] > cut:
            write(y[:, cut:])
            if monitor is not None:
                monitor.process_block(y[:, cut:])

    frames = 0
    with audio_writer(destination, sr, channels, subtype or info.subtype,
                      format=format) as write:
        try:
            for block in read_blocks(source, block_frames):
                emit(write, eq.process_block(block))
                frames += block.shape[1]
                if progress is not None:
                    progress(block.shape[1] / sr)
            emit(write, eq.flush())
        finally:
            eq.reset()
    mean, low, high = _factor_stats(eq)
    analysis = eq.stream_analysis_
    if monitor is not None:
        monitor.flush()
    return Bunch(
        duration=frames / sr, rate=sr, channels=channels, frames=frames,
        factor_mean=mean, factor_min=low, factor_max=high,
        strongest_gain_db=float(np.min(analysis.mean_gain_db)),
        seconds=time.perf_counter() - start, analysis=analysis,
        factors=eq.factors_ if isinstance(eq, AutoEqualizer) else None,
        output_analysis=monitor.stream_analysis_ if monitor is not None else None,
    )


# -- catalogs ------------------------------------------------------------


def _scan(inputs, out_dir):
    """(source, path relative to the output folder) for every file of ``inputs``, in order.

    Folders are walked recursively in name order; hidden files and folders
    (names starting with ".") and anything inside ``out_dir`` are left out.
    A file given directly lands at the top of the output folder.
    """
    out_dir = Path(out_dir).resolve()
    seen, found = set(), []
    for item in inputs:
        item = Path(item)
        if not item.exists():
            raise FileNotFoundError(f"input not found: {item}")
        if item.is_dir():
            top = item.resolve()
            if top == out_dir:
                raise ValueError(f"out_dir {item} is an input folder; choose another folder "
                                 "(sk-reseq never overwrites its input).")
            # The outputs of an earlier run inside an input folder are not inputs.
            skip = out_dir if top in out_dir.parents else None
            pairs = []
            for root, dirs, files in os.walk(item):
                root = Path(root)
                if skip is not None and root.resolve() == skip:
                    dirs[:] = []
                    continue
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                pairs += [(root / f, (root / f).relative_to(item)) for f in files
                          if not f.startswith(".")]
            pairs.sort(key=lambda pair: pair[1].parts)
        else:
            pairs = [(item, Path(item.name))]
        for source, relative in pairs:
            key = source.resolve()
            if key not in seen:
                seen.add(key)
                found.append((source, relative))
    return found


def _check_format(format):
    if format is None:
        return None
    ext = "." + str(format).lower().lstrip(".")
    if ext not in SUPPORTED_FORMATS:
        raise ValueError(f"unsupported output format {format!r}; supported: "
                         f"{', '.join(s.lstrip('.') for s in sorted(SUPPORTED_FORMATS))}.")
    return ext


def _check_manifest_path(manifest):
    if manifest is None:
        return None
    manifest = Path(manifest)
    if manifest.suffix.lower() not in (".csv", ".json"):
        raise ValueError(f"manifest must be a .csv or .json file, got {str(manifest)!r}.")
    return manifest


def _check_n_jobs(n_jobs):
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of workers, or negative for all "
                         f"cores but |n_jobs| - 1 (joblib's convention), got {n_jobs!r}.")
    return int(n_jobs)


def _is_complete(destination, info):
    """Whether ``destination`` holds a finished output for an input like ``info``.

    Outputs are written atomically, so a file under the final name was
    finished; it must also open and match the input's rate, channels and
    length (exactly, unless a lossy codec is involved on either side).
    """
    try:
        out = audio_info(destination)
    except (OSError, ValueError):
        return False
    if (out.samplerate, out.channels) != (info.samplerate, info.channels):
        return False
    lossless = {*(_PCM_LADDERS), *(_LOSSLESS_DEPTH)}
    exact = out.subtype in lossless and info.subtype in lossless
    return abs(out.frames - info.frames) <= (0 if exact else _CODEC_SLACK_FRAMES)


def _row(source, destination, **values):
    row = dict.fromkeys(MANIFEST_COLUMNS)
    row.update(file=str(source), output=None if destination is None else str(destination),
               **values)
    return row


def _equalize_job(job, equalizer, block_frames, progress=None):
    """Equalize one planned file; a manifest row (failures are reported, not raised)."""
    source, destination = job
    start = time.perf_counter()
    try:
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        r = equalize_file(source, destination, equalizer, block_frames=block_frames,
                          progress=progress)
    except Exception as exc:  # one bad file must not stop a catalog
        logger.debug("%s failed", source, exc_info=True)
        return _row(source, destination, status="failed", error=str(exc) or repr(exc),
                    seconds=time.perf_counter() - start)
    return _row(source, destination, status="done", error=None,
                **{k: r[k] for k in ("duration", "rate", "channels", "factor_mean",
                                     "factor_min", "factor_max", "strongest_gain_db",
                                     "seconds")})


def _equalize_job_in_worker(job, equalizer_path, block_frames):
    """:func:`_equalize_job` in a joblib worker, which unpickles the equalizer once."""
    if equalizer_path not in _WORKER_EQUALIZER:
        with open(equalizer_path, "rb") as fh:
            equalizer = pickle.load(fh)
        _WORKER_EQUALIZER.clear()
        _WORKER_EQUALIZER[equalizer_path] = equalizer
    return _equalize_job(job, _WORKER_EQUALIZER[equalizer_path], block_frames)


def _run_joblib(todo, equalizer, n_jobs, block_frames, done):
    from joblib import Parallel, delayed

    folder = tempfile.mkdtemp(prefix="sk_reseq_batch_")
    try:
        path = os.path.join(folder, "equalizer.pkl")
        with open(path, "wb") as fh:
            pickle.dump(equalizer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        rows = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_equalize_job_in_worker)(job, path, block_frames) for job in todo)
        for row in rows:
            done(row)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_TRIM_ENV = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _run_dask(todo, equalizer, scheduler, n_jobs, block_frames, done):
    distributed = import_optional("distributed", "equalize_files(scheduler=...)")
    own = None
    if isinstance(scheduler, distributed.Client):
        client = scheduler
    elif scheduler == "local":
        import dask

        workers = n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)
        # dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which turns
        # off glibc's adaptive mmap threshold: every large temporary of the
        # engine then costs an mmap and its page faults (0.76 s per 30 s file
        # against 0.49 s without it, bench_batch's catalog).
        with dask.config.set({_TRIM_ENV: None}):
            own = client = distributed.Client(distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, dashboard_address=None))
    else:
        own = client = distributed.Client(scheduler)
    try:
        # Sent once to each worker, not with every file.
        shared = client.scatter(equalizer, broadcast=True)
        futures = [client.submit(_equalize_job, job, shared, block_frames, pure=False)
                   for job in todo]
        for future in distributed.as_completed(futures):
            done(future.result())
    finally:
        if own is not None:
            cluster = own.cluster
            own.close()
            if cluster is not None and scheduler == "local":
                cluster.close()


# Columns of a manifest read back from CSV that hold numbers (the rest: text).
_NUMERIC = {"duration": float, "rate": int, "channels": int, "factor_mean": float,
            "factor_min": float, "factor_max": float, "strongest_gain_db": float,
            "seconds": float}


def _previous_rows(manifest):
    """Rows of an earlier manifest by output path (for the files a rerun skips)."""
    if manifest is None or not manifest.is_file():
        return {}
    try:
        with open(manifest, encoding="utf-8", newline="") as fh:
            if manifest.suffix.lower() == ".json":
                rows = json.load(fh)
            else:
                rows = [{k: (_NUMERIC[k](v) if k in _NUMERIC and v != "" else v or None)
                         for k, v in row.items()} for row in csv.DictReader(fh)]
    except (OSError, ValueError, TypeError, KeyError):  # not a manifest of ours: start afresh
        return {}
    return {row.get("output"): row for row in rows if isinstance(row, dict)
            and row.get("status") in ("done", "skipped")}


def write_manifest(rows, path):
    """Write manifest rows (dicts) as CSV or JSON, by ``path``'s extension, atomically.

    Missing values are empty in CSV and ``null`` in JSON. No pandas needed.
    """
    path = Path(path)
    rows = [{k: row.get(k) for k in MANIFEST_COLUMNS} for row in rows]
    if path.suffix.lower() == ".json":
        atomic_write_json(path, rows)
        return
    with atomic_open(path, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def equalize_files(inputs, out_dir, *, equalizer, n_jobs=1, scheduler=None, format=None,
                   manifest=None, overwrite=False, progress=False, block_frames=_BLOCK_FRAMES,
                   as_frame=True):
    """Equalize files and folders of audio into a folder, in parallel, resumably.

    Each file goes through :func:`equalize_file` (block by block, constant
    memory, written atomically). Folders are walked recursively and the
    files' paths relative to them are kept under ``out_dir``. A file whose
    output is already complete is skipped (so an interrupted job resumes
    where it stopped); a file that fails (damaged, unsupported) is reported
    in the manifest and does not stop the others.

    Parameters
    ----------
    inputs : str, path-like or list of them
        Audio files and folders. Hidden files and folders (``.name``) and
        anything inside ``out_dir`` are left out of a folder's walk.
    out_dir : str or path-like
        Output folder, created if missing.
    equalizer : ResonanceEqualizer or AutoEqualizer
        Used at each file's own sample rate (on copies: it is not changed).
        An unfitted ``AutoEqualizer`` is fitted once here (its model loaded
        once), then sent to each worker once.
    n_jobs : int, default=1
        Worker processes (joblib's convention: -1 for all cores). 1 works in
        this process; with a ``scheduler``, the workers of a ``"local"``
        cluster.
    scheduler : None, "local", str or distributed.Client, default=None
        Run on dask.distributed (the ``dask`` extra) instead of joblib: a
        ``LocalCluster`` of ``n_jobs`` single-threaded workers (``"local"``),
        the scheduler at an address (e.g. ``"tcp://host:8786"``) or a
        client. The workers must see the files at the same paths (a shared
        file system). Outputs are identical to the local run's. Workers of
        your own cluster run faster without dask's default
        ``MALLOC_TRIM_THRESHOLD_=65536`` (set
        ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_`` to
        null in the dask config); the local cluster leaves it out.
    format : str, optional
        Output format by extension (``"flac"``, ``"wav"``, ...); None keeps
        each input's.
    manifest : str or path-like, optional
        Also write the manifest there, as ``.csv`` or ``.json``. For the
        files a rerun skips, the rows of an earlier manifest at that path
        are carried over.
    overwrite : bool, default=False
        Equalize every file again, complete outputs included.
    progress : bool, default=False
        Show one progress bar (tqdm) over the whole job, in seconds of audio.
    block_frames : int, default=65536
        Frames per block.
    as_frame : bool, default=True
        Return a pandas DataFrame (pandas comes with the ``models`` extra);
        False returns a list of dicts, and needs no pandas.

    Returns
    -------
    manifest : pandas.DataFrame or list of dict
        One row per file found, in input order, with the columns of
        :data:`MANIFEST_COLUMNS`: ``file``, ``output``, ``duration`` (s),
        ``rate``, ``channels``, ``factor_mean``, ``factor_min``,
        ``factor_max``, ``strongest_gain_db``, ``seconds`` (wall time of the
        file's processing), ``status`` (``"done"``, ``"skipped"`` or
        ``"failed"``) and ``error`` (the message of a failure).

    Raises
    ------
    FileNotFoundError, ValueError, TypeError, OSError
        Before any work: a missing input, an unwritable ``out_dir`` or
        ``manifest``, a bad ``format``, ``n_jobs`` or ``equalizer``, two
        inputs that would write one output, or an output that is an input.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sk_reseq.audio import save_audio
    >>> from sk_reseq.equalizer import ResonanceEqualizer, equalize_files
    >>> folder = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(folder, "in", "disc1"))
    >>> x = 0.1 * np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32)
    >>> save_audio(os.path.join(folder, "in", "disc1", "a.wav"), x, 16000)
    >>> save_audio(os.path.join(folder, "in", "b.flac"), x, 16000)
    >>> table = equalize_files([os.path.join(folder, "in")], os.path.join(folder, "out"),
    ...                        equalizer=ResonanceEqualizer(factor=0.5))
    >>> [os.path.relpath(p, folder) for p in table.output], table.status.tolist()
    (['out/b.flac', 'out/disc1/a.wav'], ['done', 'done'])
    >>> equalize_files([os.path.join(folder, "in")], os.path.join(folder, "out"),
    ...                equalizer=ResonanceEqualizer(factor=0.5)).status.tolist()
    ['skipped', 'skipped']
    """
    pd = import_optional("pandas", "equalize_files(as_frame=True)") if as_frame else None
    # -- every check before the work --
    _check_equalizer(equalizer)
    if getattr(equalizer, "match_loudness", False):
        raise ValueError("equalize_files streams each file in blocks, and match_loudness=True "
                         "needs a whole file's loudness first: set it to False.")
    inputs = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if not inputs:
        raise ValueError("inputs is empty: give audio files or folders.")
    n_jobs = _check_n_jobs(n_jobs)
    ext = _check_format(format)
    manifest = _check_manifest_path(manifest)
    block_frames = int(block_frames)
    if block_frames < 1:
        raise ValueError(f"block_frames must be a positive number of frames, got {block_frames}.")
    if scheduler is not None:
        import_optional("distributed", "equalize_files(scheduler=...)")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"out_dir is a file, not a folder: {out_dir}")
    found = _scan(inputs, out_dir)
    planned, owners = [], {}
    for source, relative in found:
        destination = out_dir / (relative.with_suffix(ext) if ext else relative)
        key = str(destination.resolve())
        if key in owners:
            raise ValueError(f"{owners[key]} and {source} would both be written to "
                             f"{destination}; rename one, or equalize them into separate "
                             "folders.")
        owners[key] = source
        planned.append((source, destination))
    for source, destination in planned:
        if any(same_file(destination, s) for s, _ in found):
            raise ValueError(f"output {destination} would overwrite an input; choose another "
                             "out_dir (sk-reseq never overwrites its input).")
    # A fitted copy: checks the settings now, and loads an AutoEqualizer's model once.
    equalizer = _for_rate(equalizer, equalizer.sr)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_writable(out_dir / "manifest")
    if manifest is not None:  # after the folder, which may hold it
        check_writable(manifest)

    # -- what is left to do --
    rows, todo = {}, []
    previous = _previous_rows(manifest)
    for source, destination in planned:
        try:
            info = audio_info(source)
        except (OSError, ValueError) as exc:
            rows[str(source)] = _row(source, None, status="failed", error=str(exc))
            continue
        probe = dict(duration=info.frames / info.samplerate, rate=info.samplerate,
                     channels=info.channels)
        if not overwrite and _is_complete(destination, info):
            earlier = previous.get(str(destination), {})
            carried = {k: earlier.get(k) for k in ("factor_mean", "factor_min", "factor_max",
                                                   "strongest_gain_db", "seconds")}
            rows[str(source)] = _row(source, destination, status="skipped", error=None,
                                     **probe, **carried)
            continue
        rows[str(source)] = _row(source, destination, status="failed",
                                 error="not processed (interrupted)", **probe)
        todo.append((source, destination))

    # -- the work --
    from tqdm.auto import tqdm

    total = sum(rows[str(source)]["duration"] for source, _ in todo)
    per_file = scheduler is not None or (n_jobs != 1 and len(todo) > 1)
    with tqdm(total=total, unit="s", desc="equalize", disable=not progress,
              leave=False, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s of audio "
                                      "[{elapsed}<{remaining}]") as bar:
        def done(row):
            planned_row = rows[row["file"]]
            if per_file:  # else the bar moved block by block
                bar.update(planned_row["duration"])
            # The worker's figures over the ones read from the header here.
            rows[row["file"]] = {**planned_row, **{k: v for k, v in row.items()
                                                   if v is not None or k == "error"}}

        if scheduler is not None:
            _run_dask(todo, equalizer, scheduler, n_jobs, block_frames, done)
        elif per_file:
            _run_joblib(todo, equalizer, n_jobs, block_frames, done)
        else:
            for job in todo:
                done(_equalize_job(job, equalizer, block_frames, progress=bar.update))
    table = [rows[str(source)] for source, _ in found]
    if manifest is not None:
        write_manifest(table, manifest)
    if not as_frame:
        return table
    return pd.DataFrame(table, columns=MANIFEST_COLUMNS).astype({"rate": "Int64",
                                                                 "channels": "Int64"})
