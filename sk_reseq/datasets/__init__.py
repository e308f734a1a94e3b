"""Data sets: synthetic music, a simulated listening test, ratings files, audio folders."""

from ._folders import list_audio_files, load_audio_folder
from ._load import load_panel
from ._oracle import FACTOR_STEPS
from ._panel import make_listening_test
from ._ratings import align_ratings, load_ratings, save_ratings
from ._resonances import add_resonances
from ._synthetic import make_synthetic_music

__all__ = [
    "make_synthetic_music",
    "make_listening_test",
    "add_resonances",
    "FACTOR_STEPS",
    "load_ratings",
    "save_ratings",
    "align_ratings",
    "load_audio_folder",
    "list_audio_files",
    "load_panel",
]
