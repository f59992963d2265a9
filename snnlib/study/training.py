"""The training stage of a run: its task, its networks, and their training; nothing is measured here.

:func:`train_group` trains the runs of one group (equal :func:`snnlib.study.experiment.group_key`) as one
stacked ensemble (:func:`snnlib.measure.train.fit_members`), each member with its own seed; an audited
run with a transfer attack (:func:`wants_twin`) adds its *twin*, the same network initialised from
``seed + TWIN_SEED_OFFSET``, to the ensemble. It returns the trained networks and their histories,
which :mod:`snnlib.study.measuring` measures and :mod:`snnlib.study.records` stores.

This module and the snnlib modules it imports (transitively, lazy imports included) are the *training*
part of the code fingerprint (:mod:`snnlib.study.fingerprint`): a change to any of them retrains the
recorded runs. Parameters reaching this module are already validated
(:func:`snnlib.study.experiment.validate`).
"""

from __future__ import annotations

import time
from typing import NamedTuple

#: seed offset of the twin network that crafts transfer attacks (the same data, another initialisation)
TWIN_SEED_OFFSET = 100_000


class TrainedGroup(NamedTuple):
    """The outputs of :func:`snnlib.study.experiment.train_group`, one entry per run: its parameters, task,
    trained network, twin (``None`` without one), history (:func:`snnlib.measure.train.fit_members`: the
    epochs, ``best_epoch``, ``val_accuracy``, ``final_train_loss``) and its share of the group's seconds."""

    runs: list
    tasks: list
    models: list
    twins: list
    histories: list
    seconds: list


def wants_twin(params: dict) -> bool:
    """Whether a run trains a twin: it is audited and its audit includes the transfer attack."""
    return "audit" in params["measures"] and params["measure_params"].get("transfer", True)


def train_config(params: dict, seed: int | None = None):
    """The :class:`snnlib.measure.train.TrainConfig` of a run (``seed``: default the run's)."""
    from snnlib.measure.train import TrainConfig

    return TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                       seed=params["seed"] if seed is None else seed, device=params["device"],
                       rate_reg=params["rate_reg"], patience=params["patience"])


def build_task(params: dict):
    """The task of a (validated) run, built from its seed (its training streams: :func:`training_task`)."""
    from snnlib import data

    return data.get_task(params["task"], **{"seed": params["seed"], **params["task_params"]})


def build_model(params: dict, task, seed: int | None = None):
    """An untrained network for ``task``, initialised from ``seed`` (default: the run's)."""
    from snnlib.measure.train import resolve_device, seed_everything
    from snnlib.model.models import build_snn

    seed_everything(params["seed"] if seed is None else seed)
    readout_decay = params["readout_decay"] if params["readout_decay"] is not None else task.readout_decay
    model = build_snn(task.n_inputs, params["hidden"], task.n_classes, params["variant"], params["decay"],
                      readout_decay=readout_decay, neuron_params=params["neuron_params"])
    return model.to(resolve_device(params["device"]))


def training_task(params: dict, task):
    """What a run trains on: ``task`` itself, or streams of ``train_stream`` of its samples."""
    if params["train_stream"]:
        from snnlib.data.stream import stream_task

        return stream_task(task, params["train_stream"], seed=params["seed"])
    return task


def train_group(runs: list[dict], tasks: list, started: float | None = None) -> TrainedGroup:
    """Train validated ``runs`` of one group, on their built ``tasks``, as one ensemble (module docstring).

    ``started``: the :func:`time.perf_counter` at which the group's work began (default: now); each run's
    ``seconds`` is its equal share of the time from then to the end of training."""
    from snnlib.measure.train import fit_members

    started = time.perf_counter() if started is None else started
    members, member_tasks, configs, roles = [], [], [], []  # roles[k]: (run index, "model" or "twin")
    for i, (p, task) in enumerate(zip(runs, tasks)):
        seeds = [(p["seed"], "model")] + ([(p["seed"] + TWIN_SEED_OFFSET, "twin")] if wants_twin(p) else [])
        for seed, role in seeds:
            members.append(build_model(p, task, seed=seed))
            member_tasks.append(training_task(p, task))
            configs.append(train_config(p, seed=seed))
            roles.append((i, role))
    histories = fit_members(members, member_tasks, configs)
    trained = [{} for _ in runs]
    for model, history, (i, role) in zip(members, histories, roles):
        trained[i][role] = (model, history)
    share = (time.perf_counter() - started) / len(runs)
    return TrainedGroup(runs=list(runs), tasks=list(tasks), models=[t["model"][0] for t in trained],
                        twins=[t["twin"][0] if "twin" in t else None for t in trained],
                        histories=[t["model"][1] for t in trained], seconds=[share] * len(runs))
