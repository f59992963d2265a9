"""Verdicts on the claims follow the data: synthetic records with known effects, then one changed."""

import math

import numpy as np
import pandas as pd
import pytest

from snnlib.analysis import claims

SEEDS = range(12)
DECAYS = (0.0, 0.25, 0.5, 0.75, 1.0)


def audit(clean, robust, flips=True, chance=0.25):
    radii = [0, 1, 2, 4] if flips else [0.0, 1.0, 2.0, 4.0]
    rows = []
    for r in radii:
        acc = clean if r == 0 else robust
        row = dict(radius=r, full_range=False, accuracy=acc, clean=clean, per_attack={"pgd": acc, "square": acc})
        if not flips:
            row["radius_scales"] = r
        rows.append(row)
    return rows


def leakage(memory_slope=0.6, robust_slope=-0.4, at_chance=()):
    rows, rng = [], np.random.default_rng(0)
    for lam in DECAYS:
        for s in SEEDS:
            memory = 0.3 + memory_slope * lam + rng.normal(0, 0.02)
            clean = 0.25 if lam in at_chance else 0.95
            base = dict(decay=lam, seed=s, hidden=[8], variant="LIF", chance=0.25, gap=0.01 + rng.normal(0, 0.005))
            rows.append({**base, "task": "delayed-recall", "task_params.delay": 16, "test_accuracy": memory,
                         "audit": None, "generalization": None})
            robust = 0.25 + 0.7 * (0.6 + robust_slope * lam + rng.normal(0, 0.02))
            rows.append({**base, "task": "delayed-recall", "task_params.delay": 4, "test_accuracy": clean,
                         "audit": audit(clean, min(robust, clean)),
                         "generalization": [dict(delay=d, accuracy=0.9 - 0.1 * abs(d - 4) * (1 - lam)) for d in (0, 4, 16)]})
            rows.append({**base, "task": "seq-digits", "task_params.delay": np.nan, "test_accuracy": 0.9, "chance": 0.1,
                         "audit": audit(0.9, 0.1 + 0.8 * (0.6 + robust_slope * lam + rng.normal(0, 0.02)), flips=False),
                         "generalization": None})
    return pd.DataFrame(rows)


def reset(stream_gain=0.3, synops_saving=0.3):
    rows, rng = [], np.random.default_rng(1)
    for variant, lam in (("LIF", 0.5), ("LIF-noreset", 0.5), ("IF", 1.0), ("IF-noreset", 1.0)):
        has_reset = "noreset" not in variant
        for s in SEEDS:
            later = 0.5 + (stream_gain if has_reset else 0.0) + rng.normal(0, 0.004)
            rows.append({"task": "digits", "variant": variant, "decay": lam, "seed": s, "hidden": [8], "rate_reg": 0.0,
                         "train_stream": 0, "test_accuracy": 0.95 + rng.normal(0, 0.005), "gap": 0.02,
                         "stream_accuracy": [0.95, later, later],
                         "hidden_synops": 1000 * (1 if has_reset else 1 + synops_saving) + rng.normal(0, 10)})
    return pd.DataFrame(rows)


def recurrence(acc_gain=0.2, robust_cost=0.2):
    rows, rng = [], np.random.default_rng(2)
    for variant, width in (("LIF", 8), ("RLIF", 8), ("LIF", 20)):
        rec = variant.startswith("R")
        for s in SEEDS:
            clean = 0.6 + (acc_gain if rec else 0) + rng.normal(0, 0.02)
            robust = 0.5 + (clean - 0.5) * (0.6 - (robust_cost if rec else 0) + rng.normal(0, 0.02))
            rows.append({"task": "temporal-xor", "task_params.gap": 5, "variant": variant, "decay": 0.5, "seed": s,
                         "hidden": [width], "test_accuracy": clean, "gap": 0.0, "chance": 0.5,
                         "audit": audit(clean, min(robust, clean))})
    return pd.DataFrame(rows)


def evaluate(**kw):
    lk = leakage(**{k: v for k, v in kw.items() if k in ("memory_slope", "robust_slope", "at_chance")})
    rs = reset(**{k: v for k, v in kw.items() if k in ("stream_gain", "synops_saving")})
    rc = recurrence(**{k: v for k, v in kw.items() if k in ("acc_gain", "robust_cost")})
    judged, table = claims.evaluate(lk, rs, rc)
    return dict(zip(table["claim"], table["verdict"])), judged


def test_clear_effects_in_the_expected_direction_are_supported():
    verdicts, judged = evaluate()
    assert {k: v for k, v in verdicts.items() if k != "G"} == \
        {"C1": "supported", "C2": "supported", "C3": "supported", "C4": "supported"}
    assert (judged["p_adjusted"] >= judged["p"]).all() and (judged["n_seeds"] == len(SEEDS)).all()
    assert (judged["ci_low"] <= judged["estimate"]).all() and (judged["estimate"] <= judged["ci_high"]).all()


@pytest.mark.parametrize("change, claim, verdict", [
    (dict(memory_slope=-0.6), "C1", "not supported"),
    (dict(robust_slope=0.4), "C1", "not supported"),
    (dict(stream_gain=-0.3), "C2", "not supported"),
    (dict(stream_gain=0.0), "C2", "negligible"),
    (dict(synops_saving=-0.3), "C3", "not supported"),
    (dict(acc_gain=-0.2), "C4", "not supported"),
    (dict(robust_cost=-0.2), "C4", "not supported"),
])
def test_changing_the_records_changes_the_verdicts(change, claim, verdict):
    verdicts, _ = evaluate(**change)
    assert verdicts[claim] == verdict


def test_runs_at_chance_have_no_robustness_and_the_table_says_so():
    _, judged = evaluate(at_chance=(0.0, 0.25))
    flips = judged[(judged["arm"] == "robustness") & (judged["task"] == "delayed-recall")].iloc[0]
    assert flips["n_excluded"] == 2 * len(SEEDS)
    assert "2" in flips["note"] or "run(s) at chance" in flips["note"]
    assert claims.chance_corrected(0.26, 0.27, 0.25) != claims.chance_corrected(0.26, 0.27, 0.25)  # NaN
    assert claims.chance_corrected(0.5, 1.0, 0.0) == 0.5


def test_an_effect_with_too_few_seeds_is_listed_not_judged():
    rows = claims.effects(leakage(), reset(), recurrence())
    rows.loc[0, "values"] = None
    judged = claims.judge(rows)
    assert judged.loc[0, "verdict"] == "inconclusive" and math.isnan(judged.loc[0, "p"])
    assert "not estimable" in judged.loc[0, "note"]


def test_efficiency_only_counts_at_matched_accuracy():
    rs = reset()
    rs.loc[rs["variant"] == "LIF", "test_accuracy"] -= 0.1  # the reset variant is much worse
    judged, _ = claims.evaluate(leakage(), rs, recurrence())
    row = judged[(judged["claim"] == "C3") & (judged["decay"] == 0.5)].iloc[0]
    assert row["verdict"] == "inconclusive" and "matched accuracy" in row["note"]


def test_the_claims_table_has_every_column_the_command_prints():
    _, judged = evaluate()
    table = claims.claims_table(judged)
    assert list(table.columns) == ["claim", "arm", "effect", "task", "lambda", "estimate", "ci_low", "ci_high", "p",
                                   "p_adjusted", "sesoi", "n_seeds", "verdict", "note"]
    assert set(table["verdict"]) <= {"supported", "not supported", "negligible", "inconclusive", "higher", "lower"}
