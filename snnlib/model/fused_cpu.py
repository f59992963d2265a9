r"""The fused LIF loop's elementwise work compiled for the CPU (numba): one pass over the neurons per step.

:mod:`snnlib.model.fused` runs a whole LIF sequence in one autograd node. Written with tensor operations, a
time step of the forward is four of them (``λ·V``, ``+ I``, the comparison, the reset) and the backward's
local terms (σ', the reset's factor ``A``, the carry ``λ A``) about a dozen passes over the sequence; on a
CPU each operation costs a few microseconds of dispatch and a trip through memory, which made the LIF
layer cost about as much as its matrix products. The two kernels here do the same work in one loop over
the neurons, which LLVM vectorises:

- :func:`forward_steps` (steps ``t0 … t1-1``, in order; module :mod:`snnlib.model.fused` for the symbols)

  .. math::  H = \lambda V_{prev} + I \;(\text{or } g I), \quad S = [H > \theta], \quad
             V = H + (-S)\,(\kappa_h H + \kappa_s \theta)

  with the floating-point operations of the tensor loop: ``λ·V`` rounded, then ``+ I``; ``g·I`` rounded;
  the reset written as ``H + (-S)·X`` exactly as ``torch.addcmul`` writes it, every product by
  ``S ∈ {0, 1}`` or ``κ ∈ {0, 1}`` exact (so a fused multiply-add cannot change it). Spikes and membranes
  are therefore the tensor loop's, bit for bit.
- :func:`backward_steps` (steps ``t1-1 … t0``, in reverse)

  .. math::  D = \sigma'(H - \theta), \quad
             A = 1 - \kappa_h S - \rho(\kappa_h H + \kappa_s \theta) D, \quad
             gH[t] = \bar g S\, D + \bar g V\, A + \lambda A\, gH[t+1] \;(+\; R[t]\, D)

  where ``R[t] = g\, gH[t+1] W_{rec}`` is the recurrent term: the caller computes the matrix product
  between steps, the kernel multiplies it by ``g``. The same terms as the tensor backward, summed in another order: equal up to rounding.

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


@njit(cache=True, nogil=True, error_model="numpy")
def forward_steps(cur, cur_first, h, s, v, v0, params, t0, t1, mode, has_v0, gain_inside):  # pragma: no cover
    """Steps ``t0 … t1-1`` of the forward. ``cur[:, t - cur_first]`` is ``I[t]``; ``v`` holds ``V[t]``
    (``v.shape[1] == 1``: only the latest, overwritten in place); ``v0[m]`` is ``V[-1]`` when ``has_v0``.
    Each case has its own loop over the neurons (no branch inside: LLVM vectorises it)."""
    members, _, width = h.shape
    last_only = v.shape[1] == 1
    for m in range(members):
        lam, theta, kh, ks, gain, one = params[m, 0], params[m, 1], params[m, 2], params[m, 3], params[m, 5], params[m, 6]
        zero, kst = one - one, ks * theta
        for t in range(t0, t1):
            i_row, h_row, s_row = cur[m, t - cur_first], h[m, t], s[m, t]
            v_row = v[m, 0 if last_only else t]
            if gain_inside:  # g I[t], rounded, as torch.mul
                for k in range(width):
                    h_row[k] = i_row[k] * gain
                i_row = h_row
            if t > 0 or has_v0:  # H = λ V + I: λ·V rounded, then + I
                prev = v[m, 0 if last_only else t - 1] if t > 0 else v0[m]
                for k in range(width):
                    h_row[k] = prev[k] * lam + i_row[k]
            elif not gain_inside:
                for k in range(width):
                    h_row[k] = i_row[k]
            if mode == 0:  # S = [H > θ]; V = H + (-H)·S, torch.addcmul(H, H, S, value=-1)
                for k in range(width):
                    hv = h_row[k]
                    sv = one if hv > theta else zero
                    s_row[k] = sv
                    v_row[k] = hv + (-hv) * sv
            elif mode == 1:  # V = H + (-S)·θ
                for k in range(width):
                    hv = h_row[k]
                    sv = one if hv > theta else zero
                    s_row[k] = sv
                    v_row[k] = hv + (-sv) * theta
            elif mode == 2:  # V is H
                for k in range(width):
                    s_row[k] = one if h_row[k] > theta else zero
            else:  # V = H + (-S)·(κ_s θ + κ_h H)
                for k in range(width):
                    hv = h_row[k]
                    sv = one if hv > theta else zero
                    s_row[k] = sv
                    v_row[k] = hv + (-sv) * (kst + kh * hv)


@njit(cache=True, nogil=True, error_model="numpy")
def backward_steps(h, s, gh, gs, gv, rec, params, t0, t1, mode, surrogate, has_gs, has_gv, has_rec):  # pragma: no cover
    """Steps ``t1-1 … t0`` of the backward, writing ``gH[t]``; ``gH[t+1]`` is read when ``t + 1 < T``, and
    ``rec[:, 0]`` (``gH[t+1] W_rec``, which the kernel multiplies by ``g``) when ``has_rec``. Each term has
    its own loop over the neurons, on rows that stay in cache."""
    members, steps, width = h.shape
    d = np.empty(width, dtype=h.dtype)
    carry = np.empty(width, dtype=h.dtype)
    for m in range(members):
        lam, theta, kh, ks, keep = params[m, 0], params[m, 1], params[m, 2], params[m, 3], params[m, 4]
        gain, one, alpha = params[m, 5], params[m, 6], params[m, 7]
        half_pi_alpha, half_alpha = params[m, 8], params[m, 9]
        zero, kst = one - one, ks * theta
        for t in range(t1 - 1, t0 - 1, -1):
            h_row, s_row, g_row = h[m, t], s[m, t], gh[m, t]
            if surrogate == 0:  # D = α/2 / (1 + (π α z / 2)²)
                for k in range(width):
                    a = (h_row[k] - theta) * half_pi_alpha
                    d[k] = half_alpha / (one + a * a)
            else:  # D = α s (1 - s)
                for k in range(width):
                    sg = one / (one + math.exp(-(alpha * (h_row[k] - theta))))
                    d[k] = alpha * sg * (one - sg)
            if mode == 0:  # A = 1 - S - ρ H D
                for k in range(width):
                    carry[k] = one - s_row[k] - keep * h_row[k] * d[k]
            elif mode == 1:  # A = 1 - ρ θ D
                for k in range(width):
                    carry[k] = one - keep * theta * d[k]
            elif mode == 2:  # A = 1
                for k in range(width):
                    carry[k] = one
            else:  # A = 1 - κ_h S - ρ (κ_h H + κ_s θ) D
                for k in range(width):
                    carry[k] = one - kh * s_row[k] - keep * (kh * h_row[k] + kst) * d[k]
            later = t + 1 < steps
            if has_gs and not has_gv and later:  # the usual case (a loss on spikes): one loop
                gs_row, nxt = gs[m, t], gh[m, t + 1]
                if has_rec:
                    rec_row = rec[m, 0]
                    for k in range(width):
                        g_row[k] = gs_row[k] * d[k] + nxt[k] * (lam * carry[k]) + rec_row[k] * gain * d[k]
                else:
                    for k in range(width):
                        g_row[k] = gs_row[k] * d[k] + nxt[k] * (lam * carry[k])
                continue
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
