"""Sweeps: many recorded runs, validated first, grouped into ensembles, resumable, on any executor.

``run_grid(runs_or_grid, workers=1, executor=None, scheduler=None, force=False, reuse_stale=False,
progress=True, directory=None)``

1. expands ``runs_or_grid`` into runs (:func:`expand`);
2. puts every run in canonical form (:func:`snnlib.study.records.canonical`), so a bad parameter anywhere
   stops the sweep with a ``ValueError`` naming the run and the parameter *before any training*;
3. sorts the runs by their record (:func:`snnlib.study.records.stale_stage`), duplicates dropped: a run
   whose record is current and keeps intact weights is reused; one whose record is stale only in its
   measurement is *measured again* from its stored weights, without training; every other run (no
   record, training stale, weights missing or not matching) is trained. ``force`` trains every run;
   ``reuse_stale`` keeps stale records as they are, with a warning naming how many;
4. groups the runs to train into ensembles (:func:`groups`: runs with equal
   :func:`snnlib.study.experiment.group_key`, at most ``group_size`` each), and the runs to measure again
   the same way, and does each group as one unit of work: in this process (default), on a local process
   pool (``workers > 1``), on any :class:`concurrent.futures.Executor` passed as ``executor``, or on a Dask
   cluster (``scheduler="tcp://HOST:PORT"``, through ``distributed.Client(scheduler).get_executor()``).
   Workers *return* the records with their weights (bytes; a group measured again is sent its stored
   weights); this process writes each one atomically as its group finishes, so no shared file system
   is needed, and a worker that dies loses only its unfinished group;
5. returns the DataFrame of the sweep's records (:func:`snnlib.study.records.to_frame`), one row per
   distinct run, in the order of the runs.

Because every finished group is on disk at once and runs are pure functions of their parameters, a sweep
killed at any moment (``kill -9`` included) and started again ends with the same records as one never
interrupted. Two sweeps on one results folder at once never corrupt a record (writes are atomic); at
worst a run is trained twice.

Worker processes run torch single-threaded (``torch.set_num_threads(1)``): the parallelism is across groups.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import warnings
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path

from snnlib import paths

from snnlib.study import records
from snnlib.checks import check_int

# run parameters whose value is itself a list: in a grid, only a list *of lists* is swept over them
_LIST_VALUED = ("hidden", "measures")
_ONE_RUN_AT_A_TIME = threading.Lock()


def _is_axis(value) -> bool:
    numpy_array = type(value).__module__ == "numpy" and getattr(value, "ndim", 0) > 0
    return isinstance(value, (list, tuple, range)) or numpy_array


def _expand_one(spec: dict) -> list[dict]:
    """The product of the axes of one grid dict (see :func:`expand`)."""
    if not isinstance(spec, dict):
        raise ValueError(f"a run or grid must be a dict of parameters, got {type(spec).__name__}: {spec!r}")
    names, axes = [], []
    for name, value in spec.items():
        if name == "task_params" and isinstance(value, dict):
            options = _expand_one(value)
        elif name in _LIST_VALUED:
            value = records.plain(value)
            options = value if isinstance(value, list) and value and all(isinstance(v, list) for v in value) \
                else [value]
        elif _is_axis(value):
            options = list(records.plain(value))
            if not options:
                raise ValueError(f"grid axis {name!r} is empty")
        else:
            options = [value]
        names.append(name)
        axes.append(options)
    return [dict(zip(names, combo)) for combo in itertools.product(*axes)]


def expand(runs_or_grid: dict | list[dict]) -> list[dict]:
    """The runs of a grid, or of a list of grids/runs, in order.

    A grid is a dict of run parameters in which a list (tuple, range, NumPy array) is an axis to sweep
    over; the runs are the product of all axes, the last one varying fastest. ``task_params`` may be a
    grid itself (``task_params=dict(delay=[2, 4, 8])``). For ``hidden`` and ``measures``, whose values
    are lists, only a list of lists is an axis (``hidden=[[64], [64, 64]]``); ``hidden=[64, 64]`` is one
    two-layer network. A list of dicts is expanded dict by dict and concatenated, so a plain list of
    run dicts is taken as it is.

    >>> expand(dict(variant=["LIF", "IF"], seed=range(2), hidden=[32]))  # doctest: +NORMALIZE_WHITESPACE
    [{'variant': 'LIF', 'seed': 0, 'hidden': [32]}, {'variant': 'LIF', 'seed': 1, 'hidden': [32]},
     {'variant': 'IF', 'seed': 0, 'hidden': [32]}, {'variant': 'IF', 'seed': 1, 'hidden': [32]}]
    """
    if isinstance(runs_or_grid, dict):
        return _expand_one(runs_or_grid)
    if isinstance(runs_or_grid, (list, tuple)):
        return [run for spec in runs_or_grid for run in _expand_one(spec)]
    raise ValueError(f"runs_or_grid must be a dict (a grid) or a list of dicts, got {type(runs_or_grid).__name__}")


def _describe(params: dict, limit: int = 300) -> str:
    first = [k for k in ("experiment", "task", "variant", "seed", "decay") if k in params]
    text = ", ".join(f"{k}={params[k]!r}" for k in first + [k for k in params if k not in first])
    return text if len(text) <= limit else text[:limit - 3] + "..."


def plan(runs_or_grid: dict | list[dict]) -> list[dict]:
    """Every run of ``runs_or_grid`` in canonical form, duplicates dropped, order kept.

    Raises ``ValueError`` naming the first bad run and its bad parameter; nothing is trained.
    """
    runs = expand(runs_or_grid)
    planned, seen = [], set()
    for i, params in enumerate(runs):
        try:
            canonical = records.canonical(params)
        except ValueError as error:
            raise ValueError(f"run {i + 1} of {len(runs)} ({_describe(params)}): {error}") from None
        key = records.canonical_key(canonical)
        if key not in seen:
            seen.add(key)
            planned.append(canonical)
    return planned


def groups(planned: list[dict], group_size: int | None = None) -> list[list[dict]]:
    """Canonical runs grouped by :func:`snnlib.study.experiment.group_key`, each group cut into the fewest
    chunks of at most ``group_size`` runs (default: :func:`snnlib.model.ensemble.group_limit` for the runs'
    network size and device), of sizes as equal as possible; the largest pieces of work first
    (:func:`work_guess`), so that parallel workers finish together. Grouping never changes a result."""
    from snnlib.study.experiment import group_key

    by_key: dict = {}
    for params in planned:
        by_key.setdefault(group_key(params), []).append(params)
    out = []
    for members in by_key.values():
        size = group_size or _group_limit(members[0])
        chunks = -(-len(members) // size)
        bounds = [round(i * len(members) / chunks) for i in range(chunks + 1)]
        out += [members[a:b] for a, b in zip(bounds, bounds[1:])]
    return sorted(out, key=work_guess, reverse=True)


def work_guess(group: list[dict]) -> float:
    """A rough, unit-free size of a group's work, to start the largest first: per network, epochs ×
    training samples × (weights of the hidden layers, recurrent ones counted twice), doubled for an
    audited run (its twin) and doubled again (the audit)."""
    from snnlib.model.variants import Variant

    total = 0.0
    for p in group:
        hidden = list(p["hidden"])
        weights = sum(a * b for a, b in zip([32] + hidden, hidden))
        if Variant.parse(p["variant"]).recurrent:
            weights += sum(h * h for h in hidden)
        audited = "audit" in p["measures"]
        total += p["epochs"] * p["task_params"].get("n_train", 1000) * weights * (4 if audited else 1)
    return total


def _group_limit(params: dict) -> int:
    from snnlib.model.ensemble import group_limit

    hidden = params["hidden"]  # a rough size for the memory cap: 64 inputs and 10 classes assumed
    n_params = sum(a * b for a, b in zip([64] + hidden, hidden)) + hidden[-1] * 10
    return group_limit(n_params, params["device"])


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _work(group: list[dict], parent_pid: int | None = None) -> list[tuple[dict, bytes]]:
    """Train and measure one group on an executor's worker and return its ``(record, weights)`` pairs
    (written by the sweep's process).

    In a process other than ``parent_pid`` (the sweep's), torch is made single-threaded first: the
    parallelism is across groups. Groups in threads of one process take turns (a run seeds torch's
    global generator), so a thread-based executor is correct but not parallel: give Dask workers one
    thread each (``--nthreads 1``).
    """
    _single_threaded(parent_pid)
    with _ONE_RUN_AT_A_TIME:  # a run seeds torch's global generator: threads must not interleave
        return records.execute_group(group)


def _work_measure(stored: list[tuple[dict, bytes]], parent_pid: int | None = None) -> list[tuple[dict, bytes]]:
    """Measure one group of recorded runs again from their weights (``(record, weights)`` pairs), on an
    executor's worker, and return the new pairs; nothing is trained (see :func:`_work`)."""
    _single_threaded(parent_pid)
    with _ONE_RUN_AT_A_TIME:
        return records.execute_measure(stored)


def _single_threaded(parent_pid: int | None) -> None:
    if os.getpid() != parent_pid:
        import torch

        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)


def dask_executor(scheduler: str):
    """A ``concurrent.futures`` executor on the Dask cluster at ``scheduler`` (``tcp://HOST:PORT``), and
    its client (close it when done)."""
    from distributed import Client

    client = Client(scheduler, set_as_default=False)
    return client.get_executor(pure=False), client


def run_grid(runs_or_grid: dict | list[dict], workers: int = 1, executor: Executor | None = None,
             scheduler: str | None = None, force: bool = False, reuse_stale: bool = False, progress: bool = True,
             directory: str | Path | None = None, group_size: int | None = None, desc: str = "runs"):
    """Run every run of ``runs_or_grid`` that has no current record yet; return the DataFrame of all its records.

    Args:
        runs_or_grid: a grid dict, a list of run dicts, or a list of grids (:func:`expand`).
        workers: with no ``executor`` or ``scheduler``, ``1`` trains in this process, ``n > 1`` on a local
            pool of ``n`` processes (started with ``spawn``, torch single-threaded in each).
        executor: any :class:`concurrent.futures.Executor`; used as given and not shut down.
        scheduler: the address of a Dask scheduler, ``tcp://HOST:PORT``; the groups train on its workers.
        force: train every run again, replacing its record.
        reuse_stale: keep records made by other code (:func:`snnlib.study.records.is_stale`) as they are,
            with a warning; without it, runs stale in training are trained again and runs stale only in
            measurement are measured again from their stored weights.
        progress: a bar over the runs on the terminal (never in a notebook's output).
        directory: where the records are (default :func:`snnlib.paths.records_dir`).
        group_size: the most runs trained together as one ensemble (default: chosen for the device).
        desc: the bar's label (the experiment's name).

    Raises ``ValueError`` (before any training) if any run has a bad parameter; if a group fails, the groups
    not yet started are cancelled, the finished ones keep their records, and its error is raised.
    """
    check_int("workers", workers)
    if executor is not None and not hasattr(executor, "submit"):
        raise ValueError(f"executor must be a concurrent.futures.Executor (with submit), got {executor!r}")
    if executor is not None and scheduler is not None:
        raise ValueError("give either executor or scheduler, not both")
    if group_size is not None:
        check_int("group_size", group_size)
    directory = Path(directory if directory is not None else paths.records_dir())
    planned = plan(runs_or_grid)
    keys = [records.canonical_key(p) for p in planned]
    done, remeasure, stale = {}, {}, {"train": 0, "measure": 0}
    if not force:
        for k in keys:
            record = records.load(k, directory)
            if record is None:
                continue
            stage = records.stale_stage(record)
            if stage != "none":
                stale[stage] += 1
            if stage == "train" and not reuse_stale:
                continue
            weights = records.load_weights(record, directory)  # None (reported): trained again
            if weights is None:
                continue
            if stage == "measure" and not reuse_stale:
                remeasure[k] = (record, weights)
            else:
                done[k] = record
    if reuse_stale and (stale["train"] or stale["measure"]):
        warnings.warn(f"reusing {stale['train'] + stale['measure']} stale record(s) made by other code than the "
                      f"current one (code fingerprint differs: {stale['train']} in training, "
                      f"{stale['measure']} in measurement only); without reuse_stale they would be retrained "
                      f"or measured again", StaleRecordWarning)
    todo = [p for p, k in zip(planned, keys) if k not in done and k not in remeasure]
    again = [remeasure[k] for k in keys if k in remeasure]

    if todo or again:
        from snnlib.study.progress import terminal_bar

        reused = len(planned) - len(todo) - len(again)
        bar = terminal_bar(total=len(planned), desc=desc, initial=reused, disable=not progress,
                           postfix=dict(reused=reused, stale_retrained=0 if reuse_stale else stale["train"],
                                        remeasured=len(again)))
        client = None
        try:
            work = [(_work, group) for group in groups(todo, group_size)]
            work += [(_work_measure, stored) for stored in _measure_groups(again, group_size)]
            if scheduler is not None:
                executor, client = dask_executor(scheduler)
            if executor is None and workers == 1:
                for function, unit in work:
                    _store(function(unit, os.getpid()), directory, done, bar)
            elif executor is None:
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=min(workers, len(work)), mp_context=context,
                                         initializer=_init_worker) as pool:
                    _collect(pool, work, directory, done, bar)
            else:
                _collect(executor, work, directory, done, bar)
        finally:
            bar.close()
            if client is not None:
                client.close()
    return records.to_frame([done[k] for k in keys])


def _measure_groups(stored: list[tuple[dict, bytes]], group_size: int | None) -> list[list[tuple[dict, bytes]]]:
    """Recorded runs to measure again, ``(record, weights)``, grouped as :func:`groups` groups their parameters."""
    by_key = {records.canonical_key(record["params"]): (record, data) for record, data in stored}
    return [[by_key[records.canonical_key(p)] for p in group]
            for group in groups([record["params"] for record, _ in stored], group_size)]


class StaleRecordWarning(UserWarning):
    """Records made by other code were reused on request (``reuse_stale``)."""


def _store(made: list[tuple[dict, bytes]], directory: Path, done: dict, bar) -> None:
    for record, weights in made:
        records.save(record, directory, weights)
        done[record["key"]] = record
    bar.update(len(made))


def _collect(executor: Executor, work: list[tuple], directory: Path, done: dict, bar) -> None:
    futures = {executor.submit(function, unit, os.getpid()): (function, unit) for function, unit in work}
    try:
        for future in as_completed(futures):
            try:
                group_records = future.result()
            except Exception as error:
                function, unit = futures[future]
                first = unit[0] if function is _work else unit[0][0]["params"]
                what = "group" if function is _work else "group measured again"
                raise RuntimeError(f"{what} of {len(unit)} run(s) ({_describe(first)}, ...) failed: "
                                   f"{error!r}") from error
            _store(group_records, directory, done, bar)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
