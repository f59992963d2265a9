r"""Layers: a spiking linear layer with optional recurrence, and the non-spiking leaky readout.

Both take and return time-first tensors ``[T, B, features]``.

Spiking layer, the input current of its :class:`~snnlib.model.neurons.VariantNode` being

.. math::  I[t] = W_{in}\, x[t] + b \;(+\; W_{rec}\, S[t-1] \text{ if recurrent}), \qquad S[-1] = 0.

``W_in x + b`` is computed for all steps in one matrix product. With the node's fused backend the whole
sequence, recurrence included, runs in one fused autograd node (:mod:`snnlib.model.fused`); with the
``"torch"`` backend a recurrent layer steps through time, because ``I[t]`` needs ``S[t-1]``.

Readout (non-spiking leaky integrator, decay :math:`\lambda_o`):

.. math::  U[t] = \lambda_o\, U[t-1] + W\, x[t] + b, \qquad
           \text{logits} = \frac{1}{|R|} \sum_{t \in R} U[t]

over the task's readout window :math:`R`. The readout is linear, so the logits are computed without a
time loop (:func:`readout_weights`):

.. math::  \text{logits} = W \Big(\sum_s a[s]\, x[s]\Big) + b \sum_s a[s], \qquad
           a[s] = \frac{1}{|R|} \sum_{t \in R,\, t \ge s} \lambda_o^{\,t-s}

(the same numbers as averaging the membrane, up to floating-point rounding).
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from snnlib.model.dynamics import check_decay
from snnlib.model.neurons import VariantNode


class SpikingLinear(nn.Module):
    """``Linear`` followed by a :class:`VariantNode` of the neuron model ``neuron``, optionally with
    recurrent weights ``W_rec``; ``neuron_params``: further parameters of the model."""

    def __init__(self, in_features: int, out_features: int, decay: float, reset: str = "hard",
                 recurrent: bool = False, threshold: float = 1.0, store_v_seq: bool = False,
                 backend: str = "fused", neuron: str = "LIF", **neuron_params):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.recurrent = recurrent
        self.rec = nn.Linear(out_features, out_features, bias=False) if recurrent else None
        self.node = VariantNode(decay=decay, reset=reset, threshold=threshold, step_mode="m",
                                store_v_seq=store_v_seq, backend=backend, neuron=neuron, size=out_features,
                                **neuron_params)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        """Spikes ``[T, B, out]`` for input ``[T, B, in]``."""
        current = self.fc(x_seq)
        if self.node.backend == "fused":
            return self.node.run_sequence(current, self.rec.weight if self.recurrent else None)
        if not self.recurrent:
            return self.node(current)
        spikes = []
        s_prev = torch.zeros_like(current[0])
        self.node.clear_record()
        for i_t in current:  # I[t] = C[t] + S[t-1] W_recᵀ: the product, then the sum, as the fused loop
            s_prev = self.node.single_step_forward(i_t + torch.mm(s_prev, self.rec.weight.t()))
            spikes.append(s_prev)
        return torch.stack(spikes)


def _window_steps(n_steps: int, window) -> range:
    if not isinstance(window, slice):
        raise ValueError(f"window must be a slice (or a tuple of slices), got {window!r}")
    steps = range(*window.indices(n_steps))
    if len(steps) == 0:
        raise ValueError(f"window {window} selects no step of the {n_steps} time steps")
    return steps


@lru_cache(maxsize=256)
def _weights(n_steps: int, steps: tuple[int, ...], decay: float) -> tuple[float, ...]:
    inside = set(steps)
    weights, acc = [0.0] * n_steps, 0.0
    for s in range(n_steps - 1, -1, -1):  # a[s] = [s ∈ R]/|R| + λ a[s+1]
        acc = (1.0 / len(steps) if s in inside else 0.0) + decay * acc
        weights[s] = acc
    return tuple(weights)


def readout_weights(n_steps: int, window, decay: float, dtype=torch.float32, device=None) -> torch.Tensor:
    """The time weights ``a[s]`` of a leaky readout averaged over ``window``: ``[T]`` for a slice, ``[K, T]``
    for a tuple of ``K`` slices (stream segments). Computed in double precision, returned in ``dtype``."""
    windows = window if isinstance(window, tuple) else (window,)
    if not windows:
        raise ValueError("window must be a slice or a non-empty tuple of slices, got ()")
    rows = [_weights(n_steps, tuple(_window_steps(n_steps, w)), float(decay)) for w in windows]
    out = torch.tensor(rows, dtype=dtype, device=device)
    return out if isinstance(window, tuple) else out[0]


class LeakyReadout(nn.Module):
    """Non-spiking leaky integrator whose membrane, averaged over a window, gives the logits."""

    def __init__(self, in_features: int, out_features: int, decay: float = 0.5):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.decay = check_decay(decay)

    def membrane(self, x_seq: torch.Tensor) -> torch.Tensor:
        """The membrane ``U[t]`` for every step, ``[T, B, out]``."""
        current = self.fc(x_seq)
        u, trace = torch.zeros_like(current[0]), []
        for i_t in current:
            u = self.decay * u + i_t
            trace.append(u)
        return torch.stack(trace)

    def forward(self, x_seq: torch.Tensor, window=slice(None)) -> torch.Tensor:
        """Logits ``[B, out]``: the membrane averaged over the time steps in ``window``; ``[K, B, out]``
        for a tuple of ``K`` windows."""
        a = readout_weights(x_seq.shape[0], window, self.decay, x_seq.dtype, x_seq.device)  # [T] or [K, T]
        pooled = torch.tensordot(a, x_seq, dims=([-1], [0]))  # Σ_s a[s] x[s]: [B, in] or [K, B, in]
        bias = (a.sum(-1).unsqueeze(-1) * self.fc.bias).unsqueeze(-2)  # (Σ_s a[s]) b
        return nn.functional.linear(pooled, self.fc.weight) + bias
