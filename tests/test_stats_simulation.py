"""Simulated studies whose truth is known: the intervals, p-values and verdicts of
snnlib.analysis.stats, and the claims' rule of snnlib.analysis.claims (one primary contrast per arm,
Holm over the primary rows), keep their promised error rates (fixed seeds, deterministic)."""

import gc

import numpy as np
import pandas as pd
import pytest

from snnlib.analysis import claims
from snnlib.analysis.stats import adjust, sign_flip_p, summarize

N_SEEDS, FAMILY = 10, 14
DIRECTIONAL = {"supported", "not supported", "higher", "lower"}


@pytest.fixture
def cheap_gc():
    """statsmodels' Holm calls ``gc.collect()`` on every call; freezing the objects already alive makes
    each collection cheap, so that hundreds of simulated families take seconds."""
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("values, p", [
    ([1.0, 2.0, 3.0], 2 / 8),        # only ±(1 + 2 + 3) reach |6|
    ([3.0, 1.0, -1.0], 6 / 8),       # first sign +: sums 3, 5, 1, 3 -> 3 of 4 reach 3; with negations 6 of 8
    ([1.0, 2.0, -3.0], 1.0),         # the sum is 0: every pattern is as extreme
    ([1.0, 2.0, 3.0, 4.0], 2 / 16),
    ([1.0, 2.0, 3.0, -4.0], 14 / 16),  # |sum| = 2; only 1 - 2 - 3 + 4 = 0 and its negation fall below
    ([1.0, 1.0, 1.0, -1.0], 10 / 16),  # ties: sums 2, 4, 0, 2, 0, 2, -2, 0 (first sign +) -> 5 of 8 reach 2
])
def test_sign_flip_p_hand_worked(values, p):
    assert sign_flip_p(values) == pytest.approx(p, abs=1e-15)


def test_null_t_interval_covers_zero_at_the_nominal_rate():
    samples = np.random.default_rng(20).normal(0.0, 1.0, size=(2000, N_SEEDS))
    results = [summarize(s) for s in samples]
    coverage = np.mean([r["ci_low"] <= 0 <= r["ci_high"] for r in results])
    assert 0.93 <= coverage <= 0.97
    # the exact permutation test rejects at most at its nominal rate (its p-values are discrete)
    assert np.mean([r["p"] < 0.05 for r in results]) <= 0.06


def simulate(rng, effects, sesoi, expected) -> pd.DataFrame:
    values = [rng.normal(effect, 1.0, size=N_SEEDS) for effect in effects]
    return adjust(pd.DataFrame(dict(values=values, sesoi=sesoi, expected=expected)))


def test_holm_holds_the_family_wise_error_rate_under_the_null(cheap_gc):
    rng = np.random.default_rng(21)
    expected = [+1] * 6 + [-1] * 4 + [0] * 4  # one-sided both ways and two-sided questions
    false = [bool(set(simulate(rng, [0.0] * FAMILY, 0.5, expected)["verdict"]) & DIRECTIONAL) for _ in range(500)]
    assert np.mean(false) <= 0.05


def test_a_true_effect_of_three_sesoi_is_mostly_supported(cheap_gc):
    rng = np.random.default_rng(22)
    # one true effect of 2σ (SESOI 2σ/3) among 13 null effects of the same family
    lone = [simulate(rng, [2.0] + [0.0] * (FAMILY - 1), 2.0 / 3, 1)["verdict"].iloc[0] for _ in range(200)]
    assert np.mean([v == "supported" for v in lone]) > 0.5
    # a family of 14 true effects of 1.5σ (SESOI 0.5σ): Holm's later steps are easier
    every = np.concatenate([simulate(rng, [1.5] * FAMILY, 0.5, 1)["verdict"].to_numpy() for _ in range(60)])
    assert np.mean(every == "supported") > 0.5


# --- correlations on the Fisher-z scale ----------------------------------------------------------------
@pytest.mark.parametrize("mu", [0.0, 1.0, 2.5])
def test_fisher_z_interval_covers_at_the_nominal_rate_and_stays_in_range(mu):
    """Per-seed ρ = tanh(z) with z ~ N(μ, 0.8) over 12 seeds: the back-transformed interval covers tanh(μ)
    at 95% and never leaves [-1, 1], even where most seeds are near ρ = 1 (μ = 2.5: ρ ≈ 0.99)."""
    rng = np.random.default_rng(30 + int(10 * mu))
    results = [summarize(np.tanh(rng.normal(mu, 0.8, size=12)), transform="fisher_z") for _ in range(2000)]
    coverage = np.mean([r["ci_low"] <= np.tanh(mu) <= r["ci_high"] for r in results])
    assert 0.93 <= coverage <= 0.97
    assert all(-1 <= r["ci_low"] <= r["estimate"] <= r["ci_high"] <= 1 for r in results)


# --- the claims' rule: primary contrasts in a confirmatory family -----------------------------------------
STUDY_SEEDS, EXPLORATORY = 12, 60  # the quick profile's seeds; about as many other rows as the study has


def study(rng, primary_effect: float, exploratory_effect: float) -> pd.DataFrame:
    """A simulated study in the shape of snnlib.analysis.claims: one primary row per claim arm (robustness
    arms expect a negative effect) and EXPLORATORY secondary rows, per-seed values N(effect, 1)."""
    rows = []
    for claim, arms in claims.ARMS.items():
        for arm in arms:
            sign = -1 if arm == "robustness" else +1
            rows.append(dict(claim=claim, arm=arm, values=rng.normal(sign * primary_effect, 1.0, STUDY_SEEDS),
                             sesoi=2.0 / 3, expected=sign, primary=True, family="confirmatory",
                             truth=sign * primary_effect))
    pairs = [(c, a) for c, arms in claims.ARMS.items() for a in arms]
    for k in range(EXPLORATORY):
        claim, arm = pairs[k % len(pairs)]
        rows.append(dict(claim=claim, arm=arm, values=rng.normal(exploratory_effect, 1.0, STUDY_SEEDS), sesoi=2.0 / 3,
                         expected=+1, primary=False, family="exploratory", truth=exploratory_effect))
    return pd.DataFrame(rows)


def claim_verdicts(rows):
    judged = claims.judge(rows)
    return judged, claims.claim_verdicts(judged)


@pytest.mark.parametrize("exploratory_effect", [0.0, 3.0])
def test_a_claims_false_verdict_rate_is_held_whatever_the_other_rows_show(cheap_gc, exploratory_effect):
    """Every primary contrast null: some claim gets a directional verdict (supported or not supported) in at
    most 5% of studies (Holm over the six primary rows) -- also when every secondary row carries a 3σ
    effect, which a majority over all rows would have turned into "supported"."""
    rng = np.random.default_rng(40 + int(exploratory_effect))
    false = []
    for _ in range(300):
        judged, verdicts = claim_verdicts(study(rng, 0.0, exploratory_effect))
        false.append(any(v in ("supported", "not supported") for v in verdicts.values()))
    assert np.mean(false) <= 0.05
    if exploratory_effect:  # the secondary rows themselves were found: they are shown, just not voting
        assert (judged.loc[~judged["primary"], "verdict"] == "supported").mean() > 0.9


def test_a_two_sigma_primary_effect_decides_its_claim(cheap_gc):
    """Every primary contrast 2σ in its expected direction (SESOI 2σ/3), every secondary row null: each claim,
    trade-offs included (both arms must stand), is supported in most studies, and the confirmatory
    intervals at their Holm levels cover the true effect at least at 95%."""
    rng = np.random.default_rng(50)
    supported, covered = {c: [] for c in claims.ARMS}, []
    for _ in range(200):
        judged, verdicts = claim_verdicts(study(rng, 2.0, 0.0))
        for claim, verdict in verdicts.items():
            supported[claim].append(verdict == "supported")
        primary = judged[judged["primary"]]
        covered += list((primary["ci_low"] <= primary["truth"]) & (primary["truth"] <= primary["ci_high"]))
    assert {c: np.mean(v) > 0.8 for c, v in supported.items()} == {c: True for c in claims.ARMS}
    assert np.mean(covered) >= 0.95
