"""Tables and numbers for the book: formatted from aggregated records, never typed in."""

from __future__ import annotations

import pandas as pd


def fmt_ci(mean: float, low: float, high: float, percent: bool = True, digits: int = 1) -> str:
    """``"97.1% [96.0, 98.2]"`` (or plain numbers with ``percent=False``)."""
    if percent:
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
