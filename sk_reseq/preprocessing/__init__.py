"""Preprocessing: windows from tracks, and the paper's spectral features."""

from ._sampler import WindowSampler
from ._spectrum import ELCSpectrum, ResonanceDetector

__all__ = ["WindowSampler", "ELCSpectrum", "ResonanceDetector"]
