r"""ALIF: a leaky integrate-and-fire neuron with an adaptive threshold (Bellec et al., 2018).

Two state variables, the membrane ``V`` and the adaptation ``a``:

.. math::

    H[t] &= \lambda V[t-1] + I[t] \\
    \theta_{\text{eff}}[t] &= \theta + \beta\, a[t-1] \\
    S[t] &= \Theta(H[t] - \theta_{\text{eff}}[t]) \\
    V[t] &= H[t] - S[t]\,(\kappa_h H[t] + \kappa_s \theta_{\text{eff}}[t]) \\
    a[t] &= \rho\, a[t-1] + S[t]

Every spike raises the threshold by β, and the rise relaxes by ``ρ`` per step: a neuron that fires often
fires less, much as a soft reset subtracts. The soft reset subtracts the effective threshold. With
``β = 0`` the threshold never moves and ALIF is LIF, spike for spike (tested). The charge is LIF's, raw or
gain-normalised (:class:`~snnlib.model.dynamics.LIF`).
"""

from __future__ import annotations

import torch

from snnlib.checks import check_fraction
from snnlib.model.dynamics import LIF, reset_membrane


class ALIF(LIF):
    """Adaptive threshold (module docstring). Args: ``beta`` ≥ 0 (threshold rise per spike), ``rho`` ∈ [0, 1]
    (its decay per step), and every argument of :class:`~snnlib.model.dynamics.LIF`."""

    state_names = ("v", "a")

    def __init__(self, size: int | None = None, decay: float = 0.5, reset: str = "hard", threshold: float = 1.0,
                 detach_reset: bool = False, gain_normalised: bool = False, beta: float = 0.2, rho: float = 0.9):
        super().__init__(size, decay, reset, threshold, detach_reset, gain_normalised)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"beta must be a number >= 0, got {beta!r}")
        self.register_buffer("beta", torch.tensor(float(beta)))
        self.register_buffer("rho", torch.tensor(check_fraction("rho", rho)))

    def firing_threshold(self, state):
        """``θ + β a[t-1]``."""
        return torch.addcmul(self.threshold, self.beta, state["a"])

    def after_spike(self, h, s, state):
        """The membrane reset against the effective threshold, and ``a[t] = ρ a[t-1] + S[t]``."""
        v = reset_membrane(h, self.reset_spikes(s), self.firing_threshold(state), self.reset_mode,
                           self.kappa_hard, self.kappa_soft)
        return {"v": v, "a": torch.mul(state["a"], self.rho).add_(s)}

    def fused(self):
        """None: the fused kernel is LIF's (one state variable); ALIF runs through its step."""
        return None
