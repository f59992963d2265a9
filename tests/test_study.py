"""Experiment declarations: profile values valid, cross-parameter rules, the runs each experiment builds."""

import json
import subprocess
import sys

import pytest

from snnlib.analysis import report
from snnlib.study import config, runs
from snnlib.study.experiment import validate

TRAINING = list(config.training_experiments())


@pytest.mark.parametrize("experiment", TRAINING)
@pytest.mark.parametrize("profile", config.PROFILE_NAMES)
def test_every_run_of_every_profile_is_valid(experiment, profile):
    cfg = config.resolve(experiment, profile)
    built = runs.runs_of(cfg, missing="shared")  # at the shared rate: nothing is trained here
    assert len({json.dumps(r, sort_keys=True) for r in built}) == len(built)  # no run twice
    assert {r["seed"] for r in built} == set(range(getattr(cfg, "reading_seeds", cfg.seeds)))
    for run in built:
        validate(run)
        assert run["profile"] == profile
        # the scaling chapter's and the summary's runs keep the name of the chapter they re-estimate (so
        # that they are reused)
        assert run["experiment"] == experiment or (experiment in ("05_summary", "09_scaling") and
                                                   run["experiment"] in runs.PRIMARY_CHAPTERS)


@pytest.mark.parametrize("profile, primary, other", [("quick", 16, 8), ("full", 24, 10)])
def test_enough_seeds(profile, primary, other):
    """The chapters whose runs decide the claims (02 - 04) have the seeds the confirmatory family needs; the
    others (the baseline, the learned neurons, the scaling chapter) at least enough for a Holm step over
    six contrasts (6 · 2/2^n < 0.05 needs n ≥ 8)."""
    for name in TRAINING:
        needed = primary if name in runs.PRIMARY_CHAPTERS else other
        assert config.resolve(name, profile).seeds >= needed, name


RULES = [
    ("01_dynamics_and_baseline", dict(tasks=["digits", "seq-digits"]), "epochs gives no value for task 'seq-digits'"),
    ("02_leakage", dict(robust_delay=3), "parameter 'robust_delay' must be one of delays"),
    ("02_leakage", dict(second_task="mnist1d"), "epochs gives no value for task 'mnist1d'"),
    ("03_reset", dict(stream_task="mnist1d"), "parameter 'stream_task' must be one of tasks"),
    ("03_reset", dict(train_stream_length=1), "'train_stream_length' must be 0"),
    ("04_recurrence", dict(tasks=["temporal-xor", "shd"]), "epochs gives no value for task 'shd'"),
]


@pytest.mark.parametrize("experiment, change, message", RULES, ids=[f"{e}-{list(c)[0]}" for e, c, _ in RULES])
def test_every_rule_linking_two_parameters(experiment, change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        config.resolve(experiment, "smoke", **change)


@pytest.mark.parametrize("change, words", [
    (dict(seeds=0), ["seeds", "greater than or equal to 1"]),
    (dict(decays=[0.5, 1.5]), ["decays", "less than or equal to 1"]),
    (dict(device="gpu"), ["device", "'cuda:N'"]),
    (dict(colour=1), ["no parameter 'colour'", "robust_delay"]),
    (dict(second_task="nope"), ["second_task", "'delayed-recall'"]),
])
def test_bad_values_name_the_parameter(change, words):
    with pytest.raises(ValueError) as error:
        config.resolve("02_leakage", "quick", **change)
    for word in words:
        assert word in str(error.value)


def test_configurations_are_frozen_and_report_what_differs():
    cfg = config.resolve("02_leakage", "smoke", seeds=3)
    with pytest.raises(Exception):
        cfg.seeds = 4
    assert cfg.non_default() == {"seeds": 3}
    assert config.from_namespace("02_leakage", {"profile": "smoke", "seeds": None, "delays": [0, 4]}) \
        == config.resolve("02_leakage", "smoke")


def test_the_declarations_import_without_torch():
    code = "import sys; from snnlib.study import config; assert 'torch' not in sys.modules, 'torch'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_matched_width_has_as_many_weights():
    n_in, hidden, n_out = 21, 128, 2
    wide = runs.matched_width(n_in, hidden, n_out)
    recurrent = n_in * hidden + hidden + hidden * hidden + hidden * n_out + n_out
    feed_forward = n_in * wide + wide + wide * n_out + n_out
    assert abs(feed_forward - recurrent) <= n_in + 1 + n_out


def test_non_leaky_variants_run_once_whatever_the_decays():
    cfg = config.resolve("03_reset", "smoke", decays=[0.5, 0.9])
    built = runs.reset_runs(cfg)
    assert {r["decay"] for r in built if r["variant"].startswith("IF")} == {1.0}
    assert {r["decay"] for r in built if r["variant"] == "LIF"} == {0.5, 0.9}


def test_accuracy_intervals_are_clipped_to_the_unit_range():
    assert report.fmt_ci(0.99, 0.97, 1.02) == "99.0% [97.0, 100.0]"
    assert report.fmt_ci(0.5, 0.25, 0.75, percent=False, digits=2) == "0.50 [0.25, 0.75]"


def test_plan_counts_groups_and_estimates_without_training(tmp_path, monkeypatch):
    from snnlib.study import plan

    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path))
    row = plan.plan_experiment("02_leakage", "smoke")
    planned = runs.runs_of(config.resolve("02_leakage", "smoke"))
    assert row["runs"] == len(planned) and row["recorded"] == 0 and row["groups"] >= 1
    assert row["training_s"] > 0 and row["measures_s"] > 0  # 02 audits some of its runs
    assert row["estimate_s"] == pytest.approx(row["training_s"] + row["measures_s"])
    assert 0 < row["estimate_workers_s"] <= row["estimate_s"]
    assert not list(tmp_path.rglob("*.json"))  # nothing was recorded
    table = plan.plan(["01_dynamics_and_baseline", "02_leakage"], "smoke", calibrate=False)
    assert list(table.experiment) == ["01_dynamics_and_baseline", "02_leakage", "total"]
    assert table.runs.iloc[-1] == table.runs.iloc[0] + table.runs.iloc[1] and table.estimate_s.iloc[-1] == 0


def test_runs_audit_together_only_when_their_threat_model_agrees():
    from types import SimpleNamespace

    import torch

    from snnlib.study.experiment import audit_stacks

    audited = dict(measures=["audit"], measure_params=dict(radii=[1.0]))
    runs_ = [audited, audited, dict(audited, measure_params=dict(radii=[2.0])), dict(measures=[]), audited]
    task = lambda lo: SimpleNamespace(input_bounds=(lo, 1.0), input_scale=0.1, x_test=torch.zeros(3, 4, 2))  # noqa: E731
    tasks = [task(0.0), task(0.0), task(0.0), task(0.0), task(-0.5)]  # the last: a range of its own
    assert audit_stacks(runs_, tasks) == [[0, 1], [2], [4]]


def test_the_plan_expects_a_group_to_stop_at_its_late_members_best_epoch_plus_patience():
    from snnlib.study import plan

    assert plan.expected_epochs(None, 40, 5) == 40  # no record: the maximum
    assert plan.expected_epochs([3, 4], 40, None) == 40  # no early stopping: the maximum
    assert plan.expected_epochs([9] * 20, 40, 5) == 15  # best epoch 9 (0-based) + 1 + 5
    late = plan.expected_epochs([2] * 19 + [30], 40, 5)  # one late member of twenty pulls the 95th percentile up
    assert 8 < late < 36
    assert plan.expected_epochs([38] * 5, 40, 5) == 40  # never beyond the maximum


def test_the_plan_expects_a_member_to_train_its_own_epochs_on_average():
    from snnlib.study import plan

    assert plan.expected_member_epochs(None, 40, 5) == 40  # no record: the maximum
    assert plan.expected_member_epochs([3, 4], 40, None) == 40  # no early stopping: the maximum
    # stops at 2 + 1 + 5 = 8 (nineteen members) and 30 + 1 + 5 = 36 (one): (19·8 + 36) / 20
    assert plan.expected_member_epochs([2] * 19 + [30], 40, 5) == (19 * 8 + 36) / 20
    assert plan.expected_member_epochs([38, 2], 40, 5) == (40 + 8) / 2  # each at most the maximum


def test_the_plan_counts_a_run_two_chapters_read_once(tmp_path, monkeypatch):
    from snnlib.study import plan

    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path))
    table = plan.plan(["02_leakage", "03_reset", "04_recurrence", "09_scaling"], "smoke", calibrate=False)
    scaling_row = table[table.experiment == "09_scaling"].iloc[0]
    own_size = runs.sized_runs(config.resolve("09_scaling", "smoke"), config.resolve("02_leakage", "smoke").hidden)
    assert scaling_row["shared"] == len(own_size) > 0
    assert scaling_row["groups"] < table[table.experiment == "09_scaling"]["runs"].iloc[0]


def test_a_task_can_declare_its_own_width_and_patience_and_its_matched_control_follows():
    cfg = config.resolve("04_recurrence", "quick", task_settings={"japanese-vowels": {"hidden": [32], "patience": None}})
    built = runs.recurrence_runs(cfg)
    jv = [r for r in built if r["task"] == "japanese-vowels"]
    others = [r for r in built if r["task"] != "japanese-vowels"]
    assert {r["patience"] for r in jv} == {None} and {r["patience"] for r in others} == {cfg.patience}
    assert {tuple(r["hidden"]) for r in jv if r["variant"] == "RLIF"} == {(32,)}
    assert {tuple(r["hidden"]) for r in jv} == {(32,)}  # the real-data check has no wide control
    assert {tuple(r["hidden"]) for r in others if r["variant"] == "RLIF"} == {tuple(cfg.hidden)}
    with pytest.raises(ValueError, match="task_settings"):
        config.resolve("04_recurrence", "quick", task_settings={"mnist1d": {"patience": 3}})
    with pytest.raises(ValueError, match="task_settings"):
        config.resolve("04_recurrence", "quick", task_settings={"japanese-vowels": {"lr": 0.1}})


def test_the_parameter_matched_control_is_trained_on_the_audited_task_and_the_order_task_at_its_middle_k():
    cfg = config.resolve("04_recurrence", "quick")
    wide = [r for r in runs.recurrence_runs(cfg) if r["hidden"][0] > cfg.hidden[0] and r["task"] != "japanese-vowels"]
    settings = {(r["task"], r["task_params"].get("n_events"), r["task_params"].get("label")) for r in wide}
    assert settings == {("seq-digits", None, None), ("temporal-xor", 3, "first-last")}
    assert {r["variant"] for r in wide} == {"LIF", "IF"}
