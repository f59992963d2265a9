"""Statistics on synthetic data whose answer is known (snnlib.analysis.stats)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats as sps

from snnlib.analysis.stats import (Effect, aggregate, difference_effect, mean_ci, slope, slope_effect, spearman,
                          spearman_effect, verdict)

torch.set_num_threads(1)

SEEDS = range(5)


# --- mean_ci --------------------------------------------------------------------------------------
def test_mean_ci_matches_student_t():
    values = [0.8, 0.85, 0.9, 0.82, 0.88]
    m, lo, hi = mean_ci(values)
    half = sps.t.ppf(0.975, 4) * np.std(values, ddof=1) / math.sqrt(5)
    assert m == pytest.approx(np.mean(values))
    assert (lo, hi) == pytest.approx((m - half, m + half))
    assert mean_ci(values, level=0.5).ci_high < hi  # a lower level gives a narrower interval


def test_mean_ci_single_value_is_nan_and_constant_is_degenerate():
    m, lo, hi = mean_ci([0.7])
    assert m == 0.7 and math.isnan(lo) and math.isnan(hi)
    assert tuple(mean_ci([0.5, 0.5, 0.5])) == (0.5, 0.5, 0.5)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")]])
def test_mean_ci_rejects_empty_and_nan(bad):
    with pytest.raises(ValueError, match="values"):
        mean_ci(bad)


@pytest.mark.parametrize("level", [0, 1, 95, "0.95"])
def test_mean_ci_rejects_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        mean_ci([1.0, 2.0], level=level)


def test_mean_ci_coverage_is_nominal():
    rng = np.random.default_rng(0)
    samples = rng.normal(3.0, 2.0, size=(2000, 5))
    covered = [lo <= 3.0 <= hi for _, lo, hi in (mean_ci(s) for s in samples)]
    assert 0.93 <= np.mean(covered) <= 0.97


# --- aggregate ------------------------------------------------------------------------------------
def frame():
    rows = [dict(variant=v, seed=s, acc=base + 0.01 * s, rate=0.1 * s)
            for v, base in (("LIF", 0.9), ("IF", 0.8)) for s in SEEDS]
    return pd.DataFrame(rows)


def test_aggregate_single_value():
    out = aggregate(frame(), "variant", "acc")
    assert list(out.columns) == ["variant", "mean", "ci_low", "ci_high", "n"]
    lif = out.set_index("variant").loc["LIF"]
    expected = mean_ci([0.9 + 0.01 * s for s in SEEDS])
    assert (lif["mean"], lif["ci_low"], lif["ci_high"], lif["n"]) == pytest.approx((*expected, 5))


def test_aggregate_several_values_is_long():
    out = aggregate(frame(), ["variant"], ["acc", "rate"])
    assert list(out.columns) == ["variant", "metric", "mean", "ci_low", "ci_high", "n"]
    assert len(out) == 4 and set(out["metric"]) == {"acc", "rate"}


def test_aggregate_rejects_missing_column():
    with pytest.raises(ValueError, match="nope"):
        aggregate(frame(), "variant", "nope")


# --- point estimates ------------------------------------------------------------------------------
def test_slope_and_spearman_known_answers():
    x = np.arange(10.0)
    assert slope(x, 3 * x + 1) == pytest.approx(3.0)
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert spearman(x, -x ** 3) == pytest.approx(-1.0)
    y = np.random.default_rng(1).normal(size=10)
    assert spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert math.isnan(slope(np.ones(4), np.arange(4.0)))


# --- effects and verdicts -------------------------------------------------------------------------
def two_levels(delta: float, noise: float = 0.01, seed: int = 0, n_seeds: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_seeds):
        base = 0.8 + rng.normal(0, 0.05)  # a seed effect shared by both levels (paired design)
        rows.append(dict(seed=s, reset="hard", acc=base + rng.normal(0, noise)))
        rows.append(dict(seed=s, reset="none", acc=base + delta + rng.normal(0, noise)))
    return pd.DataFrame(rows)


def sweep(slope_true: float, noise: float = 0.01, seed: int = 0, n_seeds: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([dict(seed=s, decay=d, acc=0.5 + slope_true * d + rng.normal(0, noise))
                         for s in range(n_seeds) for d in (0.2, 0.4, 0.6, 0.8, 1.0)])


def test_difference_effect_verdicts():
    pos = difference_effect(two_levels(+0.1), "reset", ("hard", "none"), "acc")
    assert isinstance(pos, Effect) and pos.n == 5
    assert pos.estimate == pytest.approx(0.1, abs=0.02)
    assert pos.ci_low <= pos.estimate <= pos.ci_high
    assert pos.verdict(+1) == "supported"
    neg = difference_effect(two_levels(-0.1), "reset", ("hard", "none"), "acc")
    assert verdict(*neg[:3], expected_sign=+1) == "not supported"
    assert neg.verdict(-1) == "supported"
    null = difference_effect(two_levels(0.0, noise=0.05), "reset", ("hard", "none"), "acc")
    assert null.ci_low < 0 < null.ci_high
    assert null.verdict(+1) == "inconclusive" and null.verdict(-1) == "inconclusive"


def test_difference_effect_unpaired_when_units_differ():
    df = two_levels(0.1)
    df.loc[df["reset"] == "none", "seed"] += 100  # no unit has both levels
    eff = difference_effect(df, "reset", ("hard", "none"), "acc")
    assert eff.estimate == pytest.approx(0.1, abs=0.05)
    paired = difference_effect(two_levels(0.1), "reset", ("hard", "none"), "acc")
    # pairing removes the shared seed effect, so the paired interval is narrower
    assert paired.ci_high - paired.ci_low < eff.ci_high - eff.ci_low


def test_slope_and_spearman_effect_verdicts():
    up, down, flat = sweep(0.3), sweep(-0.3), sweep(0.0, noise=0.05)
    s = slope_effect(up, "decay", "acc")
    assert s.estimate == pytest.approx(0.3, abs=0.03) and s.n == 5
    assert s.verdict(+1) == "supported"
    assert slope_effect(down, "decay", "acc").verdict(+1) == "not supported"
    assert slope_effect(flat, "decay", "acc").verdict(+1) == "inconclusive"
    r = spearman_effect(up, "decay", "acc")
    assert r.estimate > 0.9 and r.verdict(+1) == "supported"
    assert spearman_effect(down, "decay", "acc").verdict(+1) == "not supported"
    assert spearman_effect(flat, "decay", "acc").verdict(-1) == "inconclusive"


def test_bootstrap_is_deterministic_with_a_seed():
    df = sweep(0.1, noise=0.1)
    for fn, args in ((slope_effect, ("decay", "acc")), (spearman_effect, ("decay", "acc"))):
        assert fn(df, *args, seed=3) == fn(df, *args, seed=3)
        assert fn(df, *args, seed=3) != fn(df, *args, seed=4)
    d = two_levels(0.05, noise=0.05)
    assert difference_effect(d, "reset", ("hard", "none"), "acc", seed=1) == \
        difference_effect(d, "reset", ("hard", "none"), "acc", seed=1)


def test_bootstrap_slope_coverage_sanity():
    # with 20 seeds the cluster bootstrap should cover the true slope most of the time
    covered = []
    for rep in range(60):
        eff = slope_effect(sweep(0.2, noise=0.1, seed=rep, n_seeds=20), "decay", "acc", n_boot=300, seed=rep)
        covered.append(eff.ci_low <= 0.2 <= eff.ci_high)
    assert np.mean(covered) >= 0.85


def test_verdict_rule_and_validation():
    assert verdict(0.1, 0.05, 0.15, 1) == "supported"
    assert verdict(-0.1, -0.15, -0.05, -1) == "supported"
    assert verdict(-0.1, -0.15, -0.05, 1) == "not supported"
    assert verdict(0.1, 0.0, 0.2, 1) == "inconclusive"  # touching 0 is containing 0
    assert verdict(0.1, float("nan"), float("nan"), 1) == "inconclusive"
    for bad in (0, 2, "+", True):
        with pytest.raises(ValueError, match="expected_sign"):
            verdict(0.1, 0.05, 0.15, bad)
    with pytest.raises(ValueError, match="ci_low"):
        verdict(0.1, 0.2, 0.1, 1)


def test_effect_input_validation():
    df = two_levels(0.1)
    with pytest.raises(ValueError, match="level 'soft'"):
        difference_effect(df, "reset", ("hard", "soft"), "acc")
    with pytest.raises(ValueError, match="levels"):
        difference_effect(df, "reset", ("hard",), "acc")
    with pytest.raises(ValueError, match="n_boot"):
        slope_effect(sweep(0.1), "decay", "acc", n_boot=0)
    with pytest.raises(ValueError, match="missing_col"):
        slope_effect(sweep(0.1), "missing_col", "acc")


def test_difference_effect_with_boolean_levels_is_by_label():
    # Regression: boolean levels once acted as a row mask when the number of seeds was 2.
    import pandas as pd
    from snnlib.analysis.stats import difference_effect
    for n_seeds in (2, 3, 5):
        df = pd.DataFrame({"seed": list(range(n_seeds)) * 2, "flag": [False] * n_seeds + [True] * n_seeds,
                           "v": [0.0] * n_seeds + [1.0] * n_seeds})
        assert difference_effect(df, "flag", (False, True), "v").estimate == 1.0
