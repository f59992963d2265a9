"""The runs of each experiment, built from its resolved parameters (:func:`snnlib.profiles.resolve`).

A notebook resolves its parameters, asks this module for the list of runs, and hands the list to
:func:`snnlib.sweep.run_grid`, which trains only the runs without a record. Each run is a params
dict of :func:`snnlib.experiment.run`.
"""

from __future__ import annotations

from .variants import parse_variants


def seeds(cfg: dict) -> range:
    """``range(cfg["seeds"])``; raises ``ValueError`` unless ``seeds`` is a positive integer."""
    n = cfg["seeds"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"seeds must be an integer >= 1 (the number of seeds), got {n!r}")
    return range(n)


def common(cfg: dict, experiment: str) -> dict:
    """The run parameters every run of an experiment shares."""
    return dict(experiment=experiment, hidden=cfg["hidden"], batch_size=cfg["batch_size"], lr=cfg["lr"],
                device=cfg["device"])


def task_params(cfg: dict, task: str, **extra) -> dict:
    """Task parameters from ``cfg`` for ``task``: sample counts and delay where the task takes them."""
    if task == "delayed-recall":
        return dict(delay=cfg["delay"], n_train=cfg["n_train"], n_test=cfg["n_test"], **extra)
    return dict(extra)


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
