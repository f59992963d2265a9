r"""An ensemble: M networks of the same shapes trained together as ONE stacked model.

The members share the input size, hidden sizes, classes and recurrence, but each has its own weights
(its own seed), decay ``λ``, threshold ``θ``, reset mode, ``detach_reset`` and readout decay ``λ_o``.
Every parameter gets a leading member axis, and one call computes all members:

.. math::

    C_m &= x_m W_{in,m}^\top + b_m                        && \text{(one batched matmul for all members)} \\
    H_m[t] &= \lambda_m V_m[t-1] + C_m[t] \,(+\, S_m[t-1] W_{rec,m}^\top) && \text{(the fused loop, per-member } \lambda, \theta, \kappa) \\
    \text{logits}_m &= W_{o,m} \Big(\sum_s a_m[s]\, h_m[s]\Big) + b_{o,m} \sum_s a_m[s]
        && \text{(the readout, } a_m \text{ from } \lambda_{o,m} \text{ and the window)}

Layout: inputs ``[T, M, B, F]`` for :meth:`EnsembleSNN.forward` (``[M, T, B, F]`` for
:meth:`EnsembleSNN.forward_members`), spikes ``[M, T, B, n]``, logits ``[M, B, C]`` (``[M, K, B, C]`` for a
tuple of ``K`` readout windows).

Independence of the members: each member's numbers go through elementwise operations and through its
own matrix in a batched product, so they do not depend on which other members share the stack, nor on
how many (checked bit for bit on the CPU in ``tests/test_ensemble.py``). The loss of the ensemble is the
sum of the members' losses, so no gradient mixes members, and Adam is elementwise. An ensemble of one is
how a single network is trained (:func:`snnlib.measure.train.fit_members`).

``EnsembleSNN.from_members(models)`` stacks separately built :class:`~snnlib.model.models.SNN` (each
built with ``seed_everything(seed); build_snn(...)``, so the initial weights are those of the run alone),
and :meth:`EnsembleSNN.unstack` / :meth:`EnsembleSNN.load_member` give the weights back to ordinary SNNs.
"""

from __future__ import annotations

import copy

import torch
from spikingjelly.activation_based import functional
from torch import nn

from snnlib.model.dynamics import keep_rows, run_steps
from snnlib.model.fused import lif_sequence
from snnlib.model.layers import readout_weights
from snnlib.model.models import SNN


def _same(name: str, values) -> None:
    if len(set(values)) != 1:
        raise ValueError(f"ensemble members must agree on {name}, got {list(values)}")


class EnsembleLayer(nn.Module):
    """``M`` spiking linear layers (optionally recurrent) with per-member dynamics: the members' neuron
    models stacked into one (:meth:`~snnlib.model.dynamics.NeuronDynamics.stack`)."""

    def __init__(self, layers: list):
        super().__init__()
        first = layers[0]
        _same("layer in_features", [l.in_features for l in layers])
        _same("layer out_features", [l.out_features for l in layers])
        _same("recurrence", [l.recurrent for l in layers])
        self.in_features, self.out_features, self.recurrent = first.in_features, first.out_features, first.recurrent
        self.weight = nn.Parameter(torch.stack([l.fc.weight.detach() for l in layers]).clone())
        self.bias = nn.Parameter(torch.stack([l.fc.bias.detach() for l in layers]).clone())
        self.rec_weight = nn.Parameter(torch.stack([l.rec.weight.detach() for l in layers]).clone()) \
            if self.recurrent else None
        nodes = [l.node for l in layers]
        surrogates = [n.surrogate_function for n in nodes]
        _same("surrogate function", [(type(s).__name__, float(getattr(s, "alpha", 0.0))) for s in surrogates])
        self.surrogate_function = copy.deepcopy(surrogates[0])
        self.dynamics = type(nodes[0].dynamics).stack([n.dynamics for n in nodes])

    def keep_members(self, positions: torch.Tensor) -> None:
        """Keep only the members at ``positions`` (in that order)."""
        for name in ("weight", "bias", "rec_weight"):
            if getattr(self, name) is not None:
                setattr(self, name, keep_rows(getattr(self, name), positions))
        self.dynamics.keep_members(positions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes ``[M, T, B, out]`` for input ``[M, T, B, in]``: the model's fused kernel where it has one,
        else the loop over its step."""
        m, steps, batch, _ = x.shape
        current = torch.baddbmm(self.bias.unsqueeze(1), x.reshape(m, steps * batch, -1), self.weight.transpose(1, 2))
        current = current.view(m, steps, batch, -1)
        self.dynamics.use_surrogate(self.surrogate_function)
        fused = self.dynamics.fused()
        if fused is not None:
            spikes, _ = lif_sequence(current, fused, w_rec=self.rec_weight, time_dim=1, keep_membranes=False)
        else:
            spikes, _, _ = run_steps(self.dynamics, current, w_rec=self.rec_weight, time_dim=1)
        return spikes


class EnsembleReadout(nn.Module):
    """``M`` leaky readouts; logits from per-member time weights (:func:`~snnlib.model.layers.readout_weights`)."""

    def __init__(self, readouts: list):
        super().__init__()
        _same("readout shape", [tuple(r.fc.weight.shape) for r in readouts])
        self.weight = nn.Parameter(torch.stack([r.fc.weight.detach() for r in readouts]).clone())
        self.bias = nn.Parameter(torch.stack([r.fc.bias.detach() for r in readouts]).clone())
        self.decays = [r.decay for r in readouts]

    def keep_members(self, positions: torch.Tensor) -> None:
        """Keep only the members at ``positions`` (in that order)."""
        self.weight, self.bias = keep_rows(self.weight, positions), keep_rows(self.bias, positions)
        self.decays = [self.decays[i] for i in positions.tolist()]

    def forward(self, h: torch.Tensor, windows: list) -> torch.Tensor:
        """Logits ``[M, K, B, C]`` of spikes ``h [M, T, B, n]``, member ``m`` read out over ``windows[m]``
        (a tuple of ``K`` slices each)."""
        m, steps, batch, n = h.shape
        a = torch.stack([readout_weights(steps, w, lam, h.dtype, h.device) for w, lam in zip(windows, self.decays)])
        pooled = torch.bmm(a, h.reshape(m, steps, batch * n))  # [M, K, B·n]: Σ_s a[s] h[s]
        k = a.shape[1]
        logits = torch.bmm(pooled.view(m, k * batch, n), self.weight.transpose(1, 2)).view(m, k, batch, -1)
        return logits + a.sum(-1)[:, :, None, None] * self.bias[:, None, None, :]


def _bare_copy(model: SNN) -> SNN:
    """A copy of ``model`` without its state or records of the last forward pass."""
    spikes, model.last_spikes = model.last_spikes, []
    saved = [({name: getattr(layer.node, name) for name in layer.node.dynamics.state_names},
              layer.node._v_steps, layer.node._v_seq) for layer in model.layers]
    try:
        functional.reset_net(model)
        return copy.deepcopy(model)
    finally:
        model.last_spikes = spikes
        for layer, (state, steps, seq) in zip(model.layers, saved):
            layer.node._set_state(state)
            layer.node._v_steps, layer.node._v_seq = steps, seq


class EnsembleSNN(nn.Module):
    """``M`` SNNs of the same shapes as one stacked model (module docstring)."""

    def __init__(self, members: list[SNN]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member, got none")
        _same("number of spiking layers", [len(m.layers) for m in members])
        self.layers = nn.ModuleList(EnsembleLayer([m.layers[i] for m in members]) for i in range(len(members[0].layers)))
        self.readout = EnsembleReadout([m.readout for m in members])
        self._templates = [_bare_copy(m) for m in members]
        self.last_spikes: list[torch.Tensor] = []  # [M, T, B, n] per layer, last forward pass

    @classmethod
    def from_members(cls, models: list[SNN]) -> EnsembleSNN:
        """Stack separately built SNNs (their current weights) into one ensemble."""
        return cls(list(models))

    @property
    def n_members(self) -> int:
        return self.layers[0].weight.shape[0]

    def forward_members(self, x: torch.Tensor, windows) -> torch.Tensor:
        """Logits ``[M, B, C]`` (``[M, K, B, C]`` for tuples of windows) of member-first input ``[M, T, B, F]``.

        ``windows``: one readout window (a slice, or a tuple of slices) for all members, or a list of ``M``.
        """
        if x.dim() != 4 or x.shape[0] != self.n_members:
            raise ValueError(f"x must be [M, T, B, features] with M = {self.n_members}, got shape {tuple(x.shape)}")
        per_member = list(windows) if isinstance(windows, list) else [windows] * self.n_members
        if len(per_member) != self.n_members:
            raise ValueError(f"windows must be one window or a list of {self.n_members}, got {len(per_member)}")
        tupled = [w if isinstance(w, tuple) else (w,) for w in per_member]
        _same("number of readout windows", [len(w) for w in tupled])
        spikes, h = [], x
        for layer in self.layers:
            h = layer(h)
            spikes.append(h)
        self.last_spikes = spikes
        logits = self.readout(h, tupled)
        return logits if isinstance(per_member[0], tuple) else logits[:, 0]

    def forward(self, x: torch.Tensor, windows=slice(None)) -> torch.Tensor:
        """Logits ``[M, B, C]`` of time-first input ``[T, M, B, F]``."""
        return self.forward_members(x.transpose(0, 1), windows)

    def member_rates(self) -> torch.Tensor:
        """Mean firing rate of the hidden layers per member, ``[M]``, from the last forward pass:
        the mean over layers of spikes per neuron per step. The spike counts are summed in double
        precision, exactly, so the value does not depend on the summation order."""
        rates = [s.sum(dim=(1, 2, 3), dtype=torch.float64) / s[0].numel() for s in self.last_spikes]
        return (sum(rates) / len(rates)).to(self.layers[0].weight.dtype)

    def keep_members(self, positions) -> None:
        """Keep only the members at ``positions`` (a list of indices, in that order): the ensemble of those
        members, with their present weights. Each kept member computes exactly what it computed before
        (module docstring: no member's numbers depend on the others)."""
        index = torch.as_tensor(list(positions), dtype=torch.long)
        if index.numel() == 0 or index.min() < 0 or index.max() >= self.n_members:
            raise ValueError(f"positions must be a non-empty list of members 0..{self.n_members - 1}, got {list(positions)}")
        for layer in self.layers:
            layer.keep_members(index.to(layer.weight.device))
        self.readout.keep_members(index.to(self.readout.weight.device))
        self._templates = [self._templates[i] for i in index.tolist()]
        self.last_spikes = []

    # --- back to single networks --------------------------------------------------------------
    def _pairs(self):
        """``(name in a member SNN, stacked tensor or model, member tensor name)`` for every parameter: the
        weights (stacked tensors, member ``i`` at ``[i]``) and the neuron models' learned parameters
        (read through :meth:`~snnlib.model.dynamics.NeuronDynamics.member`)."""
        for i, layer in enumerate(self.layers):
            yield f"layers.{i}.fc.weight", layer.weight, None
            yield f"layers.{i}.fc.bias", layer.bias, None
            if layer.recurrent:
                yield f"layers.{i}.rec.weight", layer.rec_weight, None
            for name, _ in layer.dynamics.named_parameters(recurse=False):  # learned neuron parameters
                yield f"layers.{i}.node.dynamics.{name}", layer.dynamics, name
        yield "readout.fc.weight", self.readout.weight, None
        yield "readout.fc.bias", self.readout.bias, None

    def member_state(self, i: int) -> dict[str, torch.Tensor]:
        """Member ``i``'s parameters (copies), named as in its :class:`SNN`."""
        return {name: stacked[i].detach().clone() if member is None else stacked.member(member, i)
                for name, stacked, member in self._pairs()}

    @torch.no_grad()
    def load_member(self, i: int, model: SNN, state: dict[str, torch.Tensor] | None = None) -> SNN:
        """Copy member ``i``'s weights (or a saved ``state`` of it) into ``model`` in place."""
        params = dict(model.named_parameters())
        current = state if state is not None else self.member_state(i)
        for name, _, _ in self._pairs():
            params[name].copy_(current[name])
        return model

    def unstack(self) -> list[SNN]:
        """Ordinary SNNs (copies of the members as given) carrying the ensemble's present weights."""
        models = []
        for i, template in enumerate(self._templates):
            model = copy.deepcopy(template).to(self.layers[0].weight.device)
            models.append(self.load_member(i, model))
        return models


def group_limit(n_params_per_member: int, device="cpu") -> int:
    """How many members to train in one ensemble so that memory stays bounded (``device``: ``"cpu"``,
    ``"cuda"``, ``"cuda:N"``, ``"auto"`` or a :class:`torch.device`).

    The parameters with their gradients and Adam's two moments take ``16`` bytes per parameter per member
    (float32), and the activations kept for the backward grow with the members too; the cap keeps the
    parameter memory of a group under a budget (CPU: 1 GiB; CUDA: a quarter of the device's memory) and
    the group at most 32 members on the CPU (beyond that, the CPU is busy anyway and the gain of stacking
    is spent) or 256 on CUDA (where the stacked kernels keep the device busy).
    """
    if isinstance(n_params_per_member, bool) or not isinstance(n_params_per_member, int) or n_params_per_member < 1:
        raise ValueError(f"n_params_per_member must be an integer >= 1, got {n_params_per_member!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if device.type == "cuda":
        budget, cap = torch.cuda.get_device_properties(device).total_memory // 4, 256
    else:
        budget, cap = 1 << 30, 32
    return max(1, min(cap, budget // (16 * n_params_per_member)))
