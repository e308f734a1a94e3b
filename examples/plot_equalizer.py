"""
=========================================
Attenuating an injected resonance
=========================================

A generated stereo mix gets one strong resonance (a +12 dB peaking filter
at 1.2 kHz, Q = 8), and :class:`~sk_reseq.equalizer.ResonanceEqualizer`
removes it. The figure shows the equalizer's analysis: the mean
ELC-weighted band spectrum, its running-median smoothed curve, what changed
(the gain dips at the resonance) and the gain over time.
"""

# %%
# A mix with a resonance
# ----------------------
# :func:`~sk_reseq.datasets.make_synthetic_music` generates a short stereo
# excerpt (chords, bass, melody, drums);
# :func:`~sk_reseq.datasets.add_resonances` adds the resonance with the
# peaking filter of the simulated listening panel.
import numpy as np

from sk_reseq.datasets import add_resonances, make_synthetic_music
from sk_reseq.equalizer import ResonanceEqualizer
from sk_reseq.plotting import plot_equalizer_report

sr = 44100
clean = make_synthetic_music(n_tracks=1, duration=6.0, sr=sr, random_state=3)[0]
boosted = add_resonances(clean, [(1200.0, 8.0, 12.0)], sr)  # centre Hz, Q, gain dB
scale = 0.9 / np.abs(boosted).max()
mix = boosted * scale
print(f"{mix.shape[0]} channels, {mix.shape[1] / sr:.1f} s at {sr} Hz")

# %%
# Equalize, keeping the analysis
# ------------------------------
# ``factor`` scales the detected resonances: the gain at each band is
# ``-factor * resonance`` (dB). ``return_analysis=True`` also returns the
# frame-by-frame analysis and its means over frames.
eq = ResonanceEqualizer(factor=0.75, sr=sr)
equalized, analysis = eq.equalize(mix, return_analysis=True)

band = np.argmin(np.abs(analysis.band_centers - 1200.0))
print(f"Band nearest 1.2 kHz: {analysis.band_centers[band]:.0f} Hz")
print(f"  mean resonance {analysis.mean_resonances[band]:5.1f} dB")
print(f"  mean gain      {analysis.mean_gain_db[band]:5.1f} dB")
print(f"  largest cut anywhere: {analysis.mean_gain_db.min():.1f} dB "
      f"at {analysis.band_centers[analysis.mean_gain_db.argmin()]:.0f} Hz")

# %%
# The analysis
# ------------
# :func:`~sk_reseq.plotting.plot_equalizer_report` draws, from the analysis of
# the run and one of the output (``factor=0.0`` turns the equalizer into a
# pure analysis): the mean band levels of input and output with the smoothed
# curve they are compared with; what changed per band (the mean applied gain,
# and output minus input); and the gain over time. The detector runs frame by
# frame on the preceding 0.5 s of audio, so the gain follows the music: a
# resonance is cut only while the music excites it.
_, after = ResonanceEqualizer(factor=0.0, sr=sr).equalize(equalized, return_analysis="mean")
fig = plot_equalizer_report(analysis, after, title="factor = 0.75")

# %%
# The factor is the single control
# --------------------------------
# At ``factor=0`` the output equals the input; larger factors cut deeper. We
# compare the mean band levels of each output with those of the clean mix
# (scaled like the mix): the excess at 1.2 kHz shrinks as the factor grows.
# The equalizer also trims the music's own spectral peaks (the rest of the
# spectrum moves away from the clean mix): how much of that a listener wants
# is a matter of taste, which is what the models of :mod:`sk_reseq.models`
# learn from listeners' ratings.
probe = ResonanceEqualizer(factor=0.0, sr=sr)  # factor 0: analysis only
reference = clean * scale
_, ref = probe.equalize(reference, return_analysis="mean")
near = np.abs(np.log2(ref.band_centers / 1200.0)) < 0.25  # within 1/4 octave

print("factor  excess at 1.2 kHz  mean |difference| elsewhere")
for factor in (0.0, 0.25, 0.5, 0.75, 1.0):
    out = eq.set_params(factor=factor).fit_transform(mix)
    _, res = probe.equalize(out, return_analysis="mean")
    diff = res.mean_levels - ref.mean_levels
    print(f"{factor:6.2f}  {diff[near].max():14.1f} dB  {np.abs(diff[~near]).mean():19.2f} dB")
