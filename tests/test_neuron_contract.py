"""Every registered neuron model meets the contract (tests/neuron_checks.py); the models' own equations
against hand-worked values and other libraries; a new model defined, registered and trained in a test."""

import math

import pytest
import torch
from torch import nn

import snnlib
from snnlib.model import registry
from snnlib.model.dynamics import LIF, NeuronDynamics, register_neuron
from snnlib.model.neurons import VariantNode
from snnlib.model.variants import Variant
from tests.neuron_checks import check_alone_equals_in_a_group, check_neuron, check_sequence_paths_agree

FORMS = [(name, form) for name in registry.names() for form in ("", "R")]


@pytest.mark.parametrize("name,recurrent", FORMS)
@pytest.mark.parametrize("reset", ["", "-soft", "-noreset"])
def test_hook_path_sequence_path_and_step_loop_agree(name, recurrent, reset):
    check_sequence_paths_agree(recurrent + name + reset)
    check_sequence_paths_agree(recurrent + name + reset, detach=True)


@pytest.mark.parametrize("name,recurrent", FORMS)
def test_a_run_alone_equals_the_same_run_in_a_group(name, recurrent):
    check_alone_equals_in_a_group(recurrent + name)


def drive(neuron, currents, **params):
    node = VariantNode(neuron=neuron, store_v_seq=True, size=1, **params)
    spikes = node(torch.tensor(currents).reshape(-1, 1, 1))
    return spikes.flatten().tolist(), [round(v, 6) for v in node.v_seq.flatten().tolist()]


def test_gain_normalised_lif_hand_worked():
    # λ = 0.5: H = 0.5 V + 0.5 I. I = 1.6: H = 0.8, 1.2* -> 0 (hard), 0.8, 1.2* ; the steady drive is I.
    spikes, v = drive("LIF", [1.6] * 4, decay=0.5, gain_normalised=True)
    assert spikes == [0, 1, 0, 1] and v == pytest.approx([0.8, 0.0, 0.8, 0.0])
    _, v = drive("LIF", [0.6] * 30, decay=0.9, reset="none", gain_normalised=True)
    assert v[-1] == pytest.approx(0.6 * (1 - 0.9 ** 30), abs=1e-5)  # towards I whatever λ


def test_alif_hand_worked():
    # λ = 1, θ = 1, β = 0.5, ρ = 0.5, soft reset: θ_eff = 1 + 0.5 a[t-1], a[t] = 0.5 a[t-1] + S[t].
    # I = 1.2: H 1.2 > 1* -> V 0.2, a 1; H 1.4 vs 1.5 -> V 1.4, a 0.5; H 2.6 > 1.25* -> V 1.35, a 1.25
    spikes, v = drive("ALIF", [1.2, 1.2, 1.2], decay=1.0, reset="soft", beta=0.5, rho=0.5)
    assert spikes == [1, 0, 1] and v == pytest.approx([0.2, 1.4, 1.35])


@pytest.mark.parametrize("reset", ["hard", "soft", "none"])
@pytest.mark.parametrize("recurrent", [False, True])
def test_alif_without_adaptation_is_lif(reset, recurrent):
    x = torch.rand(12, 3, 4, generator=torch.Generator().manual_seed(2)) * 2
    outs = []
    for neuron, extra in (("LIF", {}), ("ALIF", {"beta": 0.0})):
        torch.manual_seed(0)
        layer = snnlib.build_snn(4, [5], 2, Variant(neuron, reset, recurrent), decay=0.8, store_v_seq=True,
                                 neuron_params=extra).layers[0]
        with torch.no_grad():
            layer.fc.weight.mul_(3.0)
        outs.append((layer(x), layer.node.v_seq))
    assert 0 < outs[0][0].mean() < 1
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1], outs[1][1])


def test_frozen_plif_is_gain_normalised_lif():
    x = torch.rand(15, 3, 6, generator=torch.Generator().manual_seed(3)) * 2
    plif = VariantNode(neuron="PLIF", decay=0.8, size=6, learn=False, store_v_seq=True)
    lam = float(plif.dynamics.decay[0])
    assert abs(lam - 0.8) < 1e-6 and not plif.dynamics.w.requires_grad
    lif = VariantNode(neuron="LIF", decay=lam, gain_normalised=True, store_v_seq=True)
    assert torch.equal(plif(x), lif(x)) and torch.equal(plif.v_seq, lif.v_seq)


def test_plif_matches_spikingjelly_parametric_lif():
    from spikingjelly.activation_based.neuron import ParametricLIFNode
    from spikingjelly.activation_based import surrogate

    x = torch.rand(20, 4, 6, generator=torch.Generator().manual_seed(4)) * 2
    ours = VariantNode(neuron="PLIF", decay=0.75, size=6, store_v_seq=True)
    # SpikingJelly: H = V + (X - V) / τ with 1/τ = sigmoid(w); ours: λ = 1 - 1/τ, so τ = 1 / (1 - λ) = 4
    theirs = ParametricLIFNode(init_tau=4.0, decay_input=True, v_reset=0.0, step_mode="m", store_v_seq=True,
                               surrogate_function=surrogate.ATan())
    s_ours, s_theirs = ours(x), theirs(x)
    assert torch.allclose(ours.v_seq, theirs.v_seq, atol=1e-5)
    assert (s_ours != s_theirs).float().mean() < 0.01  # rounding can only flip a spike sitting on θ


def test_plif_learns_its_leak_and_keeps_it_per_neuron():
    result = snnlib.run(dict(task="delayed-recall", variant="PLIF", decay=0.5, hidden=[16], epochs=2, seed=0,
                             device="cpu", task_params=dict(delay=4, n_train=128, n_test=64)))
    assert result["test_accuracy"] >= 0.0
    _, model = snnlib.trained_model(dict(task="delayed-recall", variant="PLIF", decay=0.5, hidden=[16], epochs=2,
                                         seed=0, device="cpu", task_params=dict(delay=4, n_train=128, n_test=64)))
    lam = model.layers[0].node.decay
    assert lam.shape == (16,) and not torch.allclose(lam, torch.full((16,), 0.5))


class LearnedLeak(NeuronDynamics):
    """A new neuron model in a few lines: LIF with a learned per-neuron λ = sigmoid(w), raw input."""

    def __init__(self, size=None, decay=0.5, reset="hard", threshold=1.0, detach_reset=False):
        super().__init__(size, reset, threshold, detach_reset)
        self.w = nn.Parameter(torch.full((size,), math.log(decay / (1 - decay))))

    def charge(self, current, state):
        return torch.mul(state["v"], torch.sigmoid(self.w)).add_(current)


@pytest.fixture
def learned_leak():
    register_neuron("LL", LearnedLeak)
    yield "LL"
    registry._NEURONS.pop("LL")


def test_a_new_neuron_meets_the_contract_and_trains_through_run(learned_leak):
    check_neuron(learned_leak)
    common = dict(task="delayed-recall", decay=0.6, hidden=[12], epochs=2, device="cpu",
                  task_params=dict(delay=2, n_train=96, n_test=48))
    from snnlib.study.experiment import run_group

    for form in ("LL", "RLL"):
        alone = snnlib.run(dict(common, variant=form, seed=1))
        group = run_group([dict(common, variant=form + "-soft", seed=2), dict(common, variant=form, seed=1)])
        for metrics in (alone, group[1]):
            metrics.pop("train_seconds")
        assert alone == group[1]


def test_register_neuron_refuses_what_is_not_a_model():
    with pytest.raises(ValueError, match="NeuronDynamics subclass"):
        register_neuron("Foo", object)
    assert issubclass(LIF, NeuronDynamics)


@pytest.mark.parametrize("variant, params, match", [
    ("ALIF", {"beta": -1}, "neuron_params' of ALIF: beta must be a number >= 0"),
    ("ALIF", {"rho": 1.5}, r"neuron_params' of ALIF: rho must be a number in \[0.0, 1.0\], got 1.5"),
    ("ALIF", {"gamma": 1}, r"ALIF takes \['gain_normalised', 'beta', 'rho'\], got \['gamma'\]"),
    ("RLIF", {"beta": 0.1}, r"LIF takes \['gain_normalised'\], got \['beta'\]"),
])
def test_bad_neuron_params_are_refused_before_training(variant, params, match):
    from snnlib.study.experiment import validate

    with pytest.raises(ValueError, match=match):
        validate(dict(variant=variant, neuron_params=params))


@pytest.mark.parametrize("variant", ["LIF", "RLIF", "LIF-soft", "RLIF-noreset"])
@pytest.mark.parametrize("decay", [0.5, 0.9])
def test_gain_normalisation_is_a_reparametrisation_of_the_weights(variant, decay):
    """H = λV + (1-λ)(W x + b + W_rec S) with weights W/(1-λ) is H = λV + W x + b + W_rec S: for λ < 1 the
    gain-normalised and the raw reading describe the same networks; they differ in how training finds them
    (the initial scale and the effective step of the weights), and λ = 1 has no normalised counterpart."""
    torch.manual_seed(0)
    raw = snnlib.build_snn(6, [7, 5], 3, variant, decay=decay).double()
    normalised = snnlib.build_snn(6, [7, 5], 3, variant, decay=decay,
                                  neuron_params=dict(gain_normalised=True)).double()
    with torch.no_grad():
        for a, b in zip(raw.layers, normalised.layers):
            b.fc.weight.copy_(a.fc.weight / (1 - decay))
            b.fc.bias.copy_(a.fc.bias / (1 - decay))
            if a.recurrent:
                b.rec.weight.copy_(a.rec.weight / (1 - decay))
        normalised.readout.load_state_dict(raw.readout.state_dict())
    x = torch.rand(20, 4, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 3
    logits_raw, logits_normalised = raw(x), normalised(x)
    assert any(s.sum() > 0 for s in raw.last_spikes)  # the test drives spikes
    for a, b in zip(raw.last_spikes, normalised.last_spikes):
        assert torch.equal(a, b)
    assert torch.allclose(logits_raw, logits_normalised, atol=1e-9)
