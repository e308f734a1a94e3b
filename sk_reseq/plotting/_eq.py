"""Figure of the equalizer's analysis: spectrum, smoothed curve and applied gain."""

import numpy as np

__all__ = ["plot_equalizer_curves"]


def plot_equalizer_curves(analysis, ax=None, *, title=None):
    """Average ELC spectrum, its smoothed curve and the applied gain.

    Parameters
    ----------
    analysis : Bunch
        From :meth:`sk_reseq.equalizer.ResonanceEqualizer.equalize` with
        ``return_analysis=True`` (uses ``band_centers``, ``mean_levels``,
        ``mean_smoothed`` and ``mean_gain_db``; per-channel analyses are
        averaged over channels).
    ax : matplotlib Axes, optional
        Axes for the spectra; the gain goes on a twin y-axis.
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
    >>> _, analysis = ResonanceEqualizer(sr=22050).equalize(x, return_analysis=True)
    >>> ax = plot_equalizer_curves(analysis)
    >>> len(ax.get_lines())
    2
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")

    def per_band(values):
        values = np.asarray(values)
        return values.mean(axis=0) if values.ndim == 2 else values

    centers = analysis.band_centers
    ax.semilogx(centers, per_band(analysis.mean_levels), color="0.35", lw=1,
                label="ELC-weighted spectrum (mean over frames)")
    ax.semilogx(centers, per_band(analysis.mean_smoothed), color="tab:blue", lw=2,
                label="smoothed curve")
    ax.set_xlabel("Frequency (Hz)")
    ax.set_ylabel("Level (dB, ELC-weighted at 80 phon)")
    ax.set_xlim(centers[0], centers[-1])
    ax.grid(True, which="both", alpha=0.3)
    gain_ax = ax.twinx()
    gain_ax.fill_between(centers, per_band(analysis.mean_gain_db), 0, color="tab:red",
                         alpha=0.35, step="mid", label="applied gain (mean)")
    gain_ax.set_ylabel("Applied gain (dB)", color="tab:red")
    low = min(-1.0, float(np.min(per_band(analysis.mean_gain_db))) * 1.2)
    gain_ax.set_ylim(low, -low * 0.15)
    gain_ax.tick_params(axis="y", colors="tab:red")
    handles = ax.get_legend_handles_labels()
    gain_handles = gain_ax.get_legend_handles_labels()
    ax.legend(handles[0] + gain_handles[0], handles[1] + gain_handles[1], loc="lower left",
              fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_auto_report(curve, before, after, *, title=None):
    """Report of an auto-adaptive run: factor over time, spectrum before and after.

    Parameters
    ----------
    curve : Bunch
        :attr:`sk_reseq.equalizer.AutoEqualizer.factors_` (``times``, ``raw``,
        ``factors``).
    before, after : Bunch
        Analyses (``return_analysis="mean"``) of the input and of the output.
    title : str, optional

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.utils import Bunch
    >>> from sk_reseq.equalizer import ResonanceEqualizer
    >>> from sk_reseq.plotting import plot_auto_report
    >>> x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
    >>> _, a = ResonanceEqualizer(sr=22050).equalize(x, return_analysis="mean")
    >>> curve = Bunch(times=np.arange(3) * 0.5, raw=np.full(3, 0.3), factors=np.full(3, 0.3))
    >>> len(plot_auto_report(curve, a, a).axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, (ax_f, ax_s) = plt.subplots(2, 1, figsize=(9, 7), layout="constrained")
    ax_f.plot(curve.times, curve.raw, color="0.6", lw=1, label="predicted (raw)")
    ax_f.step(curve.times, curve.factors, where="post", color="tab:red", lw=2,
              label="applied (smoothed)")
    ax_f.set_ylim(-0.02, 1.02)
    ax_f.set_xlabel("Time (s)")
    ax_f.set_ylabel("Attenuation factor")
    ax_f.grid(True, alpha=0.3)
    ax_f.legend(loc="upper right", fontsize="small")

    def per_band(values):
        values = np.asarray(values)
        return values.mean(axis=0) if values.ndim == 2 else values

    ax_s.semilogx(before.band_centers, per_band(before.mean_levels), color="0.4", lw=1,
                  label="input")
    ax_s.semilogx(after.band_centers, per_band(after.mean_levels), color="tab:blue", lw=1,
                  label="output")
    ax_s.set_xlim(before.band_centers[0], before.band_centers[-1])
    ax_s.set_xlabel("Frequency (Hz)")
    ax_s.set_ylabel("Mean level (dB, ELC-weighted)")
    ax_s.grid(True, which="both", alpha=0.3)
    ax_s.legend(loc="lower left", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
