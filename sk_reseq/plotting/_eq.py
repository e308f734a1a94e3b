"""Figures of the equalizer's analysis: spectra, level change and gain over time.

Frequency axes are logarithmic and labelled with the round numbers engineers
read (20, 50, 100, 200, 500, 1k, ... 20k Hz). Level axes span the music: the
bands more than 60 dB below the loudest one (a codec's low-pass, silence)
do not stretch them. Axis labels are plain; the weighting of the levels
(ELC, ISO 226) is named in the legend.
"""

import numpy as np

from .._optional import import_optional

__all__ = [
    "plot_equalizer_curves",
    "plot_level_change",
    "plot_gain_map",
    "plot_equalizer_report",
    "plot_auto_report",
]

# Labelled frequencies (Hz); the ones outside the bands are not drawn.
_HZ_TICKS = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
# Bands this far below the loudest carry no music worth an axis: a codec's
# low-pass leaves -150 dB above its cut-off, which would squash the music.
_MUSIC_RANGE_DB = 60.0


def _per_band(values):
    """Levels per band, averaged over the channels of an unlinked analysis."""
    values = np.asarray(values, dtype=np.float64)
    return values.mean(axis=-2) if values.ndim >= 2 else values


def _check_same_bands(analysis, after):
    if after is not None and len(after.band_centers) != len(analysis.band_centers):
        raise ValueError(
            f"after has {len(after.band_centers)} bands but analysis has "
            f"{len(analysis.band_centers)}; analyse input and output with the same equalizer "
            "settings."
        )


def _frequency_axis(ax, which, edges):
    """Log frequency axis over the bands, ticks at 20, 50, 100, ..., 1k, ..., 20k Hz."""
    from matplotlib.ticker import EngFormatter, FixedLocator, LogLocator, NullFormatter

    getattr(ax, f"set_{which}scale")("log")  # first: a scale resets the tickers
    getattr(ax, f"set_{which}lim")(edges[0], edges[-1])
    axis = getattr(ax, f"{which}axis")
    low, high = edges[0] * (1 - 1e-9), edges[-1] * (1 + 1e-9)
    axis.set_major_locator(FixedLocator([t for t in _HZ_TICKS if low <= t <= high]))
    axis.set_major_formatter(EngFormatter(sep=""))  # 100, 1k, 10k
    axis.set_minor_locator(LogLocator(subs="auto"))
    axis.set_minor_formatter(NullFormatter())
    axis.set_label_text("Frequency (Hz)")


def _level_limits(*curves):
    """A level range (dB) set by the music, in steps of 5 dB.

    From the 1st percentile of the bands within 60 dB of the loudest (those
    that carry music) to the loudest band, with a 3 dB margin.
    """
    levels = np.concatenate([np.ravel(c) for c in curves])
    levels = levels[np.isfinite(levels)]
    top = levels.max()
    low = np.percentile(levels[levels >= top - _MUSIC_RANGE_DB], 1)
    return 5.0 * np.floor((low - 3.0) / 5.0), 5.0 * np.ceil((top + 3.0) / 5.0)


def plot_equalizer_curves(analysis, ax=None, *, after=None, title=None):
    """Mean band levels of the input, the detector's smoothed curve and the output.

    Parameters
    ----------
    analysis : Bunch
        From :meth:`sk_reseq.equalizer.ResonanceEqualizer.equalize` with
        ``return_analysis`` (uses ``band_centers``, ``layout``, ``phon``,
        ``mean_levels`` and ``mean_smoothed``; channels of an unlinked
        analysis are averaged).
    ax : matplotlib Axes, optional
        A new figure when None.
    after : Bunch, optional
        An analysis of the output (e.g. ``equalize(y, factor=0.0,
        return_analysis="mean")``): its mean levels are drawn too.
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> from sk_reseq.plotting import plot_equalizer_curves
    >>> x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
    >>> _, analysis = ResonanceEqualizer(sr=22050).equalize(x, return_analysis="mean")
    >>> ax = plot_equalizer_curves(analysis)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Frequency (Hz)', 'Level (dB)')
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['20', '50', '100', '200', '500', '1k', '2k', '5k', '10k']
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    _check_same_bands(analysis, after)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    centers = analysis.band_centers
    levels = [_per_band(analysis.mean_levels)]
    ax.plot(centers, levels[0], color="0.35", lw=1, label="input")
    ax.plot(centers, _per_band(analysis.mean_smoothed), color="tab:blue", lw=2,
            label="smoothed (the detector's reference)")
    if after is not None:
        levels.append(_per_band(after.mean_levels))
        ax.plot(centers, levels[1], color="tab:orange", lw=1, label="output")
    _frequency_axis(ax, "x", analysis.layout.edges)
    ax.set_ylim(*_level_limits(*levels))
    ax.set_ylabel("Level (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small", title_fontsize="small",
              title=f"Mean band level, ELC-weighted at {analysis.phon:g} phon (ISO 226)")
    if title:
        ax.set_title(title)
    return ax


def plot_level_change(analysis, after=None, ax=None):
    """What changed per band: the mean applied gain and the output minus the input.

    Parameters
    ----------
    analysis : Bunch
        Analysis of the run (uses ``mean_gain_db``, the gain applied, and
        ``mean_levels``, the input's levels); see :func:`plot_equalizer_curves`.
    after : Bunch, optional
        Analysis of the output: draws ``output - input`` of the mean levels,
        where the input carries music (within 60 dB of its loudest band).
    ax : matplotlib Axes, optional
        A new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> from sk_reseq.plotting import plot_level_change
    >>> x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
    >>> eq = ResonanceEqualizer(factor=1.0, sr=22050)
    >>> y, analysis = eq.equalize(x, return_analysis="mean")
    >>> _, after = eq.equalize(y, factor=0.0, return_analysis="mean")
    >>> ax = plot_level_change(analysis, after)
    >>> [line.get_label() for line in ax.get_lines()[1:]]
    ['applied gain (mean over frames)', 'output − input']
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    _check_same_bands(analysis, after)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.5), layout="constrained")
    centers = analysis.band_centers
    curves = [_per_band(analysis.mean_gain_db)]
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.plot(centers, curves[0], color="tab:red", lw=1.5, label="applied gain (mean over frames)")
    if after is not None:
        before = _per_band(analysis.mean_levels)
        change = _per_band(after.mean_levels) - before
        # Where the input holds no music the difference is noise on silence.
        change[before < before.max() - _MUSIC_RANGE_DB] = np.nan
        ax.plot(centers, change, color="k", lw=1, label="output − input")
        curves.append(change)
    values = np.concatenate(curves)
    low = min(-1.0, float(np.nanmin(values)))
    high = max(0.5, float(np.nanmax(values)))
    pad = 0.1 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    _frequency_axis(ax, "x", analysis.layout.edges)
    ax.set_ylabel("Change (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_gain_map(analysis, ax=None, *, cax=None):
    """The gain over time: frequency x time, in dB, with a colour bar.

    Parameters
    ----------
    analysis : Bunch
        Analysis of the run (uses ``gain_map_db``, ``gain_map_times``,
        ``band_centers`` and ``layout``; channels of an unlinked analysis
        are averaged). Long tracks are drawn from at most 2048 columns, each
        the mean of consecutive frames (see
        :meth:`~sk_reseq.equalizer.ResonanceEqualizer.equalize`).
    ax : matplotlib Axes, optional
        A new figure when None.
    cax : matplotlib Axes, optional
        Axes for the colour bar; else it takes space from ``ax``.

    Returns
    -------
    ax : matplotlib Axes
        The map is ``ax.collections[0]`` (a QuadMesh). Its colours run from
        the 1st percentile of the cuts (at least -1 dB; deeper cuts take
        its colour, and the colour bar's end points) to 0 dB.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> from sk_reseq.plotting import plot_gain_map
    >>> x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
    >>> _, analysis = ResonanceEqualizer(sr=22050).equalize(x, return_analysis="mean")
    >>> ax = plot_gain_map(analysis)
    >>> ax.collections[0].get_array().shape == (400, len(analysis.gain_map_times))
    True
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    if "gain_map_db" not in analysis:
        raise ValueError(
            "analysis has no 'gain_map_db'; pass the analysis returned by equalize(..., "
            "return_analysis=True or 'mean')."
        )
    gains = np.asarray(analysis.gain_map_db, dtype=np.float64)
    if gains.ndim == 3:
        gains = gains.mean(axis=1)
    if gains.size == 0:
        raise ValueError("analysis has no frames: there is no gain over time to draw.")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
    # The colours span the cuts but for their deepest 1 %: a few deep cells
    # would leave the typical cuts (a few dB) in one colour.
    cuts = gains[gains < 0]
    vmin = -max(1.0, float(np.ceil(-np.percentile(cuts, 1)))) if cuts.size else -1.0
    mesh = ax.pcolormesh(analysis.gain_map_times, analysis.band_centers, gains.T,
                         shading="nearest", cmap="magma", vmin=vmin, vmax=0.0, rasterized=True)
    _frequency_axis(ax, "y", analysis.layout.edges)
    ax.set_xlabel("Time (s)")
    ax.figure.colorbar(mesh, ax=None if cax is not None else ax, cax=cax, label="Gain (dB)",
                       extend="min" if gains.min() < vmin else "neither")
    return ax


def _report_figure(height_ratios, height):
    """A figure of stacked rows, with a narrow column on the right for a colour bar.

    The column keeps the axes of every row equally wide, so rows that share
    the time axis line up.
    """
    plt = import_optional("matplotlib.pyplot", "sk_reseq.plotting")

    fig = plt.figure(figsize=(9, height), layout="constrained")
    grid = fig.add_gridspec(len(height_ratios), 2, height_ratios=height_ratios,
                            width_ratios=(50, 1))
    return fig, grid


def plot_equalizer_report(analysis, after=None, *, title=None):
    """The equalizer's run on a track: spectra, what changed, the gain over time.

    Three rows: :func:`plot_equalizer_curves`, :func:`plot_level_change`
    and :func:`plot_gain_map` (what ``sk-reseq eq --plot`` draws).

    Parameters
    ----------
    analysis : Bunch
        Analysis of the run (``equalize(x, return_analysis="mean")``).
    after : Bunch, optional
        Analysis of the output, for its spectrum and ``output - input``.
    title : str, optional

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> from sk_reseq.plotting import plot_equalizer_report
    >>> x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
    >>> eq = ResonanceEqualizer(sr=22050)
    >>> y, analysis = eq.equalize(x, return_analysis="mean")
    >>> _, after = eq.equalize(y, factor=0.0, return_analysis="mean")
    >>> [ax.get_ylabel() for ax in plot_equalizer_report(analysis, after).axes]
    ['Level (dB)', 'Change (dB)', 'Frequency (Hz)', 'Gain (dB)']
    """
    fig, grid = _report_figure((3, 1.6, 2.6), 10)
    ax_levels = fig.add_subplot(grid[0, 0])
    ax_change = fig.add_subplot(grid[1, 0], sharex=ax_levels)
    ax_map = fig.add_subplot(grid[2, 0])
    plot_equalizer_curves(analysis, ax=ax_levels, after=after)
    plot_level_change(analysis, after, ax=ax_change)
    ax_levels.set_xlabel("")
    ax_levels.tick_params(labelbottom=False)
    plot_gain_map(analysis, ax=ax_map, cax=fig.add_subplot(grid[2, 1]))
    if title:
        fig.suptitle(title)
    return fig


def plot_auto_report(curve, before, after, *, title=None):
    """Report of an auto-adaptive run: the factor and the gain over time, the spectra.

    Four rows: the factor curve; below it, on the same time axis, the gain
    over time (:func:`plot_gain_map`); the mean spectra of the input and the
    output (:func:`plot_equalizer_curves`); what changed
    (:func:`plot_level_change`).

    Parameters
    ----------
    curve : Bunch
        :attr:`sk_reseq.equalizer.AutoEqualizer.factors_` (``times``, ``raw``,
        ``factors``).
    before : Bunch
        Analysis of the run, which holds the input's levels and the gains
        applied: ``AutoEqualizer.equalize(x, return_analysis="mean")[1]``
        (an analysis at ``factor=0.0`` has no gains to show).
    after : Bunch
        Analysis of the output (e.g. ``auto.equalizer_.equalize(y,
        factor=0.0, return_analysis="mean")[1]``).
    title : str, optional

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_reseq.equalizer import AutoEqualizer
    >>> from sk_reseq.models import MeanRatingRegressor
    >>> from sk_reseq.plotting import plot_auto_report
    >>> model = MeanRatingRegressor().fit(np.zeros((2, 2, 11025)), [0.5, 0.5])
    >>> auto = AutoEqualizer(model, sr=22050).fit()
    >>> x = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32)
    >>> y, before = auto.equalize(x, return_analysis="mean")
    >>> _, after = auto.equalizer_.equalize(y, factor=0.0, return_analysis="mean")
    >>> fig = plot_auto_report(auto.factors_, before, after)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['Factor', 'Frequency (Hz)', 'Level (dB)', 'Change (dB)', 'Gain (dB)']
    """
    fig, grid = _report_figure((1.4, 2.6, 3, 1.6), 12)
    ax_factor = fig.add_subplot(grid[0, 0])
    ax_map = fig.add_subplot(grid[1, 0], sharex=ax_factor)
    ax_levels = fig.add_subplot(grid[2, 0])
    ax_change = fig.add_subplot(grid[3, 0], sharex=ax_levels)
    ax_factor.plot(curve.times, curve.raw, color="0.6", lw=1, label="predicted (raw)")
    ax_factor.step(curve.times, curve.factors, where="post", color="tab:red", lw=2,
                   label="applied (smoothed)")
    ax_factor.set_ylim(-0.02, 1.02)
    ax_factor.set_ylabel("Factor")
    ax_factor.grid(True, alpha=0.3)
    ax_factor.legend(loc="upper right", fontsize="small",
                     title="Attenuation factor (0 = unchanged)", title_fontsize="small")
    ax_factor.tick_params(labelbottom=False)
    plot_gain_map(before, ax=ax_map, cax=fig.add_subplot(grid[1, 1]))
    end = max(float(np.max(curve.times, initial=0.0)), float(before.gain_map_times[-1]))
    ax_factor.set_xlim(0.0, end)
    plot_equalizer_curves(before, ax=ax_levels, after=after)
    plot_level_change(before, after, ax=ax_change)
    ax_levels.set_xlabel("")
    ax_levels.tick_params(labelbottom=False)
    if title:
        fig.suptitle(title)
    return fig
