"""Planning a sweep without training it: how many runs, how they group into ensembles, how many are
recorded already, and an estimated wall time from a short calibration on this machine.

The estimate times, for every distinct ensemble shape, a few training batches of an ensemble of that
size (:func:`snnlib.measure.train.fit_members` on a truncated copy of the task), and scales the time to
the group's batches and epochs; a group's audited runs add the time of their stacked audit
(:func:`snnlib.study.experiment.audit_runs`, two untrained networks on 4 and on 8 samples, extrapolated
linearly to the audit's samples and scaled to the stack's size). The estimate is of *this* machine's wall time on one process
(``estimate_s``) and with the profile's worker processes sharing the groups (``estimate_workers_s``:
divided by the workers, at most the CPU count). Untrained networks are no trained ones: their attacks
stop early on samples they already misclassify, so the audit time is a rough figure.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter

import pandas as pd

CALIBRATION_BATCHES = 3
CALIBRATION_SAMPLES = (4, 8)
#: networks of a stack audited for the calibration (the time is scaled to the stack's size: a stack of
#: large networks costs in proportion to its size; of small ones, less, so the estimate is on the safe side)
CALIBRATION_NETWORKS = 2


def _truncated(task, n: int):
    """``task`` with its training split cut to ``n`` samples (and no validation split)."""
    return dataclasses.replace(task, x_train=task.x_train[:, :n], y_train=task.y_train[:n], x_val=None, y_val=None)


def _time_group(group: list[dict]) -> float:
    """Seconds to train ``group`` as one ensemble, from a few timed batches."""
    from snnlib.measure.train import fit_members
    from snnlib.study import experiment

    p = group[0]
    task = experiment._training_task(p, experiment.build_task(p))
    batches = -(-len(task.y_train) // p["batch_size"])
    small = _truncated(task, min(len(task.y_train), CALIBRATION_BATCHES * p["batch_size"]))
    members = [experiment.build_model(q, task) for q in group]
    configs = [experiment.train_config(dict(q, epochs=1)) for q in group]
    # one untimed batch first: the first step of a shape pays one-time costs (allocation, lazy set-up)
    # that the timed batches would otherwise scale up to the whole training
    fit_members(members, [_truncated(task, p["batch_size"])] * len(members), configs)
    start = time.perf_counter()
    fit_members(members, [small] * len(members), configs)
    per_batch = (time.perf_counter() - start) / -(-len(small.y_train) // p["batch_size"])
    val = len(task.y_val) if getattr(task, "y_val", None) is not None else 0
    val_batches = val / p["batch_size"] / 4  # a validation pass: forward only, about a quarter of a training step
    return per_batch * p["epochs"] * (batches + val_batches)


def _time_measures(group: list[dict]) -> float:
    """Seconds for the measures of a group's audited runs (the audit dominates): two networks of the first
    stack of runs audited together (:func:`snnlib.study.experiment.audit_stacks`) are timed on 4 and 8
    samples, extrapolated linearly to the audit's samples and scaled to the stack's size, and that is
    counted once per stack of the group."""
    from snnlib.study import experiment

    tasks = [experiment.build_task(p) for p in group]
    stacks = experiment.audit_stacks(group, tasks)
    if not stacks:
        return 0.0
    first = stacks[0][:CALIBRATION_NETWORKS]  # a few networks of the first stack, scaled to its size below
    audited, audited_tasks = [group[i] for i in first], [tasks[i] for i in first]
    models = [experiment.build_model(p, t) for p, t in zip(audited, audited_tasks)]
    twins = [m if experiment._wants_twin(p) else None for p, m in zip(audited, models)]
    times = []
    for n in CALIBRATION_SAMPLES:
        small = [dict(p, measure_params={**p["measure_params"], "audit_samples": n}) for p in audited]
        start = time.perf_counter()
        experiment.audit_runs(models, audited_tasks, small, twins)
        times.append(time.perf_counter() - start)
    (n0, n1), (t0, t1) = CALIBRATION_SAMPLES, times
    per_sample = max(0.0, (t1 - t0) / (n1 - n0))
    n = min(audited[0]["measure_params"].get("audit_samples", 128), len(audited_tasks[0].y_test))
    per_stack = max(t1, t1 + per_sample * (n - n1)) * len(stacks[0]) / len(first)
    return per_stack * len(stacks)


def plan_experiment(name: str, profile: str = "quick", calibrate: bool = True, directory=None) -> dict:
    """Runs, groups, recorded runs and the estimated wall time (seconds) of experiment ``name``."""
    from snnlib.study import config, records, runs, sweep

    cfg = config.resolve(name, profile)
    if name not in runs.RUNS:
        return dict(experiment=name, runs=0, recorded=0, stale=0, groups=0, largest_group=0, training_s=0.0,
                    measures_s=0.0, estimate_s=0.0, estimate_workers_s=0.0)
    planned = sweep.plan(runs.runs_of(cfg))
    found = {records.canonical_key(p): records.load(records.canonical_key(p), directory) for p in planned}
    # re-measuring stored weights costs no training: only runs stale in training are planned as work
    current = [p for p in planned if (r := found[records.canonical_key(p)]) is not None
               and records.stale_stage(r) != "train"]
    stale = sum(1 for r in found.values() if r is not None and records.stale_stage(r) == "train")
    done = {records.canonical_key(p) for p in current}
    todo = [p for p in planned if records.canonical_key(p) not in done]
    work = sweep.groups(todo)
    estimate = train_s = 0.0
    if calibrate and work:
        by_shape: dict = {}
        for group in work:
            shape = (group[0]["task"], tuple(group[0]["hidden"]), len(group),
                     group[0]["epochs"], group[0]["train_stream"], repr(group[0]["task_params"]))
            if shape not in by_shape:
                by_shape[shape] = _time_group(group)
            estimate += by_shape[shape]
        train_s = estimate
        audits: dict = {}
        for group in work:
            kind = (group[0]["task"], tuple(group[0]["hidden"]), repr(group[0]["task_params"]),
                    tuple(sorted(Counter(tuple(p["measures"]) for p in group).items())))
            if kind not in audits:
                audits[kind] = _time_measures(group)
            estimate += audits[kind]
    workers = max(1, min(cfg.workers, os.cpu_count() or 1))
    return dict(experiment=name, runs=len(planned), recorded=len(current), stale=stale, groups=len(work),
                largest_group=max((len(g) for g in work), default=0), training_s=train_s,
                measures_s=estimate - train_s, estimate_s=estimate, estimate_workers_s=estimate / min(workers, len(work) or 1))


def plan(names: list[str], profile: str = "quick", calibrate: bool = True) -> pd.DataFrame:
    """:func:`plan_experiment` of each experiment, one row each, and a total row."""
    rows = [plan_experiment(n, profile, calibrate) for n in names]
    table = pd.DataFrame(rows)
    total = dict(experiment="total", **{c: table[c].sum() for c in ("runs", "recorded", "stale", "groups",
                                                                      "training_s", "measures_s", "estimate_s",
                                                                      "estimate_workers_s")},
                 largest_group=table["largest_group"].max())
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
