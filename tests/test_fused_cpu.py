"""The compiled CPU kernels of the fused loop against its tensor loop (``kernel="torch"``): spikes and
membranes bit for bit, gradients to float tolerance, in every case the kernels take; and the calls they
leave to the tensor loop."""

import itertools

import pytest
import torch

from snnlib.model import fused_cpu
from snnlib.model.fused import Dynamics, lif_sequence
from snnlib.model.neurons import StrictATan, StrictSigmoid

SURROGATES = {"atan": StrictATan(), "sigmoid": StrictSigmoid(alpha=4.0)}
CASES = list(itertools.product(("hard", "soft", "none", None), SURROGATES, (False, True), (False, True),
                               (False, True), (0, 3)))


def _dynamics(reset, surrogate, members, gain, dtype):
    """Constants for one run (``members`` 0: a single network, time first) or three stacked members
    with their own λ (0, 0.6 and 1), θ, ρ and, for ``reset=None``, reset modes."""
    sur = SURROGATES[surrogate]
    col = lambda *v: torch.tensor(v, dtype=dtype).view(-1, 1, 1)  # noqa: E731
    if members:
        lam, theta, keep = col(0.0, 0.6, 1.0), col(1.0, 0.8, 1.1), col(1.0, 0.0, 0.5)
        kappa = dict(kappa_hard=col(1.0, 0.0, 0.0), kappa_soft=col(0.0, 1.0, 0.0)) if reset is None else {}
    else:
        lam, theta, keep = 0.6, 1.0, 0.5
        kappa = dict(kappa_hard=torch.tensor(1.0, dtype=dtype), kappa_soft=torch.tensor(0.0, dtype=dtype)) \
            if reset is None else {}
    return Dynamics(decay=lam, threshold=theta, reset=reset, derivative=sur.derivative, keep_reset=keep,
                    formula=sur.formula, input_gain=(1 - lam) if gain else None, **kappa)


def _both(dyn, members, recurrent, keep, with_v0, dtype, seed=0, steps=7, on_membranes=True):
    """Outputs and gradients of the compiled kernels and of the tensor loop on the same inputs; the loss
    weighs the spikes and, with ``on_membranes``, the membranes (else the kernels' one-loop backward runs)."""
    g = torch.Generator().manual_seed(seed)
    batch, n = 5, 6
    lead = (members,) if members else ()
    current = torch.randn(*lead[:1], steps, batch, n, generator=g, dtype=dtype) * 0.8 + 0.4
    w_rec = torch.randn(*lead, n, n, generator=g, dtype=dtype) * 0.4 if recurrent else None
    v0 = torch.randn(*lead, batch, n, generator=g, dtype=dtype) if with_v0 else None
    results = []
    for kernel in ("auto", "torch"):
        inputs = [x.clone().requires_grad_(True) if x is not None else None for x in (current, w_rec, v0)]
        c, w, v_init = inputs
        spikes, v = lif_sequence(c, dyn, v0=v_init, w_rec=w, time_dim=1 if members else 0,
                                 keep_membranes=keep, kernel=kernel)
        probe = torch.Generator().manual_seed(1)
        loss = (spikes * torch.randn(spikes.shape, generator=probe, dtype=dtype)).sum()
        if on_membranes:
            loss = loss + (v * torch.randn(v.shape, generator=probe, dtype=dtype)).sum()
        wanted = [x for x in inputs if x is not None]
        results.append((spikes.detach(), v.detach(), torch.autograd.grad(loss, wanted)))
    return results


@pytest.mark.parametrize("reset,surrogate,recurrent,keep,gain,members", CASES)
def test_compiled_kernels_equal_the_tensor_loop(reset, surrogate, recurrent, keep, gain, members):
    dyn = _dynamics(reset, surrogate, members, gain, torch.float32)
    for with_v0 in (False, True):
        (s_a, v_a, g_a), (s_b, v_b, g_b) = _both(dyn, members, recurrent, keep, with_v0, torch.float32)
        assert s_a.sum() > 0 and (s_a == 0).any()  # the case has spikes and silences
        assert torch.equal(s_a, s_b) and torch.equal(v_a, v_b)
        for a, b in zip(g_a, g_b):
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reset,surrogate,recurrent,gain,members",
                         list(itertools.product(("hard", "soft", "none", None), SURROGATES, (False, True),
                                                (False, True), (0, 3))))
def test_a_loss_on_spikes_alone_takes_the_one_loop_backward(reset, surrogate, recurrent, gain, members):
    """The usual case, the gradient arriving at the spikes only: D, A and gH in one loop per step."""
    dyn = _dynamics(reset, surrogate, members, gain, torch.float32)
    (s_a, v_a, g_a), (s_b, v_b, g_b) = _both(dyn, members, recurrent, False, False, torch.float32,
                                             on_membranes=False)
    assert s_a.sum() > 0 and (s_a == 0).any()
    assert torch.equal(s_a, s_b) and torch.equal(v_a, v_b)
    for a, b in zip(g_a, g_b):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("recurrent", [False, True])
def test_short_sequences_and_the_last_membrane_alone(steps, recurrent):
    """One, two and three steps (the kept last membrane lives in two rows used in turn): the same spikes,
    last membrane and gradients as the tensor loop, and as the kernels keeping every membrane."""
    dyn = _dynamics("soft", "atan", 0, False, torch.float32)
    runs = [_both(dyn, 0, recurrent, keep, True, torch.float32, seed=2, steps=steps) for keep in (False, True)]
    (last_a, last_b), (all_a, all_b) = runs
    for s_, v_, g_ in (last_b, all_a, all_b):
        assert torch.equal(last_a[0], s_)
        assert torch.equal(last_a[1], v_[-1] if v_.dim() == 3 else v_)
    for a, b in zip(last_a[2], last_b[2]):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("recurrent", [False, True])
def test_compiled_gradients_in_float64(recurrent):
    dyn = _dynamics("hard", "sigmoid", 3, True, torch.float64)
    (s_a, v_a, g_a), (s_b, v_b, g_b) = _both(dyn, 3, recurrent, False, True, torch.float64, seed=4)
    assert torch.equal(s_a, s_b) and torch.equal(v_a, v_b)
    for a, b in zip(g_a, g_b):
        assert torch.allclose(a, b, rtol=1e-11, atol=1e-12)


def test_one_step_worked_by_hand():
    """λ = 0.5, θ = 1, hard reset, I = 0.6 at t = 0, 1, 2: H = 0.6, 0.9, 1.05, a spike at t = 2 (V = 0).
    The gradient of S[2] alone, with σ'(z) = 1 / (1 + (π z)²) (atan, α = 2) and A = 1 - S - ρ H σ'
    (ρ = 1): gH[2] = σ'(0.05), gH[1] = λ A[1] gH[2], gH[0] = λ A[0] gH[1]."""
    sur = StrictATan()
    dyn = Dynamics(decay=0.5, threshold=1.0, reset="hard", derivative=sur.derivative, formula=sur.formula)
    current = torch.full((3, 1, 1), 0.6, dtype=torch.float64, requires_grad=True)
    spikes, v = lif_sequence(current, dyn)
    assert spikes.flatten().tolist() == [0.0, 0.0, 1.0]
    assert v.flatten().tolist() == pytest.approx([0.6, 0.9, 0.0])
    (g,) = torch.autograd.grad(spikes[2].sum(), current)
    d = lambda z: 1.0 / (1.0 + (torch.pi * z / 2 * 2.0) ** 2)  # noqa: E731  σ'(z), α = 2
    g2 = d(1.05 - 1.0)
    a1 = 1.0 - 0.0 - 0.9 * d(0.9 - 1.0)  # A = 1 - S - ρ H D at t = 1 (no spike)
    g1 = 0.5 * a1 * g2
    a0 = 1.0 - 0.0 - 0.6 * d(0.6 - 1.0)
    assert g.flatten().tolist() == pytest.approx([0.5 * a0 * g1, g1, g2], rel=1e-12)


def test_calls_the_kernels_cannot_run_go_to_the_tensor_loop():
    sur = StrictATan()
    current = torch.randn(4, 2, 3)
    plain = Dynamics(decay=0.5, threshold=1.0, reset="hard", derivative=sur.derivative, formula=sur.formula)
    assert fused_cpu.layout(current, plain, 0, None) is not None
    no_formula = Dynamics(decay=0.5, threshold=1.0, reset="hard", derivative=sur.derivative)
    assert fused_cpu.layout(current, no_formula, 0, None) is None
    other = Dynamics(decay=0.5, threshold=1.0, reset="hard", derivative=sur.derivative,
                     formula=lambda: ("triangle", 1.0))
    assert fused_cpu.layout(current, other, 0, None) is None
    per_neuron = Dynamics(decay=0.5, threshold=torch.tensor([1.0, 0.9, 1.1]), reset="hard",
                          derivative=sur.derivative, formula=sur.formula)
    assert fused_cpu.layout(current, per_neuron, 0, None) is None
    assert fused_cpu.layout(current.half(), plain, 0, None) is None
    spikes, _ = lif_sequence(current, per_neuron)  # still runs, through the tensor loop: S[0] = [I[0] > θ]
    assert torch.equal(spikes[0], (current[0] > per_neuron.threshold).to(current))


def test_bad_kernel_is_refused():
    sur = StrictATan()
    dyn = Dynamics(decay=0.5, threshold=1.0, reset="hard", derivative=sur.derivative, formula=sur.formula)
    with pytest.raises(ValueError, match="kernel must be one of"):
        lif_sequence(torch.zeros(2, 1, 1), dyn, kernel="numba")
