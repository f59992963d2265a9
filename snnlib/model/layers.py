r"""Layers: a spiking linear layer with optional recurrence, and the non-spiking leaky readout.

Both take and return time-first tensors ``[T, B, features]``.

Spiking layer (DESIGN.md §2), the input current of its :class:`~snnlib.model.neurons.VariantNode` being

.. math::  I[t] = W_{in}\, x[t] + b \;(+\; W_{rec}\, S[t-1] \text{ if recurrent}), \qquad S[-1] = 0.

Readout (non-spiking leaky integrator, decay :math:`\lambda_o`):

.. math::  U[t] = \lambda_o\, U[t-1] + W\, x[t] + b, \qquad
           \text{logits} = \frac{1}{|R|} \sum_{t \in R} U[t]

over the task's readout window :math:`R`.
"""

from __future__ import annotations

import torch
from torch import nn

from snnlib.model.neurons import VariantNode, check_decay


class SpikingLinear(nn.Module):
    """``Linear`` followed by a :class:`VariantNode`, optionally with recurrent weights ``W_rec``.

    The feed-forward path computes every step's current in one matrix product and runs the node in
    multi-step mode; the recurrent path has to step through time, because ``I[t]`` needs ``S[t-1]``.
    """

    def __init__(self, in_features: int, out_features: int, decay: float, reset: str = "hard",
                 recurrent: bool = False, threshold: float = 1.0, store_v_seq: bool = False):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.recurrent = recurrent
        self.rec = nn.Linear(out_features, out_features, bias=False) if recurrent else None
        self.node = VariantNode(decay=decay, reset=reset, threshold=threshold, step_mode="m",
                                store_v_seq=store_v_seq)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        """Spikes ``[T, B, out]`` for input ``[T, B, in]``."""
        current = self.fc(x_seq)
        if not self.recurrent:
            return self.node(current)
        spikes = []
        s_prev = torch.zeros_like(current[0])
        for i_t in current:
            s_prev = self.node.single_step_forward(i_t + self.rec(s_prev))
            spikes.append(s_prev)
        return torch.stack(spikes)


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

    def forward(self, x_seq: torch.Tensor, window: slice = slice(None)) -> torch.Tensor:
        """Logits ``[B, out]``: the membrane averaged over the time steps in ``window``."""
        return self.membrane(x_seq)[window].mean(dim=0)
