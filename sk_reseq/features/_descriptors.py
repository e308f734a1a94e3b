"""The 97 frame-wise descriptors of the paper's Table 2 and their Essentia part.

The first 94 descriptors come from Essentia, configured like Essentia's own
``LowLevelSpectralExtractor`` (whose output names match Table 2), with these
documented departures:

* **30 Bark bands.** Essentia's ``BarkBands`` stops at 28 bands (its fixed
  edges end at 27 kHz). We use ``FrequencyBands`` (what ``BarkBands`` runs
  internally: summed power spectrum in rectangular bands) with 31 edges spaced
  equally on Traunmüller's (1990) Bark scale, ``z = 26.81 f / (1960 + f) - 0.53``,
  from 0 Hz to the Nyquist frequency. Spectral crest and flatness (dB) are
  computed on these bands, as the extractor does with its Bark bands.
* **No equal-loudness filter.** Essentia's ``EqualLoudness`` accepts only some
  sample rates; none of the descriptors below needs it (the extractor that
  computes them does not use it either).
* **Band limits capped at the Nyquist frequency** (MFCC, GFCC, spectral
  contrast, the high energy band, YinFFT's maximum pitch), so any
  ``sr >= 16000`` works.

Per frame (``frame_size`` samples of the mono mix): Blackman-Harris 62 dB
window, magnitude spectrum, then

- MFCC, GFCC (13 each): ``MFCC``, ``GFCC`` (40 bands, log dB).
- pitch, pitch instantaneous confidence: ``PitchYinFFT``.
- pitch salience: ``PitchSalience``.
- inharmonicity, odd-to-even harmonic energy ratio, tristimulus (3):
  ``SpectralPeaks`` -> ``HarmonicPeaks`` with the frame's pitch ->
  ``Inharmonicity``, ``OddToEvenHarmonicEnergyRatio`` (clipped by Essentia at
  1000; note that Essentia counts the fundamental as "even", so the value is
  E(harmonics 2, 4, ...) / E(harmonics 1, 3, ...)), ``Tristimulus``. Without a
  pitch there are no harmonic peaks: inharmonicity is then 0, odd-to-even 1 and
  tristimulus (0, 0, 0) (Essentia's values for an empty peak list).
- spectral complexity (``SpectralComplexity``, threshold 0.005), crest
  (``Crest`` of the Bark bands), decrease (``Decrease`` of the power
  spectrum), energy, flux (``Flux``, L2), rms, rolloff (``RollOff``, 85 %),
  strong peak, HFC (``HFC``, Masri), flatness dB (``FlatnessDB`` of the Bark
  bands: ``-10 log10(geometric / arithmetic mean) / 60`` clipped to [0, 1],
  so 0 for a flat spectrum and towards 1 for a peaky one).
- zero-crossing rate: ``ZeroCrossingRate`` of the raw frame.
- silence rate at 20/30/60 dB: ``SilenceRate`` of the raw frame, 1 when the
  frame's mean power is below ``10 ** (-L / 20)`` (the extractor's
  ``db2lin(-L / 2)`` convention), else 0.
- spectral energy band (4): ``EnergyBand`` over 20-150, 150-800, 800-4000 and
  4000-min(20000, sr/2) Hz (low, middle_low, middle_high, high).
- spectral contrast and valley (6 each): ``SpectralContrast`` (6 bands, 20 Hz
  to min(11000, sr/2)).

Spectral flux compares a frame with the previous one, so a window's first
frame has no flux of its own: :class:`EssentiaFrameAnalyzer` resets ``Flux``
per window (frame 0 is then compared with silence, Essentia's convention) and
``FeatureSummarizer`` summarizes flux over frames 1..n only.

PitchYinFFT's pitch is undefined when its confidence is 0 (Essentia's
documentation; it returns e.g. about 11 kHz on a constant signal): such frames
get pitch 0 Hz, and so no harmonic peaks.

The remaining three descriptors (stereo width, 2 values, and the
harmonics-to-noise ratio) are our own, in :mod:`._stereo` and :mod:`._hnr`.
"""

import numpy as np

from ._essentia import import_essentia

__all__ = [
    "DESCRIPTOR_NAMES",
    "N_ESSENTIA_DESCRIPTORS",
    "ENERGY_BANDS",
    "SILENCE_THRESHOLDS_DB",
    "bark_band_edges",
    "EssentiaFrameAnalyzer",
]

N_MFCC = 13
N_BARK_BANDS = 30
N_CONTRAST_BANDS = 6
SILENCE_THRESHOLDS_DB = (20, 30, 60)
# (name, low Hz, high Hz); None = the Nyquist frequency (Essentia's extractor: 20 kHz).
ENERGY_BANDS = (
    ("low", 20.0, 150.0),
    ("middle_low", 150.0, 800.0),
    ("middle_high", 800.0, 4000.0),
    ("high", 4000.0, 20000.0),
)


def _indexed(prefix, n):
    return [f"{prefix}_{i:02d}" for i in range(n)]


DESCRIPTOR_NAMES = tuple(
    _indexed("mfcc", N_MFCC)
    + _indexed("gfcc", N_MFCC)
    + [
        "inharmonicity",
        "pitch",
        "pitch_salience",
        "spectral_complexity",
        "spectral_crest",
        "spectral_decrease",
        "spectral_energy",
        "spectral_flux",
        "spectral_rms",
        "spectral_rolloff",
        "spectral_strongpeak",
        "zerocrossingrate",
        "spectral_flatness_db",
        "hfc",
    ]
    + _indexed("barkbands", N_BARK_BANDS)
    + ["pitch_instantaneous_confidence"]
    + [f"silence_rate_{db}db" for db in SILENCE_THRESHOLDS_DB]
    + ["odd_to_even_harmonic_energy_ratio"]
    + [f"spectral_energyband_{name}" for name, _, _ in ENERGY_BANDS]
    + _indexed("tristimulus", 3)
    + _indexed("spectral_contrast", N_CONTRAST_BANDS)
    + _indexed("spectral_valley", N_CONTRAST_BANDS)
    + ["stereo_width_corr", "stereo_width_rms_diff", "hnr"]
)
N_ESSENTIA_DESCRIPTORS = len(DESCRIPTOR_NAMES) - 3
FLUX_INDEX = DESCRIPTOR_NAMES.index("spectral_flux")


def bark_band_edges(sr, n_bands=N_BARK_BANDS):
    """Edges (Hz) of ``n_bands`` bands equally wide on the Bark scale, 0 Hz to ``sr / 2``.

    Uses Traunmüller's (1990) formula ``z = 26.81 f / (1960 + f) - 0.53``
    and its inverse.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_bands : int, default=30
        Number of bands; ``n_bands + 1`` edges are returned.

    Returns
    -------
    edges : np.ndarray [shape=(n_bands + 1,)]
        Ascending band edges; the first is 0 Hz and the last ``sr / 2``.

    Examples
    --------
    >>> from sk_reseq.features._descriptors import bark_band_edges
    >>> edges = bark_band_edges(22050)
    >>> len(edges), float(edges[0]), float(edges[-1])
    (31, 0.0, 11025.0)
    """
    def hz_to_bark(f):
        return 26.81 * f / (1960.0 + f) - 0.53

    z = np.linspace(hz_to_bark(0.0), hz_to_bark(sr / 2.0), n_bands + 1)
    edges = 1960.0 * (z + 0.53) / (26.28 - z)
    edges[0], edges[-1] = 0.0, sr / 2.0  # exact ends despite rounding
    return edges


def _direct(algorithm):
    """The algorithm's C++ entry point, without essentia.standard's per-call conversion.

    ``Algorithm.__call__`` (essentia.standard) checks and converts every
    argument in Python before it calls the binding's ``__compute__``; that
    costs about as much as the cheaper descriptors themselves. The analyzer
    passes exactly the types Essentia wants (C-contiguous float32 arrays,
    Python floats), and ``__compute__`` still rejects anything else with an
    error, so it is called directly; the public call is the fallback.
    """
    return getattr(algorithm, "__compute__", algorithm)


class EssentiaFrameAnalyzer:
    """Essentia's part of Table 2 (94 descriptors) for frames of one window.

    The Essentia algorithms are built once, here; calling the analyzer runs
    them frame by frame. Instances hold C++ objects: do not pickle them, build
    one per process.

    Parameters
    ----------
    sr : float
        Sample rate of the frames in Hz (at least 16000).
    frame_size : int
        Frame length in samples (even).

    Attributes
    ----------
    algorithms : dict of str to essentia.standard algorithm
        The configured algorithms, by role (``"mfcc"``, ``"energy_band_low"``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_reseq.features._descriptors import EssentiaFrameAnalyzer
    >>> analyzer = EssentiaFrameAnalyzer(sr=22050, frame_size=1024)
    >>> t = np.arange(1024) / 22050
    >>> frames = np.tile(np.sin(2 * np.pi * 440 * t), (3, 1)).astype(np.float32)
    >>> values = analyzer(frames)
    >>> values.shape
    (3, 94)
    >>> round(float(values[1, DESCRIPTOR_NAMES.index("pitch")]))
    440
    """

    def __init__(self, sr, frame_size):
        es = import_essentia()
        nyquist = sr / 2.0
        n_bins = frame_size // 2 + 1
        self.sr, self.frame_size = sr, frame_size
        self.algorithms = {
            "window": es.Windowing(type="blackmanharris62", size=frame_size),
            "spectrum": es.Spectrum(size=frame_size),
            "mfcc": es.MFCC(
                inputSize=n_bins, sampleRate=sr, numberCoefficients=N_MFCC,
                highFrequencyBound=min(11000.0, nyquist),
            ),
            "gfcc": es.GFCC(
                inputSize=n_bins, sampleRate=sr, numberCoefficients=N_MFCC,
                highFrequencyBound=min(22050.0, nyquist),
            ),
            "pitch": es.PitchYinFFT(
                frameSize=frame_size, sampleRate=sr, maxFrequency=min(22050.0, nyquist)
            ),
            "salience": es.PitchSalience(sampleRate=sr),
            "peaks": es.SpectralPeaks(
                orderBy="frequency", minFrequency=sr / frame_size, sampleRate=sr
            ),
            "harmonic_peaks": es.HarmonicPeaks(),
            "inharmonicity": es.Inharmonicity(),
            "odd_to_even": es.OddToEvenHarmonicEnergyRatio(),
            "tristimulus": es.Tristimulus(),
            "complexity": es.SpectralComplexity(magnitudeThreshold=0.005, sampleRate=sr),
            "crest": es.Crest(),
            "decrease": es.Decrease(range=nyquist),
            "energy": es.Energy(),
            "flux": es.Flux(),
            "rms": es.RMS(),
            "rolloff": es.RollOff(sampleRate=sr),
            "strong_peak": es.StrongPeak(),
            "zcr": es.ZeroCrossingRate(),
            "flatness": es.FlatnessDB(),
            "hfc": es.HFC(sampleRate=sr),
            "bark": es.FrequencyBands(frequencyBands=bark_band_edges(sr).tolist(), sampleRate=sr),
            "silence": es.SilenceRate(
                thresholds=[10.0 ** (-db / 20.0) for db in SILENCE_THRESHOLDS_DB]
            ),
            **{
                f"energy_band_{name}": es.EnergyBand(
                    startCutoffFrequency=low, stopCutoffFrequency=min(high, nyquist),
                    sampleRate=sr,
                )
                for name, low, high in ENERGY_BANDS
            },
            "contrast": es.SpectralContrast(
                frameSize=frame_size, sampleRate=sr, numberBands=N_CONTRAST_BANDS,
                highFrequencyBound=min(11000.0, nyquist),
            ),
        }
        self._compute = {role: _direct(a) for role, a in self.algorithms.items()}

    def __call__(self, frames):
        """Descriptors of consecutive frames of one window.

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, frame_size)], float32, C-contiguous
            The window's mono frames, in time order.

        Returns
        -------
        values : np.ndarray [shape=(n_frames, 94)], float64
            Column ``j`` is ``DESCRIPTOR_NAMES[j]``. Frame 0's spectral flux
            compares it with silence.
        """
        frames = np.ascontiguousarray(frames, dtype=np.float32)
        out = np.empty((len(frames), N_ESSENTIA_DESCRIPTORS))
        self.algorithms["flux"].reset()  # flux compares frames within this window only
        c = self._compute
        # Local names: this loop is the hot path (one Essentia call per descriptor).
        window, spectrum_of, bark, mfcc, gfcc = (
            c["window"], c["spectrum"], c["bark"], c["mfcc"], c["gfcc"]
        )
        pitch_of, peaks, harmonic_peaks = c["pitch"], c["peaks"], c["harmonic_peaks"]
        energy_bands = [c[f"energy_band_{name}"] for name, _, _ in ENERGY_BANDS]
        for t in range(len(frames)):
            frame, row = frames[t], out[t]
            spectrum = spectrum_of(window(frame))
            bands = bark(spectrum)
            row[0:13] = mfcc(spectrum)[1]
            row[13:26] = gfcc(spectrum)[1]
            pitch, confidence = pitch_of(spectrum)
            if confidence <= 0.0:
                pitch = 0.0  # undefined: no harmonic analysis
            freqs, mags = harmonic_peaks(*peaks(spectrum), float(pitch))
            row[26] = c["inharmonicity"](freqs, mags) if len(freqs) else 0.0
            row[27] = pitch
            row[28] = c["salience"](spectrum)
            row[29] = c["complexity"](spectrum)
            row[30] = c["crest"](bands)
            row[31] = c["decrease"](spectrum * spectrum)
            row[32] = c["energy"](spectrum)
            row[33] = c["flux"](spectrum)
            row[34] = c["rms"](spectrum)
            row[35] = c["rolloff"](spectrum)
            row[36] = c["strong_peak"](spectrum)
            row[37] = c["zcr"](frame)
            row[38] = c["flatness"](bands)
            row[39] = c["hfc"](spectrum)
            row[40:70] = bands
            row[70] = confidence
            row[71:74] = c["silence"](frame)
            row[74] = c["odd_to_even"](freqs, mags)
            row[75:79] = [band(spectrum) for band in energy_bands]
            row[79:82] = c["tristimulus"](freqs, mags)
            contrast, valley = c["contrast"](spectrum)
            row[82:88] = contrast
            row[88:94] = valley
        return out
