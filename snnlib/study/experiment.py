"""Training runs of the study, as pure functions of their parameters: one run, or a group trained together.

``run(params) -> metrics`` builds the task and the network, trains it, and measures it. Runs that share
everything that fixes the computation's shape (:func:`group_key`: task and its parameters but the seed,
hidden sizes, recurrence, epochs, batch size, learning rate, device, readout) are trained *together* by
:func:`run_group` as one stacked ensemble (:func:`snnlib.measure.train.fit_members`), each member with
its own seed, λ, reset mode and firing-rate regularisation; ``run(params)`` is ``run_group([params])[0]``,
and a run's metrics are identical alone or in any group. Parameters and metrics are plain JSON-ready
dicts, so a run can be recorded (:mod:`snnlib.study.records`) and handed to any worker process.

Parameters (:class:`RunParams` gives the types and defaults and checks them all before any training)::

    experiment, profile   labels of the experiment and profile the run belongs to (part of the record key)
    task, task_params     one of snnlib.data.TASKS and its parameters (the run's seed seeds the task)
    variant, decay        one of Variant.names(); λ of the leaky variants, in [0, 1]
    hidden                sizes of the spiking layers
    readout_decay         λ_o of the readout; None = the task's own (0 on memory tasks)
    train_stream          0: train on single samples; k >= 2: on streams of k samples, state carried over
    rate_reg              firing-rate regularisation strength (0 = none)
    epochs, batch_size, lr, seed, device   the optimisation (snnlib.measure.train.TrainConfig)
    measures              extra measurements, names from MEASURES
    measure_params        their settings (see each measure)

Every run keeps the weights of its epoch of best *validation* accuracy; the test split is read only to
measure, never to choose.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from snnlib.study.config import Decay, Device, Hidden, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

#: seed offset of the twin network that crafts transfer attacks (the same data, another initialisation)
TWIN_SEED_OFFSET = 100_000


class RunParams(BaseModel):
    """The parameters of one training run, with their types and defaults (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    experiment: str = "adhoc"
    profile: str = "adhoc"
    task: str = "digits"
    task_params: dict[str, Any] = {}
    variant: str = "LIF"
    decay: Decay = 0.5
    hidden: Hidden = [128]
    readout_decay: Decay | None = None
    train_stream: NonNegativeInt = 0
    rate_reg: NonNegativeFloat = 0.0
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 64
    lr: PositiveFloat = 3e-3
    seed: NonNegativeInt = 0
    device: Device = "auto"
    measures: list[str] = []
    measure_params: dict[str, Any] = {}

    @field_validator("variant")
    @classmethod
    def _variant(cls, value):
        from snnlib.model.variants import Variant

        return Variant.parse(value).name

    @field_validator("task")
    @classmethod
    def _task(cls, value):
        from snnlib.data.names import TASK_NAMES

        if value not in TASK_NAMES:
            raise ValueError(f"unknown task {value!r}; valid tasks are: {', '.join(TASK_NAMES)}")
        return value

    @field_validator("measures")
    @classmethod
    def _measures(cls, value):
        unknown = [m for m in value if m not in MEASURES]
        if unknown:
            raise ValueError(f"unknown measure(s) {unknown}; valid measures are: {', '.join(MEASURES)}")
        return value

    @field_validator("train_stream")
    @classmethod
    def _stream(cls, value):
        if value == 1:
            raise ValueError("train_stream must be 0 (single samples) or >= 2 (streams of that many samples), got 1")
        return value


DEFAULTS = {name: field.default for name, field in RunParams.model_fields.items()}


def validate(params: dict) -> dict:
    """Check every parameter of a run (without building any data); returns them completed with defaults.

    Raises ``ValueError`` naming the parameter and its allowed values.
    """
    from snnlib.data import check_task_params
    from snnlib.study.config import explain

    try:
        p = RunParams(**params).model_dump()
    except ValidationError as error:
        raise ValueError(explain(error, fields=list(RunParams.model_fields)).replace("parameter ", "run parameter ")) \
            from None
    except TypeError as error:
        raise ValueError(f"run parameters must be a dict of names to values: {error}") from None
    check_task_params(p["task"], p["task_params"])
    return p


def group_key(params: dict) -> tuple:
    """What fixes the shape of a run's computation: runs with equal keys can train as one ensemble."""
    from snnlib.model.variants import Variant

    task_params = {k: v for k, v in params["task_params"].items() if k != "seed"}
    return (params["task"], repr(sorted(task_params.items())), tuple(params["hidden"]),
            Variant.parse(params["variant"]).recurrent, params["readout_decay"], params["train_stream"],
            params["epochs"], params["batch_size"], params["lr"], params["device"])


# --- building ----------------------------------------------------------------------------------------

def train_config(params: dict, seed: int | None = None):
    from snnlib.measure.train import TrainConfig

    return TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                       seed=params["seed"] if seed is None else seed, device=params["device"],
                       rate_reg=params["rate_reg"])


def build_task(params: dict):
    """The task of a (validated) run, built from its seed (its training streams: :func:`_training_task`)."""
    from snnlib import data

    return data.get_task(params["task"], **{"seed": params["seed"], **params["task_params"]})


def build_model(params: dict, task, seed: int | None = None):
    """An untrained network for ``task``, initialised from ``seed`` (default: the run's)."""
    from snnlib.measure.train import resolve_device, seed_everything
    from snnlib.model.models import build_snn

    seed_everything(params["seed"] if seed is None else seed)
    readout_decay = params["readout_decay"] if params["readout_decay"] is not None else task.readout_decay
    model = build_snn(task.n_inputs, params["hidden"], task.n_classes, params["variant"], params["decay"],
                      readout_decay=readout_decay)
    return model.to(resolve_device(params["device"]))


def _training_task(params: dict, task):
    if params["train_stream"]:
        from snnlib.data.stream import stream_task

        return stream_task(task, params["train_stream"], seed=params["seed"])
    return task


def _wants_twin(params: dict) -> bool:
    return "audit" in params["measures"] and params["measure_params"].get("transfer", True)


# --- running -----------------------------------------------------------------------------------------

def run_group(group: list[dict]) -> list[dict]:
    """Train the runs of ``group`` (equal :func:`group_key`) as one ensemble and measure each; returns
    one metrics dict per run, in order. Audited runs add their twin network to the ensemble."""
    from snnlib.measure.train import fit_members

    start = time.perf_counter()
    runs = [validate(p) for p in group]
    if len({group_key(p) for p in runs}) > 1:
        raise ValueError("the runs of a group must share task, task parameters, hidden sizes, recurrence, "
                         "readout, epochs, batch size, learning rate and device")
    tasks = [build_task(p) for p in runs]
    members, member_tasks, configs, roles = [], [], [], []  # roles[k]: (run index, "model" or "twin")
    for i, (p, task) in enumerate(zip(runs, tasks)):
        seeds = [(p["seed"], "model")] + ([(p["seed"] + TWIN_SEED_OFFSET, "twin")] if _wants_twin(p) else [])
        for seed, role in seeds:
            members.append(build_model(p, task, seed=seed))
            member_tasks.append(_training_task(p, task))
            configs.append(train_config(p, seed=seed))
            roles.append((i, role))
    histories = fit_members(members, member_tasks, configs)
    trained = [{} for _ in runs]
    for model, history, (i, role) in zip(members, histories, roles):
        trained[i][role] = (model, history)
    train_seconds = (time.perf_counter() - start) / len(runs)
    audited, audit_seconds = _audit_group(runs, tasks, trained)
    out = []
    for i, (p, task) in enumerate(zip(runs, tasks)):
        model, history = trained[i]["model"]
        twin = trained[i].get("twin", (None, None))[0]
        began = time.perf_counter() - audit_seconds.get(i, 0.0)
        metrics = measure_run(model, task, p, history, twin, audited.get(i))
        metrics["train_seconds"] = train_seconds + time.perf_counter() - began
        out.append(metrics)
    return out


def audit_stacks(runs: list[dict], tasks: list) -> list[list[int]]:
    """The indices of the audited runs of a group, cut into the sets that can be audited stacked: equal
    audit settings, transfer twin or not, input bounds, input scale and test-set shape. (Tasks whose input
    range comes from their data, like ``mnist1d``, have bounds of their own per seed: their runs are
    audited one at a time.)"""
    import json

    stacks: dict = {}
    for i, p in enumerate(runs):
        if "audit" in p["measures"]:
            setting = (json.dumps(p["measure_params"], sort_keys=True), _wants_twin(p), tasks[i].input_bounds,
                       tasks[i].input_scale, tuple(tasks[i].x_test.shape))
            stacks.setdefault(setting, []).append(i)
    return list(stacks.values())


def _audit_group(runs, tasks, trained) -> tuple[dict, dict]:
    """The audits of a group's audited runs, stacked where they can be (:func:`audit_stacks`,
    :func:`audit_runs`): results and seconds (a stack's time shared equally) by run index."""
    results, seconds = {}, {}
    for indices in audit_stacks(runs, tasks):
        tic = time.perf_counter()
        stacked = audit_runs([trained[i]["model"][0] for i in indices], [tasks[i] for i in indices],
                             [runs[i] for i in indices], [trained[i].get("twin", (None, None))[0] for i in indices])
        share = (time.perf_counter() - tic) / len(indices)
        for i, result in zip(indices, stacked):
            results[i], seconds[i] = result, share
    return results, seconds


def run(params: dict) -> dict:
    """Train and measure one network; returns its metrics (JSON-ready). The same as a group of one."""
    return run_group([params])[0]


def trained_model(params: dict):
    """Train a run's network and return ``(task, model)`` (for figures that need the network itself)."""
    from snnlib.measure.train import fit_members

    p = validate(params)
    task = build_task(p)
    model = build_model(p, task)
    fit_members([model], [_training_task(p, task)], [train_config(p)])
    return task, model


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
                   chance=task.chance)
    for name in p["measures"]:
        metrics.update(MEASURES[name](model, task, p, twin, **({"audited": audited} if name == "audit" else {})))
    return metrics


# --- measurements beyond accuracy (the run parameter ``measures``) ------------------------------------

def audit_runs(models, tasks, params: list[dict], twins) -> list[dict]:
    """The attack audit (:func:`snnlib.measure.audit.audit_curves`) of runs that share their task's shape
    and their audit settings, stacked into one (each run's result is the one it gets alone), at every
    radius: on analog tasks L∞ radii ``radii`` in units of the task's input scale, on spike tasks
    spike-flip budgets ``flips``. ``audit_samples`` test samples are audited. One
    ``dict(audit=rows, audit_checks=checks)`` per run."""
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
    curves = audit.audit_curves(models, tasks, radii, seeds=[p["seed"] for p in params], n_samples=n,
                                twins=twins if with_twins else None, **budget)
    out = []
    for curve, run_task in zip(curves, tasks):
        if run_task.encoding != "spikes":
            for row in curve["rows"]:
                row["radius_scales"] = row["radius"] / run_task.input_scale
        out.append(dict(audit=curve["rows"], audit_checks=curve["checks"]))
    return out


def measure_audit(model, task, p, twin, audited: dict | None = None) -> dict:
    """The attack audit (:func:`audit_runs`; ``audited``: its result for this run when the group was
    audited together), plus input noise at ``noise_levels`` (Gaussian σ in input scales on currents;
    deletion and insertion probabilities on spikes) on the same ``audit_samples`` test samples."""
    from snnlib.measure import attacks

    mp = p["measure_params"]
    if audited is None:
        audited = audit_runs([model], [task], [p], [twin])[0]
    n = min(mp.get("audit_samples", 128), len(task.y_test))
    scale = task.input_scale or 1.0
    x, y = task.x_test[:, :n], task.y_test[:n]
    noise = [row for kind in attacks.noise_for_encoding(task.encoding)
             for row in attacks.noise_curve(model, x, y, task.readout, kind,
                                            [lvl * (scale if kind == "gaussian" else 1.0)
                                             for lvl in mp.get("noise_levels", [0.0, 0.2])], seed=p["seed"])]
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


MEASURES = dict(audit=measure_audit, generalization=measure_generalization, stream=measure_stream)
