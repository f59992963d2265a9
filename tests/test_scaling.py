"""The scaling chapter (09): which runs re-estimate the primary contrasts at other sizes, and how a size's
verdicts are read."""

import math

import pandas as pd
import pytest

from snnlib.analysis import claims, scaling
from snnlib.study import config, records, runs


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_at_the_chapters_own_size_the_scaling_runs_are_the_chapters_runs(profile):
    """Reused, not retrained: every run at the study's size is a run of its chapter, byte for byte."""
    cfg = config.resolve("09_scaling", profile)
    own = list(config.resolve("02_leakage", profile).hidden)
    chapter_keys = {records.canonical_key(r) for name in runs.PRIMARY_CHAPTERS
                    for r in runs.runs_of(config.resolve(name, profile, seeds=cfg.seeds), missing="shared")}
    at_own = runs.sized_runs(cfg, own)
    assert at_own and {records.canonical_key(r) for r in at_own} <= chapter_keys


def test_other_sizes_keep_only_the_measures_a_primary_contrast_reads():
    cfg = config.resolve("09_scaling", "quick")
    sized = runs.sized_runs(cfg, [32])
    assert {tuple(r["hidden"]) for r in sized} == {(32,)}
    for r in sized:
        assert set(r.get("measures", [])) <= set(runs.PRIMARY_MEASURES[r["experiment"]])
    measured = {(r["experiment"], m) for r in sized for m in r.get("measures", [])}
    assert measured == {("02_leakage", "retention_noise"), ("03_reset", "stream"), ("04_recurrence", "audit")}


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_declared_primary_contrast_is_fed_at_every_size(profile):
    """Each declaration's task and λ is trained at each size, with both arms of the contrast."""
    cfg = config.resolve("09_scaling", profile)
    for hidden in cfg.sizes:
        sized = runs.sized_runs(cfg, hidden)
        for p in claims.PRIMARY[profile]:
            at = [r for r in sized if r["task"] == p.task and (p.decay is None or r["decay"] == p.decay)]
            assert at, (hidden, p.claim, p.arm)
            variants = {r["variant"] for r in at}
            if p.claim == "C1":
                assert len({r["decay"] for r in at}) == len(config.resolve("02_leakage", profile).decays)
            elif p.claim in ("C2", "C3"):
                assert {"LIF", "LIF-noreset"} <= variants
            else:
                assert {"LIF", "RLIF"} <= variants
    # and nothing the primary contrasts do not read: no soft reset, no wide control, and non-leaky networks
    # only where C4's accuracy arm chooses each architecture's best λ among those trained (the order task)
    everything = runs.scaling_runs(cfg)
    assert not [r for r in everything if r["variant"] in ("LIF-soft", "IF-noreset")]
    assert {r["task"] for r in everything if r["variant"] in ("IF", "RIF")} == {"temporal-xor"}
    assert len({records.canonical_key(r) for r in everything}) == len(everything)


def test_a_size_that_is_not_a_list_of_positive_layer_sizes_is_refused_with_its_name():
    with pytest.raises(ValueError, match="sizes"):
        config.resolve("09_scaling", "quick", sizes=[[0]])
    with pytest.raises(ValueError, match="sizes"):
        config.resolve("09_scaling", "quick", sizes=[])


def _judged(verdict_c1: str, estimate: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for claim, arms in claims.ARMS.items():
        for arm in arms:
            rows.append(dict(claim=claim, arm=arm, effect=f"{claim} {arm}", primary=True, estimate=estimate,
                             ci_low=estimate - 0.1, ci_high=estimate + 0.1, verdict="supported", unit="accuracy",
                             sesoi=0.02))
    verdicts = pd.DataFrame(dict(claim=list(claims.ARMS), verdict=[verdict_c1, "supported", "supported", "supported"]))
    return pd.DataFrame(rows), verdicts


def test_the_table_has_one_row_per_size_and_arm_and_the_sentence_names_where_a_verdict_changes():
    sizes = [[32], [64], [128, 128]]
    judged = {"32": _judged("supported", 0.3), "64": _judged("supported", 0.4), "128×128": _judged("not supported", 0.0)}
    table = scaling.scaling_table(judged, sizes)
    n_arms = sum(len(a) for a in claims.ARMS.values())
    assert len(table) == len(sizes) * n_arms
    assert set(table["depth"]) == {1, 2} and set(table["width"]) == {32, 64, 128}
    sentences = scaling.holds(table, "64")
    assert "holds" in sentences["C2"] and "not supported at 128×128" in sentences["C1"]
    assert "depends" in sentences["C1"]
    assert scaling.size_label([128, 128]) == "128×128" and scaling.size_label([64]) == "64"


def test_a_size_without_a_primary_row_is_inconclusive_not_dropped():
    rows, verdicts = _judged("supported", 0.2)
    rows = rows[rows["claim"] != "C3"]
    table = scaling.scaling_table({"64": (rows, verdicts)}, [[64]])
    c3 = table[table["claim"] == "C3"]
    assert len(c3) == 1 and c3["verdict"].iloc[0] == "inconclusive" and math.isnan(c3["estimate"].iloc[0])
