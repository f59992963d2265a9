"""Tables and numbers for the book: formatted from aggregated records, never typed in."""

from __future__ import annotations

import pandas as pd

pd.set_option("display.max_colwidth", 200)  # effect descriptions and claims are long


def fmt_ci(mean: float, low: float, high: float, percent: bool = True, digits: int = 1) -> str:
    """``"97.1% [96.0, 98.2]"`` (or plain numbers with ``percent=False``).

    Percentages are accuracies: their interval is clipped to [0%, 100%], the range an accuracy can take
    (a Student-t interval over few seeds can reach past it)."""
    if percent:
        low, high = max(low, 0.0), min(high, 1.0)
        return f"{100 * mean:.{digits}f}% [{100 * low:.{digits}f}, {100 * high:.{digits}f}]"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def ci_table(summary: pd.DataFrame, index: str, columns: str | None = None, percent: bool = True,
             digits: int = 1, index_order=None) -> pd.DataFrame:
    """A table of ``mean [95% CI]`` cells, rows ``index`` and one column per level of ``columns``."""
    cells = summary.assign(cell=[fmt_ci(m, lo, hi, percent, digits)
                                 for m, lo, hi in zip(summary["mean"], summary["ci_low"], summary["ci_high"])])
    table = cells.set_index(index)[["cell"]] if columns is None else cells.pivot(index=index, columns=columns, values="cell")
    if index_order is not None:
        table = table.reindex([i for i in index_order if i in table.index])
    table.columns.name = None
    return table


def long_table(records: pd.DataFrame, column: str, keep=("task", "variant", "decay", "seed")) -> pd.DataFrame:
    """Expand a list-valued metric (``noise``, ``attack``, ``generalization``, ``stream_accuracy``, ...)
    into one row per entry, with the record columns ``keep``. List entries that are dicts become
    columns; plain numbers become ``value`` with their ``position`` (1-based) in the list."""
    keep = [c for c in keep if c in records.columns]
    rows = []
    for _, rec in records.dropna(subset=[column]).iterrows():
        for i, entry in enumerate(rec[column]):
            base = {c: rec[c] for c in keep}
            rows.append({**base, **entry} if isinstance(entry, dict) else {**base, "position": i + 1, "value": entry})
    return pd.DataFrame(rows)


def fmt_effect(row, digits: int = 2) -> str:
    """``"0.83 [0.61, 0.95], supported"`` from a judged effect row of :mod:`snnlib.analysis.claims`
    (the interval at its Holm-adjusted level)."""
    return (f"{row['estimate']:.{digits}f} [{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}], "
            f"{row['verdict']}")


def _lambda(value) -> str:
    return "" if pd.isna(value) else f"{value:g}"


def effects_table(judged: pd.DataFrame) -> pd.DataFrame:
    """Judged effects as a compact display table indexed by effect: where (task, λ), estimate with its
    interval at the Holm-adjusted level, the Holm-adjusted p, the SESOI, seeds, verdict and note."""
    frame = pd.DataFrame(judged)
    where = [t if pd.isna(d) else f"{t}, λ {d:g}" for t, d in zip(frame["task"], frame["decay"])]
    table = pd.DataFrame({
        "effect": frame["effect"], "where": where,
        "estimate [adjusted CI]": [f"{e:.3f} [{lo:.3f}, {hi:.3f}]" if pd.notna(e) else "not estimated"
                                   for e, lo, hi in zip(frame["estimate"], frame["ci_low"], frame["ci_high"])],
        "Holm p": [f"{v:.4f}" if pd.notna(v) else "—" for v in frame["p_adjusted"]],
        "SESOI": frame["sesoi"].map(lambda v: f"{v:g}"), "seeds": frame["n_seeds"], "verdict": frame["verdict"],
        "note": frame.get("note", pd.Series("", index=frame.index)).fillna("")})
    return table.set_index("effect")


def arm_summary(judged: pd.DataFrame, arm: str | None = None) -> str:
    """One sentence on a claim arm's rows: how many comparisons got each verdict, and the largest one,
    e.g. ``"supported in 9 of 24 comparisons (largest 0.50 on temporal-xor (gap 5), λ 0.5), negligible in 13"``."""
    rows = judged if arm is None else judged[judged["arm"] == arm]
    if rows.empty:
        return "no comparison"
    counts = rows["verdict"].value_counts()
    order = [v for v in ("supported", "not supported", "higher", "lower", "negligible", "inconclusive") if v in counts]
    parts = []
    for verdict in order:
        text = f"{verdict} in {counts[verdict]} of {len(rows)} comparisons" if not parts else f"{verdict} in {counts[verdict]}"
        if verdict in ("supported", "not supported", "higher", "lower"):
            best = rows[rows["verdict"] == verdict].loc[lambda d: d["estimate"].abs().idxmax()]
            where = best["task"] + ("" if pd.isna(best["decay"]) else f", λ {best['decay']:g}")
            text += f" (largest {best['estimate']:.2f} on {where})"
        parts.append(text)
    return "; ".join(parts)


def claims_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table of ``snnlib claims`` formatted for the book (numbers rounded, no bare NaN)."""
    shown = table.copy()
    for column in ("estimate", "ci_low", "ci_high", "sesoi"):
        shown[column] = shown[column].map(lambda v: f"{v:.3f}" if pd.notna(v) else "—")
    for column in ("p", "p_adjusted"):
        shown[column] = shown[column].map(lambda v: f"{v:.4f}" if pd.notna(v) else "—")
    shown["lambda"] = shown["lambda"].map(_lambda)
    return shown.set_index(["claim", "arm", "effect"])


def flag_table(flags: pd.DataFrame) -> pd.DataFrame:
    """The audit's sanity checks per task and variant, only the rows where some check failed; a single
    row saying so when none did (no bare empty table)."""
    checks = ["masking_suspected", "not_monotone", "above_chance_at_full_range"]
    if flags.empty:
        return pd.DataFrame({"sanity checks": ["no audited runs"]})
    failed = flags[flags[checks].sum(axis=1) > 0]
    if failed.empty:
        return pd.DataFrame({"sanity checks": [f"all {int(flags['runs'].sum())} audited runs passed: none flagged "
                                               "for gradient masking, every curve non-increasing, chance at the "
                                               "full-range radius"]})
    shown = failed.assign(decay=failed["decay"].map(lambda d: f"{d:g}")).rename(columns={"label": "variant", "decay": "λ"})
    return shown.set_index(["task", "variant", "λ"])
