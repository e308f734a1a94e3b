"""The paper's listening test (section 3.3) as a web app.

Three steps, also available as ``sk-reseq listen prepare|serve|export``
(and ``listen token``):

1. :func:`prepare_panel` loudness-aligns a folder of tracks and renders each
   in the 17 equalized variants (factor 0, 1/16, ..., 1), loudness-matched
   to each other by default (ITU-R BS.1770);
2. :func:`create_app` serves the test (Starlette; run it with uvicorn): a
   rater switches between the variants with a slider while playback goes
   on, picks one or declines, track after track in a per-rater random
   order, with a pink-noise reference between tracks and a break every 50
   tracks. The page shows no factor values (a neutral less - more scale)
   and starts the slider at a random step per track (:func:`start_step`),
   so neither a number nor a starting point anchors the choice; ratings
   go to SQLite (:class:`RatingStore`), with the starting step. Each rater holds a
   secret token, given at registration (``sk-reseq listen token`` issues a
   new one as a resume link); only the served host names are answered;
3. :func:`export_ratings` writes them as the long-format ratings CSV
   (``track,rater,rating``) that ``sk_reseq.datasets.load_ratings`` reads.

Needs the ``listen`` extra (``pip install sk_reseq[listen]``).
"""

from ._app import DEFAULT_HOST, DEFAULT_PORT, create_app, load_manifest
from ._db import RatingStore, check_rater_id, rater_seed, start_step
from ._export import export_ratings, ratings_frame
from ._prepare import panel_factors, pink_noise_reference, prepare_panel

__all__ = [
    "prepare_panel",
    "panel_factors",
    "pink_noise_reference",
    "create_app",
    "load_manifest",
    "RatingStore",
    "check_rater_id",
    "rater_seed",
    "start_step",
    "export_ratings",
    "ratings_frame",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
]
