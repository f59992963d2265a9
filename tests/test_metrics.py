"""Measurements: rates, sparsity, SynOps, gap, streams, drift, temporal generalization (snnlib.measure.metrics)."""

import pytest
import torch

from snnlib.measure import metrics
from snnlib.model.models import build_snn
from snnlib.data import get_task
from snnlib.measure.train import evaluate, seed_everything

torch.set_num_threads(1)


def spikes_of(*layers):
    return [torch.tensor(s, dtype=torch.float32) for s in layers]


# --- pure functions of the spikes -----------------------------------------------------------------
def test_rates_sparsity_by_hand():
    # T=2, B=1; layer 0 has 3 neurons (2 spikes of 6 neuron-steps), layer 1 has 1 neuron (1 of 2)
    s = spikes_of([[[1, 0, 0]], [[0, 1, 0]]], [[[1]], [[0]]])
    assert metrics.firing_rates(s) == pytest.approx([2 / 6, 1 / 2])
    assert metrics.pooled_firing_rate(s) == pytest.approx(3 / 8)
    assert metrics.activation_sparsity(s) == pytest.approx(5 / 8)


@pytest.mark.parametrize("variant, expected", [("LIF", [5, 7]), ("RLIF", [5 + 3, 7 + 5])])
def test_fan_outs(variant, expected):
    model = build_snn(4, [3, 5], 7, variant)
    assert metrics.fan_outs(model) == expected


def test_synops_by_hand():
    model = build_snn(4, [3, 5], 7, "RLIF")  # fan-outs 8 and 12
    s = [torch.zeros(2, 2, 3), torch.zeros(2, 2, 5)]
    s[0][0, 0, 0] = s[0][1, 1, 2] = s[0][1, 0, 1] = 1  # 3 spikes in layer 0
    s[1][0, 1, 4] = 1  # 1 spike in layer 1
    assert metrics.layer_synops(model, s) == pytest.approx([3 * 8 / 2, 1 * 12 / 2])
    assert metrics.synops_per_sample(model, s) == pytest.approx((24 + 12) / 2)
    x = torch.zeros(2, 2, 4)
    x[0, 0, :2] = 1  # 2 input spikes, each to the 3 neurons of layer 0
    assert metrics.synops_per_sample(model, s, x_spikes=x) == pytest.approx((24 + 12 + 6) / 2)
    with pytest.raises(ValueError, match="0/1"):
        metrics.synops_per_sample(model, s, x_spikes=x + 0.5)


def test_spike_input_validation():
    with pytest.raises(ValueError, match="spikes"):
        metrics.firing_rates([])
    with pytest.raises(ValueError, match="spikes"):
        metrics.firing_rates([torch.zeros(2, 3)])
    with pytest.raises(ValueError, match="one entry per spiking layer"):
        metrics.layer_synops(build_snn(4, [3, 5], 7), [torch.zeros(2, 2, 3)])


def test_gap():
    assert metrics.gap(0.9, 0.8) == pytest.approx(0.1)


# --- measure on a network -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return get_task("digits")


@pytest.fixture(scope="module")
def model():
    seed_everything(0)
    return build_snn(64, [32, 16], 10, "RLIF", decay=0.5)


def test_measure_agrees_with_evaluate_and_by_hand(model, digits):
    x, y = digits.x_test[:, :100], digits.y_test[:100]
    m = metrics.measure(model, x, y, digits.readout, batch_size=37)
    ref = evaluate(model, x, y, digits.readout)
    assert m["accuracy"] == ref["accuracy"] and m["n"] == 100
    assert m["loss"] == pytest.approx(ref["loss"], rel=1e-5)
    assert m["firing_rates"] == pytest.approx(ref["firing_rates"])
    with torch.no_grad():
        model(x, digits.readout)
    s = model.last_spikes
    assert m["firing_rate"] == pytest.approx(metrics.pooled_firing_rate(s))
    assert m["sparsity"] == pytest.approx(metrics.activation_sparsity(s))
    assert m["sparsity"] == pytest.approx(1 - m["firing_rate"])
    assert m["synops"] == pytest.approx(metrics.synops_per_sample(model, s), rel=1e-6)
    assert m["layer_synops"] == pytest.approx(metrics.layer_synops(model, s), rel=1e-6)


def test_measure_counts_input_spikes_on_request():
    task = get_task("delayed-recall", n_train=16, n_test=32)
    seed_everything(0)
    model = build_snn(task.n_inputs, [8], task.n_classes, "LIF")
    plain = metrics.measure(model, task.x_test, task.y_test, task.readout)
    with_in = metrics.measure(model, task.x_test, task.y_test, task.readout, input_spikes=True)
    extra = 8 * task.x_test.sum().item() / 32
    assert with_in["synops"] - plain["synops"] == pytest.approx(extra)


def test_measure_validation(model, digits):
    with pytest.raises(ValueError, match="batch_size"):
        metrics.measure(model, digits.x_test, digits.y_test, batch_size=0)
    with pytest.raises(ValueError, match="y must be"):
        metrics.measure(model, digits.x_test, digits.y_test[:3])


def test_train_test_gap(model, digits):
    out = metrics.train_test_gap(model, digits)
    assert out["gap"] == pytest.approx(out["train_accuracy"] - out["test_accuracy"])
    assert out["test_accuracy"] == evaluate(model, digits.x_test, digits.y_test, digits.readout)["accuracy"]


# --- streams --------------------------------------------------------------------------------------
def test_segment_windows():
    assert metrics.segment_windows(slice(None), 4, 3) == [slice(0, 4), slice(4, 8), slice(8, 12)]
    assert metrics.segment_windows(slice(9, 14), 14, 2) == [slice(9, 14), slice(23, 28)]
    assert metrics.segment_windows(slice(-2, None), 5, 2) == [slice(3, 5), slice(8, 10)]
    with pytest.raises(ValueError, match="readout"):
        metrics.segment_windows(slice(3, 3), 5, 2)
    with pytest.raises(ValueError, match="n_segments"):
        metrics.segment_windows(slice(None), 5, 0)


def stream_of(x, y, k):
    """K copies of the samples in a rolled order, back to back: ``[K*T, N, F]``, labels ``[N, K]``."""
    orders = [torch.roll(torch.arange(len(y)), i) for i in range(k)]
    return torch.cat([x[:, o] for o in orders]), torch.stack([y[o] for o in orders], dim=1)


def test_stream_first_segment_is_the_clean_accuracy(model, digits):
    x, y = digits.x_test[:, :120], digits.y_test[:120]
    xs, ys = stream_of(x, y, 3)
    windows = metrics.segment_windows(digits.readout, digits.n_steps, 3)
    acc = metrics.stream_accuracy(model, xs, ys, windows, batch_size=50)
    assert len(acc) == 3
    # segment 0 starts from a cleared state: the same as an ordinary evaluation
    assert acc[0] == evaluate(model, x, y, digits.readout)["accuracy"]


def test_stream_is_one_uninterrupted_pass():
    # an IF neuron without reset integrates forever: a segment's logits depend on the segments before
    seed_everything(0)
    model = build_snn(3, [4], 2, "IF-noreset")
    x = torch.rand(2, 5, 3)
    xs = torch.cat([x, x])
    with torch.no_grad():
        u = model.membrane(xs)
        fresh = model.membrane(x)
    y = u[2:].mean(0).argmax(1)  # labels the uninterrupted pass gets right at segment 1
    ys = torch.stack([y, y], dim=1)
    acc = metrics.stream_accuracy(model, xs, ys, [slice(0, 2), slice(2, 4)])
    assert acc[1] == 1.0
    assert not torch.allclose(u[2:], fresh)  # ... which is not what a cleared state would give


def test_stream_validation(model, digits):
    xs, ys = stream_of(digits.x_test[:, :10], digits.y_test[:10], 2)
    with pytest.raises(ValueError, match="one slice per segment"):
        metrics.stream_accuracy(model, xs, ys, [slice(0, 8)])
    with pytest.raises(ValueError, match="y_segments"):
        metrics.stream_accuracy(model, xs, ys[:, 0], [slice(0, 8), slice(8, 16)])
    with pytest.raises(ValueError, match="non-empty slice"):
        metrics.stream_accuracy(model, xs, ys, [slice(0, 8), slice(40, 50)])


def test_membrane_drift_grows_without_reset_or_leak():
    model = build_snn(2, [3], 2, "IF-noreset")
    with torch.no_grad():
        for p in model.layers[0].parameters():
            p.fill_(0.1)
    x = torch.ones(12, 4, 2)  # 3 segments of 4 steps: V[t] = 0.3 (t + 1)
    drift = metrics.membrane_drift(model, x, 3)
    expected = [0.3 * sum(range(1 + 4 * k, 5 + 4 * k)) / 4 for k in range(3)]
    assert drift[0] == pytest.approx(expected)
    assert model.layers[0].node.store_v_seq is False  # the flag is restored


def test_membrane_drift_matches_v_seq(model, digits):
    xs, _ = stream_of(digits.x_test[:, :20], digits.y_test[:20], 2)
    drift = metrics.membrane_drift(model, xs, 2, batch_size=7)
    for layer in model.layers:
        layer.node.store_v_seq = True
    with torch.no_grad():
        model.membrane(xs)
    for l, layer in enumerate(model.layers):
        v = layer.node.v_seq
        layer.node.store_v_seq = False
        assert drift[l] == pytest.approx([v[:8].mean().item(), v[8:].mean().item()], rel=1e-5, abs=1e-6)
    with pytest.raises(ValueError, match="n_segments"):
        metrics.membrane_drift(model, xs, 3)


# --- temporal generalization ----------------------------------------------------------------------
def test_temporal_generalization_uses_the_other_tasks_window():
    seed_everything(0)
    model = build_snn(21, [16], 4, "RLIF")
    other = get_task("delayed-recall", delay=8, n_train=16, n_test=64)
    out = metrics.temporal_generalization(model, other)
    ref = evaluate(model, other.x_test, other.y_test, other.readout)
    assert out["accuracy"] == ref["accuracy"] and out["n_steps"] == other.n_steps == 18
    assert out["task_params"]["delay"] == 8
    with pytest.raises(ValueError, match="inputs"):
        metrics.temporal_generalization(model, get_task("digits"))
    with pytest.raises(ValueError, match="split"):
        metrics.temporal_generalization(model, other, split="val")
