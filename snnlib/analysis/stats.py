r"""Statistics over seeds: per-seed effects, Student-t intervals (on the Fisher-z scale for rank
correlations), exact sign-flip p-values, verdicts against a smallest effect size of interest, the
multiplicity correction of each family of effects, and the rule that combines the two arms of a trade-off.

**Means.** :func:`mean_ci` gives the mean :math:`m` of :math:`n` values with sample standard deviation
:math:`s` (``ddof = 1``) and the Student-t interval

.. math::  m \pm t_{(1+L)/2,\,n-1}\, s / \sqrt{n}

at level :math:`L`. One value has no spread to estimate: its bounds are NaN, never a zero-width
interval that would look certain; :math:`n \ge 2` identical values give :math:`[m, m]`.
:func:`aggregate` applies it per group of a DataFrame (the error bars of the figures).

**Per-seed effects.** The design is paired: one seed is one data set and one initialization, shared
by every variant of a comparison, and the seeds are the independent replicates. Each effect is
therefore reduced to *one number per seed* before anything is inferred. For seed :math:`s`,
:func:`per_seed_difference` gives

.. math::

   d_s = \bar y_{s,b} - \bar y_{s,a}
   \qquad\text{or, relative,}\qquad d_s = (\bar y_{s,b} - \bar y_{s,a}) / \bar y_{s,a},

the mean of ``value`` at level :math:`b` of the factor minus its mean at level :math:`a` (levels
chosen by label), and :func:`per_seed_trend` gives the Spearman rank correlation
:math:`\rho_s` (or the least-squares slope
:math:`\beta_s = \sum (x - \bar x)(y - \bar y) / \sum (x - \bar x)^2`) of ``value`` along a swept factor
:math:`x` within seed :math:`s`. Seeds lacking a level (or whose trend is undefined, NaN) are dropped;
fewer than two remaining seeds is an error. Pooling all (level, seed) rows into one statistic would
treat rows of one seed as independent and mix the between-seed spread of the level into the
within-seed effect; the per-seed values are independent and identically distributed, one per replicate.

**Correlations on the Fisher-z scale** (``transform="fisher_z"``, :func:`fisher_z`). A rank
correlation lives in :math:`[-1, 1]`, and a Student-t interval of per-seed :math:`\rho_s` can leave it
(a row of the quick profile once gave :math:`[0.27, 1.33]`). Such effects are summarised on the Fisher-z scale

.. math::

   z_s = \operatorname{artanh}\big(\operatorname{clip}(\rho_s, -c, c)\big), \quad c = 0.999999,
   \qquad \hat\rho = \tanh(\bar z), \qquad [\tanh(\bar z - h), \tanh(\bar z + h)],

with :math:`\bar z \pm h` the Student-t interval of the :math:`z_s` above. :math:`\tanh` maps the real
line into :math:`(-1, 1)`, so the interval never leaves the range of :math:`\rho`; the estimate
:math:`\hat\rho` (the back-transformed mean :math:`z`, the usual average of correlations) always lies
inside it. The clip keeps a seed with :math:`\rho_s = \pm 1` finite (:math:`|z_s| \le 7.25`); where
many seeds reach :math:`\pm 1` (a rank correlation over six λ levels often does) the clipped
:math:`z_s` pull :math:`\hat\rho` towards :math:`\pm 1` (simulated: :math:`\hat\rho \to 0.98` where the
mean per-seed :math:`\rho_s` is 0.89), so :func:`adjust` also reports the plain mean of the per-seed
values (``mean_value``). The sign-flip p-value is computed on the :math:`z_s` too; since
:math:`\operatorname{artanh}` is odd, the null hypothesis (each :math:`z_s` symmetric about 0) is the
same as for :math:`\rho_s`. Simulated over twelve seeds, the interval covers :math:`\tanh(E z)` at
91 - 97% from no trend to a trend where two seeds in three reach :math:`\rho_s = 1`.

**One effect** (:func:`summarize`): the estimate is the mean :math:`\bar d` of the :math:`n` per-seed
values (back-transformed on the Fisher-z scale), its interval the Student-t interval above, and its
p-value the exact two-sided *sign-flip* permutation p-value of the mean (:func:`sign_flip_p`). Under
the null hypothesis of no effect the labels :math:`a, b` of a seed could be swapped, so each
:math:`d_s` is symmetric about 0 and every sign pattern :math:`\varepsilon \in \{-1, +1\}^n` is equally
likely:

.. math::  p = \frac{\#\{\varepsilon : |\sum_s \varepsilon_s d_s| \ge |\sum_s d_s|\}}{2^n}.

For :math:`n \le 20` all :math:`2^n` patterns are enumerated (exact); above, :math:`R = 100\,000`
patterns are drawn from a generator of fixed seed and :math:`p = (1 + \#) / (1 + R)`, which is never 0
and stays a valid p-value. Sums within :math:`10^{-9} \sum |d_s|` of the observed one count as equal
(rounding), and a sum that is 0 to that tolerance gives :math:`p = 1`. Since the observed pattern and its
negation always count, :math:`p \ge 2/2^n` (:func:`sign_flip_floor`; 5 seeds: 0.0625; 12 seeds:
0.000488).

The t-interval is used rather than a percentile bootstrap: over 5 - 12 seeds the percentile bootstrap
is too narrow (about 0.63 of the t width at 5 seeds, coverage near 85% instead of 95%), while the
t-interval is exact for normal per-seed values and close to nominal for moderately skewed ones.
For effects whose per-seed values are strongly skewed or piled against a bound, ``method="bca"``
gives the bias-corrected and accelerated bootstrap interval of the mean
(``scipy.stats.bootstrap``, 9 999 resamples, fixed seed); it too undercovers at very few seeds.

**Verdicts** (:func:`verdict`). With the interval :math:`[l, h]`, the estimate :math:`\bar d`, the
smallest effect size of interest :math:`\delta \ge 0` (SESOI: an effect smaller than :math:`\delta`
does not matter, however certain) and the claim's expected sign :math:`e = \pm 1`, the first rule that
applies gives the label (:data:`VERDICTS`):

.. math::

   \begin{array}{ll}
   \textit{supported}     & \text{the interval excludes 0 on the side } e \text{ } (l > 0 \text{ if } e = +1,
                            \ h < 0 \text{ if } e = -1) \text{ and } |\bar d| \ge \delta \text{ and significant} \\
   \textit{not supported} & \text{the interval excludes 0 on the other side and significant} \\
   \textit{negligible}    & -\delta < l \text{ and } h < \delta \\
   \textit{inconclusive}  & \text{otherwise, NaN bounds included.}
   \end{array}

"Excludes 0" is strict: a bound exactly at 0 does not exclude it; an estimate exactly at
:math:`\delta` is large enough; a bound exactly at :math:`\pm\delta` is not inside
:math:`(-\delta, \delta)`. "Significant" is an extra condition, the adjusted p below :math:`\alpha`
when judged in a family (:func:`adjust`), and true when not given. Reasons: *supported* needs a
direction beyond chance *and* a size that matters; a direction opposite to the prediction refutes the
claim at any size, so *not supported* needs no :math:`\delta`; *negligible* is an equivalence test (the
whole interval within :math:`\pm\delta`; at the :math:`1-\alpha` level it is conservative, as the two
one-sided tests would use :math:`1-2\alpha`). A significant effect in the predicted direction but below
:math:`\delta` is *negligible* if its interval lies inside :math:`\pm\delta`, else *inconclusive*. For
two-sided questions (:math:`e = 0`) the labels are :data:`TWO_SIDED`: *higher* (:math:`l > 0`),
*lower* (:math:`h < 0`), each with :math:`|\bar d| \ge \delta` and significant, then *negligible*,
then *inconclusive*.

**Saturated** (:func:`saturated`, :data:`SATURATED`). A contrast between groups whose measure is
bounded (an accuracy between chance :math:`c_0` and the ceiling :math:`c_1 = 1`; a chance-corrected
robustness between 0 and 1) has no room to show an effect when every group sits at the same bound. With
:math:`g_{\min}, g_{\max}` the smallest and largest group mean (the two arms of a difference; every
level of a swept factor for a trend) and the margin :math:`\mu = 0.02` (two points),

.. math::  \text{saturated} \iff g_{\min} \ge c_1 - \mu \ \text{ or } \ g_{\max} \le c_0 + \mu .

Such a row is still tested (its family is fixed before the data are seen), but it is labelled
*saturated*, not *negligible*: "no difference between two networks at 99.7%" says nothing about the
component. One group at chance and the other at the ceiling is the largest effect there is, not a
saturated one.

**Multiplicity** (:func:`adjust`). Effects are judged in *families*, each holding its error rate by
itself; the caller decides which rows form a family (:mod:`snnlib.analysis.claims`: the pre-registered
primary contrasts form the confirmatory family, every other row the exploratory one).
``adjustment="holm"`` holds the family-wise error rate at :math:`\alpha = 0.05` by Holm's step-down
procedure (valid under any dependence between effects). With the :math:`m` raw p-values sorted,
:math:`p_{(1)} \le \dots \le p_{(m)}`,

.. math::  \tilde p_{(r)} = \max_{j \le r} \min\{1, (m - j + 1)\, p_{(j)}\},

and the effect of rank :math:`r` (tied p-values share the smallest rank, as they share
:math:`\tilde p`) gets the t-interval at level

.. math::  L_r = \max\{1 - \alpha,\ 1 - \alpha / (m - r + 1)\},

so that its interval excludes 0 exactly when its t-test passes Holm's step :math:`r`.
``adjustment="bh"`` holds the false discovery rate at :math:`\alpha` by Benjamini and Hochberg's
step-up procedure (valid for independent or positively dependent tests),

.. math::  \tilde p_{(r)} = \min_{j \ge r} \min\{1, m\, p_{(j)} / j\},

and, with :math:`R` the number of discoveries (:math:`\tilde p < \alpha`), each discovery gets the
false-coverage-rate interval of Benjamini and Yekutieli (2005) at level :math:`1 - R\alpha/m`; the
other rows keep :math:`1 - \alpha`. In both cases the verdict uses this interval *and* requires
:math:`\tilde p < \alpha` for *supported*, *not supported*, *higher* and *lower*: the adjusted p carries
the step-wise procedure and ties the verdict to the exact permutation test, the interval ties it to the
t-test and gives the comparison with :math:`\delta`. The unadjusted 95% interval is kept for the tables.

**Enough seeds for the family** (:func:`sign_flip_floor`, :func:`holm_floor`, :func:`seeds_needed`).
Since :math:`p \ge 2/2^n`, Holm's smallest adjusted p in a family of :math:`m` is at least
:math:`m \cdot 2/2^n`, and not one effect of the family can be declared unless
:math:`m \cdot 2/2^n < \alpha`, i.e. :math:`n > 1 + \log_2(m/\alpha)`. For the :math:`m = 6` primary
contrasts of the study: :math:`n \ge 8` (:math:`6 \cdot 2/256 = 0.047`); 12 seeds give
:math:`6 \cdot 2/4096 = 0.0029`: the first step (:math:`p < \alpha/6`) passes when fewer than 35 of
the 4096 sign patterns reach the observed sum (every seed agreeing in sign, or one or two small ones
disagreeing). Five seeds can declare nothing, even alone (:math:`2/32 = 0.0625`). The 65 effects of
the study judged as one Holm family would need :math:`n \ge 12` for the first step alone, and every
primary contrast would pay for the exploratory rows in its Holm multiplier.

**A trade-off** (:func:`combine_tradeoff`) asserts two effects at once (a gain in one measure and a
cost in another); it stands only if both stand:

.. math::

   \begin{array}{ll}
   \textit{not supported} & \text{if any arm is not supported (one refuted arm refutes the trade-off)} \\
   \textit{supported}     & \text{if every arm is supported} \\
   \textit{negligible}    & \text{if any arm is negligible and none is supported} \\
   \textit{saturated}     & \text{if any arm is saturated (and no rule above applies)} \\
   \textit{inconclusive}  & \text{otherwise.}
   \end{array}

One arm supported and the other negligible is *inconclusive*: half of the trade-off is established,
the other is absent; the per-arm verdicts say which. An arm is decided by its one primary contrast
(:mod:`snnlib.analysis.claims`), never by a vote over rows: a majority over a grid of tasks and
levels lets the grid, e.g. how many of its rows sit at the ceiling, decide the verdict.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from snnlib.checks import check_int

__all__ = ["MeanCI", "VERDICTS", "TWO_SIDED", "SATURATED", "ADJUSTMENTS", "TRANSFORMS", "EXACT_MAX_N", "mean_ci",
           "aggregate", "slope", "spearman", "fisher_z", "per_seed_difference", "per_seed_trend", "sign_flip_p",
           "sign_flip_floor", "holm_floor", "seeds_needed", "summarize", "verdict", "saturated", "adjust",
           "combine_tradeoff"]

VERDICTS = ("supported", "not supported", "negligible", "inconclusive")
TWO_SIDED = ("higher", "lower", "negligible", "inconclusive")
SATURATED = "saturated"  # every group at the same bound: the row's label whatever its interval says
EXACT_MAX_N = 20  # sign-flip p-values are exact (all 2^n patterns) up to this many seeds
METHODS = ("t", "bca")
TRENDS = ("spearman", "slope")
ADJUSTMENTS = ("holm", "bh")  # family-wise error rate (Holm) or false discovery rate (Benjamini-Hochberg)
TRANSFORMS = ("identity", "fisher_z")  # the scale an effect is summarised on
FISHER_CLIP = 0.999999  # |ρ| is clipped to this before artanh, so that ρ = ±1 stays finite
SATURATION_MARGIN = 0.02  # two points of accuracy (or of chance-corrected robustness)


class MeanCI(NamedTuple):
    """A mean and its confidence interval."""

    mean: float
    ci_low: float
    ci_high: float


# --- checks ---------------------------------------------------------------------------------------
def _check_level(level, name: str = "level") -> float:
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ValueError(f"{name} must be a number in (0, 1), e.g. {0.95 if name == 'level' else 0.05}, got {level!r}")
    return float(level)


def _check_values(values, name: str = "values") -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {values!r}") from None
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one number, got none")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {values!r}")
    return arr


def _check_columns(df: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the DataFrame; its columns are: {list(df.columns)}")


def _check_sign(expected_sign) -> int:
    ok = not isinstance(expected_sign, (bool, np.bool_)) and isinstance(expected_sign, (int, float, np.number))
    if not ok or expected_sign not in (1, -1, 0):
        raise ValueError(f"expected_sign must be +1, -1 or 0 (two-sided), got {expected_sign!r}")
    return int(expected_sign)


def _check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _check_choice(value, allowed: tuple, name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


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


def _bca(arr: np.ndarray, level: float) -> tuple[float, float]:
    """BCa bootstrap interval of the mean (NaN where it is undefined: fewer than 3 or identical values)."""
    if arr.size < 3 or np.ptp(arr) == 0:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sps.bootstrap((arr,), np.mean, confidence_level=level, n_resamples=9999, method="BCa",
                            random_state=np.random.default_rng(0))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _interval(arr: np.ndarray, level: float, method: str) -> tuple[float, float]:
    if method == "bca":
        return _bca(arr, level)
    return tuple(mean_ci(arr, level)[1:])


def fisher_z(values) -> np.ndarray:
    """``artanh(clip(ρ, -0.999999, 0.999999))`` of correlations ``values`` (each in [-1, 1]; module
    docstring); the inverse is ``numpy.tanh``."""
    arr = _check_values(values)
    if np.any(np.abs(arr) > 1):
        raise ValueError(f"values must be correlations in [-1, 1] for the Fisher-z transform, got {values!r}")
    return np.arctanh(np.clip(arr, -FISHER_CLIP, FISHER_CLIP))


def _scale(arr: np.ndarray, transform: str) -> tuple[np.ndarray, Callable]:
    """The values on the scale they are summarised on, and the map back to their own scale."""
    if transform == "fisher_z":
        return fisher_z(arr), np.tanh
    return arr, (lambda v: v)


# --- point estimates (pure) -----------------------------------------------------------------------
def slope(x, y) -> float:
    """Least-squares slope of ``y`` on ``x``; NaN if ``x`` does not vary."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = x - x.mean()
    sxx = float(dx @ dx)
    return float(dx @ (y - y.mean()) / sxx) if sxx > 0 else math.nan


def spearman(x, y) -> float:
    """Spearman rank correlation of ``x`` and ``y`` (average ranks for ties); NaN if either is constant."""
    rx, ry = sps.rankdata(np.asarray(x, dtype=float)), sps.rankdata(np.asarray(y, dtype=float))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / denom) if denom > 0 else math.nan


# --- per-seed effects -----------------------------------------------------------------------------
def _enough_seeds(effect: pd.Series, what: str) -> pd.Series:
    if len(effect) < 2:
        raise ValueError(f"need at least 2 seeds with {what}, got {len(effect)}")
    return effect


def per_seed_difference(df: pd.DataFrame, factor: str, levels: tuple, value: str, seed: str = "seed",
                        ratio: bool = False) -> pd.Series:
    """Per seed, ``mean(value | factor = b) - mean(value | factor = a)`` for ``levels = (a, b)``.

    With ``ratio=True`` the relative difference ``(b - a) / a`` (a seed whose ``a`` mean is 0 has none
    and is dropped). Levels are selected by label (``False``/``True`` are labels, not a row mask);
    missing values are ignored; seeds lacking either level are dropped. Returns a Series indexed by
    seed, sorted; fewer than 2 seeds left raises ``ValueError``.
    """
    _check_columns(df, [factor, value, seed])
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or len(levels) != 2:
        raise ValueError(f"levels must be a pair (a, b) of values of {factor!r}, got {levels!r}")
    a, b = levels
    if a == b:
        raise ValueError(f"levels must be two different values of {factor!r}, got {levels!r}")
    for lv in levels:
        if not (df[factor] == lv).any():
            present = sorted(df[factor].drop_duplicates().tolist(), key=str)
            raise ValueError(f"level {lv!r} not found in column {factor!r}; its values are: {present}")
    rows = df[df[value].notna()]
    means = [rows.loc[(rows[factor] == lv).to_numpy(dtype=bool), [seed, value]].groupby(seed)[value].mean()
             for lv in (a, b)]
    both = pd.concat(means, axis=1, keys=["a", "b"]).dropna()
    effect = both["b"] - both["a"]
    if ratio:
        effect = effect / both["a"]
        effect = effect[np.isfinite(effect.to_numpy(dtype=float))]
    effect = effect.sort_index().rename(f"{value}: {b} / {a} - 1" if ratio else f"{value}: {b} - {a}")
    effect.index.name = seed
    return _enough_seeds(effect, f"both levels {a!r} and {b!r} of {factor!r} and a value of {value!r}")


def per_seed_trend(df: pd.DataFrame, x: str, value: str, seed: str = "seed", method: str = "spearman") -> pd.Series:
    """Per seed, the Spearman rank correlation (``method="spearman"``) or least-squares slope
    (``method="slope"``) of ``value`` along ``x``, over that seed's rows.

    Rows missing ``x`` or ``value`` are ignored; seeds whose statistic is undefined (NaN: fewer than 2
    rows, or ``x`` constant; for Spearman also ``value`` constant) are dropped. Returns a Series indexed
    by seed, sorted; fewer than 2 seeds left raises ``ValueError``.
    """
    _check_columns(df, [x, value, seed])
    if method not in TRENDS:
        raise ValueError(f"method must be one of {TRENDS}, got {method!r}")
    fn = spearman if method == "spearman" else slope
    rows = df.dropna(subset=[x, value])
    effect = pd.Series({s: fn(g[x].to_numpy(dtype=float), g[value].to_numpy(dtype=float))
                        for s, g in rows.groupby(seed, sort=True)}, dtype=float)
    effect = effect.dropna().rename(f"{method} of {value} along {x}")
    effect.index.name = seed
    return _enough_seeds(effect, f"a defined {method} of {value!r} along {x!r}")


# --- one effect -----------------------------------------------------------------------------------
def _exact_sign_flip(arr: np.ndarray, observed: float) -> float:
    """Exact p over all 2^n sign patterns: the first sign is fixed to +1 (patterns come in pairs
    ``±ε`` with the same ``|Σ ε d|``), the other ``n - 1`` signs enumerated in blocks."""
    rest, count = arr[1:], 0
    n_rest = rest.size
    bits = np.arange(n_rest)
    total = 1 << n_rest
    block = 1 << min(n_rest, 14)
    for start in range(0, total, block):
        codes = np.arange(start, min(start + block, total))
        signs = 1.0 - 2.0 * ((codes[:, None] >> bits) & 1)
        count += int(np.count_nonzero(np.abs(arr[0] + signs @ rest) >= observed))
    return count / total


def sign_flip_p(values, n_resamples: int = 100_000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value of the mean of ``values`` (one per seed).

    ``p = #{ε ∈ {±1}^n : |Σ ε_s d_s| ≥ |Σ d_s|} / 2^n``, exact for ``n ≤ EXACT_MAX_N`` (20); for more
    values, ``n_resamples`` random sign patterns from ``numpy.random.default_rng(seed)`` and
    ``p = (1 + #) / (1 + n_resamples)``. Sums within ``1e-9 · Σ|d|`` of the observed count as equal;
    an observed sum of 0 (to that tolerance) gives 1.
    """
    arr = _check_values(values)
    n_resamples, seed = check_int("n_resamples", n_resamples), check_int("seed", seed, minimum=0)
    tol = 1e-9 * float(np.abs(arr).sum())
    observed = abs(float(arr.sum()))
    if observed <= tol:
        return 1.0
    if arr.size <= EXACT_MAX_N:
        return _exact_sign_flip(arr, observed - tol)
    rng = np.random.default_rng(seed)
    count, left = 0, n_resamples
    while left:
        k = min(left, 10_000)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(k, arr.size))
        count += int(np.count_nonzero(np.abs(signs @ arr) >= observed - tol))
        left -= k
    return (1 + count) / (1 + n_resamples)


def summarize(values, level: float = 0.95, method: str = "t", transform: str = "identity") -> dict:
    """``dict(estimate, ci_low, ci_high, p, n_seeds)`` of one effect's per-seed ``values``.

    ``estimate`` is their mean; the interval is Student-t at ``level`` (``method="t"``, the default and
    the study's choice) or the BCa bootstrap (``method="bca"``); ``p`` is :func:`sign_flip_p`.
    One value gives NaN bounds and ``p = 1``. With ``transform="fisher_z"`` (per-seed correlations) the
    estimate, the interval and ``p`` are computed on the Fisher-z scale and the estimate and bounds
    mapped back with ``tanh`` (:func:`fisher_z`): they stay within [-1, 1].
    """
    level, method = _check_level(level), _check_method(method)
    transform = _check_choice(transform, TRANSFORMS, "transform")
    arr = _check_values(values)
    scaled, back = _scale(arr, transform)
    low, high = _interval(scaled, level, method)
    return dict(estimate=float(back(scaled.mean())), ci_low=float(back(low)), ci_high=float(back(high)),
                p=sign_flip_p(scaled), n_seeds=int(arr.size))


# --- verdicts -------------------------------------------------------------------------------------
def verdict(estimate: float, ci_low: float, ci_high: float, sesoi: float, expected_sign: int,
            significant: bool | None = None) -> str:
    """The verdict of one effect by the rules of the module docstring.

    ``expected_sign`` ``+1``/``-1`` gives one of :data:`VERDICTS`, ``0`` (two-sided) one of
    :data:`TWO_SIDED`. ``sesoi`` is the smallest effect size of interest (``>= 0``, in the effect's
    units). ``significant=False`` forbids the directional labels (supported, not supported, higher,
    lower); ``None`` leaves the decision to the interval alone. NaN bounds give "inconclusive".
    """
    sign = _check_sign(expected_sign)
    try:
        estimate, ci_low, ci_high, sesoi = (float(v) for v in (estimate, ci_low, ci_high, sesoi))
    except (TypeError, ValueError):
        raise ValueError(f"estimate, ci_low, ci_high and sesoi must be numbers, "
                         f"got {estimate!r}, {ci_low!r}, {ci_high!r}, {sesoi!r}") from None
    if not (sesoi >= 0 and math.isfinite(sesoi)):
        raise ValueError(f"sesoi must be a finite number >= 0, got {sesoi!r}")
    if significant is not None and not isinstance(significant, (bool, np.bool_)):
        raise ValueError(f"significant must be True, False or None, got {significant!r}")
    if any(math.isnan(v) for v in (estimate, ci_low, ci_high)):
        return "inconclusive"
    if ci_low > ci_high:
        raise ValueError(f"ci_low must be <= ci_high, got ci_low={ci_low!r}, ci_high={ci_high!r}")
    side = 1 if ci_low > 0 else -1 if ci_high < 0 else 0  # the side of 0 the interval lies on, strictly
    directional = side != 0 and (significant is None or bool(significant))
    large = abs(estimate) >= sesoi
    if sign == 0:
        if directional and large:
            return "higher" if side > 0 else "lower"
    elif directional and side == sign and large:
        return "supported"
    elif directional and side == -sign:
        return "not supported"
    if -sesoi < ci_low and ci_high < sesoi:
        return "negligible"
    return "inconclusive"


def saturated(low: float, high: float, chance: float, ceiling: float | None = 1.0,
              margin: float = SATURATION_MARGIN) -> bool:
    """Whether a contrast's groups all sit at one bound of their measure (module docstring):
    ``low >= ceiling - margin`` or ``high <= chance + margin``, with ``low``, ``high`` the smallest and
    largest group mean. ``ceiling=None`` (or NaN) checks the chance bound alone (a measure such as SynOps
    compared at matched accuracy has no ceiling to saturate). NaN group means give ``False``."""
    try:
        low, high, chance = float(low), float(high), float(chance)
        ceiling = math.nan if ceiling is None else float(ceiling)
        margin = float(margin)
    except (TypeError, ValueError):
        raise ValueError(f"low, high, chance, ceiling and margin must be numbers, got "
                         f"{low!r}, {high!r}, {chance!r}, {ceiling!r}, {margin!r}") from None
    if not margin >= 0:
        raise ValueError(f"margin must be a number >= 0, got {margin!r}")
    if math.isnan(low) or math.isnan(high) or math.isnan(chance):
        return False
    if low > high:
        raise ValueError(f"low must be <= high (the smallest and largest group mean), got {low!r} > {high!r}")
    at_ceiling = not math.isnan(ceiling) and low >= ceiling - margin
    return bool(at_ceiling or high <= chance + margin)


def sign_flip_floor(n: int) -> float:
    """The smallest exact two-sided sign-flip p-value of ``n`` seeds, ``2 / 2^n``."""
    n = check_int("n", n)
    return 2.0 / 2 ** n


def holm_floor(n: int, m: int) -> float:
    """The smallest Holm-adjusted p a family of ``m`` effects over ``n`` seeds can reach,
    ``min(1, m · 2 / 2^n)``: nothing in the family can be declared unless it is below α."""
    m = check_int("m", m)
    return min(1.0, m * sign_flip_floor(n))


def seeds_needed(m: int, alpha: float = 0.05) -> int:
    """The fewest seeds ``n`` at which a family of ``m`` effects can declare one (Holm's first step):
    the smallest ``n`` with ``m · 2 / 2^n < alpha``."""
    m, alpha = check_int("m", m), _check_level(alpha, "alpha")
    n = 1
    while holm_floor(n, m) >= alpha:
        n += 1
    return n


def holm(p: np.ndarray) -> np.ndarray:
    r"""Holm's step-down adjusted p-values: with :math:`p_{(1)} \le \dots \le p_{(m)}`,
    :math:`\tilde p_{(i)} = \min\{1, \max_{j \le i} (m - j + 1)\, p_{(j)}\}`. The same values as statsmodels'
    ``multipletests(method="holm")`` (the tests check it), which calls ``gc.collect()`` on every call: a
    quarter of a second with the study's records in memory, and the stability analysis judges two dozen
    families."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((p.size - np.arange(p.size)) * p[order])
    out = np.empty(p.size)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _adjusted(p: np.ndarray, alpha: float, adjustment: str) -> tuple[np.ndarray, np.ndarray]:
    """``(p_adjusted, level)`` of a family by ``adjustment`` (module docstring): Holm's step-down with
    the Holm-step level of each rank, or Benjamini-Hochberg with the false-coverage-rate level
    ``1 - Rα/m`` for its ``R`` discoveries and ``1 - α`` for the rest."""
    m = p.size
    if adjustment == "holm":
        p_adjusted = holm(p)
        rank = sps.rankdata(p, method="min")  # ties share the smallest rank, as they share p_adjusted
        return p_adjusted, np.maximum(1 - alpha, 1 - alpha / (m - rank + 1))
    p_adjusted = multipletests(p, alpha=alpha, method="fdr_bh")[1]
    discoveries = p_adjusted < alpha
    return p_adjusted, np.where(discoveries, 1 - discoveries.sum() * alpha / m, 1 - alpha)


def adjust(effects: pd.DataFrame, alpha: float = 0.05, method: str = "t", adjustment: str = "holm") -> pd.DataFrame:
    """Judge one family of effects together (rules in the module docstring).

    ``effects`` has one row per effect with at least ``values`` (per-seed values: a list, array or
    Series), ``sesoi`` (``>= 0``) and ``expected`` (``+1``, ``-1`` or ``0`` for two-sided), and
    optionally ``transform`` (``"identity"``, the default, or ``"fisher_z"`` for per-seed correlations).
    ``adjustment`` is ``"holm"`` (family-wise error rate) or ``"bh"`` (false discovery rate). Returns a
    copy with the columns ``estimate``, ``n_seeds``, ``p`` (sign-flip), ``p_adjusted`` (over all rows),
    ``level`` (the interval's level under the adjustment), ``ci_low``, ``ci_high`` (at that level),
    ``ci95_low``, ``ci95_high`` (unadjusted 95%), ``mean_value`` (the plain mean of the per-seed values:
    ``estimate`` itself unless transformed) and ``verdict`` added.
    """
    if not isinstance(effects, pd.DataFrame):
        raise ValueError(f"effects must be a pandas DataFrame, got {type(effects).__name__}")
    _check_columns(effects, ["values", "sesoi", "expected"])
    alpha, method = _check_level(alpha, "alpha"), _check_method(method)
    adjustment = _check_choice(adjustment, ADJUSTMENTS, "adjustment")
    if effects.empty:
        raise ValueError("effects must hold at least one row, got none")
    transforms = effects["transform"] if "transform" in effects else pd.Series("identity", index=effects.index)
    values, backs = [], []
    for (i, v), transform in zip(effects["values"].items(), transforms):
        scaled, back = _scale(_check_values(v, f"values of row {i!r}"), _check_choice(transform, TRANSFORMS,
                                                                                       f"transform of row {i!r}"))
        values.append(scaled)
        backs.append(back)
    p = np.array([sign_flip_p(v) for v in values])
    m = len(values)
    p_adjusted, levels = _adjusted(p, alpha, adjustment)
    if method == "t":
        (low, high), (low95, high95) = _t_intervals(values, levels), _t_intervals(values, np.full(m, 0.95))
    else:
        (low, high), (low95, high95) = (np.array([_bca(v, lv) for v, lv in zip(values, lvs)]).T
                                        for lvs in (levels, np.full(m, 0.95)))
    estimate = np.array([back(v.mean()) for v, back in zip(values, backs)], dtype=float)
    low, high, low95, high95 = (np.array([back(b) for b, back in zip(bounds, backs)], dtype=float)
                                for bounds in (low, high, low95, high95))
    verdicts = [verdict(*args, significant=bool(p_adj < alpha)) for *args, p_adj in
                zip(estimate, low, high, effects["sesoi"], effects["expected"], p_adjusted)]
    return effects.assign(estimate=estimate, n_seeds=[v.size for v in values], p=p, p_adjusted=p_adjusted,
                          level=levels, ci_low=low, ci_high=high, ci95_low=low95, ci95_high=high95,
                          mean_value=[float(back(v).mean()) for v, back in zip(values, backs)], verdict=verdicts)


def _t_intervals(values: list[np.ndarray], levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mean_ci` bounds of each array at its own level, in one vectorised call of the t quantile."""
    n = np.array([v.size for v in values])
    means = np.array([v.mean() for v in values])
    sds = np.array([v.std(ddof=1) if v.size > 1 else math.nan for v in values])
    half = sps.t.ppf((1 + levels) / 2, np.maximum(n - 1, 1)) * sds / np.sqrt(n)
    return means - half, means + half


# --- a trade-off of two arms ---------------------------------------------------------------------
def _check_verdicts(verdicts: Iterable[str], allowed: tuple, what: str) -> list[str]:
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError(f"{what} needs at least one verdict, got none")
    bad = [v for v in verdicts if v not in allowed]
    if bad:
        raise ValueError(f"{what} takes verdicts from {allowed}, got {bad!r}")
    return verdicts


def combine_tradeoff(verdicts: Iterable[str]) -> str:
    """One verdict for a trade-off from its arms' verdicts (:data:`VERDICTS` or :data:`SATURATED`): not
    supported if any arm is, supported if every arm is, negligible if any arm is and none is supported,
    saturated if any arm is, else inconclusive (module docstring)."""
    verdicts = _check_verdicts(verdicts, VERDICTS + (SATURATED,), "combine_tradeoff")
    if "not supported" in verdicts:
        return "not supported"
    if all(v == "supported" for v in verdicts):
        return "supported"
    if "negligible" in verdicts and "supported" not in verdicts:
        return "negligible"
    if SATURATED in verdicts:
        return SATURATED
    return "inconclusive"
