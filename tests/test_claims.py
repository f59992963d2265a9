"""Verdicts on the claims follow the data: synthetic records with known effects, then one changed.

The synthetic study has the quick profile's shape where the declarations need it: a memory task whose
delay 0 sits at the ceiling and delay 16 at chance (the trend can only show at delay 4), a temporal-xor
gap sweep whose gap 0 is at the ceiling and gap 20 at chance, and the reset comparison at λ 0.5, 0.9 and
1 (the primary contrast of C2 is λ 0.9)."""

import io
import math

import nbformat
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from snnlib.analysis import claims, stats
from snnlib.paths import NOTEBOOKS
from snnlib.study import config

SEEDS = range(12)
DECAYS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
PROFILE = "quick"
ALL_ARMS = sorted((c, a) for c, arms in claims.ARMS.items() for a in arms)


def audit(clean, robust, flips=True):
    radii = [0, 1, 2, 4] if flips else [0.0, 1.0, 2.0, 4.0]
    rows = []
    for r in radii:
        acc = clean if r == 0 else robust
        row = dict(radius=r, full_range=False, accuracy=acc, clean=clean, per_attack={"pgd": acc, "square": acc})
        if not flips:
            row["radius_scales"] = r
        rows.append(row)
    return rows


def retention(clean, area, chance=0.25, levels=(0.0, 0.1, 0.2, 0.3)):
    """A retention-noise curve whose chance-corrected accuracy falls linearly from 1 to ``2 area - 1``."""
    end = 2 * area - 1
    return [dict(level=q, accuracy=chance + (clean - chance) * (1 + (end - 1) * q / levels[-1])) for q in levels]


def leakage(memory_slope=0.6, robust_slope=-0.4, at_chance=()):
    """Delayed-recall at delays 0 (every λ at the ceiling), 4 (accuracy 0.6 + slope (λ - 0.5)) and 16 (every
    λ at chance); the delay-4 networks tested under retention noise (area 0.6 + robust_slope (λ - 0.5)) and
    audited with spike flips, seq-digits with L∞."""
    rows, rng = [], np.random.default_rng(0)
    for lam in DECAYS:
        for s in SEEDS:
            base = dict(decay=lam, seed=s, hidden=[8], variant="LIF", chance=0.25, profile=PROFILE)
            for delay in (0, 4, 16):
                accuracy = {0: 0.995 + rng.normal(0, 0.002), 4: 0.6 + memory_slope * (lam - 0.5) + rng.normal(0, 0.02),
                            16: 0.25 + rng.normal(0, 0.003)}[delay]
                accuracy = 0.25 if delay == 4 and lam in at_chance else min(accuracy, 1.0)
                row = {**base, "task": "delayed-recall", "task_params.delay": delay, "test_accuracy": accuracy,
                       "val_accuracy": accuracy + rng.normal(0, 0.005), "gap": 0.01 + rng.normal(0, 0.005),
                       "audit": None, "generalization": None, "retention_noise": None}
                if delay == 4:
                    share = 0.6 + robust_slope * (lam - 0.5) + rng.normal(0, 0.02)
                    robust = 0.25 + (accuracy - 0.25) * share
                    row.update(audit=audit(accuracy, min(robust, accuracy)), retention_noise=retention(accuracy, share),
                               generalization=[dict(delay=d, accuracy=0.9 - 0.1 * abs(d - 4) * (1 - lam))
                                               for d in (0, 4, 16)])
                rows.append(row)
            robust = 0.1 + 0.8 * (0.6 + robust_slope * (lam - 0.5) + rng.normal(0, 0.02))
            rows.append({**base, "task": "seq-digits", "task_params.delay": np.nan, "test_accuracy": 0.9,
                         "val_accuracy": 0.9, "chance": 0.1, "gap": 0.02, "generalization": None,
                         "retention_noise": None, "audit": audit(0.9, robust, flips=False)})
    return pd.DataFrame(rows)


def reset(stream_gain=0.3, other_gain=None, synops_saving=0.3):
    """Feed-forward, hard reset against none at λ 0.5, 0.9 and 1: streams of seq-digits (``stream_gain`` is the
    later-position accuracy a hard reset keeps at λ 0.9, C2's primary contrast, ``other_gain`` at the other
    λ), and digits along the rate-regularisation frontier (no reset needs ``1 + synops_saving`` times the
    SynOps of a hard reset at every strength)."""
    rows, rng = [], np.random.default_rng(1)
    other_gain = stream_gain if other_gain is None else other_gain
    for variant, lam in (("LIF", 0.5), ("LIF-noreset", 0.5), ("LIF", 0.9), ("LIF-noreset", 0.9), ("IF", 1.0),
                         ("IF-noreset", 1.0)):
        has_reset = "noreset" not in variant
        gain = stream_gain if lam == 0.9 else other_gain
        for s in SEEDS:
            base = {"variant": variant, "decay": lam, "seed": s, "hidden": [8], "train_stream": 0, "gap": 0.02,
                    "chance": 0.1, "profile": PROFILE}
            later = 0.5 + (gain if has_reset else 0.0) + rng.normal(0, 0.004)
            accuracy = 0.9 + rng.normal(0, 0.005)
            rows.append({**base, "task": "seq-digits", "rate_reg": 0.0, "test_accuracy": accuracy,
                         "val_accuracy": accuracy, "stream_accuracy": [0.9, later, later],
                         "hidden_synops": 800 + rng.normal(0, 10)})
            for reg in (0.0, 0.5, 2.0):
                accuracy = 0.95 - 0.005 * reg + rng.normal(0, 0.002)
                rows.append({**base, "task": "digits", "rate_reg": reg, "test_accuracy": accuracy,
                             "val_accuracy": accuracy, "stream_accuracy": None,
                             "hidden_synops": 1000 / (1 + reg) * (1 if has_reset else 1 + synops_saving)
                             + rng.normal(0, 10)})
    return pd.DataFrame(rows)


def recurrence(acc_gain=0.2, robust_cost=0.2):
    """temporal-xor's gap sweep (parity) at gaps 0 (both at the ceiling), 5 (feed-forward at 0.6, recurrent
    ``acc_gain`` better) and 20 (both at chance); its order task at K = 2…5 events (feed-forward falling
    0.08 per event, recurrent ``acc_gain`` / 3 per event above it); seq-digits audited (recurrent
    ``robust_cost`` less robust)."""
    rows, rng = [], np.random.default_rng(2)
    for variant, width in (("LIF", 8), ("RLIF", 8), ("LIF", 20)):
        rec = variant.startswith("R")
        for s in SEEDS:
            base = dict(variant=variant, decay=0.5, seed=s, hidden=[width], gap=0.0, profile=PROFILE)
            for gap in (0, 5, 20):
                clean = {0: 0.995 + rng.normal(0, 0.002), 5: 0.6 + (acc_gain if rec else 0) + rng.normal(0, 0.02),
                         20: 0.5 + rng.normal(0, 0.003)}[gap]
                clean = min(clean, 1.0)
                rows.append({**base, "task": "temporal-xor", "task_params.gap": gap, "task_params.label": "parity",
                             "task_params.n_events": 2, "test_accuracy": clean,
                             "val_accuracy": clean + rng.normal(0, 0.005), "chance": 0.5, "audit": None})
            for k in (2, 3, 4, 5):
                clean = 0.95 - 0.08 * (k - 2) + (acc_gain / 3 * (k - 2) if rec else 0) + rng.normal(0, 0.01)
                rows.append({**base, "task": "temporal-xor", "task_params.gap": 5, "task_params.label": "first-last",
                             "task_params.n_events": k, "test_accuracy": min(clean, 1.0),
                             "val_accuracy": min(clean, 1.0), "chance": 0.5, "audit": None})
            clean = 0.6 + (0.1 if rec else 0) + rng.normal(0, 0.02)
            robust = 0.1 + (clean - 0.1) * (0.6 - (robust_cost if rec else 0) + rng.normal(0, 0.02))
            rows.append({**base, "task": "seq-digits", "task_params.gap": np.nan, "task_params.label": np.nan,
                         "task_params.n_events": np.nan, "test_accuracy": clean, "val_accuracy": clean, "chance": 0.1,
                         "audit": audit(clean, min(robust, clean), flips=False)})
    return pd.DataFrame(rows)


def frames(**kw):
    pick = lambda names: {k: v for k, v in kw.items() if k in names}  # noqa: E731
    return (leakage(**pick(("memory_slope", "robust_slope", "at_chance"))),
            reset(**pick(("stream_gain", "other_gain", "synops_saving"))),
            recurrence(**pick(("acc_gain", "robust_cost"))))


def evaluate(**kw):
    judged, table = claims.evaluate(*frames(**kw))
    return dict(zip(table["claim"], table["verdict"])), judged


def primary_of(judged, claim, arm):
    rows = judged[(judged["claim"] == claim) & (judged["arm"] == arm) & judged["primary"]]
    assert len(rows) == 1
    return rows.iloc[0]


# --- verdicts follow the data ----------------------------------------------------------------------------

def test_clear_effects_in_the_expected_direction_are_supported():
    verdicts, judged = evaluate()
    assert {k: v for k, v in verdicts.items() if k != "G"} == \
        {"C1": "supported", "C2": "supported", "C3": "supported", "C4": "supported"}
    assert verdicts["G"] == "exploratory"
    estimated = judged[judged["p"].notna()]
    assert (estimated["p_adjusted"] >= estimated["p"]).all() and (estimated["n_seeds"] == len(SEEDS)).all()
    assert (estimated["ci_low"] <= estimated["estimate"]).all()
    assert (estimated["estimate"] <= estimated["ci_high"]).all()


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


# --- primary contrasts -----------------------------------------------------------------------------------

def test_each_claim_arm_has_exactly_one_primary_row_and_it_alone_is_confirmatory():
    _, judged = evaluate()
    primary = judged[judged["primary"]]
    assert sorted(zip(primary["claim"], primary["arm"])) == ALL_ARMS
    assert (judged["family"] == np.where(judged["primary"], "confirmatory", "exploratory")).all()
    assert not judged.loc[judged["claim"] == "G", "primary"].any()
    assert len(judged) > 3 * len(primary)  # the secondary rows are still there: shown and tested


def test_the_operating_point_is_chosen_on_validation_accuracy_never_on_test_accuracy():
    lk, rs, rc = frames()
    judged = claims.judge(claims.effects(lk, rs, rc))
    assert primary_of(judged, "C1", "memory")["point_value"] == 4  # delay 0 at the ceiling, 16 at chance
    assert primary_of(judged, "C4", "accuracy")["contrast"] == "growth with complexity, best λ"
    test_moved = lk.assign(test_accuracy=np.where(lk["task_params.delay"] == 4, 0.25, lk["test_accuracy"]))
    assert primary_of(claims.judge(claims.effects(test_moved, rs, rc)), "C1", "memory")["point_value"] == 4
    val_moved = lk.assign(val_accuracy=np.where(lk["task_params.delay"] == 16, 0.62, lk["val_accuracy"]))
    assert primary_of(claims.judge(claims.effects(val_moved, rs, rc)), "C1", "memory")["point_value"] == 16


def test_a_secondary_row_cannot_change_a_claims_verdict():
    verdicts, judged = evaluate(other_gain=-0.3)  # λ 0.5 and IF rows of C2 reversed; λ 0.9 (primary) not
    secondary = judged[(judged["claim"] == "C2") & ~judged["primary"]]
    assert (secondary["verdict"] == "not supported").all() and len(secondary) == 2
    assert verdicts["C2"] == "supported"
    # and the confirmatory family does not see them: its adjusted p-values are unchanged
    _, before = evaluate()
    assert judged.loc[judged["primary"], "p_adjusted"].tolist() == before.loc[before["primary"], "p_adjusted"].tolist()


def test_holm_runs_over_the_confirmatory_rows_alone_and_bh_over_the_rest():
    _, judged = evaluate()
    for family, method in (("confirmatory", "holm"), ("exploratory", "fdr_bh")):
        rows = judged[(judged["family"] == family) & judged["p"].notna()]
        assert rows["p_adjusted"].to_numpy() == pytest.approx(multipletests(rows["p"].to_numpy(), method=method)[1])
    assert len(judged[judged["family"] == "confirmatory"]) == 6


def test_no_rho_interval_leaves_minus_one_one():
    _, judged = evaluate(memory_slope=0.7, robust_slope=-0.8)  # per-seed ρ at ±1 on most seeds
    rho = judged[(judged["unit"] == "rho") & judged["p"].notna()]
    assert len(rho) >= 3
    for column in ("estimate", "ci_low", "ci_high", "ci95_low", "ci95_high"):
        assert rho[column].between(-1, 1).all(), column
    assert (rho["ci_low"] <= rho["estimate"]).all() and (rho["estimate"] <= rho["ci_high"]).all()


def test_saturated_rows_are_labelled_not_negligible():
    _, judged = evaluate()
    xor = judged[(judged["claim"] == "C4") & (judged["task"] == "temporal-xor") & (judged["arm"] == "accuracy")
                 & (judged["point"] == "gap")]  # the gap sweep (memory span)
    by_gap = xor.set_index("point_value")["verdict"].to_dict()
    assert by_gap == {0.0: "saturated", 5.0: "supported", 20.0: "saturated"}
    notes = xor.set_index("point_value")["note"]
    assert "below the ceiling" in notes[0.0] and "above chance" in notes[20.0]
    memory = judged[(judged["claim"] == "C1") & (judged["arm"] == "memory")].set_index("point_value")["verdict"]
    assert memory.to_dict() == {0.0: "saturated", 4.0: "supported", 16.0: "saturated"}


def test_a_saturated_primary_row_makes_its_arm_saturated():
    lk, rs, rc = frames()
    rc.loc[rc["task"] == "temporal-xor", ["test_accuracy", "val_accuracy"]] = 0.995  # every gap at the ceiling
    judged, table = claims.evaluate(lk, rs, rc)
    assert primary_of(judged, "C4", "accuracy")["verdict"] == "saturated"
    assert table.set_index("claim").loc["C4", "verdict"] == "saturated"


def test_runs_at_chance_have_no_robustness_and_the_table_says_so():
    _, judged = evaluate(at_chance=(0.0, 0.25))
    flips = judged[(judged["arm"] == "robustness") & (judged["task"] == "delayed-recall")].iloc[0]
    assert flips["n_excluded"] == 2 * len(SEEDS)
    assert "run(s) at chance" in flips["note"]
    assert claims.chance_corrected(0.26, 0.27, 0.25) != claims.chance_corrected(0.26, 0.27, 0.25)  # NaN
    assert claims.chance_corrected(0.5, 1.0, 0.0) == 0.5


def test_an_effect_with_too_few_seeds_is_listed_not_judged_and_not_counted():
    rows = claims.effects(*frames())
    c3 = rows.index[(rows["claim"] == "C3") & rows["primary"]][0]
    rows.at[c3, "values"] = None
    judged = claims.judge(rows)
    assert judged.loc[c3, "verdict"] == "inconclusive" and math.isnan(judged.loc[c3, "p"])
    assert "not estimable" in judged.loc[c3, "note"]
    # it joins no family: Holm ran over the five estimable primary rows
    rest = judged[judged["primary"] & judged["p"].notna()]
    assert len(rest) == 5 and rest["p_adjusted"].to_numpy() == pytest.approx(multipletests(rest["p"], method="holm")[1])
    table = claims.verdicts(judged).set_index("claim")
    assert table.loc["C3", "n_seeds"] == 0 and table.loc["C3", "verdict"] == "inconclusive"
    assert table.loc["C1", "n_seeds"] == len(SEEDS)


def test_a_claims_seed_count_is_over_its_estimable_primary_rows():
    rows = claims.effects(*frames())
    robust = rows.index[(rows["claim"] == "C4") & (rows["arm"] == "robustness") & rows["primary"]][0]
    rows.at[robust, "values"] = None
    table = claims.verdicts(claims.judge(rows)).set_index("claim")
    assert table.loc["C4", "n_seeds"] == len(SEEDS)  # the accuracy arm's; the robustness row has none


def test_efficiency_only_counts_at_matched_accuracy():
    lk, rs, rc = frames()
    worse = (rs["variant"] == "LIF") & (rs["decay"] == 0.5) & (rs["task"] == "digits")
    rs.loc[worse, "test_accuracy"] -= 0.1  # the reset variant is worse everywhere on its frontier
    judged, _ = claims.evaluate(lk, rs, rc)
    row = judged[(judged["claim"] == "C3") & (judged["contrast"] == "relative difference, feed-forward")
                 & (judged["decay"] == 0.5)].iloc[0]  # unregularised: a comparison at unequal accuracy
    assert row["verdict"] == "inconclusive" and "matched accuracy" in row["note"]
    frontier = primary_of(judged, "C3", "SynOps")  # the frontier compares at an accuracy both reach
    assert frontier["contrast"] == "frontier" and frontier["verdict"] != "inconclusive"


def test_the_frontier_compares_synops_at_an_accuracy_both_reset_modes_reach():
    runs = pd.DataFrame(dict(seed=[0] * 6 + [1] * 6, reset=(["hard"] * 3 + ["none"] * 3) * 2,
                             test_accuracy=[0.95, 0.94, 0.90, 0.97, 0.96, 0.93] * 2,
                             hidden_synops=[1000, 600, 300, 900, 500, 200] * 2))
    effect = claims.frontier_difference(runs, runs["reset"] == "hard", runs["reset"] == "none")
    # target = min(0.95, 0.97) - 0.02 = 0.93: hard needs 600 (0.94), none 200 (0.93): (200 - 600) / 600
    assert effect.tolist() == pytest.approx([-2 / 3, -2 / 3])


def test_the_claims_table_has_every_column_the_command_prints():
    _, judged = evaluate()
    table = claims.claims_table(judged)
    assert list(table.columns) == ["claim", "arm", "primary", "family", "effect", "task", "lambda", "point",
                                   "point_value", "estimate", "ci_low", "ci_high", "p", "p_adjusted", "sesoi",
                                   "n_seeds", "verdict", "note", "mc_se"]
    assert set(table["verdict"]) <= {"supported", "not supported", "negligible", "inconclusive", "higher", "lower",
                                     "saturated"}
    assert set(table["family"]) == {"confirmatory", "exploratory"}


def test_family_arithmetic_states_the_sign_flip_floor():
    _, judged = evaluate()
    out = claims.family_arithmetic(judged)
    assert (out["n"], out["m"]) == (12, 6)
    assert out["floor"] == 2 / 4096 and out["holm_floor"] == 6 * 2 / 4096 and out["decidable"]
    assert out["seeds_needed"] == 8  # 6 · 2/2^7 = 0.094, 6 · 2/2^8 = 0.047
    assert "6 × 2/2^12" in out["text"]


# --- declarations ------------------------------------------------------------------------------------------

def test_every_declared_primary_contrast_exists_in_its_profiles_grid():
    """A changed grid (tasks, λ) must come with a changed declaration: claims.PRIMARY."""
    for profile in config.PROFILE_NAMES:
        leak, reset_cfg, rec = (config.resolve(n, profile) for n in ("02_leakage", "03_reset", "04_recurrence"))
        grids = {"C1": ({"delayed-recall", leak.second_task}, set(leak.decays)),
                 "C2": ({reset_cfg.stream_task}, set(reset_cfg.decays) | {1.0}),
                 "C3": (set(reset_cfg.tasks), set(reset_cfg.decays) | {1.0}),
                 "C4": (set(rec.tasks), set(rec.decays) | {1.0})}
        declared = claims.PRIMARY[profile]
        assert sorted((p.claim, p.arm) for p in declared) == ALL_ARMS
        for p in declared:
            tasks, decays = grids[p.claim]
            assert p.task in tasks, (profile, p)
            assert p.decay is None or p.decay in decays, (profile, p)
        assert [p.task for p in declared if p.claim == "C1" and p.arm == "robustness"] == ["delayed-recall"]
        assert claims.primary_table(profile)["claim"].tolist() == [p.claim for p in declared]


def test_a_declaration_matching_several_rows_is_refused_with_its_name():
    rows = claims.effects(*frames())
    trend = claims.Primary(claim="C2", arm="stream", task="digits", reason="no λ: a trend along λ")
    assert claims.choose_primary(rows, trend) is None  # C2's rows each have a λ: none is a trend
    several = claims.Primary(claim="C4", arm="accuracy", task="temporal-xor", decay=0.5, reason="gap not chosen")
    with pytest.raises(ValueError, match="C4 accuracy .* matches 8 rows"):
        claims.choose_primary(rows, several)


def test_bad_input_is_refused_with_the_parameter_named():
    rows = claims.effects(*frames())
    with pytest.raises(ValueError, match="'primary' and 'family'"):
        claims.judge(rows.drop(columns=["primary", "family"]))
    with pytest.raises(ValueError, match="profile must be given"):
        claims.effects(*(f.drop(columns="profile") for f in frames()))
    with pytest.raises(ValueError, match="profile must be one of"):
        claims.primary_table("huge")
    with pytest.raises(ValueError, match="mix profiles"):
        lk, rs, rc = frames()
        claims.effects(lk, rs.assign(profile="full"), rc)


# --- stability ---------------------------------------------------------------------------------------------

def hand_rows(c2_values) -> pd.DataFrame:
    """A hand-built effect table: every arm's primary row clearly supported on 12 seeds, but C2's given."""
    seeds = pd.Index(range(12), name="seed")
    strong = pd.Series(np.linspace(0.5, 0.6, 12), index=seeds)
    rows = [dict(claim=c, arm=a, effect=f"{c} {a}", task="t", decay=0.5, point="", point_value=math.nan, contrast="",
                 values=pd.Series(c2_values, index=seeds) if c == "C2" else
                 (-strong if a == "robustness" else strong), sesoi=0.02, expected=-1 if a == "robustness" else +1,
                 unit="accuracy", primary=True, family="confirmatory")
            for c, arms in claims.ARMS.items() for a in arms]
    rows.append(dict(rows[0], arm="memory", effect="secondary", primary=False, family="exploratory"))
    return pd.DataFrame(rows)


def test_the_stability_table_flags_a_verdict_that_one_seed_decides():
    # eleven seeds at 0.0195 and one at 0.03: mean 0.0204 >= SESOI 0.02, supported; without seed 11 every
    # value is 0.0195, whose interval [0.0195, 0.0195] lies inside ±0.02: negligible
    table = claims.stability(hand_rows([0.0195] * 11 + [0.03]))
    c2 = table[table["claim"] == "C2"].set_index("perturbation")
    assert (c2["main_verdict"] == "supported").all()
    assert c2.loc["leave out seed 11", "verdict"] == "negligible"
    assert c2.loc["leave out seed 11", "same_as_main"] is False or not c2.loc["leave out seed 11", "same_as_main"]
    assert (c2.drop(index=["leave out seed 11", "attack redraws", "the other reading of the leak"])["verdict"]
            .isin(["supported", "negligible"])).all()
    available = c2["same_as_main"].notna()
    assert c2.loc["attack redraws", "verdict"] == "not available" and available.sum() == 12 + 3
    assert c2["share_kept"].iloc[0] == pytest.approx(c2.loc[available, "same_as_main"].astype(float).mean())
    assert c2["share_kept"].iloc[0] < 1
    judged = claims.judge(hand_rows([0.0195] * 11 + [0.03]))
    verdicts = claims.verdicts(judged, table).set_index("claim")
    assert verdicts.loc["C2", "fragile"] and "fragile" in verdicts.loc["C2", "label"]
    assert not verdicts.loc["C1", "fragile"] and verdicts.loc["C1", "share_kept"] == 1


def test_the_stability_table_uses_alternative_effect_tables_when_given():
    steady = hand_rows(np.linspace(0.5, 0.6, 12))
    reversed_c2 = hand_rows(-np.linspace(0.5, 0.6, 12))
    table = claims.stability(steady, redraws=[steady, reversed_c2], other_reading=steady)
    c2 = table[table["claim"] == "C2"].set_index("perturbation")
    assert c2.loc["attack redraw 1", "verdict"] == "supported"
    assert c2.loc["attack redraw 2", "verdict"] == "not supported"
    assert c2.loc["the other reading of the leak", "same_as_main"]
    assert c2["share_kept"].iloc[0] == pytest.approx(17 / 18)


# --- one verdict everywhere ------------------------------------------------------------------------------

@pytest.mark.parametrize("notebook", ["02_leakage", "03_reset", "04_recurrence", "05_summary"])
def test_every_chapter_judges_the_claims_with_the_whole_study(notebook):
    """The chapters and the summary compute a claim's verdict with claims.assess over the whole study;
    none judges a family of its own."""
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4).cells
                       if c.cell_type == "code")
    assert "claims.assess(" in source
    for own_family in ("claims.judge(", "claims.evaluate(", "claims.verdicts("):
        assert own_family not in source, own_family


def test_stats_and_claims_agree_on_the_verdicts_a_trade_off_takes():
    assert stats.combine_tradeoff(["supported", "saturated"]) == "saturated"
    assert set(claims.ARMS) == {"C1", "C2", "C3", "C4"} and claims.TRADEOFFS == ("C1", "C4")


# --- the command line ----------------------------------------------------------------------------------

def test_snnlib_claims_prints_the_families_and_the_stability_table(monkeypatch, capsys):
    from snnlib import cli

    lk, rs, rc = frames()
    monkeypatch.setattr(claims, "recorded_frames", lambda profile, directory=None:
                        dict(zip(claims.EXPERIMENTS, (lk, rs, rc))))
    assert cli.main(["claims", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert {"primary", "family"} <= set(table.columns) and table["primary"].sum() == 6
    assert cli.main(["claims", "--stability", "--format", "csv"]) == 0
    stability = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(stability.columns) == ["claim", "main_verdict", "perturbation", "verdict", "same_as_main", "share_kept"]
    assert set(stability["claim"]) == {"C1", "C2", "C3", "C4"}
    assert "leave out seed 11" in set(stability["perturbation"])


def test_attack_redraws_give_a_monte_carlo_error_and_a_stability_perturbation():
    lk, rs, rc = frames()
    rng = np.random.default_rng(9)

    def redrawn(audit_rows):  # the same audit with the robust accuracy moved by a small random amount
        return [[{**row, "accuracy": min(row["clean"], row["accuracy"] + rng.normal(0, 0.01))} for row in audit_rows]
                for _ in range(2)]

    rc["audit_redraws"] = [redrawn(a) if isinstance(a, list) and s < 4 else None for a, s in zip(rc["audit"], rc["seed"])]
    study = claims.assess({"02_leakage": lk, "03_reset": rs, "04_recurrence": rc}, PROFILE)
    robust = primary_of(study.judged, "C4", "robustness")
    assert 0 < robust["mc_se"] < robust["sesoi"] / 4  # 0.01 per audit on 4 of 12 seeds: far below the SESOI
    assert math.isnan(primary_of(study.judged, "C2", "stream")["mc_se"])  # no audit: nothing to redraw
    perturbations = set(study.stability["perturbation"])
    assert {"attack redraw 1", "attack redraw 2"} <= perturbations and "attack redraws" not in perturbations



def test_single_radius_rows_are_secondary_cross_sections_of_the_area():
    rows = claims.effects(*frames(), profile=PROFILE)
    single = rows[rows["contrast"].str.contains("radius", na=False)]
    assert set(zip(single["claim"], single["task"])) == {("C1", "delayed-recall"), ("C1", "seq-digits"),
                                                         ("C4", "seq-digits")}
    assert not single["primary"].any() and set(single["family"]) == {"exploratory"}
    # the C4 row at radius 2: per seed, RLIF − LIF of (robust − chance) / (clean − chance) at that radius
    rc = recurrence()
    at = rc[(rc["task"] == "seq-digits") & (rc["hidden"].map(lambda h: h[0]) == 8)]
    score = {(v, s): (a[2]["accuracy"] - 0.1) / (a[2]["clean"] - 0.1) for v, s, a in zip(at["variant"], at["seed"], at["audit"])}
    expected = [score[("RLIF", s)] - score[("LIF", s)] for s in SEEDS]
    c4 = single[single["claim"] == "C4"].iloc[0]
    assert "radius 2" in c4["contrast"] and np.allclose(sorted(c4["values"]), sorted(expected))


def test_each_architecture_is_taken_at_its_best_lambda_on_validation_accuracy_at_each_k():
    rows = []
    for seed in range(3):
        for arch, lam, k, val, test in [("FF", 0.5, 2, 0.9, 0.1), ("FF", 1.0, 2, 0.8, 0.9),  # test never read
                                        ("FF", 0.5, 3, 0.7, 0.5), ("FF", 1.0, 3, 0.75, 0.5),
                                        ("R", 0.5, 2, 1.0, 1.0), ("R", 1.0, 2, 1.0, 1.0),      # a tie: smaller λ
                                        ("R", 0.5, 3, 0.6, 0.6), ("R", 1.0, 3, 0.7, 0.7)]:
            rows.append({"seed": seed, "arch": arch, "decay": lam, "task_params.n_events": k, "val_accuracy": val,
                         "test_accuracy": test})
    best = claims.at_best_decay(pd.DataFrame(rows), ["arch", "task_params.n_events"])
    picked = best.groupby(["arch", "task_params.n_events"])["decay"].agg(set).to_dict()
    assert picked == {("FF", 2): {0.5}, ("FF", 3): {1.0}, ("R", 2): {0.5}, ("R", 3): {1.0}}
    assert len(best) == 4 * 3  # every seed of the chosen λ, nothing else
