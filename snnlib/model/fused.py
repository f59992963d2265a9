r"""The fused time loop of the LIF variant node: a whole ``[T, ...]`` sequence in one autograd node.

The hook path of :class:`~snnlib.model.neurons.VariantNode` builds a graph of a few small operations per
time step, and the backward walks that graph op by op. Here one :class:`torch.autograd.Function` runs the
forward loop without recording a graph, keeps the pre-reset membranes ``H`` and the spikes ``S``, and
computes the surrogate-gradient backward in ONE reverse loop. It is an execution backend of the node
(``VariantNode(backend="fused")``, the default), like SpikingJelly's cupy backend; the dynamics are the
node's, step for step. On a CPU a step's elementwise work runs in compiled kernels
(:mod:`snnlib.model.fused_cpu`, one pass over the neurons per step); elsewhere, or where they cannot
run a call, the loops below are written with tensor operations (``kernel="torch"`` asks for those).

Forward (θ threshold, λ decay, ``I[t]`` input current, ``V[-1] = v0``, by default 0):

.. math::

    H[t] &= \lambda V[t-1] + I[t] \\
    S[t] &= \Theta(H[t] - \theta) \quad (\text{strict: } H > \theta) \\
    V[t] &= H[t] - S[t]\,(\kappa_h H[t] + \kappa_s \theta)

with ``(κ_h, κ_s) = (1, 0)`` for the hard reset (``V = H (1 - S)``), ``(0, 1)`` for the soft reset
(``V = H - θ S``) and ``(0, 0)`` for none (``V = H``). Recurrent layers add ``W_rec S[t-1]`` to the
current, ``I[t] = C[t] + W_rec S[t-1]`` with ``S[-1] = 0`` and ``C = W_in x + b`` computed for all steps
in one matrix product by the caller. A gain-normalised model charges with ``g I[t]`` instead of ``I[t]``
(``g = 1 - λ``, :attr:`Dynamics.input_gain`): feed-forward, the whole current is scaled once before the
loop (``g C``, the step's product, differentiated by autograd); recurrent, ``g I[t]`` is formed inside the
loop after the recurrent product, and the backward carries ``g`` through ``gC = g gH``,
``gS[t] ∋ g W_recᵀ gH[t+1]`` and ``gW_rec = g Σ gH[t]ᵀ S[t-1]``.

Backward, with ``g·`` the total derivative of the loss, ``σ'`` the surrogate derivative of the node's
surrogate function *at call time* (``surrogate.derivative``), ``ρ = 0`` with ``detach_reset`` else 1:

.. math::

    D[t] &= \sigma'(H[t] - \theta) \\
    \partial V/\partial H|_S &= 1 - \kappa_h S[t], \qquad
    \partial V/\partial S = -\rho\,(\kappa_h H[t] + \kappa_s \theta) \\
    gV[t] &= \bar g V[t] + \lambda\, gH[t+1] \\
    gS[t] &= \bar g S[t] + W_{rec}^\top gH[t+1] \;(\text{recurrent}) \\
    gH[t] &= gV[t]\,(\partial V/\partial H + \partial V/\partial S\; D[t]) + gS[t]\, D[t] \\
    gI[t] &= gH[t], \quad g v_0 = \lambda\, gH[0], \quad
    gW_{rec} = \textstyle\sum_{t \ge 1} gH[t]^\top S[t-1]

where ``ḡ`` are the gradients arriving at the outputs (spikes and, when used, membranes). When only the
last membrane is asked for (``keep_membranes=False``, a node that does not store ``v_seq``), the forward
keeps ``V`` in two buffers used in turn instead of writing ``[T, ...]`` membranes. The reverse
loop walks chunks of steps small enough to stay in cache (:data:`CHUNK_ELEMENTS`): what does not depend
on ``gH[t+1]`` (``D``, the bracket, ``ḡS D``) is computed for a whole chunk at once, then the chunk's steps
are carried back, two to four tensor operations per step. Passes over the whole sequence would be bound
by memory bandwidth on a CPU, and one pass per step by per-operation overhead.

Exactness: the forward uses the same floating-point operations as the hook path (``λ·V`` then ``+ I``;
the recurrent current as the product ``S[t-1] W_recᵀ`` rounded, then ``C[t] +`` it;
the reset written as a selection, which equals ``H (1 - S)`` and ``H - θ S`` bit for bit because ``S`` is
0 or 1), so spikes and membranes are identical to the hook path's. The backward equals the hook path's
autograd graph up to floating-point rounding. Every operation is elementwise, or a matrix product per
member, so a member's values do not depend on the other members stacked next to it (ensembles).

Layout: ``current`` has its time axis at ``time_dim`` (0 for ``[T, B, n]``, 1 for an ensemble's
``[M, T, B, n]``); decay, threshold and the reset coefficients are floats, or tensors that broadcast
against one time step (``[M, 1, 1]`` per member).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snnlib.model import fused_cpu
from snnlib.model.dynamics import RESET_COEFFICIENTS, reset_membrane


@dataclass(frozen=True)
class Dynamics:
    """Constants of one fused call: floats, or tensors broadcasting against one time step.

    Attributes:
        decay: λ.  threshold: θ.
        reset: ``"hard"``, ``"soft"`` or ``"none"`` for every neuron, or ``None`` for per-member modes
            given by ``kappa_hard`` / ``kappa_soft``.
        kappa_hard, kappa_soft: the reset coefficients κ_h, κ_s (only read when ``reset is None``).
        keep_reset: ρ, 1 to backpropagate through the reset, 0 to detach it (float or per member).
        derivative: the surrogate derivative σ'(z), a callable on tensors.
        input_gain: ``g`` of a gain-normalised model (``1 - λ``), ``None`` for 1: the loop then charges
            with ``g I[t]``, the step's own product (module docstring).
        formula: a callable giving the surrogate's ``(name, α)`` now (``StrictATan.formula``), for the
            compiled CPU kernels (:mod:`snnlib.model.fused_cpu`); ``None``: the tensor loop runs.
    """

    decay: float | torch.Tensor
    threshold: float | torch.Tensor
    reset: str | None
    derivative: object
    keep_reset: float | torch.Tensor = 1.0
    kappa_hard: float | torch.Tensor = 0.0
    kappa_soft: float | torch.Tensor = 0.0
    input_gain: float | torch.Tensor | None = None
    formula: object = None

    def coefficients(self):
        """``(κ_h, κ_s)`` as floats for a single mode, or the per-member tensors."""
        if self.reset is None:
            return self.kappa_hard, self.kappa_soft
        return RESET_COEFFICIENTS[self.reset]


class _FusedLIF(torch.autograd.Function):
    """Forward and surrogate backward of the LIF sequence (module docstring)."""

    @staticmethod
    def forward(ctx, current, v0, w_rec, dyn: Dynamics, time_dim: int, keep_membranes: bool, kernel: str):
        gain = dyn.input_gain if w_rec is not None else None  # feed-forward: lif_sequence scaled C
        compiled = fused_cpu.layout(current, dyn, time_dim, gain) if kernel == "auto" else None
        ctx.dyn, ctx.time_dim, ctx.has_v0, ctx.keep_membranes = dyn, time_dim, v0 is not None, keep_membranes
        ctx.gain, ctx.compiled = gain, compiled
        if compiled is not None:
            h_seq, s_seq, v_out = _compiled_forward(current, v0, w_rec, gain, time_dim, keep_membranes, compiled)
            ctx.save_for_backward(h_seq, s_seq, w_rec)
            ctx.set_materialize_grads(False)
            return s_seq, v_out
        h_seq = torch.empty_like(current, memory_format=torch.contiguous_format)
        s_seq = torch.empty_like(h_seq)
        hs, ss, cs = h_seq.unbind(time_dim), s_seq.unbind(time_dim), current.unbind(time_dim)
        if dyn.reset == "none":  # V is H
            v_seq, vs = h_seq, hs
        elif keep_membranes:
            v_seq = torch.empty_like(h_seq)
            vs = v_seq.unbind(time_dim)
        else:  # only the last V is returned: two buffers that stay in cache, used in turn
            v_seq, ring = None, torch.empty((2, *hs[0].shape), dtype=h_seq.dtype, device=h_seq.device)
            vs = [ring[t % 2] for t in range(len(hs))]
        lam, theta = dyn.decay, dyn.threshold
        unit_decay = not isinstance(lam, torch.Tensor) and lam == 1.0
        # plain numbers as 0-d tensors of the current's dtype: the same values, less per-call conversion
        lam, theta = (torch.tensor(x, dtype=current.dtype, device=current.device)
                      if not isinstance(x, torch.Tensor) else x for x in (lam, theta))
        kh, ks = dyn.coefficients()
        w_t = w_rec.transpose(-1, -2) if w_rec is not None else None
        product = _product(w_rec)
        i_buf = None
        for t in range(len(hs)):
            h, i_t = hs[t], cs[t]
            if w_t is not None and t > 0:  # I[t] = C[t] + W_rec S[t-1]: the product, then the sum, as the hook path
                i_t = i_buf = torch.add(i_t, product(ss[t - 1], w_t), out=i_buf)
            if gain is not None:  # g I[t], the product of the step's charge
                i_t = i_buf = torch.mul(i_t, gain, out=i_buf)
            prev = vs[t - 1] if t > 0 else v0
            if prev is None:  # V[-1] = 0
                h.copy_(i_t)
            elif unit_decay:  # 1·V = V exactly
                torch.add(prev, i_t, out=h)
            else:  # H = λ V + I, the hook's two roundings
                torch.mul(prev, lam, out=h).add_(i_t)
            s = torch.gt(h, theta, out=ss[t])
            if dyn.reset != "none":  # the reset, exact (every product is by S ∈ {0, 1}); none: V is H
                reset_membrane(h, s, theta, dyn.reset, kh, ks, out=vs[t])
        ctx.save_for_backward(h_seq, s_seq, w_rec)
        ctx.set_materialize_grads(False)
        return s_seq, (v_seq if keep_membranes else vs[-1].clone())

    @staticmethod
    def backward(ctx, g_spikes, g_v):
        h_seq, s_seq, w_rec = ctx.saved_tensors
        dyn, time_dim = ctx.dyn, ctx.time_dim
        steps = h_seq.shape[time_dim]
        if g_v is not None and not ctx.keep_membranes:  # the gradient of the last V only
            g_last, g_v = g_v, torch.zeros_like(h_seq)
            g_v.select(time_dim, steps - 1).copy_(g_last)
        product = _product(w_rec)
        g_h = torch.empty_like(h_seq)
        if ctx.compiled is not None:
            _compiled_backward(h_seq, g_h, g_spikes, g_v, w_rec, ctx.compiled, product, time_dim)
        else:
            _tensor_backward(dyn, time_dim, h_seq, s_seq, g_h, g_spikes, g_v, w_rec, ctx.gain, product)
        return _parameter_grads(ctx, g_h, s_seq, w_rec)


def _tensor_backward(dyn, time_dim, h_seq, s_seq, g_h, g_spikes, g_v, w_rec, gain, product) -> None:
    """The reverse loop written with tensor operations (module docstring): fills ``g_h`` with ``gH``.

    It walks chunks of steps small enough to stay in cache: the terms that do not depend on the future
    are computed for a whole chunk at once, then its steps are carried back."""
    steps, gs, rec = h_seq.shape[time_dim], g_h.unbind(time_dim), None
    chunk = max(1, CHUNK_ELEMENTS // max(1, h_seq.numel() // steps))  # steps per chunk
    for start in range((steps - 1) // chunk * chunk, -1, -chunk):
        n = min(chunk, steps - start)
        carries, ds = _local_terms(dyn, time_dim, h_seq.narrow(time_dim, start, n), s_seq.narrow(time_dim, start, n),
                                   g_h.narrow(time_dim, start, n),
                                   None if g_spikes is None else g_spikes.narrow(time_dim, start, n),
                                   None if g_v is None else g_v.narrow(time_dim, start, n))
        for t in range(start + n - 1, start - 1, -1):
            if t == steps - 1:
                continue
            nxt, g = gs[t + 1], gs[t]  # + gH[t+1] λ A, carried back through V[t] (just λ without reset)
            if carries is not None:
                g.addcmul_(nxt, carries[t - start])
            elif isinstance(dyn.decay, torch.Tensor):
                g.addcmul_(nxt, dyn.decay)
            else:
                g.add_(nxt, alpha=dyn.decay)
            if w_rec is not None:  # + (gH[t+1] W_rec) D[t], through S[t] into the next current
                rec = product(nxt, w_rec, out=rec)
                if gain is not None:  # through g I[t+1]
                    rec.mul_(gain)
                g.addcmul_(rec, ds[t - start])


def _parameter_grads(ctx, g_h, s_seq, w_rec):
    """The gradients of ``_FusedLIF.forward``'s inputs from ``gH``: ``gC = g gH``, ``g v0 = λ gH[0]`` and
    ``gW_rec = g Σ gH[t]ᵀ S[t-1]``."""
    time_dim, steps = ctx.time_dim, g_h.shape[ctx.time_dim]
    g_current = g_h if ctx.needs_input_grad[0] else None
    if g_current is not None and ctx.gain is not None:  # gC = g gI
        g_current = g_current * _along_time(ctx.gain, time_dim)
    g_v0 = torch.mul(g_h.select(time_dim, 0), ctx.dyn.decay) if ctx.has_v0 and ctx.needs_input_grad[1] else None
    g_w = None
    if w_rec is not None and ctx.needs_input_grad[2]:
        g_w = _rec_weight_grad(g_h, s_seq, time_dim, w_rec.dim()) if steps > 1 else torch.zeros_like(w_rec)
        if ctx.gain is not None:  # Σ (g gH[t])ᵀ S[t-1]
            g_w = g_w * ctx.gain
    return g_current, g_v0, g_w, None, None, None, None


def _compiled_forward(current, v0, w_rec, gain, time_dim, keep_membranes, compiled):
    """The forward through :func:`snnlib.model.fused_cpu.forward_kernel`: the whole sequence in one call
    (feed-forward), or one call per step after the step's recurrent product. Returns ``(H, S, V)`` with
    ``V`` every membrane or the last one (``keep_membranes``)."""
    members, params, mode, _ = compiled
    steps = current.shape[time_dim]
    h_seq = torch.empty_like(current, memory_format=torch.contiguous_format)
    s_seq = torch.empty_like(h_seq)
    h3, s3 = fused_cpu.as_steps(h_seq, members, steps), fused_cpu.as_steps(s_seq, members, steps)
    no_reset = mode == fused_cpu.RESET_CODES["none"]
    kernel = fused_cpu.forward_kernel(mode, gain is not None)  # gain only when recurrent (see forward)
    if no_reset:  # V is H
        v_seq, v3 = h_seq, h3
    elif keep_membranes:
        v_seq = torch.empty_like(h_seq)
        v3 = fused_cpu.as_steps(v_seq, members, steps)
    else:  # only the latest V: two rows used in turn, V[t] in row t % 2
        v_seq = torch.empty((members, 2, h3.shape[2]), dtype=h_seq.dtype)
        v3 = v_seq.numpy()
    v03 = v0.detach().contiguous().view(members, -1).numpy() if v0 is not None else fused_cpu.absent(h3.dtype, 2)
    c3 = fused_cpu.as_steps(current.contiguous(), members, steps)
    has_v0 = v0 is not None
    if w_rec is None:
        kernel(c3, c3, h3, s3, v3, v03, params, 0, steps, has_v0, False)
    else:  # R = W_rec S[t-1] by torch's matrix product, as in the tensor loop; C[t] + R and g I[t] in the kernel
        product, w_t, ss = _product(w_rec), w_rec.detach().transpose(-1, -2), s_seq.unbind(time_dim)
        rec = torch.empty_like(ss[0], memory_format=torch.contiguous_format)
        rec3 = rec.view(members, 1, -1).numpy()
        for t in range(steps):
            if t > 0:
                product(ss[t - 1], w_t, out=rec)
            kernel(c3, rec3, h3, s3, v3, v03, params, t, t + 1, has_v0, t > 0)
    if keep_membranes:
        return h_seq, s_seq, v_seq
    last = h_seq.select(time_dim, steps - 1) if no_reset else \
        v_seq[:, (steps - 1) % 2].view_as(current.select(time_dim, 0))
    return h_seq, s_seq, last.clone()


def _compiled_backward(h_seq, g_h, g_spikes, g_v, w_rec, compiled, product, time_dim) -> None:
    """The reverse loop through :func:`snnlib.model.fused_cpu.backward_kernel`: fills ``g_h``; one call for
    the whole sequence (feed-forward), or one per step after the recurrent product ``gH[t+1] W_rec``."""
    members, params, mode, surrogate = compiled
    steps = h_seq.shape[time_dim]
    as_steps = lambda x: fused_cpu.as_steps(x, members, steps)  # noqa: E731
    h3, gh3 = as_steps(h_seq), as_steps(g_h)
    none = fused_cpu.absent(h3.dtype)
    gs3 = as_steps(g_spikes.contiguous()) if g_spikes is not None else none
    gv3 = as_steps(g_v.contiguous()) if g_v is not None else none
    has_gs, has_gv = g_spikes is not None, g_v is not None
    kernel = fused_cpu.backward_kernel(mode, surrogate)
    if w_rec is None:
        kernel(h3, gh3, gs3, gv3, none, params, 0, steps, has_gs, has_gv, False)
        return
    gs, w = g_h.unbind(time_dim), w_rec.detach()
    rec = torch.empty_like(gs[0], memory_format=torch.contiguous_format)  # gH[t+1] W_rec, one step
    rec3 = rec.view(members, 1, -1).numpy()
    for t in range(steps - 1, -1, -1):
        if t < steps - 1:
            product(gs[t + 1], w, out=rec)
        kernel(h3, gh3, gs3, gv3, rec3, params, t, t + 1, has_gs, has_gv, t < steps - 1)


#: the implementations of the loop: the compiled CPU kernels where they can run, or the tensor loop
KERNELS = ("auto", "torch")

#: the most elements per tensor of one chunk of steps in the backward (about 512 KiB of float32)
CHUNK_ELEMENTS = 1 << 17


def _local_terms(dyn: Dynamics, time_dim: int, h, s, g, g_spikes, g_v):
    """For a chunk of steps: write ``ḡS D + ḡV A`` into ``g`` and return the per-step views of the carry
    factor ``λ A`` (``None`` without reset) and of ``D``."""
    kh, ks = (_along_time(c, time_dim) for c in dyn.coefficients())
    lam = _along_time(dyn.decay, time_dim)
    theta, keep = _along_time(dyn.threshold, time_dim), _along_time(dyn.keep_reset, time_dim)
    d = dyn.derivative(h - theta)  # D = σ'(H - θ)
    # A = ∂V/∂H + ∂V/∂S · D
    if dyn.reset == "none":
        a = None  # 1
    elif dyn.reset == "hard":  # 1 - S - ρ H D
        a = torch.mul(h, d).mul_(-keep).sub_(s).add_(1.0)
    elif dyn.reset == "soft":  # 1 - ρ θ D
        a = torch.mul(d, -(theta * keep)).add_(1.0)
    else:  # 1 - κ_h S - ρ (κ_h H + κ_s θ) D
        a = torch.mul(h, kh).add_(torch.mul(ks, theta)).mul_(d).mul_(-keep)
        a.sub_(torch.mul(s, kh)).add_(1.0)
    if g_spikes is not None:
        torch.mul(g_spikes, d, out=g)
    else:
        g.zero_()
    if g_v is not None:
        g.add_(g_v) if a is None else g.addcmul_(g_v, a)
    carries = a.mul_(lam).unbind(time_dim) if a is not None else None
    return carries, d.unbind(time_dim)


def _product(w_rec):
    """The recurrent matrix product: ``torch.mm`` for ``[n, n]`` weights, ``torch.bmm`` per member."""
    return torch.mm if w_rec is not None and w_rec.dim() == 2 else torch.bmm


def _along_time(value, time_dim: int):
    """A per-step constant made to broadcast against a run of steps (a time axis inserted)."""
    if isinstance(value, torch.Tensor) and value.dim() > time_dim:
        return value.unsqueeze(time_dim)
    return value


def _rec_weight_grad(g_h: torch.Tensor, s_seq: torch.Tensor, time_dim: int, w_dims: int) -> torch.Tensor:
    """``Σ_{t≥1} gH[t]^T S[t-1]`` as one matrix product (one per member for 3-d weights)."""
    steps, n = g_h.shape[time_dim], g_h.shape[-1]
    later = g_h.narrow(time_dim, 1, steps - 1)
    earlier = s_seq.narrow(time_dim, 0, steps - 1)
    if w_dims == 2:
        return later.reshape(-1, n).transpose(0, 1) @ earlier.reshape(-1, n)
    members = g_h.shape[0]
    return torch.bmm(later.reshape(members, -1, n).transpose(1, 2), earlier.reshape(members, -1, n))


def lif_sequence(current: torch.Tensor, dyn: Dynamics, v0: torch.Tensor | None = None,
                 w_rec: torch.Tensor | None = None, time_dim: int = 0,
                 keep_membranes: bool = True, kernel: str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """Run the LIF dynamics over the whole sequence in one fused autograd node.

    Args:
        current: ``C`` (or ``I`` without recurrence), time along ``time_dim``.
        dyn: the constants (:class:`Dynamics`).
        v0: the membrane before the first step (``None``: 0).
        w_rec: recurrent weights ``[n, n]`` (or ``[M, n, n]`` per member), ``None`` for feed-forward.
        keep_membranes: return every post-reset membrane; ``False``: only the last, ``V[T-1]`` (the
            others are never written to memory, which saves a pass over ``[T, ...]`` per call).
        kernel: ``"auto"`` (the compiled CPU kernels of :mod:`snnlib.model.fused_cpu` where they can run
            the call, else the tensor loop) or ``"torch"`` (the tensor loop always; the same spikes and
            membranes, gradients equal up to rounding).
    Returns:
        ``(spikes, v_seq)``: ``S[t]`` shaped like ``current`` (0/1 in the current's dtype) and the
        post-reset membranes ``V[t]`` shaped like ``current``, whose last step is the final state; with
        ``keep_membranes=False`` ``V[T-1]`` alone (the current without its time axis).
    """
    if w_rec is not None and current.dim() != (3 if w_rec.dim() == 2 else 4):
        raise ValueError(f"current must be [T, B, n] with 2-d w_rec, or [M, T, B, n] with 3-d w_rec; got "
                         f"shapes {tuple(current.shape)} and {tuple(w_rec.shape)}")
    if dyn.input_gain is not None and w_rec is None:  # H = λ V + (g I): the step's product; autograd: g gI
        current = current * _along_time(dyn.input_gain, time_dim)
    if v0 is not None and not isinstance(v0, torch.Tensor):
        v0 = torch.full_like(current.select(time_dim, 0), float(v0)) if float(v0) != 0.0 else None
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    return _FusedLIF.apply(current, v0, w_rec, dyn, time_dim, keep_membranes, kernel)
