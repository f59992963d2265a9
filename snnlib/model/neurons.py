r"""The LIF variant neuron as a SpikingJelly node (DESIGN.md §2).

One neuron class covers leak, no leak and the three reset modes. It subclasses SpikingJelly's
:class:`~spikingjelly.activation_based.neuron.SimpleBaseNode`, whose step is *charge - fire - reset*,
and changes behaviour only through the two hooks ``neuronal_charge`` and ``neuronal_reset``:

.. math::

    \text{charge:}\quad & H[t] = \lambda\, V[t-1] + I[t] \\
    \text{fire:}\quad   & S[t] = \Theta(H[t] - \theta) \\
    \text{reset:}\quad  & V[t] = \begin{cases}
        H[t]\,(1 - S[t])          & \text{hard (to 0)} \\
        H[t] - \theta\, S[t]      & \text{soft (subtract)} \\
        H[t]                      & \text{none}
    \end{cases}

with ``V[-1] = 0``. ``I[t]`` is the input current (the layer computes ``W_in x[t] + b`` and, when
recurrent, ``+ W_rec S[t-1]``); it is not decayed (SpikingJelly's ``decay_input=False``).
``λ = 1`` is the non-leaky IF neuron.

The Heaviside step is strict, :math:`\Theta(z) = 1` for :math:`z > 0`, as in snnTorch, so that with
``reset="hard"`` the node reproduces ``snntorch.Leaky(beta=λ, reset_mechanism="zero")`` spike for spike,
with ``"none"`` ``reset_mechanism="none"``, and with ``"soft"`` at ``λ = 1`` ``reset_mechanism="subtract"``.
(snnTorch subtracts θ *after* the decay, so soft reset agrees only without leak.) The strict step lives in
the default surrogate :class:`StrictATan`; any SpikingJelly surrogate can be passed instead.

Tensor layout: multi-step input ``[T, B, ...]`` (time first), output spikes of the same shape.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import surrogate
from spikingjelly.activation_based.neuron import SimpleBaseNode

RESETS = ("hard", "soft", "none")


class _strict_atan(torch.autograd.Function):
    """Forward: :math:`\\Theta(z) = [z > 0]`. Backward: the ArcTan surrogate of SpikingJelly."""

    @staticmethod
    def forward(ctx, z, alpha):
        ctx.save_for_backward(z)
        ctx.alpha = alpha
        return (z > 0).to(z)

    @staticmethod
    def backward(ctx, grad_output):
        return surrogate.atan_backward(grad_output, ctx.saved_tensors[0], ctx.alpha)


class StrictATan(surrogate.ATan):
    r"""SpikingJelly's ArcTan surrogate, :math:`g'(z) = \frac{\alpha}{2(1 + (\frac{\pi}{2}\alpha z)^2)}`,
    with a strict Heaviside forward (no spike when the membrane sits exactly at threshold)."""

    @staticmethod
    def spiking_function(z, alpha):
        return _strict_atan.apply(z, alpha)


def check_decay(decay: float) -> float:
    """Return ``decay`` as a float, or raise ``ValueError`` if it is outside [0, 1]."""
    if not isinstance(decay, (int, float)) or not 0.0 <= float(decay) <= 1.0:
        raise ValueError(f"decay must be a number in [0, 1] (1 = no leakage), got {decay!r}")
    return float(decay)


class VariantNode(SimpleBaseNode):
    r"""Leaky integrate-and-fire node with a chosen decay ``λ`` and reset mode.

    Args:
        decay: the decay factor ``λ ∈ [0, 1]``; ``1`` means no leakage (IF).
        reset: ``"hard"`` (to 0), ``"soft"`` (subtract θ) or ``"none"``.
        threshold: the firing threshold ``θ > 0``.
        surrogate: surrogate spike function (default :class:`StrictATan` with ``alpha=2``).
        detach_reset: cut the reset out of the backward graph (SpikingJelly's option).
        step_mode: ``"m"`` (input ``[T, B, ...]``) or ``"s"`` (input ``[B, ...]``).
        store_v_seq: keep the post-reset membrane ``V[t]`` of every step in ``v_seq`` (``[T, B, ...]``).

    Example::

        >>> node = VariantNode(decay=0.5, reset="hard")
        >>> node(torch.tensor([[1.5], [0.2], [0.9]])).flatten().tolist()
        [1.0, 0.0, 0.0]
    """

    def __init__(self, decay: float, reset: str = "hard", threshold: float = 1.0, surrogate=None,
                 detach_reset: bool = False, step_mode: str = "m", store_v_seq: bool = False):
        decay = check_decay(decay)
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
        if not isinstance(threshold, (int, float)) or not threshold > 0:
            raise ValueError(f"threshold must be a number > 0, got {threshold!r}")
        if step_mode not in ("s", "m"):
            raise ValueError(f"step_mode must be one of ('s', 'm'), got {step_mode!r}")
        super().__init__(v_threshold=float(threshold), v_reset=None if reset == "soft" else 0.0,
                         surrogate_function=surrogate if surrogate is not None else StrictATan(),
                         detach_reset=detach_reset, step_mode=step_mode)
        self.decay = decay
        self.reset_mode = reset
        self.store_v_seq = store_v_seq
        self._v_steps: list[torch.Tensor] = []
        # The reset equation is chosen once here, not branched on every step.
        self._reset_fn = {"hard": self._reset_hard, "soft": self._reset_soft, "none": self._reset_none}[reset]

    def extra_repr(self) -> str:
        return (f"decay={self.decay}, reset={self.reset_mode!r}, threshold={self.v_threshold}, "
                f"detach_reset={self.detach_reset}, step_mode={self.step_mode!r}")

    # --- the two hooks -------------------------------------------------------------------------
    def neuronal_charge(self, x: torch.Tensor) -> None:
        """Charge: ``H[t] = λ V[t-1] + I[t]`` (the input is not decayed)."""
        self.v = self.decay * self.v + x

    def neuronal_reset(self, spike: torch.Tensor) -> None:
        """Reset ``H[t] -> V[t]`` by the mode chosen at construction (hard / soft / none)."""
        self.v = self._reset_fn(spike.detach() if self.detach_reset else spike)

    def _reset_hard(self, spike):  # V = H (1 - S)
        return self.v * (1.0 - spike)

    def _reset_soft(self, spike):  # V = H - θ S
        return self.v - self.v_threshold * spike

    def _reset_none(self, spike):  # V = H
        return self.v

    # --- recording (no change to the dynamics) -------------------------------------------------
    @property
    def v_seq(self):
        """Post-reset membranes ``V[t]`` recorded since the last reset, ``[T, B, ...]`` (or ``None``)."""
        return torch.stack(self._v_steps) if self._v_steps else None

    def single_step_forward(self, x: torch.Tensor) -> torch.Tensor:
        spike = super().single_step_forward(x)
        if self.store_v_seq:
            self._v_steps.append(self.v)
        return spike

    def multi_step_forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        self._v_steps = []  # as SpikingJelly: v_seq holds the steps of the last sequence
        return super().multi_step_forward(x_seq)

    def reset(self):
        """Clear the membrane (back to ``V = 0``) and any recorded sequence."""
        super().reset()
        self._v_steps = []
