"""The runs of each experiment, built from its resolved parameters (:func:`snnlib.study.profiles.resolve`).

A notebook resolves its parameters, asks this module for the list of runs, and hands the list to
:func:`snnlib.study.sweep.run_grid`, which trains only the runs without a record. Each run is a params
dict of :func:`snnlib.study.experiment.run`.
"""

from __future__ import annotations

from snnlib.checks import check_int
from snnlib.model.neurons import check_decay
from snnlib.data import task_parameters
from snnlib.model.variants import parse_variants


def seeds(cfg: dict) -> range:
    """``range(cfg["seeds"])``; raises ``ValueError`` unless ``seeds`` is a positive integer."""
    return range(check_int("seeds", cfg["seeds"]))


def common(cfg: dict, experiment: str) -> dict:
    """The run parameters every run of an experiment shares."""
    return dict(experiment=experiment, profile=cfg["profile"], hidden=cfg["hidden"], batch_size=cfg["batch_size"],
                lr=cfg["lr"], device=cfg["device"])


def task_params(cfg: dict, task: str, **extra) -> dict:
    """Task parameters from ``cfg`` for ``task`` (``n_train``, ``n_test``, ``delay`` where the task
    takes them), then ``extra``."""
    takes = task_parameters(task)
    return {**{name: cfg[name] for name in ("n_train", "n_test", "delay") if name in cfg and name in takes}, **extra}


def epochs_for(cfg: dict, task: str) -> int:
    epochs = cfg["epochs"]
    if isinstance(epochs, dict):
        if task not in epochs:
            raise ValueError(f"epochs gives no value for task {task!r}: {epochs}")
        return epochs[task]
    return epochs


def baseline_runs(cfg: dict) -> list[dict]:
    """01: every variant on every task at the default decay."""
    base = common(cfg, "01_dynamics_and_baseline")
    return [dict(base, task=task, task_params=task_params(cfg, task), variant=v.name, decay=cfg["decay"],
                 epochs=epochs_for(cfg, task), seed=s)
            for task in cfg["tasks"] for v in parse_variants(cfg["variants"]) for s in seeds(cfg)]


def robustness_params(cfg: dict) -> dict:
    return dict(epsilons=cfg["epsilons"], noise_levels=cfg["noise_levels"], pgd_steps=cfg["pgd_steps"])


def leakage_runs(cfg: dict) -> list[dict]:
    """02 (C1): ``LIF`` with λ swept (λ = 1 is IF) on delayed-recall at every delay; at ``robust_delay``
    and on ``second_task`` also robustness, and temporal generalization to the other delays."""
    base = common(cfg, "02_leakage")
    runs = []
    for lam in cfg["decays"]:
        check_decay(lam)
        for delay in cfg["delays"]:
            measures, mp = [], {}
            if delay == cfg["robust_delay"]:
                measures, mp = ["robustness", "generalization"], dict(robustness_params(cfg), delays=cfg["delays"])
            runs += [dict(base, task="delayed-recall", task_params=task_params(cfg, "delayed-recall", delay=delay),
                          variant="LIF", decay=lam, epochs=epochs_for(cfg, "delayed-recall"), seed=s,
                          measures=measures, measure_params=mp) for s in seeds(cfg)]
        task = cfg["second_task"]
        runs += [dict(base, task=task, task_params=task_params(cfg, task), variant="LIF", decay=lam,
                      epochs=epochs_for(cfg, task), seed=s, measures=["robustness"],
                      measure_params=robustness_params(cfg)) for s in seeds(cfg)]
    if cfg["robust_delay"] not in cfg["delays"]:
        raise ValueError(f"robust_delay must be one of delays {cfg['delays']}, got {cfg['robust_delay']!r}")
    return runs


def reset_runs(cfg: dict) -> list[dict]:
    """03 (C2, C3): the reset modes, with and without leak, on the ordinary tasks (efficiency) and, on
    ``stream_task``, tested on streams of ``stream_length`` samples without a state reset."""
    base = common(cfg, "03_reset")
    runs = []
    for task in cfg["tasks"]:
        stream = task == cfg["stream_task"]
        measures = ["efficiency"] + (["stream"] if stream else [])
        mp = dict(stream_length=cfg["stream_length"]) if stream else {}
        runs += [dict(base, task=task, task_params=task_params(cfg, task),
                      variant=v.name, decay=cfg["decay"], epochs=epochs_for(cfg, task), seed=s,
                      measures=measures, measure_params=mp)
                 for v in parse_variants(cfg["variants"]) for s in seeds(cfg)]
    if cfg["stream_task"] not in cfg["tasks"]:
        raise ValueError(f"stream_task must be one of tasks {cfg['tasks']}, got {cfg['stream_task']!r}")
    return runs


def recurrence_runs(cfg: dict) -> list[dict]:
    """04 (C4): feed-forward vs recurrent variants on tasks that need temporal interaction, with robustness."""
    base = common(cfg, "04_recurrence")
    return [dict(base, task=task, task_params=task_params(cfg, task), variant=v.name, decay=cfg["decay"],
                 epochs=epochs_for(cfg, task), seed=s, measures=["robustness", "efficiency"],
                 measure_params=robustness_params(cfg))
            for task in cfg["tasks"] for v in parse_variants(cfg["variants"]) for s in seeds(cfg)]

