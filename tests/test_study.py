import pytest

from snnlib.study import profiles

from snnlib.analysis import report

from snnlib.study import runs as study
from snnlib.study.experiment import validate


@pytest.mark.parametrize("experiment,build", [
    ("01_dynamics_and_baseline", study.baseline_runs), ("02_leakage", study.leakage_runs),
    ("03_reset", study.reset_runs), ("04_recurrence", study.recurrence_runs)])
@pytest.mark.parametrize("profile", profiles.PROFILE_NAMES)
def test_every_run_of_every_profile_is_valid(experiment, build, profile):
    cfg = profiles.resolve(experiment, profile)
    runs = build(cfg)
    assert len({repr(sorted(r.items())) for r in runs}) == len(runs)  # no run twice
    assert {r["seed"] for r in runs} == set(range(cfg["seeds"]))
    for run in runs:
        validate(run)
        assert run["experiment"] == experiment and run["profile"] == profile


def test_task_params_only_what_the_task_takes():
    cfg = dict(n_train=10, n_test=5, delay=3)
    assert study.task_params(cfg, "delayed-recall") == dict(n_train=10, n_test=5, delay=3)
    assert study.task_params(cfg, "digits") == {}
    assert study.task_params(cfg, "temporal-xor", gap=2) == dict(n_train=10, n_test=5, gap=2)


def test_bad_seeds_and_sweep_settings():
    with pytest.raises(ValueError, match="seeds must be an integer >= 1"):
        study.baseline_runs(profiles.resolve("01_dynamics_and_baseline", "smoke", seeds=0))
    with pytest.raises(ValueError, match="robust_delay must be one of delays"):
        study.leakage_runs(profiles.resolve("02_leakage", "smoke", robust_delay=3))


def test_accuracy_intervals_are_clipped_to_the_unit_range():
    assert report.fmt_ci(0.99, 0.97, 1.02) == "99.0% [97.0, 100.0]"
    assert report.fmt_ci(0.5, 0.25, 0.75, percent=False, digits=2) == "0.50 [0.25, 0.75]"
