r"""PLIF: a leaky integrate-and-fire neuron whose leak is learned, one λ per neuron.

.. math::

    \lambda_i = \operatorname{sigmoid}(w_i), \qquad
    H_i[t] = \lambda_i V_i[t-1] + (1 - \lambda_i)\, I_i[t]

then fire and reset as every model (:func:`~snnlib.model.dynamics.reset_membrane`). The input is
gain-normalised (scaled by ``1 - λ``), so that learning λ changes the memory of a neuron and not its gain
``1/(1 - λ)``: a constant input ``I`` drives the membrane towards ``I`` whatever λ. This is SpikingJelly's
``ParametricLIFNode(decay_input=True, v_reset=0)`` with ``1/τ = 1 - λ`` (Fang et al., 2021), with one
time constant per neuron (heterogeneous time constants, Perez-Nieves et al., 2021). ``w`` starts at
``logit(decay)`` for every neuron and is an ``nn.Parameter``: Adam trains it with the weights. With
``learn=False`` it is frozen, and PLIF equals gain-normalised LIF at ``λ = sigmoid(w)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from snnlib.model.dynamics import NeuronDynamics, check_decay

#: λ is kept inside [EPSILON, 1 - EPSILON] at initialisation (sigmoid never reaches 0 or 1)
EPSILON = 1e-3


class PLIF(NeuronDynamics):
    """Learned per-neuron leak (module docstring). Args: ``size`` (required), ``decay`` (the initial λ),
    ``learn`` (train λ), and ``reset``, ``threshold``, ``detach_reset`` as every model."""

    def __init__(self, size: int | None = None, decay: float = 0.5, reset: str = "hard", threshold: float = 1.0,
                 detach_reset: bool = False, learn: bool = True):
        super().__init__(size, reset, threshold, detach_reset)
        if size is None:
            raise ValueError("PLIF has one λ per neuron: size must be given (the layer's width)")
        lam = min(max(check_decay(decay), EPSILON), 1.0 - EPSILON)
        self.w = nn.Parameter(torch.full((size,), math.log(lam / (1.0 - lam))), requires_grad=bool(learn))

    @property
    def decay(self) -> torch.Tensor:
        """λ = sigmoid(w), one per neuron."""
        return torch.sigmoid(self.w)

    def charge(self, current, state):
        """``H = λ V + (1 - λ) I``."""
        lam = self.decay
        return torch.mul(state["v"], lam).add_(current * torch.sub(1.0, lam))
