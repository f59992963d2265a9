"""Sweeps: grids, validation before work, reuse, executors, and resuming after ``kill -9``."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from snnlib.study import experiment

from snnlib.study import records

from snnlib.study import sweep

BASE = dict(experiment="t", task="delayed-recall", task_params=dict(n_train=64, n_test=32, delay=2),
            variant="LIF", hidden=[8], epochs=1, seed=0, device="cpu")
GRID = dict(BASE, variant=["LIF", "RLIF"], seed=[0, 1])


def no_training(monkeypatch):
    def fail(params, progress=False):
        raise AssertionError(f"trained {params}")

    monkeypatch.setattr(experiment, "run_group", fail)


def results_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["wall_seconds", "timestamp", *records.TIMING_METRICS]).reset_index(drop=True)


def test_expand_takes_the_product_of_the_lists():
    runs = sweep.expand(dict(variant=["LIF", "IF"], seed=range(2), decay=np.array([0.25, 0.5]), epochs=3))
    assert len(runs) == 8 and runs[0] == dict(variant="LIF", seed=0, decay=0.25, epochs=3)
    assert runs[1]["decay"] == 0.5 and runs[2]["seed"] == 1 and runs[4]["variant"] == "IF"
    assert type(runs[1]["decay"]) is float


def test_expand_list_valued_params_and_nested_task_params():
    assert [r["hidden"] for r in sweep.expand(dict(hidden=[64, 64]))] == [[64, 64]]
    assert [r["hidden"] for r in sweep.expand(dict(hidden=[[64], [64, 64]]))] == [[64], [64, 64]]
    runs = sweep.expand(dict(task="delayed-recall", task_params=dict(delay=[2, 4], n_train=64)))
    assert [r["task_params"] for r in runs] == [dict(delay=2, n_train=64), dict(delay=4, n_train=64)]


def test_expand_a_list_of_runs_and_grids():
    runs = sweep.expand([dict(seed=0), dict(seed=[1, 2], variant="IF")])
    assert runs == [dict(seed=0), dict(seed=1, variant="IF"), dict(seed=2, variant="IF")]
    with pytest.raises(ValueError, match="'seed' is empty"):
        sweep.expand(dict(seed=[]))
    with pytest.raises(ValueError, match="dict"):
        sweep.expand(["LIF"])


def test_every_run_is_validated_before_any_training(tmp_path, monkeypatch):
    no_training(monkeypatch)
    grid = [dict(BASE, seed=[0, 1, 2]), dict(BASE, task_params=dict(delay=-3))]
    with pytest.raises(ValueError, match=r"run 4 of 4 .*delay must be an integer >= 0, got -3"):
        sweep.run_grid(grid, directory=tmp_path, progress=False)
    with pytest.raises(ValueError, match="unknown variant 'LIFF'; valid variant names are: LIF"):
        sweep.run_grid(dict(BASE, variant=["LIF", "LIFF"]), directory=tmp_path, progress=False)
    with pytest.raises(ValueError, match="workers"):
        sweep.run_grid(BASE, workers=0, directory=tmp_path)
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_a_second_sweep_trains_nothing_and_gives_the_same_numbers(tmp_path, monkeypatch):
    first = sweep.run_grid(dict(BASE, seed=[0, 1]), directory=tmp_path, progress=False)
    assert len(first) == 2 and list(first["seed"]) == [0, 1]
    no_training(monkeypatch)
    second = sweep.run_grid(dict(BASE, seed=[0, 1]), directory=tmp_path, progress=False)
    pd.testing.assert_frame_equal(first, second)
    subset = sweep.run_grid(dict(BASE, seed=1), directory=tmp_path, progress=False)
    pd.testing.assert_frame_equal(subset.reset_index(drop=True), first.iloc[[1]].reset_index(drop=True))


def test_duplicates_run_once_and_force_trains_again(tmp_path, monkeypatch):
    calls = []
    real = experiment.run_group
    monkeypatch.setattr(experiment, "run_group", lambda group: calls.extend(group) or real(group))
    frame = sweep.run_grid([BASE, dict(BASE, decay=0.5, device="cpu")], directory=tmp_path, progress=False)
    assert len(frame) == 1 and len(calls) == 1
    again = sweep.run_grid(BASE, directory=tmp_path, force=True, progress=False)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(results_only(again), results_only(frame))


def test_any_executor_drops_in(tmp_path):
    threads = torch.get_num_threads()
    reference = sweep.run_grid(GRID, directory=tmp_path / "a", progress=False)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = sweep.run_grid(GRID, executor=pool, directory=tmp_path / "b", progress=False)
        assert pool.submit(lambda: 42).result() == 42  # the executor is left running for its owner
    pd.testing.assert_frame_equal(results_only(pooled), results_only(reference))
    assert torch.get_num_threads() == threads  # threads of this process are not the workers' business


def test_a_failing_run_is_named_and_the_others_keep_their_records(tmp_path, monkeypatch):
    real = experiment.run_group

    def flaky(group):
        if any(p["seed"] == 1 and p["variant"] == "LIF" for p in group):
            raise RuntimeError("diverged")
        return real(group)

    monkeypatch.setattr(experiment, "run_group", flaky)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(RuntimeError, match=r"group of 1 run\(s\) \(.*seed=1.*\) failed: RuntimeError\('diverged'\)"):
            sweep.run_grid(GRID, executor=pool, directory=tmp_path, progress=False, group_size=1)
    assert 1 <= len(records.load_all(tmp_path)) <= 3


def test_the_largest_groups_start_first():
    small = sweep.plan(dict(BASE, seed=[0, 1]))
    wide = sweep.plan(dict(BASE, hidden=[[64]], seed=[0, 1, 2]))
    recurrent = sweep.plan(dict(BASE, variant="RLIF", hidden=[[64]], seed=[0, 1, 2]))
    order = sweep.groups(small + wide + recurrent)
    assert [(g[0]["variant"], tuple(g[0]["hidden"])) for g in order] == [("RLIF", (64,)), ("LIF", (64,)),
                                                                         (small[0]["variant"], tuple(small[0]["hidden"]))]
    assert sweep.work_guess(recurrent) > sweep.work_guess(wide) > sweep.work_guess(small)


def test_runs_of_one_shape_train_as_one_group_with_the_numbers_they_get_alone(tmp_path):
    grid = dict(BASE, variant=["LIF", "IF", "LIF-noreset"], seed=[0, 1])
    planned = sweep.plan(grid)
    assert [len(g) for g in sweep.groups(planned)] == [6]
    assert [len(g) for g in sweep.groups(planned, group_size=4)] == [3, 3]  # the fewest chunks, equal sizes
    assert [len(g) for g in sweep.groups(planned[:5], group_size=2)] == [2, 2, 1]
    assert [len(g) for g in sweep.groups(sweep.plan(dict(BASE, variant=["LIF", "RLIF"])))] == [1, 1]  # recurrence
    together = sweep.run_grid(grid, directory=tmp_path / "a", progress=False)
    alone = sweep.run_grid(grid, directory=tmp_path / "b", progress=False, group_size=1)
    pd.testing.assert_frame_equal(results_only(together), results_only(alone))


SCRIPT = """
import sys, time
from snnlib.study import records
from snnlib.study import sweep

execute = records.execute_group
def slow(*args, **kwargs):  # room to be killed between two records
    made = execute(*args, **kwargs)
    time.sleep(0.5)
    return made
records.execute_group = slow
sweep.run_grid({grid}, directory=sys.argv[1], progress=False, group_size=1)
"""


def test_a_sweep_killed_with_sigkill_resumes_to_the_same_records(tmp_path):
    grid = dict(GRID, seed=[0, 1, 2])  # 6 runs
    resumed, fresh = tmp_path / "resumed", tmp_path / "fresh"
    script = tmp_path / "sweep_script.py"
    script.write_text(textwrap.dedent(SCRIPT.format(grid=repr(grid))))
    child = subprocess.Popen([sys.executable, str(script), str(resumed)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not list(resumed.glob("*.json")):
        assert child.poll() is None, child.stdout.read().decode()
        assert time.monotonic() < deadline, "no record appeared"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = {f.name: f.read_bytes() for f in resumed.glob("*.json")}
    assert 1 <= len(before) < 6

    again = sweep.run_grid(grid, directory=resumed, progress=False)
    # the reference, never interrupted, on a local process pool
    reference = sweep.run_grid(grid, directory=fresh, workers=2, progress=False)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not one corrupt record
        got, want = records.load_all(resumed), records.load_all(fresh)
    assert sorted(f.name for f in resumed.glob("*.json")) == sorted(f.name for f in fresh.glob("*.json"))
    assert len(got) == len(want) == 6 and list(again["key"]) == list(reference["key"])
    for name, content in before.items():  # finished runs were reused, not trained again
        assert (resumed / name).read_bytes() == content
    for a, b in zip(got, want):
        assert a["params"] == b["params"]
        strip = lambda m: {k: v for k, v in m.items() if k not in records.TIMING_METRICS}  # noqa: E731
        assert strip(a["metrics"]) == strip(b["metrics"])
    pd.testing.assert_frame_equal(results_only(again), results_only(reference))
