"""Tasks (DESIGN.md §4): determinism, shapes, labels, readout windows, parameter checks, streams,
the temporal-xor labels, MNIST-1D generated offline, and SHD / N-MNIST read from tiny files in their
real on-disk formats (and failing fast without them)."""

from __future__ import annotations

import random
import socket
import time

import numpy as np
import pytest
import torch

from snnlib.data import (TASKS, DatasetNotFoundError, StreamData, TaskData, get_task, make_stream,
                          task_parameters)
from snnlib.data import mnist1d as mnist1d_module
from snnlib.data.neuromorphic import SHD_URL, data_dir, read_atis_events
from snnlib.data.stream import shift_window
from snnlib.data.temporal_xor import event_onsets, parity

from task_fixtures import make_nmnist_dir, make_shd_dir, pack_atis, write_shd_file

# small instances of every task; the network data sets point at fixture folders (see `small`)
SMALL = {
    "digits": dict(),
    "seq-digits": dict(),
    "mnist1d": dict(n_train=200, n_test=100),
    "delayed-recall": dict(n_train=64, n_test=32),
    "temporal-xor": dict(n_train=64, n_test=32),
    "shd": dict(n_steps=20),
    "nmnist": dict(n_steps=10, pool=2),
}
N_CLASSES = {"digits": 10, "seq-digits": 10, "mnist1d": 10, "delayed-recall": 4, "temporal-xor": 2, "shd": 20,
             "nmnist": 10}


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
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert not (torch.equal(a.x_train, c.x_train) and torch.equal(a.x_test, c.x_test))
    assert a.params["seed"] == 3 and c.params["seed"] == 4


@pytest.mark.parametrize("name", sorted(SMALL))
def test_shapes_labels_and_readout(small, name):
    task = small(name)
    assert task.name == name
    for x, y in ((task.x_train, task.y_train), (task.x_test, task.y_test)):
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
    assert (seq.n_steps, seq.n_inputs, len(seq.y_train) + len(seq.y_test)) == (8, 8, 1797)
    assert small("seq-digits", row_steps=3).n_steps == 24
    assert float(seq.x_train.max()) == pytest.approx(3.0)  # the default gain: pixel / 16 * 3
    m = small("mnist1d")
    assert (m.n_steps, m.n_inputs, len(m.y_train), len(m.y_test)) == (40, 1, 200, 100)
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
])
def test_bad_parameters_raise_value_error_naming_them(small, name, params, word):
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        small(name, **params)


def test_unknown_task_and_parameter():
    with pytest.raises(ValueError, match="temporal-xor"):
        get_task("no-such-task")
    with pytest.raises(ValueError, match="delay"):
        get_task("temporal-xor", delay=3)


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
    task = get_task("shd", data_dir=str(tmp_path), n_steps=10, duration_ms=100.0, counts=True, n_train=2)
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
    assert (len(task.y_train), len(task.y_test)) == (5, 3)
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
    task = get_task("nmnist", data_dir=str(tmp_path), n_steps=30, counts=True)
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
    assert task.n_inputs == 2 * 17 * 17 and (len(task.y_train), len(task.y_test)) == (20, 10)
    assert sorted(task.y_test.tolist()) == list(range(10))
    assert len(small("nmnist", n_train=7).y_train) == 7


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
    assert (len(task.y_train), len(task.y_test)) == (95, 10)
    start = time.perf_counter()
    again = get_task("mnist1d", seed=11, n_train=95, n_test=10, population=4)  # from the cache
    assert time.perf_counter() - start < 0.2
    assert torch.equal(again.y_train, task.y_train)


def test_mnist1d_population_code():
    raw = get_task("mnist1d", n_train=100, n_test=20, gain=2.0)
    pop = get_task("mnist1d", n_train=100, n_test=20, population=5, gain=2.0)
    assert pop.x_train.shape == (40, 100, 5)
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
