"""The fused time loop against the hook-by-hook path of the same node: spikes and membranes exactly,
gradients (input, W_in, bias, W_rec, initial state) to float tolerance, in float32 and float64."""

import itertools

import pytest
import torch
from spikingjelly.activation_based import surrogate

from snnlib.model.fused import Dynamics, lif_sequence
from snnlib.model.layers import SpikingLinear
from snnlib.model.neurons import StrictATan, StrictSigmoid, VariantNode

CASES = list(itertools.product(("hard", "soft", "none"), (0.0, 0.5, 1.0), (False, True), (False, True)))


def pair(reset, decay, recurrent, detach, dtype=torch.float32, threshold=1.0, n_in=5, n=6, **params):
    """Two layers with the same weights, one per backend."""
    layers = []
    for backend in ("fused", "torch"):
        torch.manual_seed(0)
        layer = SpikingLinear(n_in, n, decay=decay, reset=reset, recurrent=recurrent, threshold=threshold,
                              store_v_seq=True, backend=backend, **params).to(dtype)
        if recurrent:
            with torch.no_grad():
                layer.rec.weight.mul_(2.0)  # strong enough recurrence to change the spikes
        layer.node.detach_reset = detach
        layers.append(layer)
    return layers


def run(layer, x, probes):
    """Spikes, membranes and the gradients of a loss that reads both."""
    x = x.clone().requires_grad_(True)
    layer.node.reset()
    spikes = layer(x)
    v = layer.node.v_seq
    (spikes * probes[0] + v * probes[1]).sum().backward()
    grads = {"x": x.grad, **{name: p.grad for name, p in layer.named_parameters()}}
    return spikes.detach(), v.detach(), grads


def inputs(dtype, T=12, B=4, n_in=5, n=6, seed=1):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(T, B, n_in, generator=gen, dtype=dtype) * 1.6)
    probes = (torch.randn(T, B, n, generator=gen, dtype=dtype), torch.randn(T, B, n, generator=gen, dtype=dtype))
    return x, probes


@pytest.mark.parametrize("reset,decay,recurrent,detach", CASES)
def test_fused_equals_hook_path(reset, decay, recurrent, detach):
    fused, hook = pair(reset, decay, recurrent, detach)
    x, probes = inputs(torch.float32)
    s_f, v_f, g_f = run(fused, x, probes)
    s_h, v_h, g_h = run(hook, x, probes)
    assert 0 < s_h.mean() < 1
    assert torch.equal(s_f, s_h)
    assert torch.equal(v_f, v_h)
    assert g_f.keys() == g_h.keys()
    for name in g_h:
        assert torch.allclose(g_f[name], g_h[name], rtol=1e-5, atol=1e-5), name


@pytest.mark.parametrize("reset,decay,recurrent,detach", CASES)
def test_fused_gradients_in_float64(reset, decay, recurrent, detach):
    fused, hook = pair(reset, decay, recurrent, detach, dtype=torch.float64, threshold=0.8)
    x, probes = inputs(torch.float64, seed=2)
    s_f, v_f, g_f = run(fused, x, probes)
    s_h, v_h, g_h = run(hook, x, probes)
    assert torch.equal(s_f, s_h) and torch.equal(v_f, v_h)
    for name in g_h:
        assert torch.allclose(g_f[name], g_h[name], rtol=1e-12, atol=1e-12), name


@pytest.mark.parametrize("decay", [0.0, 0.5, 1.0])
def test_gradcheck_of_membrane_without_reset(decay):
    """With no reset the membrane is smooth in the current, so numerical derivatives apply."""
    dyn = Dynamics(decay=decay, threshold=1.0, reset="none", derivative=StrictATan().derivative)
    current = (torch.rand(7, 2, 3, dtype=torch.float64) * 1.5).requires_grad_(True)
    v0 = torch.rand(2, 3, dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda i, v: lif_sequence(i, dyn, v0=v)[1], (current, v0))


def test_state_carries_over_with_gradient():
    """Two sequences without a reset: the second starts from the first's last membrane, gradient included."""
    results = []
    for backend in ("fused", "torch"):
        node = VariantNode(decay=0.8, reset="soft", backend=backend)
        x = (torch.rand(6, 3, 4, generator=torch.Generator().manual_seed(3)) * 1.2).requires_grad_(True)
        out = torch.cat([node(x[:3]), node(x[3:])])
        (out * torch.arange(6.0)[:, None, None]).sum().backward()
        results.append((out.detach(), x.grad))
    assert torch.equal(results[0][0], results[1][0])
    assert torch.allclose(results[0][1], results[1][1], atol=1e-6)


@pytest.mark.parametrize("make", [lambda: StrictATan(alpha=0.5), lambda: StrictSigmoid(alpha=4.0)])
def test_surrogate_is_read_at_call_time(make):
    fused, hook = pair("hard", 0.5, True, False)
    x, probes = inputs(torch.float32)
    before = run(fused, x, probes)[2]["x"]
    fused.zero_grad()
    fused.node.surrogate_function, hook.node.surrogate_function = make(), make()
    after, reference = run(fused, x, probes)[2]["x"], run(hook, x, probes)[2]["x"]
    assert not torch.allclose(before, after)
    assert torch.allclose(after, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls,alpha", [(StrictATan, 2.0), (StrictATan, 0.5), (StrictSigmoid, 4.0)])
def test_derivative_matches_the_surrogate_backward(cls, alpha):
    fn = cls(alpha=alpha)
    z = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
    fn(z).sum().backward()
    assert torch.allclose(fn.derivative(z.detach()), z.grad, rtol=1e-12)
    assert fn(torch.tensor([0.0, 1e-9])).tolist() == [0.0, 1.0]  # strict step


def test_hand_worked_derivative_values():
    assert StrictATan(alpha=2.0).derivative(torch.tensor(0.0)).item() == pytest.approx(1.0)
    assert StrictATan(alpha=0.5).derivative(torch.tensor(0.0)).item() == pytest.approx(0.25)
    assert StrictSigmoid(alpha=4.0).derivative(torch.tensor(0.0)).item() == pytest.approx(1.0)


def test_surrogate_without_derivative_uses_hook_path():
    node = VariantNode(decay=0.5, surrogate=surrogate.ATan())
    assert node.fused_constants() is None
    assert VariantNode(decay=0.5, backend="torch").fused_constants() is None
    assert VariantNode(decay=0.5).fused_constants() is not None
    x = torch.rand(5, 2, 3) * 2
    assert torch.equal(node(x), VariantNode(decay=0.5, surrogate=surrogate.ATan(), backend="torch")(x))


def test_no_grad_and_frozen_parameters():
    fused, hook = pair("hard", 0.9, True, False)
    x, _ = inputs(torch.float32)
    with torch.no_grad():
        assert torch.equal(fused(x), hook(x))
    for p in fused.parameters():
        p.requires_grad_(False)
    x = x.requires_grad_(True)
    fused.node.reset()
    fused(x).sum().backward()
    assert x.grad is not None and all(p.grad is None for p in fused.parameters())


def test_per_member_constants_equal_separate_runs():
    """Members stacked on a leading axis, each with its own λ, θ, reset and detach, give exactly the
    spikes and membranes of each member run alone with plain-number constants (time axis 1:
    ``[M, T, B, n]``; a member alone is a stack of one, so its recurrent product is the same ``bmm``)."""
    members = [(0.5, 1.0, "hard", 1.0), (1.0, 0.7, "soft", 0.0), (0.0, 1.2, "none", 1.0), (0.9, 0.9, "soft", 1.0)]
    M, T, B, n = len(members), 9, 3, 4
    current = (torch.rand(M, T, B, n, generator=torch.Generator().manual_seed(5)) * 1.5).requires_grad_(True)
    w = torch.randn(M, n, n, generator=torch.Generator().manual_seed(6), requires_grad=True)
    col = lambda values: torch.tensor(values).reshape(M, 1, 1)
    dyn = Dynamics(decay=col([m[0] for m in members]), threshold=col([m[1] for m in members]), reset=None,
                   derivative=StrictATan().derivative, keep_reset=col([m[3] for m in members]),
                   kappa_hard=col([float(m[2] == "hard") for m in members]),
                   kappa_soft=col([float(m[2] == "soft") for m in members]))
    spikes, v = lif_sequence(current, dyn, w_rec=w, time_dim=1)
    probe = torch.randn(M, T, B, n, generator=torch.Generator().manual_seed(7))
    g_i, g_w = torch.autograd.grad((spikes * probe).sum() + v.sum(), (current, w))
    for m, (decay, theta, reset, keep) in enumerate(members):
        one = Dynamics(decay=decay, threshold=theta, reset=reset, derivative=StrictATan().derivative, keep_reset=keep)
        c, wm = current[m:m + 1].detach().requires_grad_(True), w[m:m + 1].detach().requires_grad_(True)
        s_m, v_m = lif_sequence(c, one, w_rec=wm, time_dim=1)
        assert torch.equal(s_m[0], spikes[m]) and torch.equal(v_m[0], v[m])
        gi_m, gw_m = torch.autograd.grad((s_m * probe[m]).sum() + v_m.sum(), (c, wm))
        assert torch.allclose(gi_m[0], g_i[m], atol=1e-6) and torch.allclose(gw_m[0], g_w[m], atol=1e-6)


def test_bad_backend_raises():
    with pytest.raises(ValueError, match=r"backend must be one of \('fused', 'torch'\)"):
        VariantNode(decay=0.5, backend="cupy")


@pytest.mark.parametrize("reset", ["none", "hard"])
def test_per_member_decay_with_a_single_reset_mode(reset):
    """Per-member λ and θ tensors with one reset mode for all (the ensemble's common case)."""
    M, T, B, n = 3, 8, 2, 5
    current = (torch.rand(M, T, B, n, generator=torch.Generator().manual_seed(8)) * 1.5).requires_grad_(True)
    col = lambda values: torch.tensor(values).reshape(M, 1, 1)
    dyn = Dynamics(decay=col([0.0, 0.5, 1.0]), threshold=col([1.0, 0.8, 1.1]), reset=reset,
                   derivative=StrictATan().derivative)
    spikes, v = lif_sequence(current, dyn, time_dim=1)
    (g,) = torch.autograd.grad((spikes + v).sum(), (current,))
    for m, (decay, theta) in enumerate([(0.0, 1.0), (0.5, 0.8), (1.0, 1.1)]):
        c = current[m].detach().requires_grad_(True)
        node = VariantNode(decay=decay, reset=reset, threshold=theta, backend="torch", store_v_seq=True)
        s_m = node(c)
        assert torch.equal(s_m, spikes[m]) and torch.equal(node.v_seq, v[m])
        (g_m,) = torch.autograd.grad((s_m + node.v_seq).sum(), (c,))
        assert torch.allclose(g_m, g[m], atol=1e-5)


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("reset", ["hard", "soft", "none", None])
def test_the_backward_does_not_depend_on_its_chunk_of_steps(monkeypatch, recurrent, reset):
    """The reverse loop computes the local terms chunk by chunk; any chunk size gives the same bits."""
    from snnlib.model import fused

    g = torch.Generator().manual_seed(3)
    members = 3
    column = lambda *v: torch.tensor(v).reshape(-1, 1, 1)  # noqa: E731
    kappa = dict(kappa_hard=column(1.0, 0.0, 0.0), kappa_soft=column(0.0, 1.0, 0.0)) if reset is None else {}
    dyn = Dynamics(decay=column(0.5, 0.9, 1.0), threshold=column(1.0, 0.8, 1.2), reset=reset,
                   derivative=StrictATan().derivative, keep_reset=column(1.0, 0.0, 1.0), **kappa)
    current = torch.randn(members, 9, 4, 5, generator=g) * 1.5
    w_rec = torch.randn(members, 5, 5, generator=g) * 0.5 if recurrent else None
    grads = []
    for chunk in (1, 120, 1 << 20):  # one step (60 elements), two steps, the whole sequence at a time
        monkeypatch.setattr(fused, "CHUNK_ELEMENTS", chunk)
        c = current.clone().requires_grad_(True)
        w = w_rec.clone().requires_grad_(True) if recurrent else None
        spikes, v = lif_sequence(c, dyn, w_rec=w, time_dim=1)
        loss = (spikes * torch.linspace(-1, 1, spikes.numel()).view_as(spikes)).sum() + v.square().sum()
        grads.append(torch.autograd.grad(loss, [c] + ([w] if recurrent else [])))
    for other in grads[1:]:
        assert all(torch.equal(a, b) for a, b in zip(grads[0], other))


@pytest.mark.parametrize("reset,recurrent", list(itertools.product(("hard", "soft", "none"), (False, True))))
def test_gain_normalised_runs_fused_and_equals_the_hook_path(reset, recurrent):
    """``H = λ V + (1 - λ) I``: the fused path scales the current (recurrent: inside the loop, after
    ``W_rec S[t-1]`` is added), giving the hook path's spikes and membranes exactly."""
    fused, hook = pair(reset, 0.5, recurrent, False, threshold=0.4, gain_normalised=True)
    assert fused.node.fused_constants() is not None and fused.node.fused_constants().input_gain is not None
    x, probes = inputs(torch.float32)
    s_f, v_f, g_f = run(fused, x, probes)
    s_h, v_h, g_h = run(hook, x, probes)
    assert 0 < s_h.mean() < 1
    assert torch.equal(s_f, s_h) and torch.equal(v_f, v_h)
    for name in g_h:
        assert torch.allclose(g_f[name], g_h[name], rtol=1e-5, atol=1e-5), name
    plain, _ = pair(reset, 0.5, recurrent, False, threshold=0.4)
    plain.node.reset()
    assert not torch.equal(plain(x), s_f)  # the gain changes the spikes: it is applied


@pytest.mark.parametrize("recurrent", [False, True])
def test_gain_normalised_per_member_gain_in_float64(recurrent):
    """Per-member gains ``1 - λ`` ([M, 1, 1]) against each member run alone through the hook path."""
    M, T, B, n = 3, 8, 2, 4
    decays = [0.2, 0.5, 0.9]
    g = torch.Generator().manual_seed(11)
    current = (torch.rand(M, T, B, n, generator=g, dtype=torch.float64) * 3).requires_grad_(True)
    w = (torch.randn(M, n, n, generator=g, dtype=torch.float64) * 2).requires_grad_(True) if recurrent else None
    nodes = [VariantNode(decay=decay, reset="soft", threshold=0.5, backend="torch", store_v_seq=True,
                         gain_normalised=True).to(torch.float64) for decay in decays]
    col = lambda values: torch.stack(values).reshape(M, 1, 1)  # noqa: E731
    dyn = Dynamics(decay=col([nd.dynamics.decay for nd in nodes]), threshold=col([nd.dynamics.threshold for nd in nodes]),
                   reset="soft", derivative=StrictATan().derivative,
                   input_gain=col([nd.dynamics.input_gain() for nd in nodes]))
    spikes, v = lif_sequence(current, dyn, w_rec=w, time_dim=1)
    wrt = (current, w) if recurrent else (current,)
    grads = torch.autograd.grad((spikes + v).sum(), wrt)
    for m, node in enumerate(nodes):
        c = current[m].detach().requires_grad_(True)
        wm = w[m].detach().requires_grad_(True) if recurrent else None
        s_prev, out = torch.zeros(B, n, dtype=torch.float64), []
        for i_t in c:
            # the stacked kernel's product per member: a batched product of one (bits as the ensemble's)
            i_t = i_t + torch.bmm(s_prev[None], wm.t()[None])[0] if recurrent else i_t
            s_prev = node.single_step_forward(i_t)
            out.append(s_prev)
        s_m = torch.stack(out)
        assert torch.equal(s_m, spikes[m]) and torch.equal(node.v_seq, v[m])
        grads_m = torch.autograd.grad((s_m + node.v_seq).sum(), (c, wm) if recurrent else (c,))
        for full, one in zip(grads, grads_m):
            assert torch.allclose(full[m], one, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("reset", ["hard", "soft", "none"])
def test_only_the_last_membrane_when_not_kept(reset):
    """``keep_membranes=False`` returns ``V[T-1]`` alone: the same spikes and last membrane, and the same
    gradients for a loss on both."""
    dyn = Dynamics(decay=0.7, threshold=1.0, reset=reset, derivative=StrictATan().derivative)
    current = torch.rand(9, 3, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 1.5
    out = []
    for keep in (True, False):
        c = current.clone().requires_grad_(True)
        spikes, v = lif_sequence(c, dyn, keep_membranes=keep)
        last = v[-1] if keep else v
        assert last.shape == (3, 4)
        (g,) = torch.autograd.grad((spikes * torch.arange(9.0)[:, None, None]).sum() + last.square().sum(), (c,))
        out.append((spikes.detach(), last.detach(), g))
    assert torch.equal(out[0][0], out[1][0]) and torch.equal(out[0][1], out[1][1])
    assert torch.allclose(out[0][2], out[1][2], rtol=1e-12, atol=1e-12)
