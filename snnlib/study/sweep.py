"""Sweeps: many recorded runs, validated first, resumable, on any executor (DESIGN.md §8).

``run_grid(runs_or_grid, workers=1, executor=None, force=False, progress=True, directory=None)``

1. expands ``runs_or_grid`` into runs (:func:`expand`);
2. puts every run in canonical form (:func:`snnlib.study.records.canonical`), so a bad parameter anywhere
   stops the sweep with a ``ValueError`` naming the run and the parameter *before any training*;
3. skips every run whose record exists (unless ``force``), and drops duplicates;
4. trains the rest, in this process (default), on a local process pool (``workers > 1``) or on any
   :class:`concurrent.futures.Executor` passed as ``executor`` (e.g. a Dask ``client.get_executor()``;
   only ``submit`` and :func:`concurrent.futures.as_completed` are used, and the executor is not shut
   down). Each worker writes its run's record as soon as the run finishes, atomically;
5. returns the DataFrame of the sweep's records (:func:`snnlib.study.records.to_frame`), one row per distinct
   run, in the order of the runs.

Because every finished run is on disk at once and runs are pure functions of their parameters, a sweep
killed at any moment (``kill -9`` included) and started again ends with the same records as one never
interrupted: the finished runs are reused, the unfinished ones are trained from scratch.

Worker processes run torch single-threaded (``torch.set_num_threads(1)``): the parallelism is across runs.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
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


def _tqdm():
    """tqdm's notebook bar where it can be drawn (ipywidgets installed), else the text bar (no warning)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm
    return tqdm


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _work(params: dict, directory: str, parent_pid: int | None = None) -> dict:
    """Run one canonical run on an executor's worker, write its record there and return it.

    In a process other than ``parent_pid`` (the sweep's), torch is made single-threaded first: the
    parallelism is across runs. In the sweep's own process (a thread pool) the thread count is left alone.
    Runs in threads of one process take turns (a run seeds torch's global generator), so a thread-based
    executor is correct but not parallel: give Dask workers one thread each (``threads_per_worker=1``).
    """
    if os.getpid() != parent_pid:
        import torch

        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)
    with _ONE_RUN_AT_A_TIME:  # a run seeds torch's global generator: threads must not interleave
        return records.execute(params, directory)


def run_grid(runs_or_grid: dict | list[dict], workers: int = 1, executor: Executor | None = None,
             force: bool = False, progress: bool = True, directory: str | Path | None = None):
    """Run every run of ``runs_or_grid`` that has no record yet; return the DataFrame of all its records.

    Args:
        runs_or_grid: a grid dict, a list of run dicts, or a list of grids (:func:`expand`).
        workers: with no ``executor``, ``1`` trains in this process, ``n > 1`` on a local pool of ``n``
            processes (started with ``spawn``, torch single-threaded in each).
        executor: any :class:`concurrent.futures.Executor` (a Dask ``client.get_executor()`` works);
            it is used as given and not shut down. Its workers must see ``directory`` (a shared file
            system) to write the records; this process writes any record a worker could not.
        force: train every run again, replacing its record.
        progress: show a tqdm progress bar over the runs to train.
        directory: where the records are (default :func:`snnlib.paths.records_dir`).

    Raises ``ValueError`` (before any training) if any run has a bad parameter; if a run fails, the runs
    not yet started are cancelled, the finished ones keep their records, and its error is raised.
    """
    check_int("workers", workers)
    if executor is not None and not hasattr(executor, "submit"):
        raise ValueError(f"executor must be a concurrent.futures.Executor (with submit), got {executor!r}")
    directory = Path(directory if directory is not None else paths.records_dir())
    planned = plan(runs_or_grid)
    keys = [records.canonical_key(p) for p in planned]
    done = {} if force else {k: r for k in keys if (r := records.load(k, directory)) is not None}
    todo = [p for p, k in zip(planned, keys) if k not in done]

    if todo:
        bar = _tqdm()(total=len(todo), desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
        bar.set_postfix(reused=len(done))
        try:
            if executor is None and workers == 1:
                for params in todo:
                    record = records.execute(params, directory)
                    done[record["key"]] = record
                    bar.update()
            elif executor is None:
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context,
                                         initializer=_init_worker) as pool:
                    _collect(pool, todo, directory, done, bar)
            else:
                _collect(executor, todo, directory, done, bar)
        finally:
            bar.close()
    return records.to_frame([done[k] for k in keys])


def _collect(executor: Executor, todo: list[dict], directory: Path, done: dict, bar) -> None:
    futures = {executor.submit(_work, params, str(directory), os.getpid()): params for params in todo}
    try:
        for future in as_completed(futures):
            try:
                record = future.result()
            except Exception as error:
                raise RuntimeError(f"run ({_describe(futures[future])}) failed: {error!r}") from error
            if records.load(record["key"], directory) is None:  # a worker without our file system
                records.save(record, directory)
            done[record["key"]] = record
            bar.update()
    except BaseException:
        for future in futures:
            future.cancel()
        raise
