r"""Input noise and white-box attacks through the surrogate gradient (DESIGN.md §5, robustness).

Inputs are time first, ``x [T, N, F]``; labels ``y [N]``; ``readout`` the task's readout window.
Every random draw comes from a ``torch.Generator`` seeded by the caller (drawn on the CPU, then moved
to the input's device, so a seed gives the same perturbation on any device). Level 0 is the identity
(the input is returned unchanged, as a copy).

Noise (:func:`perturb`, ``kind`` in :data:`NOISES`)::

    gaussian (currents):   x' = x + σ ε,                       ε ~ N(0, 1) iid       (no clipping
                                                                unless ``bounds`` is given)
    delete   (spikes):     x' = x · [u ≥ p],                   u ~ U[0, 1) iid       (each spike is
                                                                removed with probability p)
    insert   (spikes):     x' = x + (1 - x) · [u < p]          (each silent step gets a spike
                                                                with probability p)

Attacks (:func:`fgsm`, :func:`pgd`), L∞ ball of radius ε, loss ``L = CE(model(x, readout), y)``,
gradient ``∇ₓL`` through the surrogate spike derivative, valid range ``[lo, hi] = bounds``::

    FGSM:  x' = clip_[lo,hi]( x + ε · sign(∇ₓ L(x)) )
    PGD:   x⁰ = x   (or, with ``random_start``, clip_[lo,hi](x + U[-ε, ε]))
           xᵏ⁺¹ = clip_[lo,hi]( clip_[x-ε, x+ε]( xᵏ + α · sign(∇ₓ L(xᵏ)) ) ),   k < steps
           returns, per sample, the iterate of highest loss among x and x¹ … x^steps
           (``keep_best=True``, the default; ``False`` returns x^steps)

with step size ``α`` (default ``2.5 ε / steps``). Every perturbed input satisfies ``|x' - x| ≤ ε``
and ``lo ≤ x' ≤ hi``. For current inputs ``bounds`` is the current range (default ``[0, 1]``, the
pixel range of ``digits``). For spike inputs the attack is a *relaxation*: the perturbed input is
real-valued in ``[0, 1]``, no longer 0/1 spikes; it measures sensitivity of the trained function,
not a realizable spike train.

The model is put in eval mode, its parameters' ``requires_grad`` is switched off for the attack and
restored afterwards (as is its train/eval mode), and gradients are taken with ``torch.autograd.grad``
w.r.t. the input only, so no parameter ever accumulates a ``.grad``. Every forward pass of the model
starts from a cleared state.

:func:`robust_accuracy` is the accuracy on attacked inputs (ε = 0 gives the clean accuracy exactly);
:func:`robustness_curve` and :func:`noise_curve` sweep ε or the noise level.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from snnlib.checks import check_int

__all__ = [
    "NOISES", "ATTACKS", "gaussian_noise", "delete_spikes", "insert_spikes", "perturb", "noise_for_encoding",
    "frozen", "fgsm", "pgd", "apply_attack", "robust_accuracy", "robustness_curve", "noisy_accuracy", "noise_curve",
]

NOISES = ("gaussian", "delete", "insert")
ATTACKS = ("fgsm", "pgd")
DEFAULT_BOUNDS = (0.0, 1.0)


# --- checks and helpers ---------------------------------------------------------------------------
def _check_level(name: str, value, high: float = math.inf) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= high
    if not ok:
        raise ValueError(f"{name} must be a number in [0, {high}], got {value!r}")
    return float(value)


def _check_bounds(bounds) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a pair (lo, hi) of numbers with lo < hi, got {bounds!r}") from None
    if not lo < hi:
        raise ValueError(f"bounds must be a pair (lo, hi) of numbers with lo < hi, got {bounds!r}")
    return lo, hi


def _check_in_bounds(x: torch.Tensor, bounds: tuple[float, float]) -> None:
    lo, hi = bounds
    if x.numel() and (x.min().item() < lo or x.max().item() > hi):
        raise ValueError(f"x must lie within bounds {bounds} (its valid range), got values in "
                         f"[{x.min().item():.4g}, {x.max().item():.4g}]; pass the input range as bounds")


def _check_spikes(x: torch.Tensor) -> None:
    if not torch.all((x == 0) | (x == 1)):
        raise ValueError("x must hold 0/1 spikes for spike deletion/insertion")


def _generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0 or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _rand(x: torch.Tensor, generator: torch.Generator, normal: bool = False) -> torch.Tensor:
    draw = torch.randn if normal else torch.rand
    return draw(x.shape, generator=generator, dtype=x.dtype, device=generator.device).to(x.device)


def _check_xy(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.dim() != 3:
        raise ValueError(f"x must be [T, N, features], got shape {tuple(x.shape)}")
    if y.dim() != 1 or len(y) != x.shape[1]:
        raise ValueError(f"y must be [N] with N = x.shape[1] = {x.shape[1]}, got shape {tuple(y.shape)}")


# --- input noise ----------------------------------------------------------------------------------
def gaussian_noise(x: torch.Tensor, sigma: float, seed: int | torch.Generator = 0,
                   bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """``x + σ ε`` with ``ε ~ N(0, 1)``; clipped to ``bounds`` only if given. ``σ = 0``: a copy of ``x``."""
    sigma = _check_level("sigma", sigma)
    generator = _generator(seed)
    if sigma == 0:
        return x.clone()
    noisy = x + sigma * _rand(x, generator, normal=True)
    return noisy if bounds is None else noisy.clamp(*_check_bounds(bounds))


def delete_spikes(x: torch.Tensor, p: float, seed: int | torch.Generator = 0) -> torch.Tensor:
    """Remove each input spike with probability ``p`` (``x`` must be 0/1). ``p = 0``: a copy of ``x``."""
    p = _check_level("p", p, high=1.0)
    _check_spikes(x)
    generator = _generator(seed)
    if p == 0:
        return x.clone()
    return x * (_rand(x, generator) >= p).to(x.dtype)


def insert_spikes(x: torch.Tensor, p: float, seed: int | torch.Generator = 0) -> torch.Tensor:
    """Add a spike to each silent input step with probability ``p`` (``x`` must be 0/1). ``p = 0``: a copy."""
    p = _check_level("p", p, high=1.0)
    _check_spikes(x)
    generator = _generator(seed)
    if p == 0:
        return x.clone()
    return x + (1 - x) * (_rand(x, generator) < p).to(x.dtype)


def perturb(x: torch.Tensor, kind: str, level: float, seed: int | torch.Generator = 0) -> torch.Tensor:
    """Noise of ``kind`` (one of :data:`NOISES`) at ``level`` (σ for gaussian, p otherwise)."""
    if kind == "gaussian":
        return gaussian_noise(x, level, seed)
    if kind == "delete":
        return delete_spikes(x, level, seed)
    if kind == "insert":
        return insert_spikes(x, level, seed)
    raise ValueError(f"kind must be one of {NOISES}, got {kind!r}")


def noise_for_encoding(encoding: str) -> tuple[str, ...]:
    """The noise kinds that apply to a task's ``encoding``: gaussian on currents, delete/insert on spikes."""
    kinds = {"current": ("gaussian",), "spikes": ("delete", "insert")}
    if encoding not in kinds:
        raise ValueError(f"encoding must be one of {tuple(kinds)}, got {encoding!r}")
    return kinds[encoding]


# --- white-box attacks ----------------------------------------------------------------------------
@contextlib.contextmanager
def frozen(model: nn.Module):
    """Eval mode and ``requires_grad=False`` on every parameter inside; both restored on exit."""
    was_training = model.training
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)


def _loss_and_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice):
    """Per-sample cross-entropy ``[N]`` at ``x`` and its gradient w.r.t. ``x`` (no parameter grads)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = nn.functional.cross_entropy(model(x, readout), y, reduction="none")
        (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad


@torch.no_grad()
def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice) -> torch.Tensor:
    return nn.functional.cross_entropy(model(x, readout), y, reduction="none")


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice = slice(None), eps: float = 0.1,
         bounds: tuple[float, float] = DEFAULT_BOUNDS) -> torch.Tensor:
    """FGSM: ``clip(x + ε sign(∇ₓ L))`` on one batch ``x [T, B, F]``. ``ε = 0``: a copy of ``x``."""
    eps = _check_level("eps", eps)
    bounds = _check_bounds(bounds)
    _check_xy(x, y)
    _check_in_bounds(x, bounds)
    if eps == 0:
        return x.clone()
    with frozen(model):
        _, grad = _loss_and_grad(model, x, y, readout)
    return (x + eps * grad.sign()).clamp(*bounds).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice = slice(None), eps: float = 0.1,
        steps: int = 10, step_size: float | None = None, random_start: bool = False,
        seed: int | torch.Generator = 0, bounds: tuple[float, float] = DEFAULT_BOUNDS,
        keep_best: bool = True) -> torch.Tensor:
    """PGD (L∞) on one batch ``x [T, B, F]``: ``steps`` signed-gradient steps of ``step_size``
    (default ``2.5 ε / steps``), each projected onto the ε-ball around ``x`` and onto ``bounds``;
    ``random_start`` draws a uniform start in the ball from ``seed``. ``ε = 0``: a copy of ``x``.
    With ``keep_best`` each sample gets its highest-loss point among ``x`` and the iterates."""
    eps = _check_level("eps", eps)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    alpha = 2.5 * eps / steps if step_size is None else step_size
    alpha = _check_level("step_size", alpha)
    bounds = _check_bounds(bounds)
    _check_xy(x, y)
    _check_in_bounds(x, bounds)
    generator = _generator(seed)
    if eps == 0:
        return x.clone()
    x0 = x.detach()
    lo, hi = torch.clamp(x0 - eps, min=bounds[0]), torch.clamp(x0 + eps, max=bounds[1])
    with frozen(model):
        best, best_loss = x0, _loss(model, x0, y, readout) if keep_best else None
        x_adv = x0
        if random_start:
            x_adv = torch.max(torch.min(x0 + eps * (2 * _rand(x0, generator) - 1), hi), lo)
        for _ in range(steps):
            loss, grad = _loss_and_grad(model, x_adv, y, readout)
            if keep_best:
                best, best_loss = _keep_higher(best, best_loss, x_adv, loss)
            x_adv = torch.max(torch.min(x_adv + alpha * grad.sign(), hi), lo).detach()
        if not keep_best:
            return x_adv
        best, _ = _keep_higher(best, best_loss, x_adv, _loss(model, x_adv, y, readout))
    return best.clone() if best is x0 else best


def _keep_higher(best, best_loss, candidate, loss):
    """Per sample (dim 1), the point of higher loss."""
    better = loss > best_loss
    return torch.where(better[None, :, None], candidate, best), torch.where(better, loss, best_loss)


def apply_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, kind: str | Callable, eps: float,
           **kwargs) -> torch.Tensor:
    """Dispatch to :func:`fgsm` or :func:`pgd` (``kind`` in :data:`ATTACKS`) or call ``kind`` itself,
    ``kind(model, x, y, readout, eps=eps, **kwargs)``."""
    if callable(kind):
        return kind(model, x, y, readout, eps=eps, **kwargs)
    if kind == "fgsm":
        return fgsm(model, x, y, readout, eps, **kwargs)
    if kind == "pgd":
        return pgd(model, x, y, readout, eps, **kwargs)
    raise ValueError(f"attack must be one of {ATTACKS} or a callable, got {kind!r}")


# --- accuracies -----------------------------------------------------------------------------------
def _correct(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice) -> int:
    with torch.no_grad():
        return (model(x, readout).argmax(1) == y).sum().item()


def robust_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, attack: str | Callable,
                    eps: float, batch_size: int = 256, seed: int = 0, **kwargs) -> float:
    """Accuracy on inputs attacked by ``attack`` (``"fgsm"``, ``"pgd"`` or a callable) at radius ``eps``,
    batch by batch. ``kwargs`` go to the attack (``bounds``, ``steps``, ``step_size``,
    ``random_start``...); PGD's random start draws from one generator seeded by ``seed``.
    ``ε = 0`` is the clean accuracy exactly."""
    _check_xy(x, y)
    batch_size = check_int("batch_size", batch_size)
    eps = _check_level("eps", eps)
    if not callable(attack) and attack not in ATTACKS:
        raise ValueError(f"attack must be one of {ATTACKS} or a callable, got {attack!r}")
    if attack == "pgd":
        kwargs.setdefault("seed", _generator(seed))
    device = next(model.parameters()).device
    correct = 0
    with frozen(model):
        for idx in torch.arange(len(y)).split(batch_size):
            xb, yb = x[:, idx].to(device), y[idx].to(device)
            x_adv = xb if eps == 0 else apply_attack(model, xb, yb, readout, attack, eps, **kwargs)
            correct += _correct(model, x_adv, yb, readout)
    return correct / len(y)


def robustness_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, attack: str | Callable,
                     epsilons: Sequence[float], batch_size: int = 256, seed: int = 0, **kwargs) -> list[dict]:
    """``[{"attack", "eps", "accuracy"}]`` of :func:`robust_accuracy` for each ε in ``epsilons``."""
    name = attack if isinstance(attack, str) else getattr(attack, "__name__", "custom")
    return [dict(attack=name, eps=float(eps),
                 accuracy=robust_accuracy(model, x, y, readout, attack, eps, batch_size, seed, **kwargs))
            for eps in epsilons]


def noisy_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, kind: str, level: float,
                   seed: int = 0, batch_size: int = 512) -> float:
    """Accuracy on ``perturb(x, kind, level, seed)`` (the whole set perturbed at once, so the result
    does not depend on ``batch_size``). Level 0 is the clean accuracy."""
    _check_xy(x, y)
    batch_size = check_int("batch_size", batch_size)
    noisy = perturb(x, kind, level, seed)
    device = next(model.parameters()).device
    with frozen(model):
        correct = sum(_correct(model, noisy[:, idx].to(device), y[idx].to(device), readout)
                      for idx in torch.arange(len(y)).split(batch_size))
    return correct / len(y)


def noise_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, kind: str,
                levels: Sequence[float], seed: int = 0, batch_size: int = 512) -> list[dict]:
    """``[{"noise", "level", "accuracy"}]`` of :func:`noisy_accuracy` for each level (same seed each)."""
    return [dict(noise=kind, level=float(level),
                 accuracy=noisy_accuracy(model, x, y, readout, kind, level, seed, batch_size))
            for level in levels]
