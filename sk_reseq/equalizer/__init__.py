"""Equalizers: the resonance equalizer of the paper and its auto-adaptive form."""

from ._auto import AutoEqualizer
from ._files import equalize_file, equalize_files
from ._resonance import ResonanceEqualizer

__all__ = ["ResonanceEqualizer", "AutoEqualizer", "equalize_file", "equalize_files"]
