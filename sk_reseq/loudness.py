"""Loudness: ISO 226 equal-loudness contours and ITU-R BS.1770 programme loudness.

**Equal-loudness contours (ISO 226:2003).** The standard tabulates three
parameters (the exponent ``a_f``, the magnitude of the linear transfer
function ``L_U`` and the hearing threshold ``T_f``) at 29 preferred
frequencies from 20 Hz to 12.5 kHz, and defines the contour at a loudness
level ``L_N`` (phon) by its Eq. (1). :func:`equal_loudness_contour`
evaluates that equation at the tabulated frequencies and interpolates the
resulting sound pressure levels in log-frequency with a monotone cubic
(PCHIP) interpolant, so the curve passes exactly through the standard's
values and does not overshoot between them.

Beyond the standard's range the contour is held at its edge value: below
20 Hz it equals the 20 Hz level and above 12.5 kHz the 12.5 kHz level. The
standard gives no data there; holding the edge is the conservative choice
(it neither boosts nor mutes the extreme bands relative to their nearest
measured neighbour) and keeps the weighting bounded.

**Programme loudness and true peak (ITU-R BS.1770-4).**
:func:`integrated_loudness` (LUFS) and :func:`true_peak` (dBTP, 4x
oversampling as in the standard's Annex 2) measure a whole signal;
:class:`LoudnessMeter` measures one fed block by block, in constant memory
(the functions use it). The K-weighting filters are pyloudnorm's (the same
as ``pyloudnorm.Meter``, whose result the meter reproduces); the meter
filters and gates block by block, where ``pyloudnorm.Meter`` holds three
copies of the signal. The oversampling is soxr's streaming resampler.
:func:`loudness_gain` is the gain that matches one loudness to another.
"""

import math

import numpy as np
from scipy.interpolate import PchipInterpolator

from ._validation import AudioValueError, check_audio

__all__ = [
    "ISO226_FREQUENCIES",
    "equal_loudness_contour",
    "loudness_level",
    "elc_weighting",
    "LoudnessMeter",
    "integrated_loudness",
    "true_peak",
    "sample_peak",
    "loudness_gain",
    "TRUE_PEAK_OVERSAMPLING",
]

#: The 29 preferred frequencies of ISO 226:2003, Table 1 (Hz).
ISO226_FREQUENCIES = np.array(
    [20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630,
     800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500]
)
_ALPHA_F = np.array(
    [0.532, 0.506, 0.480, 0.455, 0.432, 0.409, 0.387, 0.367, 0.349, 0.330, 0.315,
     0.301, 0.288, 0.276, 0.267, 0.259, 0.253, 0.250, 0.246, 0.244, 0.243, 0.243,
     0.243, 0.242, 0.242, 0.245, 0.254, 0.271, 0.301]
)
_L_U = np.array(
    [-31.6, -27.2, -23.0, -19.1, -15.9, -13.0, -10.3, -8.1, -6.2, -4.5, -3.1,
     -2.0, -1.1, -0.4, 0.0, 0.3, 0.5, 0.0, -2.7, -4.1, -1.0, 1.7, 2.5, 1.2, -2.1,
     -7.1, -11.2, -10.7, -3.1]
)
_T_F = np.array(
    [78.5, 68.7, 59.5, 51.1, 44.0, 37.5, 31.5, 26.5, 22.1, 17.9, 14.4, 11.4, 8.6,
     6.2, 4.4, 3.0, 2.2, 2.4, 3.5, 1.7, -1.3, -4.2, -6.0, -5.4, -1.5, 6.0, 12.6,
     13.9, 12.3]
)


def _check_phon(phon):
    phon = float(phon)
    if not np.isfinite(phon) or not 0.0 <= phon <= 100.0:
        raise ValueError(
            f"phon must be a finite loudness level in [0, 100], got {phon!r}; "
            "ISO 226:2003 is valid from 20 to 90 phon (80 phon above 4 kHz)."
        )
    return phon


def _tabulated_contour(phon):
    """ISO 226:2003 Eq. (1) at the 29 tabulated frequencies (dB SPL)."""
    b_f = (0.4 * 10 ** ((_T_F + _L_U) / 10 - 9)) ** _ALPHA_F
    a_f = 4.47e-3 * (10 ** (0.025 * phon) - 1.15) + b_f
    return 10 / _ALPHA_F * np.log10(a_f) - _L_U + 94


def equal_loudness_contour(frequencies, phon=80.0):
    """Sound pressure level of equal loudness at ``phon``, per frequency.

    Parameters
    ----------
    frequencies : array-like of float [shape=(...)]
        Frequencies in Hz (positive). Values outside 20 Hz - 12.5 kHz get
        the contour's value at the nearest edge (see the module notes).
    phon : float, default=80.0
        Loudness level in phon, in [0, 100].

    Returns
    -------
    spl : np.ndarray [shape=(...)]
        Sound pressure level in dB SPL that sounds as loud as a 1 kHz tone at
        ``phon`` dB SPL.

    Examples
    --------
    >>> from sk_reseq.loudness import equal_loudness_contour
    >>> float(equal_loudness_contour(1000.0, phon=80).round(1))
    80.0
    >>> bool(equal_loudness_contour(50.0) > equal_loudness_contour(1000.0))
    True
    """
    phon = _check_phon(phon)
    freqs = np.asarray(frequencies, dtype=float)
    if not np.all(np.isfinite(freqs)) or np.any(freqs <= 0):
        raise ValueError("frequencies must be finite and positive (Hz).")
    log_f = np.log10(ISO226_FREQUENCIES)
    interp = PchipInterpolator(log_f, _tabulated_contour(phon), extrapolate=False)
    clipped = np.clip(np.log10(freqs), log_f[0], log_f[-1])
    return interp(clipped)


def loudness_level(frequencies, spl):
    """Loudness level in phon of pure tones, ISO 226:2003 Eq. (2).

    The inverse of :func:`equal_loudness_contour` at the tabulated
    frequencies; only those 29 frequencies are accepted.

    Parameters
    ----------
    frequencies : array-like of float [shape=(n,)]
        Frequencies, each one of :data:`ISO226_FREQUENCIES`.
    spl : array-like of float [shape=(n,)]
        Sound pressure levels in dB SPL.

    Returns
    -------
    phon : np.ndarray [shape=(n,)]

    Examples
    --------
    >>> from sk_reseq.loudness import loudness_level
    >>> float(loudness_level([1000.0], [60.0])[0].round(1))
    60.0
    """
    freqs = np.atleast_1d(np.asarray(frequencies, dtype=float))
    spl = np.atleast_1d(np.asarray(spl, dtype=float))
    idx = np.searchsorted(ISO226_FREQUENCIES, freqs)
    idx = np.clip(idx, 0, len(ISO226_FREQUENCIES) - 1)
    if not np.allclose(ISO226_FREQUENCIES[idx], freqs):
        raise ValueError("frequencies must be among the 29 ISO 226 frequencies.")
    a, lu, tf = _ALPHA_F[idx], _L_U[idx], _T_F[idx]
    b_f = (0.4 * 10 ** ((spl + lu) / 10 - 9)) ** a - (0.4 * 10 ** ((tf + lu) / 10 - 9)) ** a
    return 40 * np.log10(b_f + 0.005135) + 94


def elc_weighting(frequencies, phon=80.0):
    """Equal-loudness weighting in dB, 0 dB at 1 kHz.

    The weight is ``phon - equal_loudness_contour(f, phon)``: adding it to a
    level spectrum expresses each band's level relative to how loud it is
    perceived at that monitoring level (the paper uses 80 phon).

    Parameters
    ----------
    frequencies : array-like of float [shape=(...)]
        Frequencies in Hz.
    phon : float, default=80.0
        Monitoring loudness level in phon.

    Returns
    -------
    weights : np.ndarray [shape=(...)]
        Weights in dB (negative where the ear is less sensitive).

    Examples
    --------
    >>> from sk_reseq.loudness import elc_weighting
    >>> w = elc_weighting([50.0, 1000.0, 3150.0])
    >>> bool(w[0] < 0 < w[2])
    True
    """
    return _check_phon(phon) - equal_loudness_contour(frequencies, phon)


# -- ITU-R BS.1770-4 -----------------------------------------------------

#: Oversampling of the true-peak measurement (BS.1770-4, Annex 2).
TRUE_PEAK_OVERSAMPLING = 4
# Gating blocks of 400 ms every 100 ms (75 % overlap), the gates (Eqs. 5-7)
# and the channel weights G_i of L, R, C, Ls, Rs (Table 3).
_BLOCK_STEPS = 4
_STEPS_PER_SECOND = 10
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
# pyloudnorm's K-weighting stages: (gain dB, Q, centre Hz, type), as in its Meter.
_K_WEIGHTING = ((4.0, 1 / math.sqrt(2), 1500.0, "high_shelf"), (0.0, 0.5, 38.0, "high_pass"))
# Frames filtered at a time: bounds the meter's temporary buffers.
_CHUNK_FRAMES = 1 << 16


def _k_weighting_sos(sr):
    """The K-weighting as second-order sections at ``sr`` (pyloudnorm's design)."""
    # pyloudnorm imports scipy.signal (0.5 s): only when something is measured.
    from pyloudnorm.iirfilter import IIRfilter

    stages = [IIRfilter(g, q, fc, sr, kind) for g, q, fc, kind in _K_WEIGHTING]
    return np.array([np.concatenate([f.b, f.a]) / f.a[0] for f in stages])


def _check_loudness_channels(n_channels):
    if n_channels > len(_CHANNEL_WEIGHTS):
        raise AudioValueError(
            f"ITU-R BS.1770 defines the loudness of 1 to {len(_CHANNEL_WEIGHTS)} channels "
            f"(L, R, C, Ls, Rs); the audio has {n_channels}. Mix it down first.")


def _to_db(amplitude):
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


class LoudnessMeter:
    """ITU-R BS.1770-4 loudness and peaks of one signal, fed block by block.

    The signal is K-weighted (pyloudnorm's filters, the state carried from
    block to block), its power summed over 100 ms steps, and the integrated
    loudness gated from the 400 ms blocks (75 % overlap) at the end: the
    result equals ``pyloudnorm.Meter(sr).integrated_loudness`` on the whole
    signal, in memory that does not grow with its length (a few numbers per
    100 ms).

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_channels : int
        Channels of the signal. The loudness is defined for 1 to 5, in
        BS.1770's order L, R, C, Ls, Rs (the surround channels weigh 1.41);
        the peaks for any number.
    true_peak : bool, default=True
        Also measure the true peak (4x oversampling with soxr); False saves
        that work when only the loudness is needed.

    Notes
    -----
    A signal shorter than one 400 ms block is measured on a looped copy of
    itself (the loudness of a steady sound looped is its own), so that every
    signal gets a finite loudness unless it is silent.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.loudness import LoudnessMeter
    >>> t = np.arange(48000) / 48000
    >>> tone = 0.5 * np.sin(2 * np.pi * 997 * t)[None]  # -6 dBFS, 1 s
    >>> meter = LoudnessMeter(48000, 1)
    >>> for block in np.array_split(tone, 7, axis=1):
    ...     _ = meter.update(block)
    >>> round(meter.integrated_loudness(), 2), round(meter.true_peak(), 1)
    (-9.07, -6.0)
    """

    def __init__(self, sr, n_channels, *, true_peak=True):
        sr = float(sr)
        if not (math.isfinite(sr) and sr > 0):
            raise ValueError(f"sr must be a positive sample rate in Hz, got {sr!r}.")
        if (isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer))
                or n_channels < 1):
            raise ValueError(f"n_channels must be a positive integer, got {n_channels!r}.")
        self.sr = sr
        self.n_channels = int(n_channels)
        self._sos = _k_weighting_sos(sr)
        self._zi = np.zeros((len(self._sos), self.n_channels, 2))
        self._n = 0                                # frames seen
        self._steps = 0                            # complete 100 ms steps
        self._partial = np.zeros(self.n_channels)  # power of the step under way
        self._step_power = []                      # (n_channels, k) arrays, complete steps
        self._head = []                            # the raw start, while shorter than a block
        self._peak = 0.0
        self._resampler = None
        self._true_peak = None if true_peak else False
        if true_peak:
            import soxr

            self._resampler = soxr.ResampleStream(sr, TRUE_PEAK_OVERSAMPLING * sr,
                                                  self.n_channels, dtype="float32",
                                                  quality="HQ")
            self._oversampled_peak = 0.0

    def _edge(self, step):
        """First frame of 100 ms step ``step`` (pyloudnorm's rounding)."""
        return int(step * self.sr / _STEPS_PER_SECOND)

    def _block_frames(self):
        return self._edge(_BLOCK_STEPS)

    def update(self, block):
        """Add the next ``(n_channels, m)`` block of the signal (``m`` may be 0).

        Returns
        -------
        self : LoudnessMeter
        """
        if self._true_peak not in (None, False):
            raise RuntimeError("this meter's true peak has been read, which ends its signal; "
                               "measure another signal with a new LoudnessMeter.")
        block = np.asarray(block)
        if block.ndim == 2 and block.shape[1] == 0:
            return self
        x = check_audio(block, name="block")
        if x.ndim != 2 or x.shape[0] != self.n_channels:
            raise AudioValueError(f"block must have shape ({self.n_channels}, samples), the "
                                  f"meter's channels; got {block.shape}.")
        for start in range(0, x.shape[1], _CHUNK_FRAMES):
            self._update_chunk(x[:, start:start + _CHUNK_FRAMES])
        return self

    def _update_chunk(self, x):
        from scipy.signal import sosfilt

        m = x.shape[1]
        self._peak = max(self._peak, float(np.max(x)), -float(np.min(x)))
        if self._resampler is not None:
            up = self._resampler.resample_chunk(np.ascontiguousarray(x.T, dtype=np.float32))
            if up.size:
                self._oversampled_peak = max(self._oversampled_peak, float(np.abs(up).max()))
        if self._n < self._block_frames():
            self._head.append(np.array(x[:, :self._block_frames() - self._n], dtype=np.float64))
        else:
            self._head = []
        y, self._zi = sosfilt(self._sos, np.asarray(x, dtype=np.float64), axis=-1, zi=self._zi)
        energy = np.concatenate([np.zeros((self.n_channels, 1)), np.cumsum(y * y, axis=-1)],
                                axis=1)
        start, end = self._n, self._n + m
        cuts = []
        step = self._steps + 1
        while self._edge(step) <= end:
            cuts.append(self._edge(step) - start)
            step += 1
        if cuts:
            cuts = np.asarray(cuts)
            done = energy[:, cuts] - energy[:, np.concatenate([[0], cuts[:-1]])]
            done[:, 0] += self._partial
            self._step_power.append(done)
            self._partial = energy[:, m] - energy[:, cuts[-1]]
            self._steps += len(cuts)
        else:
            self._partial = self._partial + energy[:, m]
        self._n = end

    def integrated_loudness(self):
        """Integrated loudness in LUFS of the signal so far (-inf if silent).

        Returns
        -------
        loudness : float
        """
        _check_loudness_channels(self.n_channels)
        if self._n == 0:
            raise ValueError("the meter has measured no samples yet; call update() first.")
        if self._n < self._block_frames() + 1:  # no complete block: loop the clip
            head = np.concatenate(self._head, axis=1)
            reps = -(-(self._block_frames() + 1) // head.shape[1])
            looped = LoudnessMeter(self.sr, self.n_channels, true_peak=False)
            return looped.update(np.tile(head, (1, reps))).integrated_loudness()
        steps = np.concatenate(self._step_power, axis=1)
        weights = np.asarray(_CHANNEL_WEIGHTS[:self.n_channels])[:, None]
        # Mean square of each 400 ms block (pyloudnorm divides by the nominal length).
        window = np.lib.stride_tricks.sliding_window_view(weights * steps, _BLOCK_STEPS, axis=1)
        power = window.sum(axis=(0, 2)) / (_BLOCK_STEPS * self.sr / _STEPS_PER_SECOND)
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10 * np.log10(power)
        gated = block_lufs > _ABSOLUTE_GATE_LUFS
        if not gated.any():
            return -math.inf
        relative = -0.691 + 10 * math.log10(power[gated].mean()) + _RELATIVE_GATE_LU
        gated &= block_lufs > relative
        return -0.691 + 10 * math.log10(power[gated].mean())

    def sample_peak(self):
        """Largest absolute sample so far, in dBFS (-inf if silent)."""
        return _to_db(self._peak)

    def true_peak(self):
        """True peak in dBTP: the largest absolute value of the 4x oversampled signal.

        Never below :meth:`sample_peak` (the interpolation may under-read a
        peak that a sample hits). Reading it flushes the resampler and so ends
        the signal: later :meth:`update` calls raise.

        Returns
        -------
        true_peak : float
        """
        if self._true_peak is False:
            raise ValueError("this meter was made with true_peak=False.")
        if self._true_peak is None:
            tail = self._resampler.resample_chunk(
                np.zeros((0, self.n_channels), dtype=np.float32), last=True)
            if tail.size:
                self._oversampled_peak = max(self._oversampled_peak, float(np.abs(tail).max()))
            self._true_peak = _to_db(max(self._oversampled_peak, self._peak))
        return self._true_peak


def _meter(x, sr, *, true_peak):
    x = check_audio(x, name="x")
    if not true_peak:  # before the work
        _check_loudness_channels(x.shape[0])
    return LoudnessMeter(sr, x.shape[0], true_peak=true_peak).update(x)


def integrated_loudness(x, sr):
    """ITU-R BS.1770-4 integrated loudness of a signal, in LUFS.

    Parameters
    ----------
    x : array-like [shape=(n_channels, n_samples) or (n_samples,)]
        Float or integer PCM audio, 1 to 5 channels (L, R, C, Ls, Rs).
    sr : float
        Sample rate in Hz.

    Returns
    -------
    loudness : float
        LUFS; ``-inf`` for silence. A clip shorter than 400 ms is measured
        looped (see :class:`LoudnessMeter`).

    Raises
    ------
    AudioValueError
        More than 5 channels, or audio that is not finite.

    See Also
    --------
    LoudnessMeter : the same, block by block.
    loudness_gain : the gain that brings one loudness to another.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.loudness import integrated_loudness
    >>> t = np.arange(48000) / 48000
    >>> tone = np.sin(2 * np.pi * 997 * t)
    >>> round(integrated_loudness(np.stack([tone, tone]), 48000))  # 0 dBFS on L and R
    0
    >>> round(integrated_loudness(0.1 * np.stack([tone, tone]), 48000))
    -20
    """
    return _meter(x, sr, true_peak=False).integrated_loudness()


def true_peak(x, sr):
    """True peak of a signal in dBTP (ITU-R BS.1770-4, Annex 2).

    The largest absolute value of the signal oversampled 4x (soxr, high
    quality), or of its samples if larger: the level a reconstruction of the
    signal reaches between samples, which the sample peak misses.

    Parameters
    ----------
    x : array-like [shape=(n_channels, n_samples) or (n_samples,)]
        Float or integer PCM audio.
    sr : float
        Sample rate in Hz.

    Returns
    -------
    true_peak : float
        dBTP (dB relative to full scale); ``-inf`` for silence.

    Examples
    --------
    A sine at a quarter of the sample rate whose samples fall halfway
    between its crests: they peak 3 dB below the wave itself (faded in and
    out: an abrupt start rings, and the ringing is part of the true peak).

    >>> import numpy as np
    >>> from sk_reseq.loudness import sample_peak, true_peak
    >>> n = np.arange(44100)
    >>> x = np.hanning(n.size) * np.sin(np.pi * n / 2 + np.pi / 4)
    >>> round(sample_peak(x), 2), round(true_peak(x, 44100), 2) + 0  # + 0: no "-0.0"
    (-3.01, 0.0)
    """
    return _meter(x, sr, true_peak=True).true_peak()


def sample_peak(x):
    """Largest absolute sample of a signal, in dBFS (``-inf`` for silence).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.loudness import sample_peak
    >>> round(sample_peak(np.array([0.0, -0.5, 0.25])), 2)
    -6.02
    """
    x = check_audio(x, name="x")
    return _to_db(max(float(np.max(x)), -float(np.min(x))))


def loudness_gain(loudness, target):
    """Gain in dB that brings a signal of ``loudness`` to ``target`` (LUFS or LU).

    ``target - loudness``, or 0 when either is not finite: a silent signal
    (``-inf``) cannot be brought to a loudness, and a silent reference asks
    for none.

    Examples
    --------
    >>> from sk_reseq.loudness import loudness_gain
    >>> loudness_gain(-18.5, -14.0), loudness_gain(float("-inf"), -14.0)
    (4.5, 0.0)
    """
    loudness, target = float(loudness), float(target)
    if not (math.isfinite(loudness) and math.isfinite(target)):
        return 0.0
    return target - loudness
