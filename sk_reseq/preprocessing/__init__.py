"""Preprocessing: windows from tracks, and the paper's spectral features."""

from ._profile import ResonanceProfile
from ._sampler import WindowSampler
from ._spectrum import ELCSpectrum, ResonanceDetector, frame_band_power

__all__ = [
    "WindowSampler",
    "ELCSpectrum",
    "ResonanceDetector",
    "ResonanceProfile",
    "frame_band_power",
]
