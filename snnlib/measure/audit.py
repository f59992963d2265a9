r"""A robustness audit that masked gradients cannot fake: a battery of attacks, worst case per sample.

One white-box attack through the training surrogate can overstate a spiking network's robustness:
the surrogate is not the network's true (zero almost everywhere) derivative, and a network whose
surrogate gradient is uninformative -- recurrent, non-leaky or never resetting -- would look robust
because the attack fails, not because the network resists. :func:`audit` therefore runs a battery
of attacks inside one threat model and counts a test sample as robust only if it survives **every**
attack:

.. math::

    \text{robust}_i = [\hat y(x_i) = y_i] \wedge \bigwedge_{a} [\hat y(a(x_i)) = y_i],
    \qquad \text{accuracy} = \tfrac1N \textstyle\sum_i \text{robust}_i \le \min_a \text{accuracy}_a .

**Current inputs** (``task.encoding == "current"``): the L∞ ball of radius ``eps`` (in the input's
own units) intersected with the input range ``[lo, hi]`` (``task.input_bounds`` unless given):

- ``pgd-<surrogate>-<loss>``: PGD with a random start, ``steps`` steps, ``restarts`` restarts
  (:func:`~snnlib.measure.attacks.pgd`), for each attack surrogate -- ``train`` (the model's own) and
  ``wide`` (:class:`~snnlib.model.neurons.StrictATan` with ``α = 0.5``, a four times wider ArcTan) -- and
  each loss, cross-entropy ``ce`` and the margin ``max_{j≠y} z_j - z_y``;
- ``transfer``: PGD crafted on ``twin`` (another trained network of the same shape, through its own
  surrogate, full budget, each loss) and evaluated on the model; skipped without a twin;
- ``square``: the gradient-free, score-based Square Attack (:func:`~snnlib.measure.attacks.square`)
  with a budget of ``square_queries`` forward passes per sample.

**Spike inputs** (``"spikes"``): the perturbed input stays a 0/1 spike train; the budget is ``flips``
entries flipped (insertions + deletions) per sample, ``|x' - x|₁ ≤ flips``:

- ``greedy-<surrogate>-<loss>``: gradient-guided greedy flips (:func:`~snnlib.measure.attacks.greedy_flips`),
  ``rounds`` rounds, through both surrogates, both losses;
- ``transfer``: greedy flips crafted on ``twin`` with the full budget;
- ``random-flips``: ``random_draws`` seeded draws of ``flips`` uniform flips, cycling through any entry,
  deletions only and insertions only (the gradient-free baseline).

**Masking.** ``masking_suspected`` when the best gradient-free attack (``square`` / ``random-flips``)
leaves more than 5 accuracy points less than the best white-box one (``pgd-*`` / ``greedy-*``): the
gradient then misleads the attack.

:func:`audit_curve` audits a list of radii with sanity checks; :func:`relative_robustness` and
:func:`normalised_auc` put robust accuracies of different tasks on one chance-corrected scale::

    relative = (robust - chance) / (clean - chance)            (NaN when |clean - chance| < 0.05)
    AUC      = ∫₀¹ relative(r) d(r / r_max)                     (trapezoids; the clean point at r = 0)

Every random draw comes from generators seeded by ``seed`` (one per attack, keyed by the attack's
name), so an audit is deterministic for a seed, batch size and device.

**Stacking.** A sweep trains networks in groups, and audits them in groups too (:func:`audit_members`,
:func:`audit_curves`): the networks are stacked into one ensemble (:class:`Stack`) and every attack runs
once on member-major blocks of samples, each block drawing from its own network's generators. The
attacks never drop a fooled sample from their batch (it is frozen instead), so a network's result is
the one it gets audited alone, bit for bit on the CPU; stacking only saves the per-operation overhead
of many small attacks (on the ``quick`` networks, four to five times the audit's time).
"""

from __future__ import annotations

import contextlib
import math
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
from torch import nn

from snnlib.checks import check_choice, check_fraction, check_int
from snnlib.measure import attacks
from snnlib.model.neurons import StrictATan

__all__ = ["audit", "audit_members", "audit_curve", "audit_curves", "Stack", "attack_surrogate", "default_surrogates", "relative_robustness",
           "normalised_auc", "masking_gap", "ChanceCorrected", "QUICK_BUDGET", "WHITE_BOX", "GRADIENT_FREE",
           "MASKING_MARGIN"]

attack_surrogate = attacks.attack_surrogate

#: the ArcTan width of the "wide" attack surrogate (the training surrogate has α = 2)
WIDE_ALPHA = 0.5
#: the margin (in accuracy) by which a gradient-free attack must beat the white-box ones to flag masking
MASKING_MARGIN = 0.05
#: the smallest |clean - chance| for which a chance-corrected score is defined
MIN_ABOVE_CHANCE = 0.05
#: default radius when none is given: this fraction of the input range (currents) ...
DEFAULT_EPS_FRACTION = 0.1
#: ... or of the mean number of spikes per test sample (spike flips)
DEFAULT_FLIP_FRACTION = 0.1
#: smaller budgets for large sweeps (below the standard of at least 50 steps and 2 restarts: weaker attacks)
QUICK_BUDGET = dict(steps=20, restarts=1, square_queries=100, random_draws=3, rounds=10)
WHITE_BOX = ("pgd", "greedy")
GRADIENT_FREE = ("square", "random-flips")


def default_surrogates() -> dict:
    """The attack surrogates: ``train`` (``None``: the model's own) and ``wide`` (``StrictATan(α=0.5)``)."""
    return {"train": None, "wide": StrictATan(alpha=WIDE_ALPHA)}


# --- checks -------------------------------------------------------------------------------------------
def _check_task(task) -> None:
    if isinstance(task.readout, tuple) or task.y_test.dim() != 1:
        raise ValueError("task must have one label per sample and one readout window (a stream task is "
                         "not supported by the audit); build the task without streaming")
    check_choice("task.encoding", task.encoding, ("current", "spikes"))


def _device(model: nn.Module) -> torch.device:
    return next(iter(model.parameters()), torch.empty(0)).device


def _task_bounds(task) -> tuple[float, float]:
    bounds = getattr(task, "input_bounds", None)
    if bounds is None:
        xs = [x for x in (task.x_train, getattr(task, "x_val", None), task.x_test) if x is not None and x.numel()]
        bounds = (min(float(x.min()) for x in xs), max(float(x.max()) for x in xs))
    return float(bounds[0]), float(bounds[1])


def _seeded(seed: int, name: str) -> torch.Generator:
    """A generator of its own for each attack, so adding an attack does not change the others' draws."""
    return torch.Generator().manual_seed(zlib.crc32(f"{seed}:{name}".encode()))


def _family(name: str) -> str:
    return name.split("-")[0] if name.startswith(WHITE_BOX) else name


# --- the battery ----------------------------------------------------------------------------------
def _battery(model, twin, encoding, readout, radius, bounds, surrogates, losses, steps, restarts,
             square_queries, p_init, random_draws, rounds):
    """``{name: craft(x, y, generator) -> [candidate inputs]}`` and ``{name: reason}`` of skipped attacks."""
    battery, skipped = {}, {}

    def through(surrogate, fn):
        def craft(x, y, gen):
            with attack_surrogate(model, surrogate):
                return [fn(x, y, gen)]
        return craft

    for s_name, surrogate in surrogates.items():
        for loss in losses:
            if encoding == "current":
                fn = (lambda loss: lambda x, y, gen: attacks.pgd(
                    model, x, y, readout, radius, steps=steps, random_start=True, seed=gen, bounds=bounds,
                    restarts=restarts, loss=loss, stop_when_fooled=True))(loss)
                battery[f"pgd-{s_name}-{loss}"] = through(surrogate, fn)
            else:
                fn = (lambda loss: lambda x, y, gen: attacks.greedy_flips(
                    model, x, y, readout, radius, rounds=rounds, loss=loss, stop_when_fooled=True))(loss)
                battery[f"greedy-{s_name}-{loss}"] = through(surrogate, fn)
    if twin is None:
        skipped["transfer"] = "no twin network given"
    elif encoding == "current":
        battery["transfer"] = lambda x, y, gen: [
            attacks.pgd(twin, x, y, readout, radius, steps=steps, random_start=True, seed=gen, bounds=bounds,
                        restarts=restarts, loss=loss) for loss in losses]
    else:
        battery["transfer"] = lambda x, y, gen: [
            attacks.greedy_flips(twin, x, y, readout, radius, rounds=rounds, loss=loss, stop_when_fooled=False)
            for loss in losses]
    if encoding == "current":
        battery["square"] = lambda x, y, gen: [attacks.square(model, x, y, readout, radius, queries=square_queries,
                                                              p_init=p_init, seed=gen, bounds=bounds)]
    else:
        battery["random-flips"] = lambda x, y, gen: [
            attacks.random_flips(x, radius, gen, attacks.FLIP_MODES[d % len(attacks.FLIP_MODES)])
            for d in range(random_draws)]
    return battery, skipped


def _check_threat(name, x, x_adv, encoding, radius, bounds) -> None:
    """Every candidate must lie in the threat model; a violation is a bug in the attack, never a result."""
    if encoding == "current":
        ok = ((x_adv - x).abs().max().item() <= radius + 1e-5 and x_adv.min().item() >= bounds[0] - 1e-6
              and x_adv.max().item() <= bounds[1] + 1e-6)
    else:
        ok = bool(torch.all((x_adv == 0) | (x_adv == 1))) and (x_adv != x).sum(dim=(0, 2)).max().item() <= radius
    if not ok:
        raise RuntimeError(f"attack {name!r} left its threat model (radius {radius}, bounds {bounds})")


class Stack(nn.Module):
    """``M`` networks as one callable on member-major blocks of samples: ``x [T, M·n, F]`` (block ``m``
    is network ``m``'s ``n`` samples) gives logits ``[M·n, C]``.

    snnlib SNNs are stacked into one :class:`~snnlib.model.ensemble.EnsembleSNN` (a copy of their
    weights), so one forward and one backward pass serve every network, and a network's numbers are the
    same alone (a stack of one) and stacked. Any other single network is used as it is."""

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        from snnlib.model.ensemble import EnsembleSNN
        from snnlib.model.models import SNN

        models = list(models)
        if all(isinstance(m, SNN) for m in models):
            self.net, self.members = EnsembleSNN.from_members(models).to(_device(models[0])), len(models)
        elif len(models) == 1:
            self.net, self.members = models[0], None
        else:
            raise ValueError("only snnlib SNNs (snnlib.build_snn) can be audited together; audit other "
                             f"networks one at a time, got {sorted({type(m).__name__ for m in models})}")

    def forward(self, x: torch.Tensor, readout=slice(None)) -> torch.Tensor:
        if self.members is None:
            return self.net(x, readout)
        steps, n, features = x.shape
        logits = self.net(x.view(steps, self.members, n // self.members, features), readout)
        return logits.reshape(n, -1)


@torch.no_grad()
def _predict(model, x, readout, batch_size, device, members: int = 1) -> torch.Tensor:
    """Predicted labels of member-major blocks ``x [T, M·n, F]``, ``batch_size`` samples per member at a time."""
    n = x.shape[1] // members
    out = torch.empty(x.shape[1], dtype=torch.long)
    for idx in torch.arange(n).split(batch_size):
        rows = _rows(idx, n, members)
        out[rows] = model(x[:, rows].to(device), readout).argmax(1).cpu()
    return out


def _rows(idx: torch.Tensor, n: int, members: int) -> torch.Tensor:
    """The positions in member-major blocks of ``n`` samples of samples ``idx`` of every member."""
    return (torch.arange(members)[:, None] * n + idx[None, :]).reshape(-1)


def audit(model: nn.Module, task, eps: float | None = None, flips: int | None = None, seed: int = 0,
          n_samples: int | None = None, twin: nn.Module | None = None, steps: int = 50, restarts: int = 2,
          square_queries: int = 300, p_init: float = 0.8, losses: Sequence[str] = attacks.LOSSES,
          surrogates: Mapping[str, nn.Module | None] | None = None, random_draws: int = 6, rounds: int = 20,
          bounds: tuple[float, float] | None = None, batch_size: int = 256) -> dict:
    """Robust accuracy of ``model`` on the first ``n_samples`` test samples of ``task`` (all when
    ``None``) under the battery of the module docstring, worst case per sample.

    Args:
        eps: L∞ radius in the input's units (current tasks; default ``0.1 (hi - lo)``).
        flips: spike-flip budget per sample (spike tasks; default 10% of the mean spike count, ≥ 1).
        twin: a second trained network of the same shape for the transfer attack (skipped when ``None``).
        steps, restarts: PGD's budget per (surrogate, loss); ``square_queries``, ``p_init``: Square's.
        losses: of :data:`~snnlib.measure.attacks.LOSSES`; ``surrogates``: ``{name: surrogate or None}``
            (default :func:`default_surrogates`); ``random_draws``, ``rounds``: the flip attacks' budgets.
        bounds: the valid input range (default ``task.input_bounds``).

    Returns a dict: ``accuracy`` (worst case), ``clean``, ``per_attack`` ``{name: accuracy}``,
    ``per_sample`` (bool ``[N]``, robust to everything), ``per_attack_sample`` ``{name: bool [N]}``,
    ``clean_sample``, ``chance`` (of the audited labels), ``threat`` (``"linf"`` / ``"flips"``), ``radius``,
    ``skipped`` ``{name: reason}``, ``masking_gap`` and ``masking_suspected``, ``settings`` and
    ``seconds`` ``{name: wall time}``. The same as :func:`audit_members` of one network.
    """
    return audit_members([model], [task], eps=eps, flips=flips, seeds=[seed], n_samples=n_samples,
                         twins=None if twin is None else [twin], steps=steps, restarts=restarts,
                         square_queries=square_queries, p_init=p_init, losses=losses, surrogates=surrogates,
                         random_draws=random_draws, rounds=rounds, bounds=bounds, batch_size=batch_size)[0]


def _same_for_all(name: str, values):
    if any(v != values[0] for v in values[1:]):
        raise ValueError(f"networks audited together must share {name}, got {list(values)}")
    return values[0]


def audit_members(models: Sequence[nn.Module], tasks: Sequence, eps: float | None = None, flips: int | None = None,
                  seeds: Sequence[int] = (0,), n_samples: int | None = None, twins: Sequence[nn.Module] | None = None,
                  steps: int = 50, restarts: int = 2, square_queries: int = 300, p_init: float = 0.8,
                  losses: Sequence[str] = attacks.LOSSES, surrogates: Mapping[str, nn.Module | None] | None = None,
                  random_draws: int = 6, rounds: int = 20, bounds: tuple[float, float] | None = None,
                  batch_size: int = 256) -> list[dict]:
    """:func:`audit` of ``M`` networks at once: network ``m`` on its own ``tasks[m]`` (its first
    ``n_samples`` test samples), with ``seeds[m]`` and ``twins[m]``; one dict per network, as :func:`audit`'s.

    The networks (snnlib SNNs of one shape) are stacked (:class:`Stack`) and every attack runs on
    member-major blocks of samples, each block drawing from its own network's generators
    (:class:`~snnlib.measure.attacks.Blocks`), so network ``m``'s result is the one it gets audited alone:
    stacking saves the per-operation overhead of ``M`` small attacks, nothing else. The tasks must share
    the encoding, readout window, sample shape, input bounds and radius. ``seconds`` are the stack's,
    divided by ``M``.
    """
    start = time.perf_counter()
    models, tasks, seeds = list(models), list(tasks), list(seeds)
    if not models or not (len(models) == len(tasks) == len(seeds)):
        raise ValueError(f"models, tasks and seeds must be non-empty lists of one length, got "
                         f"{len(models)}, {len(tasks)} and {len(seeds)}")
    if twins is not None:
        twins = list(twins)
        if len(twins) != len(models) or any(t is None for t in twins):
            raise ValueError("twins must hold one network per audited network (or be None for no transfer attack)")
    for task in tasks:
        _check_task(task)
    for seed in seeds:
        check_int("seed", seed, minimum=0)
    steps, restarts = check_int("steps", steps), check_int("restarts", restarts)
    square_queries = check_int("square_queries", square_queries, minimum=2)
    p_init = check_fraction("p_init", p_init, open_low=True)
    random_draws, rounds = check_int("random_draws", random_draws), check_int("rounds", rounds)
    batch_size = check_int("batch_size", batch_size)
    losses = tuple(losses)
    if not losses:
        raise ValueError(f"losses must name at least one of {attacks.LOSSES}, got {losses!r}")
    for loss in losses:
        check_choice("loss", loss, attacks.LOSSES)
    surrogates = default_surrogates() if surrogates is None else dict(surrogates)
    if not surrogates:
        raise ValueError("surrogates must name at least one attack surrogate, e.g. {'train': None}")
    encoding = _same_for_all("the input encoding", [t.encoding for t in tasks])
    readout = _same_for_all("the readout window", [t.readout for t in tasks])
    n_totals = [len(t.y_test) for t in tasks]
    n = min(n_totals) if n_samples is None else min(check_int("n_samples", n_samples), min(n_totals))
    xs, ys = [t.x_test[:, :n] for t in tasks], [t.y_test[:n] for t in tasks]
    _same_for_all("the shape of a test sample", [tuple(x.shape) for x in xs])
    members = len(models)
    device = _device(models[0])

    if encoding == "current":
        if flips is not None:
            raise ValueError(f"flips applies to spike tasks; task {tasks[0].name!r} has current inputs: give eps")
        bounds = _same_for_all("the input bounds", [attacks._check_bounds(_task_bounds(t) if bounds is None else bounds)
                                                    for t in tasks])
        radius = DEFAULT_EPS_FRACTION * (bounds[1] - bounds[0]) if eps is None else eps
        radius = check_fraction("eps", radius, 0.0, math.inf)
        for x in xs:
            attacks._check_in_bounds(x, bounds)
        threat = "linf"
    else:
        if eps is not None:
            raise ValueError(f"eps applies to current inputs; task {tasks[0].name!r} has spike inputs: give flips")
        for x in xs:
            attacks._check_spikes(x)
        bounds = (0.0, 1.0)
        mean_spikes = [float(x.sum(dim=(0, 2)).mean()) if n else 0.0 for x in xs]
        radius = _same_for_all("the flip budget (give flips)",
                               [max(1, round(DEFAULT_FLIP_FRACTION * m)) if flips is None else flips for m in mean_spikes])
        radius = check_int("flips", radius, minimum=0)
        threat = "flips"
    model = Stack(models)
    twin = Stack(twins) if twins is not None else None
    x, y = torch.cat(xs, dim=1), torch.cat(ys)  # member-major blocks of n samples
    if twin is not None:
        with torch.no_grad():
            one = x[:, _rows(torch.arange(min(n, 1)), n, members)].to(device)
            shape_t, shape_m = twin(one, readout).shape, model(one, readout).shape
        if shape_t != shape_m:
            raise ValueError(f"twin must give logits of the model's shape {tuple(shape_m)}, got {tuple(shape_t)}")

    with attacks.frozen(model):
        clean_sample = _predict(model, x, readout, batch_size, device, members) == y
    battery, skipped = _battery(model, twin, encoding, readout, radius, bounds, surrogates, losses,
                                steps, restarts, square_queries, p_init, random_draws, rounds)
    per_attack_sample, seconds = {}, {}
    for name, craft in battery.items():
        tic = time.perf_counter()
        survived = clean_sample.clone()
        if radius > 0 and bool(clean_sample.any()):
            gens = [_seeded(seed, name) for seed in seeds]
            gen = gens[0] if members == 1 else attacks.Blocks(gens)
            with contextlib.ExitStack() as stack:
                for net in (model, twin) if twin is not None else (model,):
                    stack.enter_context(attacks.frozen(net))
                for idx in torch.arange(n).split(batch_size):
                    rows = _rows(idx, n, members)
                    xb, yb = x[:, rows].to(device), y[rows].to(device)
                    ok = torch.ones(len(rows), dtype=torch.bool)
                    for candidate in craft(xb, yb, gen):
                        _check_threat(name, xb, candidate, encoding, radius, bounds)
                        with torch.no_grad():
                            ok &= (model(candidate, readout).argmax(1) == yb).cpu()
                    survived[rows] &= ok
        per_attack_sample[name] = survived
        seconds[name] = (time.perf_counter() - tic) / members
    seconds["total"] = (time.perf_counter() - start) / members
    out = []
    for m in range(members):
        block = slice(m * n, (m + 1) * n)
        clean_m = clean_sample[block]
        attacked = {name: s[block] for name, s in per_attack_sample.items()}
        per_sample = clean_m.clone()
        for survived in attacked.values():
            per_sample &= survived
        per_attack = {name: _mean(s) for name, s in attacked.items()}
        gap = masking_gap(per_attack)
        settings = dict(threat=threat, radius=radius, bounds=bounds, n_samples=n, seed=seeds[m], batch_size=batch_size,
                        steps=steps, restarts=restarts, step_size=2.5 * radius / steps if threat == "linf" else None,
                        losses=list(losses), surrogates={k: repr(v) if v is not None else "model's own"
                                                         for k, v in surrogates.items()},
                        square_queries=square_queries, p_init=p_init, random_draws=random_draws, rounds=rounds,
                        twin=twin is not None)
        if threat == "linf":
            settings["eps_over_range"] = radius / (bounds[1] - bounds[0])
            scale = getattr(tasks[m], "input_scale", None)
            settings["eps_over_scale"] = (radius / scale) if scale else None
        else:
            settings["mean_spikes"] = mean_spikes[m]
        out.append(dict(accuracy=_mean(per_sample), clean=_mean(clean_m), per_attack=per_attack,
                        per_sample=per_sample, per_attack_sample=attacked, clean_sample=clean_m,
                        chance=_chance(ys[m], tasks[m].n_classes), threat=threat, radius=radius,
                        skipped=dict(skipped), masking_gap=gap, masking_suspected=bool(gap > MASKING_MARGIN),
                        settings=settings, seconds=dict(seconds)))
    return out


def _mean(flags: torch.Tensor) -> float:
    return float(flags.float().mean()) if flags.numel() else math.nan


def _chance(y: torch.Tensor, n_classes: int) -> float:
    return float(torch.bincount(y, minlength=n_classes).max() / len(y)) if len(y) else math.nan


def masking_gap(per_attack: Mapping[str, float]) -> float:
    """``min(white-box accuracies) - min(gradient-free accuracies)``: how much more the gradient-free
    attacks break than the gradient ones (NaN when either family is missing)."""
    white = [a for k, a in per_attack.items() if _family(k) in WHITE_BOX]
    free = [a for k, a in per_attack.items() if _family(k) in GRADIENT_FREE]
    return min(white) - min(free) if white and free else math.nan


# --- a curve over radii, with sanity checks -------------------------------------------------------
def audit_curve(model: nn.Module, task, radii: Sequence[float], add_full_range: bool = True,
                chance_tolerance: float = 0.0, seed: int = 0, twin: nn.Module | None = None, **audit_kwargs) -> dict:
    """:func:`audit` at each radius (``eps`` for current tasks, ``flips`` for spike tasks), with checks.

    Robust accuracy must not rise with the radius: the ball grows, so a sample broken at ``r`` is
    broken at every ``r' > r``. The raw results are recorded (``accuracy_raw``, ``per_attack_raw``)
    and then enforced per sample by carrying each failure to the larger radii (``accuracy``,
    ``per_attack``). With ``add_full_range`` a radius covering the whole input range (``hi - lo``,
    or ``T · F`` flips) is appended when missing; there any input is reachable, so at most the samples
    of one class can survive a perfect attacker and accuracy must be ≤ chance (of the audited labels)
    + ``chance_tolerance``.

    Returns ``dict(rows=[{radius, accuracy, accuracy_raw, clean, per_attack, per_attack_raw,
    masking_gap, full_range}], checks={monotone, chance_at_max, worst_le_each, masking_suspected},
    details={...}, chance, threat, settings, seconds)``. ``monotone`` says whether no sample
    survived a radius larger than one it failed at, before enforcing; ``chance_at_max`` is ``None``
    when no radius covers the input range; ``masking_suspected`` when a gradient-free attack beats
    the white-box ones by more than :data:`MASKING_MARGIN` at some radius."""
    return audit_curves([model], [task], radii, add_full_range, chance_tolerance, seeds=[seed],
                        twins=None if twin is None else [twin], **audit_kwargs)[0]


def audit_curves(models: Sequence[nn.Module], tasks: Sequence, radii: Sequence[float], add_full_range: bool = True,
                 chance_tolerance: float = 0.0, seeds: Sequence[int] = (0,), twins: Sequence[nn.Module] | None = None,
                 **audit_kwargs) -> list[dict]:
    """:func:`audit_curve` of ``M`` networks at once (:func:`audit_members` at each radius): one curve per
    network, the one it gets alone."""
    for task in tasks:
        _check_task(task)
    radii = list(radii)
    chance_tolerance = check_fraction("chance_tolerance", chance_tolerance)
    if not radii:
        raise ValueError("radii must hold at least one radius")
    task = tasks[0]
    spikes = task.encoding == "spikes"
    for r in radii:
        check_int("radii", r, minimum=0) if spikes else check_fraction("radii", r, 0.0, math.inf)
    if any(b < a for a, b in zip(radii, radii[1:])):
        raise ValueError(f"radii must be non-decreasing, got {radii!r}")
    if spikes:
        full = task.x_test.shape[0] * task.x_test.shape[2]
    else:
        lo, hi = audit_kwargs.get("bounds") or _task_bounds(task)
        full = hi - lo
    covered = radii[-1] >= full
    if add_full_range and not covered:
        radii.append(full)
        covered = True
    per_radius = [audit_members(models, tasks, **({"flips": r} if spikes else {"eps": r}), seeds=seeds, twins=twins,
                                **audit_kwargs) for r in radii]
    return [_curve([res[m] for res in per_radius], radii, full, covered, chance_tolerance) for m in range(len(models))]


def _curve(results: list[dict], radii: list, full: float, covered: bool, chance_tolerance: float) -> dict:
    """One network's curve and checks from its :func:`audit` result at each radius."""
    rows, carried = [], None
    for r, res in zip(radii, results):
        now = {"worst": res["per_sample"], **res["per_attack_sample"]}
        carried = now if carried is None else {k: v & carried[k] for k, v in now.items()}
        rows.append(dict(radius=r, accuracy=_mean(carried["worst"]), accuracy_raw=res["accuracy"], clean=res["clean"],
                         per_attack={k: _mean(v) for k, v in carried.items() if k != "worst"},
                         per_attack_raw=res["per_attack"], masking_gap=res["masking_gap"], full_range=r >= full))
    violations = [results[i]["radius"] for i in range(1, len(results))
                  if bool((results[i]["per_sample"] & ~_all_before(results, i)).any())]
    chance = results[0]["chance"]
    at_max = rows[-1]["accuracy"] if covered else None
    worst_ok = all(row[a] <= min(row[p].values(), default=math.inf) + 1e-12
                   for row in rows for a, p in (("accuracy", "per_attack"), ("accuracy_raw", "per_attack_raw")))
    masked = [row["radius"] for row in rows if row["masking_gap"] > MASKING_MARGIN]
    checks = dict(monotone=not violations,
                  chance_at_max=None if at_max is None else at_max <= chance + chance_tolerance,
                  worst_le_each=worst_ok, masking_suspected=bool(masked))
    details = dict(monotone_violations=violations, accuracy_at_max=at_max, full_range_radius=full,
                   masking_radii=masked, skipped=results[0]["skipped"])
    return dict(rows=rows, checks=checks, details=details, chance=chance, threat=results[0]["threat"],
                settings={k: v for k, v in results[0]["settings"].items() if k != "radius"},
                seconds=sum(res["seconds"]["total"] for res in results))


def _all_before(results, i) -> torch.Tensor:
    """Samples robust at every radius before the ``i``-th (a failure there must persist)."""
    keep = results[0]["per_sample"].clone()
    for res in results[1:i]:
        keep &= res["per_sample"]
    return keep


# --- chance-corrected robustness ------------------------------------------------------------------
class ChanceCorrected(NamedTuple):
    """A chance-corrected score, ``NaN`` with the ``reason`` when it is undefined (``reason`` is ``""`` otherwise)."""

    value: float
    reason: str = ""


def _undefined(clean: float, chance: float) -> str:
    if any(not isinstance(v, (int, float)) or math.isnan(v) for v in (clean, chance)):
        return f"clean ({clean!r}) and chance ({chance!r}) must be numbers"
    if abs(clean - chance) < MIN_ABOVE_CHANCE:
        return (f"clean accuracy {clean:.3f} is within {MIN_ABOVE_CHANCE} of chance {chance:.3f}: "
                "there is no accuracy above chance to keep")
    return ""


def relative_robustness(robust: float, clean: float, chance: float) -> ChanceCorrected:
    """``(robust - chance) / (clean - chance)``: 1 keeps all the accuracy above chance, 0 falls to chance
    (negative below chance). NaN, with the reason, when ``clean`` is within 0.05 of ``chance``."""
    reason = _undefined(clean, chance)
    if reason:
        return ChanceCorrected(math.nan, reason)
    return ChanceCorrected((robust - chance) / (clean - chance))


def normalised_auc(radii: Sequence[float], accuracies: Sequence[float], clean: float, chance: float) -> ChanceCorrected:
    """Normalised area under the robustness curve, ``∫₀¹ (acc(r) - chance) / (clean - chance) d(r / r_max)``
    by trapezoids over the non-decreasing ``radii`` (the clean accuracy is put at ``r = 0`` when the first
    radius is larger): 1 for a curve flat at the clean accuracy, 0 for one at chance from the start. NaN,
    with the reason, when ``clean`` is within 0.05 of ``chance`` or no radius is above 0."""
    radii, accuracies = [float(r) for r in radii], [float(a) for a in accuracies]
    if len(radii) != len(accuracies) or not radii:
        raise ValueError(f"radii and accuracies must be non-empty and of one length, "
                         f"got {len(radii)} and {len(accuracies)}")
    if any(r < 0 for r in radii) or any(b < a for a, b in zip(radii, radii[1:])):
        raise ValueError(f"radii must be non-decreasing and >= 0, got {radii!r}")
    reason = _undefined(clean, chance)
    if reason:
        return ChanceCorrected(math.nan, reason)
    if radii[-1] == 0:
        return ChanceCorrected(math.nan, "no radius above 0: the curve has no width")
    if radii[0] > 0:
        radii, accuracies = [0.0, *radii], [float(clean), *accuracies]
    rel = [(a - chance) / (clean - chance) for a in accuracies]
    area = sum((r1 - r0) * (a0 + a1) / 2 for r0, r1, a0, a1 in zip(radii, radii[1:], rel, rel[1:]))
    return ChanceCorrected(area / radii[-1])
