"""Preprocessing: windows from tracks, and the paper's spectral features."""

from ._sampler import WindowSampler

__all__ = ["WindowSampler"]
