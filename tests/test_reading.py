"""The two readings of the leak: which runs a reading changes, the summary's re-estimate of the primary
contrasts under the other reading, and how its verdicts are compared."""

import numpy as np
import pandas as pd
import pytest
import torch

from snnlib.analysis import claims, reading
from snnlib.study import config, experiment, lr_selection, records, runs, sweep, training


def test_the_gain_normalised_reading_changes_exactly_the_leaky_runs_strictly_between_0_and_1():
    cfg = config.resolve("02_leakage", "quick", leak_reading="gain-normalised")
    raw = config.resolve("02_leakage", "quick")
    normalised, plain = config.runs_function(cfg.name)(cfg), config.runs_function(raw.name)(raw)
    assert len(normalised) == len(plain)
    for n, p in zip(normalised, plain):
        if 0.0 < p["decay"] < 1.0:
            assert n == dict(p, neuron_params={"gain_normalised": True})
        else:  # λ = 0 (gain 1 - λ = 1) and λ = 1 (IF) read the same either way: the same run, the same record
            assert n == p
    assert all("neuron_params" not in p or not p["neuron_params"].get("gain_normalised") for p in plain)


def test_a_neuron_without_the_option_keeps_its_own_reading():
    """PLIF is gain-normalised by definition and takes no option; ALIF takes it."""
    assert not runs.reads_input(dict(variant="PLIF", decay=0.9))
    assert runs.reads_input(dict(variant="ALIF", decay=0.9))
    assert runs.reads_input(dict(variant="RLIF-soft", decay=0.5))
    assert not runs.reads_input(dict(variant="IF", decay=1.0))
    assert not runs.reads_input(dict(variant="LIF", decay=0.0))


def test_an_unknown_reading_is_refused_by_name_with_the_allowed_values():
    with pytest.raises(ValueError, match=r"leak_reading.*'raw' or 'gain-normalised'"):
        config.resolve("03_reset", "quick", leak_reading="normalised")


def test_a_gain_normalised_run_builds_a_network_that_scales_its_input_by_1_minus_lambda():
    """The run's reading reaches the network it trains (the dynamics themselves are worked by hand in
    tests/test_neuron_contract.py): the same weights charge (1 - λ) times the raw membrane."""
    cfg = config.resolve("02_leakage", "smoke", leak_reading="gain-normalised")
    run = next(r for r in config.runs_function(cfg.name)(cfg) if r["decay"] == 0.5)
    params = experiment.validate(run)
    task = training.build_task(params)
    normalised = training.build_model(params, task)
    raw = training.build_model(experiment.validate(dict(run, neuron_params={})), task)
    assert normalised.layers[0].node.dynamics.gain_normalised and not raw.layers[0].node.dynamics.gain_normalised
    current = torch.ones(2, 3)
    state = {"v": torch.zeros(2, 3)}
    assert torch.allclose(normalised.layers[0].node.dynamics.charge(current, state), 0.5 * current)
    assert torch.allclose(raw.layers[0].node.dynamics.charge(current, state), current)


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_the_summary_trains_every_primary_contrast_again_under_the_other_reading(profile):
    cfg = config.resolve("05_summary", profile)
    built = runs.reading_runs(cfg)
    assert built and cfg.the_other_reading() == "gain-normalised"
    assert all(runs.feeds_primary(r, profile) for r in built)
    assert {r["seed"] for r in built} == set(range(cfg.reading_seeds))
    changed = [r for r in built if r.get("neuron_params", {}).get("gain_normalised")]
    assert {r["experiment"] for r in changed} == set(runs.PRIMARY_CHAPTERS)
    for r in changed:  # a new network: only the measures a primary contrast reads, no attack redraw
        assert 0.0 < r["decay"] < 1.0
        assert set(r.get("measures", [])) <= set(runs.PRIMARY_MEASURES[r["experiment"]])
        assert "audit_redraws" not in r.get("measure_params", {})
    # the others are the chapters' own runs, byte for byte, so their records are reused
    chapter_keys = {records.canonical_key(p) for name in runs.PRIMARY_CHAPTERS
                    for p in sweep.plan(runs.runs_of(config.resolve(name, profile, seeds=cfg.reading_seeds),
                                                    missing="shared"))}
    same = [r for r in built if not r.get("neuron_params", {}).get("gain_normalised")]
    assert same and {records.canonical_key(p) for p in sweep.plan(same)} <= chapter_keys
    # both arms of every declared contrast are there
    for p in claims.PRIMARY[profile]:
        assert [r for r in changed if r["task"] == p.task and (p.decay is None or r["decay"] == p.decay)], p


def test_without_the_other_reading_the_summary_trains_nothing():
    assert runs.reading_runs(config.resolve("05_summary", "quick", other_reading=False)) == []


def test_the_other_readings_learning_rates_are_chosen_at_each_chapters_reference_setting():
    cfg = config.resolve("05_summary", "quick")
    selection = lr_selection.selection_runs(cfg)
    built = runs.reading_runs(cfg)
    assert {lr_selection.cell(r) for r in selection} == {lr_selection.cell(r) for r in built}
    leakage = config.resolve("02_leakage", "quick")
    for r in selection:
        if r["task"] == "delayed-recall":  # 02's robust delay, not the lower middle of 05's (absent) delays
            assert r["task_params"]["delay"] == leakage.robust_delay
        if r["experiment"] == "03_reset":
            assert not r.get("rate_reg") and not r.get("train_stream")
    # at the shared rate the selection run is the reading run itself, so it is reused when that rate wins
    keys = {records.canonical_key(p) for p in sweep.plan(runs.runs_of(cfg, missing="shared"))}
    shared = [r for r in selection if r["lr"] == cfg.lr]
    assert shared and {records.canonical_key(p) for p in sweep.plan(shared)} <= keys


def rows(c2_values):
    """Hand-built effect rows: every arm's primary row clearly supported on 12 seeds, but C2's given."""
    from tests.test_claims import hand_rows

    return hand_rows(c2_values)


def test_the_side_by_side_table_gives_each_arm_under_both_readings_and_says_where_a_verdict_moves():
    main = claims.judge(rows(np.linspace(0.5, 0.6, 12)))
    other = rows(-np.linspace(0.5, 0.6, 12))  # C2 reversed under the other reading
    table = reading.side_by_side(main, other, "raw", "gain-normalised")
    assert len(table) == sum(len(a) for a in claims.ARMS.values())
    c2 = table[table["claim"] == "C2"].iloc[0]
    assert c2["verdict, raw"] == "supported" and c2["verdict, gain-normalised"] == "not supported"
    assert c2["estimate, gain-normalised"] == pytest.approx(-0.55)
    assert c2["claim verdict, raw"] == "supported" and c2["claim verdict, gain-normalised"] == "not supported"
    sentences = reading.holds(table, "raw", "gain-normalised")
    assert "depends on how the leak is read" in sentences["C2"]
    assert sentences["C3"] == "C3 is supported under both readings of the leak."
    shown = reading.compact(table, ("raw", "gain-normalised"))
    assert shown.loc[("C2", "stream"), "gain-normalised: estimate [CI]"].startswith("-0.550 [")
    assert shown.loc[("C2", "stream"), "gain-normalised: claim"] == "not supported"
    assert reading.verdicts_text(table, "gain-normalised") == \
        "C1 supported, C2 not supported, C3 supported, C4 supported"


def test_the_stability_analysis_counts_the_other_reading_when_it_is_given():
    main = rows(np.linspace(0.5, 0.6, 12))
    other = rows(-np.linspace(0.5, 0.6, 12))
    study_table = claims.stability(main, other_reading=other)
    c2 = study_table[(study_table["claim"] == "C2")].set_index("perturbation")
    assert c2.loc["the other reading of the leak", "verdict"] == "not supported"
    assert c2.loc["the other reading of the leak", "same_as_main"] is False or \
        not c2.loc["the other reading of the leak", "same_as_main"]
    without = claims.stability(main, other_reading=None).set_index(["claim", "perturbation"])
    assert without.loc[("C2", "the other reading of the leak"), "verdict"] == claims.NOT_AVAILABLE


def test_the_appendix_lists_the_other_readings_cells_once_under_their_own_label():
    from snnlib.analysis import report

    table = report.lr_tables("quick")
    labelled = table[table["experiment"].str.endswith("(gain-normalised)")]
    changed = {lr_selection.cell(r) for r in runs.reading_runs(config.resolve("05_summary", "quick"))
               if runs.reads_input(r)}
    assert len(labelled) == len(changed)
    assert ((labelled["decay"] > 0) & (labelled["decay"] < 1)).all()
    assert set(labelled["experiment"]) == {f"{name} (gain-normalised)" for name in runs.PRIMARY_CHAPTERS}
    plain = table[~table["experiment"].str.contains("gain")]
    assert not plain.duplicated(["experiment", "variant", "decay", "task"]).any()
