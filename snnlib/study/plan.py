"""Planning a sweep without training it: how many runs, how they group into ensembles, how many are
recorded already, and an estimated wall time from a short calibration on this machine.

The estimate times, for every distinct ensemble shape, a few training batches of an ensemble of that
size (:func:`snnlib.measure.train.fit_members` on a truncated copy of the task), and scales the time to
the group's batches and epochs; a group's audited runs add the time of their stacked audit
(:func:`snnlib.study.experiment.audit_runs`, two untrained networks on 4 and on 8 samples, extrapolated
linearly to the audit's samples and scaled to the stack's size). The estimate is of *this* machine's wall time on one process
(``estimate_s``) and with the profile's worker processes sharing the groups (``estimate_workers_s``:
divided by the workers, at most the CPU count), times :data:`UNTIMED_FACTOR` for what the calibration
leaves out. Untrained networks are no trained ones: their attacks
stop early on samples they already misclassify, so the audit time is a rough figure.

Early stopping: a member leaves its ensemble when it stops (:func:`snnlib.measure.train.fit_members`),
so a group's time has two parts, both calibrated (an ensemble of the group's size and one of a single
member, :func:`_time_group`): a cost per epoch that does not depend on the members (``a``: Python,
per-operation overhead) paid until the last member stops, and a cost per member-epoch (``b``) paid for
each member's own epochs. With ``G`` members, ``E_last`` epochs until the last stops and ``E_mean``
epochs per member on average, a group costs ``a E_last + b G E_mean``. Both are estimated from the
recorded runs of the same experiment and task (any profile): ``E_last`` is the 95th percentile of
``best epoch + 1 + patience`` (the epoch at which a run with this profile's patience would stop,
:func:`expected_epochs`), ``E_mean`` its mean (:func:`expected_member_epochs`), each at most the
profile's maximum; with no such record, the maximum.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter

import pandas as pd

#: training batches timed per shape: the time per batch is the difference of the two, divided by 4, so
#: that the fixed cost of a call (the optimiser, the data split) is not scaled up to the whole training
CALIBRATION_BATCHES = (2, 6)
CALIBRATION_SAMPLES = (8, 24)
#: epochs the audit's calibration networks train first: an untrained network is at chance, fails the audit's
#: above-chance gate and misclassifies most samples, which the attacks skip; a trained one does neither
CALIBRATION_EPOCHS = 2
#: what the calibration does not time -- building each run's task, copying the best state at every better
#: epoch, the measurement's other passes, the worker processes' start -- as a factor on the timed estimate:
#: on this 2-core machine, the quick profile's recorded run time over this estimate of the same runs from
#: clean was 1.42-1.72 by chapter (1.46 in all; chapter 07 1.1), measured 2026-11-30
UNTIMED_FACTOR = 1.45
#: a forward pass costs about a third of a training step (forward, backward, Adam update)
FORWARD_SHARE = 3
#: networks of a stack audited for the calibration (the time is scaled to the stack's size: a stack of
#: large networks costs in proportion to its size; of small ones, less, so the estimate is on the safe side)
CALIBRATION_NETWORKS = 4


#: the quantile of the recorded stopping epochs taken as a group's (it trains until its last member stops)
STOP_QUANTILE = 0.95


def recorded_best_epochs(directory=None) -> dict[tuple[str, str], list[int]]:
    """``(experiment, task) -> [best epoch of every recorded run]`` (0-based), from every profile."""
    from snnlib.study import records

    found: dict[tuple[str, str], list[int]] = {}
    for r in records.load_all(directory):
        best = r.get("metrics", {}).get("best_epoch")
        if best is not None:
            found.setdefault((r["experiment"], r["params"]["task"]), []).append(int(best))
    return found


def _recorded_stops(best_epochs: list[int] | None, patience: int | None):
    """``best + 1 + patience`` of every recorded best epoch (the epoch at which a run with this patience
    stops, before the profile's maximum), or ``None`` without early stopping or without records."""
    if patience is None or not best_epochs:
        return None
    import numpy as np

    return np.asarray(best_epochs) + 1 + patience


def expected_epochs(best_epochs: list[int] | None, epochs: int, patience: int | None) -> int:
    """The epochs a group is expected to train: ``epochs`` without early stopping or without records,
    else the :data:`STOP_QUANTILE` quantile of ``best + 1 + patience`` over the recorded best epochs, at
    most ``epochs``."""
    import numpy as np

    stops = _recorded_stops(best_epochs, patience)
    return epochs if stops is None else int(min(epochs, int(np.ceil(np.quantile(stops, STOP_QUANTILE)))))


def expected_member_epochs(best_epochs: list[int] | None, epochs: int, patience: int | None) -> float:
    """The epochs a member of a group is expected to train on average: ``epochs`` without early stopping
    or without records, else the mean of ``min(epochs, best + 1 + patience)`` over the recorded best epochs."""
    import numpy as np

    stops = _recorded_stops(best_epochs, patience)
    return float(epochs) if stops is None else float(np.minimum(stops, epochs).mean())


def _truncated(task, n: int):
    """``task`` with its training split cut to ``n`` samples (and no validation split)."""
    return dataclasses.replace(task, x_train=task.x_train[:, :n], y_train=task.y_train[:n], x_val=None, y_val=None)


def _time_group(group: list[dict]) -> tuple[float, float, float]:
    """Seconds per epoch to train ``group`` as one ensemble (its training batches and a validation pass)
    split into ``(a, b)``, a part that does not depend on the members and one per member (from a few
    timed batches of the whole group and of its first member alone), and seconds of the measurement's
    pass over the test split for the whole group."""
    from snnlib.measure.train import fit_members
    from snnlib.study import experiment

    p = group[0]
    task = experiment._training_task(p, experiment.build_task(p))
    batches = -(-len(task.y_train) // p["batch_size"])
    # audited runs with a transfer attack train their twin in the same ensemble
    trained = [q for q in group for _ in range(2 if experiment._wants_twin(q) else 1)]
    members = [experiment.build_model(q, task) for q in trained]
    configs = [experiment.train_config(dict(q, epochs=1)) for q in trained]
    def per_batch(models, cfgs) -> float:
        # one untimed batch first: the first step of a shape pays one-time costs (allocation, lazy set-up)
        fit_members(models, [_truncated(task, p["batch_size"])] * len(models), cfgs)
        times = []
        for n in CALIBRATION_BATCHES:
            small = _truncated(task, min(len(task.y_train), n * p["batch_size"]))
            start = time.perf_counter()
            fit_members(models, [small] * len(models), cfgs)
            times.append(time.perf_counter() - start)
        (b0, b1), (t0, t1) = CALIBRATION_BATCHES, times
        return max((t1 - t0) / (b1 - b0), t1 / b1 / 2)  # the difference, or half the mean if noise made it tiny

    whole = per_batch(members, configs)
    alone = per_batch(members[:1], configs[:1]) if len(members) > 1 else whole
    size = len(members)
    per_member = max(0.0, (whole - alone) / (size - 1)) if size > 1 else whole  # b
    fixed = max(0.0, whole - per_member * size)  # a, from the whole group: t(G) = a + b G
    val = len(task.y_val) if getattr(task, "y_val", None) is not None else 0
    # a validation pass: forward only, about a third of a training step (forward, backward, update)
    epoch = batches + val / p["batch_size"] / FORWARD_SHARE
    test = len(task.y_test) / p["batch_size"] / FORWARD_SHARE  # the measurement's pass over the test split
    return fixed * epoch, per_member * epoch * size / len(group), whole * test


def _time_measures(group: list[dict]) -> float:
    """Seconds for the measures of a group's audited runs (the audit dominates): two networks of the first
    stack of runs audited together (:func:`snnlib.study.experiment.audit_stacks`), trained for
    :data:`CALIBRATION_EPOCHS` epochs, are timed on 8 and 24 samples, extrapolated linearly to the audit's
    samples and scaled to the stack's size, and that is counted once per stack of the group."""
    from snnlib.measure.train import fit_members
    from snnlib.study import experiment

    tasks = [experiment.build_task(p) for p in group]
    stacks = experiment.audit_stacks(group, tasks)
    if not stacks:
        return 0.0
    first = stacks[0][:CALIBRATION_NETWORKS]  # a few networks of the first stack, scaled to its size below
    audited, audited_tasks = [group[i] for i in first], [tasks[i] for i in first]
    models = [experiment.build_model(p, t) for p, t in zip(audited, audited_tasks)]
    training = [experiment._training_task(p, t) for p, t in zip(audited, audited_tasks)]
    fit_members(models, training, [experiment.train_config(dict(p, epochs=CALIBRATION_EPOCHS)) for p in audited])
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


def plan_experiment(name: str, profile: str = "quick", calibrate: bool = True, directory=None,
                    planned_before: set | None = None) -> dict:
    """Runs, groups, recorded runs and the estimated wall time (seconds) of experiment ``name``.

    ``planned_before``: keys of runs that an earlier experiment of the same plan already trains (the
    scaling chapter reuses the chapters' runs at their own size); they are counted as shared, not as work,
    and this experiment's keys are added to the set."""
    from snnlib.study import config, lr_selection, records, runs, sweep

    cfg = config.resolve(name, profile)
    if name not in runs.RUNS:
        return dict(experiment=name, runs=0, recorded=0, shared=0, stale=0, groups=0, largest_group=0, training_s=0.0,
                    measures_s=0.0, estimate_s=0.0, estimate_workers_s=0.0)
    # the learning-rate selection, then the runs at the chosen rates (at the shared rate where none is
    # chosen yet: a rate costs the same per epoch); sweep.plan keeps each distinct run once
    planned = sweep.plan(lr_selection.selection_runs(cfg) + runs.runs_of(cfg, missing="shared"))
    found = {records.canonical_key(p): records.load(records.canonical_key(p), directory) for p in planned}
    # re-measuring stored weights costs no training: only runs stale in training are planned as work
    current = [p for p in planned if (r := found[records.canonical_key(p)]) is not None
               and records.stale_stage(r) != "train"]
    stale = sum(1 for r in found.values() if r is not None and records.stale_stage(r) == "train")
    done = {records.canonical_key(p) for p in current}
    before = planned_before if planned_before is not None else set()
    shared = sum(1 for p in planned if records.canonical_key(p) in before and records.canonical_key(p) not in done)
    todo = [p for p in planned if records.canonical_key(p) not in done | before]
    before.update(records.canonical_key(p) for p in planned)
    work = sweep.groups(todo)
    estimate = train_s = 0.0
    if calibrate and work:
        best_epochs = recorded_best_epochs(directory)
        by_shape: dict = {}
        for group in work:
            p = group[0]
            recorded = best_epochs.get((p["experiment"], p["task"]))
            last = expected_epochs(recorded, p["epochs"], p["patience"])
            mean = expected_member_epochs(recorded, p["epochs"], p["patience"])
            # the time per epoch depends on the networks' shape, not on the epochs: one calibration per shape,
            # on the first (largest) group of that shape; a group costs a E_last + b G E_mean (module docstring)
            shape = (p["task"], tuple(p["hidden"]), p["train_stream"], p["batch_size"], repr(p["task_params"]))
            if shape not in by_shape:
                by_shape[shape] = (*_time_group(group), len(group))
            fixed, per_member, test_pass, members = by_shape[shape]
            estimate += fixed * last + per_member * len(group) * mean + test_pass * len(group) / members
        train_s = estimate
        audits: dict = {}
        for group in work:
            kind = (group[0]["task"], tuple(group[0]["hidden"]), repr(group[0]["task_params"]),
                    tuple(sorted(Counter(tuple(p["measures"]) for p in group).items())))
            if kind not in audits:
                audits[kind] = _time_measures(group)
            estimate += audits[kind]
    estimate, train_s = estimate * UNTIMED_FACTOR, train_s * UNTIMED_FACTOR
    workers = max(1, min(cfg.workers, os.cpu_count() or 1))
    return dict(experiment=name, runs=len(planned), recorded=len(current), shared=shared, stale=stale, groups=len(work),
                largest_group=max((len(g) for g in work), default=0), training_s=train_s,
                measures_s=estimate - train_s, estimate_s=estimate, estimate_workers_s=estimate / min(workers, len(work) or 1))


def plan(names: list[str], profile: str = "quick", calibrate: bool = True) -> pd.DataFrame:
    """:func:`plan_experiment` of each experiment, one row each, and a total row."""
    seen: set = set()
    rows = [plan_experiment(n, profile, calibrate, planned_before=seen) for n in names]
    table = pd.DataFrame(rows)
    total = dict(experiment="total", **{c: table[c].sum() for c in ("runs", "recorded", "shared", "stale", "groups",
                                                                      "training_s", "measures_s", "estimate_s",
                                                                      "estimate_workers_s")},
                 largest_group=table["largest_group"].max())
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
