"""Audio descriptors for the feature-based model (FFN) of the paper.

:class:`FeatureSummarizer` turns audio windows into the 679 features of
Grachten et al. (2018), section 4.1: the 97 frame-wise descriptors of their
Table 2, each summarized by 7 statistics over the window's frames.

94 descriptors come from Essentia, which is AGPL-3.0 licensed and an optional
dependency (``pip install sk_reseq[features]``); it is imported only when
features are computed, so the rest of sk_reseq works without it.
"""

from ._descriptors import DESCRIPTOR_NAMES, bark_band_edges
from ._hnr import harmonics_to_noise_ratio
from ._stereo import stereo_width
from ._summarizer import FEATURE_NAMES, FeatureSummarizer
from ._summary import STATISTICS, summarize

__all__ = [
    "FeatureSummarizer",
    "FEATURE_NAMES",
    "DESCRIPTOR_NAMES",
    "STATISTICS",
    "summarize",
    "harmonics_to_noise_ratio",
    "stereo_width",
    "bark_band_edges",
]
