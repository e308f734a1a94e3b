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

import bottleneck as bn
import numpy as np
import scipy.fft
from scipy.signal import get_window

from ..spectral import _power_scale


class _Recorder:
    """Collects per-frame analysis (levels, smoothed, resonances, gain).

    Besides the frames (if ``keep_frames``) and their sums, it keeps the gain
    over time in bounded memory: runs of ``frames_per_column`` consecutive
    frames averaged (in dB) into at most ``max_columns`` columns. When the
    columns run out, neighbours merge and the run doubles, so the length of
    the track need not be known in advance (streams).
    """

    def __init__(self, keep_frames, max_columns=2048, max_frames=None):
        self.keep_frames = keep_frames
        # Frames beyond a track's own (the padding that finishes its last frames) are not its.
        self.max_frames = max_frames
        self.frames = {"levels": [], "smoothed": [], "resonances": [], "gain_db": [],
                       "power": []}
        self.sums = None
        self.count = 0
        self.max_columns = max(2, int(max_columns) // 2 * 2)  # even: columns merge in pairs
        self.frames_per_column = 1
        self._map_sums = None
        self._map_counts = np.zeros(self.max_columns, dtype=np.int64)

    def add(self, power, levels, smoothed, res, gains):
        if self.max_frames is not None:
            keep = max(0, min(len(levels), self.max_frames - self.count))
            power = None if power is None else power[:keep]
            levels, smoothed, res, gains = levels[:keep], smoothed[:keep], res[:keep], gains[:keep]
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
        if len(gains):
            self._add_to_map(gains)
        self.count += len(levels)

    def _add_to_map(self, gains):
        if self._map_sums is None:
            self._map_sums = np.zeros((self.max_columns,) + gains.shape[1:])
        n = len(gains)
        while (self.count + n - 1) // self.frames_per_column >= self.max_columns:
            half = self.max_columns // 2
            for a in (self._map_sums, self._map_counts):
                a[:half] = a[0::2] + a[1::2]
                a[half:] = 0
            self.frames_per_column *= 2
        columns = np.arange(self.count, self.count + n) // self.frames_per_column
        starts = np.flatnonzero(np.diff(columns, prepend=-1))
        self._map_sums[columns[starts]] += np.add.reduceat(gains, starts, axis=0,
                                                           dtype=np.float64)
        self._map_counts[columns[starts]] += np.diff(starts, append=n)

    def gain_map(self):
        """Mean gain (dB) per column and each column's mean frame index."""
        k = self.frames_per_column
        n_columns = -(-self.count // k)
        counts = self._map_counts[:n_columns]
        if self._map_sums is None:
            return np.zeros((0, 0), dtype=np.float32), np.zeros(0)
        shape = (-1,) + (1,) * (self._map_sums.ndim - 1)
        means = (self._map_sums[:n_columns] / counts.reshape(shape)).astype(np.float32)
        return means, np.arange(n_columns) * k + (counts - 1) / 2


class STFTEqualizerEngine:
    """Stateful block processor; see :class:`sk_reseq.equalizer.ResonanceEqualizer`.

    Parameters
    ----------
    n_channels : int
    framing : sk_reseq.spectral.Framing
        The frames (n_fft, hop), the span of the detector's average in
        frames (K) and the band layout.
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
        The detector runs on frames whose index is a multiple of this; the
        frames between take resonances interpolated linearly (in dB) between
        the analyses before and after them, so a frame waits for the next
        analysis: the output comes ``lookahead = (update_interval - 1) * hop``
        samples later.
    workers : int
        Threads of each FFT (scipy.fft).
    """

    def __init__(self, n_channels, *, framing, smoothing, smoothing_method, threshold, link,
                 factor_at, mix=1.0, output="equalized", recorder=None, dtype=np.float32,
                 update_interval=1, workers=1):
        self.n_channels = n_channels
        self.layout = layout = framing.layout
        self.n_fft = framing.n_fft
        self.hop = hop = framing.hop
        self.window = get_window("hann", self.n_fft).astype(dtype)
        self.update_interval = int(update_interval)
        self.lookahead = (self.update_interval - 1) * hop
        self.workers = int(workers)
        # Frames averaged by the detector: every frame within the span, also
        # when the detector itself runs on every update_interval-th frame only.
        self.averaging_frames = framing.averaging_frames
        self.smoothing = smoothing
        self.smoothing_method = smoothing_method
        self.threshold = threshold
        self.link = link
        self.factor_at = factor_at
        self.mix = mix
        self.output = output
        self.recorder = recorder
        self.dtype = dtype
        self._complex = np.result_type(dtype, np.complex64)
        self._power_scale = _power_scale(self.window)
        overlap = self.n_fft - hop
        self._inbuf = np.zeros((n_channels, overlap), dtype=dtype)
        self._ola = np.zeros((n_channels, overlap // hop, hop), dtype=dtype)
        n_bands = len(layout.centers)
        power_shape = (0, n_bands) if link else (0, n_channels, n_bands)
        self._history = np.zeros(power_shape)
        empty = np.zeros(power_shape, dtype=np.float32)
        self._held = (empty, empty, empty)  # levels, smoothed, resonances of the last analysis
        self._frame = 0
        # Synthesis window with the overlap-add normalisation folded in: sample
        # k of every frame lands at position k % hop within a hop, so scaling
        # it there equals scaling the summed output (and saves a pass over it).
        per_frame = self.n_fft // hop
        self._synthesis = self.window * np.tile(self._ola_normalizer(), per_frame)

    def _ola_normalizer(self):
        """1 / summed squared window, per position within a hop (steady state)."""
        # The equalizer checks that hop divides n_fft before building an engine.
        sq = self.window.astype(np.float64) ** 2
        return (1.0 / sq.reshape(-1, self.hop).sum(axis=0)).astype(self.dtype)

    def push(self, block):
        """Process ``block`` (channels, m); return the finished output samples.

        The output runs ``n_fft - hop`` samples behind the input (in the
        coordinates of a signal preceded by that many zeros) and comes in
        whole hops.
        """
        buf = np.concatenate([self._inbuf, block.astype(self.dtype, copy=False)], axis=1)
        n_frames = (buf.shape[1] - self.n_fft) // self.hop + 1 if buf.shape[1] >= self.n_fft else 0
        # Up to the last analysis frame: the frames after it wait for the next one.
        m = self.update_interval
        n_frames = max(0, (self._frame + n_frames - 1) // m * m - self._frame + 1)
        if n_frames <= 0:
            self._inbuf = buf
            return np.zeros((self.n_channels, 0), dtype=self.dtype)
        # (channels, n_frames, n_fft), a view; as_strided directly because
        # sliding_window_view's checks cost more than the view itself here.
        channel_stride, sample_stride = buf.strides
        frames = np.lib.stride_tricks.as_strided(
            buf, (self.n_channels, n_frames, self.n_fft),
            (channel_stride, self.hop * sample_stride, sample_stride), writeable=False)
        spectrum = scipy.fft.rfft(frames * self.window, axis=-1, workers=self.workers)
        self._apply_gains(spectrum, self._gains(spectrum))
        # overwrite_x: the spectrum is ours to spend; saves pocketfft a copy of it.
        out_frames = scipy.fft.irfft(spectrum, n=self.n_fft, axis=-1, overwrite_x=True,
                                     workers=self.workers).astype(self.dtype, copy=False)
        out = self._overlap_add(out_frames)
        self._inbuf = buf[:, n_frames * self.hop :]
        self._frame += n_frames
        return out

    def _overlap_add(self, out_frames):
        """Window the frames, sum them at their hop offsets; return the finished samples."""
        n_channels, n_frames, n_fft = out_frames.shape
        hop = self.hop
        per_frame = n_fft // hop
        # In units of hops: frame i's k-th hop lands in hop i + k. Windowing a
        # hop at a time as it is added saves a pass over all the frames.
        parts = out_frames.reshape(n_channels, n_frames, per_frame, hop)
        synthesis = self._synthesis.reshape(per_frame, hop)
        acc = np.empty((n_channels, n_frames + per_frame - 1, hop), dtype=self.dtype)
        np.multiply(parts[:, :, 0], synthesis[0], out=acc[:, :n_frames])
        acc[:, n_frames:] = 0.0
        acc[:, : per_frame - 1] += self._ola
        for k in range(1, per_frame):
            acc[:, k : k + n_frames] += parts[:, :, k] * synthesis[k]
        self._ola = acc[:, n_frames:].copy()
        return acc[:, :n_frames].reshape(n_channels, n_frames * hop)

    def _gains(self, spectrum):
        """Linear scale factors of each frame (frames, [channels,] n_bins), complex.

        The detector runs on every ``update_interval``-th frame (absolute
        index) over the causal average of every frame's band power, and a
        batch ends on an analysis frame (see :meth:`push`); a frame between
        two analyses takes their levels and resonances interpolated linearly
        in dB, with its own factor.
        """
        n = spectrum.shape[1]
        frame_idx = np.arange(self._frame, self._frame + n)
        m = self.update_interval
        analysis = np.flatnonzero(frame_idx % m == 0)
        keep_power = self.recorder is not None and self.recorder.keep_frames
        power = self._power(spectrum)
        banded = self.layout.band_power(power)
        banded *= self._power_scale  # on 400 bands rather than every bin
        # Band mapping is linear, so averaging over frames after it gives the
        # same numbers as before it, on 400 values per frame instead of n_bins.
        averaged = self._causal_average(banded)
        # float32 from here on: ample for dB values and faster to smooth.
        levels = self.layout.band_power_to_levels(averaged[analysis]).astype(np.float32)
        smoothed, res, _ = self.layout.analyze(
            levels, self.smoothing, 0.0, self.smoothing_method, self.threshold
        )
        # The last analysis of the previous batch, then this batch's.
        held = (np.concatenate([self._held[0], levels]),
                np.concatenate([self._held[1], smoothed]),
                np.concatenate([self._held[2], res]))
        self._held = tuple(h[-1:] for h in held)  # the batch ends on an analysis frame
        # Each frame's analysis at or before it, the one after it, and the weight
        # of the one after (0 on an analysis frame).
        rows = len(held[0]) - len(analysis) - 1 + np.searchsorted(analysis, np.arange(n),
                                                                  side="right")
        after = np.minimum(rows + 1, len(held[0]) - 1)
        shape = (-1,) + (1,) * (res.ndim - 1)
        weight = ((frame_idx % m) / m).astype(np.float32).reshape(shape)

        def per_frame(h):
            return h[rows] if m == 1 else (1 - weight) * h[rows] + weight * h[after]

        factors = np.asarray(self.factor_at(frame_idx), dtype=np.float32).reshape(shape)
        frame_res = per_frame(held[2])
        gains_db = -factors * frame_res
        scale = self.layout.scale_factors(gains_db)
        if self.recorder is not None:
            # Only kept frames need the power itself (in its public scale).
            kept_power = power * self._power_scale if keep_power else None
            self.recorder.add(kept_power, per_frame(held[0]), per_frame(held[1]), frame_res,
                              gains_db)
        # Dry/wet in the spectral domain: mix * wet + (1 - mix) * dry.
        if self.mix != 1.0:
            scale = 1.0 - self.mix * (1.0 - scale)
        if self.output == "delta":
            scale = 1.0 - scale
        # Complex, because numpy multiplies complex by complex faster than by float.
        return scale.astype(self._complex)

    def _apply_gains(self, spectrum, scale):
        """Multiply each frame of ``spectrum`` (channels, frames, bins) by its scale."""
        spectrum *= scale[None] if self.link else np.moveaxis(scale, 0, 1)

    def _power(self, spectrum):
        """Squared magnitudes (n_frames, [channels,] n_bins), summed over linked channels.

        Without the power scale (``_power_scale``), which is applied to the bands.
        """
        if not self.link:
            power = np.square(spectrum.real)  # (channels, frames, bins)
            power += np.square(spectrum.imag)
            return np.moveaxis(power, 0, 1)
        # Linked: channel by channel into one (frames, bins) array, 1.8x faster
        # than squaring every channel and summing them afterwards.
        power = np.square(spectrum[0].real)
        power += np.square(spectrum[0].imag)
        for channel in spectrum[1:]:
            power += np.square(channel.real)
            power += np.square(channel.imag)
        return power

    def _causal_average(self, banded):
        """Mean band power over the current and up to K - 1 previous analysis frames.

        The history holds the last K - 1 analysis frames (fewer at the start of
        a stream, where the mean runs over the frames there are).
        """
        k = self.averaging_frames
        stacked = np.concatenate([self._history, banded], axis=0)
        n_hist = len(self._history)
        self._history = stacked[-(k - 1):] if k > 1 else stacked[:0]
        # bottleneck's running mean: O(1) per frame and about ten times faster
        # than a cumulative sum along the frame axis at these sizes.
        # (bottleneck wants a window no longer than the array: at the start of
        # a stream, the mean over all the frames there are is the same thing.)
        return bn.move_mean(stacked, min(k, len(stacked)), axis=0, min_count=1)[n_hist:]


class BlockStream:
    """An engine fed block by block that answers each block with as many samples.

    The engine returns whole hops, up to its lookahead late; this keeps the
    ``hop - 1 + lookahead`` samples of delay that make every answer exactly
    as long as its block, so the output is the offline output delayed by the
    equalizer's latency. Both
    equalizers stream through it.

    Parameters
    ----------
    engine : STFTEqualizerEngine
    recorder : _Recorder
        The engine's recorder (the stream's mean analysis).
    """

    def __init__(self, engine, recorder):
        self.engine = engine
        self.recorder = recorder
        self.n_channels = engine.n_channels
        self.n_samples = 0
        # The engine's output lags by up to its lookahead more at times: start
        # with that much delay too, so that every answer is as long as its block.
        self._pending = np.zeros((engine.n_channels, engine.hop - 1 + engine.lookahead),
                                 dtype=np.float32)

    def push(self, block):
        """Equalize float32 ``block`` (channels, m); returns (channels, m) samples."""
        produced = self.engine.push(block)
        self.n_samples += block.shape[1]
        pending = np.concatenate([self._pending, produced], axis=1)
        self._pending = pending[:, block.shape[1] :]
        return pending[:, : block.shape[1]]
