"""Verdicts on the claims follow the data: synthetic records with known effects, then one changed."""

import numpy as np
import pandas as pd

from snnlib.analysis import claims

SEEDS = range(5)
EPS = [0.0, 0.05, 0.1]


def attack(clean, robust_fraction):
    return [dict(attack=a, eps=e, accuracy=clean if e == 0 else clean * robust_fraction) for a in ("fgsm", "pgd")
            for e in EPS]


def leakage(memory_slope=0.6, robust_slope=-0.3):
    rows, rng = [], np.random.default_rng(0)
    for lam in (0.0, 0.25, 0.5, 0.75, 1.0):
        for s in SEEDS:
            rows.append({"task": "delayed-recall", "task_params.delay": 16, "decay": lam, "seed": s,
                         "test_accuracy": 0.3 + memory_slope * lam + rng.normal(0, 0.02), "attack": None})
            rows.append({"task": "seq-digits", "task_params.delay": np.nan, "decay": lam, "seed": s,
                         "test_accuracy": 0.9, "attack": attack(0.9, 0.7 + robust_slope * lam + rng.normal(0, 0.02))})
    return pd.DataFrame(rows)


def reset(stream_gain=0.3):
    rows, rng = [], np.random.default_rng(1)
    for variant, has_reset in (("LIF", True), ("LIF-soft", True), ("LIF-noreset", False), ("IF", True),
                               ("IF-noreset", False)):
        for s in SEEDS:
            later = 0.5 + (stream_gain if has_reset else 0.0) + rng.normal(0, 0.02)
            rows.append({"task": "digits", "variant": variant, "seed": s, "test_accuracy": 0.95,
                         "stream_accuracy": [0.95, later, later], "synops": (1000 if has_reset else 1500) + rng.normal(0, 10)})
    return pd.DataFrame(rows)


def recurrence(acc_gain=0.2, robust_cost=0.2):
    rows, rng = [], np.random.default_rng(2)
    for variant, rec in (("LIF", False), ("IF", False), ("RLIF", True), ("RIF", True)):
        for s in SEEDS:
            clean = 0.6 + (acc_gain if rec else 0) + rng.normal(0, 0.02)
            rows.append({"task": "temporal-xor", "variant": variant, "seed": s, "test_accuracy": clean,
                         "attack": attack(clean, 0.8 - (robust_cost if rec else 0) + rng.normal(0, 0.02))})
    return pd.DataFrame(rows)


def verdicts(**kw):
    lk = leakage(**{k: v for k, v in kw.items() if k in ("memory_slope", "robust_slope")})
    rs = reset(**{k: v for k, v in kw.items() if k == "stream_gain"})
    rc = recurrence(**{k: v for k, v in kw.items() if k in ("acc_gain", "robust_cost")})
    effects, table = claims.evaluate(lk, rs, rc)
    return dict(zip(table["claim"], table["verdict"])), effects


def test_clear_effects_in_the_expected_direction_are_supported():
    v, effects = verdicts()
    assert v == {"C1": "supported", "C2": "supported", "C3": "supported", "C4": "supported"}
    assert set(effects["verdict"]) == {"supported"}


def test_changing_the_records_changes_the_verdicts():
    v, _ = verdicts(robust_slope=0.3, stream_gain=0.0, acc_gain=-0.2)
    assert v["C1"] == "not supported"        # less leak was more robust
    assert v["C2"] == "inconclusive"          # no stream difference
    assert v["C4"] == "not supported"        # recurrence lowered accuracy


def test_chance_level_runs_have_no_robustness():
    rc = recurrence().assign(chance=0.5)
    rc.loc[rc["variant"] == "LIF", "test_accuracy"] = 0.52
    robust = claims.relative_robustness(rc, keep=("task", "variant", "seed"))
    assert "LIF" not in set(robust["variant"]) and "IF" in set(robust["variant"])


def test_combine_rule():
    assert claims.combine(["supported", "supported"]) == "supported"
    assert claims.combine(["supported", "inconclusive"]) == "inconclusive"
    assert claims.combine(["supported", "not supported", "inconclusive"]) == "not supported"


def test_recommendations_cite_effects_and_figures():
    _, effects = verdicts()
    text = claims.recommendations(effects)
    assert text.count("\n") + 1 == len(effects)
    assert "{numref}`fig-leak-heatmap`" in text and "keep leakage small" in text
