"""Run records: every training run stored once, keyed by its parameters, and reused.

A *record* is one JSON file ``records_dir()/<key>.json``::

    schema        1
    key           the record key (below), also the file name
    experiment    params["experiment"], for filtering
    params        the run's canonical parameters (see canonical)
    metrics       what snnlib.study.experiment.run returned
    seed          params["seed"]
    versions      python, torch, spikingjelly, numpy, snnlib
    code          the code fingerprint (snnlib.code_fingerprint) of the sources that made it
    commit        git commit of the repository (None outside git); dirty: uncommitted changes (None outside git)
    device        the torch device the run trained on, e.g. "cpu", "cuda:0"; device_name: the GPU's name
    wall_seconds  wall time of the run (training and measurements)
    timestamp     when it finished (UTC, ISO 8601)

**Canonical parameters.** :func:`canonical` turns any accepted parameter dict into one form, so that
the same run always gets the same key: NumPy scalars and tuples become plain JSON values, the
parameters are validated and completed with :data:`snnlib.study.experiment.DEFAULTS`, ``task_params`` is
completed with the task's own defaults (the run's ``seed`` seeds the task, so ``seed`` is left out),
an integer given for a float parameter becomes a float (``decay=1`` is ``decay=1.0``), and
``device="auto"`` is **resolved** where the run is planned: to ``"cuda"`` when CUDA is available,
else ``"cpu"``. Completing every default means that changing a default changes the key, so a record
is never reused for a run whose parameters would now differ.

**Key.** The first 20 hex digits of the SHA-256 of the canonical JSON (sorted keys, no spaces) of the
canonical parameters, with ``device`` reduced to its type (``"cuda:1"`` -> ``"cuda"``: which GPU does
not change results, but CPU and CUDA may). Nothing else is left out.

**Stale records.** The code is not part of the key, but every record stores the fingerprint of the code
that made it (``code``, :mod:`snnlib.study.fingerprint`). A record whose fingerprint differs from the
current one (or that has none) is *stale* (:func:`is_stale`): sweeps retrain it by default and replace
it, so the book never mixes results of two programs; ``reuse_stale=True`` keeps it, with a warning.

**Atomic writes.** A record is written to a temporary file ``.<key>.<random>.tmp`` in the same folder,
flushed and fsync'ed, then moved over ``<key>.json`` with :func:`os.replace`, so a crash (even
``kill -9``) leaves either the complete record or none. Temporary files are never read as records. Two sweeps
writing the same record at once each write a complete file and the last rename wins: a run may be
trained twice, a record is never corrupt or half-written. A
record that does not parse, lacks a field, or whose key does not match its file name and parameters is
ignored and reported with a :class:`CorruptRecordWarning`; a sweep then trains that run again.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from snnlib import paths

SCHEMA = 1
KEY_DIGITS = 20
_FIELDS = ("schema", "key", "experiment", "params", "metrics", "seed", "versions", "commit", "device",
           "wall_seconds", "timestamp")
#: metrics that measure time, not results: they differ between two runs of the same record
TIMING_METRICS = ("train_seconds",)


class CorruptRecordWarning(UserWarning):
    """A record file that cannot be a complete record (truncated, edited, misnamed); it is ignored."""


# --- canonical parameters and keys -------------------------------------------------------------------

def plain(value):
    """``value`` with NumPy scalars/arrays, tuples and ranges turned into plain JSON types (recursively)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range)):
        return [plain(v) for v in value]
    if type(value).__module__ == "numpy":
        return plain(value.tolist()) if hasattr(value, "tolist") else value
    return value


def _float_like(defaults: dict, values: dict) -> dict:
    """Integers given for parameters whose default is a float become floats."""
    return {k: float(v) if isinstance(defaults.get(k), float) and isinstance(v, int) and not isinstance(v, bool)
            else v for k, v in values.items()}


def _resolve_device(device: str) -> str:
    from snnlib.measure.train import resolve_device  # imported here: the command line starts without torch

    return str(resolve_device(device))


def canonical(params: dict) -> dict:
    """The canonical form of a run's parameters (module docstring); raises ``ValueError`` naming a bad one.

    Besides :func:`snnlib.study.experiment.validate`, the values of ``task_params`` are checked by building the
    task once per distinct ``task_params`` (with seed 0; cached), since the task builders check them.
    Tasks read from data files (those with a ``data_dir`` parameter, e.g. ``shd``) are not built here,
    as they may be gigabytes: their values are checked when the run builds its task.
    """
    from snnlib.study import experiment
    from snnlib import data as tasks_mod

    if not isinstance(params, dict):
        raise ValueError(f"run parameters must be a dict, got {type(params).__name__}: {params!r}")
    p = experiment.validate(plain(params))
    p = _float_like(experiment.DEFAULTS, p)
    task_defaults = {k: v for k, v in tasks_mod.task_parameters(p["task"]).items() if k != "seed"}
    p["task_params"] = _float_like(task_defaults, {**task_defaults, **p["task_params"]})
    p["device"] = _resolve_device(p["device"])
    p = json.loads(_dumps(p))  # exactly what a record stores and reloads
    if "data_dir" not in task_defaults:
        _check_task_values(p["task"], _dumps(p["task_params"]))
    return p


@functools.lru_cache(maxsize=256)
def _check_task_values(task: str, task_params_json: str) -> None:
    from snnlib import data as tasks_mod

    task_params = {"seed": 0, **json.loads(task_params_json)}
    try:
        tasks_mod.get_task(task, **task_params)
    except ValueError as error:
        raise ValueError(f"task {task!r}: task_params: {error}") from None


def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical_key(params: dict) -> str:
    """The record key of parameters already in canonical form (pure: no validation, no torch)."""
    keyed = {**params, "device": str(params.get("device", "")).split(":")[0]}
    return hashlib.sha256(_dumps(keyed).encode()).hexdigest()[:KEY_DIGITS]


def key(params: dict) -> str:
    """The record key of a run (module docstring); ``params`` need not be canonical."""
    return canonical_key(canonical(params))


def path(key_: str, directory: str | Path | None = None) -> Path:
    """The file of record ``key_``."""
    return Path(directory if directory is not None else paths.records_dir()) / f"{key_}.json"


# --- provenance ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of Python and of the packages that decide a run's numbers."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("torch", "spikingjelly", "numpy", "snnlib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=1)
def git_state() -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the repository holding snnlib, or ``(None, None)`` outside git (never fails)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read-only: git status may not refresh the index
    try:
        commit = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, env=env)
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(["git", "-C", str(paths.ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, env=env)
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return commit.stdout.strip() or None, dirty
    except (OSError, subprocess.SubprocessError):
        return None, None


# --- making, writing and reading records ----------------------------------------------------------------

def make(params: dict, metrics: dict, wall_seconds: float, device: str, device_name: str | None = None) -> dict:
    """A complete record of a run with canonical ``params`` that produced ``metrics``."""
    from snnlib.study.fingerprint import code_fingerprint

    commit, dirty = git_state()
    return dict(schema=SCHEMA, key=canonical_key(params), experiment=params["experiment"], params=params,
                metrics=json.loads(json.dumps(plain(metrics))), seed=params["seed"], versions=versions(),
                code=code_fingerprint(), commit=commit, dirty=dirty, device=device, device_name=device_name,
                wall_seconds=wall_seconds,
                timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def save(record: dict, directory: str | Path | None = None) -> Path:
    """Write ``record`` atomically (temporary file, fsync, :func:`os.replace`); returns its path."""
    target = path(record["key"], directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{record['key']}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (best effort: not every file system allows it)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return target


def _problem(file: Path, reason: str) -> str:
    message = f"ignoring record {file}: {reason}"
    warnings.warn(message, CorruptRecordWarning, stacklevel=3)
    return message


def read(file: str | Path) -> dict | None:
    """The record in ``file``, or ``None`` (with a :class:`CorruptRecordWarning`) if it is not a complete,
    consistent record."""
    file = Path(file)
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        _problem(file, f"unreadable ({type(error).__name__}: {error})")
        return None
    if not isinstance(record, dict) or any(f not in record for f in _FIELDS):
        missing = [f for f in _FIELDS if not isinstance(record, dict) or f not in record]
        _problem(file, f"missing field(s) {', '.join(missing)}")
        return None
    if record["schema"] != SCHEMA or not isinstance(record["params"], dict) or not isinstance(record["metrics"], dict):
        _problem(file, "not a record of this schema")
        return None
    try:
        expected = canonical_key(record["params"])
    except (TypeError, ValueError) as error:
        _problem(file, f"parameters cannot be keyed ({error})")
        return None
    if not (record["key"] == file.stem == expected):
        _problem(file, f"key {record['key']!r} does not match its file name or its parameters (key {expected!r})")
        return None
    return record


def is_stale(record: dict) -> bool:
    """Whether ``record`` was made by other result-deciding code than the current one (or by unknown code)."""
    from snnlib.study.fingerprint import code_fingerprint

    return record.get("code") != code_fingerprint()


def load(key_: str, directory: str | Path | None = None) -> dict | None:
    """The record with key ``key_``, or ``None`` if there is none (or only a corrupt one, reported)."""
    file = path(key_, directory)
    return read(file) if file.exists() else None


def load_all(directory: str | Path | None = None, experiment: str | list[str] | None = None) -> list[dict]:
    """Every valid record in ``directory`` (default :func:`snnlib.paths.records_dir`), sorted by key,
    optionally only those of ``experiment`` (a name or a list of names). Corrupt files are reported and
    skipped; temporary files are never read."""
    folder = Path(directory if directory is not None else paths.records_dir())
    if not folder.is_dir():
        return []
    wanted = None if experiment is None else {experiment} if isinstance(experiment, str) else set(experiment)
    out = []
    for file in sorted(folder.glob("*.json")):
        if file.name.startswith("."):
            continue
        record = read(file)
        if record is not None and (wanted is None or record["experiment"] in wanted):
            out.append(record)
    return out


def temporary_files(directory: str | Path | None = None) -> list[Path]:
    """Leftover temporary files of interrupted writes (never read as records; ``clean`` removes them)."""
    folder = Path(directory if directory is not None else paths.records_dir())
    return sorted(folder.glob(".*.tmp")) if folder.is_dir() else []


# --- running --------------------------------------------------------------------------------------------

def execute_group(group: list[dict]) -> list[dict]:
    """Train canonical runs that share a group key (:func:`snnlib.study.experiment.group_key`) as one
    ensemble now, and return their records (not written: the caller saves them, so a worker without the
    caller's file system can return them). No reuse check."""
    from snnlib.study import experiment
    from snnlib.measure.train import resolve_device

    device = resolve_device(group[0]["device"])
    device_name = None
    if device.type == "cuda":
        import torch

        device_name = torch.cuda.get_device_name(device)
    start = time.perf_counter()
    results = experiment.run_group(group)
    wall = (time.perf_counter() - start) / len(group)
    return [make(p, m, wall, str(device), device_name) for p, m in zip(group, results)]


def execute(params: dict, directory: str | Path | None = None) -> dict:
    """Train canonical ``params`` now, write the record (atomically) and return it. No reuse check."""
    (record,) = execute_group([params])
    save(record, directory)
    return record


def run(params: dict, force: bool = False, directory: str | Path | None = None, reuse_stale: bool = False) -> dict:
    """The record of the run ``params``: the stored one if it exists and is not stale (unless ``force``),
    else trained now."""
    p = canonical(params)
    if not force:
        existing = load(canonical_key(p), directory)
        if existing is not None and (reuse_stale or not is_stale(existing)):
            return existing
    return execute(p, directory)


# --- tables ---------------------------------------------------------------------------------------------

def _flatten(prefix: str, value: dict) -> dict:
    out = {}
    for k, v in value.items():
        name = f"{prefix}.{k}" if prefix else k
        out.update(_flatten(name, v) if isinstance(v, dict) and v else {name: v})
    return out


def row(record: dict) -> dict:
    """One table row: ``key``, the parameters (``task_params`` flattened to ``task_params.NAME``), the
    metrics (scalars as values; lists and dicts kept as Python objects), then ``wall_seconds``,
    ``timestamp``, ``commit``, ``ran_on`` (the device), ``code`` and ``stale``. A metric named like a parameter gets ``metric.``."""
    out = {"key": record["key"]}
    out.update(_flatten("", record["params"]))
    for name, value in record["metrics"].items():
        out["metric." + name if name in out else name] = value
    out.update(wall_seconds=record["wall_seconds"], timestamp=record["timestamp"], commit=record["commit"],
               ran_on=record["device"], code=record.get("code"), stale=is_stale(record))
    return out


def to_frame(records: list[dict]):
    """A pandas DataFrame with one row per record (:func:`row`), in the given order."""
    import pandas as pd

    rows = [row(r) for r in records]
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=["key", "experiment"])


def frame(experiment: str | list[str] | None = None, directory: str | Path | None = None):
    """All records (optionally of ``experiment``) as one DataFrame (:func:`to_frame`)."""
    return to_frame(load_all(directory, experiment))
