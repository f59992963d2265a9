"""Each network's learning rate, chosen on validation accuracy by one rule for every variant.

A *cell* is one neuron at one operating point of a chapter: ``(experiment, variant, λ, task)``. Its
learning rate is the rate of the profile's ``lr_grid`` with the highest mean **validation** accuracy over
the first ``lr_seeds`` seeds, trained at the cell's *reference setting* (:func:`is_reference`); a tie goes
to the profile's shared ``lr``, then to the smaller rate. Every run of the cell -- its other settings and
seeds, its matched wide control (04), its copies at other network sizes (09, which borrows the rates of
the chapters its runs come from) -- trains at that rate. Test data are never read, so the test accuracies
the chapters analyse are not selected on.

Why per cell: one shared rate handicaps the variants it does not suit (the learning-rate check of 01
measures by how much), and λ is part of the cell because the leak changes the scale of the membrane and
of its gradients, so the λ levels that C1 compares are different networks to optimise.

The selection runs are the reference runs of the first seeds as the chapter trains them, measurements
included, at the shared rate, and without their measurements at the other rates: where the shared rate
is chosen they *are* the chapter's runs of those seeds, and are reused; where another rate is chosen,
those seeds are trained again at it with their measurements (at no other cost than the measurement-free
selection runs would have had).
"""

from __future__ import annotations

import math

import pandas as pd

#: what a learning rate is chosen for: (experiment, variant, λ, task)
Cell = tuple[str, str, float, str]


def cell(run: dict) -> Cell:
    """The cell of ``run``: ``(experiment, variant, λ, task)``."""
    return run["experiment"], run["variant"], float(run["decay"]), run["task"]


def borrows(cfg) -> bool:
    """Whether ``cfg``'s experiment trains runs of other chapters and takes their rates (09)."""
    return bool(getattr(type(cfg), "borrows_rates", False))


def rates(cfg) -> list[float]:
    """The grid of ``cfg`` as floats, in increasing order."""
    return sorted(float(r) for r in cfg.lr_grid)


def same_rate(a: float, b: float) -> bool:
    """Whether two learning rates are the same (up to float rounding)."""
    return abs(a - b) <= 1e-12 * b


def selects(cfg) -> bool:
    """Whether ``cfg`` chooses rates of its own: it does not borrow them and its grid has two or more."""
    return not borrows(cfg) and len(rates(cfg)) > 1


def reference_delay(cfg) -> int | None:
    """The delay of delayed-recall at which rates are chosen: ``robust_delay`` where the experiment has
    one, else the lower middle of its ``delays``, else ``None`` (its one delay)."""
    if hasattr(cfg, "robust_delay"):
        return int(cfg.robust_delay)
    delays = sorted(getattr(cfg, "delays", []) or [])
    return int(delays[(len(delays) - 1) // 2]) if delays else None


def is_reference(cfg, run: dict) -> bool:
    """Whether ``run`` is at its cell's reference setting: trained on single samples without rate
    regularisation; on delayed-recall at :func:`reference_delay`; on temporal-xor at the order task's
    middle number of events (the operating point of C4's primary contrast, :mod:`snnlib.study.runs`)."""
    from snnlib.study.runs import ORDER_TASK

    if run.get("rate_reg", 0.0) or run.get("train_stream", 0):
        return False
    tp = run.get("task_params", {})
    if run["task"] == "delayed-recall" and reference_delay(cfg) is not None:
        return tp.get("delay") == reference_delay(cfg)
    if run["task"] == "temporal-xor" and hasattr(cfg, "events"):
        ks = sorted(cfg.events)
        return tp.get("label") == ORDER_TASK["label"] and tp.get("n_events") == ks[(len(ks) - 1) // 2]
    return True


def references(cfg, built: list[dict]) -> dict[Cell, dict]:
    """One reference run per cell of ``built``: the cell's first run at the reference setting
    (:func:`is_reference`), else its first run."""
    found: dict[Cell, dict] = {}

    def reference(run):  # judged by the configuration that built the run (05 builds 02 - 04's)
        return is_reference(cfg.runs_config(run["experiment"]), run)

    for run in built:
        c = cell(run)
        if c not in found or (reference(run) and not reference(found[c])):
            found[c] = run
    return found


def selection_runs(cfg, built: list[dict] | None = None) -> list[dict]:
    """The runs that choose the rates of ``cfg``'s cells: each cell's reference run on seeds
    ``0 .. lr_seeds - 1`` at every rate of the grid -- at the shared rate as the chapter trains it, with
    its measurements; at the others without -- none unless :func:`selects`. ``built``: the experiment's
    runs as its runs function builds them (default: built here)."""
    from snnlib.study import config, runs

    if not selects(cfg):
        return []
    built = config.runs_function(cfg.name)(cfg) if built is None else built
    out = []
    for reference in references(cfg, built).values():
        for s in range(cfg.lr_seeds):
            own = runs.with_redraws(cfg, [dict(reference, seed=s)])[0]  # with its attack redraws, if any
            for rate in rates(cfg):
                out.append(dict(own, lr=rate) if same_rate(rate, cfg.lr) else
                           dict(own, lr=rate, measures=[], measure_params={}))
    return out


def choose(val_by_rate: dict[float, float], shared: float) -> float:
    """The rate with the highest mean validation accuracy; ties to ``shared``, then the smaller rate;
    ``NaN`` when no rate has a value."""
    known = {r: v for r, v in val_by_rate.items() if v is not None and not math.isnan(v)}
    if not known:
        return math.nan
    best = max(known.values())
    tied = [r for r, v in known.items() if v == best]
    return min(tied, key=lambda r: (not same_rate(r, shared), r))


def table(cfg, built: list[dict] | None = None, directory=None) -> pd.DataFrame:
    """One row per cell of ``cfg`` (an experiment that :func:`selects`): the mean validation accuracy at
    every rate (``val@RATE``; ``NaN`` unless every seed of that rate is recorded), the seeds, the chosen
    rate (``NaN`` when no rate is recorded) and the shortfall of the shared ``lr`` (best − shared)."""
    from snnlib.study import records, sweep

    columns = ["experiment", "variant", "decay", "task", *(f"val@{r:g}" for r in rates(cfg)), "seeds", "chosen",
               "shortfall"]
    selection = selection_runs(cfg, built)
    if not selection:
        return pd.DataFrame(columns=columns)
    long = pd.DataFrame([dict(zip(("experiment", "variant", "decay", "task"), cell(run)), lr=float(run["lr"]),
                              val=(found["metrics"]["val_accuracy"] if found else math.nan))
                         for run, params in zip(selection, sweep.plan(selection))
                         for found in [records.load(records.canonical_key(params), directory)]])
    cells = ["experiment", "variant", "decay", "task"]
    means = long.groupby(cells + ["lr"], sort=False)["val"].agg(lambda v: v.mean() if v.notna().all() else math.nan)
    wide = means.unstack("lr")
    out = pd.DataFrame({f"val@{r:g}": wide[r] for r in rates(cfg)}).reset_index()
    out["seeds"] = cfg.lr_seeds
    out["chosen"] = [choose({r: row[f"val@{r:g}"] for r in rates(cfg)}, cfg.lr) for _, row in out.iterrows()]
    shared = f"val@{cfg.lr:g}"
    out["shortfall"] = out[[f"val@{r:g}" for r in rates(cfg)]].max(axis=1) - out[shared]
    return out[columns]


def chosen(cfg, built: list[dict] | None = None, directory=None) -> dict[Cell, float]:
    """``cell -> rate`` for the cells whose selection is recorded: ``cfg``'s own, or, for an experiment
    that :func:`borrows`, those of the chapters its runs (``built``) come from, at their profile values."""
    from snnlib.study import config

    if borrows(cfg):
        built = config.runs_function(cfg.name)(cfg) if built is None else built
        found: dict[Cell, float] = {}
        for name in dict.fromkeys(run["experiment"] for run in built):
            source = config.resolve(name, cfg.profile)
            found.update(chosen(source, directory=directory) if selects(source) else
                         {cell(run): float(run["lr"]) for run in built if run["experiment"] == name})
        return found
    t = table(cfg, built, directory)
    return {(r.experiment, r.variant, float(r.decay), r.task): float(r.chosen)
            for r in t.itertuples() if not math.isnan(r.chosen)}


def apply(cfg, built: list[dict], choice: dict[Cell, float], missing: str = "raise") -> list[dict]:
    """``built`` with every run at its cell's chosen rate (``choice``). A cell without a choice is an
    error when ``missing`` is ``"raise"`` (train the selection first: :func:`snnlib.study.runs.train`);
    with ``"shared"`` it keeps the shared ``lr`` (to plan before anything is trained). An experiment with
    nothing to choose (one rate, and borrowing none) gets ``built`` as it is."""
    if missing not in ("raise", "shared"):
        raise ValueError(f"missing must be 'raise' or 'shared', got {missing!r}")
    if not selects(cfg) and not borrows(cfg):
        return built
    absent = sorted({cell(r) for r in built} - set(choice), key=str)
    if absent and missing == "raise":
        raise LookupError(f"{cfg.name} ({cfg.profile}): no learning rate chosen yet for {len(absent)} cell(s), "
                          f"e.g. {absent[0]}; train the selection first (snnlib.study.runs.train, or "
                          f"'snnlib train {cfg.name} --profile {cfg.profile}')")
    return [dict(run, lr=choice.get(cell(run), run["lr"])) for run in built]
