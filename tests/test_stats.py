"""Statistics on synthetic data whose answer is known (snnlib.analysis.stats)."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from snnlib.analysis import stats
from snnlib.analysis.stats import (SATURATED, TWO_SIDED, VERDICTS, adjust, aggregate, combine_tradeoff, fisher_z,
                                   holm_floor, mean_ci, per_seed_difference, per_seed_trend, saturated, seeds_needed,
                                   sign_flip_floor, sign_flip_p, slope, spearman, summarize, verdict)

SEEDS = range(5)
S, NS, N, I = VERDICTS  # supported, not supported, negligible, inconclusive
SAT = SATURATED
H, L = TWO_SIDED[:2]  # higher, lower


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


@pytest.mark.parametrize("level", [0, 1, 95, "0.95", True])
def test_mean_ci_rejects_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        mean_ci([1.0, 2.0], level=level)


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


# --- per-seed differences -------------------------------------------------------------------------
def paired() -> pd.DataFrame:
    # seed: (rows at "hard", rows at "none"); two rows per level and seed are averaged first
    data = {0: ([1.0, 3.0], [4.0, 4.0]), 1: ([2.0, 2.0], [1.0, 2.0]), 2: ([4.0, 4.0], [5.0, 7.0])}
    return pd.DataFrame([dict(seed=s, reset=level, acc=v) for s, (hard, none) in data.items()
                         for level, vals in (("hard", hard), ("none", none)) for v in vals])


def test_per_seed_difference_hand_worked():
    d = per_seed_difference(paired(), "reset", ("hard", "none"), "acc")
    assert isinstance(d, pd.Series) and d.index.name == "seed"
    assert d.to_dict() == {0: 2.0, 1: -0.5, 2: 2.0}  # (4 - 2), (1.5 - 2), (6 - 4)
    r = per_seed_difference(paired(), "reset", ("hard", "none"), "acc", ratio=True)
    assert r.to_dict() == pytest.approx({0: 1.0, 1: -0.25, 2: 0.5})
    assert per_seed_difference(paired(), "reset", ("none", "hard"), "acc").to_dict() == {0: -2.0, 1: 0.5, 2: -2.0}


def test_per_seed_difference_drops_seeds_lacking_a_level_and_missing_values():
    df = paired()
    df = pd.concat([df, pd.DataFrame([dict(seed=9, reset="hard", acc=1.0)])])  # seed 9 lacks "none"
    df.loc[(df["seed"] == 0) & (df["acc"] == 1.0), "acc"] = np.nan  # ignored: seed 0 "hard" mean is 3
    assert per_seed_difference(df, "reset", ("hard", "none"), "acc").to_dict() == {0: 1.0, 1: -0.5, 2: 2.0}


def test_per_seed_difference_ratio_drops_a_zero_baseline():
    df = pd.DataFrame(dict(seed=[0, 0, 1, 1, 2, 2], g=["a", "b"] * 3, v=[0.0, 1.0, 2.0, 3.0, 4.0, 2.0]))
    assert per_seed_difference(df, "g", ("a", "b"), "v", ratio=True).to_dict() == {1: 0.5, 2: -0.5}


def test_per_seed_difference_with_boolean_levels_is_by_label():
    # Regression: boolean levels once acted as a row mask when the number of seeds was 2.
    for n_seeds in (2, 3, 5):
        df = pd.DataFrame({"seed": list(range(n_seeds)) * 2, "flag": [False] * n_seeds + [True] * n_seeds,
                           "v": [0.0] * n_seeds + [1.0] * n_seeds})
        d = per_seed_difference(df, "flag", (False, True), "v")
        assert list(d) == [1.0] * n_seeds


def test_per_seed_difference_errors():
    df = paired()
    with pytest.raises(ValueError, match="level 'soft' not found in column 'reset'"):
        per_seed_difference(df, "reset", ("hard", "soft"), "acc")
    for bad in (("hard",), "hn", ("hard", "none", "x")):
        with pytest.raises(ValueError, match="levels must be a pair"):
            per_seed_difference(df, "reset", bad, "acc")
    with pytest.raises(ValueError, match="two different"):
        per_seed_difference(df, "reset", ("hard", "hard"), "acc")
    with pytest.raises(ValueError, match="missing_col"):
        per_seed_difference(df, "reset", ("hard", "none"), "missing_col")
    one = df[df["seed"] == 0]
    with pytest.raises(ValueError, match="at least 2 seeds .* got 1"):
        per_seed_difference(one, "reset", ("hard", "none"), "acc")


# --- per-seed trends ------------------------------------------------------------------------------
def sweep() -> pd.DataFrame:
    x = [0.2, 0.4, 0.6, 0.8]
    ys = {0: [1.0, 2.0, 3.0, 4.0], 1: [4.0, 3.0, 2.0, 1.0], 2: [1.0, 1.0, 2.0, 2.0], 3: [5.0, 5.0, 5.0, 5.0]}
    return pd.DataFrame([dict(seed=s, decay=xi, acc=yi) for s, y in ys.items() for xi, yi in zip(x, y)])


def test_per_seed_trend_hand_worked():
    rho = per_seed_trend(sweep(), "decay", "acc")
    # seed 2 has tied values: ranks (1.5, 1.5, 3.5, 3.5) against (1, 2, 3, 4) give 4 / sqrt(5 * 4);
    # seed 3 is constant, its ρ undefined: dropped
    assert rho.index.name == "seed" and list(rho.index) == [0, 1, 2]
    assert rho.to_numpy() == pytest.approx([1.0, -1.0, 4 / math.sqrt(20)])
    beta = per_seed_trend(sweep(), "decay", "acc", method="slope")
    assert beta.to_numpy() == pytest.approx([5.0, -5.0, 2.0, 0.0])


def test_per_seed_trend_is_within_seed_not_pooled():
    # every seed rises with x, but the seeds' levels fall: pooled rows would hide the trend
    df = pd.DataFrame([dict(seed=s, x=x, y=10 - 5 * s + x) for s in range(4) for x in range(4)])
    assert per_seed_trend(df, "x", "y").to_numpy() == pytest.approx([1.0] * 4)
    assert spearman(df["x"], df["y"]) < 0.5


def test_per_seed_trend_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        per_seed_trend(sweep(), "decay", "acc", method="pearson")
    with pytest.raises(ValueError, match="at least 2 seeds"):
        per_seed_trend(sweep()[sweep()["seed"] >= 2], "decay", "acc")  # seed 3 is NaN, 1 left
    with pytest.raises(ValueError, match="lam"):
        per_seed_trend(sweep(), "lam", "acc")


# --- sign-flip p and summaries --------------------------------------------------------------------
def brute_force_p(values) -> float:
    values = np.asarray(values, dtype=float)
    observed = abs(values.sum())
    sums = [abs(np.dot(signs, values)) for signs in itertools.product((-1, 1), repeat=values.size)]
    return float(np.mean([s >= observed - 1e-12 for s in sums]))


@pytest.mark.parametrize("n", [1, 2, 5, 8, 11])
def test_sign_flip_p_equals_brute_force_enumeration(n):
    rng = np.random.default_rng(n)
    for shift in (0.0, 0.5, 2.0):
        values = rng.normal(shift, 1.0, size=n)
        assert sign_flip_p(values) == pytest.approx(brute_force_p(values), abs=1e-12)


def test_sign_flip_p_extremes():
    for n in (3, 5, 10):
        assert sign_flip_p(np.arange(1.0, n + 1)) == pytest.approx(2 / 2 ** n)  # the smallest possible
    assert sign_flip_p([1.0, -1.0]) == 1.0
    assert sign_flip_p([0.0, 0.0, 0.0]) == 1.0
    assert sign_flip_p([0.3]) == 1.0


def test_sign_flip_p_monte_carlo_above_exact_limit():
    values = np.random.default_rng(0).normal(0.3, 1.0, size=stats.EXACT_MAX_N + 2)
    exact = stats._exact_sign_flip(values, abs(values.sum()) - 1e-9 * np.abs(values).sum())
    p = sign_flip_p(values)
    assert p == sign_flip_p(values)  # a fixed generator seed
    assert p == pytest.approx(exact, abs=0.005)
    assert sign_flip_p(np.ones(30), n_resamples=1000) == pytest.approx(1 / 1001)  # never 0
    with pytest.raises(ValueError, match="n_resamples"):
        sign_flip_p(values, n_resamples=0)


def test_summarize_is_mean_t_interval_and_sign_flip_p():
    values = [0.1, 0.3, 0.2, 0.25, 0.15, -0.05]
    out = summarize(values)
    assert set(out) == {"estimate", "ci_low", "ci_high", "p", "n_seeds"}
    assert (out["estimate"], out["ci_low"], out["ci_high"]) == pytest.approx(tuple(mean_ci(values)))
    assert out["p"] == sign_flip_p(values) == pytest.approx(brute_force_p(values))
    assert out["n_seeds"] == 6
    assert summarize(values, level=0.99)["ci_low"] < out["ci_low"]
    single = summarize([0.4])
    assert math.isnan(single["ci_low"]) and single["p"] == 1.0


def test_summarize_bca():
    values = [0.1, 0.3, 0.2, 0.25, 0.15, -0.05, 0.4, 0.12]
    bca = summarize(values, method="bca")
    assert bca == summarize(values, method="bca")  # fixed bootstrap seed
    assert bca["ci_low"] < bca["estimate"] < bca["ci_high"]
    assert (bca["ci_low"], bca["ci_high"]) != pytest.approx(tuple(mean_ci(values)[1:]))
    assert math.isnan(summarize([1.0, 2.0], method="bca")["ci_low"])
    with pytest.raises(ValueError, match="method must be one of"):
        summarize(values, method="percentile")
    with pytest.raises(ValueError, match="values"):
        summarize([1.0, float("inf")])


# --- verdicts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    ((0.3, 0.1, 0.5, 0.2, +1), S),
    ((0.2, 0.05, 0.35, 0.2, +1), S),              # estimate exactly at the SESOI is large enough
    ((0.19, 0.05, 0.33, 0.2, +1), I),             # below the SESOI, interval not inside ±SESOI
    ((0.05, 0.01, 0.09, 0.2, +1), N),             # significant but negligible
    ((0.3, 0.0, 0.6, 0.2, +1), I),                # a bound exactly at 0 does not exclude 0
    ((-0.3, -0.6, 0.0, 0.2, -1), I),
    ((-0.3, -0.5, -0.1, 0.2, +1), NS),
    ((-0.05, -0.09, -0.01, 0.2, +1), NS),         # the wrong side at any size: not supported first
    ((-0.3, -0.5, -0.1, 0.2, -1), S),
    ((0.3, 0.1, 0.5, 0.2, -1), NS),
    ((0.0, -0.19, 0.19, 0.2, +1), N),
    ((0.0, -0.2, 0.1, 0.2, +1), I),               # a bound exactly at -SESOI is not inside
    ((0.0, -0.1, 0.2, 0.2, +1), I),               # a bound exactly at +SESOI is not inside
    ((0.1, float("nan"), float("nan"), 0.2, +1), I),
    ((0.01, 0.001, 0.02, 0.0, +1), S),            # SESOI 0: any significant effect counts
    ((0.0, -0.01, 0.01, 0.0, +1), I),             # SESOI 0: nothing is negligible
    ((0.3, 0.1, 0.5, 0.2, 0), H),
    ((-0.2, -0.5, -0.1, 0.2, 0), L),
    ((0.1, 0.05, 0.15, 0.2, 0), N),
    ((0.15, 0.05, 0.25, 0.2, 0), I),
    ((0.3, 0.0, 0.6, 0.2, 0), I),
])
def test_verdict_rule_and_boundaries(args, expected):
    assert verdict(*args) == expected


def test_verdict_significant_gates_the_directional_labels():
    assert verdict(0.3, 0.1, 0.5, 0.2, +1, significant=True) == S
    assert verdict(0.3, 0.1, 0.5, 0.2, +1, significant=False) == I
    assert verdict(-0.3, -0.5, -0.1, 0.2, +1, significant=False) == I
    assert verdict(-0.05, -0.09, -0.01, 0.2, +1, significant=False) == N
    assert verdict(0.3, 0.1, 0.5, 0.2, 0, significant=np.bool_(False)) == I


def test_verdict_validation():
    for bad in (2, "+", True, None):
        with pytest.raises(ValueError, match="expected_sign must be"):
            verdict(0.1, 0.05, 0.15, 0.1, bad)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="sesoi"):
            verdict(0.1, 0.05, 0.15, bad, 1)
    with pytest.raises(ValueError, match="ci_low must be <= ci_high"):
        verdict(0.1, 0.2, 0.1, 0.1, 1)
    with pytest.raises(ValueError, match="significant"):
        verdict(0.1, 0.05, 0.15, 0.1, 1, significant="yes")
    with pytest.raises(ValueError, match="numbers"):
        verdict("big", 0.05, 0.15, 0.1, 1)


# --- a family of effects --------------------------------------------------------------------------
def family() -> pd.DataFrame:
    up = np.arange(1.0, 11.0)  # 10 seeds, all positive: p = 2 / 1024
    null = np.array([0.5, -1.0, 0.3, -0.2, 0.8, -0.6, 0.1, -0.4, 0.9, -0.7])
    return pd.DataFrame(dict(name=["up", "down", "null"], values=[up, -up, null], sesoi=[1.0, 1.0, 0.3],
                             expected=[+1, +1, 0]), index=[10, 11, 12])


def test_adjust_hand_worked():
    effects = family()
    out = adjust(effects)
    assert list(out.index) == [10, 11, 12] and list(out["name"]) == ["up", "down", "null"]
    assert "estimate" not in effects.columns  # the input is not modified
    p_null = brute_force_p(effects.loc[12, "values"])
    assert out["p"].tolist() == pytest.approx([2 / 1024, 2 / 1024, p_null])
    # Holm: the two tied smallest p share rank 1 and the multiplier m = 3; the last has multiplier 1
    assert out["p_adjusted"].tolist() == pytest.approx([6 / 1024, 6 / 1024, max(6 / 1024, p_null)])
    assert out["level"].tolist() == pytest.approx([1 - 0.05 / 3] * 2 + [0.95])
    for i, lv in zip(out.index, out["level"]):
        vals = effects.loc[i, "values"]
        assert (out.loc[i, "ci_low"], out.loc[i, "ci_high"]) == pytest.approx(tuple(mean_ci(vals, lv)[1:]))
        assert (out.loc[i, "ci95_low"], out.loc[i, "ci95_high"]) == pytest.approx(tuple(mean_ci(vals)[1:]))
    assert out["estimate"].tolist() == pytest.approx([5.5, -5.5, np.mean(effects.loc[12, "values"])])
    assert out["n_seeds"].tolist() == [10, 10, 10]
    assert out["verdict"].tolist() == [S, NS, I]


def test_adjust_interval_excludes_zero_iff_t_test_passes_its_holm_step():
    rng = np.random.default_rng(3)
    m = 12
    effects = pd.DataFrame(dict(values=[rng.normal(rng.choice([0.0, 0.8, 1.5]), 1.0, size=10) for _ in range(m)],
                                sesoi=0.1, expected=1))
    out = adjust(effects)
    rank = sps.rankdata(out["p"], method="min")
    t_p = np.array([sps.ttest_1samp(v, 0.0).pvalue for v in effects["values"]])
    excludes = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    assert excludes.tolist() == (t_p < 0.05 / (m - rank + 1)).tolist()
    assert excludes.any() and not excludes.all()


def test_adjust_needs_the_adjusted_p_too():
    # 5 seeds all clearly positive: the t-interval excludes 0, but the smallest sign-flip p is 2/32 > 0.05
    effects = pd.DataFrame(dict(values=[[1.0, 1.1, 0.9, 1.2, 1.0]], sesoi=0.5, expected=1))
    out = adjust(effects).iloc[0]
    assert out["ci_low"] > 0.5 and out["p_adjusted"] == pytest.approx(0.0625)
    assert out["verdict"] == I


def test_adjust_bca_and_validation():
    out = adjust(family(), method="bca")
    assert out["verdict"].tolist() == [S, NS, I]
    with pytest.raises(ValueError, match=r"column\(s\) \['sesoi'\]"):
        adjust(family().drop(columns="sesoi"))
    with pytest.raises(ValueError, match="at least one row"):
        adjust(family().iloc[:0])
    with pytest.raises(ValueError, match="values of row 11"):
        adjust(family().assign(values=[[1.0, 2.0], [1.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="alpha"):
        adjust(family(), alpha=5)
    with pytest.raises(ValueError, match="expected_sign"):
        adjust(family().assign(expected=["+", "+", "+"]))
    with pytest.raises(ValueError, match="DataFrame"):
        adjust([1.0, 2.0])


# --- Fisher-z summaries of correlations ----------------------------------------------------------
def test_fisher_z_hand_worked_and_clipped():
    assert fisher_z([0.0, 0.5, -0.5]) == pytest.approx([0.0, math.atanh(0.5), -math.atanh(0.5)])
    assert fisher_z([1.0, -1.0]) == pytest.approx([math.atanh(0.999999), -math.atanh(0.999999)])
    assert np.all(np.isfinite(fisher_z([1.0, -1.0])))
    with pytest.raises(ValueError, match=r"correlations in \[-1, 1\]"):
        fisher_z([0.5, 1.2])


def test_summarize_on_the_fisher_z_scale_is_the_back_transformed_t_interval():
    rho = [0.2, 0.5, 0.7, 0.4, 0.9]
    z = np.arctanh(rho)
    m, lo, hi = mean_ci(z)
    out = summarize(rho, transform="fisher_z")
    assert (out["estimate"], out["ci_low"], out["ci_high"]) == pytest.approx(tuple(np.tanh([m, lo, hi])))
    assert out["p"] == sign_flip_p(z)
    with pytest.raises(ValueError, match="transform must be one of"):
        summarize(rho, transform="log")


@pytest.mark.parametrize("rho", [
    [1.0] * 11 + [0.6],                 # a t-interval of these ρ reaches past 1
    [1.0, 1.0, 1.0, -1.0],
    [-1.0, -0.9, -1.0, -0.2, -1.0],
    [0.27, 1.0, 0.3, 1.0, 0.95, 1.0, -0.1, 1.0, 1.0, 0.9, 1.0, 1.0],
])
def test_no_correlation_interval_leaves_minus_one_one(rho):
    assert mean_ci(rho).ci_high > 1 or mean_ci(rho).ci_low < -1  # the problem it solves
    frame = pd.DataFrame(dict(values=[rho, rho], sesoi=0.3, expected=1, transform=["fisher_z", "fisher_z"]))
    for out in (summarize(rho, transform="fisher_z"), *adjust(frame).to_dict("records"),
                *adjust(frame, adjustment="bh").to_dict("records")):
        for key in ("estimate", "ci_low", "ci_high"):
            assert -1 <= out[key] <= 1
        assert out["ci_low"] <= out["estimate"] <= out["ci_high"]


def test_adjust_reports_the_plain_mean_beside_the_back_transformed_one():
    rho = [1.0] * 11 + [0.6]
    out = adjust(pd.DataFrame(dict(values=[rho], sesoi=0.3, expected=1, transform="fisher_z"))).iloc[0]
    assert out["mean_value"] == pytest.approx((11 * 0.999999 + 0.6) / 12)
    assert out["estimate"] > out["mean_value"]  # the clipped z of the perfect seeds pull it towards 1
    with pytest.raises(ValueError, match="transform of row 0"):
        adjust(pd.DataFrame(dict(values=[rho], sesoi=0.3, expected=1, transform="log")))


# --- Benjamini-Hochberg ---------------------------------------------------------------------------
def test_adjust_bh_hand_worked():
    up = np.arange(1.0, 11.0)  # p = 2/1024
    null = np.array([0.5, -1.0, 0.3, -0.2, 0.8, -0.6, 0.1, -0.4, 0.9, -0.7])
    effects = pd.DataFrame(dict(values=[up, up * 2, null, null + 0.05], sesoi=1.0, expected=+1))
    out = adjust(effects, adjustment="bh")
    p = out["p"].to_numpy()
    assert p[:2] == pytest.approx([2 / 1024, 2 / 1024])
    # step-up: the two smallest share rank 2 of 4, so p~ = 4 · (2/1024) / 2
    assert out["p_adjusted"].iloc[:2].tolist() == pytest.approx([4 / 1024] * 2)
    assert out["p_adjusted"].tolist() == pytest.approx(list(sps.false_discovery_control(p)))
    # R = 2 discoveries: their intervals at 1 - 2 · 0.05 / 4; the rest at 0.95
    assert out["level"].tolist() == pytest.approx([1 - 2 * 0.05 / 4] * 2 + [0.95] * 2)
    assert out["verdict"].tolist()[:2] == [S, S]
    with pytest.raises(ValueError, match="adjustment must be one of"):
        adjust(effects, adjustment="bonferroni")


def test_bh_is_never_stricter_than_holm():
    values = [np.arange(1.0, 11.0), np.r_[np.arange(2.0, 11.0), -1.0], np.r_[np.arange(3.0, 11.0), -1.0, -2.0],
              np.r_[np.arange(3.0, 11.0), -2.0, -3.0]]
    effects = pd.DataFrame(dict(values=values, sesoi=0.1, expected=+1))
    holm, bh = adjust(effects), adjust(effects, adjustment="bh")
    assert (bh["p_adjusted"] <= holm["p_adjusted"] + 1e-15).all()
    assert (bh["verdict"] == S).sum() >= (holm["verdict"] == S).sum()


# --- saturation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("low, high, chance, ceiling, expected", [
    (0.995, 0.999, 0.1, 1.0, True),     # both arms at the ceiling
    (0.98, 0.999, 0.1, 1.0, True),      # exactly 2 points below the ceiling counts
    (0.979, 0.999, 0.1, 1.0, False),
    (0.10, 0.12, 0.1, 1.0, True),       # both at chance
    (0.05, 0.11, 0.1, 1.0, True),       # below chance is no better
    (0.10, 0.121, 0.1, 1.0, False),
    (0.10, 0.999, 0.1, 1.0, False),     # one at chance, one at the ceiling: the largest effect there is
    (0.99, 0.999, 0.1, None, False),    # no ceiling to saturate
    (0.99, 0.999, 0.1, float("nan"), False),
    (float("nan"), 0.5, 0.1, 1.0, False),
])
def test_saturated_boundaries(low, high, chance, ceiling, expected):
    assert saturated(low, high, chance, ceiling) is expected


def test_saturated_validation():
    with pytest.raises(ValueError, match="low must be <= high"):
        saturated(0.9, 0.5, 0.1)
    with pytest.raises(ValueError, match="margin"):
        saturated(0.1, 0.5, 0.1, margin=-0.1)
    with pytest.raises(ValueError, match="must be numbers"):
        saturated("low", 0.5, 0.1)


# --- enough seeds ---------------------------------------------------------------------------------
def test_sign_flip_and_holm_floors_hand_worked():
    assert sign_flip_floor(5) == 2 / 32 and sign_flip_floor(12) == 2 / 4096
    assert holm_floor(12, 6) == 12 / 4096 and holm_floor(2, 6) == 1.0
    assert sign_flip_p(np.arange(1.0, 13.0)) == sign_flip_floor(12)  # the floor is reached
    # the fewest seeds at which a family of m can declare anything: m · 2 / 2^n < 0.05
    assert [seeds_needed(m) for m in (1, 2, 6, 14, 65)] == [6, 7, 8, 10, 12]
    for m in (1, 6, 65):
        n = seeds_needed(m)
        assert holm_floor(n, m) < 0.05 <= holm_floor(n - 1, m)
    with pytest.raises(ValueError, match="m must be an integer"):
        seeds_needed(0)


# --- a trade-off of two arms ----------------------------------------------------------------------
def tradeoff_rule(a, b):
    arms = (a, b)
    if NS in arms:
        return NS
    if arms == (S, S):
        return S
    if N in arms and S not in arms:
        return N
    if SAT in arms:
        return SAT
    return I


@pytest.mark.parametrize("a, b", list(itertools.product(VERDICTS + (SAT,), repeat=2)))
def test_combine_tradeoff_every_pair(a, b):
    assert combine_tradeoff([a, b]) == tradeoff_rule(a, b)


def test_combine_tradeoff_named_cases_and_errors():
    assert combine_tradeoff([S, S, S]) == S
    assert combine_tradeoff([S, N]) == I  # half a trade-off
    assert combine_tradeoff([N, I]) == N
    assert combine_tradeoff([S, NS]) == NS
    assert combine_tradeoff([S, SAT]) == SAT  # one arm could not be measured
    assert combine_tradeoff([N, SAT]) == N  # one arm absent: the trade-off is absent
    for bad in ([], [S, H], [S, "yes"]):
        with pytest.raises(ValueError, match="combine_tradeoff"):
            combine_tradeoff(bad)


def test_there_is_no_majority_vote_over_rows():
    assert not hasattr(stats, "combine_tasks")


def test_holm_hand_worked_and_equal_to_statsmodels():
    from statsmodels.stats.multitest import multipletests

    # sorted 0.01, 0.02, 0.03, 0.5 over m = 4: 4·0.01, max(0.04, 3·0.02), max(0.06, 2·0.03), min(1, 0.5)
    p = np.array([0.03, 0.01, 0.5, 0.02])
    assert stats.holm(p) == pytest.approx([0.06, 0.04, 0.5, 0.06])
    assert stats.holm(np.array([0.4, 0.6])) == pytest.approx([0.8, 0.8])  # carried up, capped at 1 below
    rng = np.random.default_rng(0)
    for m in (1, 2, 6, 40):
        p = rng.uniform(0, 0.2, m)
        p[: m // 3] = p[0]  # ties
        assert stats.holm(p) == pytest.approx(multipletests(p, method="holm")[1])
