"""Figures of the study (seaborn). Every plot draws from a table, never from a model, so a figure can be
restyled without training anything. Summaries carry ``mean``, ``ci_low``, ``ci_high`` and ``n``
(:func:`snnlib.analysis.stats.aggregate`); error bars are those 95% intervals over seeds.

One variant has one colour in every figure of the book (:data:`VARIANT_COLORS`, :func:`variant_palette`):
the Okabe-Ito colour-blind-safe palette, leaky variants in blues and green, non-leaky ones in warm colours,
each recurrent variant a darker shade of its feed-forward twin (and drawn dashed in line plots), and the
parameter-matched feed-forward control ``FF-wide`` in grey.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import to_hex, to_rgb

sns.set_theme(context="notebook", style="whitegrid")

_FEED_FORWARD = {"LIF": "#0072B2", "LIF-soft": "#56B4E9", "LIF-noreset": "#009E73",
                 "IF": "#D55E00", "IF-soft": "#E69F00", "IF-noreset": "#CC79A7"}
RECURRENT_SHADE = 0.55  # a recurrent twin's colour: its feed-forward colour times this (darker)


def _darker(color: str, factor: float = RECURRENT_SHADE) -> str:
    return to_hex(tuple(c * factor for c in to_rgb(color)))


VARIANT_COLORS: dict[str, str] = {**_FEED_FORWARD, **{f"R{name}": _darker(c) for name, c in _FEED_FORWARD.items()},
                                  "FF-wide": "#7F7F7F"}
_OTHER_COLORS = ("#000000", "#F0E442", "#8C564B", "#BCBD22", "#17BECF")  # names outside the study, in turn

VERDICT_STYLE: dict[str, tuple[str, str]] = {  # verdict -> (colour, marker): two cues, not colour alone
    "supported": ("#009E73", "o"), "not supported": ("#D55E00", "X"), "negligible": ("#7F7F7F", "s"),
    "inconclusive": ("#E69F00", "D"), "higher": ("#0072B2", "^"), "lower": ("#CC79A7", "v"),
    "saturated": ("#56B4E9", "P")}


def is_recurrent(name) -> bool:
    """Whether a variant name is a recurrent twin (``RLIF``, ``RIF-soft``, ...)."""
    return isinstance(name, str) and name.startswith("R") and name[1:] in _FEED_FORWARD


def _lighter(color: str, amount: float) -> str:
    return to_hex(tuple(c + (1 - c) * amount for c in to_rgb(color)))


def _base(name) -> str | None:
    """The variant a label names: ``"LIF λ=0.9"`` -> ``"LIF"``, ``"LIF-wide λ=0.5"`` -> ``"FF-wide"``."""
    if not isinstance(name, str) or not name.split():
        return None
    first = name.split()[0]
    return "FF-wide" if first.endswith("-wide") else first


def variant_palette(names) -> dict:
    """name -> colour for ``names``: :data:`VARIANT_COLORS` for the study's variants; a variant with a
    suffix such as ``"LIF λ=0.9"`` takes its base's colour, lightened for the second, third... label of
    the same base (so λ levels of one variant stay one hue); other names get further colours in turn."""
    palette, extra, seen = {}, 0, {}
    for name in dict.fromkeys(names):
        base = name if name in VARIANT_COLORS else _base(name)
        if base in VARIANT_COLORS:
            k = seen[base] = seen.get(base, -1) + 1
            palette[name] = VARIANT_COLORS[base] if k == 0 else _lighter(VARIANT_COLORS[base], min(0.25 * k, 0.6))
        else:
            palette[name] = _OTHER_COLORS[extra % len(_OTHER_COLORS)]
            extra += 1
    return palette


def _is_variant_labels(levels) -> bool:
    return bool(levels) and all((lv in VARIANT_COLORS) or (_base(lv) in VARIANT_COLORS) for lv in levels)


def _palette(hue: str | None, levels) -> dict:
    """The variant colours when the ``hue`` levels name variants, else seaborn's colour-blind palette."""
    if hue == "variant" or _is_variant_labels(levels):
        return variant_palette(levels)
    return dict(zip(levels, sns.color_palette("colorblind", n_colors=max(len(levels), 1))))


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
    """Bars of ``mean`` per ``x`` (and ``hue``) with 95% intervals; ``chance`` draws a dashed line.

    Bars of a variant have its colour (:data:`VARIANT_COLORS`): with ``x="variant"`` each bar is coloured
    by its variant and the ``hue`` levels are told apart by hatching (legend in grey); with
    ``hue="variant"`` the hue colours are the variant colours.
    """
    order = list(dict.fromkeys(order or summary[x]))
    hue_order = list(dict.fromkeys(summary[hue])) if hue else None
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.6 * len(order) * (len(hue_order) if hue else 1) ** 0.5 + 3), 3.6))
    by_variant = x == "variant" and hue != "variant"
    palette = _palette(hue, hue_order) if hue and not by_variant else None
    sns.barplot(summary, x=x, y="mean", hue=hue, order=order, hue_order=hue_order, errorbar=None, ax=ax,
                palette=palette, **({"color": "0.6"} if by_variant and not hue else {}))
    handles = _colour_bars_by_variant(ax, order, hue_order) if by_variant else None
    _errorbars(ax, summary, x, hue, order, hue_order, dodge=0.8 - 0.8 / (len(hue_order) if hue else 1))
    if isinstance(chance, (int, float)):
        ax.axhline(chance, ls="--", c="grey", lw=1, label="chance")
    ax.set(xlabel="", ylabel=ylabel, title=title)
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    if hue or chance is not None:
        if handles is not None:
            handles += [h for h, label in zip(*ax.get_legend_handles_labels()) if label == "chance"]
        ax.legend(handles=handles, frameon=False, fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax


HATCHES = ("", "///", "...", "xxx", "\\\\\\", "ooo")


def _colour_bars_by_variant(ax, order, hue_order) -> list:
    """Recolour seaborn's bars: colour = the bar's variant (its x position), hatch = its hue level.
    Returns the legend handles of the hue levels (grey, hatched)."""
    colors = variant_palette(order)
    levels = hue_order or [None]
    for j, container in enumerate(ax.containers[:len(levels)]):
        for i, patch in enumerate(container.patches):
            patch.set_facecolor(colors[order[i]])
            patch.set_edgecolor("white")
            patch.set_hatch(HATCHES[j % len(HATCHES)])
    return [plt.Rectangle((0, 0), 1, 1, facecolor="0.6", edgecolor="white", hatch=HATCHES[j % len(HATCHES)],
                          label=str(level)) for j, level in enumerate(hue_order or [])]


def line_ci(summary: pd.DataFrame, x: str, hue: str | None = None, xlabel: str = "", ylabel: str = "",
            title: str = "", ax=None, chance: float | None = None, hue_order=None):
    """Mean along a swept ``x`` with a shaded 95% interval per ``hue`` level (in ``hue_order`` if given).

    With ``hue="variant"`` each line has its variant's colour and recurrent variants are dashed.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    levels = (list(hue_order) if hue_order is not None else list(dict.fromkeys(summary[hue]))) if hue else [None]
    _lines(ax, summary, x, hue, levels, _palette(hue, levels) if hue else {None: "C0"})
    if chance is not None:
        ax.axhline(chance, ls="--", c="grey", lw=1, label="chance")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if hue or chance is not None:
        ax.legend(frameon=False, fontsize="small", title=hue, bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax


def _lines(ax, summary: pd.DataFrame, x: str, hue: str | None, levels, palette: dict) -> None:
    for level in levels:
        part = (summary if level is None else summary[summary[hue] == level]).sort_values(x)
        if part.empty:
            continue
        dashed = is_recurrent(_base(level))
        ax.plot(part[x], part["mean"], marker="o", ms=4, color=palette[level], ls="--" if dashed else "-",
                label=level)
        ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=palette[level], alpha=0.2, lw=0)


def facet_lines(summary: pd.DataFrame, x: str, col: str, hue: str | None = "variant", col_wrap: int = 2,
                xlabel: str = "", ylabel: str = "", title: str = "", col_order=None, hue_order=None,
                chance: float | None = None, sharey: bool = True, height: float = 2.6, aspect: float = 1.5):
    """:func:`line_ci` in one panel per ``col`` level, at most ``col_wrap`` panels a row (legible at page width).

    Returns the seaborn ``FacetGrid``; the legend (the ``hue`` levels, variant colours when ``hue`` is
    ``"variant"``) sits below the panels.
    """
    if not isinstance(col_wrap, int) or isinstance(col_wrap, bool) or col_wrap < 1:
        raise ValueError(f"col_wrap must be an integer >= 1, got {col_wrap!r}")
    for name in (x, col, hue):
        if name is not None and name not in summary.columns:
            raise ValueError(f"summary has no column {name!r}; its columns are: {', '.join(summary.columns)}")
    col_order = list(col_order) if col_order is not None else list(dict.fromkeys(summary[col]))
    levels = (list(hue_order) if hue_order is not None else list(dict.fromkeys(summary[hue]))) if hue else [None]
    palette = _palette(hue, levels) if hue else {None: "C0"}
    grid = sns.FacetGrid(summary, col=col, col_order=col_order, col_wrap=min(col_wrap, len(col_order)),
                         height=height, aspect=aspect, sharey=sharey, sharex=True)
    for name, ax in zip(col_order, grid.axes.flat):
        _lines(ax, summary[summary[col] == name], x, hue, levels, palette)
        if chance is not None:
            ax.axhline(chance, ls="--", c="grey", lw=1, label="chance")
    grid.set_titles("{col_name}")
    grid.set_axis_labels(xlabel or x, ylabel)
    if title:
        grid.figure.suptitle(title, y=1.02)
    handles, labels = {}, []
    for ax in grid.axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if hue or chance is not None:
        grid.figure.legend(list(handles.values()), list(handles), loc="upper center", frameon=False,
                           ncol=min(len(handles), 6), fontsize="small", bbox_to_anchor=(0.5, 0.0))
    return grid


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
    """Membrane ``V[t]`` of one neuron per variant (in its colour), spikes marked, the input current in grey."""
    one = traces[traces["neuron"] == neuron]
    colors = variant_palette(one["variant"])
    grid = sns.FacetGrid(one, col="variant", col_wrap=col_wrap, height=1.9, aspect=1.5, sharey=False)

    def panel(data, **_):
        ax = plt.gca()
        ax.plot(data["t"], data["current"], color="0.7", lw=1, label="input current I[t]")
        ax.plot(data["t"], data["v"], color=colors[data["variant"].iloc[0]], lw=1.3, label="membrane V[t]")
        ax.axhline(threshold, ls="--", c="k", lw=0.8, label="threshold θ")
        spikes = data[data["spike"] == 1]
        ax.plot(spikes["t"], np.full(len(spikes), threshold), "v", color="k", ms=4, label="spike")

    grid.map_dataframe(panel)
    grid.set_titles("{col_name}")
    grid.set_axis_labels("time step t", "V[t]")
    handles, labels = grid.axes.flat[0].get_legend_handles_labels()
    grid.figure.legend(handles, labels, loc="lower center", ncol=4, frameon=False, bbox_to_anchor=(0.5, -0.1))
    return grid


def rasters(traces: pd.DataFrame, col_wrap: int = 4):
    """Spike raster (neuron x time) per variant, in the variant's colour."""
    spikes = traces[traces["spike"] == 1]
    colors = variant_palette(traces["variant"])
    grid = sns.FacetGrid(spikes, col="variant", col_wrap=col_wrap, height=1.7, aspect=1.6,
                         col_order=list(dict.fromkeys(traces["variant"])))
    grid.map_dataframe(lambda data, **_: plt.gca().scatter(data["t"], data["neuron"], marker="|", s=25,
                                                           color=colors[data["variant"].iloc[0]]))
    grid.set_titles("{col_name}")
    grid.set_axis_labels("time step t", "neuron")
    grid.set(xlim=(-1, traces["t"].max() + 1))
    return grid


# --- forest plot of the claims' effects -----------------------------------------------------------------
FOREST_COLUMNS = ("claim", "effect", "estimate", "ci_low", "ci_high", "sesoi", "verdict")


def forest_plot(effects: pd.DataFrame, unit: str | None = None, normalise: bool | None = None, title: str | None = None,
                ax=None):
    r"""One row per effect, grouped by claim: the estimate (a dot) with its interval (``ci_low``,
    ``ci_high``: in the judged tables, the interval at the family's adjusted level), over a shaded band
    :math:`[-\mathrm{SESOI}, +\mathrm{SESOI}]` (the smallest effect size of interest), coloured and marked by
    verdict (:data:`VERDICT_STYLE`). With a ``primary`` column, each claim's primary contrasts come first,
    labelled "(primary)" and drawn with filled markers; the other rows (secondary and exploratory, which
    do not vote) have hollow markers.

    Scale. Effects sharing one unit are drawn as measured (x axis "effect (unit)"); otherwise each row is
    divided by its own SESOI, :math:`(\hat e, l, h) / \mathrm{SESOI}`, so the band is :math:`[-1, 1]` on every
    row and one axis fits all (x axis "effect in units of its SESOI"), drawn on a symmetric-log scale
    (linear within ±1 SESOI, logarithmic beyond) so that a 100-SESOI effect and a 0.5-SESOI one are both
    legible. Rows with a ``task`` (and ``decay``) column say so in their label.

    Args:
        effects: columns ``claim, effect, estimate, ci_low, ci_high, sesoi, verdict``, optionally ``unit``
            (per row), ``n_seeds`` (the title says how many seeds) and ``primary`` (bool).
        unit: the unit shared by every effect (overrides the ``unit`` column).
        normalise: ``True`` divides by SESOI, ``False`` draws as measured; default: divide unless one unit
            is shared (given, or a ``unit`` column with one value).
        title: default "effects of the claims (n = N seeds)" when ``n_seeds`` is given.
    """
    missing = [c for c in FOREST_COLUMNS if c not in effects.columns]
    if missing:
        raise ValueError(f"effects needs the columns {', '.join(FOREST_COLUMNS)}; missing: {', '.join(missing)}")
    if effects.empty:
        raise ValueError("effects has no rows: nothing to plot")
    frame = effects.reset_index(drop=True)
    primary = frame["primary"].astype(bool) if "primary" in frame.columns else pd.Series(True, index=frame.index)
    if "primary" in frame.columns:  # within each claim, its primary contrasts first
        order = frame.assign(_claim=pd.Categorical(frame["claim"], categories=list(dict.fromkeys(frame["claim"]))),
                             _secondary=~primary).sort_values(["_claim", "_secondary"], kind="stable").index
        frame, primary = frame.loc[order].reset_index(drop=True), primary.loc[order].reset_index(drop=True)
    if unit is None and "unit" in frame.columns and frame["unit"].nunique(dropna=False) == 1:
        unit = frame["unit"].iloc[0]
    if normalise is None:
        normalise = unit is None
    if not isinstance(normalise, bool):
        raise ValueError(f"normalise must be True, False or None, got {normalise!r}")
    sesoi = frame["sesoi"].astype(float)
    if normalise:
        bad = frame.loc[~(sesoi > 0), "effect"].tolist()
        if bad:
            raise ValueError(f"sesoi must be a number > 0 on every row to normalise by it; it is not for: "
                             f"{', '.join(map(str, bad))}")
        scale = sesoi
    else:
        scale = pd.Series(1.0, index=frame.index)
    estimate, low, high = (frame[c].astype(float) / scale for c in ("estimate", "ci_low", "ci_high"))
    band = sesoi / scale

    # rows from the top: a heading row per claim, then its effects
    labels, heading_rows, rows = [], [], {}
    for claim, group in frame.groupby("claim", sort=False):
        heading_rows.append(len(labels))
        labels.append(str(claim))
        for i in group.index:
            rows[i] = len(labels)
            where = [str(group.at[i, "task"])] if "task" in group and str(group.at[i, "task"]) else []
            if "decay" in group and pd.notna(group.at[i, "decay"]):
                where.append(f"λ {group.at[i, 'decay']:g}")
            if "point" in group and group.at[i, "point"] and pd.notna(group.at[i, "point_value"]):
                where.append(f"{group.at[i, 'point']} {group.at[i, 'point_value']:g}")
            labels.append(f"  {group.at[i, 'effect']}" + (f"  ({', '.join(where)})" if where else "")
                          + ("  (primary)" if "primary" in frame.columns and primary[i] else ""))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.8 + 0.26 * len(labels)))
    y = {i: -r for i, r in rows.items()}
    shade = False
    for k, start in enumerate(heading_rows):  # a light band behind every other claim
        stop = heading_rows[k + 1] if k + 1 < len(heading_rows) else len(labels)
        if shade:
            ax.axhspan(-stop + 0.5, -start + 0.5, color="0.94", zorder=0, lw=0)
        shade = not shade
    for i in frame.index:
        if np.isfinite(band[i]) and band[i] > 0:
            ax.fill_betweenx([y[i] - 0.35, y[i] + 0.35], -band[i], band[i], color="0.82", lw=0, zorder=1)
    ax.axvline(0, color="0.3", lw=0.8, zorder=1)
    seen = set()
    for i in frame.index:
        verdict = str(frame.at[i, "verdict"])
        color, marker = VERDICT_STYLE.get(verdict, ("#000000", "P"))
        ax.plot([low[i], high[i]], [y[i], y[i]], color=color, lw=1.8, zorder=2)
        ax.plot(estimate[i], y[i], marker=marker, color=color, ms=7, ls="none", zorder=3,
                markerfacecolor=color if primary[i] else "white", markeredgewidth=1.5,
                label=verdict if verdict not in seen else "_nolegend_")
        seen.add(verdict)
    ax.set_yticks([-r for r in range(len(labels))], labels)
    for r in heading_rows:
        ax.get_yticklabels()[r].set_fontweight("bold")
    ax.set_ylim(-len(labels) + 0.5, 0.5)
    ax.grid(axis="y", visible=False)
    if normalise:
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("effect in units of its SESOI (shaded: ±SESOI)" if normalise else
                  f"effect ({unit})  (shaded: ±SESOI)" if unit else "effect (shaded: ±SESOI)")
    if title is None and "n_seeds" in frame.columns:
        seeds = sorted(set(frame["n_seeds"].dropna().astype(int)))
        title = (f"effects of the claims (n = {seeds[0]} seeds)" if len(seeds) == 1 else
                 f"effects of the claims (n = {seeds[0]}–{seeds[-1]} seeds)") if seeds else None
    if title:
        ax.set_title(title)
    ax.legend(title="verdict", frameon=False, fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax


def stability_plot(stability: pd.DataFrame, ax=None):
    """The stability table (:func:`snnlib.analysis.claims.stability`) as a grid: one column per claim, one
    row per perturbation, each cell coloured by the verdict it gives (:data:`VERDICT_STYLE`; white where
    not available) and marked ``≠`` where it differs from the claim's main verdict; the column titles give
    the main verdict and the share of perturbations that keep it."""
    needed = ("claim", "main_verdict", "perturbation", "verdict", "same_as_main", "share_kept")
    missing = [c for c in needed if c not in stability.columns]
    if missing:
        raise ValueError(f"stability needs the columns {', '.join(needed)}; missing: {', '.join(missing)}")
    if stability.empty:
        raise ValueError("stability has no rows: nothing to plot")
    claims = list(dict.fromkeys(stability["claim"]))
    perturbations = list(dict.fromkeys(stability["perturbation"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.7 * len(claims) + 3.2, 0.8 + 0.3 * len(perturbations)))
    seen = set()
    for _, row in stability.iterrows():
        x, y = claims.index(row["claim"]), -perturbations.index(row["perturbation"])
        verdict = str(row["verdict"])
        color = VERDICT_STYLE.get(verdict, ("#FFFFFF", ""))[0]
        ax.add_patch(plt.Rectangle((x - 0.45, y - 0.42), 0.9, 0.84, facecolor=color, edgecolor="0.6", lw=0.6,
                                   alpha=0.85, label=verdict if verdict not in seen and verdict in VERDICT_STYLE
                                   else "_nolegend_"))
        seen.add(verdict)
        changed = row["same_as_main"] is False or (pd.notna(row["same_as_main"]) and not row["same_as_main"])
        text = "≠" if changed else ("n/a" if verdict not in VERDICT_STYLE else "")
        if text:
            ax.text(x, y, text, ha="center", va="center", fontsize="small", fontweight="bold" if changed else None)
    main = stability.groupby("claim")["main_verdict"].first()
    kept = stability.groupby("claim")["share_kept"].first()
    ax.set_xticks(range(len(claims)), [f"{c}\n{main[c]}\n{'fragile: ' if kept[c] < 1 else ''}kept {kept[c]:.0%}"
                                       if pd.notna(kept[c]) else f"{c}\n{main[c]}" for c in claims], fontsize="small")
    ax.xaxis.tick_top()
    ax.set_yticks([-i for i in range(len(perturbations))], perturbations, fontsize="small")
    ax.set_xlim(-0.5, len(claims) - 0.5)
    ax.set_ylim(-len(perturbations) + 0.5, 0.5)
    ax.grid(False)
    ax.legend(title="verdict", frameon=False, fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax


def facet_bars(summary: pd.DataFrame, x: str, col: str, col_wrap: int = 2, ylabel: str = "", order=None,
               height: float = 2.8, aspect: float = 1.5):
    """Bars of ``mean`` per ``x`` level with their 95% intervals, one panel per ``col`` level, wrapping;
    bars coloured by variant when the ``x`` levels name variants."""
    order = list(order) if order is not None else list(dict.fromkeys(summary[x]))
    palette = _palette(x, order)
    cols = list(dict.fromkeys(summary[col]))
    grid = sns.FacetGrid(summary, col=col, col_order=cols, col_wrap=min(col_wrap, len(cols)), height=height,
                         aspect=aspect, sharey=True)
    for name, ax in zip(cols, grid.axes.flat):
        part = summary[summary[col] == name].set_index(x).reindex(order).dropna(subset=["mean"])
        positions = np.arange(len(part))
        ax.bar(positions, part["mean"], color=[palette[i] for i in part.index])
        ax.errorbar(positions, part["mean"], yerr=[part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]],
                    fmt="none", ecolor="black", elinewidth=1, capsize=2)
        ax.set_xticks(positions, part.index, rotation=45, ha="right")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("", ylabel)
    return grid


def frontier(points: pd.DataFrame, x: str, y: str, col: str, hue: str, col_wrap: int = 2, xlabel: str = "",
             ylabel: str = "", height: float = 2.8, aspect: float = 1.5):
    """One line per ``hue`` level through its points (e.g. SynOps against accuracy along a regularisation
    sweep), one panel per ``col`` level: the efficiency frontier of each variant."""
    levels = list(dict.fromkeys(points[hue]))
    palette = _palette(hue, levels)
    cols = list(dict.fromkeys(points[col]))
    grid = sns.FacetGrid(points, col=col, col_order=cols, col_wrap=min(col_wrap, len(cols)), height=height,
                         aspect=aspect, sharex=False, sharey=False)
    for name, ax in zip(cols, grid.axes.flat):
        part = points[points[col] == name]
        for level in levels:
            line = part[part[hue] == level].sort_values(x)
            if not line.empty:
                ax.plot(line[x], line[y], marker="o", ms=4, color=palette[level], label=level,
                        ls="--" if is_recurrent(_base(level)) else "-")
    grid.set_titles("{col_name}")
    grid.set_axis_labels(xlabel or x, ylabel or y)
    handles = {}
    for ax in grid.axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    grid.figure.legend(list(handles.values()), list(handles), loc="upper center", frameon=False,
                       ncol=min(len(handles), 6), fontsize="small", bbox_to_anchor=(0.5, 0.0))
    return grid


def learned_decays(values: pd.DataFrame, x: str = "setting", hue: str = "variant", ylabel: str = "learned λ"):
    """Violins of per-neuron learned λ (one value per neuron and seed, column ``decay``) per ``x`` level
    (a task and delay), split by ``hue`` (feed-forward / recurrent variant)."""
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * values[x].nunique()), 3.2))
    levels = list(dict.fromkeys(values[hue]))
    sns.violinplot(data=values, x=x, y="decay", hue=hue, hue_order=levels, cut=0, inner="quartile",
                   density_norm="width", palette=_palette(hue, levels), ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    return ax


def pareto(points: pd.DataFrame, x: str = "hidden_synops", y: str = "accuracy", colour: str = "robustness",
           label: str = "label", col: str = "task", col_wrap: int = 2, height: float = 3.0):
    """Accuracy against SynOps per variant and λ (one point each, labelled), coloured by robustness (grey
    where not measured), one panel per ``col`` level; the points no other point beats on both axes (the
    Pareto front: fewer SynOps and higher accuracy) are joined by a line."""
    cols = list(dict.fromkeys(points[col]))
    grid = sns.FacetGrid(points, col=col, col_order=cols, col_wrap=min(col_wrap, len(cols)), height=height,
                         aspect=1.4, sharex=False, sharey=False)
    norm = plt.Normalize(0, 1)
    for name, ax in zip(cols, grid.axes.flat):
        part = points[points[col] == name]
        has = part[colour].notna()
        ax.scatter(part.loc[~has, x], part.loc[~has, y], color="0.7", s=25)
        ax.scatter(part.loc[has, x], part.loc[has, y], c=part.loc[has, colour], cmap="viridis", norm=norm, s=30)
        for _, p in part.iterrows():
            ax.annotate(p[label], (p[x], p[y]), fontsize=6, xytext=(2, 2), textcoords="offset points")
        front = part.sort_values([x, y], ascending=[True, False])
        front = front[front[y] >= front[y].cummax()]
        ax.plot(front[x], front[y], color="0.3", lw=0.8, ls=":")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("hidden SynOps per sample", "test accuracy")
    sm = plt.cm.ScalarMappable(norm=norm, cmap="viridis")
    grid.figure.colorbar(sm, ax=list(grid.axes.flat), label="chance-corrected robustness (grey: not audited)")
    return grid


def effect_against_size(table: pd.DataFrame, col_wrap: int = 3):
    """One panel per claim arm: the primary contrast's estimate and 95% interval (the family's
    adjusted interval, :mod:`snnlib.analysis.stats`) against the first layer's width (log scale), one-layer
    networks joined by a line, deeper ones as separate open markers; each point coloured and shaped by
    its verdict, the SESOI band shaded around 0 (:func:`snnlib.analysis.scaling.scaling_table`)."""
    arms = list(dict.fromkeys(zip(table["claim"], table["arm"])))
    cols = min(col_wrap, len(arms))
    rows = -(-len(arms) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (claim, arm) in zip(axes.flat, arms):
        part = table[(table["claim"] == claim) & (table["arm"] == arm)].sort_values("width")
        sesoi = pd.to_numeric(part.get("sesoi"), errors="coerce").dropna()
        if len(sesoi):
            ax.axhspan(-sesoi.iloc[0], sesoi.iloc[0], color="grey", alpha=0.12, lw=0)
        ax.axhline(0, color="grey", lw=0.8)
        for depth, rows_at in part.groupby("depth", sort=True):
            estimate = pd.to_numeric(rows_at["estimate"], errors="coerce")
            if depth == 1:
                ax.plot(rows_at["width"], estimate, color="black", lw=1)
            for (_, r), y in zip(rows_at.iterrows(), estimate):
                if pd.isna(y):
                    continue
                colour, marker = VERDICT_STYLE.get(r["verdict"], ("#000000", "o"))
                low, high = pd.to_numeric(pd.Series([r.get("ci_low"), r.get("ci_high")]), errors="coerce")
                ax.errorbar([r["width"]], [y], yerr=[[max(0.0, y - low)], [max(0.0, high - y)]] if pd.notna(low) else None,
                            color=colour, marker=marker, ms=7, capsize=3, ls="none",
                            mfc=colour if depth == 1 else "white", label=r["verdict"] if depth == 1 else
                            f"{r['verdict']}, {depth} layers")
        ax.set_xscale("log", base=2)
        widths = sorted(part["width"].unique())
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.set(title=f"{claim} {arm}", xlabel="width (neurons per layer)", ylabel=str(part["unit"].dropna().iloc[0])
               if "unit" in part and part["unit"].notna().any() else "effect")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), frameon=False, fontsize="x-small")
    for ax in list(axes.flat)[len(arms):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
