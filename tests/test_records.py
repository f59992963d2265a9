"""Run records: canonical keys, atomic writes, reuse, corrupt files ignored, the table."""

import json
import os
import warnings

import numpy as np
import pytest

from snnlib.study import experiment

from snnlib.study import records

TINY = dict(experiment="t", task="delayed-recall", task_params=dict(n_train=64, n_test=32, delay=2),
            variant="LIF", hidden=[8], epochs=1, seed=0, device="cpu")


def fake_record(directory, **changes):
    """A complete record with made-up metrics (nothing trained)."""
    params = records.canonical({**TINY, **changes})
    metrics = dict(test_accuracy=0.5 + 0.01 * params["seed"], firing_rates=[0.1, 0.2], train_seconds=0.1)
    record = records.make(params, metrics, wall_seconds=0.2, device="cpu")
    records.save(record, directory)
    return record


def count_training(monkeypatch):
    calls = []
    real = experiment.run_group

    def counting(group):
        calls.extend(group)
        return real(group)

    monkeypatch.setattr(experiment, "run_group", counting)
    return calls


def test_equivalent_params_have_one_key():
    key = records.key(TINY)
    assert len(key) == records.KEY_DIGITS
    same = [
        {**TINY, "device": "cpu"},
        {**TINY, "decay": 0.5, "lr": 3e-3},                           # defaults written out
        {**TINY, "task_params": {**TINY["task_params"], "delay_noise": 0}},  # a task default, as an int
        {**TINY, "hidden": (8,), "seed": np.int64(0), "epochs": np.int64(1)},  # tuple, NumPy scalars
        {**TINY, "hidden": 8},
    ]
    for params in same:
        assert records.key(params) == key, params
    if not __import__("torch").cuda.is_available():
        assert records.key({**TINY, "device": "auto"}) == key  # "auto" is resolved where the run is planned


def test_anything_that_changes_results_changes_the_key():
    key = records.key(TINY)
    for change in [dict(seed=1), dict(decay=0.25), dict(variant="IF"), dict(hidden=[9]), dict(epochs=2),
                   dict(task_params={**TINY["task_params"], "delay": 3}), dict(experiment="u")]:
        assert records.key({**TINY, **change}) != key, change


def test_the_gpu_index_is_not_part_of_the_key_but_the_device_type_is():
    p = records.canonical(TINY)
    k = records.canonical_key
    assert k({**p, "device": "cuda:1"}) == k({**p, "device": "cuda"}) != k(p)


@pytest.mark.parametrize("change, words", [
    (dict(variant="XYZ"), ["variant", "XYZ", "LIF"]),
    (dict(decay=1.5), ["decay", "less than or equal to 1", "1.5"]),
    (dict(task="nope"), ["task", "nope", "delayed-recall"]),
    (dict(task_params=dict(delay=-1)), ["delay", ">= 0"]),
    (dict(task_params=dict(shape=3)), ["shape", "delay"]),
    (dict(seed=-1), ["seed"]),
    (dict(colour="red"), ["colour", "variant"]),
])
def test_bad_params_are_named(change, words):
    with pytest.raises(ValueError) as error:
        records.canonical({**TINY, **change})
    for word in words:
        assert word in str(error.value)


def test_a_run_is_trained_once_and_then_reused(tmp_path, monkeypatch):
    calls = count_training(monkeypatch)
    first = records.run(TINY, directory=tmp_path)
    again = records.run({**TINY, "device": "cpu", "decay": 0.5}, directory=tmp_path)
    assert len(calls) == 1 and again == first
    assert json.loads(records.path(first["key"], tmp_path).read_text()) == first
    forced = records.run(TINY, force=True, directory=tmp_path)
    assert len(calls) == 2
    assert {k: v for k, v in forced["metrics"].items() if k not in records.TIMING_METRICS} == \
           {k: v for k, v in first["metrics"].items() if k not in records.TIMING_METRICS}


def test_a_record_holds_its_provenance(tmp_path):
    record = records.run(TINY, directory=tmp_path)
    assert set(records._FIELDS) <= set(record)
    assert record["params"] == records.canonical(TINY) and record["seed"] == 0 and record["experiment"] == "t"
    assert set(record["versions"]) == {"python", "torch", "spikingjelly", "numpy", "snnlib"}
    assert record["versions"]["spikingjelly"] == "2.0.0"
    assert record["commit"] is None or len(record["commit"]) == 40
    assert record["device"] == "cpu" and record["wall_seconds"] > 0 and "T" in record["timestamp"]
    assert 0 <= record["metrics"]["test_accuracy"] <= 1


def test_outside_git_the_commit_is_none(tmp_path, monkeypatch):
    monkeypatch.setattr(records.paths, "ROOT", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    records.git_state.cache_clear()
    try:
        assert records.git_state() == (None, None)
    finally:
        records.git_state.cache_clear()


def test_a_truncated_record_is_ignored_and_reported(tmp_path):
    good = fake_record(tmp_path, seed=1)
    bad = fake_record(tmp_path, seed=2)
    file = records.path(bad["key"], tmp_path)
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    with pytest.warns(records.CorruptRecordWarning, match="unreadable"):
        assert records.load(bad["key"], tmp_path) is None
    with pytest.warns(records.CorruptRecordWarning):
        assert [r["key"] for r in records.load_all(tmp_path)] == [good["key"]]


def test_temporary_and_misnamed_files_are_never_records(tmp_path):
    record = fake_record(tmp_path)
    text = records.path(record["key"], tmp_path).read_text()
    (tmp_path / f".{record['key']}.x1y2.tmp").write_text(text[:40])  # an interrupted write
    other = tmp_path / ("0" * records.KEY_DIGITS + ".json")           # a record under the wrong name
    other.write_text(text)
    edited = fake_record(tmp_path, seed=3)                            # parameters edited by hand
    data = json.loads(records.path(edited["key"], tmp_path).read_text())
    data["params"]["seed"] = 4
    records.path(edited["key"], tmp_path).write_text(json.dumps(data))
    with pytest.warns(records.CorruptRecordWarning) as caught:
        found = records.load_all(tmp_path)
    assert [r["key"] for r in found] == [record["key"]]
    assert len(caught) == 2
    assert records.temporary_files(tmp_path) == [tmp_path / f".{record['key']}.x1y2.tmp"]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    params = records.canonical(TINY)
    record = records.make(params, dict(test_accuracy=0.5), 0.1, "cpu")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        records.save(record, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_frame_has_one_row_per_record_and_filters_by_experiment(tmp_path):
    for seed in (0, 1):
        fake_record(tmp_path, seed=seed)
    fake_record(tmp_path, experiment="u")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        everything = records.frame(directory=tmp_path)
        t = records.frame("t", directory=tmp_path)
    assert len(everything) == 3 and len(t) == 2 and set(t["experiment"]) == {"t"}
    assert len(records.frame(["t", "u"], directory=tmp_path)) == 3
    assert sorted(t["seed"]) == [0, 1] and list(t["task_params.delay"]) == [2, 2]
    assert t["test_accuracy"].dtype.kind == "f"
    assert t["firing_rates"].dtype == object and t["firing_rates"].iloc[0] == [0.1, 0.2]
    assert {"key", "wall_seconds", "timestamp", "commit", "ran_on"} <= set(t.columns)
    assert records.frame(directory=tmp_path / "none").empty
