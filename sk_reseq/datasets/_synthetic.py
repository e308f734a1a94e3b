"""Built-in synthetic music: short stereo excerpts for tests, demos and the panel.

No audio ships with the toolkit and nothing is downloaded, so the simulated
listening test needs music it can make itself. Each excerpt is a small
arrangement on a tempo grid: a chord progression on one harmonic instrument,
often a melody on another, a bass line, usually drums (kick, snare, hi-hats),
a noise floor, a synthetic reverb for stereo depth, and a random overall
tone (tilt, low-pass). Instruments are band-limited wavetable oscillators
(one table per note, built from its harmonic amplitudes with an inverse
FFT, so nothing aliases); drums are placed by convolving an onset train
with one synthesized hit. Everything is vectorized numpy/scipy and
deterministic from ``random_state``.
"""

from numbers import Integral, Real

import numpy as np
from scipy import signal
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Interval, validate_params

__all__ = ["make_synthetic_music"]

_TABLE_SIZE = 2048
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR = np.array([0, 2, 3, 5, 7, 8, 10])
# Scale degrees (0 = tonic) of common four-chord progressions.
_PROGRESSIONS = np.array(
    [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 4, 4], [5, 3, 0, 4], [0, 0, 3, 4], [1, 4, 0, 0],
     [0, 3, 0, 4], [0, 6, 5, 4]]
)


def _midi_hz(note):
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=float) - 69.0) / 12.0)


# -- instruments ---------------------------------------------------------------
# A timbre maps a harmonic number k (1..K) to an amplitude; its envelope is
# (attack s, decay time constant s or None for sustained, release s).

def _timbre(name, rng):
    k = np.arange(1, 65, dtype=float)
    if name == "saw":
        amps = 1.0 / k ** rng.uniform(0.9, 1.4)
        env = (rng.uniform(0.05, 0.4), None, rng.uniform(0.1, 0.4))
    elif name == "square":
        amps = np.where(k % 2 == 1, 1.0 / k, rng.uniform(0.0, 0.08) / k)
        env = (rng.uniform(0.01, 0.05), None, rng.uniform(0.05, 0.2))
    elif name == "organ":
        amps = np.zeros_like(k)
        for h in (1, 2, 3, 4, 6, 8):
            amps[h - 1] = rng.uniform(0.1, 1.0) / h**0.5
        env = (0.01, None, 0.05)
    elif name == "pluck":
        position = rng.uniform(0.1, 0.3)  # plucking position along the string
        amps = np.abs(np.sin(np.pi * k * position)) / k ** rng.uniform(1.0, 1.6)
        env = (0.003, rng.uniform(0.25, 0.9), 0.05)
    elif name == "epiano":
        amps = np.exp(-(k - 1) * rng.uniform(0.6, 1.2))
        amps[13] += rng.uniform(0.05, 0.2)  # the tine's bell-like partial
        env = (0.005, rng.uniform(0.6, 1.5), 0.1)
    elif name == "bass":
        amps = 1.0 / k ** rng.uniform(1.6, 3.0)
        env = (0.005, rng.uniform(0.3, 1.2), 0.05)
    else:  # pragma: no cover - internal names only
        raise ValueError(name)
    return {"amps": amps, "env": env, "bright": rng.uniform(0.3, 1.0)}


def _table(amps, f0, sr, brightness=1.0):
    """One band-limited cycle: harmonics above Nyquist (and the table's reach) dropped."""
    k = np.arange(1, len(amps) + 1)
    keep = (k * f0 < 0.45 * sr) & (k < _TABLE_SIZE // 2)
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=complex)
    # Brightness tilts the upper harmonics down; fixed phases keep it deterministic.
    spectrum[k[keep]] = amps[keep] * k[keep] ** (-(1 - brightness) * 1.5) * -1j
    table = np.fft.irfft(spectrum, _TABLE_SIZE)
    peak = np.abs(table).max()
    return table / peak if peak > 0 else table


def _oscillate(tables, f0, n, sr, phase, vibrato=0.0, rate=5.0):
    """Read each wavetable of ``tables`` at ``f0`` Hz for ``n`` samples (shared phase)."""
    t = np.arange(n, dtype=np.float64) / sr
    cycles = phase + f0 * t
    if vibrato:
        cycles = cycles + f0 * vibrato * (1 - np.cos(2 * np.pi * rate * t)) / (2 * np.pi * rate)
    pos = ((cycles % 1.0) * _TABLE_SIZE).astype(np.float32)
    i0 = pos.astype(np.int32)
    frac = pos - i0
    i0 &= _TABLE_SIZE - 1  # float32 rounding can give exactly _TABLE_SIZE
    i1 = (i0 + 1) & (_TABLE_SIZE - 1)
    out = []
    for table in tables:
        table = table.astype(np.float32)
        a = table[i0]
        out.append(a + (table[i1] - a) * frac)
    return out


def _envelope(n, sr, length, env):
    attack, decay, release = env
    t = np.arange(n) / sr
    out = np.minimum(t / max(attack, 1e-4), 1.0)
    if decay is not None:
        out = out * np.exp(-np.maximum(t - attack, 0) / decay)
    out = out * np.clip((length + release - t) / release, 0.0, 1.0)
    return out


def _render_notes(notes, timbre, sr, n_total, rng, vibrato=0.0):
    """Sum of notes ``(start s, length s, midi, velocity)`` as one mono signal."""
    out = np.zeros(n_total)
    release = timbre["env"][2]
    for start, length, midi, velocity in notes:
        i0 = int(start * sr)
        n = min(int((length + release) * sr), n_total - i0)
        if n <= 0:
            continue
        f0 = float(_midi_hz(midi))
        dull = _table(timbre["amps"], f0, sr, timbre["bright"] * 0.4)
        bright = _table(timbre["amps"], f0, sr, timbre["bright"])
        env = _envelope(n, sr, length, timbre["env"]).astype(np.float32)
        phase = rng.uniform()
        if timbre["env"][1] is not None:  # struck and plucked notes darken as they decay
            tone, dark = _oscillate([bright, dull], f0, n, sr, phase, vibrato)
            tone = tone * env + dark * (1 - env)
        else:
            (tone,) = _oscillate([bright], f0, n, sr, phase, vibrato)
        out[i0 : i0 + n] += velocity * env * tone
    return out


# -- drums ---------------------------------------------------------------------

def _drum_hits(sr, rng):
    n = int(0.6 * sr)
    t = np.arange(n) / sr
    f_start, f_end = rng.uniform(100, 180), rng.uniform(40, 60)
    freq = f_end + (f_start - f_end) * np.exp(-t / rng.uniform(0.02, 0.06))
    kick = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / rng.uniform(0.12, 0.3))
    kick[: int(0.002 * sr)] += rng.uniform(0.2, 0.6)  # beater click
    noise = rng.standard_normal(n)
    low, high = rng.uniform(800, 1500), rng.uniform(4000, 7000)
    band = signal.sosfilt(signal.butter(2, [low, min(high, 0.45 * sr)], "bandpass", fs=sr,
                                        output="sos"), noise)
    snare = band * np.exp(-t / rng.uniform(0.06, 0.16)) + 0.6 * np.sin(
        2 * np.pi * rng.uniform(170, 230) * t
    ) * np.exp(-t / 0.05)
    hiss = signal.sosfilt(signal.butter(4, min(rng.uniform(5000, 8000), 0.4 * sr), "highpass",
                                        fs=sr, output="sos"), noise)
    hat = hiss * np.exp(-t / rng.uniform(0.02, 0.06))
    return [x / np.abs(x).max() for x in (kick, snare, hat)]


def _drum_track(n_total, sr, step, n_bars, rng):
    """Kick, snare and hi-hat on a 16-step grid, each placed by convolution."""
    kick, snare, hat = _drum_hits(sr, rng)
    steps = np.arange(16)
    kick_bar = np.isin(steps, [0, 8]) | (rng.uniform(size=16) < 0.12) * (steps % 2 == 0)
    snare_bar = np.isin(steps, [4, 12]) | (rng.uniform(size=16) < 0.05)
    hat_every = rng.choice([1, 2, 4], p=[0.35, 0.5, 0.15])
    hat_bar = steps % hat_every == 0
    out = np.zeros(n_total)
    for hit, bar, level, jitter in ((kick, kick_bar, 1.0, 0.05), (snare, snare_bar, 0.7, 0.15),
                                    (hat, hat_bar, 0.35, 0.35)):
        onsets = np.zeros(n_total)
        idx = np.flatnonzero(np.tile(bar, n_bars))
        pos = (idx * step * sr).astype(np.int64)
        ok = pos < n_total
        onsets[pos[ok]] = level * (1 - jitter * rng.uniform(size=ok.sum()))
        out += signal.oaconvolve(onsets, hit)[:n_total]
    return out


# -- arrangement ---------------------------------------------------------------

def _pan(x, position):
    """Constant-power pan of mono ``x`` to stereo; position in [-1, 1]."""
    angle = (position + 1) * np.pi / 4
    return np.stack([np.cos(angle) * x, np.sin(angle) * x])


def _reverb(stereo, sr, rng):
    """Convolution with decaying, decorrelated noise: depth and stereo width."""
    rt = rng.uniform(0.3, 1.6)
    n = int(rt * sr)
    t = np.arange(n) / sr
    decay = np.exp(-6.9 * t / rt)  # -60 dB at rt
    tone = signal.butter(1, rng.uniform(2000, 8000), fs=sr, output="sos")
    ir = signal.sosfilt(tone, rng.standard_normal((2, n)) * decay, axis=-1)
    ir /= np.sqrt(np.sum(ir**2, axis=-1, keepdims=True))
    wet = signal.oaconvolve(stereo, ir, axes=-1)[:, : stereo.shape[1]]
    return stereo + rng.uniform(0.1, 0.35) * wet


def _pink(n, rng):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return x / x.std()


def _texture(n_total, sr, step, rng):
    """A broadband layer (pads, shakers, room tone): band-passed pink noise.

    Pulsing on the 16th-note grid or sustained. Without it the mixes are far
    sparser than real ones: their spectrum is little more than harmonics, so
    the equalizer's detector is dominated by the music's own peaks and an
    injected resonance is hard to see (see ``make_listening_test``).
    """
    x = _pink(n_total, rng)
    lo = rng.uniform(100, 600)
    hi = min(rng.uniform(3000, 10000), 0.45 * sr)
    x = signal.sosfilt(signal.butter(1, [lo, hi], "bandpass", fs=sr, output="sos"), x)
    if rng.uniform() < 0.5:
        t = np.arange(n_total) / sr
        phase = (t / step) % 1.0
        x = x * (0.3 + np.exp(-phase * step / rng.uniform(0.03, 0.08)))
    return x


def _make_track(n_total, sr, rng):
    bpm = rng.uniform(70, 160)
    beat = 60.0 / bpm
    step = beat / 4
    n_bars = int(np.ceil(n_total / sr / (4 * beat))) + 1
    scale = _MAJOR if rng.uniform() < 0.6 else _MINOR
    root = 36 + rng.integers(0, 12)  # tonic of the bass octave
    progression = _PROGRESSIONS[rng.integers(len(_PROGRESSIONS))]
    bars_per_chord = rng.choice([1, 2])

    def degree_note(degree, octave):
        return root + 12 * (octave + degree // 7) + scale[degree % 7]

    parts = []
    # Chords: triads (sometimes sevenths) held or re-struck on every beat.
    chord_timbre = _timbre(rng.choice(["saw", "organ", "epiano", "pluck", "square"]), rng)
    sevenths = rng.uniform() < 0.4
    strum = chord_timbre["env"][1] is not None
    notes, bass_notes = [], []
    bass_timbre = _timbre("bass", rng)
    bass_rhythm = rng.choice([1, 2, 4])  # bass notes per beat... per half bar
    for bar in range(n_bars):
        degree = progression[(bar // bars_per_chord) % len(progression)]
        chord = [degree, degree + 2, degree + 4] + ([degree + 6] if sevenths else [])
        start = bar * 4 * beat
        hits = [(start + b * beat, beat) for b in range(4)] if strum else [(start, 4 * beat)]
        for t0, length in hits:
            for d in chord:
                notes.append((t0, length, degree_note(d, 1), 0.25))
        for b in range(bass_rhythm):
            t0 = start + b * 4 * beat / bass_rhythm
            octave_jump = 12 * (rng.uniform() < 0.15)
            bass_notes.append((t0, 4 * beat / bass_rhythm, degree_note(degree, 0) + octave_jump,
                               0.8))
    parts.append((_render_notes(notes, chord_timbre, sr, n_total, rng), rng.uniform(-0.5, 0.5),
                  rng.uniform(0.5, 1.0)))
    parts.append((_render_notes(bass_notes, bass_timbre, sr, n_total, rng), 0.0,
                  rng.uniform(0.6, 1.2)))
    # Melody: a random walk on the scale with mixed note lengths and rests.
    if rng.uniform() < 0.8:
        melody_timbre = _timbre(rng.choice(["saw", "pluck", "square", "epiano"]), rng)
        t, degree, melody = 0.0, rng.integers(0, 7), []
        total = n_total / sr
        while t < total:
            length = step * rng.choice([1, 2, 2, 4, 4, 8])
            if rng.uniform() > 0.15:
                melody.append((t, length * 0.9, degree_note(degree, 2), 0.5))
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, 13))
            t += length
        vibrato = 0.006 if rng.uniform() < 0.5 else 0.0
        parts.append((_render_notes(melody, melody_timbre, sr, n_total, rng, vibrato),
                      rng.uniform(-0.6, 0.6), rng.uniform(0.4, 0.9)))
    if rng.uniform() < 0.85:
        parts.append((_drum_track(n_total, sr, step, n_bars, rng), rng.uniform(-0.2, 0.2),
                      rng.uniform(0.5, 1.2)))
    parts.append((_texture(n_total, sr, step, rng), rng.uniform(-0.3, 0.3),
                  rng.uniform(0.5, 1.5)))
    stereo = np.zeros((2, n_total))
    for mono, position, level in parts:
        mono = mono / (np.sqrt(np.mean(mono**2)) + 1e-12)
        stereo += level * _pan(mono, position)
    stereo = _reverb(stereo, sr, rng)
    stereo += 10 ** (rng.uniform(-50, -30) / 20) * np.stack([_pink(n_total, rng) for _ in "lr"])
    # Overall tone: a random tilt (low shelf via low-pass blend) and high-pass.
    low_pass = signal.butter(1, rng.uniform(1500, min(9000, 0.45 * sr)), fs=sr, output="sos")
    dark = rng.uniform(0.0, 0.6)
    stereo = (1 - dark) * stereo + dark * signal.sosfilt(low_pass, stereo, axis=-1)
    stereo = signal.sosfilt(signal.butter(2, 30, "highpass", fs=sr, output="sos"), stereo, axis=-1)
    stereo *= 10 ** (-20 / 20) / (np.sqrt(np.mean(stereo**2)) + 1e-12)  # -20 dBFS RMS
    peak = np.abs(stereo).max()
    if peak > 0.98:
        stereo *= 0.98 / peak
    return stereo.astype(np.float32)


@validate_params(
    {
        "n_tracks": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "sr": [Interval(Integral, 4000, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_synthetic_music(n_tracks=10, duration=10.0, sr=22050, *, random_state=None):
    """Generate varied, musically plausible stereo excerpts.

    Each excerpt has its own tempo (70-160 BPM), key and mode, a
    four-chord progression on one harmonic instrument (saw pad, organ,
    electric piano, plucked string or square wave; held or re-struck), a
    bass line, usually (80 %) a melody on a second instrument, usually
    (85 %) drums (kick, snare, hi-hats with varied patterns), a broadband
    layer (band-passed pink noise, pulsing or sustained, like pads, shakers
    or room tone), a faint noise floor, a synthetic reverb and a random
    overall tone. Excerpts
    are normalized to -20 dBFS RMS with peaks below 0.98.

    Parameters
    ----------
    n_tracks : int, default=10
        Number of excerpts.
    duration : float, default=10.0
        Length of each excerpt in seconds.
    sr : int, default=22050
        Sample rate in Hz (at least 4000).
    random_state : int, RandomState instance or None, default=None
        The same seed gives the same excerpts. Excerpt ``i`` depends only
        on the seed and ``i``, not on ``n_tracks`` or ``duration``'s
        effect on other excerpts.

    Returns
    -------
    tracks : list of np.ndarray of float32 [shape=(2, round(duration * sr))]

    See Also
    --------
    make_listening_test : a simulated listening test on these excerpts.

    Examples
    --------
    >>> from sk_reseq.datasets import make_synthetic_music
    >>> tracks = make_synthetic_music(n_tracks=2, duration=1.0, random_state=0)
    >>> len(tracks), tracks[0].shape, tracks[0].dtype
    (2, (2, 22050), dtype('float32'))
    """
    n_total = int(round(duration * sr))
    if n_total < 1:
        raise ValueError(f"duration={duration!r} s at sr={sr} gives no samples.")
    return [
        _make_track(n_total, sr, np.random.default_rng(seed))
        for seed in _track_seeds(n_tracks, random_state)
    ]


def _track_seeds(n_tracks, random_state):
    """One seed per excerpt; excerpt ``i`` depends only on ``random_state`` and ``i``."""
    return check_random_state(random_state).randint(0, 2**31 - 1, size=n_tracks)
