"""
==========================================================
The auto-adaptive equalizer on a track that changes
==========================================================

:class:`~sk_reseq.equalizer.AutoEqualizer` predicts the attenuation factor
from the audio as the track plays: every 0.5 s a model reads the preceding
window of audio (5 s for the default model) and predicts the factor; the
predictions are smoothed and drive a
:class:`~sk_reseq.equalizer.ResonanceEqualizer`.

Here a generated track stays clean for its first half; in its second half
three peaking filters add resonances. We run the auto-adaptive equalizer
with the model shipped with sk_reseq and look at the factor curve it
applied. The shipped model learnt from a panel simulated on real music
(:func:`~sk_reseq.datasets.make_listening_test` with real tracks as
``source``) the factor that restores the clean music; on real tracks it
never saw, its factor follows the added resonances but also gives clean
music about 0.2 (see the auto-equalizer guide).
"""

# %%
# A track whose second half has resonances
# ----------------------------------------
# :func:`~sk_reseq.datasets.make_synthetic_music` generates the music;
# :func:`~sk_reseq.datasets.add_resonances` (the peaking filters of the
# simulated listening panel) adds three resonances to the second half only.
import matplotlib.pyplot as plt
import numpy as np

from sk_reseq.datasets import add_resonances, make_synthetic_music
from sk_reseq.equalizer import AutoEqualizer
from sk_reseq.plotting import plot_auto_report

sr = 22050  # the models' rate: no resampling needed
clean = make_synthetic_music(n_tracks=1, duration=20.0, sr=sr, random_state=7)[0]
half = clean.shape[1] // 2
# (centre Hz, Q, gain dB) of each resonance
second = add_resonances(clean[:, half:], [(400.0, 6.0, 12.0), (1500.0, 8.0, 12.0),
                                          (3500.0, 10.0, 10.0)], sr)
track = np.concatenate([clean[:, :half], second], axis=1)
track = (0.9 * track / np.abs(track).max()).astype(np.float32)
print(f"{track.shape[0]} channels, {track.shape[1] / sr:.0f} s at {sr} Hz; "
      f"resonances from {half / sr:.0f} s on")

# %%
# Equalize with the predicted factor
# ----------------------------------
# ``model=None`` loads the default model
# (:func:`~sk_reseq.persistence.load_default_model`); any fitted regressor on
# stereo windows at 22 050 Hz can take its place (its ``window_`` sets the
# window length, else 0.5 s). ``smoothing`` is the time constant of the
# moving average over the predictions, in seconds. Until the first full
# window has been heard nothing is predicted (``raw`` is NaN there).
# ``return_analysis="mean"`` also returns the equalizer's analysis of the run:
# the input's band levels and the gains it applied, over time.
auto = AutoEqualizer(sr=sr, smoothing=3.0).fit()  # hop=None: the model decides (1 s)
equalized, run = auto.equalize(track, return_analysis="mean")

curve = auto.factors_
first = curve.times <= half / sr
resonant = curve.times >= half / sr + auto.window_  # the window wholly in the second half
print(f"{len(curve.times)} predictions, one every {auto.hop_:g} s from {auto.window_:g} s of audio")
print(f"mean predicted factor, clean half:      {np.nanmean(curve.raw[first]):.2f}")
print(f"mean predicted factor, resonant half:   {np.nanmean(curve.raw[resonant]):.2f}")
print(f"applied (smoothed) factor: {curve.factors.min():.2f} to {curve.factors.max():.2f}")

# %%
# The factor curve and the spectra
# --------------------------------
# :func:`~sk_reseq.plotting.plot_auto_report` draws the raw predictions and
# the applied, smoothed factor over time (top) and, on the same time axis,
# the gain applied per band; then the mean ELC-weighted spectrum of the
# input and the output, and what changed (output minus input). ``factor=0.0``
# turns the track's own equalizer into a pure analysis of the output. The
# dashed lines mark where the resonances start; the factor at time ``t`` is
# predicted from the audio before ``t`` only, so the curve can only react
# after the change.
_, after = auto.equalizer_.equalize(equalized, factor=0.0, return_analysis="mean")
fig = plot_auto_report(curve, run, after, title="AutoEqualizer, default model")
for ax in fig.axes[:2]:
    ax.axvline(half / sr, color="k", ls="--", lw=1)
plt.show()

# %%
# Streaming
# ---------
# :meth:`~sk_reseq.equalizer.AutoEqualizer.process_block` takes the audio in
# blocks of any size and predicts each factor as soon as its window has
# arrived; the output is the offline output delayed by ``latency_`` samples.
blocks = np.array_split(track, 37, axis=1)  # uneven blocks, about 0.5 s each
streamed = np.concatenate([auto.process_block(block) for block in blocks]
                          + [auto.flush()], axis=1)
delay = auto.latency_
print(f"latency {delay} samples ({1000 * delay / sr:.0f} ms); streamed == offline: "
      f"{np.allclose(streamed[:, delay:], equalized, atol=1e-5)}")
