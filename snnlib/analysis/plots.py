"""Figures of the study (seaborn). Every plot draws from a table, never from a model, so a figure can be
restyled without training anything. Summaries carry ``mean``, ``ci_low``, ``ci_high`` and ``n``
(:func:`snnlib.analysis.stats.aggregate`); error bars are those 95% intervals over seeds.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

sns.set_theme(context="notebook", style="whitegrid")


def _errorbars(ax, summary: pd.DataFrame, x: str, hue: str | None, order, hue_order, dodge: float):
    n_hue = len(hue_order) if hue else 1
    width = dodge if n_hue > 1 else 0.0
    for j, level in enumerate(hue_order if hue else [None]):
        part = summary if level is None else summary[summary[hue] == level]
        pos = {v: i for i, v in enumerate(order)}
        xs = np.array([pos[v] for v in part[x]]) + (j - (n_hue - 1) / 2) * width / max(n_hue - 1, 1)
        ax.errorbar(xs, part["mean"], yerr=[part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]],
                    fmt="none", ecolor="black", elinewidth=1, capsize=2)


def variant_bars(summary: pd.DataFrame, x: str = "variant", hue: str | None = "task", ylabel: str = "",
                 title: str = "", order=None, ax=None, chance: dict | float | None = None):
    """Bars of ``mean`` per ``x`` (and ``hue``) with 95% intervals; ``chance`` draws a dashed line."""
    order = list(dict.fromkeys(order or summary[x]))
    hue_order = list(dict.fromkeys(summary[hue])) if hue else None
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.6 * len(order) * (len(hue_order) if hue else 1) ** 0.5 + 3), 3.6))
    sns.barplot(summary, x=x, y="mean", hue=hue, order=order, hue_order=hue_order, errorbar=None, ax=ax)
    _errorbars(ax, summary, x, hue, order, hue_order, dodge=0.8 - 0.8 / (len(hue_order) if hue else 1))
    if isinstance(chance, (int, float)):
        ax.axhline(chance, ls="--", c="grey", lw=1, label="chance")
    ax.set(xlabel="", ylabel=ylabel, title=title)
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    if hue or chance is not None:
        ax.legend(frameon=False, fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax


def line_ci(summary: pd.DataFrame, x: str, hue: str | None = None, xlabel: str = "", ylabel: str = "",
            title: str = "", ax=None, chance: float | None = None, hue_order=None):
    """Mean along a swept ``x`` with a shaded 95% interval per ``hue`` level (in ``hue_order`` if given)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    levels = (list(hue_order) if hue_order is not None else list(dict.fromkeys(summary[hue]))) if hue else [None]
    palette = dict(zip(levels, sns.color_palette(n_colors=len(levels))))
    for level in levels:
        part = (summary if level is None else summary[summary[hue] == level]).sort_values(x)
        ax.plot(part[x], part["mean"], marker="o", ms=4, color=palette[level], label=level)
        ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=palette[level], alpha=0.2, lw=0)
    if chance is not None:
        ax.axhline(chance, ls="--", c="grey", lw=1, label="chance")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if hue or chance is not None:
        ax.legend(frameon=False, fontsize="small", title=hue, bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax


def heatmap(summary: pd.DataFrame, index: str, columns: str, value: str = "mean", fmt: str = ".2f",
            xlabel: str = "", ylabel: str = "", title: str = "", ax=None, cbar_label: str = ""):
    """A table of ``value`` over two swept factors."""
    table = summary.pivot(index=index, columns=columns, values=value).sort_index(ascending=False)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.7 * table.shape[1], 0.9 + 0.45 * table.shape[0]))
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", vmin=0, vmax=1, ax=ax,
                cbar_kws={"label": cbar_label})
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return ax


def membrane_traces(traces: pd.DataFrame, neuron: int = 0, threshold: float = 1.0, col_wrap: int = 4):
    """Membrane ``V[t]`` of one neuron per variant, spikes marked, the input current in grey."""
    one = traces[traces["neuron"] == neuron]
    grid = sns.FacetGrid(one, col="variant", col_wrap=col_wrap, height=1.9, aspect=1.5, sharey=False)

    def panel(data, **_):
        ax = plt.gca()
        ax.plot(data["t"], data["current"], color="0.7", lw=1, label="input current I[t]")
        ax.plot(data["t"], data["v"], color="C0", lw=1.3, label="membrane V[t]")
        ax.axhline(threshold, ls="--", c="C3", lw=0.8, label="threshold θ")
        spikes = data[data["spike"] == 1]
        ax.plot(spikes["t"], np.full(len(spikes), threshold), "v", color="C3", ms=4, label="spike")

    grid.map_dataframe(panel)
    grid.set_titles("{col_name}")
    grid.set_axis_labels("time step t", "V[t]")
    handles, labels = grid.axes.flat[0].get_legend_handles_labels()
    grid.figure.legend(handles, labels, loc="lower center", ncol=4, frameon=False, bbox_to_anchor=(0.5, -0.1))
    return grid


def rasters(traces: pd.DataFrame, col_wrap: int = 4):
    """Spike raster (neuron x time) per variant."""
    spikes = traces[traces["spike"] == 1]
    grid = sns.FacetGrid(spikes, col="variant", col_wrap=col_wrap, height=1.7, aspect=1.6,
                         col_order=list(dict.fromkeys(traces["variant"])))
    grid.map_dataframe(lambda data, **_: plt.gca().scatter(data["t"], data["neuron"], marker="|", s=25, c="k"))
    grid.set_titles("{col_name}")
    grid.set_axis_labels("time step t", "neuron")
    grid.set(xlim=(-1, traces["t"].max() + 1))
    return grid
