"""Recommendations follow from the judged effect rows by one rule (snnlib.analysis.recommend)."""

import math

import pandas as pd
import pytest

from snnlib.analysis import learned, recommend


def judged(changes=None):
    """A synthetic judged table: C1 memory primary and one exploratory L memory row per delay."""
    rows = [dict(claim="C1", arm="memory", effect="ρ(λ, accuracy) at delay 8", task="delayed-recall", primary=True,
                 family="confirmatory", point_value=8.0, estimate=0.6, verdict="supported"),
            dict(claim="L", arm="memory", effect="accuracy, PLIF − LIF at best λ 0.9", task="delayed-recall",
                 primary=False, family="exploratory", point_value=4.0, estimate=-0.1, verdict="lower"),
            dict(claim="L", arm="memory", effect="accuracy, PLIF − LIF at best λ 0.9", task="delayed-recall",
                 primary=False, family="exploratory", point_value=16.0, estimate=0.05, verdict="higher")]
    table = pd.DataFrame(rows)
    for (i, column), value in (changes or {}).items():
        table.loc[i, column] = value
    return table


SCENARIO = {"long memory": recommend.SCENARIOS["long memory"]}


def test_a_supported_positive_effect_recommends_its_component():
    out = recommend.recommendations(judged(), scenarios=SCENARIO).set_index("component")
    assert out.loc["leak", "recommendation"] == "weak leak (λ near 1)"
    assert out.loc["leak", "effect_id"] == "C1-memory-1"
    # the learned row is read at the longest delay (16: higher), not at 4 (lower)
    assert out.loc["learned / adaptive", "recommendation"] == "learned λ (PLIF)"
    assert out.loc["learned / adaptive", "effect_id"] == "L-memory-2"


def test_the_sign_of_the_estimate_picks_the_option():
    out = recommend.recommendations(judged({(0, "estimate"): -0.6, (2, "estimate"): -0.05}), scenarios=SCENARIO)
    assert list(out["recommendation"]) == ["strong leak (small λ)", "best fixed λ (LIF)"]


@pytest.mark.parametrize("verdict", ["inconclusive", "saturated"])
def test_an_inconclusive_effect_says_so(verdict):
    out = recommend.recommendations(judged({(0, "verdict"): verdict}), scenarios=SCENARIO)
    assert out.loc[0, "recommendation"] == "no recommendation: evidence inconclusive"


def test_a_negligible_effect_recommends_either_and_a_missing_row_nothing():
    table = judged({(0, "verdict"): "negligible"}).iloc[:1]
    out = recommend.recommendations(table, scenarios=SCENARIO)
    assert out.loc[0, "recommendation"] == recommend.NEGLIGIBLE
    assert out.loc[1, "recommendation"] == recommend.INCONCLUSIVE and out.loc[1, "verdict"] == "missing"


def test_a_fragile_verdict_is_flagged_in_the_text():
    verdicts = pd.DataFrame([dict(claim="C1", fragile=True, share_kept=0.75)])
    out = recommend.recommendations(judged(), verdicts, scenarios=SCENARIO)
    assert out.loc[0, "strength"].startswith("FRAGILE") and "75%" in out.loc[0, "strength"]
    stable = recommend.recommendations(judged(), verdicts.assign(fragile=False, share_kept=1.0), scenarios=SCENARIO)
    assert "FRAGILE" not in stable.loc[0, "strength"] and "stable" in stable.loc[0, "strength"]
    assert "exploratory" in out.loc[1, "strength"]


def test_every_scenario_is_answered():
    out = recommend.recommendations(judged())
    assert len(out["scenario"].unique()) >= 6 and out["recommendation"].notna().all()


# --- chapter 07's measures -------------------------------------------------------------------------------

def test_retention_area_by_hand():
    # chance 0.25, clean 0.75: kept fractions 1, 0.5, 0 over levels 0, 0.1, 0.2 -> trapezoids 0.075 + 0.025
    assert learned.retention_area([0.0, 0.1, 0.2], [0.75, 0.5, 0.25], 0.25) == pytest.approx(0.5)
    assert learned.retention_area([0.0, 0.3], [0.9, 0.9], 0.1) == pytest.approx(1.0)
    assert math.isnan(learned.retention_area([0.0, 0.3], [0.27, 0.25], 0.25))  # no memory to lose
    with pytest.raises(ValueError, match="levels must ascend from 0.0"):
        learned.retention_area([0.1, 0.3], [0.9, 0.5], 0.1)


def test_the_best_fixed_decay_is_chosen_on_validation_not_test():
    rows = [dict(task="delayed-recall", variant="LIF", decay=lam, seed=s, val_accuracy=val, test_accuracy=test,
                 **{"task_params.delay": 4}) for lam, val, test in ((0.5, 0.9, 0.5), (0.9, 0.6, 1.0))
            for s in range(2)]
    assert learned.best_fixed_decay(pd.DataFrame(rows)) == {4: 0.5}


def test_the_counts_of_the_key_findings_add_up():
    table = pd.DataFrame(dict(recommendation=["weak leak (λ near 1)", recommend.INCONCLUSIVE, "either"],
                              strength=["FRAGILE: claim C3", "inconclusive", "supported"]))
    assert recommend.counts(table) == dict(n_choices=3, n_decided=2, n_fragile=1)
