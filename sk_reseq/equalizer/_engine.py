"""The resonance equalizer's streaming STFT engine (private).

One engine serves offline and streaming use: offline processing pushes
the whole signal through it in chunks, so both paths run the same code
and give the same output. Frames are analysed with a periodic Hann
window and resynthesised with the same window; overlap-add divides by
the summed squared window, so at unit gain the output equals the input
(the Hann-squared envelope is constant for a hop of n_fft / 4).

For frame ``j`` the detector reads the power spectrum averaged over the
frames of the last ``averaging`` seconds (frames ``j - K + 1 .. j``), which
keeps the analysis causal: a frame's gain depends on no later audio.
"""

import numpy as np
import scipy.fft
from scipy.signal import get_window

from ..spectral import _power_from_spectrum


class _Recorder:
    """Collects per-frame analysis (levels, smoothed, resonances, gain)."""

    def __init__(self, keep_frames):
        self.keep_frames = keep_frames
        self.frames = {"levels": [], "smoothed": [], "resonances": [], "gain_db": [],
                       "power": []}
        self.sums = None
        self.count = 0

    def add(self, power, levels, smoothed, res, gains):
        arrays = {"levels": levels, "smoothed": smoothed, "resonances": res, "gain_db": gains}
        if self.keep_frames:
            for key, value in arrays.items():
                self.frames[key].append(value.astype(np.float32))
            self.frames["power"].append(power.astype(np.float32))
        sums = {k: v.sum(axis=0) for k, v in arrays.items()}
        if self.sums is None:
            self.sums = sums
        else:
            for key in sums:
                self.sums[key] += sums[key]
        self.count += len(levels)


class STFTEqualizerEngine:
    """Stateful block processor; see :class:`sk_reseq.equalizer.ResonanceEqualizer`.

    Parameters
    ----------
    n_channels : int
    layout : BandLayout
    hop : int
    averaging_frames : int
        Span of the detector's average, in frames (K).
    smoothing : float
        Smoothing width in octaves.
    smoothing_method : str
    threshold : float
        Excess in dB below which nothing counts as a resonance.
    link : bool
        One gain curve from the channels' summed power (True) or one per channel.
    factor_at : callable
        ``factor_at(frame_indices) -> factors`` (array of the same length).
    mix : float
        Dry/wet proportion (1 = fully equalized).
    output : {"equalized", "delta"}
    recorder : _Recorder, optional
    dtype : numpy dtype
    update_interval : int
        The detector runs on frames whose index is a multiple of this.
    """

    def __init__(self, n_channels, layout, hop, averaging_frames, smoothing, smoothing_method,
                 threshold, link, factor_at, mix=1.0, output="equalized", recorder=None,
                 dtype=np.float32, update_interval=1):
        self.n_channels = n_channels
        self.layout = layout
        self.n_fft = layout.n_fft
        self.hop = hop
        self.window = get_window("hann", self.n_fft).astype(dtype)
        self.update_interval = int(update_interval)
        # Analysis frames averaged by the detector (those within the span).
        self.averaging_frames = (averaging_frames - 1) // self.update_interval + 1
        self.smoothing = smoothing
        self.smoothing_method = smoothing_method
        self.threshold = threshold
        self.link = link
        self.factor_at = factor_at
        self.mix = mix
        self.output = output
        self.recorder = recorder
        self.dtype = dtype
        overlap = self.n_fft - hop
        self._inbuf = np.zeros((n_channels, overlap), dtype=dtype)
        self._ola = np.zeros((n_channels, overlap), dtype=dtype)
        n_bands = len(layout.centers)
        power_shape = (0, n_bands) if link else (0, n_channels, n_bands)
        self._history = np.zeros(power_shape)
        empty = np.zeros(power_shape, dtype=np.float32)
        self._held = (empty, empty, empty)  # levels, smoothed, resonances of the last analysis
        self._frame = 0
        self._norm = self._ola_normalizer()

    def _ola_normalizer(self):
        """1 / summed squared window, per position within a hop (steady state)."""
        sq = self.window.astype(np.float64) ** 2
        env = sq.reshape(-1, self.hop).sum(axis=0) if self.n_fft % self.hop == 0 else None
        if env is None:
            raise ValueError("n_fft must be a multiple of hop_length.")
        return (1.0 / env).astype(self.dtype)

    def push(self, block):
        """Process ``block`` (channels, m); return the finished output samples.

        The output runs ``n_fft - hop`` samples behind the input (in the
        coordinates of a signal preceded by that many zeros) and comes in
        whole hops.
        """
        buf = np.concatenate([self._inbuf, block.astype(self.dtype, copy=False)], axis=1)
        n_frames = (buf.shape[1] - self.n_fft) // self.hop + 1 if buf.shape[1] >= self.n_fft else 0
        if n_frames <= 0:
            self._inbuf = buf
            return np.zeros((self.n_channels, 0), dtype=self.dtype)
        frames = np.lib.stride_tricks.sliding_window_view(buf, self.n_fft, axis=1)[
            :, : n_frames * self.hop : self.hop
        ]  # (channels, n_frames, n_fft), a view
        spectrum = scipy.fft.rfft(frames * self.window, axis=-1)
        gains = self._gains(spectrum)  # (n_frames, channels or 1, n_bins)
        spectrum *= np.moveaxis(gains, 0, 1)
        # overwrite_x: the spectrum is ours to spend; saves pocketfft a copy of it.
        out_frames = scipy.fft.irfft(spectrum, n=self.n_fft, axis=-1, overwrite_x=True).astype(
            self.dtype, copy=False)
        out_frames *= self.window
        out = self._overlap_add(out_frames)
        self._inbuf = buf[:, n_frames * self.hop :]
        self._frame += n_frames
        return out

    def _overlap_add(self, out_frames):
        n_channels, n_frames, n_fft = out_frames.shape
        hop = self.hop
        overlap = n_fft - hop
        acc = np.zeros((n_channels, n_frames * hop + overlap), dtype=self.dtype)
        acc[:, :overlap] = self._ola
        # Add the frames hop-sized slice by slice: n_fft / hop vectorised adds.
        for k in range(n_fft // hop):
            seg = out_frames[:, :, k * hop : (k + 1) * hop].reshape(n_channels, -1)
            acc[:, k * hop : k * hop + n_frames * hop] += seg
        self._ola = acc[:, n_frames * hop :].copy()
        out = acc[:, : n_frames * hop].reshape(n_channels, n_frames, hop) * self._norm
        return out.reshape(n_channels, -1)

    def _gains(self, spectrum):
        """Per-frame linear scale factors, shape (n_frames, channels or 1, n_bins).

        The detector runs on every ``update_interval``-th frame (absolute
        index), the frames between reuse its resonances with their own factor.
        """
        n = spectrum.shape[1]
        frame_idx = np.arange(self._frame, self._frame + n)
        m = self.update_interval
        analysis = np.flatnonzero(frame_idx % m == 0)
        keep_power = self.recorder is not None and self.recorder.keep_frames
        power = self._power(spectrum if keep_power else spectrum[:, analysis])
        if len(analysis):
            banded = self.layout.band_power(power[analysis] if keep_power else power)
            # Band mapping is linear, so averaging over frames after it gives the
            # same numbers as before it, on 400 values per frame instead of n_bins.
            averaged = self._causal_average(banded, frame_idx[analysis] // m)
            # float32 from here on: ample for dB values and faster to smooth.
            levels = self.layout.band_power_to_levels(averaged).astype(np.float32)
            smoothed, res, _ = self.layout.analyze(
                levels, self.smoothing, 0.0, self.smoothing_method, self.threshold
            )
            held = (np.concatenate([self._held[0], levels]),
                    np.concatenate([self._held[1], smoothed]),
                    np.concatenate([self._held[2], res]))
        else:
            held = self._held
        # Row of ``held`` for each frame: the last analysis frame at or before it.
        first = len(self._held[0])
        rows = first - 1 + np.searchsorted(analysis, np.arange(n), side="right")
        self._held = tuple(h[-1:] for h in held)
        factors = np.asarray(self.factor_at(frame_idx), dtype=np.float32)
        # One scale curve per distinct (analysis row, factor): a constant factor
        # costs one exponential-and-interpolation per analysis frame only.
        keys, inverse = np.unique(np.stack([rows, factors.view(np.int32)], axis=1), axis=0,
                                  return_inverse=True)
        key_factors = factors[np.unique(inverse, return_index=True)[1]]
        shape = (-1,) + (1,) * (held[2].ndim - 1)
        gains_db = -key_factors.reshape(shape) * held[2][keys[:, 0]]
        scale = self.layout.scale_factors(gains_db)[inverse.reshape(-1)]
        if self.recorder is not None:
            per_frame = [h[rows] for h in held]
            self.recorder.add(power, *per_frame, -factors.reshape(shape) * per_frame[2])
        # Dry/wet in the spectral domain: mix * wet + (1 - mix) * dry.
        if self.mix != 1.0:
            scale = 1.0 - self.mix * (1.0 - scale)
        if self.output == "delta":
            scale = 1.0 - scale
        if self.link:
            scale = scale[:, None, :]
        return scale.astype(self.dtype, copy=False)

    def _power(self, spectrum):
        """Power spectra (n_frames, [channels,] n_bins), summed over linked channels."""
        power = np.moveaxis(_power_from_spectrum(spectrum, self.window), 1, 0)
        return power.sum(axis=1) if self.link else power

    def _causal_average(self, banded, analysis_index):
        """Mean band power over the current and up to K - 1 previous analysis frames."""
        k = self.averaging_frames
        stacked = np.concatenate([self._history, banded], axis=0)
        csum = np.cumsum(stacked, axis=0)
        n_hist = len(self._history)
        idx = np.arange(n_hist, len(stacked))
        lower = idx - k
        window_sum = csum[idx] - np.where(
            (lower >= 0)[(...,) + (None,) * (banded.ndim - 1)], csum[np.maximum(lower, 0)], 0.0
        )
        counts = np.minimum(analysis_index + 1, k)
        self._history = stacked[-(k - 1):] if k > 1 else stacked[:0]
        return window_sum / counts.reshape((-1,) + (1,) * (banded.ndim - 1))
