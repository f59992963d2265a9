r"""A neuron model as a SpikingJelly node, and the strict surrogate spike functions.

:class:`VariantNode` subclasses SpikingJelly's :class:`~spikingjelly.activation_based.neuron.SimpleBaseNode`,
whose step is *charge - fire - reset*, and changes behaviour only through its hooks, which call the neuron
model's dynamics (:class:`~snnlib.model.dynamics.NeuronDynamics`, chosen by its registered name). For
``LIF`` (:class:`~snnlib.model.dynamics.LIF`):

.. math::

    \text{charge:}\quad & H[t] = \lambda\, V[t-1] + I[t] \\
    \text{fire:}\quad   & S[t] = \Theta(H[t] - \theta) \\
    \text{reset:}\quad  & V[t] = H[t] - S[t]\,(\kappa_h H[t] + \kappa_s \theta)
        \quad (\text{hard } (1, 0),\ \text{soft } (0, 1),\ \text{none } (0, 0))

with ``V[-1] = 0``. ``I[t]`` is the input current (the layer computes ``W_in x[t] + b`` and, when
recurrent, ``+ W_rec S[t-1]``); by default it is not decayed (SpikingJelly's ``decay_input=False``).
``λ = 1`` is the non-leaky IF neuron.

The Heaviside step is strict, :math:`\Theta(z) = 1` for :math:`z > 0`, as in snnTorch, so that with
``reset="hard"`` the node reproduces ``snntorch.Leaky(beta=λ, reset_mechanism="zero")`` spike for spike,
with ``"none"`` ``reset_mechanism="none"``, and with ``"soft"`` at ``λ = 1`` ``reset_mechanism="subtract"``.
(snnTorch subtracts θ *after* the decay, so soft reset agrees only without leak.) The strict step lives in
the default surrogate :class:`StrictATan`; any SpikingJelly surrogate can be passed instead.

Execution backends (``backend=``): ``"fused"`` (default) runs a multi-step sequence through the model's
fused kernel where it has one (LIF: :mod:`snnlib.model.fused`; the same spikes and membranes, one autograd
node per sequence) and otherwise through the loop over the model's ``step``
(:func:`~snnlib.model.dynamics.run_steps`); ``"torch"`` steps through the hooks one time step at a time.
The fused loop needs the surrogate's derivative as a function, ``derivative(z)`` (:class:`StrictATan`,
:class:`StrictSigmoid`); it is read from ``surrogate_function`` at every call, so swapping the surrogate
of a trained node takes effect at once. A surrogate without ``derivative``, a learned parameter and
single-step mode use the step loop.

Tensor layout: multi-step input ``[T, B, ...]`` (time first), output spikes of the same shape.
"""

from __future__ import annotations

import math

import torch
from spikingjelly.activation_based import surrogate
from spikingjelly.activation_based.neuron import SimpleBaseNode

from snnlib.model import registry
from snnlib.model.dynamics import check_decay, run_steps
from snnlib.model.fused import lif_sequence

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

    def formula(self) -> tuple[str, float]:
        """``("atan", α)``: the derivative as the compiled CPU kernels know it (:mod:`snnlib.model.fused_cpu`)."""
        return "atan", float(self.alpha)


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

    def formula(self) -> tuple[str, float]:
        """``("sigmoid", α)``: the derivative as the compiled CPU kernels know it (:mod:`snnlib.model.fused_cpu`)."""
        return "sigmoid", float(self.alpha)


class VariantNode(SimpleBaseNode):
    r"""A neuron model as a SpikingJelly node: its hooks call the model's dynamics.

    The dynamics (:class:`~snnlib.model.dynamics.NeuronDynamics`, built from the registered ``neuron``
    name) hold the state equations and parameters; the node holds the state between calls (SpikingJelly
    memories, one per state variable, cleared by ``reset()``), the surrogate and the execution backend.
    Its three hooks are the dynamics' charge, fire and reset, so SpikingJelly's step
    (``single_step_forward``) runs the model step by step.

    Args:
        decay: the decay factor ``λ ∈ [0, 1]``; ``1`` means no leakage (IF).
        reset: ``"hard"`` (to 0), ``"soft"`` (subtract θ) or ``"none"``.
        threshold: the firing threshold ``θ > 0``.
        surrogate: surrogate spike function (default :class:`StrictATan` with ``alpha=2``).
        detach_reset: cut the reset out of the backward graph (SpikingJelly's option).
        step_mode: ``"m"`` (input ``[T, B, ...]``) or ``"s"`` (input ``[B, ...]``).
        store_v_seq: keep the post-reset membrane ``V[t]`` of every step in ``v_seq`` (``[T, B, ...]``).
        backend: ``"fused"`` (the model's fused kernel where it has one, multi-step only) or ``"torch"``
            (the dynamics step by step).
        neuron: a registered neuron model name (``"LIF"``; :mod:`snnlib.model.registry`).
        size: neurons in the layer (models with per-neuron parameters need it).
        neuron_params: further parameters of the neuron model (e.g. ``gain_normalised=True``).

    Example::

        >>> node = VariantNode(decay=0.5, reset="hard")
        >>> node(torch.tensor([[1.5], [0.2], [0.9]])).flatten().tolist()
        [1.0, 0.0, 0.0]
    """

    def __init__(self, decay: float = 0.5, reset: str = "hard", threshold: float = 1.0, surrogate=None,
                 detach_reset: bool = False, step_mode: str = "m", store_v_seq: bool = False,
                 backend: str = "fused", neuron: str = "LIF", size: int | None = None, **neuron_params):
        if step_mode not in ("s", "m"):
            raise ValueError(f"step_mode must be one of ('s', 'm'), got {step_mode!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        spec = registry.spec(neuron)
        params = {"decay": check_decay(decay), **neuron_params, **spec.fixed}
        dynamics = spec.dynamics_class()(size=size, reset=reset, threshold=threshold, detach_reset=detach_reset,
                                         **params)
        super().__init__(v_threshold=float(threshold), v_reset=None if reset == "soft" else 0.0,
                         surrogate_function=surrogate if surrogate is not None else StrictATan(),
                         detach_reset=detach_reset, step_mode=step_mode)
        self.neuron = neuron
        self.dynamics = dynamics
        for name in dynamics.state_names[1:]:
            self.register_memory(name, 0.0)
        self.store_v_seq = store_v_seq
        self.backend = backend
        self._v_steps: list[torch.Tensor] = []
        self._v_seq: torch.Tensor | None = None  # the sequence path's record

    @property
    def detach_reset(self) -> bool:
        """SpikingJelly's option, kept in the dynamics (their ``keep_reset``) so that both read one value."""
        return self._detach_reset

    @detach_reset.setter
    def detach_reset(self, value: bool) -> None:
        self._detach_reset = bool(value)
        dynamics = self._modules.get("dynamics")
        if dynamics is not None:
            dynamics.keep_reset.fill_(0.0 if value else 1.0)

    @property
    def decay(self):
        """λ of the model (a float when shared by the layer, else the tensor)."""
        decay = self.dynamics.decay
        return float(decay) if decay.dim() == 0 else decay

    @property
    def reset_mode(self) -> str:
        return self.dynamics.reset_mode

    def extra_repr(self) -> str:
        return (f"neuron={self.neuron!r}, reset={self.reset_mode!r}, threshold={self.v_threshold}, "
                f"detach_reset={self.detach_reset}, step_mode={self.step_mode!r}, backend={self.backend!r}")

    # --- the state, as the dynamics see it -------------------------------------------------------------
    def state(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        """The present state as tensors shaped like ``like`` (SpikingJelly starts memories at 0.0)."""
        values = {name: getattr(self, name) for name in self.dynamics.state_names}
        return {name: v if isinstance(v, torch.Tensor) else torch.full_like(like, float(v))
                for name, v in values.items()}

    def _set_state(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    # --- the three hooks: the dynamics' charge, fire and reset -------------------------------------------
    def neuronal_charge(self, x: torch.Tensor) -> None:
        """Charge: ``H[t]`` by the dynamics (``self.v`` holds ``H`` until the reset)."""
        self.dynamics.use_surrogate(self.surrogate_function)
        self._before = self.state(x)
        self.v = self.dynamics.charge(x, self._before)

    def neuronal_fire(self) -> torch.Tensor:
        """Fire: ``S[t] = Θ(H[t] - θ_eff[t])`` by the dynamics."""
        return self.dynamics.fire(self.v, self._before)

    def neuronal_reset(self, spike: torch.Tensor) -> None:
        """Reset ``H[t] -> V[t]`` (and any other state variable) by the dynamics."""
        self._set_state(self.dynamics.after_spike(self.v, spike, self._before))
        self._before = None

    # --- recording (no change to the dynamics) -------------------------------------------------
    @property
    def v_seq(self):
        """Post-reset membranes ``V[t]`` of the last sequence, ``[T, B, ...]`` (or ``None``)."""
        if self._v_seq is not None:
            return self._v_seq
        return torch.stack(self._v_steps) if self._v_steps else None

    # --- whole sequences -----------------------------------------------------------------------
    def run_sequence(self, current: torch.Tensor, w_rec: torch.Tensor | None = None) -> torch.Tensor:
        """Spikes of the whole sequence ``current [T, ...]`` (recurrent: ``+ W_rec S[t-1]``), continuing
        from the present state; leaves the state at the last step (and ``v_seq`` if stored). The model's
        fused kernel runs when the backend is ``"fused"`` and the model offers one; otherwise the loop
        over its ``step`` (:func:`~snnlib.model.dynamics.run_steps`)."""
        fused = self.fused_constants()
        if fused is not None:
            v0 = self.v if isinstance(self.v, torch.Tensor) else (None if self.v == 0.0 else float(self.v))
            spikes, v_out = lif_sequence(current, fused, v0=v0, w_rec=w_rec, keep_membranes=self.store_v_seq)
            v_seq, self.v = (v_out, v_out[-1]) if self.store_v_seq else (None, v_out)
        else:
            spikes, v_seq, state = run_steps(self.dynamics, current, self.state(current[0]), w_rec=w_rec)
            self._set_state(state)
        self._v_steps = []
        self._v_seq = v_seq if self.store_v_seq else None
        return spikes

    def fused_constants(self):
        """The constants of the model's fused kernel with this node's surrogate, or ``None`` when the
        sequence runs through the step loop (backend ``"torch"``, no kernel, a learned parameter, or a
        surrogate without ``derivative``)."""
        self.dynamics.use_surrogate(self.surrogate_function)
        return self.dynamics.fused() if self.backend == "fused" else None

    def clear_record(self) -> None:
        """Forget the recorded membranes (``v_seq``) without touching the state."""
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
        if self.backend == "fused":
            return self.run_sequence(x_seq)
        return super().multi_step_forward(x_seq)

    def reset(self):
        """Clear the state (back to 0) and any recorded sequence."""
        super().reset()
        self.clear_record()
