"""Sweeps: grids, validation before work, reuse, re-measurement from stored weights, executors, and
resuming after ``kill -9``."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from snnlib.measure import train
from snnlib.study import experiment, fingerprint

from snnlib.study import records

from snnlib.study import sweep

BASE = dict(experiment="t", task="delayed-recall", task_params=dict(n_train=64, n_test=32, delay=2),
            variant="LIF", hidden=[8], epochs=1, seed=0, device="cpu")
GRID = dict(BASE, variant=["LIF", "RLIF"], seed=[0, 1])


# audited runs must be above chance on the full test set (digits learns in two epochs)
AUDITED = dict(BASE, task="digits", task_params={}, epochs=2, measures=["audit"], measure_params=dict(flips=[0, 1], audit_samples=4, pgd_steps=1, restarts=1,
                                                             square_queries=2, losses=["margin"], noise_levels=[0.0]))


def no_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError(f"trained {args}")

    monkeypatch.setattr(experiment, "train_group", fail)
    monkeypatch.setattr(train, "fit_members", fail)


def count_training(monkeypatch) -> list:
    calls = []
    real = experiment.train_group
    monkeypatch.setattr(experiment, "train_group", lambda group: calls.extend(group) or real(group))
    return calls


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
    with pytest.raises(ValueError, match=r"run 2 of 2 .*unknown variant 'LIFF'"):
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
    calls = count_training(monkeypatch)
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
    real = experiment.train_group

    def flaky(group):
        if any(p["seed"] == 1 and p["variant"] == "LIF" for p in group):
            raise RuntimeError("diverged")
        return real(group)

    monkeypatch.setattr(experiment, "train_group", flaky)
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
    for record in got:  # every record has its weights, the same as those of the run never interrupted
        weights = records.weights_path(record["key"], resumed).read_bytes()
        assert weights == records.weights_path(record["key"], fresh).read_bytes()
        assert records.load_weights(record, resumed) == weights
    for a, b in zip(got, want):
        assert a["params"] == b["params"]
        strip = lambda m: {k: v for k, v in m.items() if k not in records.TIMING_METRICS}  # noqa: E731
        assert strip(a["metrics"]) == strip(b["metrics"])
    pd.testing.assert_frame_equal(results_only(again), results_only(reference))


def test_runs_stale_in_measurement_are_measured_again_without_training(tmp_path, monkeypatch):
    grid = [dict(AUDITED, seed=[0, 1]), dict(BASE, seed=2)]
    first = sweep.run_grid(grid, directory=tmp_path, progress=False)
    weights = {f.name: f.read_bytes() for f in tmp_path.glob("*.safetensors")}
    assert len(weights) == 3
    monkeypatch.setattr(fingerprint, "measuring_fingerprint", lambda: "0" * 16)  # the measurement code changed
    no_training(monkeypatch)
    with pytest.warns(sweep.StaleRecordWarning, match=r"3 stale record\(s\).*3 in measurement only"):
        kept = sweep.run_grid(grid, directory=tmp_path, progress=False, reuse_stale=True)
    assert list(kept["stale_stage"]) == ["measure"] * 3
    staleness = ["stale", "stale_stage"]
    pd.testing.assert_frame_equal(kept.drop(columns=staleness), first.drop(columns=staleness))  # kept as they were
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = sweep.run_grid(grid, directory=tmp_path, progress=False, executor=pool)
    assert set(again["code_measure"]) == {"0" * 16} and list(again["code_train"]) == list(first["code_train"])
    assert list(again["stale_stage"]) == ["none"] * 3
    pd.testing.assert_frame_equal(results_only(again).drop(columns=["code", "code_measure"]),
                                  results_only(first).drop(columns=["code", "code_measure"]))
    assert {f.name: f.read_bytes() for f in tmp_path.glob("*.safetensors")} == weights
    pd.testing.assert_frame_equal(sweep.run_grid(grid, directory=tmp_path, progress=False), again)  # now current


def test_a_sweep_trains_a_run_whose_training_is_stale_and_one_whose_weights_are_gone(tmp_path, monkeypatch):
    grid = dict(BASE, seed=[0, 1, 2])
    first = sweep.run_grid(grid, directory=tmp_path, progress=False)
    calls = count_training(monkeypatch)
    records.weights_path(first["key"].iloc[1], tmp_path).unlink()
    with pytest.warns(records.CorruptRecordWarning, match="cannot be read"):
        again = sweep.run_grid(grid, directory=tmp_path, progress=False)
    assert [p["seed"] for p in calls] == [1]
    pd.testing.assert_frame_equal(results_only(again), results_only(first))
    monkeypatch.setattr(fingerprint, "training_fingerprint", lambda: "0" * 16)
    sweep.run_grid(grid, directory=tmp_path, progress=False)
    assert sorted(p["seed"] for p in calls) == [0, 1, 1, 2]


CHANGE_AND_SWEEP = textwrap.dedent("""
    import json, sys
    from snnlib.measure import train
    from snnlib.study import fingerprint, records, sweep

    def refuse(*args, **kwargs):
        raise AssertionError("trained a network")

    if sys.argv[2] == "no-training":
        train.fit_members = refuse
    sweep.run_grid({run!r}, directory=sys.argv[1], progress=False)
    (record,) = records.load_all(sys.argv[1])
    print(json.dumps(dict(train=fingerprint.training_fingerprint(), measure=fingerprint.measuring_fingerprint(),
                          record=record)))
""")


def test_a_change_to_an_attack_measures_the_stored_weights_again_and_trains_nothing(tmp_path):
    package = tmp_path / "copy"
    shutil.copytree(Path(__file__).resolve().parents[1] / "snnlib", package / "snnlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(package)}
    folder = str(tmp_path / "records")
    script = CHANGE_AND_SWEEP.format(run=AUDITED)

    def sweep_with_copy(mode):
        done = subprocess.run([sys.executable, "-c", script, folder, mode], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = sweep_with_copy("train")
    assert (first["record"]["code_train"], first["record"]["code_measure"]) == (first["train"], first["measure"])
    weights = Path(folder, first["record"]["weights"]["file"]).read_bytes()
    attacks = package / "snnlib" / "measure" / "attacks.py"
    attacks.write_text(attacks.read_text() + "\nONE_CHANGED_LINE = 1\n")
    second = sweep_with_copy("no-training")  # training would raise in the child
    assert second["train"] == first["train"] and second["measure"] != first["measure"]
    record = second["record"]
    assert (record["code_train"], record["code_measure"]) == (first["train"], second["measure"])
    assert record["training"] == first["record"]["training"] and record["weights"] == first["record"]["weights"]
    strip = lambda m: {k: v for k, v in m.items() if k not in records.TIMING_METRICS}  # noqa: E731
    assert strip(record["metrics"]) == strip(first["record"]["metrics"]) and "audit" in record["metrics"]
    assert Path(folder, record["weights"]["file"]).read_bytes() == weights
