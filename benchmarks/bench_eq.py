"""Equalizer speed and memory, each as a ratio against a reference from the same run.

Prints one JSON line:
- rtf_equalizer: seconds of audio processed per second by ResonanceEqualizer
  (2 minutes of 44.1 kHz stereo: real music from ../shared/music when present).
- rtf_floor: the same for a bare rfft/irfft overlap-add with the same framing
  (Hann analysis and synthesis, n_fft 4096, hop 1024): the floor.
- rtf_librosa: a librosa stft/istft round trip with the same framing.
- speed_vs_floor (goal >= 0.7) and speed_vs_librosa (goal >= 2), one thread.
- speed_vs_floor_2_threads: the same with two FFT threads on both sides
  (``workers=2``), and speedup_2_threads: the equalizer at two FFT threads
  over one.
- speed_vs_floor_mean_smoothing: the same ratio with smoothing_method="mean",
  which shows what the default running median across bands costs.
- peak_extra_memory_ratio: peak extra memory while equalizing a 10-minute
  file, divided by that audio's size (goal <= 2), from tracemalloc.
"""

import json
import time
import tracemalloc

import numpy as np
import scipy.fft

from _music import stereo_music
from sk_reseq.equalizer import ResonanceEqualizer

SR = 44100
N_FFT, HOP = 4096, 1024


def bare_ola(x, workers=1):
    """rfft -> irfft overlap-add with the equalizer's framing and chunking."""
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    pad = np.pad(x, [(0, 0), (N_FFT - HOP, N_FFT)])
    out = np.zeros_like(pad)
    chunk = 64
    n_frames = (pad.shape[1] - N_FFT) // HOP + 1
    for start in range(0, n_frames, chunk):
        stop = min(start + chunk, n_frames)
        seg = pad[:, start * HOP : (stop - 1) * HOP + N_FFT]
        frames = np.lib.stride_tricks.sliding_window_view(seg, N_FFT, axis=1)[:, ::HOP]
        spec = scipy.fft.rfft(frames * window, axis=-1, workers=workers)
        back = scipy.fft.irfft(spec, n=N_FFT, axis=-1, workers=workers).astype(np.float32) * window
        for k in range(N_FFT // HOP):
            part = back[:, :, k * HOP : (k + 1) * HOP].reshape(x.shape[0], -1)
            out[:, start * HOP + k * HOP : start * HOP + k * HOP + part.shape[1]] += part
    return out[:, N_FFT - HOP : N_FFT - HOP + x.shape[1]] / 1.5


def librosa_round_trip(x):
    import librosa

    spec = librosa.stft(x, n_fft=N_FFT, hop_length=HOP, window="hann")
    return librosa.istft(spec, hop_length=HOP, window="hann", length=x.shape[1])


def best_time(fn, x, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    x, source = stereo_music(120, SR)
    seconds = x.shape[1] / SR
    eq = ResonanceEqualizer(factor=0.5, sr=SR, n_fft=N_FFT, hop_length=HOP).fit()
    assert np.allclose(bare_ola(x[:, :SR]), x[:, :SR], atol=1e-4)  # the floor is a real round trip
    t_eq = best_time(eq.transform, x)
    t_floor = best_time(bare_ola, x)
    t_librosa = best_time(librosa_round_trip, x)
    eq_mean = ResonanceEqualizer(factor=0.5, sr=SR, n_fft=N_FFT, hop_length=HOP,
                                 smoothing_method="mean").fit()
    t_eq_mean = best_time(eq_mean.transform, x)
    eq2 = ResonanceEqualizer(factor=0.5, sr=SR, n_fft=N_FFT, hop_length=HOP, workers=2).fit()
    t_eq2 = best_time(eq2.transform, x)
    t_floor2 = best_time(lambda a: bare_ola(a, workers=2), x)

    long = np.tile(x, (1, 5))  # 10 minutes
    tracemalloc.start()
    eq.transform(long)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "benchmark": "bench_eq",
        "audio": f"{seconds:.0f} s stereo 44.1 kHz ({source})",
        "rtf_equalizer": round(seconds / t_eq, 1),
        "rtf_floor": round(seconds / t_floor, 1),
        "rtf_librosa": round(seconds / t_librosa, 1),
        "speed_vs_floor": round(t_floor / t_eq, 3),
        "speed_vs_librosa": round(t_librosa / t_eq, 3),
        "speed_vs_floor_mean_smoothing": round(t_floor / t_eq_mean, 3),
        "speed_vs_floor_2_threads": round(t_floor2 / t_eq2, 3),
        "speedup_2_threads": round(t_eq / t_eq2, 3),
        "peak_extra_memory_ratio": round(peak / long.nbytes, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
