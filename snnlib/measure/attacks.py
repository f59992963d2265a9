r"""Input noise and attacks: white-box through the surrogate gradient, gradient-free, and spike flips.

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

Attacks in the L∞ ball of radius ε (:func:`fgsm`, :func:`pgd`, :func:`square`), valid range
``[lo, hi] = bounds``, loss ``L`` of :data:`LOSSES` (:func:`attack_loss`: cross-entropy, or the margin
``max_{j≠y} z_j - z_y``), gradient ``∇ₓL`` through the surrogate spike derivative::

    FGSM:  x' = clip_[lo,hi]( x + ε · sign(∇ₓ L(x)) )
    PGD:   x⁰ = x   (or, with ``random_start`` and on every restart after the first, clip_[lo,hi](x + U[-ε, ε]))
           xᵏ⁺¹ = clip_[lo,hi]( clip_[x-ε, x+ε]( xᵏ + α · sign(∇ₓ L(xᵏ)) ) ),   k < steps
           returns, per sample, the iterate of highest loss among x and all iterates of all restarts
           (``keep_best=True``, the default), or the first misclassified one (``stop_when_fooled``)
    Square: random search over windows of ±ε, no gradient (:func:`square`)

with step size ``α`` (default ``2.5 ε / steps``). Every perturbed input satisfies ``|x' - x| ≤ ε``
and ``lo ≤ x' ≤ hi``. For current inputs ``bounds`` is the current range (default ``[0, 1]``, the
pixel range of ``digits``). On spike inputs :func:`fgsm` and :func:`pgd` are a *relaxation* (the result
is real-valued in ``[0, 1]``); the spike threat model proper is a budget of flips, ``|x' - x|₁ ≤ flips``
with ``x'`` 0/1: :func:`greedy_flips` (gradient-guided) and :func:`random_flips`.
:func:`attack_surrogate` swaps the surrogate the gradient goes through (the forward is unchanged).
The battery built from these, worst case per sample, is :func:`snnlib.measure.audit.audit`.

The model is put in eval mode, its parameters' ``requires_grad`` is switched off for the attack and
restored afterwards (as is its train/eval mode), and gradients are taken with ``torch.autograd.grad``
w.r.t. the input only, so no parameter ever accumulates a ``.grad``; a model whose output does not
depend differentiably on the input gets a zero gradient. Every forward pass starts from a cleared state.

:func:`robust_accuracy` is the accuracy on attacked inputs (ε = 0 gives the clean accuracy exactly);
:func:`robustness_curve` and :func:`noise_curve` sweep ε or the noise level.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from snnlib.checks import check_fraction, check_int

__all__ = [
    "NOISES", "ATTACKS", "gaussian_noise", "delete_spikes", "insert_spikes", "perturb", "noise_for_encoding",
    "LOSSES", "FLIP_MODES", "frozen", "attack_surrogate", "attack_loss", "fgsm", "pgd", "square", "square_fraction",
    "greedy_flips", "random_flips", "apply_attack", "robust_accuracy", "robustness_curve", "noisy_accuracy",
    "noise_curve",
]

NOISES = ("gaussian", "delete", "insert")
ATTACKS = ("fgsm", "pgd")
LOSSES = ("ce", "margin")
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


class Blocks:
    """Random draws for a batch of ``M`` equal blocks of samples, block ``m`` drawn from ``generators[m]``.

    A stacked audit (:func:`snnlib.measure.audit.audit_members`) attacks ``M`` networks at once on
    member-major blocks of samples; each block draws what its network's attack alone would draw from its
    own generator, so a network's attack does not depend on the others stacked with it."""

    def __init__(self, generators):
        self.generators = list(generators)
        if not self.generators or not all(isinstance(g, torch.Generator) for g in self.generators):
            raise ValueError("Blocks needs a non-empty list of torch.Generator")

    @property
    def device(self):
        return self.generators[0].device


def _generator(seed: int | torch.Generator | Blocks) -> torch.Generator | Blocks:
    if isinstance(seed, (torch.Generator, Blocks)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0 or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _draw(shape, generator, sample_dim: int, high: int | None = None, normal: bool = False,
          dtype: torch.dtype | None = None) -> torch.Tensor:
    """``torch.rand`` (``randn`` with ``normal``, ``randint(0, high)`` with ``high``) of ``shape`` on the
    generator's device; a :class:`Blocks` generator draws each block of the ``sample_dim`` axis from its own."""
    if isinstance(generator, Blocks):
        m = len(generator.generators)
        if shape[sample_dim] % m:
            raise ValueError(f"{shape[sample_dim]} samples do not split into {m} equal blocks")
        part = list(shape)
        part[sample_dim] //= m
        return torch.cat([_draw(part, g, sample_dim, high, normal, dtype) for g in generator.generators], sample_dim)
    if high is not None:
        return torch.randint(0, high, tuple(shape), generator=generator, device=generator.device)
    draw = torch.randn if normal else torch.rand
    return draw(tuple(shape), generator=generator, dtype=dtype, device=generator.device)


def _rand(x: torch.Tensor, generator, normal: bool = False) -> torch.Tensor:
    """Uniform (or normal) draws shaped like ``x [T, N, F]`` (samples along axis 1), on ``x``'s device."""
    return _draw(x.shape, generator, 1, normal=normal, dtype=x.dtype).to(x.device)


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


@contextlib.contextmanager
def attack_surrogate(model: nn.Module, surrogate: nn.Module | None):
    """Swap the surrogate spike function of every :class:`~snnlib.model.neurons.VariantNode` (and
    :class:`~snnlib.model.ensemble.EnsembleLayer`) of ``model``
    for ``surrogate`` inside the block (``None``: keep the model's own); restored on exit, exceptions
    included. The forward pass is unchanged (the surrogate shapes only the backward pass), so this
    changes the attack's gradient, never the model's outputs."""
    from snnlib.model.ensemble import EnsembleLayer  # torch-heavy imports kept local to the attack
    from snnlib.model.neurons import VariantNode

    nodes = [m for m in model.modules() if isinstance(m, (VariantNode, EnsembleLayer))]
    saved = [node.surrogate_function for node in nodes]
    try:
        if surrogate is not None:
            for node in nodes:
                node.surrogate_function = surrogate
        yield model
    finally:
        for node, original in zip(nodes, saved):
            node.surrogate_function = original


def attack_loss(logits: torch.Tensor, y: torch.Tensor, loss: str = "ce") -> torch.Tensor:
    """Per-sample loss ``[N]`` the attacker maximises (``loss`` in :data:`LOSSES`)::

        ce:      L = -log softmax(z)_y
        margin:  L = max_{j≠y} z_j - z_y        (Carlini-Wagner; > 0 exactly when the sample is misclassified,
                                                 ties aside)
    """
    if loss == "ce":
        return nn.functional.cross_entropy(logits, y, reduction="none")
    if loss == "margin":
        true = logits.gather(1, y[:, None])[:, 0]
        other = logits.masked_fill(nn.functional.one_hot(y, logits.shape[1]).bool(), -math.inf).amax(1)
        return other - true
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def _logits_and_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, loss: str = "ce"):
    """Logits ``[N, C]``, per-sample loss ``[N]`` at ``x`` and its gradient w.r.t. ``x`` (no parameter
    grads). A model whose output does not depend differentiably on ``x`` (a step function) gets a zero
    gradient, as the attacker would see it."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x, readout)
        value = attack_loss(logits, y, loss)
        if value.requires_grad:
            (grad,) = torch.autograd.grad(value.sum(), x, allow_unused=True)
        else:
            grad = None
    grad = torch.zeros_like(x) if grad is None else grad
    return logits.detach(), value.detach(), grad


def _loss_and_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, loss: str = "ce"):
    """Per-sample loss ``[N]`` at ``x`` and its gradient w.r.t. ``x``."""
    _, value, grad = _logits_and_grad(model, x, y, readout, loss)
    return value, grad


@torch.no_grad()
def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice, loss: str = "ce") -> torch.Tensor:
    return attack_loss(model(x, readout), y, loss)


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
        keep_best: bool = True, restarts: int = 1, loss: str = "ce",
        stop_when_fooled: bool = False) -> torch.Tensor:
    """PGD (L∞) on one batch ``x [T, B, F]``: ``steps`` signed-gradient steps of ``step_size``
    (default ``2.5 ε / steps``) on ``loss`` (:data:`LOSSES`), each projected onto the ε-ball around ``x``
    and onto ``bounds``. ``restarts`` runs: the first starts at ``x`` (or, with ``random_start``, at a
    uniform draw in the ball), every later one at a uniform draw (from ``seed``). ``ε = 0``: a copy of ``x``.

    With ``keep_best`` each sample gets its highest-loss point among ``x`` and all iterates of all
    restarts (without it, the highest-loss final iterate). With ``stop_when_fooled`` a sample is frozen at
    the first iterate the model misclassifies and is not attacked further (the attack for a robust
    accuracy: it needs one error per sample, not the highest loss)."""
    eps = _check_level("eps", eps)
    steps = check_int("steps", steps)
    restarts = check_int("restarts", restarts)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
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
    project = lambda z: torch.max(torch.min(z, hi), lo)  # noqa: E731
    n = x0.shape[1]
    # Every step runs on the whole batch; a fooled sample (with stop_when_fooled) stays in it but is
    # frozen: nothing more is recorded for it. Each sample's result is that of its attack alone.
    with frozen(model):
        best = x0.clone()
        best_loss = _loss(model, x0, y, readout, loss) if keep_best else torch.full((n,), -math.inf, device=x.device)
        active = torch.ones(n, dtype=torch.bool, device=x.device)
        for r in range(restarts):
            noise = _rand(x0, generator) if (random_start or r > 0) else None  # drawn for all: seed-stable
            if not active.any():
                break
            x_adv = x0 if noise is None else project(x0 + eps * (2 * noise - 1))
            for k in range(steps + 1):
                if k < steps:
                    logits, value, grad = _logits_and_grad(model, x_adv, y, readout, loss)
                else:
                    logits = _logits(model, x_adv, readout)
                    value = attack_loss(logits, y, loss)
                if keep_best or k == steps:
                    better = (value > best_loss) & active
                    best[:, better] = x_adv[:, better]
                    best_loss[better] = value[better]
                if stop_when_fooled:
                    hit = (logits.argmax(1) != y) & active
                    if hit.any():
                        best[:, hit] = x_adv[:, hit]
                        best_loss[hit] = math.inf
                        active &= ~hit
                        if not active.any():
                            break
                if k < steps:
                    x_adv = project(x_adv + alpha * grad.sign()).detach()
    return best


@torch.no_grad()
def _logits(model: nn.Module, x: torch.Tensor, readout: slice) -> torch.Tensor:
    return model(x, readout)


# --- a gradient-free attack: Square (L∞) ----------------------------------------------------------
def square_fraction(p_init: float, i: int, n_iters: int) -> float:
    """The fraction of input entries the Square Attack changes at iteration ``i`` of ``n_iters``:
    ``p_init`` halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10 000 iterations
    (the schedule of Andriushchenko et al. 2020, rescaled to the budget, as ART does)."""
    it = int(i / max(n_iters, 1) * 10_000)
    halvings = sum(it > edge for edge in (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000))
    return p_init / 2 ** halvings


def square(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice = slice(None), eps: float = 0.1,
           queries: int = 300, p_init: float = 0.8, seed: int | torch.Generator = 0,
           bounds: tuple[float, float] = DEFAULT_BOUNDS) -> torch.Tensor:
    r"""Square Attack (L∞, score-based, no gradient; Andriushchenko et al. 2020) on one batch ``x [T, B, F]``.

    Each sample is read as a ``T × F`` image with one channel. It minimises the margin
    ``m(x') = z_y - max_{j≠y} z_j`` (the sample is fooled when ``m < 0``) by random search::

        x⁰ = x + ε s,   s ∈ {-1, +1}^F per sample and feature, constant over time (vertical stripes);
                        kept only if m(x⁰) < m(x)
        repeat: pick a window of ⌈h⌉ × ⌈w⌉ entries (h = T √p, w = F √p, p from :func:`square_fraction`)
                at a uniform position, set δ = x' - x to ±ε on it (one sign per window), and keep
                x'' = clip_[lo,hi](x + δ) if m(x'') < m(x')

    Every candidate lies in the ε-ball ∩ ``bounds``. ``queries`` is the most forward passes per sample,
    the clean input and the stripes included; a fooled sample stops querying. All draws come from
    ``seed``, drawn for the whole batch each iteration, so a seed gives the same attack on any batch
    composition of fooled samples. ``ε = 0``: a copy of ``x``."""
    eps = _check_level("eps", eps)
    queries = check_int("queries", queries, minimum=2)
    p_init = check_fraction("p_init", p_init, open_low=True)
    bounds = _check_bounds(bounds)
    _check_xy(x, y)
    _check_in_bounds(x, bounds)
    generator = _generator(seed)
    if eps == 0:
        return x.clone()
    x0 = x.detach()
    n_steps, n, n_feat = x0.shape
    lo, hi = torch.clamp(x0 - eps, min=bounds[0]), torch.clamp(x0 + eps, max=bounds[1])

    def margin(z):
        with torch.no_grad():
            return -attack_loss(model(z, readout), y, "margin")

    def draw(shape, high=None):
        return _draw(shape, generator, len(shape) - 2 if len(shape) > 1 else 0, high=high).to(x.device)

    # Every query runs on the whole batch; a fooled sample (margin < 0) stays in it but keeps its input.
    with frozen(model):
        best, best_m = x0.clone(), margin(x0)
        stripes = eps * (2 * (draw((1, n, n_feat)) < 0.5).to(x0.dtype) - 1)
        start = torch.max(torch.min(x0 + stripes, hi), lo)
        m = margin(start)
        better = m < best_m
        best[:, better], best_m[better] = start[:, better], m[better]
        t_grid = torch.arange(n_steps, device=x.device)[:, None, None]
        f_grid = torch.arange(n_feat, device=x.device)[None, None, :]
        clip = lambda z: torch.max(torch.min(z, hi), lo)  # noqa: E731
        for i in range(queries - 2):
            p = square_fraction(p_init, i, queries - 2)
            h = min(n_steps, max(1, round(n_steps * math.sqrt(p))))
            w = min(n_feat, max(1, round(n_feat * math.sqrt(p))))
            t0, f0 = draw((n,), n_steps - h + 1), draw((n,), n_feat - w + 1)
            sign = 2 * (draw((n,)) < 0.5).to(x0.dtype) - 1
            active = best_m >= 0
            if not active.any():
                break
            ts, fs = t0[None, :, None], f0[None, :, None]
            window = (t_grid >= ts) & (t_grid < ts + h) & (f_grid >= fs) & (f_grid < fs + w)  # [T, N, F]
            candidate = clip(torch.where(window, x0 + eps * sign[None, :, None], best))
            unchanged = ((candidate - best).abs() * window).amax(dim=(0, 2)) < 1e-7
            if unchanged.any():  # the window already sits at this sign: take the other one
                flipped = clip(torch.where(window, x0 - eps * sign[None, :, None], best))
                candidate = torch.where(unchanged[None, :, None], flipped, candidate)
            m = margin(candidate)
            better = (m < best_m) & active
            best[:, better] = candidate[:, better]
            best_m[better] = m[better]
    return best


# --- spike inputs: flips within a budget ----------------------------------------------------------
def _check_flips(flips) -> int:
    return check_int("flips", flips, minimum=0)


def _as_rows(x: torch.Tensor) -> torch.Tensor:
    """``[T, N, F] -> [N, T·F]`` (a view's copy), the layout in which flips are chosen per sample."""
    return x.permute(1, 0, 2).reshape(x.shape[1], x.shape[0] * x.shape[2])


def _from_rows(rows: torch.Tensor, shape) -> torch.Tensor:
    n_steps, n, n_feat = shape
    return rows.reshape(n, n_steps, n_feat).permute(1, 0, 2)


def greedy_flips(model: nn.Module, x: torch.Tensor, y: torch.Tensor, readout: slice = slice(None), flips: int = 10,
                 rounds: int = 20, loss: str = "ce", stop_when_fooled: bool = True) -> torch.Tensor:
    r"""Gradient-guided spike flips on one batch of 0/1 spikes ``x [T, B, F]``, at most ``flips`` per sample.

    Flipping entry ``i`` changes it by ``1 - 2 xᵢ``, so to first order the loss rises by
    ``gᵢ (1 - 2 xᵢ)`` with ``g = ∇ₓ L`` through the surrogate. The budget is spent in ``rounds``
    (at most ``flips``) rounds of ``k ≈ flips / rounds`` flips; each round recomputes ``g`` at the
    current input and flips the ``k`` not-yet-flipped entries of largest *positive* predicted gain
    (an entry is never flipped back, so ``|x' - x|₁`` counts the flips). With ``stop_when_fooled`` a
    sample stops at the first misclassified input. The result stays a 0/1 spike train."""
    flips = _check_flips(flips)
    rounds = check_int("rounds", rounds)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    _check_xy(x, y)
    _check_spikes(x)
    if flips == 0:
        return x.clone()
    rounds = min(rounds, flips)
    shape = x.shape
    rows = _as_rows(x.detach()).clone()  # [N, T·F], the current input
    touched = torch.zeros_like(rows, dtype=torch.bool)
    active = torch.ones(len(y), dtype=torch.bool, device=x.device)
    # Every round runs on the whole batch; a sample that is fooled (with stop_when_fooled) stays in it
    # but is flipped no more. Each sample's result is that of its attack alone.
    with frozen(model):
        for r in range(rounds):
            logits, _, grad = _logits_and_grad(model, _from_rows(rows, shape), y, readout, loss)
            if stop_when_fooled:
                active &= logits.argmax(1) == y
                if not active.any():
                    break
            k = flips * (r + 1) // rounds - flips * r // rounds
            gain = _as_rows(grad) * (1 - 2 * rows)
            gain = gain.masked_fill(touched | (gain <= 0) | ~active[:, None], -math.inf)
            top, where = gain.topk(min(k, gain.shape[1]), dim=1)
            chosen = torch.zeros_like(gain, dtype=torch.bool).scatter_(1, where, top > -math.inf)
            rows = torch.where(chosen, 1 - rows, rows)
            touched |= chosen
    return _from_rows(rows, shape).contiguous()


FLIP_MODES = ("any", "delete", "insert")


def random_flips(x: torch.Tensor, flips: int, seed: int | torch.Generator | Blocks = 0, mode: str = "any") -> torch.Tensor:
    """Flip ``flips`` entries per sample of the 0/1 spikes ``x [T, N, F]``, drawn uniformly without
    replacement among all entries (``mode="any"``), among the spikes (``"delete"``) or among the silent
    entries (``"insert"``); fewer when a sample has fewer such entries. ``flips = 0``: a copy."""
    flips = _check_flips(flips)
    if mode not in FLIP_MODES:
        raise ValueError(f"mode must be one of {FLIP_MODES}, got {mode!r}")
    _check_spikes(x)
    generator = _generator(seed)
    if flips == 0:
        return x.clone()
    rows = _as_rows(x)
    u = _draw(rows.shape, generator, 0).to(x.device)
    eligible = torch.ones_like(rows, dtype=torch.bool) if mode == "any" else (rows == (1 if mode == "delete" else 0))
    top, where = u.masked_fill(~eligible, -1.0).topk(min(flips, rows.shape[1]), dim=1)
    chosen = torch.zeros_like(eligible).scatter_(1, where, top >= 0)
    return _from_rows(torch.where(chosen, 1 - rows, rows), x.shape).contiguous()


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
