"""Figures of the equalizer: Hz ticks, level range, labels, difference curve, gain map.

And the gain over time they draw from: recorded in bounded memory, without
touching the audio.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402

from conftest import pink_noise  # noqa: E402
from sk_reseq.cli import main  # noqa: E402
from sk_reseq.datasets import add_resonances  # noqa: E402
from sk_reseq.equalizer import AutoEqualizer, ResonanceEqualizer  # noqa: E402
from sk_reseq.equalizer._engine import _Recorder  # noqa: E402
from sk_reseq.models import MeanRatingRegressor  # noqa: E402
from sk_reseq.persistence import save_model  # noqa: E402
from sk_reseq.plotting import (  # noqa: E402
    plot_auto_report,
    plot_equalizer_curves,
    plot_equalizer_report,
    plot_gain_map,
    plot_level_change,
)

SR = 22050
HZ_LABELS = ["20", "50", "100", "200", "500", "1k", "2k", "5k", "10k"]  # up to sr / 2


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def lowpass(x, cutoff, sr=SR):
    """A brick-wall low-pass, like a codec's: nothing at all above ``cutoff``."""
    spectrum = np.fft.rfft(x, axis=-1)
    spectrum[..., np.fft.rfftfreq(x.shape[-1], 1 / sr) > cutoff] = 0
    return np.fft.irfft(spectrum, n=x.shape[-1], axis=-1).astype(np.float32)


@pytest.fixture(scope="module")
def resonant():
    """Pink noise, +12 dB at 1 kHz: the analysis of its run at factor 1, and of the output."""
    x = add_resonances(0.1 * pink_noise(2 * SR, 2, seed=1), [(1000.0, 8.0, 12.0)], SR)
    eq = ResonanceEqualizer(factor=1.0, sr=SR)
    y, analysis = eq.equalize(x.astype(np.float32), return_analysis="mean")
    _, after = eq.equalize(y, factor=0.0, return_analysis="mean")
    return analysis, after


def labels(axis):
    """The major tick labels, drawn or not (the top panel hides them under the shared axis)."""
    return axis.get_major_formatter().format_ticks(axis.get_majorticklocs())


def test_frequency_axes_read_in_hz(resonant):
    analysis, after = resonant
    fig = plot_equalizer_report(analysis, after)
    ax_levels, ax_change, ax_map, _ = fig.axes
    fig.canvas.draw()
    for axis in (ax_levels.xaxis, ax_change.xaxis, ax_map.yaxis):
        assert axis.get_scale() == "log"
        assert labels(axis) == HZ_LABELS  # no 10^2-style labels
        assert not any(t.get_text() for t in axis.get_ticklabels(minor=True))
    # The axis spans the bands, whose centres start just above 20 Hz.
    assert ax_levels.get_xlim() == pytest.approx(tuple(analysis.layout.edges[[0, -1]]))


def test_level_axis_is_set_by_the_music_not_by_a_low_pass():
    x = lowpass(0.1 * pink_noise(2 * SR, 2, seed=2), 4000.0)
    _, analysis = ResonanceEqualizer(sr=SR).equalize(x, return_analysis="mean")
    levels, centers = analysis.mean_levels, analysis.band_centers
    music, cut = levels[centers < 3500], levels[centers > 5000]
    assert cut.max() < music.min() - 60  # the cut-off is there: nearly -150 dB
    ax = plot_equalizer_curves(analysis)
    low, high = ax.get_ylim()
    assert high >= levels.max()
    assert music.min() - 10 <= low <= np.percentile(music, 1)  # all the music, little more
    # matplotlib's own limits would have reached the stop band.
    assert ax.dataLim.y0 < low - 50


def test_labels_are_plain_and_the_weighting_is_in_the_legend(resonant):
    analysis, after = resonant
    ax = plot_equalizer_curves(analysis, after=after, title="mix.wav")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "Frequency (Hz)", "Level (dB)", "mix.wav")
    legend = ax.get_legend()
    assert legend.get_title().get_text() == (
        "Mean band level, ELC-weighted at 80 phon (ISO 226)")
    assert [t.get_text() for t in legend.get_texts()] == [
        "input", "smoothed (the detector's reference)", "output"]
    # The weighting comes from the analysis, not a constant.
    x = 0.1 * pink_noise(SR, 1, seed=0).astype(np.float32)
    _, quieter = ResonanceEqualizer(sr=SR, phon=60).equalize(x, return_analysis="mean")
    assert "at 60 phon" in plot_equalizer_curves(quieter).get_legend().get_title().get_text()


def test_difference_curve_is_output_minus_input(resonant):
    analysis, after = resonant
    ax = plot_level_change(analysis, after)
    lines = {line.get_label(): line for line in ax.get_lines()}
    diff = lines["output − input"].get_ydata()
    expected = after.mean_levels - analysis.mean_levels
    np.testing.assert_allclose(diff, expected, atol=1e-4)
    np.testing.assert_allclose(lines["applied gain (mean over frames)"].get_ydata(),
                               analysis.mean_gain_db, atol=1e-6)
    # The resonance was cut: the curve dips at 1 kHz, and little happens elsewhere.
    near = np.abs(np.log2(analysis.band_centers / 1000.0)) < 0.1
    assert diff[near].min() < -4.0
    assert np.median(diff[~near]) > -1.0
    assert ax.get_ylim()[0] < diff.min() and ax.get_ylabel() == "Change (dB)"


def test_difference_is_blank_where_the_input_holds_no_music():
    x = lowpass(0.1 * pink_noise(SR, 1, seed=4), 4000.0)
    eq = ResonanceEqualizer(factor=1.0, sr=SR)
    y, analysis = eq.equalize(x, return_analysis="mean")
    _, after = eq.equalize(y, factor=0.0, return_analysis="mean")
    ax = plot_level_change(analysis, after)
    diff = next(line for line in ax.get_lines() if line.get_label() == "output − input")
    cut = analysis.band_centers > 5000
    assert np.all(np.isnan(diff.get_ydata()[cut]))
    assert np.all(np.isfinite(diff.get_ydata()[analysis.band_centers < 3500]))


def test_gain_map_draws_the_recorded_gains(resonant):
    analysis, _ = resonant
    ax = plot_gain_map(analysis)
    mesh = ax.collections[0]
    np.testing.assert_allclose(mesh.get_array().reshape(400, -1), analysis.gain_map_db.T,
                               atol=1e-6)
    low, high = mesh.get_clim()
    cuts = analysis.gain_map_db[analysis.gain_map_db < 0]
    assert high == 0.0 and low <= min(-1.0, np.percentile(cuts, 1)) < low + 1
    assert mesh.colorbar.extend == ("min" if cuts.min() < low else "neither")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Time (s)", "Frequency (Hz)")
    assert mesh.colorbar.ax.get_ylabel() == "Gain (dB)"
    # The deepest cuts of the map lie at the resonance.
    deepest = analysis.band_centers[analysis.gain_map_db.mean(axis=0).argmin()]
    assert abs(np.log2(deepest / 1000.0)) < 0.1


def test_gain_map_colours_are_not_set_by_a_few_deep_cells(resonant):
    analysis = Bunch(**resonant[0])
    gains = np.full_like(analysis.gain_map_db, -3.0)
    gains[0, :3] = -60.0  # 3 cells of thousands
    analysis.gain_map_db = gains
    mesh = plot_gain_map(analysis).collections[0]
    assert mesh.get_clim() == (-3.0, 0.0) and mesh.colorbar.extend == "min"


def test_gain_map_averages_unlinked_channels_and_refuses_a_bunch_without_one():
    x = 0.1 * pink_noise(SR, 2, seed=5).astype(np.float32)
    _, analysis = ResonanceEqualizer(sr=SR, link_channels=False).equalize(
        x, return_analysis="mean")
    assert analysis.gain_map_db.shape[1:] == (2, 400)
    mesh = plot_gain_map(analysis).collections[0]
    np.testing.assert_allclose(mesh.get_array().reshape(400, -1),
                               analysis.gain_map_db.mean(axis=1).T, atol=1e-6)
    with pytest.raises(ValueError, match="no 'gain_map_db'"):
        plot_gain_map({"band_centers": analysis.band_centers})


def test_gain_map_equals_the_frames_and_leaves_the_output_alone():
    x = 0.1 * pink_noise(SR, 2, seed=6).astype(np.float32)
    eq = ResonanceEqualizer(factor=0.7, sr=SR)
    plain = eq.equalize(x)
    y_mean, mean = eq.equalize(x, return_analysis="mean")
    y_all, full = eq.equalize(x, return_analysis=True)
    np.testing.assert_array_equal(y_mean, plain)  # the same computation
    np.testing.assert_allclose(y_all, plain, atol=1e-6)
    # Fewer frames than columns: one frame per column.
    np.testing.assert_allclose(mean.gain_map_db, full.gain_db, atol=1e-5)
    np.testing.assert_allclose(mean.gain_map_times, full.times, atol=1e-9)


def test_recorder_keeps_at_most_max_columns_of_averaged_frames():
    rng = np.random.default_rng(0)
    gains = rng.normal(size=(100, 3))
    recorder = _Recorder(keep_frames=False, max_columns=8)
    for chunk in np.array_split(gains, [1, 2, 30, 31, 64, 99]):  # uneven, some of one frame
        recorder.add(None, chunk, chunk, chunk, chunk)
    means, mean_frame = recorder.gain_map()
    k = recorder.frames_per_column
    assert k == 16 and means.shape == (7, 3)  # 100 frames in runs of 16: 7 columns <= 8
    for c in range(7):
        run = slice(c * k, min((c + 1) * k, 100))
        np.testing.assert_allclose(means[c], gains[run].mean(axis=0), atol=1e-6)
        assert mean_frame[c] == pytest.approx(np.arange(100)[run].mean())
    np.testing.assert_allclose(recorder.sums["gain_db"] / recorder.count, gains.mean(axis=0))


@pytest.fixture(scope="module")
def half_model():
    windows = np.zeros((2, 2, 11025), dtype=np.float32)
    return MeanRatingRegressor().fit(windows, [0.8, 0.8])


def test_auto_equalizer_returns_the_gains_it_applied(half_model):
    x = add_resonances(0.1 * pink_noise(3 * SR, 2, seed=7), [(1000.0, 8.0, 12.0)], SR)
    x = x.astype(np.float32)
    auto = AutoEqualizer(half_model, sr=SR, smoothing=0.0).fit()
    y, analysis = auto.equalize(x, return_analysis="mean")
    np.testing.assert_array_equal(y, auto.transform(x))
    times, gains = analysis.gain_map_times, analysis.gain_map_db
    # Factor 0 until the first full window (0.5 s) has been heard, then 0.8.
    assert np.all(gains[times < 0.45] == 0)
    assert gains[times > 0.6].min() < -3.0
    with pytest.raises(ValueError, match="return_analysis must be"):
        auto.equalize(x, return_analysis="frames")
    with pytest.raises(ValueError, match="single track"):
        auto.equalize(x[None], return_analysis=True)


def test_auto_report_puts_the_gain_map_under_the_factor_curve(half_model):
    x = 0.1 * pink_noise(3 * SR, 2, seed=8).astype(np.float32)
    auto = AutoEqualizer(half_model, sr=SR).fit()
    y, before = auto.equalize(x, return_analysis="mean")
    _, after = auto.equalizer_.equalize(y, factor=0.0, return_analysis="mean")
    fig = plot_auto_report(auto.factors_, before, after, title="x.wav")
    ax_factor, ax_map, ax_levels, ax_change, _ = fig.axes
    fig.canvas.draw()  # the layout
    assert ax_factor.get_shared_x_axes().joined(ax_factor, ax_map)
    assert ax_factor.get_xlim() == ax_map.get_xlim()
    # Both time axes are equally wide (the colour bar has its own column).
    assert ax_factor.get_position().width == pytest.approx(ax_map.get_position().width)
    np.testing.assert_allclose(ax_map.collections[0].get_array().reshape(400, -1),
                               before.gain_map_db.T, atol=1e-6)
    assert [line.get_label() for line in ax_factor.get_lines()] == [
        "predicted (raw)", "applied (smoothed)"]
    assert "output" in [t.get_text() for t in ax_levels.get_legend().get_texts()]
    assert ax_change.get_ylabel() == "Change (dB)"
    assert fig.get_suptitle() == "x.wav"


def test_bands_must_match(resonant):
    analysis, _ = resonant
    x = 0.1 * pink_noise(SR, 1, seed=0).astype(np.float32)
    _, other = ResonanceEqualizer(sr=SR, n_bands=100).equalize(x, return_analysis="mean")
    with pytest.raises(ValueError, match="after has 100 bands but analysis has 400"):
        plot_equalizer_curves(analysis, after=other)


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "in.wav"
    x = add_resonances(0.1 * pink_noise(2 * SR, 2, seed=9), [(1000.0, 8.0, 12.0)], SR)
    sf.write(path, x.T, SR, subtype="PCM_16")
    return path


def capture_figures(monkeypatch, module):
    figures = []
    monkeypatch.setattr(module, "save_figure", lambda fig, path: figures.append(fig))
    return figures


def test_cli_eq_plot_draws_the_report(wav, tmp_path, monkeypatch):
    from sk_reseq.cli import eq as eq_cli

    figures = capture_figures(monkeypatch, eq_cli)
    assert main(["eq", str(wav), str(tmp_path / "out.wav"), "--factor", "1",
                 "--plot", str(tmp_path / "eq.png"), "-q"]) == 0
    (fig,) = figures
    ax_levels, ax_change, ax_map, _ = fig.axes
    assert "output" in [t.get_text() for t in ax_levels.get_legend().get_texts()]
    assert "output − input" in [line.get_label() for line in ax_change.get_lines()]
    assert ax_map.collections[0].get_array().min() < -3.0  # the resonance's cut
    assert fig.get_suptitle() == "in.wav: factor 1"


def test_cli_auto_report_draws_the_applied_gains(wav, tmp_path, monkeypatch):
    from sk_reseq.cli import auto as auto_cli

    model = tmp_path / "model.skops"
    save_model(MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.8, 0.8]), model)
    figures = capture_figures(monkeypatch, auto_cli)
    assert main(["auto", str(wav), str(tmp_path / "out.wav"), "--model", str(model),
                 "--report", str(tmp_path / "report.png"), "-q"]) == 0
    (fig,) = figures
    ax_factor, ax_map = fig.axes[:2]
    assert ax_factor.get_ylabel() == "Factor"
    assert ax_map.collections[0].get_array().min() < -3.0  # gains of the run, not of factor 0
