import pytest
import torch

from snnlib.model.layers import LeakyReadout, SpikingLinear
from snnlib.model.models import build_snn
from snnlib.model.variants import Variant


@pytest.mark.parametrize("name", Variant.names())
def test_every_variant_builds_and_runs(name):
    model = build_snn(5, [7, 6], 3, name, decay=0.5)
    x = torch.rand(9, 4, 5)
    assert model(x).shape == (4, 3)
    assert model.membrane(x).shape == (9, 4, 3)
    assert [s.shape for s in model.last_spikes] == [(9, 4, 7), (9, 4, 6)]
    variant = Variant.parse(name)
    for layer in model.layers:
        assert layer.node.decay == (0.5 if variant.leak else 1.0)
        assert layer.node.reset_mode == variant.reset
        assert (layer.rec is not None) == variant.recurrent


def test_state_is_cleared_between_forward_passes():
    model = build_snn(3, [8], 2, "IF-noreset")
    x = torch.rand(5, 2, 3)
    assert torch.equal(model(x), model(x))


def test_recurrent_layer_matches_equation():
    torch.manual_seed(0)
    layer = SpikingLinear(3, 4, decay=0.5, reset="hard", recurrent=True)
    x = torch.rand(6, 2, 3) * 2
    spikes = layer(x)
    v, s = torch.zeros(2, 4), torch.zeros(2, 4)
    for t in range(6):  # H = λV + W_in x + b + W_rec S[t-1]
        h = 0.5 * v + layer.fc(x[t]) + layer.rec(s)
        s = (h > 1).float()
        v = h * (1 - s)
        assert torch.equal(spikes[t], s)


def test_readout_is_leaky_integrator_averaged_over_window():
    readout = LeakyReadout(2, 1, decay=0.5)
    with torch.no_grad():
        readout.fc.weight.fill_(1.0)
        readout.fc.bias.zero_()
    x = torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]], [[1.0, 1.0]]])  # currents 1, 0, 2
    u = readout.membrane(x).flatten().tolist()
    assert u == pytest.approx([1.0, 0.5, 2.25])
    assert readout(x, slice(1, 3)).item() == pytest.approx((0.5 + 2.25) / 2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(hidden_sizes=[]), "hidden_sizes"),
    (dict(hidden_sizes=[0]), "hidden_sizes"),
    (dict(variant="XLIF"), "unknown variant"),
    (dict(decay=2.0), "decay"),
    (dict(readout_decay=-1.0), "decay"),
])
def test_bad_model_parameters(kwargs, match):
    args = dict(n_inputs=3, hidden_sizes=[4], n_outputs=2)
    with pytest.raises(ValueError, match=match):
        build_snn(**{**args, **kwargs})


def test_readout_weights_hand_worked():
    from snnlib.model.layers import readout_weights

    # λ = 0.5, T = 3, window {1, 2}: a[s] = (1/2) Σ_{t∈{1,2}, t≥s} 0.5^(t-s)
    assert readout_weights(3, slice(1, 3), 0.5).tolist() == pytest.approx([0.375, 0.75, 0.5])
    assert readout_weights(4, slice(None), 0.0).tolist() == pytest.approx([0.25] * 4)  # no leak: the plain mean
    both = readout_weights(4, (slice(0, 2), slice(2, 4)), 1.0)
    assert both.shape == (2, 4) and both[1].tolist() == pytest.approx([1.0, 1.0, 1.0, 0.5])  # λ = 1: all of the past
    with pytest.raises(ValueError, match="selects no step"):
        readout_weights(3, slice(5, 6), 0.5)


@pytest.mark.parametrize("name", ["LIF", "RIF-soft"])
def test_logits_equal_the_averaged_membrane(name):
    model = build_snn(4, [9], 3, name, readout_decay=0.7)
    x = torch.rand(10, 5, 4) * 2
    for window in (slice(None), slice(4, 10), slice(0, 1)):
        assert torch.allclose(model(x, window), model.membrane(x)[window].mean(0), atol=1e-5)
    windows = (slice(0, 5), slice(5, 10))
    logits = model(x, windows)
    assert logits.shape == (2, 5, 3)
    assert all(torch.allclose(logits[k], model(x, w), atol=1e-6) for k, w in enumerate(windows))


@pytest.mark.parametrize("name", ["LIF-soft", "RLIF"])
def test_backends_give_the_same_network_outputs(name):
    fused = build_snn(4, [9, 7], 3, name, store_v_seq=True)
    hooks = build_snn(4, [9, 7], 3, name, store_v_seq=True, backend="torch")
    hooks.load_state_dict(fused.state_dict())
    x = torch.rand(10, 5, 4) * 2
    assert torch.equal(fused(x), hooks(x))
    for a, b in zip(fused.layers, hooks.layers):
        assert a.node.backend == "fused" and b.node.backend == "torch"
        assert torch.equal(a.node.v_seq, b.node.v_seq)
