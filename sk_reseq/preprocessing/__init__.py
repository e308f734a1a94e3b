"""Preprocessing: windows from tracks, and the paper's spectral features."""

from ._profile import ResonanceProfile, frame_band_power
from ._sampler import WindowSampler
from ._spectrum import ELCSpectrum, ResonanceDetector

__all__ = [
    "WindowSampler",
    "ELCSpectrum",
    "ResonanceDetector",
    "ResonanceProfile",
    "frame_band_power",
]
