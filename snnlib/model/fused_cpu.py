r"""The fused LIF loop's elementwise work compiled for the CPU (numba): one pass over the neurons per step.

:mod:`snnlib.model.fused` runs a whole LIF sequence in one autograd node. Written with tensor operations, a
time step of the forward is four of them (``λ·V``, ``+ I``, the comparison, the reset) and the backward's
local terms (σ', the reset's factor ``A``, the carry ``λ A``) about a dozen passes over the sequence; on a
CPU each operation costs a few microseconds of dispatch and a trip through memory, which made the LIF
layer cost about as much as its matrix products. The two kernels here do the same work in one loop over
the neurons, which LLVM vectorises:

- :func:`forward_kernel` (steps ``t0 … t1-1``, in order; module :mod:`snnlib.model.fused` for the symbols)

  .. math::  I = C \;(+\; R), \quad H = \lambda V_{prev} + I \;(\text{or } g I), \quad S = [H > \theta], \quad
             V = H + (-S)\,(\kappa_h H + \kappa_s \theta)

  where ``R = W_rec S[t-1]`` is the recurrent term, the caller's matrix product between steps, with the
  floating-point operations of the tensor loop: ``C + R`` rounded; ``λ·V`` rounded, then ``+ I``; ``g·I`` rounded;
  the reset written as ``H + (-S)·X`` exactly as ``torch.addcmul`` writes it, every product by
  ``S ∈ {0, 1}`` or ``κ ∈ {0, 1}`` exact (so a fused multiply-add cannot change it). Spikes and membranes
  are therefore the tensor loop's, bit for bit.
- :func:`backward_kernel` (steps ``t1-1 … t0``, in reverse)

  .. math::  D = \sigma'(H - \theta), \quad
             A = 1 - \kappa_h S - \rho(\kappa_h H + \kappa_s \theta) D, \quad
             gH[t] = \bar g S\, D + \bar g V\, A + \lambda A\, gH[t+1] \;(+\; R[t]\, D)

  where ``R[t] = g\, gH[t+1] W_{rec}`` is the recurrent term: the caller computes the matrix product
  between steps, the kernel multiplies it by ``g``. ``S`` is not read back: it is ``[H > θ]``, the
  forward's own comparison. The same terms as the tensor backward, summed in another order: equal up to
  rounding.

Each kernel is compiled once per reset mode (and surrogate, or gain inside the step): numba reads them as
constants, so the branches of the one-neuron helpers (:func:`_fire`, :func:`_derivative`, :func:`_carry`)
leave the loop, and a step's charge, spike and reset (or its ``D``, ``A`` and ``gH``) are one pass over the
neurons with no branch inside. Side by side in one process (2 threads, the ``snnlib bench`` shape, median
of 21): per-step passes → one pass took RLIF from 36.5 to 33.5 ms and LIF from 19.1 to 17.7 ms.

The surrogate derivative is compiled in: the kernels know the formulas of :class:`StrictATan` (``"atan"``,
:math:`\sigma'(z) = \frac{\alpha}{2}\,/\,(1 + (\frac{\pi}{2}\alpha z)^2)`) and :class:`StrictSigmoid`
(``"sigmoid"``, :math:`\sigma'(z) = \alpha\, s (1 - s)`, :math:`s = 1/(1 + e^{-\alpha z})`); a surrogate
that names another formula (or none) runs through the tensor loop.

Layout: every sequence is viewed as ``[M, T, K]`` (``M`` members, ``T`` steps, ``K`` = batch × neurons,
C-contiguous) and every constant is one value per member, ``params[M, 10]`` in the data's dtype (columns
:data:`PARAMS`). :func:`layout` builds the constants, or says ``None`` when the kernels cannot run the call
(not a CPU tensor, not float32/float64, a constant that varies inside a member, an unknown surrogate);
the tensor loop then runs it. Single-threaded: no thread pool to clash with torch's or with worker
processes.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from numba import njit

#: the columns of ``params``: λ, θ, κ_h, κ_s, ρ, g, the constant 1, and the surrogate's α, π α / 2, α / 2
PARAMS = ("decay", "threshold", "kappa_hard", "kappa_soft", "keep_reset", "input_gain", "one",
          "alpha", "half_pi_alpha", "half_alpha")
#: reset modes as the kernels number them; ``None`` (per-member κ) is 3
RESET_CODES = {"hard": 0, "soft": 1, "none": 2, None: 3}
#: surrogate formulas the kernels know
SURROGATE_CODES = {"atan": 0, "sigmoid": 1}


@lru_cache(maxsize=None)
def forward_kernel(mode: int, gain_inside: bool):
    """The forward compiled for one reset mode, with or without the gain ``g I[t]`` inside the step:
    numba reads both as constants, so one loop over the neurons does a step's charge, spike and reset
    with no branch left inside it (LLVM vectorises it).

    The kernel, ``kernel(cur, rec, h, s, v, v0, params, t0, t1, has_v0, has_rec)``, runs steps
    ``t0 … t1-1``: ``cur[:, t]`` is ``C[t]``, to which ``rec[:, 0]`` (``W_rec S[t-1]``, one step) is added
    when ``has_rec``; ``v`` holds ``V[t]`` in row ``t % v.shape[1]`` (every step, or two rows used in turn
    when only the last is kept); ``v0[m]`` is ``V[-1]`` when ``has_v0``."""

    @njit(cache=True, nogil=True, error_model="numpy")
    def kernel(cur, rec, h, s, v, v0, params, t0, t1, has_v0, has_rec):  # pragma: no cover
        members, _, width = h.shape
        slots = v.shape[1]  # T, or 2: V[t] in row t % 2, two rows used in turn
        for m in range(members):
            lam, theta, kh, ks = params[m, 0], params[m, 1], params[m, 2], params[m, 3]
            gain, one = params[m, 5], params[m, 6]
            zero, kst = one - one, ks * theta
            for t in range(t0, t1):
                c_row, h_row, s_row = cur[m, t], h[m, t], s[m, t]
                v_row = v[m, t % slots]
                has_prev = t > 0 or has_v0
                prev = (v[m, (t - 1) % slots] if t > 0 else v0[m]) if has_prev else v_row
                if has_rec:
                    r_row = rec[m, 0]
                    if has_prev:
                        for k in range(width):
                            hv = prev[k] * lam + _gained(gain_inside, c_row[k] + r_row[k], gain)
                            _fire(mode, k, hv, h_row, s_row, v_row, theta, one, zero, kh, kst)
                    else:
                        for k in range(width):
                            hv = _gained(gain_inside, c_row[k] + r_row[k], gain)
                            _fire(mode, k, hv, h_row, s_row, v_row, theta, one, zero, kh, kst)
                elif has_prev:
                    for k in range(width):
                        hv = prev[k] * lam + _gained(gain_inside, c_row[k], gain)
                        _fire(mode, k, hv, h_row, s_row, v_row, theta, one, zero, kh, kst)
                else:
                    for k in range(width):
                        hv = _gained(gain_inside, c_row[k], gain)
                        _fire(mode, k, hv, h_row, s_row, v_row, theta, one, zero, kh, kst)

    return kernel


@njit(inline="always", error_model="numpy")
def _gained(gain_inside, current, gain):  # pragma: no cover
    """``g I`` rounded, as ``torch.mul`` (``I`` itself without the gain inside the step)."""
    return current * gain if gain_inside else current


@njit(inline="always", error_model="numpy")
def _fire(mode, k, hv, h_row, s_row, v_row, theta, one, zero, kh, kst):  # pragma: no cover
    """Store ``H``, ``S = [H > θ]`` and the reset ``V`` of neuron ``k``, written as ``torch.addcmul`` writes it:
    hard (0) ``H + (-H)·S``, soft (1) ``H + (-S)·θ``, none (2) ``V`` is ``H``, per-member κ (3)
    ``H + (-S)·(κ_s θ + κ_h H)``."""
    h_row[k] = hv
    sv = one if hv > theta else zero
    s_row[k] = sv
    if mode == 0:
        v_row[k] = hv + (-hv) * sv
    elif mode == 1:
        v_row[k] = hv + (-sv) * theta
    elif mode == 3:
        v_row[k] = hv + (-sv) * (kst + kh * hv)


@njit(inline="always", error_model="numpy")
def _derivative(surrogate, hv, theta, one, alpha, half_pi_alpha, half_alpha):  # pragma: no cover
    """``D = σ'(z)``, ``z = H - θ``, of one neuron: atan (0) ``α/2 / (1 + (π α z / 2)²)``, sigmoid (1)
    ``α s (1 - s)`` with ``s = 1 / (1 + exp(-α z))``."""
    if surrogate == 0:
        a = (hv - theta) * half_pi_alpha
        return half_alpha / (one + a * a)
    sg = one / (one + math.exp(-(alpha * (hv - theta))))
    return alpha * sg * (one - sg)


@njit(inline="always", error_model="numpy")
def _carry(mode, hv, dk, theta, one, zero, keep, kh, kst):  # pragma: no cover
    """The reset's factor ``A`` of one neuron: hard (0) ``1 - S - ρ H D``, soft (1) ``1 - ρ θ D``, none (2) 1,
    per-member κ (3) ``1 - κ_h S - ρ (κ_h H + κ_s θ) D``, with ``S = [H > θ]``."""
    if mode == 0:
        return one - (one if hv > theta else zero) - keep * hv * dk
    if mode == 1:
        return one - keep * theta * dk
    if mode == 2:
        return one
    return one - kh * (one if hv > theta else zero) - keep * (kh * hv + kst) * dk


@lru_cache(maxsize=None)
def backward_kernel(mode: int, surrogate: int):
    """The backward compiled for one reset mode and one surrogate formula: numba reads both as constants,
    so the branches of :func:`_derivative` and :func:`_carry` leave the loops and LLVM vectorises them.

    The kernel, ``kernel(h, gh, gs, gv, rec, params, t0, t1, has_gs, has_gv, has_rec)``, runs steps
    ``t1-1 … t0`` and writes ``gH[t]``; ``gH[t+1]`` is read when ``t + 1 < T``, and ``rec[:, 0]``
    (``gH[t+1] W_rec``, which the kernel multiplies by ``g``) when ``has_rec``. The spikes are not read:
    ``S = [H > θ]`` again, the forward's own comparison (one sequence less to bring from memory)."""

    @njit(cache=True, nogil=True, error_model="numpy")
    def kernel(h, gh, gs, gv, rec, params, t0, t1, has_gs, has_gv, has_rec):  # pragma: no cover
        members, steps, width = h.shape
        term_by_term = not has_gs or has_gv or t1 == steps  # the rows below are only needed then
        d = np.empty(width if term_by_term else 1, dtype=h.dtype)
        carry = np.empty(width if term_by_term else 1, dtype=h.dtype)
        for m in range(members):
            lam, theta, kh, ks, keep = params[m, 0], params[m, 1], params[m, 2], params[m, 3], params[m, 4]
            gain, one, alpha = params[m, 5], params[m, 6], params[m, 7]
            half_pi_alpha, half_alpha = params[m, 8], params[m, 9]
            zero, kst = one - one, ks * theta
            for t in range(t1 - 1, t0 - 1, -1):
                h_row, g_row = h[m, t], gh[m, t]
                later = t + 1 < steps
                if has_gs and not has_gv and later:  # the usual case (a loss on spikes): one loop
                    gs_row, nxt = gs[m, t], gh[m, t + 1]
                    if has_rec:
                        rec_row = rec[m, 0]
                        for k in range(width):
                            hv = h_row[k]
                            dk = _derivative(surrogate, hv, theta, one, alpha, half_pi_alpha, half_alpha)
                            ck = _carry(mode, hv, dk, theta, one, zero, keep, kh, kst)
                            g_row[k] = gs_row[k] * dk + nxt[k] * (lam * ck) + rec_row[k] * gain * dk
                    else:
                        for k in range(width):
                            hv = h_row[k]
                            dk = _derivative(surrogate, hv, theta, one, alpha, half_pi_alpha, half_alpha)
                            ck = _carry(mode, hv, dk, theta, one, zero, keep, kh, kst)
                            g_row[k] = gs_row[k] * dk + nxt[k] * (lam * ck)
                    continue
                for k in range(width):  # otherwise term by term, on rows that stay in cache
                    hv = h_row[k]
                    dk = _derivative(surrogate, hv, theta, one, alpha, half_pi_alpha, half_alpha)
                    d[k] = dk
                    carry[k] = _carry(mode, hv, dk, theta, one, zero, keep, kh, kst)
                if has_gs:  # ḡS D
                    gs_row = gs[m, t]
                    for k in range(width):
                        g_row[k] = gs_row[k] * d[k]
                else:
                    for k in range(width):
                        g_row[k] = zero
                if has_gv:  # + ḡV A
                    gv_row = gv[m, t]
                    for k in range(width):
                        g_row[k] += gv_row[k] * carry[k]
                if later:  # + λ A gH[t+1]
                    nxt = gh[m, t + 1]
                    for k in range(width):
                        g_row[k] += nxt[k] * (lam * carry[k])
                    if has_rec:  # + g (gH[t+1] W_rec) D
                        rec_row = rec[m, 0]
                        for k in range(width):
                            g_row[k] += rec_row[k] * gain * d[k]

    return kernel


def _per_member(value, members: int, time_dim: int) -> torch.Tensor | None:
    """A constant as ``[M]`` values: a number or a one-element tensor for every member, or an ensemble's
    ``[M, 1, 1]``; ``None`` for anything that varies inside a member (per-neuron values)."""
    if not isinstance(value, torch.Tensor):
        return torch.full((members,), float(value), dtype=torch.float64)
    if value.numel() == 1:
        return value.detach().reshape(1).double().expand(members)
    if time_dim == 1 and value.dim() == 3 and value.shape == (members, 1, 1):
        return value.detach().reshape(members).double()
    return None


def layout(current: torch.Tensor, dyn, time_dim: int, gain) -> tuple | None:
    """``(members, params, reset code, surrogate code)`` for the kernels, or ``None`` when they cannot run
    this call (module docstring)."""
    if current.device.type != "cpu" or current.dtype not in (torch.float32, torch.float64) or time_dim not in (0, 1):
        return None
    formula = dyn.formula() if dyn.formula is not None else None
    if formula is None or formula[0] not in SURROGATE_CODES:
        return None
    members = current.shape[0] if time_dim == 1 else 1
    kh, ks = dyn.coefficients()
    alpha = float(formula[1])
    columns = [_per_member(x, members, time_dim) for x in (dyn.decay, dyn.threshold, kh, ks, dyn.keep_reset,
                                                             1.0 if gain is None else gain)]
    if any(c is None for c in columns):
        return None
    constants = [torch.full((members,), x, dtype=torch.float64) for x in (1.0, alpha, math.pi / 2 * alpha, alpha / 2)]
    params = torch.stack(columns + constants, 1).to(current.dtype).contiguous().numpy()
    return members, params, RESET_CODES[dyn.reset], SURROGATE_CODES[formula[0]]


def as_steps(tensor: torch.Tensor, members: int, steps: int) -> np.ndarray:
    """A sequence tensor (contiguous) as the kernels' ``[M, T, K]`` array, sharing memory."""
    return tensor.detach().view(members, steps, -1).numpy()


def absent(dtype, dims: int = 3) -> np.ndarray:
    """A placeholder for an absent array argument, of the type the kernels are compiled for (one
    compilation per dtype)."""
    return np.zeros((1,) * dims, dtype=dtype)
