"""Run records: canonical keys, atomic writes, weights kept beside them, reuse, re-measurement, corrupt
files ignored, the two code fingerprints, the table."""

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from snnlib.measure import train
from snnlib.study import experiment, fingerprint

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


#: TINY, audited with a transfer twin on a tiny budget (a spike task: flips)
# audited runs must be above chance on the full test set (digits learns in two epochs)
AUDITED = dict(TINY, task="digits", task_params={}, epochs=2, measures=["audit"], measure_params=dict(flips=[0, 1], audit_samples=4, pgd_steps=1,
                                                             restarts=1, square_queries=2, losses=["margin"],
                                                             noise_levels=[0.0]))


def count_training(monkeypatch):
    calls = []
    real = experiment.train_group

    def counting(group):
        calls.extend(group)
        return real(group)

    monkeypatch.setattr(experiment, "train_group", counting)
    return calls


def forbid_training(monkeypatch):
    monkeypatch.setattr(train, "fit_members", lambda *a, **k: pytest.fail("trained a network"))


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
    assert (record["code_train"], record["code_measure"], record["code"]) == \
           (fingerprint.training_fingerprint(), fingerprint.measuring_fingerprint(), fingerprint.code_fingerprint())
    training = record["training"]  # the training outputs, kept apart from the metrics
    assert [row["epoch"] for row in training["history"]] == [0]  # TINY trains one epoch
    for name in ("best_epoch", "val_accuracy", "final_train_loss"):
        assert training[name] == record["metrics"][name]
    assert training["final_train_loss"] == training["history"][training["best_epoch"]]["loss"]


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


# --- weights ----------------------------------------------------------------------------------------------

def strip_timing(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in records.TIMING_METRICS}


def test_weights_are_stored_beside_the_record_and_reload_to_the_trained_tensors(tmp_path):
    record = records.run(AUDITED, directory=tmp_path)
    file = records.weights_path(record["key"], tmp_path)
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted([f"{record['key']}.json", file.name])
    data = file.read_bytes()
    assert record["weights"] == dict(file=file.name, sha256=__import__("hashlib").sha256(data).hexdigest(),
                                     bytes=len(data))
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])  # safetensors: a JSON header, no pickle
    assert any(name.startswith("twin.") for name in header) and any(not name.startswith(("twin.", "__")) for name in header)
    state, twin_state = records.weights_states(data)
    trained = experiment.train_group([records.canonical(AUDITED)])  # trained again: the same weights on the CPU
    for stored, network in ((state, trained.models[0]), (twin_state, trained.twins[0])):
        expected = network.state_dict()
        assert set(stored) == set(expected)
        for name, tensor in expected.items():
            assert torch.equal(stored[name], tensor.cpu()), name
    assert any(not torch.equal(state[n], twin_state[n]) for n in state)  # the twin is another network


def test_a_run_without_a_twin_stores_no_twin(tmp_path):
    record = records.run(TINY, directory=tmp_path)
    state, twin_state = records.weights_states(records.load_weights(record, tmp_path))
    assert twin_state is None and state and not any(n.startswith(records.TWIN_PREFIX) for n in state)


@pytest.mark.parametrize("failing", [1, 2])
def test_an_interrupted_write_leaves_no_partial_file_and_no_record(tmp_path, monkeypatch, failing):
    params = records.canonical(TINY)
    data = records.weights_bytes(experiment.build_model(params, experiment.build_task(params)))
    record = records.make(params, dict(test_accuracy=0.5), 0.1, "cpu", weights=data)
    real, renamed = os.replace, []

    def replace(src, dst):  # the first rename moves the weights in place, the second the record
        renamed.append(Path(dst).name)
        if len(renamed) == failing:
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        records.save(record, tmp_path, data)
    assert renamed == [f"{record['key']}.safetensors", f"{record['key']}.json"][:failing]
    assert records.temporary_files(tmp_path) == [] and not records.path(record["key"], tmp_path).exists()
    assert [f.name for f in tmp_path.iterdir()] == ([] if failing == 1 else [f"{record['key']}.safetensors"])
    assert records.load(record["key"], tmp_path) is None  # weights without their record: no record


def test_save_refuses_weights_the_record_does_not_name(tmp_path):
    params = records.canonical(TINY)
    model = experiment.build_model(params, experiment.build_task(params))
    record = records.make(params, dict(test_accuracy=0.5), 0.1, "cpu", weights=records.weights_bytes(model))
    other = experiment.build_model(params, experiment.build_task(params), seed=7)
    with pytest.raises(ValueError, match="not the ones it records"):
        records.save(record, tmp_path, records.weights_bytes(other))
    assert list(tmp_path.iterdir()) == []


def test_a_record_whose_weights_are_changed_or_missing_is_trained_again(tmp_path, monkeypatch):
    calls = count_training(monkeypatch)
    first = records.run(TINY, directory=tmp_path)
    file = records.weights_path(first["key"], tmp_path)
    flipped = bytearray(file.read_bytes())
    flipped[-1] ^= 1  # one bit of one weight
    file.write_bytes(bytes(flipped))
    with pytest.warns(records.CorruptRecordWarning, match="does not match the record"):
        again = records.run(TINY, directory=tmp_path)
    assert len(calls) == 2 and strip_timing(again["metrics"]) == strip_timing(first["metrics"])
    assert file.read_bytes() != bytes(flipped)  # the weights were written again
    file.unlink()
    with pytest.warns(records.CorruptRecordWarning, match="cannot be read"):
        records.run(TINY, directory=tmp_path)
    assert len(calls) == 3 and file.exists()


def test_trained_model_loads_a_recorded_run_and_trains_nothing(monkeypatch):
    from snnlib.measure import metrics

    import snnlib

    trainings = []
    real = train.fit_members
    monkeypatch.setattr(train, "fit_members", lambda *a, **k: trainings.append(1) or real(*a, **k))
    _, fresh = snnlib.trained_model(TINY)  # no record yet: trained now, and not recorded
    assert len(trainings) == 1 and records.load_all() == []
    record = records.run(TINY)
    assert len(trainings) == 2
    forbid_training(monkeypatch)
    task, model = snnlib.trained_model(TINY)
    test = metrics.measure(model, task.x_test, task.y_test, task.readout, input_spikes=task.encoding == "spikes")
    assert test["accuracy"] == record["metrics"]["test_accuracy"]
    assert all(torch.equal(t, fresh.state_dict()[n]) for n, t in model.state_dict().items())


def test_trained_model_trains_when_the_recorded_training_is_stale(monkeypatch):
    records.run(TINY)
    trainings = []
    real = train.fit_members
    monkeypatch.setattr(train, "fit_members", lambda *a, **k: trainings.append(1) or real(*a, **k))
    monkeypatch.setattr(fingerprint, "measuring_fingerprint", lambda: "0" * 16)  # measurement alone: still loaded
    experiment.trained_model(TINY)
    assert trainings == []
    monkeypatch.setattr(fingerprint, "training_fingerprint", lambda: "0" * 16)
    experiment.trained_model(TINY)
    assert trainings == [1]


def test_a_run_stale_only_in_measurement_is_measured_again_from_its_weights(tmp_path, monkeypatch):
    first = records.run(AUDITED, directory=tmp_path)
    monkeypatch.setattr(fingerprint, "measuring_fingerprint", lambda: "0" * 16)
    assert records.stale_stage(first) == "measure"
    forbid_training(monkeypatch)
    again = records.run(AUDITED, directory=tmp_path)
    assert again["code_measure"] == "0" * 16 and again["code_train"] == first["code_train"]
    assert again["code"] == fingerprint.code_fingerprint() != first["code"]
    assert strip_timing(again["metrics"]) == strip_timing(first["metrics"])  # the same numbers from the stored weights
    assert again["training"] == first["training"] and again["weights"] == first["weights"]
    assert records.load(first["key"], tmp_path) == again and records.stale_stage(again) == "none"
    assert records.run(AUDITED, directory=tmp_path) == again  # now current: reused


def test_which_stage_is_stale(tmp_path):
    record = fake_record(tmp_path)
    assert records.stale_stage(record) == "none" and not records.is_stale(record)
    assert records.stale_stage({**record, "code_measure": "x"}) == "measure"
    assert records.stale_stage({**record, "code_train": "x"}) == "train"
    assert records.stale_stage({**record, "code_train": "x", "code_measure": "x"}) == "train"
    old = {k: v for k, v in record.items() if k not in ("code_train", "code_measure", "training", "weights")}
    records.path(record["key"], tmp_path).write_text(json.dumps({**old, "schema": 1}))
    read = records.load(record["key"], tmp_path)  # a record of schema 1 is read, and stale in training
    assert read is not None and records.stale_stage(read) == "train" and records.is_stale(read)
    frame = records.to_frame([record, read, {**record, "code_measure": "x"}])
    assert list(frame["stale_stage"]) == ["none", "train", "measure"] and list(frame["stale"]) == [False, True, True]


# --- the two code fingerprints -------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def package_copy(tmp_path):
    copy = tmp_path / "snnlib"
    shutil.copytree(ROOT / "snnlib", copy, ignore=shutil.ignore_patterns("__pycache__"))
    yield copy
    fingerprint.part_fingerprint.cache_clear()


def fingerprints_of(package: Path) -> dict:
    fingerprint.part_fingerprint.cache_clear()  # the copy is edited in place
    return {part: fingerprint.part_fingerprint(part, package) for part in fingerprint.ENTRIES}


def append(file: Path, text: str) -> None:
    file.write_text(file.read_text() + text)


def test_only_the_files_a_stage_imports_change_its_fingerprint(package_copy):
    first = fingerprints_of(package_copy)
    assert first == {"train": fingerprint.training_fingerprint(), "measure": fingerprint.measuring_fingerprint()}
    (package_copy / "data" / "unused.py").write_text("")  # imported by nothing
    append(package_copy / "cli.py", "\nNOT_A_RESULT = 1\n")
    append(package_copy / "study" / "sweep.py", "\nNOT_A_RESULT = 1\n")
    append(package_copy / "paths.py", "\nNOT_A_RESULT = 1\n")  # where files are, imported by the data loaders
    attacks = package_copy / "measure" / "attacks.py"
    reworded = attacks.read_text().replace('"""', '"""A reworded docstring. ', 1) + "\n# a comment\n"
    assert "A reworded docstring" in reworded
    attacks.write_text(reworded)
    unchanged = fingerprints_of(package_copy)
    append(package_copy / "measure" / "attacks.py", "\nONE_CHANGED_LINE = 1\n")  # measurement code
    attack = fingerprints_of(package_copy)
    append(package_copy / "model" / "models.py", "\nONE_CHANGED_LINE = 1\n")  # the model
    model = fingerprints_of(package_copy)
    append(package_copy / "data" / "memory.py", "\nONE_CHANGED_LINE = 1\n")  # a task, loaded by name
    task = fingerprints_of(package_copy)
    assert unchanged == first
    assert attack["train"] == first["train"] and attack["measure"] != first["measure"]
    assert model["train"] != attack["train"] and model["measure"] != attack["measure"]
    assert task["train"] != model["train"] and task["measure"] != model["measure"]


def test_the_stages_import_closures():
    training = set(fingerprint.closure(fingerprint.ENTRIES["train"]))
    measuring = set(fingerprint.closure(fingerprint.ENTRIES["measure"]))
    assert "snnlib.measure.train" in training      # imported inside a function (lazily)
    assert "snnlib.data.memory" in training        # loaded by name (importlib) in snnlib.data
    assert "snnlib.model" in training              # the package above an imported module
    assert "snnlib.measure.attacks" not in training and "snnlib.measure.attacks" in measuring
    assert "snnlib.measure.audit" in measuring and training <= measuring
    for outside in ("snnlib", "snnlib.paths", "snnlib.cli", "snnlib.study.sweep", "snnlib.study.records", "snnlib.study.experiment",
                    "snnlib.study.fingerprint", "snnlib.measure.bench", "snnlib.analysis.plots"):
        assert outside not in measuring, outside
    with pytest.raises(ValueError, match="part must be one of 'train', 'measure'"):
        fingerprint.source_files("audit")
