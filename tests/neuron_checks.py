"""The contract every registered neuron model must meet, as plain check functions over a model name (in the
spirit of scikit-learn's ``check_estimator``). ``tests/test_neuron_contract.py`` runs them over every
registered model; a test that registers a model of its own calls them on it."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from snnlib.measure.train import TrainConfig, fit_members, seed_everything
from snnlib.model.dynamics import run_steps
from snnlib.model.layers import SpikingLinear
from snnlib.model.models import build_snn
from snnlib.model.variants import Variant

T, B, N_IN, N = 10, 4, 5, 6


def _layers(variant: Variant, decay: float, backends, detach=False):
    out = []
    for backend in backends:
        torch.manual_seed(0)
        layer = SpikingLinear(N_IN, N, decay=variant.decay(decay), reset=variant.reset, recurrent=variant.recurrent,
                              store_v_seq=True, backend=backend, neuron=variant.neuron)
        with torch.no_grad():
            layer.fc.weight.mul_(2.0)
            if variant.recurrent:
                layer.rec.weight.mul_(2.0)  # strong enough recurrence to change the spikes
        layer.node.detach_reset = detach
        out.append(layer)
    return out


def _drive(layer, x, probe):
    x = x.clone().requires_grad_(True)
    layer.node.reset()
    spikes = layer(x)
    (spikes * probe).sum().add(layer.node.v_seq.square().sum()).backward()
    grads = {"x": x.grad, **{n: p.grad for n, p in layer.named_parameters() if p.requires_grad}}
    return spikes.detach(), layer.node.v_seq.detach(), grads


def check_sequence_paths_agree(name: str, decay: float = 0.7, detach: bool = False) -> None:
    """The SpikingJelly hook path (``backend="torch"``), the sequence path (fused kernel where the model has
    one, else the step loop) and the bare step loop give the same spikes and membranes exactly and the same
    gradients to float tolerance."""
    variant = Variant.parse(name)
    hook, seq = _layers(variant, decay, ("torch", "fused"), detach)
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(T, B, N_IN, generator=gen)
    probe = torch.randn(T, B, N, generator=gen)
    s_h, v_h, g_h = _drive(hook, x, probe)
    s_f, v_f, g_f = _drive(seq, x, probe)
    assert 0 < s_h.mean() < 1, f"{name}: the test input must make some, not all, neurons spike"
    assert torch.equal(s_h, s_f) and torch.equal(v_h, v_f), f"{name}: hook and sequence paths differ"
    assert g_h.keys() == g_f.keys()
    for key in g_h:
        assert torch.allclose(g_h[key], g_f[key], atol=1e-5, rtol=1e-4), f"{name}: gradient of {key} differs"
    with torch.no_grad():  # the bare step loop of the dynamics, as the ensembles run it
        dyn = seq.node.dynamics
        dyn.use_surrogate(seq.node.surrogate_function)
        s_l, v_l, _ = run_steps(dyn, seq.fc(x), w_rec=seq.rec.weight if variant.recurrent else None)
    assert torch.equal(s_l, s_h) and torch.equal(v_l, v_h), f"{name}: the step loop differs from the hooks"


def _task(seed):
    gen = torch.Generator().manual_seed(100 + seed)
    task = SimpleNamespace(x_train=torch.rand(T, 32, N_IN, generator=gen) * 1.5,
                           y_train=torch.randint(0, 3, (32,), generator=gen), readout=slice(T // 2, None))
    task.x_val, task.y_val = torch.rand(T, 16, N_IN, generator=gen) * 1.5, torch.randint(0, 3, (16,), generator=gen)
    return task


def _train(specs):
    models, tasks, configs = [], [], []
    for variant, decay, seed in specs:
        seed_everything(seed)
        models.append(build_snn(N_IN, [8], 3, variant, decay=decay))
        tasks.append(_task(seed))
        configs.append(TrainConfig(epochs=2, batch_size=8, lr=5e-3, seed=seed, device="cpu"))
    results = fit_members(models, tasks, configs)
    return [(dict(m.state_dict()), r) for m, r in zip(models, results)]


def check_alone_equals_in_a_group(name: str) -> None:
    """A network of this model trained alone has the same weights (bit for bit) and history as in a group
    with other members of the model (other resets, λ and seeds)."""
    variant = Variant.parse(name)
    others = [Variant(variant.neuron, reset, variant.recurrent).name for reset in ("soft", "none")]
    specs = [(variant.name, 0.6, 1), (others[0], 0.9, 2), (others[1], 0.3, 3)]
    (alone_state, alone_result), = _train(specs[:1])
    group_state, group_result = _train([specs[1], specs[0], specs[2]])[1]
    assert alone_result == group_result, f"{name}: training history depends on the group"
    assert alone_state.keys() == group_state.keys()
    for key in alone_state:
        assert torch.equal(alone_state[key], group_state[key]), f"{name}: {key} depends on the group"


def check_neuron(name: str) -> None:
    """Every contract check, feed-forward and recurrent."""
    for form in (name, "R" + name):
        check_sequence_paths_agree(form)
        check_sequence_paths_agree(form + "-soft", detach=True)
        check_alone_equals_in_a_group(form)
