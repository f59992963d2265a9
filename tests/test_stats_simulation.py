"""Simulated studies whose truth is known: the intervals, p-values and verdicts of
snnlib.analysis.stats keep their promised error rates (fixed seeds, deterministic)."""

import gc

import numpy as np
import pandas as pd
import pytest

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
