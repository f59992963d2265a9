"""The learning rate of every cell (variant, λ, task) is chosen on validation accuracy, by one rule."""

import math

import pandas as pd
import pytest

from snnlib.analysis import report
from snnlib.study import config, lr_selection, records, runs, sweep


def test_the_best_mean_validation_accuracy_wins_and_ties_go_to_the_shared_rate_then_the_smaller():
    assert lr_selection.choose({1e-3: 0.80, 3e-3: 0.90, 1e-2: 0.95}, shared=3e-3) == 1e-2
    assert lr_selection.choose({1e-3: 1.0, 3e-3: 1.0, 1e-2: 1.0}, shared=3e-3) == 3e-3
    assert lr_selection.choose({1e-3: 1.0, 1e-2: 1.0}, shared=3e-3) == 1e-3
    assert lr_selection.choose({3e-3: math.nan, 1e-2: 0.5}, shared=3e-3) == 1e-2  # a rate not yet recorded
    assert math.isnan(lr_selection.choose({3e-3: math.nan}, shared=3e-3))


@pytest.mark.parametrize("name", ["02_leakage", "03_reset", "04_recurrence", "07_learned_and_adaptive"])
def test_each_cell_is_chosen_once_at_its_reference_setting_on_the_first_seeds_at_every_rate(name):
    cfg = config.resolve(name, "quick")
    built = config.runs_function(name)(cfg)
    selection = lr_selection.selection_runs(cfg)
    cells = {lr_selection.cell(r) for r in built}
    assert {lr_selection.cell(r) for r in selection} == cells
    assert len(selection) == len(cells) * len(cfg.lr_grid) * cfg.lr_seeds
    assert {r["seed"] for r in selection} == set(range(cfg.lr_seeds))
    assert {r["lr"] for r in selection} == set(cfg.lr_grid)
    own = {records.canonical_key(r) for r in sweep.plan(runs.runs_of(cfg, missing="shared"))}
    for run in selection:
        assert not run.get("rate_reg") and not run.get("train_stream")
        if run["lr"] == cfg.lr:  # as the chapter trains it, measurements included: reused if this rate wins
            assert records.canonical_key(sweep.plan([run])[0]) in own
        else:
            assert run["measures"] == [] and run["measure_params"] == {}
        if run["task"] == "delayed-recall":
            assert run["task_params"]["delay"] == lr_selection.reference_delay(cfg)
        if run["task"] == "temporal-xor":  # the order task at the middle K: C4's primary operating point
            assert run["task_params"]["label"] == runs.ORDER_TASK["label"]
            assert run["task_params"]["n_events"] == sorted(cfg.events)[(len(cfg.events) - 1) // 2]
    if name == "02_leakage":  # λ is part of the cell: every λ level of C1 gets its own rate
        assert len({r["decay"] for r in selection}) == len(cfg.decays)


def test_the_chosen_rate_trains_every_run_of_its_cell_and_a_missing_choice_is_an_error(monkeypatch):
    cfg = config.resolve("04_recurrence", "quick")
    built = config.runs_function(cfg.name)(cfg)
    with pytest.raises(LookupError, match="no learning rate chosen yet.*snnlib train 04_recurrence --profile quick"):
        runs.runs_of(cfg)
    choice = {c: (1e-2 if c[1] == "RLIF" else 3e-3) for c in {lr_selection.cell(r) for r in built}}
    rated = runs.runs_of(cfg, choice=choice)
    assert len(rated) == len(built)
    assert {r["lr"] for r in rated if r["variant"] == "RLIF"} == {1e-2}
    assert {r["lr"] for r in rated if r["variant"] != "RLIF"} == {3e-3}  # the wide feed-forward controls too
    assert runs.runs_of(cfg, missing="shared") == runs.with_redraws(cfg, built)


def test_the_scaling_chapter_trains_every_size_at_the_rates_its_chapters_chose(monkeypatch):
    cfg = config.resolve("09_scaling", "quick")
    picked = {}

    def chosen_for(source, built=None, directory=None):  # stands in for the recorded selections of 02 - 04
        if lr_selection.borrows(source):
            return real(source, built, directory)
        cells = {lr_selection.cell(r) for r in config.runs_function(source.name)(source)}
        picked.update({c: 1e-2 if hash(c) % 2 else 3e-3 for c in cells})
        return {c: picked[c] for c in cells}

    real = lr_selection.chosen
    monkeypatch.setattr(lr_selection, "chosen", chosen_for)
    assert lr_selection.selection_runs(cfg) == []  # it chooses nothing of its own
    rated = runs.runs_of(cfg)
    assert {tuple(r["hidden"]) for r in rated} == {tuple(h) for h in cfg.sizes}
    assert all(r["lr"] == picked[lr_selection.cell(r)] for r in rated)


def test_a_grid_without_the_shared_rate_or_more_selection_seeds_than_seeds_is_refused_by_name():
    with pytest.raises(ValueError, match="lr_grid"):
        config.resolve("02_leakage", "quick", lr_grid=[1e-3, 1e-2])  # without the shared 3e-3
    with pytest.raises(ValueError, match="lr_seeds"):
        config.resolve("02_leakage", "quick", lr_seeds=17)
    cfg = config.resolve("02_leakage", "quick", lr_grid=[3e-3])  # one rate: nothing to choose, nothing to train
    assert lr_selection.selection_runs(cfg) == [] and {r["lr"] for r in runs.runs_of(cfg)} == {3e-3}


def test_selection_trains_then_every_run_uses_the_rate_with_the_best_recorded_validation_accuracy():
    """End to end on 01's smoke profile (two rates, one seed): the choice is the one a reader computes
    from the records, the selection runs at the chosen rate are the chapter's own runs (reused), and the
    test split is never read."""
    cfg = config.resolve("01_dynamics_and_baseline", "smoke", variants=["LIF", "RLIF"], tasks=["digits"],
                         lr_grid=[3e-3, 3e-2], epochs=1)
    selection = lr_selection.selection_runs(cfg)
    assert len(selection) == 2 * 2  # two cells at two rates on one seed
    sweep.run_grid(selection, progress=False)
    found = records.to_frame(records.load_all())
    by_hand = {v: found[found["variant"] == v].set_index("lr")["val_accuracy"] for v in ("LIF", "RLIF")}
    table = lr_selection.table(cfg)
    for row in table.itertuples():
        expected = lr_selection.choose(by_hand[row.variant].to_dict(), cfg.lr)
        assert row.chosen == expected
    frame = runs.train(cfg, progress=False)
    assert len(frame) == len(runs.runs_of(cfg)) == 2 * cfg.seeds
    for row in table.itertuples():
        assert set(frame[frame["variant"] == row.variant]["lr"]) == {row.chosen}
    # seed 0 at the chosen rate was trained once, by the selection
    assert len(records.load_all()) == len(selection) + len(frame) - 2
    checked = report.lr_check(table)
    assert (checked["handicapped"] == (checked["shortfall"] > report.LR_SHORTFALL)).all()
    assert "of 2 cells" in report.lr_summary(table)
