r"""The LIF variant neuron as a SpikingJelly node.

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

Execution backends (``backend=``): ``"fused"`` (default) runs a multi-step sequence through the fused
time loop of :mod:`snnlib.model.fused` -- the same spikes and membranes, one autograd node per sequence
and a single reverse loop for the surrogate gradient; ``"torch"`` steps through the two hooks one time
step at a time. The fused loop needs the surrogate's derivative as a function, ``derivative(z)``
(:class:`StrictATan`, :class:`StrictSigmoid`); it is read from ``surrogate_function`` at every call, so
swapping the surrogate of a trained node takes effect at once. A surrogate without ``derivative`` (any
other SpikingJelly surrogate), and single-step mode, use the hook path.

Tensor layout: multi-step input ``[T, B, ...]`` (time first), output spikes of the same shape.
"""

from __future__ import annotations

import math

import torch
from spikingjelly.activation_based import surrogate
from spikingjelly.activation_based.neuron import SimpleBaseNode

from snnlib.model.fused import Dynamics, lif_sequence

RESETS = ("hard", "soft", "none")
BACKENDS = ("fused", "torch")


def _strict(surrogate_backward, name: str):
    r"""An autograd function: forward :math:`\Theta(z) = [z > 0]` (strict), backward ``surrogate_backward``
    (one of SpikingJelly's ``*_backward(grad, z, alpha)``)."""

    class Strict(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z, alpha):
            ctx.save_for_backward(z)
            ctx.alpha = alpha
            return (z > 0).to(z)

        @staticmethod
        def backward(ctx, grad_output):
            return surrogate_backward(grad_output, ctx.saved_tensors[0], ctx.alpha)

    Strict.__name__ = Strict.__qualname__ = name
    return Strict


_strict_atan = _strict(surrogate.atan_backward, "_strict_atan")
_strict_sigmoid = _strict(surrogate.sigmoid_backward, "_strict_sigmoid")


class StrictATan(surrogate.ATan):
    r"""SpikingJelly's ArcTan surrogate, :math:`g'(z) = \frac{\alpha}{2(1 + (\frac{\pi}{2}\alpha z)^2)}`,
    with a strict Heaviside forward (no spike when the membrane sits exactly at threshold)."""

    @staticmethod
    def spiking_function(z, alpha):
        return _strict_atan.apply(z, alpha)

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`g'(z) = \alpha / (2 (1 + (\frac{\pi}{2} \alpha z)^2))`, ``α`` read from this object now."""
        a = z * (math.pi / 2 * self.alpha)
        return a.mul_(a).add_(1.0).reciprocal_().mul_(self.alpha / 2)


class StrictSigmoid(surrogate.Sigmoid):
    r"""SpikingJelly's sigmoid surrogate, :math:`g'(z) = \alpha\, s(\alpha z)(1 - s(\alpha z))` with
    :math:`s` the logistic function, with a strict Heaviside forward."""

    @staticmethod
    def spiking_function(z, alpha):
        return _strict_sigmoid.apply(z, alpha)

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`g'(z) = \alpha\, s(\alpha z)(1 - s(\alpha z))`, ``α`` read from this object now."""
        s = torch.sigmoid(z * self.alpha)
        return torch.sub(1.0, s).mul_(s).mul_(self.alpha)


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
        backend: ``"fused"`` (the fused time loop, multi-step only) or ``"torch"`` (the hooks, step by step).

    Example::

        >>> node = VariantNode(decay=0.5, reset="hard")
        >>> node(torch.tensor([[1.5], [0.2], [0.9]])).flatten().tolist()
        [1.0, 0.0, 0.0]
    """

    def __init__(self, decay: float, reset: str = "hard", threshold: float = 1.0, surrogate=None,
                 detach_reset: bool = False, step_mode: str = "m", store_v_seq: bool = False,
                 backend: str = "fused"):
        decay = check_decay(decay)
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
        if not isinstance(threshold, (int, float)) or not threshold > 0:
            raise ValueError(f"threshold must be a number > 0, got {threshold!r}")
        if step_mode not in ("s", "m"):
            raise ValueError(f"step_mode must be one of ('s', 'm'), got {step_mode!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        super().__init__(v_threshold=float(threshold), v_reset=None if reset == "soft" else 0.0,
                         surrogate_function=surrogate if surrogate is not None else StrictATan(),
                         detach_reset=detach_reset, step_mode=step_mode)
        self.decay = decay
        self.reset_mode = reset
        self.store_v_seq = store_v_seq
        self.backend = backend
        self._v_steps: list[torch.Tensor] = []
        self._v_seq: torch.Tensor | None = None  # the fused backend's record
        # The reset equation is chosen once here, not branched on every step.
        self._reset_fn = {"hard": self._reset_hard, "soft": self._reset_soft, "none": self._reset_none}[reset]

    def extra_repr(self) -> str:
        return (f"decay={self.decay}, reset={self.reset_mode!r}, threshold={self.v_threshold}, "
                f"detach_reset={self.detach_reset}, step_mode={self.step_mode!r}, backend={self.backend!r}")

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
        """Post-reset membranes ``V[t]`` of the last sequence, ``[T, B, ...]`` (or ``None``)."""
        if self._v_seq is not None:
            return self._v_seq
        return torch.stack(self._v_steps) if self._v_steps else None

    # --- the fused backend ---------------------------------------------------------------------
    def dynamics(self) -> Dynamics | None:
        """The constants of the fused loop, or ``None`` when it cannot run: backend ``"torch"``, or a
        surrogate without ``derivative`` (read from ``surrogate_function`` now)."""
        derivative = getattr(self.surrogate_function, "derivative", None)
        if self.backend != "fused" or derivative is None:
            return None
        return Dynamics(decay=self.decay, threshold=self.v_threshold, reset=self.reset_mode,
                        derivative=derivative, keep_reset=0.0 if self.detach_reset else 1.0)

    def run_fused(self, current: torch.Tensor, dyn: Dynamics, w_rec: torch.Tensor | None = None) -> torch.Tensor:
        """Spikes of the whole sequence ``current [T, ...]`` by :func:`~snnlib.model.fused.lif_sequence`,
        continuing from the present state ``v``; leaves ``v`` at the last step (and ``v_seq`` if stored)."""
        v0 = self.v if isinstance(self.v, torch.Tensor) else (None if self.v == 0.0 else float(self.v))
        spikes, v_seq = lif_sequence(current, dyn, v0=v0, w_rec=w_rec)
        self.v = v_seq[-1]
        self._v_steps = []
        self._v_seq = v_seq if self.store_v_seq else None
        return spikes

    def clear_record(self) -> None:
        """Forget the recorded membranes (``v_seq``) without touching the state ``v``."""
        self._v_steps = []
        self._v_seq = None

    def single_step_forward(self, x: torch.Tensor) -> torch.Tensor:
        self._v_seq = None
        spike = super().single_step_forward(x)
        if self.store_v_seq:
            self._v_steps.append(self.v)
        return spike

    def multi_step_forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        self.clear_record()  # as SpikingJelly: v_seq holds the steps of the last sequence
        dyn = self.dynamics()
        if dyn is not None:
            return self.run_fused(x_seq, dyn)
        return super().multi_step_forward(x_seq)

    def reset(self):
        """Clear the membrane (back to ``V = 0``) and any recorded sequence."""
        super().reset()
        self.clear_record()
