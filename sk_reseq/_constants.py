"""Constants shared by the models, the training and the experiment (one place for each).

``MODEL_SR``
    Sample rate of the models' windows (Hz): the paper's 22 050 Hz, for the
    DRN's PCM, the features and the default model.
``WINDOW_SECONDS``
    The paper's window: the factor is predicted from the preceding 0.5 s.
``REAL_MUSIC``
    The real music the default model and the real-music experiment learn
    from, relative to the project root (see ``../shared/corpus/README.md``
    and ``../shared/music/README.md`` for the sources and licences).
"""

MODEL_SR = 22050
WINDOW_SECONDS = 0.5
REAL_MUSIC = ("../shared/corpus", "../shared/music")
