"""One training run of the study, as a pure function of its parameters.

``run(params) -> metrics`` builds the task and the network, trains it, and measures it. Parameters
and metrics are plain JSON-ready dicts, so a run can be recorded (:mod:`snnlib.records`), keyed by
its parameters, and handed to any worker process (:mod:`snnlib.sweep`).

Parameters (``DEFAULTS`` gives the defaults; ``validate`` checks them all before any training)::

    experiment    name of the experiment the run belongs to (a label, part of the record key)
    task          one of snnlib.tasks.TASKS;  task_params: that task's parameters (dict)
    variant       one of Variant.names();      decay: λ of the leaky variants, in [0, 1]
    hidden        sizes of the spiking layers;  readout_decay: λ_o of the readout
    epochs, batch_size, lr, seed, device        the optimisation (snnlib.train.TrainConfig)
    measures      extra measurements, a list of names from MEASURES
"""

from __future__ import annotations

import time

import torch

from . import tasks as tasks_mod
from .models import build_snn
from .neurons import check_decay
from .train import TrainConfig, evaluate, fit, resolve_device, seed_everything
from .variants import Variant

DEFAULTS = dict(experiment="adhoc", task="digits", task_params={}, variant="LIF", decay=0.5, hidden=[128],
                readout_decay=0.5, epochs=20, batch_size=64, lr=3e-3, seed=0, device="auto", measures=[])

# name -> function(model, task, params) -> dict of metrics; filled in below
MEASURES: dict = {}


def with_defaults(params: dict) -> dict:
    """``params`` completed with :data:`DEFAULTS`; unknown keys raise ``ValueError``."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown run parameter(s) {', '.join(map(repr, unknown))}; "
                         f"the run parameters are: {', '.join(DEFAULTS)}")
    full = {**DEFAULTS, **params}
    full["task_params"] = dict(full["task_params"])
    full["hidden"] = [full["hidden"]] if isinstance(full["hidden"], int) else list(full["hidden"])
    full["measures"] = list(full["measures"])
    return full


def train_config(params: dict) -> TrainConfig:
    return TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                       seed=params["seed"], device=params["device"])


def validate(params: dict) -> dict:
    """Check every parameter of a run (without building any data); returns them completed with defaults."""
    p = with_defaults(params)
    tasks_mod.check_task(p["task"])
    tasks_mod.check_task_params(p["task"], p["task_params"])
    Variant.parse(p["variant"])
    check_decay(p["decay"])
    check_decay(p["readout_decay"]) if p["readout_decay"] is not None else None
    if not p["hidden"] or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in p["hidden"]):
        raise ValueError(f"hidden must be a non-empty list of positive integers, got {p['hidden']!r}")
    train_config(p)
    unknown = [m for m in p["measures"] if m not in MEASURES]
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; valid measures are: {', '.join(MEASURES)}")
    return p


def build(params: dict):
    """The task and an untrained, seeded model of a (validated) run."""
    task = tasks_mod.get_task(params["task"], **{"seed": params["seed"], **params["task_params"]})
    seed_everything(params["seed"])
    model = build_snn(task.n_inputs, params["hidden"], task.n_classes, params["variant"], params["decay"],
                      readout_decay=params["readout_decay"])
    return task, model.to(resolve_device(params["device"]))


def run(params: dict, progress: bool = False) -> dict:
    """Train and measure one network; returns its metrics (JSON-ready)."""
    p = validate(params)
    start = time.perf_counter()
    task, model = build(p)
    history = fit(model, task.x_train, task.y_train, task.readout, train_config(p))
    test = evaluate(model, task.x_test, task.y_test, task.readout)
    train = evaluate(model, task.x_train, task.y_train, task.readout)
    metrics = dict(test_accuracy=test["accuracy"], train_accuracy=train["accuracy"],
                   gap=train["accuracy"] - test["accuracy"], test_loss=test["loss"],
                   firing_rates=test["firing_rates"], firing_rate=sum(test["firing_rates"]) / len(test["firing_rates"]),
                   final_train_loss=history[-1]["loss"], chance=task.chance)
    for name in p["measures"]:
        metrics.update(MEASURES[name](model, task, p))
    metrics["train_seconds"] = time.perf_counter() - start
    return metrics


def trained_model(params: dict):
    """Train a run's network and return ``(task, model)`` (for figures that need the network itself)."""
    p = validate(params)
    task, model = build(p)
    fit(model, task.x_train, task.y_train, task.readout, train_config(p))
    return task, model
