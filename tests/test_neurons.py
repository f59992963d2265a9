"""VariantNode against membrane sequences worked out by hand from the node's equations, and against snnTorch."""

import pytest
import snntorch
import torch

from snnlib.model.neurons import StrictATan, VariantNode

CURRENTS = [0.6, 0.6, 0.6, 0.0, 1.2]


def drive(decay, reset, currents=CURRENTS, threshold=1.0):
    node = VariantNode(decay=decay, reset=reset, threshold=threshold, store_v_seq=True)
    x = torch.tensor(currents).reshape(-1, 1)  # [T, B=1]
    spikes = node(x)
    return spikes.flatten().tolist(), [round(v, 6) for v in node.v_seq.flatten().tolist()]


# Each row: decay, reset, expected spikes, expected post-reset membranes V[t].
# H[t] = λ V[t-1] + I[t]; S = [H > 1]; hard: V = H(1-S); soft: V = H - S; none: V = H.
HAND_WORKED = [
    # λ = 1 (IF). H: 0.6, 1.2 -> spike.
    (1.0, "none", [0, 1, 1, 1, 1], [0.6, 1.2, 1.8, 1.8, 3.0]),            # no leak, no reset: accumulates
    (1.0, "hard", [0, 1, 0, 0, 1], [0.6, 0.0, 0.6, 0.6, 0.0]),            # H: .6, 1.2*, .6, .6, 1.8*
    (1.0, "soft", [0, 1, 0, 0, 1], [0.6, 0.2, 0.8, 0.8, 1.0]),            # H: .6, 1.2*, .8, .8, 2.0* -> 1.0
    # λ = 0.5. H: 0.6, 0.9, 1.05*, ...
    (0.5, "none", [0, 0, 1, 0, 1], [0.6, 0.9, 1.05, 0.525, 1.4625]),
    (0.5, "hard", [0, 0, 1, 0, 1], [0.6, 0.9, 0.0, 0.0, 0.0]),            # H: .6, .9, 1.05*, 0, 1.2*
    (0.5, "soft", [0, 0, 1, 0, 1], [0.6, 0.9, 0.05, 0.025, 0.2125]),      # H: .6, .9, 1.05*, .025, 1.2125*
    # λ = 0: memoryless, H = I.
    (0.0, "none", [0, 0, 0, 0, 1], [0.6, 0.6, 0.6, 0.0, 1.2]),
    (0.0, "hard", [0, 0, 0, 0, 1], [0.6, 0.6, 0.6, 0.0, 0.0]),
    (0.0, "soft", [0, 0, 0, 0, 1], [0.6, 0.6, 0.6, 0.0, 0.2]),
]


@pytest.mark.parametrize("decay,reset,spikes,membrane", HAND_WORKED)
def test_dynamics_match_hand_worked_sequences(decay, reset, spikes, membrane):
    got_spikes, got_membrane = drive(decay, reset)
    assert got_spikes == spikes
    assert got_membrane == pytest.approx(membrane, abs=1e-6)


def test_threshold_is_strict():
    spikes, membrane = drive(1.0, "none", currents=[0.5, 0.5, 0.5])
    assert spikes == [0, 0, 1]  # H = 1.0 exactly does not fire; 1.5 does
    assert membrane == pytest.approx([0.5, 1.0, 1.5])


def test_no_leak_no_reset_is_cumulative_sum():
    x = torch.rand(30, 4, 3)
    node = VariantNode(decay=1.0, reset="none", store_v_seq=True)
    node(x)
    assert torch.allclose(node.v_seq, x.cumsum(0), atol=1e-5)


def test_hard_reset_zeroes_after_every_spike():
    x = torch.rand(40, 8, 5) * 1.5
    node = VariantNode(decay=0.7, reset="hard", store_v_seq=True)
    spikes = node(x)
    assert spikes.sum() > 0
    assert torch.all(node.v_seq[spikes.bool()] == 0)


def test_soft_reset_subtracts_threshold():
    x = torch.rand(40, 8, 5) * 1.5
    node = VariantNode(decay=0.7, reset="soft", threshold=0.8, store_v_seq=True)
    spikes = node(x)
    h = torch.zeros_like(x[0])
    for t in range(len(x)):
        h = 0.7 * h + x[t]
        h = h - 0.8 * spikes[t]
        assert torch.allclose(node.v_seq[t], h, atol=1e-5)


def test_shapes_and_single_step_mode():
    x = torch.rand(6, 3, 2, 4)
    node = VariantNode(decay=0.5, reset="hard")
    assert node(x).shape == x.shape
    single = VariantNode(decay=0.5, reset="hard", step_mode="s", store_v_seq=True)
    out = torch.stack([single(x_t) for x_t in x])
    node.reset()  # the node is stateful: without a reset it would continue from the last call
    assert torch.equal(out, node(x))
    assert single.v_seq.shape == x.shape


def test_state_carries_over_until_reset():
    node = VariantNode(decay=1.0, reset="none")
    x = torch.full((3, 1), 0.4)
    first = node(x)                     # H = .4, .8, 1.2
    assert first.flatten().tolist() == [0, 0, 1]
    assert node(x).flatten().tolist() == [1, 1, 1]  # continues from V = 1.2
    node.reset()
    assert torch.equal(node(x), first)


@pytest.mark.parametrize("reset,mechanism,decay", [
    ("hard", "zero", 0.0), ("hard", "zero", 0.5), ("hard", "zero", 0.9), ("hard", "zero", 1.0),
    ("none", "none", 0.0), ("none", "none", 0.5), ("none", "none", 1.0),
    ("soft", "subtract", 1.0),
])
def test_agrees_with_snntorch_leaky(reset, mechanism, decay):
    torch.manual_seed(1)
    x = torch.rand(60, 16, 10) * 1.3
    x[:6] = 0.5  # exact threshold crossings at λ = 1
    ours = VariantNode(decay=decay, reset=reset)(x)
    leaky = snntorch.Leaky(beta=decay, reset_mechanism=mechanism)
    mem, theirs = leaky.init_leaky(), []
    for x_t in x:
        spk, mem = leaky(x_t, mem)
        theirs.append(spk)
    assert torch.equal(ours, torch.stack(theirs))


def test_surrogate_gradient_flows():
    x = (torch.rand(10, 4, 3) * 1.5).requires_grad_()
    VariantNode(decay=0.5, reset="hard")(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_strict_atan_forward_and_gradient():
    z = torch.tensor([-1.0, 0.0, 1e-6, 2.0], requires_grad=True)
    s = StrictATan()(z)
    assert s.tolist() == [0.0, 0.0, 1.0, 1.0]
    s.sum().backward()
    assert z.grad[1] == pytest.approx(1.0)  # alpha / 2 at z = 0 with alpha = 2


@pytest.mark.parametrize("kwargs,match", [
    (dict(decay=1.5), r"decay must be a number in \[0, 1\]"),
    (dict(decay=-0.1), r"decay must be a number in \[0, 1\]"),
    (dict(decay="x"), r"decay"),
    (dict(decay=0.5, reset="zero"), r"reset must be one of \('hard', 'soft', 'none'\)"),
    (dict(decay=0.5, threshold=0), r"threshold must be a number > 0"),
    (dict(decay=0.5, threshold=-1.0), r"threshold must be a number > 0"),
    (dict(decay=0.5, step_mode="x"), r"step_mode must be one of"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VariantNode(**kwargs)
