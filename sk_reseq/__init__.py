"""sk_reseq: auto-adaptive resonance equalization as scikit-learn estimators.

The toolkit rebuilds the system of Grachten, Deruty and Tanguy (2018),
"Auto-adaptive resonance equalization using dilated residual networks":
a dynamic equalizer that attenuates spectral resonances by one factor in
[0, 1], and models that predict the preferred factor from the audio.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
