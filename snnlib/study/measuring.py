"""The measuring stage of a run: metrics of trained networks, whether just trained or loaded from a record.

:func:`measure_group` takes the runs of a group with their tasks, trained networks, transfer twins and
training histories, and returns one metrics dict per run: accuracies (test, validation, train), the gap,
efficiency (firing rates, sparsity, SynOps) and the extra ``measures`` of the run (:data:`MEASURES`:
the attack audit, temporal generalization, uninterrupted streams). Audited runs whose threat model
agrees are audited stacked (:func:`audit_stacks`, :func:`audit_runs`); each gets the result it gets alone.

This module and the snnlib modules it imports (transitively, lazy imports included) are the
*measurement* part of the code fingerprint (:mod:`snnlib.study.fingerprint`). It imports
:mod:`snnlib.study.training` (which runs have a twin), so the measurement part contains the training
part: a change to training code makes both stale, a change to an attack only the measurement, and a
sweep then measures the stored weights again without training (:func:`snnlib.study.sweep.run_grid`).
"""

from __future__ import annotations

import json
import time

from snnlib.study.training import wants_twin


def measure_group(runs: list[dict], tasks: list, models: list, twins: list, histories: list,
                  seconds: list[float] | None = None) -> list[dict]:
    """The metrics of each trained run of a group (module docstring), in order.

    Args:
        runs: validated parameters of each run; tasks: their built tasks; models: their trained networks;
        twins: their trained transfer twins (``None`` where a run has none); histories: their training
        histories (``best_epoch``, ``val_accuracy``, ``final_train_loss`` are copied into the metrics).
        seconds: per run, seconds already spent on it (its training share); each run's ``train_seconds``
            is that plus its own measuring time (its share of a stacked audit included). Default 0.
    """
    seconds = [0.0] * len(runs) if seconds is None else list(seconds)
    audited, audit_seconds = _audit_group(runs, tasks, models, twins)
    out = []
    for i, (p, task, model, twin, history) in enumerate(zip(runs, tasks, models, twins, histories)):
        began = time.perf_counter() - audit_seconds.get(i, 0.0)
        metrics = measure_run(model, task, p, history, twin, audited.get(i))
        metrics["train_seconds"] = seconds[i] + time.perf_counter() - began
        out.append(metrics)
    return out


#: the one-sided level of the binomial test that decides whether a run is above chance before its audit
ABOVE_CHANCE_LEVEL = 0.01
#: attack random streams are seeded apart from training: ATTACK_SEED + REDRAW_STRIDE * redraw + seed
ATTACK_SEED, REDRAW_STRIDE = 7_000_000, 100_000


def attack_seed(seed: int, redraw: int = 0) -> int:
    """The seed of the attacks' random streams (starts, restarts, Square's proposals, random flips) for a
    run's ``seed`` and the attack ``redraw``: independent of the training seed's own streams, and a new
    draw of every random choice of the audit for each redraw."""
    return ATTACK_SEED + REDRAW_STRIDE * redraw + seed


def above_chance(model, task) -> dict:
    """Whether ``model`` is above chance on the FULL test set, decided before any audit: a one-sided exact
    binomial test of its correct answers against ``task.chance`` at :data:`ABOVE_CHANCE_LEVEL`
    (``scipy.stats.binomtest``). Returns ``dict(above=bool, p=p-value, correct, n)``."""
    from scipy.stats import binomtest

    from snnlib.measure import metrics as metrics_mod

    n = len(task.y_test)
    correct = round(metrics_mod.measure(model, task.x_test, task.y_test, task.readout)["accuracy"] * n)
    p = binomtest(correct, n, task.chance, alternative="greater").pvalue
    return dict(above=bool(p < ABOVE_CHANCE_LEVEL), p=float(p), correct=int(correct), n=int(n))


def audit_stacks(runs: list[dict], tasks: list, models: list | None = None) -> list[list[int]]:
    """The indices of the audited runs of a group, cut into the sets that can be audited stacked: equal
    audit settings, transfer twin or not, input bounds, input scale and test-set shape. (Tasks whose input
    range comes from their data, like ``mnist1d``, have bounds of their own per seed: their runs are
    audited one at a time.) With ``models``, runs at chance on the full test set (:func:`above_chance`)
    are left out: their robustness means nothing."""
    stacks: dict = {}
    for i, p in enumerate(runs):
        if "audit" in p["measures"] and (models is None or above_chance(models[i], tasks[i])["above"]):
            setting = (json.dumps(p["measure_params"], sort_keys=True), wants_twin(p), tasks[i].input_bounds,
                       tasks[i].input_scale, tuple(tasks[i].x_test.shape))
            stacks.setdefault(setting, []).append(i)
    return list(stacks.values())


def _audit_group(runs, tasks, models, twins) -> tuple[dict, dict]:
    """The audits of a group's audited runs, stacked where they can be (:func:`audit_stacks`,
    :func:`audit_runs`): results and seconds (a stack's time shared equally) by run index."""
    results, seconds = {}, {}
    for indices in audit_stacks(runs, tasks, models):
        tic = time.perf_counter()
        stacked = audit_runs([models[i] for i in indices], [tasks[i] for i in indices],
                             [runs[i] for i in indices], [twins[i] for i in indices])
        share = (time.perf_counter() - tic) / len(indices)
        for i, result in zip(indices, stacked):
            results[i], seconds[i] = result, share
    return results, seconds


def measure_run(model, task, p: dict, history: dict, twin=None, audited: dict | None = None) -> dict:
    """The metrics of a trained run: accuracies (test, validation, train), the gap, efficiency, and the
    extra ``measures`` (``audited``: the run's audit when its group was audited together)."""
    from snnlib.measure import metrics as metrics_mod

    test = metrics_mod.measure(model, task.x_test, task.y_test, task.readout, input_spikes=task.encoding == "spikes")
    train = metrics_mod.measure(model, task.x_train, task.y_train, task.readout)
    metrics = dict(test_accuracy=test["accuracy"], train_accuracy=train["accuracy"],
                   val_accuracy=history.get("val_accuracy"), best_epoch=history.get("best_epoch"),
                   final_train_loss=history.get("final_train_loss"),
                   gap=metrics_mod.gap(train["accuracy"], test["accuracy"]), test_loss=test["loss"],
                   firing_rates=test["firing_rates"], firing_rate=test["firing_rate"], sparsity=test["sparsity"],
                   synops=test["synops"], hidden_synops=sum(test["layer_synops"]),
                   input_synops=test["synops"] - sum(test["layer_synops"]), layer_synops=test["layer_synops"],
                   chance=task.chance, epochs_trained=history.get("epochs_trained"),
                   converged=history.get("converged"), neuron=neuron_parameters(model))
    for name in p["measures"]:
        metrics.update(MEASURES[name](model, task, p, twin, **({"audited": audited} if name == "audit" else {})))
    return metrics


def neuron_parameters(model) -> list[dict]:
    """Per hidden layer, the distribution of the neuron model's per-neuron tensors (a learned λ, say):
    ``{name: {mean, std, min, q10, median, q90, max}}`` for every parameter or buffer with one value per
    neuron (``decay`` as λ, not the raw parameter, where the model computes it); an empty dict per layer
    whose parameters are shared by all its neurons."""
    import torch

    layers = []
    for layer in model.layers:
        dynamics, values = layer.node.dynamics, {}
        named = dict(dynamics.tensors())
        if isinstance(getattr(type(dynamics), "decay", None), property):
            named["decay"] = dynamics.decay
        for name, tensor in named.items():
            if tensor.dim() == 1 and tensor.numel() > 1:
                t = tensor.detach().double().cpu()
                q = torch.quantile(t, torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)).tolist()
                values[name] = dict(mean=t.mean().item(), std=t.std().item(), min=t.min().item(), q10=q[0],
                                    median=q[1], q90=q[2], max=t.max().item())
        layers.append(values)
    return layers


# --- measurements beyond accuracy (the run parameter ``measures``) ------------------------------------

def audit_runs(models, tasks, params: list[dict], twins) -> list[dict]:
    """The attack audit (:func:`snnlib.measure.audit.audit_curves`) of runs that share their task's shape
    and their audit settings, stacked into one (each run's result is the one it gets alone), at every
    radius: on analog tasks L∞ radii ``radii`` in units of the task's input scale, on spike tasks
    spike-flip budgets ``flips``. ``audit_samples`` test samples are audited (the first ones; every task
    orders its test split so that they mix the classes). The attacks' random streams are seeded apart
    from training (:func:`attack_seed`); ``audit_redraws`` > 1 repeats the audit with every random choice
    drawn again, for the Monte-Carlo spread. One ``dict(audit=rows, audit_checks=checks[,
    audit_redraws=[rows, ...]])`` per run."""
    from snnlib.measure import audit

    mp, task = params[0]["measure_params"], tasks[0]
    n = min(mp.get("audit_samples", 128), len(task.y_test))
    budget = dict(steps=mp.get("pgd_steps", 50), restarts=mp.get("restarts", 2),
                  square_queries=mp.get("square_queries", 200), losses=tuple(mp.get("losses", ("ce", "margin"))))
    if task.encoding == "spikes":
        radii = [int(f) for f in mp.get("flips", [0, 1])]
    else:
        radii = [r * task.input_scale for r in mp.get("radii", [0.0, 1.0])]
    with_twins = all(t is not None for t in twins)
    draws = []
    for redraw in range(mp.get("audit_redraws", 1)):
        curves = audit.audit_curves(models, tasks, radii, seeds=[attack_seed(p["seed"], redraw) for p in params],
                                    n_samples=n, twins=twins if with_twins else None, **budget)
        for curve, run_task in zip(curves, tasks):
            if run_task.encoding != "spikes":
                for row in curve["rows"]:
                    row["radius_scales"] = row["radius"] / run_task.input_scale
        draws.append(curves)
    out = []
    for m in range(len(models)):
        result = dict(audit=draws[0][m]["rows"], audit_checks=draws[0][m]["checks"])
        if len(draws) > 1:  # the same audit with every random choice drawn again (Monte-Carlo spread)
            result["audit_redraws"] = [d[m]["rows"] for d in draws[1:]]
        out.append(result)
    return out


def measure_audit(model, task, p, twin, audited: dict | None = None) -> dict:
    """The attack audit (:func:`audit_runs`; ``audited``: its result for this run when the group was
    audited together), plus input noise at ``noise_levels`` (Gaussian σ in input scales on currents;
    deletion and insertion probabilities on spikes) on the same ``audit_samples`` test samples. A run at
    chance on the full test set (:func:`above_chance`) is not audited: ``audit_skipped`` says why."""
    from snnlib.measure import attacks

    mp = p["measure_params"]
    if audited is None:
        gate = above_chance(model, task)
        if not gate["above"]:
            return dict(audit_skipped=f"at chance on the full test set: {gate['correct']} of {gate['n']} correct, "
                                      f"one-sided binomial p = {gate['p']:.3g} >= {ABOVE_CHANCE_LEVEL}")
        audited = audit_runs([model], [task], [p], [twin])[0]
    n = min(mp.get("audit_samples", 128), len(task.y_test))
    scale = task.input_scale or 1.0
    x, y = task.x_test[:, :n], task.y_test[:n]
    noise = [row for kind in attacks.noise_for_encoding(task.encoding)
             for row in attacks.noise_curve(model, x, y, task.readout, kind,
                                            [lvl * (scale if kind == "gaussian" else 1.0)
                                             for lvl in mp.get("noise_levels", [0.0, 0.2])],
                                            seed=attack_seed(p["seed"]))]
    return dict(**audited, noise=noise)


def measure_generalization(model, task, p, twin, **_) -> dict:
    """Temporal generalization: test accuracy at every delay in ``delays`` (the trained delay included)
    of the same task with the same seed, read out over each task's own recall window."""
    from snnlib import data
    from snnlib.measure import metrics as metrics_mod

    if "delay" not in task.params:
        raise ValueError(f"measure 'generalization' needs a task with a delay, not {task.name!r}")
    rows = []
    for delay in p["measure_params"].get("delays", [task.params["delay"]]):
        other = data.get_task(task.name, **{**task.params, "delay": delay})
        rows.append(dict(delay=delay, accuracy=metrics_mod.temporal_generalization(model, other)["accuracy"]))
    return dict(generalization=rows)


def measure_stream(model, task, p, twin, **_) -> dict:
    """Uninterrupted processing: ``stream_length`` test samples fed back to back with no state reset;
    accuracy per stream position and the mean hidden membrane per segment (drift)."""
    from snnlib import data
    from snnlib.measure import metrics as metrics_mod

    k = p["measure_params"].get("stream_length", 4)
    stream = data.make_stream(task, k, seed=p["seed"])
    accuracy = metrics_mod.stream_accuracy(model, stream.x, stream.y, stream.windows)
    drift = metrics_mod.membrane_drift(model, stream.x, k)
    return dict(stream_accuracy=accuracy, membrane_drift=drift[0])


def measure_retention_noise(model, task, p, twin, **_) -> dict:
    """Noise while a memory is held: test accuracy of the network (trained on a silent delay) on the same
    test samples with background spikes at each rate of ``retention_noise`` during the delay, the cue and
    recall windows untouched (the task draws the same samples whatever the rate; tested). One row
    ``{level, accuracy}`` per rate."""
    from snnlib import data
    from snnlib.measure import metrics as metrics_mod

    if "delay_noise" not in task.params:
        raise ValueError(f"measure 'retention_noise' needs a task with a delay_noise, not {task.name!r}")
    rows = []
    for level in p["measure_params"].get("retention_noise", [0.0]):
        noisy = data.get_task(task.name, **{**task.params, "delay_noise": float(level)})
        rows.append(dict(level=float(level),
                         accuracy=metrics_mod.measure(model, noisy.x_test, noisy.y_test, noisy.readout)["accuracy"]))
    return dict(retention_noise=rows)


#: the extra measurements a run may ask for (its parameter ``measures``), by name
MEASURES = dict(audit=measure_audit, generalization=measure_generalization, stream=measure_stream,
                retention_noise=measure_retention_noise)
