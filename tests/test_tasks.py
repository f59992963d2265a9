"""Tasks: determinism, shapes, labels, readout windows, parameter checks, the validation split,
input scales and readouts, streams (for measuring and for training), the torch-free task names, the
temporal-xor labels, MNIST-1D generated offline, and SHD / N-MNIST read from tiny files in their
real on-disk formats (and failing fast without them)."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest
import torch

from snnlib.data import (TASKS, DatasetNotFoundError, StreamData, TaskData, get_task, make_stream,
                          stream_task, task_parameters)
from snnlib.data import mnist1d as mnist1d_module
from snnlib.data.base import split_validation, stratified_counts, window_text
from snnlib.data.names import MEMORY_TASKS, TASK_NAMES
from snnlib.data.neuromorphic import SHD_URL, data_dir, read_atis_events
from snnlib.data.stream import shift_window
from snnlib.data.temporal_xor import event_onsets, parity

from task_fixtures import make_nmnist_dir, make_shd_dir, pack_atis, write_shd_file

# small instances of every task; the network data sets point at fixture folders (see `small`)
SMALL = {
    "digits": dict(),
    "seq-digits": dict(),
    "mnist1d": dict(n_train=200, n_test=100),
    "japanese-vowels": dict(),
    "delayed-recall": dict(n_train=64, n_test=32),
    "temporal-xor": dict(n_train=64, n_test=32),
    "shd": dict(n_steps=20),
    "nmnist": dict(n_steps=10, pool=2),
}
N_CLASSES = {"digits": 10, "seq-digits": 10, "mnist1d": 10, "japanese-vowels": 9, "delayed-recall": 4,
             "temporal-xor": 2, "shd": 20, "nmnist": 10}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    make_shd_dir(root / "shd")
    make_nmnist_dir(root / "nmnist")
    return root


@pytest.fixture
def small(data_root):
    def build(name: str, **params) -> TaskData:
        extra = dict(data_dir=str(data_root / name)) if name in ("shd", "nmnist") else {}
        return get_task(name, **{**SMALL[name], **extra, **params})
    return build


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a task tried to use the network")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_every_task_is_covered():
    assert set(TASKS) == set(SMALL)
    assert {"seq-digits", "mnist1d", "temporal-xor", "shd", "nmnist", "delayed-recall", "digits"} <= set(TASKS)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_same_seed_same_data_other_seed_other_data(small, name):
    a, b, c = small(name, seed=3), small(name, seed=3), small(name, seed=4)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert not (torch.equal(a.x_train, c.x_train) and torch.equal(a.x_test, c.x_test))
    assert a.params["seed"] == 3 and c.params["seed"] == 4


@pytest.mark.parametrize("name", sorted(SMALL))
def test_shapes_labels_and_readout(small, name):
    task = small(name)
    assert task.name == name
    for x, y in ((task.x_train, task.y_train), (task.x_val, task.y_val), (task.x_test, task.y_test)):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.ndim == 3 and x.shape[0] == task.n_steps and x.shape[1] == len(y) and x.shape[2] == task.n_inputs
        assert y.min() >= 0 and y.max() < task.n_classes
        assert torch.isfinite(x).all()
    assert task.n_classes == N_CLASSES[name]
    window = range(task.n_steps)[task.readout]
    assert len(window) >= 1
    assert task.encoding in ("current", "spikes")
    if task.encoding == "spikes":
        assert set(torch.unique(task.x_train).tolist()) <= {0.0, 1.0}
    assert set(task.params) == set(task_parameters(name))


def test_shapes_of_the_new_tasks(small):
    seq = small("seq-digits")
    assert (seq.n_steps, seq.n_inputs, len(seq.y_train) + len(seq.y_val) + len(seq.y_test)) == (8, 8, 1797)
    assert small("seq-digits", row_steps=3).n_steps == 24
    assert float(seq.x_train.max()) == pytest.approx(3.0)  # the default gain: pixel / 16 * 3
    m = small("mnist1d")
    assert (m.n_steps, m.n_inputs, len(m.y_train), len(m.y_val), len(m.y_test)) == (40, 1, 160, 40, 100)
    assert small("mnist1d", population=6).n_inputs == 6
    xor = small("temporal-xor")
    assert (xor.n_steps, xor.n_inputs) == (2 * 3 + 10 + 3, 2 * 10 + 1)
    assert xor.readout == slice(16, 19)
    assert small("temporal-xor", channels="shared").n_inputs == 11


@pytest.mark.parametrize("name, params, word", [
    ("seq-digits", dict(row_steps=0), "row_steps"),
    ("seq-digits", dict(gain=0.0), "gain"),
    ("seq-digits", dict(test_fraction=1.0), "test_fraction"),
    ("seq-digits", dict(seed=-1), "seed"),
    ("mnist1d", dict(n_train=0), "n_train"),
    ("mnist1d", dict(n_test=1.5), "n_test"),
    ("mnist1d", dict(population=0), "population"),
    ("mnist1d", dict(gain=-1.0), "gain"),
    ("mnist1d", dict(seq_length=1), "seq_length"),
    ("delayed-recall", dict(delay=-1), "delay"),
    ("delayed-recall", dict(delay_noise=1.5), "delay_noise"),
    ("temporal-xor", dict(n_events=1), "n_events"),
    ("temporal-xor", dict(gap=-1), "gap"),
    ("temporal-xor", dict(event_steps=0), "event_steps"),
    ("temporal-xor", dict(recall_steps=0), "recall_steps"),
    ("temporal-xor", dict(n_channels=1), "n_channels"),
    ("temporal-xor", dict(channels="both"), "channels"),
    ("temporal-xor", dict(noise=2.0), "noise"),
    ("temporal-xor", dict(p_on=-0.1), "p_on"),
    ("shd", dict(n_steps=0), "n_steps"),
    ("shd", dict(duration_ms=0.0), "duration_ms"),
    ("shd", dict(channel_pool=0), "channel_pool"),
    ("shd", dict(counts="yes"), "counts"),
    ("shd", dict(n_train=0), "n_train"),
    ("shd", dict(n_train=10_000), "n_train"),
    ("shd", dict(data_dir=3), "data_dir"),
    ("nmnist", dict(pool=0), "pool"),
    ("nmnist", dict(n_test=10_000), "n_test"),
    ("digits", dict(encoding="binary"), "encoding"),
    ("digits", dict(val_fraction=0.5), "val_fraction"),
    ("mnist1d", dict(val_fraction=-0.1), "val_fraction"),
    ("temporal-xor", dict(val_fraction="0.2"), "val_fraction"),
    ("shd", dict(val_fraction=0.7), "val_fraction"),
    ("nmnist", dict(val_fraction=True), "val_fraction"),
])
def test_bad_parameters_raise_value_error_naming_them(small, name, params, word):
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        small(name, **params)


def test_unknown_task_and_parameter():
    with pytest.raises(ValueError, match="temporal-xor"):
        get_task("no-such-task")
    with pytest.raises(ValueError, match="delay"):
        get_task("temporal-xor", delay=3)


# --- the validation split -----------------------------------------------------------------------


def rows(x: torch.Tensor) -> list[bytes]:
    """One hashable row per sample of ``x [T, N, F]``."""
    return [x[:, i].numpy().tobytes() for i in range(x.shape[1])]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_validation_split_is_carved_from_the_training_data(small, name):
    full, task = small(name, val_fraction=0), small(name, val_fraction=0.2)
    assert full.x_val is None and full.y_val is None and full.n_val == 0
    n = len(full.y_train)
    assert len(task.y_val) == max(1, round(0.2 * n)) and len(task.y_train) + len(task.y_val) == n
    assert task.x_val.shape == (task.n_steps, len(task.y_val), task.n_inputs)
    # the test split does not change; train + validation is the old training split, each sample once
    assert torch.equal(task.x_test, full.x_test) and torch.equal(task.y_test, full.y_test)
    pairs = lambda x, y: Counter(zip(rows(x), y.tolist()))
    assert pairs(task.x_train, task.y_train) + pairs(task.x_val, task.y_val) == pairs(full.x_train, full.y_train)
    if len(set(rows(full.x_train))) == n:  # samples identifiable: none in both
        assert not set(rows(task.x_train)) & set(rows(task.x_val))
    # stratified: every class within one sample of its share
    counts = torch.bincount(full.y_train, minlength=full.n_classes)
    in_val = torch.bincount(task.y_val, minlength=full.n_classes)
    assert torch.all((in_val - counts * len(task.y_val) / n).abs() < 1)
    assert task.params["val_fraction"] == 0.2 and full.params["val_fraction"] == 0.0


def test_validation_split_depends_on_the_seed_only():
    a, b = get_task("mnist1d", n_train=200, n_test=20, seed=1), get_task("mnist1d", n_train=200, n_test=20, seed=1)
    assert torch.equal(a.x_val, b.x_val)
    x = torch.arange(60.0).reshape(1, 60, 1)
    y = torch.arange(60) % 3
    first, again, other = (split_validation(x, y, 0.25, s) for s in (7, 7, 8))
    assert torch.equal(first[2], again[2]) and not torch.equal(first[2], other[2])
    x_tr, y_tr, x_val, y_val = first
    assert x_val.shape == (1, 15, 1) and torch.bincount(y_val).tolist() == [5, 5, 5]
    assert sorted(x_tr.flatten().tolist() + x_val.flatten().tolist()) == list(range(60))
    assert torch.equal(y_val, x_val.flatten().long() % 3)  # labels travel with their samples
    assert split_validation(x, y, 0.0, 7)[2:] == (None, None)
    with pytest.raises(ValueError, match="leaves none"):
        split_validation(x[:, :1], y[:1], 0.2, 0)


def test_stratified_counts_hand_worked():
    # shares 1.5, 0.9, 0.6: floors 1, 0, 0; the 2 left go to the largest remainders (0.9, 0.6)
    assert stratified_counts([5, 3, 2], 3).tolist() == [1, 1, 1]
    assert stratified_counts([10, 10], 5).tolist() == [3, 2]  # a tie: the smaller class index
    assert stratified_counts([8, 4], 3).tolist() == [2, 1]
    assert stratified_counts([1, 1, 1, 1], 2).sum() == 2


def test_task_data_positional_construction_and_checks():
    x, y = torch.zeros(3, 4, 2), torch.tensor([0, 1, 0, 1])
    task = TaskData("t", x, y, x + 2.0, y, 2, slice(1, None), "current", {})
    assert task.x_val is None and task.readout_decay == 0.5 and task.input_scale is None
    assert task.input_bounds == (0.0, 2.0)
    assert TaskData("t", x, y, x + 2.0, y, 2, encoding="spikes").input_bounds == (0.0, 1.0)
    with pytest.raises(ValueError, match="x_val"):
        TaskData("t", x, y, x, y, 2, x_val=x)
    with pytest.raises(ValueError, match="readout_decay"):
        TaskData("t", x, y, x, y, 2, readout_decay=1.5)
    with pytest.raises(ValueError, match="input_scale"):
        TaskData("t", x, y, x, y, 2, input_scale=0.0)


# --- input scale, readout, describe ------------------------------------------------------------


def test_input_scales(small):
    assert small("digits").input_scale == 1 / 16
    assert small("digits", encoding="poisson").input_scale is None
    assert small("seq-digits").input_scale == 3 / 16 and small("seq-digits", gain=2.0).input_scale == 2 / 16
    m = small("mnist1d", gain=2.0)
    assert m.input_scale == pytest.approx(float(m.x_train.std())) and 1.4 < m.input_scale < 2.6
    for name in ("delayed-recall", "temporal-xor", "shd", "nmnist"):
        assert small(name).input_scale is None, name


def test_input_bounds(small):
    assert small("digits").input_bounds == (0.0, 1.0)
    assert small("seq-digits", gain=2.0).input_bounds == (0.0, 2.0)
    m = small("mnist1d")
    every = torch.cat([m.x_train, m.x_val, m.x_test], dim=1)
    assert m.input_bounds == (float(every.min()), float(every.max())) and m.input_bounds[0] < 0 < m.input_bounds[1]
    for name in ("delayed-recall", "temporal-xor", "shd", "nmnist"):
        assert small(name).input_bounds == (0.0, 1.0), name
    assert small("digits", encoding="poisson").input_bounds == (0.0, 1.0)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_readout_decay(small, name):
    task = small(name)
    if name in MEMORY_TASKS:
        # no memory in the readout, read over the recall window only: where the go channel is on
        assert task.readout_decay == 0.0
        go = task.x_train[:, :, -1]
        window = range(task.n_steps)[task.readout]
        assert torch.all(go[task.readout] == 1) and go[:window.start].sum() == 0 and window.stop == task.n_steps
    else:
        assert task.readout_decay == 0.5 and task.readout == slice(None)


def test_describe(small):
    recall = small("delayed-recall").describe()
    assert recall == dict(name="delayed-recall", T=14, inputs=21, classes=4, train=51, val=13, test=32,
                          readout="steps 9-13 (recall)", readout_decay=0.0, encoding="spikes", input_scale=None)
    digits = small("digits").describe()
    assert (digits["readout"], digits["readout_decay"], digits["input_scale"]) == ("all steps", 0.5, 1 / 16)
    assert digits["train"] + digits["val"] + digits["test"] == 1797
    assert small("temporal-xor").describe()["readout"] == "steps 16-18 (recall)"
    assert small("digits", val_fraction=0).describe()["val"] == 0
    assert window_text(slice(-1, None), 8) == "step 7" and window_text(slice(2, 5), 8) == "steps 2-4"
    assert window_text(slice(0, 8), 8) == "all steps"


# --- network data sets: failing fast, and reading the real formats -----------------------------


@pytest.mark.parametrize("name, what", [("shd", "shd_train.h5.gz"), ("nmnist", "n-mnist")])
def test_missing_dataset_fails_fast_naming_it(monkeypatch, tmp_path, no_network, name, what):
    monkeypatch.setenv("SNNLIB_DATA", str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as info:
        get_task(name)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert f"'{name}'" in message and what in message and str(tmp_path / name) in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("SNNLIB_DATA", raising=False)
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path / "results"))
    assert data_dir("shd") == tmp_path / "results" / "data" / "shd"
    monkeypatch.setenv("SNNLIB_DATA", str(tmp_path / "data"))
    assert data_dir("nmnist") == tmp_path / "data" / "nmnist"
    assert data_dir("shd", tmp_path / "mine") == tmp_path / "mine"
    with pytest.raises(DatasetNotFoundError, match=SHD_URL):
        get_task("shd", data_dir=str(tmp_path / "mine"))


def test_shd_binning(tmp_path, no_network):
    # sample 0: unit 3 at 0 ms and 5 ms (same 10 ms bin), unit 699 at 95 ms, a spike after the window;
    # sample 1: no spike at all
    times = [np.array([0.0, 0.005, 0.095, 0.2]), np.array([])]
    units = [np.array([3, 3, 699, 10]), np.array([], dtype=int)]
    write_shd_file(tmp_path / "shd_train.h5", times, units, [7, 19])
    write_shd_file(tmp_path / "shd_test.h5", times[:1], units[:1], [0])
    task = get_task("shd", data_dir=str(tmp_path), n_steps=10, duration_ms=100.0, counts=True, n_train=2,
                    val_fraction=0)
    assert task.x_train.shape == (10, 2, 700) and task.encoding == "current"
    by_label = {int(task.y_train[i]): task.x_train[:, i] for i in range(2)}
    x = by_label[7]
    assert x[0, 3] == 2 and x[9, 699] == 1 and x.sum() == 3  # the 200 ms spike is dropped
    assert by_label[19].sum() == 0
    spikes = get_task("shd", data_dir=str(tmp_path), n_steps=10, duration_ms=100.0)
    assert spikes.encoding == "spikes" and spikes.x_test[0, 0, 3] == 1
    pooled = get_task("shd", data_dir=str(tmp_path), n_steps=10, duration_ms=100.0, channel_pool=100, counts=True)
    assert pooled.n_inputs == 7 and pooled.x_test[0, 0, 0] == 2 and pooled.x_test[9, 0, 6] == 1


def test_shd_subset_and_bad_file(tmp_path, data_root):
    task = get_task("shd", data_dir=str(data_root / "shd"), n_train=5, n_test=3, n_steps=4)
    assert (len(task.y_train), len(task.y_val), len(task.y_test)) == (4, 1, 3)
    (tmp_path / "shd_train.h5").write_bytes(b"not hdf5")
    (tmp_path / "shd_test.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="shd"):
        get_task("shd", data_dir=str(tmp_path))


def test_atis_events_and_overflow(tmp_path):
    raw = pack_atis([1, 0, 33, 40], [2, 240, 33, 1], [1, 0, 0, 1], [100, 0, 8_000_000, 5])
    path = tmp_path / "00001.bin"
    path.write_bytes(raw)
    ev = read_atis_events(path)
    # the overflow marker (y = 240) is dropped and adds 2**13 µs to later events; x = 40 is off the sensor
    assert ev["x"].tolist() == [1, 33] and ev["y"].tolist() == [2, 33] and ev["p"].tolist() == [1, 0]
    assert ev["t"].tolist() == [100, 8_000_000 + 2 ** 13]
    (tmp_path / "bad.bin").write_bytes(b"1234")
    with pytest.raises(ValueError, match="40-bit"):
        read_atis_events(tmp_path / "bad.bin")


def test_nmnist_binning(tmp_path, no_network):
    for split in ("Train", "Test"):
        for digit in (3, 8):
            folder = tmp_path / split / str(digit)
            folder.mkdir(parents=True)
            # pixel (x=5, y=2), ON at 1 ms and 12 ms; OFF at (33, 33) at 299 ms; one event after 300 ms
            (folder / "00001.bin").write_bytes(pack_atis([5, 5, 33, 0], [2, 2, 33, 0], [1, 1, 0, 1],
                                                         [1_000, 12_000, 299_000, 310_000]))
    task = get_task("nmnist", data_dir=str(tmp_path), n_steps=30, counts=True, val_fraction=0)
    assert task.x_train.shape == (30, 2, 2 * 34 * 34) and sorted(task.y_train.tolist()) == [3, 8]
    x = task.x_train[:, 0]
    on, off = 34 * 34, 0
    assert x[0, on + 2 * 34 + 5] == 1 and x[1, on + 2 * 34 + 5] == 1 and x[29, off + 33 * 34 + 33] == 1
    assert x.sum() == 3
    pooled = get_task("nmnist", data_dir=str(tmp_path), n_steps=1, pool=17, counts=True)
    assert pooled.n_inputs == 8 and pooled.x_test[0, 0].tolist() == [0, 0, 0, 1, 2, 0, 0, 0]
    assert get_task("nmnist", data_dir=str(tmp_path), n_steps=1, pool=17).x_test.max() == 1


def test_nmnist_fixture_dataset(small):
    task = small("nmnist")
    assert task.n_inputs == 2 * 17 * 17 and (len(task.y_train), len(task.y_val), len(task.y_test)) == (16, 4, 10)
    assert sorted(task.y_test.tolist()) == list(range(10))
    assert len(small("nmnist", n_train=7).y_train) == 6  # one of the 7 is the validation split
    assert len(small("nmnist", n_train=7, val_fraction=0).y_train) == 7


# --- mnist1d -------------------------------------------------------------------------------------


def test_mnist1d_is_generated_offline_and_keeps_the_global_rng(no_network):
    mnist1d_module._generate.cache_clear()
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    task = get_task("mnist1d", seed=11, n_train=95, n_test=10)
    assert np.random.random() == expected_np and random.random() == expected_py
    assert (len(task.y_train), len(task.y_val), len(task.y_test)) == (76, 19, 10)
    start = time.perf_counter()
    again = get_task("mnist1d", seed=11, n_train=95, n_test=10, population=4)  # from the cache
    assert time.perf_counter() - start < 0.2
    assert torch.equal(again.y_train, task.y_train)


def test_mnist1d_population_code():
    raw = get_task("mnist1d", n_train=100, n_test=20, gain=2.0)
    pop = get_task("mnist1d", n_train=100, n_test=20, population=5, gain=2.0)
    assert pop.x_train.shape == (40, 80, 5)  # 20 of the 100 are the validation split
    assert pop.x_train.min() >= 0 and pop.x_train.max() <= 2.0
    # the most active receptive field follows the value
    v = raw.x_train[..., 0] / 2.0
    centres = torch.linspace(-2.5, 2.5, 5)
    nearest = (v[..., None] - centres).abs().argmin(-1)
    assert torch.equal(pop.x_train.argmax(-1), nearest)
    assert abs(float(raw.x_train.mean()) / 2.0) < 0.2 and 0.7 < float(raw.x_train.std()) / 2.0 < 1.3
    assert get_task("mnist1d", n_train=100, n_test=20, seq_length=60).n_steps == 60


# --- temporal-xor --------------------------------------------------------------------------------


def decode_identities(x: torch.Tensor, n_events: int, event_steps: int, gap: int, n_channels: int, shared: bool):
    """Noise-free events (p_on = 1, p_off = 0): identity 1 (B) when the second half of the channels fires."""
    half = n_channels // 2
    ids = []
    for k, onset in enumerate(event_onsets(n_events, event_steps, gap)):
        base = 0 if shared else k * n_channels
        event = x[onset:onset + event_steps, :, base:base + n_channels]
        a, b = event[..., :half].sum((0, 2)), event[..., half:].sum((0, 2))
        assert torch.all((a == 0) != (b == 0))  # exactly one pattern per event
        ids.append((b > 0).long())
    return torch.stack(ids, dim=1)


@pytest.mark.parametrize("n_events, channels", [(2, "separate"), (3, "shared"), (4, "separate")])
def test_temporal_xor_labels_are_the_parity_of_the_events(n_events, channels):
    params = dict(n_events=n_events, gap=2, event_steps=2, recall_steps=4, n_channels=6, channels=channels,
                  p_on=1.0, p_off=0.0, n_train=400, n_test=50)
    task = get_task("temporal-xor", **params)
    ids = decode_identities(task.x_train, n_events, 2, 2, 6, channels == "shared")
    assert torch.equal(task.y_train, ids.sum(1) % 2)
    assert torch.equal(torch.from_numpy(parity(ids.numpy())), task.y_train)
    # the go channel is on exactly in the readout window, which follows the last event
    go = task.x_train[:, :, -1]
    window = range(task.n_steps)[task.readout]
    assert window == range(task.n_steps - 4, task.n_steps)
    assert torch.all(go[task.readout] == 1) and go[:window.start].sum() == 0
    assert event_onsets(n_events, 2, 2)[-1] + 2 == window.start


def test_temporal_xor_one_event_alone_says_nothing():
    task = get_task("temporal-xor", n_events=2, gap=1, p_on=1.0, p_off=0.0, n_train=4000, n_test=10)
    ids = decode_identities(task.x_train, 2, 3, 1, 10, shared=False)
    y = task.y_train.float()
    assert abs(float(y.mean()) - 0.5) < 0.05
    for k in range(2):
        for identity in (0, 1):
            assert abs(float(y[ids[:, k] == identity].mean()) - 0.5) < 0.05


def test_temporal_xor_background_noise():
    quiet = get_task("temporal-xor", p_on=1.0, p_off=0.0, n_train=200, n_test=10)
    noisy = get_task("temporal-xor", p_on=1.0, p_off=0.0, noise=0.1, n_train=200, n_test=10)
    gap = slice(3, 13)  # between the events: silent without noise
    assert quiet.x_train[gap, :, :-1].sum() == 0
    assert 0.07 < float(noisy.x_train[gap, :, :-1].mean()) < 0.13
    assert noisy.x_train[gap, :, -1].sum() == 0  # never on the go channel


# --- streams ---------------------------------------------------------------------------------------


def test_stream_concatenates_test_samples_without_gap(small):
    task = small("delayed-recall")  # readout: the recall window at the end of each sample
    stream = make_stream(task, k=3, seed=1)
    T = task.n_steps
    assert isinstance(stream, StreamData)
    assert stream.x.shape == (3 * T, len(task.y_test) // 3, task.n_inputs)
    assert stream.y.shape == (stream.n_streams, 3) and stream.indices.shape == (stream.n_streams, 3)
    assert len(set(stream.indices.flatten().tolist())) == stream.indices.numel()  # no sample twice
    for i in range(3):
        assert torch.equal(stream.x[i * T:(i + 1) * T], task.x_test[:, stream.indices[:, i]])
        assert torch.equal(stream.y[:, i], task.y_test[stream.indices[:, i]])
        window = range(task.n_steps)[task.readout]
        assert stream.windows[i] == slice(i * T + window.start, i * T + window.stop)
    membrane = torch.randn(3 * T, stream.n_streams, task.n_classes)
    logits = stream.segment_logits(membrane)
    assert logits.shape == (3, stream.n_streams, task.n_classes)
    assert torch.allclose(logits[1], membrane[stream.windows[1]].mean(0))
    with pytest.raises(ValueError, match="steps"):
        stream.segment_logits(membrane[:-1])


def test_stream_determinism_and_sizes(small):
    task = small("seq-digits")
    a, b, c = make_stream(task, k=2, seed=0), make_stream(task, k=2, seed=0), make_stream(task, k=2, seed=5)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and not torch.equal(a.indices, c.indices)
    assert a.windows == (slice(0, 8), slice(8, 16))
    big = make_stream(task, k=5, seed=0, n_streams=1000)  # more than the test set: with replacement
    assert big.x.shape == (40, 1000, 8)
    train = make_stream(task, k=2, split="train", n_streams=4)
    assert torch.equal(train.y[:, 0], task.y_train[train.indices[:, 0]])
    for bad, word in ((dict(k=0), "k"), (dict(n_streams=0), "n_streams"), (dict(split="val"), "split")):
        with pytest.raises(ValueError, match=word):
            make_stream(task, **bad)
    with pytest.raises(ValueError, match="task"):
        make_stream("seq-digits", k=2)


def test_shift_window():
    assert shift_window(slice(None), 10, 20) == slice(20, 30)
    assert shift_window(slice(6, None), 10, 10) == slice(16, 20)
    assert shift_window(slice(-3, None), 10, 0) == slice(7, 10)
    with pytest.raises(ValueError):
        shift_window(slice(5, 5), 10, 0)


def test_stream_task_holds_streams_of_each_split(small):
    task = small("delayed-recall")  # train 51, val 13, test 32
    k, T = 3, task.n_steps
    st = stream_task(task, k, seed=2)
    assert st.name == "delayed-recall-stream" and isinstance(st, TaskData)
    assert st.x_train.shape == (k * T, 51 // k, task.n_inputs) and st.y_train.shape == (51 // k, k)
    assert st.x_val.shape == (k * T, 13 // k, task.n_inputs) and st.y_val.shape == (13 // k, k)
    assert st.x_test.shape == (k * T, 32 // k, task.n_inputs) and st.y_test.shape == (32 // k, k)
    window = range(T)[task.readout]
    assert st.readout == tuple(slice(i * T + window.start, i * T + window.stop) for i in range(k))
    assert (st.readout_decay, st.encoding, st.input_scale, st.input_bounds, st.n_classes) == \
        (task.readout_decay, task.encoding, task.input_scale, task.input_bounds, task.n_classes)
    assert st.params == dict(task.params, stream=dict(k=k, seed=2))
    # the same streams make_stream draws; each segment is a sample of its own split, with its label
    for split in ("test", "train"):
        ref = make_stream(task, k=k, seed=2, split=split)
        x, y = (st.x_test, st.y_test) if split == "test" else (st.x_train, st.y_train)
        assert torch.equal(x, ref.x) and torch.equal(y, ref.y)
    val_pairs = Counter(zip(rows(task.x_val), task.y_val.tolist()))
    for i in range(k):
        segment = st.x_val[i * T:(i + 1) * T]
        assert all(val_pairs[pair] for pair in zip(rows(segment), st.y_val[:, i].tolist()))
    assert st.describe()["readout"] == "steps 9-13 (recall) of each of 3 samples"
    assert 0 < st.chance <= 1


def test_stream_task_without_validation_and_errors(small):
    task = small("seq-digits", val_fraction=0)
    st = stream_task(task, 2)
    assert st.x_val is None and st.y_val is None and st.readout == (slice(0, 8), slice(8, 16))
    again, other = stream_task(task, 2), stream_task(task, 2, seed=1)
    assert torch.equal(again.x_train, st.x_train) and torch.equal(again.y_test, st.y_test)
    assert not torch.equal(other.y_train, st.y_train)
    with pytest.raises(ValueError, match="k"):
        stream_task(task, 0)
    with pytest.raises(ValueError, match="k=500 exceeds"):
        stream_task(task, 500)
    with pytest.raises(ValueError, match="already"):
        stream_task(st, 2)
    with pytest.raises(ValueError, match="task"):
        stream_task("seq-digits", 2)


# --- task names without torch ------------------------------------------------------------------------


def test_task_names_agree():
    assert TASKS == TASK_NAMES
    assert set(MEMORY_TASKS) <= set(TASKS)


def test_task_names_import_without_torch():
    code = ("import sys, snnlib.data.names as n; assert 'torch' not in sys.modules, 'torch'; "
            "assert 'sklearn' not in sys.modules, 'sklearn'; import snnlib.data as d; "
            "assert 'torch' not in sys.modules; assert d.TASKS == n.TASK_NAMES; print(len(n.TASK_NAMES))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(len(TASKS))
