r"""Statistics over seeds: confidence intervals, effects with bootstrap intervals, and verdicts (DESIGN.md §1).

Mean with a Student-t interval (:func:`mean_ci`), for ``n`` values with mean ``m`` and sample
standard deviation ``s`` (``ddof = 1``)::

    m ± t_{(1+level)/2, n-1} · s / √n

A single value has no spread to estimate: ``mean_ci`` then returns the value with a NaN interval
(``ci_low = ci_high = NaN``), never a zero-width one that would look certain. ``n ≥ 2`` identical
values give the degenerate interval ``[m, m]``. :func:`aggregate` applies it per group of a DataFrame.

Effects (each returns an :class:`Effect` ``(estimate, ci_low, ci_high, n, kind)``); the interval is a
seeded percentile bootstrap: ``n_boot`` resamples of the *units* (the seeds, column ``unit``) drawn
with replacement, a unit carrying all its rows; the interval is the ``(1-level)/2`` and ``(1+level)/2``
quantiles of the resampled estimates. ``unit=None`` resamples rows.

- :func:`difference_effect` -- difference of means between two levels of a factor,
  ``mean(value | factor = b) - mean(value | factor = a)``, computed on per-unit means. When every
  unit has both levels (the study's paired design: one seed = one data set and initialization for
  every variant), units are resampled jointly, i.e. the mean of the paired differences; otherwise
  each level's units are resampled independently.
- :func:`slope_effect` -- least-squares slope of ``value`` along a swept numeric factor ``x``,
  ``β = Σ(x - x̄)(y - ȳ) / Σ(x - x̄)²`` over all rows (units resampled with all their rows).
- :func:`spearman_effect` -- Spearman rank correlation of ``value`` and ``x`` (Pearson correlation
  of the average ranks) over all rows, bootstrap as for the slope.

Verdict rule (:func:`verdict`), with the claim's expected sign ``±1`` and the effect's interval::

    ci_low > 0  or  ci_high < 0,  interval sign = expected sign   ->  "supported"
    ci_low > 0  or  ci_high < 0,  interval sign ≠ expected sign   ->  "not supported"
    ci_low ≤ 0 ≤ ci_high  (the interval contains 0), or NaN       ->  "inconclusive"

The percentile bootstrap over few seeds (3 - 5) is known to give intervals somewhat too narrow;
more seeds make the verdict more trustworthy, not more likely to be "supported".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps

from snnlib.checks import check_int

__all__ = ["MeanCI", "Effect", "VERDICTS", "mean_ci", "aggregate", "slope", "spearman", "difference_effect",
           "slope_effect", "spearman_effect", "verdict"]

VERDICTS = ("supported", "not supported", "inconclusive")


class MeanCI(NamedTuple):
    """A mean and its confidence interval."""

    mean: float
    ci_low: float
    ci_high: float


class Effect(NamedTuple):
    """An effect estimate with its bootstrap interval; ``kind`` names the effect."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int  # number of resampling units (seeds)
    kind: str

    def verdict(self, expected_sign: int) -> str:
        """:func:`verdict` of this effect for a claim of sign ``expected_sign``."""
        return verdict(self.estimate, self.ci_low, self.ci_high, expected_sign)


# --- checks ---------------------------------------------------------------------------------------
def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), e.g. 0.95, got {level!r}")
    return float(level)


def _check_values(values) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError("values must hold at least one number, got none")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"values must be finite numbers, got {values!r}")
    return arr


def _check_columns(df: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the DataFrame; its columns are: {list(df.columns)}")


def _check_n_boot(n_boot) -> int:
    return check_int("n_boot", n_boot)


# --- means and intervals --------------------------------------------------------------------------
def mean_ci(values, level: float = 0.95) -> MeanCI:
    """Mean and Student-t interval of ``values`` (one per seed); a single value gives NaN bounds."""
    level = _check_level(level)
    arr = _check_values(values)
    m, n = float(arr.mean()), arr.size
    if n == 1:
        return MeanCI(m, math.nan, math.nan)
    half = float(sps.t.ppf((1 + level) / 2, n - 1) * arr.std(ddof=1) / math.sqrt(n))
    return MeanCI(m, m - half, m + half)


def aggregate(df: pd.DataFrame, by: str | Sequence[str], value: str | Sequence[str],
              level: float = 0.95) -> pd.DataFrame:
    """Per group of ``by``: ``mean``, ``ci_low``, ``ci_high`` (:func:`mean_ci`) and ``n`` of ``value``.

    With a list of value columns the result is long, one row per group and ``metric``.
    NaN values are dropped (``n`` counts the rest); a group left empty gives NaN.
    """
    by = [by] if isinstance(by, str) else list(by)
    values = [value] if isinstance(value, str) else list(value)
    _check_columns(df, by + values)
    _check_level(level)
    rows = []
    for key, group in df.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for metric in values:
            col = group[metric].dropna().to_numpy(dtype=float)
            ci = mean_ci(col, level) if col.size else MeanCI(math.nan, math.nan, math.nan)
            row = dict(zip(by, key))
            if not isinstance(value, str):
                row["metric"] = metric
            rows.append({**row, "mean": ci.mean, "ci_low": ci.ci_low, "ci_high": ci.ci_high, "n": int(col.size)})
    columns = by + ([] if isinstance(value, str) else ["metric"]) + ["mean", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=columns)


# --- point estimates (pure) -----------------------------------------------------------------------
def slope(x, y) -> float:
    """Least-squares slope of ``y`` on ``x``; NaN if ``x`` does not vary."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = x - x.mean()
    sxx = float(dx @ dx)
    return float(dx @ (y - y.mean()) / sxx) if sxx > 0 else math.nan


def spearman(x, y) -> float:
    """Spearman rank correlation of ``x`` and ``y`` (average ranks for ties); NaN if either is constant."""
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / denom) if denom > 0 else math.nan


# --- bootstrap ------------------------------------------------------------------------------------
def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return math.nan, math.nan
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _units(df: pd.DataFrame, unit: str | None) -> list[np.ndarray]:
    """Row positions of each resampling unit (each row its own unit when ``unit`` is None)."""
    if unit is None:
        return [np.array([i]) for i in range(len(df))]
    codes = pd.factorize(df[unit], sort=True)[0]
    return [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]


def _bootstrap_rows(df: pd.DataFrame, unit: str | None, stat, n_boot: int, seed: int) -> np.ndarray:
    """``stat(rows)`` over ``n_boot`` cluster resamples of the units (all rows of a unit together)."""
    groups = _units(df, unit)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for i in range(n_boot):
        pick = rng.integers(0, len(groups), size=len(groups))
        out[i] = stat(np.concatenate([groups[j] for j in pick]))
    return out


def difference_effect(df: pd.DataFrame, factor: str, levels: tuple, value: str, unit: str | None = "seed",
                      n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Effect:
    """``mean(value | factor = levels[1]) - mean(value | factor = levels[0])`` over per-unit means,
    with a bootstrap interval over the units (paired when every unit has both levels)."""
    _check_columns(df, [factor, value, unit])
    level, n_boot = _check_level(level), _check_n_boot(n_boot)
    if len(levels) != 2:
        raise ValueError(f"levels must be a pair (a, b) of values of {factor!r}, got {levels!r}")
    a, b = levels
    present = set(df[factor].unique())
    for lv in levels:
        if lv not in present:
            raise ValueError(f"level {lv!r} not found in column {factor!r}; its values are: {sorted(present, key=str)}")
    sub = df[df[factor].isin(levels)].dropna(subset=[value])
    if unit is None:
        sub = sub.assign(_row=np.arange(len(sub)))
        unit = "_row"
    means = sub.groupby([unit, factor])[value].mean().unstack(factor)  # units x {a, b}
    if not all(lv in means.columns for lv in levels):
        raise ValueError(f"levels {levels!r} of {factor!r} must both have non-missing {value!r} values")
    rng = np.random.default_rng(seed)
    means = means.reindex(columns=[a, b])  # by label: boolean levels must not act as a mask
    paired = means.notna().all(axis=1).all()
    if paired:
        d = (means[b] - means[a]).to_numpy()
        estimate = float(d.mean())
        boot = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
        n = d.size
    else:
        va, vb = means[a].dropna().to_numpy(), means[b].dropna().to_numpy()
        estimate = float(vb.mean() - va.mean())
        boot = (vb[rng.integers(0, vb.size, size=(n_boot, vb.size))].mean(axis=1)
                - va[rng.integers(0, va.size, size=(n_boot, va.size))].mean(axis=1))
        n = min(va.size, vb.size)
    return Effect(estimate, *_interval(boot, level), n=int(n), kind=f"difference {b!r} - {a!r} of {value}")


def _rows_effect(df, x, value, unit, n_boot, level, seed, fn, kind) -> Effect:
    _check_columns(df, [x, value, unit])
    level, n_boot = _check_level(level), _check_n_boot(n_boot)
    sub = df.dropna(subset=[x, value]).reset_index(drop=True)
    if len(sub) < 2:
        raise ValueError(f"need at least 2 rows with {x!r} and {value!r} to estimate a {kind}, got {len(sub)}")
    xs, ys = sub[x].to_numpy(dtype=float), sub[value].to_numpy(dtype=float)
    boot = _bootstrap_rows(sub, unit, lambda rows: fn(xs[rows], ys[rows]), n_boot, seed)
    n = len(sub) if unit is None else sub[unit].nunique()
    return Effect(fn(xs, ys), *_interval(boot, level), n=int(n), kind=f"{kind} of {value} along {x}")


def slope_effect(df: pd.DataFrame, x: str, value: str, unit: str | None = "seed", n_boot: int = 2000,
                 level: float = 0.95, seed: int = 0) -> Effect:
    """Least-squares slope of ``value`` along numeric ``x``, bootstrap over the units."""
    return _rows_effect(df, x, value, unit, n_boot, level, seed, slope, "slope")


def spearman_effect(df: pd.DataFrame, x: str, value: str, unit: str | None = "seed", n_boot: int = 2000,
                    level: float = 0.95, seed: int = 0) -> Effect:
    """Spearman rank correlation of ``value`` with ``x``, bootstrap over the units."""
    return _rows_effect(df, x, value, unit, n_boot, level, seed, spearman, "spearman")


# --- verdict --------------------------------------------------------------------------------------
def verdict(effect: float, ci_low: float, ci_high: float, expected_sign: int) -> str:
    """``"supported"``, ``"not supported"`` or ``"inconclusive"`` by the rule in the module docstring.

    Only the interval decides (a NaN bound gives "inconclusive"); ``effect``, the point estimate, is
    taken so that an effect's three numbers pass through together, and must be a number.
    """
    if isinstance(expected_sign, bool) or expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    try:
        values = [float(v) for v in (effect, ci_low, ci_high)]
    except (TypeError, ValueError):
        raise ValueError(f"effect, ci_low and ci_high must be numbers, "
                         f"got {effect!r}, {ci_low!r}, {ci_high!r}") from None
    if any(math.isnan(v) for v in values[1:]):
        return "inconclusive"
    if ci_low > ci_high:
        raise ValueError(f"ci_low must be <= ci_high, got ci_low={ci_low!r}, ci_high={ci_high!r}")
    if ci_low > 0:
        sign = 1
    elif ci_high < 0:
        sign = -1
    else:
        return "inconclusive"
    return "supported" if sign == expected_sign else "not supported"
