r"""Neuron dynamics: the one interface every neuron model implements, the reset modes, and LIF.

A neuron model is a :class:`NeuronDynamics`: it declares its state variables (``state_names``, the
membrane ``v`` first), holds its parameters as tensors -- shared (shape ``()``), per neuron (``(n,)``),
buffers when fixed and ``nn.Parameter`` when learned -- and computes one time step in plain torch::

    spikes, state = dynamics.step(current, state)      # current [..., n], state {name: [..., n]}

``step`` is *charge - fire - reset*, SpikingJelly's order, as three methods a model may override:

.. math::

    \text{charge:}\quad & H[t] = \text{charge}(I[t], \text{state}[t-1])          \\
    \text{fire:}\quad   & S[t] = \Theta(H[t] - \theta_{\text{eff}}[t])            \\
    \text{reset:}\quad  & V[t] = H[t] - S[t]\,(\kappa_h H[t] + \kappa_s \theta_{\text{eff}}[t])

with the reset coefficients :math:`(\kappa_h, \kappa_s)` = (1, 0) hard (to 0), (0, 1) soft (subtract θ),
(0, 0) none. :func:`reset_membrane` is the only place the reset modes are written. ``Θ`` is the spike
function: strict Heaviside forward, a surrogate derivative backward (the owner's, set by
:meth:`NeuronDynamics.use_surrogate`).

:class:`~snnlib.model.neurons.VariantNode` is the SpikingJelly face of a model: its hooks call
``charge``, ``fire`` and ``after_spike``. Sequences run through :func:`run_steps`, a loop over ``step``
(feed-forward, recurrent and stacked ensembles alike), or through a model's optional fused kernel
(:meth:`NeuronDynamics.fused`; LIF has one, :mod:`snnlib.model.fused`), which must give the same numbers.

Ensembles stack the models of their members (:meth:`NeuronDynamics.stack`): every tensor gets a leading
member axis and a broadcast axis for the batch (``()`` -> ``[M, 1, 1]``, ``(n,)`` -> ``[M, 1, n]``), so the
same ``step`` runs on ``[M, B, n]``. A new neuron model is one subclass plus :func:`register_neuron`; the
contract tests in ``tests/test_neuron_contract.py`` run over every registered model.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from snnlib.model import registry
from snnlib.model.variants import RESETS

#: (κ_h, κ_s) of each reset mode: V = H - S (κ_h H + κ_s θ)
RESET_COEFFICIENTS = {"hard": (1.0, 0.0), "soft": (0.0, 1.0), "none": (0.0, 0.0)}


def check_reset(reset: str) -> str:
    """Return ``reset``, or raise ``ValueError`` naming the reset modes."""
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
    return reset


def check_decay(decay: float) -> float:
    """Return ``decay`` as a float, or raise ``ValueError`` if it is outside [0, 1]."""
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 <= float(decay) <= 1.0:
        raise ValueError(f"decay must be a number in [0, 1] (1 = no leakage), got {decay!r}")
    return float(decay)


def check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not threshold > 0:
        raise ValueError(f"threshold must be a number > 0, got {threshold!r}")
    return float(threshold)


def reset_membrane(h: torch.Tensor, s: torch.Tensor, threshold, mode: str | None, kappa_hard=None,
                   kappa_soft=None, out: torch.Tensor | None = None) -> torch.Tensor:
    r"""The post-reset membrane :math:`V = H - S\,(\kappa_h H + \kappa_s \theta)`.

    ``mode``: ``"hard"`` (:math:`V = H (1 - S)`), ``"soft"`` (:math:`V = H - \theta S`), ``"none"``
    (:math:`V = H`), or ``None`` for per-member modes given by the coefficient tensors ``kappa_hard`` and
    ``kappa_soft``. Written so that every product is by ``S ∈ {0, 1}``, hence exact: the same bits as
    ``H (1 - S)`` and ``H - θ S``. ``out``: write into this tensor (the fused loop)."""
    if mode == "hard":
        return torch.addcmul(h, h, s, value=-1.0, out=out)
    if mode == "soft":  # H - 1·(S θ): the same bits as H + S (-θ), without negating θ at every step
        theta = threshold if isinstance(threshold, torch.Tensor) else torch.tensor(threshold, dtype=h.dtype, device=h.device)
        return torch.addcmul(h, s, theta, value=-1.0, out=out)
    if mode == "none":
        return h if out is None else out.copy_(h)
    return torch.addcmul(h, s, torch.addcmul(torch.mul(kappa_soft, threshold), kappa_hard, h), value=-1.0, out=out)


def keep_rows(tensor: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The rows ``positions`` of a stacked tensor (its leading member axis), a copy: a parameter stays a
    parameter (with its ``requires_grad``), a buffer a plain tensor."""
    kept = tensor.detach()[positions].clone()
    return nn.Parameter(kept, requires_grad=tensor.requires_grad) if isinstance(tensor, nn.Parameter) else kept


def _strict_heaviside(z: torch.Tensor) -> torch.Tensor:
    return (z > 0).to(z)


class NeuronDynamics(nn.Module):
    """A neuron model (module docstring). Subclasses call ``super().__init__(size, reset, threshold)``,
    register their parameters as tensors, and implement :meth:`charge`; multi-variable models also
    override :meth:`firing_threshold` and :meth:`after_spike` and list their ``state_names``.

    Args:
        size: neurons per layer (per-neuron parameters need it; ``None`` for shared parameters only).
        reset: ``"hard"``, ``"soft"`` or ``"none"``.
        threshold: the firing threshold θ > 0.
        detach_reset: cut the reset out of the backward graph (SpikingJelly's option).
    """

    #: the state variables, the membrane first; each starts at 0
    state_names: tuple[str, ...] = ("v",)

    def __init__(self, size: int | None = None, reset: str = "hard", threshold: float = 1.0,
                 detach_reset: bool = False):
        super().__init__()
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ValueError(f"size must be a positive integer or None, got {size!r}")
        self.size = size
        self.reset_mode: str | None = check_reset(reset)
        kh, ks = RESET_COEFFICIENTS[reset]
        self.register_buffer("threshold", torch.tensor(check_threshold(threshold)))
        self.register_buffer("keep_reset", torch.tensor(0.0 if detach_reset else 1.0))
        self.register_buffer("kappa_hard", torch.tensor(kh))
        self.register_buffer("kappa_soft", torch.tensor(ks))
        self.use_surrogate(_strict_heaviside)

    # --- the spike function ------------------------------------------------------------------------
    def use_surrogate(self, spike_fn) -> None:
        """Fire through ``spike_fn`` (a SpikingJelly surrogate: Heaviside forward, surrogate backward).
        Kept as a plain attribute, not a submodule: the owner (node or ensemble layer) decides it."""
        object.__setattr__(self, "spike_fn", spike_fn)

    # --- one step ----------------------------------------------------------------------------------
    def initial_state(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every state variable at 0, shaped like one step of the current."""
        return {name: torch.zeros_like(like) for name in self.state_names}

    def charge(self, current: torch.Tensor, state: dict) -> torch.Tensor:
        """``H[t]`` from the input current ``I[t]`` and the state of the previous step."""
        raise NotImplementedError

    def firing_threshold(self, state: dict):
        """θ_eff[t], the threshold H is compared with (θ; adaptive models add their own term)."""
        return self.threshold

    def fire(self, h: torch.Tensor, state: dict) -> torch.Tensor:
        """``S[t] = Θ(H[t] - θ_eff[t])`` through the spike function."""
        return self.spike_fn(h - self.firing_threshold(state))

    def reset_spikes(self, s: torch.Tensor) -> torch.Tensor:
        """The spikes the reset sees: ``S`` itself, detached where ``detach_reset`` (same values)."""
        if not self.keep_reset.requires_grad and self.keep_reset.dim() == 0:
            return s if float(self.keep_reset) == 1.0 else s.detach()
        return torch.lerp(s.detach(), s, self.keep_reset)  # per member: ρ S + (1 - ρ) sg(S)

    def after_spike(self, h: torch.Tensor, s: torch.Tensor, state: dict) -> dict:
        """The next state: the membrane reset by the mode (:func:`reset_membrane`)."""
        return {"v": reset_membrane(h, self.reset_spikes(s), self.firing_threshold(state), self.reset_mode,
                                    self.kappa_hard, self.kappa_soft)}

    def step(self, current: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """One step, charge - fire - reset: ``(S[t], state[t])``."""
        h = self.charge(current, state)
        s = self.fire(h, state)
        return s, self.after_spike(h, s, state)

    # --- an optional accelerator -----------------------------------------------------------------
    def fused(self):
        """The constants of a fused kernel for this model now (:class:`snnlib.model.fused.Dynamics`),
        or ``None`` when there is none or it cannot run (the loop over :meth:`step` is used)."""
        return None

    # --- ensembles -----------------------------------------------------------------------------------
    def tensors(self) -> dict[str, torch.Tensor]:
        """This model's own parameters and buffers, by name."""
        return {**dict(self.named_parameters(recurse=False)), **dict(self.named_buffers(recurse=False))}

    @classmethod
    def stack(cls, members: list[NeuronDynamics]) -> NeuronDynamics:
        """One model of ``M`` members' models of this class: each tensor stacked on a leading member
        axis with a broadcast axis for the batch (``()`` -> ``[M, 1, 1]``, ``(n,)`` -> ``[M, 1, n]``);
        parameters stay parameters. Members must share class, size and tensor shapes."""
        first = members[0]
        for other in members[1:]:
            if type(other) is not type(first) or other.size != first.size:
                raise ValueError(f"ensemble members must share one neuron model and size, got "
                                 f"{type(first).__name__}({first.size}) and {type(other).__name__}({other.size})")
        stacked = copy.deepcopy(first)
        modes = {m.reset_mode for m in members}
        stacked.reset_mode = modes.pop() if len(modes) == 1 else None
        stacked.member_shapes = {}
        for name, tensor in first.tensors().items():
            values = [m.tensors()[name] for m in members]
            if any(v.shape != tensor.shape for v in values):
                raise ValueError(f"ensemble members must agree on the shape of {name!r}, got "
                                 f"{[tuple(v.shape) for v in values]}")
            column = torch.stack([v.detach() for v in values]).reshape(len(members), 1, *(tensor.shape or (1,)))
            stacked.member_shapes[name] = tuple(tensor.shape)
            if isinstance(tensor, nn.Parameter):
                setattr(stacked, name, nn.Parameter(column.clone(), requires_grad=tensor.requires_grad))
            else:
                setattr(stacked, name, column.clone())
        stacked.use_surrogate(first.spike_fn)
        return stacked

    def keep_members(self, positions: torch.Tensor) -> None:
        """Keep only the stacked members at ``positions`` (in that order), every tensor sliced along its
        member axis (:func:`keep_rows`)."""
        for name, tensor in self.tensors().items():
            setattr(self, name, keep_rows(tensor, positions))

    def member(self, name: str, i: int) -> torch.Tensor:
        """Member ``i``'s value of tensor ``name`` of a stacked model, in the member's own shape (a copy)."""
        return getattr(self, name)[i].detach().reshape(self.member_shapes[name]).clone()


class LIF(NeuronDynamics):
    r"""Leaky integrate-and-fire: one state variable, the membrane ``V``.

    .. math::  H[t] = \lambda\, V[t-1] + g\, I[t], \qquad g = \begin{cases}
                   1 & \text{raw (the study's default)} \\ 1 - \lambda & \text{gain-normalised} \end{cases}

    ``λ = 1`` is the non-leaky IF neuron (the registered name ``IF``). Gain normalisation scales the
    input so that a constant input ``I`` drives the membrane towards ``I`` whatever λ (SpikingJelly's
    ``decay_input=True``); raw input sets the gain ``1/(1 - λ)`` too. With the hard reset this is
    ``snntorch.Leaky(beta=λ, reset_mechanism="zero")``, step for step.

    Args:
        decay: λ ∈ [0, 1] (shared by the layer). gain_normalised: scale the input by ``1 - λ``.
        size, reset, threshold, detach_reset: see :class:`NeuronDynamics`.
    """

    def __init__(self, size: int | None = None, decay: float = 0.5, reset: str = "hard", threshold: float = 1.0,
                 detach_reset: bool = False, gain_normalised: bool = False):
        super().__init__(size, reset, threshold, detach_reset)
        self.register_buffer("decay", torch.tensor(check_decay(decay)))
        self.gain_normalised = bool(gain_normalised)

    def input_gain(self):
        """``g``: 1, or ``1 - λ`` when gain-normalised."""
        return torch.sub(1.0, self.decay) if self.gain_normalised else None

    def charge(self, current, state):
        """``H = λ V + g I`` (λ·V first, then the input: the rounding of SpikingJelly's hook)."""
        gain = self.input_gain()
        return torch.mul(state["v"], self.decay).add_(current if gain is None else current * gain)

    def fused(self):
        """The fused LIF loop's constants (with the input gain ``g`` when gain-normalised), unless a tensor
        of this model is learned (the kernel has no gradient for them) or the spike function has no
        ``derivative``."""
        from snnlib.model.fused import Dynamics

        derivative = getattr(self.spike_fn, "derivative", None)
        if derivative is None or any(t.requires_grad for t in self.tensors().values()):
            return None
        return Dynamics(decay=self.decay, threshold=self.threshold, reset=self.reset_mode, derivative=derivative,
                        keep_reset=self.keep_reset, kappa_hard=self.kappa_hard, kappa_soft=self.kappa_soft,
                        input_gain=self.input_gain(), formula=getattr(self.spike_fn, "formula", None))


def run_steps(dynamics: NeuronDynamics, current: torch.Tensor, state: dict | None = None,
              w_rec: torch.Tensor | None = None, time_dim: int = 0):
    r"""The generic time loop: ``step`` at every time step of ``current`` (time along ``time_dim``).

    Recurrent layers add :math:`W_{rec} S[t-1]` to the current (``S[-1] = 0``): the product (``mm``, or
    ``bmm`` for per-member ``[M, n, n]`` weights), then the sum, the fused loop's operations. Returns
    ``(spikes, v_seq, state)``: spikes and post-reset membranes stacked along ``time_dim``, and the state
    after the last step."""
    steps = current.unbind(time_dim)
    state = dynamics.initial_state(steps[0]) if state is None else state
    product = torch.mm if w_rec is not None and w_rec.dim() == 2 else torch.bmm
    spikes, membranes, s = [], [], None
    for t, i_t in enumerate(steps):
        if w_rec is not None and t > 0:
            i_t = i_t + product(s, w_rec.transpose(-1, -2))
        s, state = dynamics.step(i_t, state)
        spikes.append(s)
        membranes.append(state["v"])
    return torch.stack(spikes, time_dim), torch.stack(membranes, time_dim), state


def register_neuron(name: str, cls: type[NeuronDynamics], **fixed) -> None:
    """Register a neuron model under ``name``: ``Variant.parse`` then takes ``name``, ``R<name>``,
    ``<name>-soft``, ``<name>-noreset`` and so on, and ``build_snn`` builds it. ``fixed``: parameters the
    name fixes (e.g. ``decay=1.0`` for a non-leaky form). ``cls`` must subclass :class:`NeuronDynamics`
    and take ``(size, decay, reset, threshold, detach_reset)`` keywords."""
    if not (isinstance(cls, type) and issubclass(cls, NeuronDynamics)):
        raise ValueError(f"cls must be a NeuronDynamics subclass, got {cls!r}")
    registry.add(name, cls, fixed)
