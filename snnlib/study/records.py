"""Run records: every training run stored once, keyed by its parameters, and reused.

A *record* is one JSON file ``records_dir()/<key>.json``::

    schema        1
    key           the record key (below), also the file name
    experiment    params["experiment"], for filtering
    params        the run's canonical parameters (see canonical)
    metrics       what snnlib.study.experiment.run returned
    seed          params["seed"]
    versions      python, torch, spikingjelly, numpy, snnlib
    code          the code fingerprint (snnlib.code_fingerprint) of the sources that made it, and its two
                  parts: code_train (the training code) and code_measure (the measurement code)
    training      what training returned: best_epoch, val_accuracy, final_train_loss, the per-epoch
                  history ({epoch, loss, accuracy, val_accuracy}), any other field of the training
                  history (e.g. epochs_trained), and seconds (the run's training time)
    weights       the trained weights' file, <key>.safetensors beside the record: {file, sha256, bytes}
                  (None for a record made without weights)
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

**Weights.** A record keeps its run's trained network: ``<key>.safetensors`` (the `safetensors
<https://huggingface.co/docs/safetensors>`_ format: tensors and a JSON header, nothing executable) holds
the network's ``state_dict``, and, for an audited run with a transfer twin, the twin's, its names
prefixed ``twin.`` (:func:`weights_bytes`, :func:`weights_states`). The record stores the file's SHA-256;
a record whose weights file is missing or does not match is reported (:class:`CorruptRecordWarning`) and
treated as absent where it would be reused (:func:`load_weights`): the run is trained again. The record
also keeps its training outputs (``training``), so the measuring stage can run again on the stored
weights alone (:func:`execute_measure`) and give the record new metrics without training.

**Stale records.** The code is not part of the key, but every record stores the fingerprints of the code
that made it (:mod:`snnlib.study.fingerprint`): ``code_train`` of the training code and ``code_measure``
of the measurement code (``code`` combines the two). :func:`stale_stage` says which stage is out of
date: ``"train"`` when the training fingerprint differs (or is missing: records of schema 1), else
``"measure"`` when the measurement fingerprint differs, else ``"none"``. Sweeps retrain the first kind and
measure the second again from its weights, so the book never mixes results of two programs;
``reuse_stale=True`` keeps both as they are, with a warning. :func:`is_stale`: any stage is stale.

**Atomic writes.** A record is written to a temporary file ``.<key>.<random>.tmp`` in the same folder,
flushed and fsync'ed, then moved over ``<key>.json`` with :func:`os.replace`, so a crash (even
``kill -9``) leaves either the complete record or none. Its weights are written the same way, *before*
it: a crash between the two leaves new weights beside the old record (or none), whose checksum then
does not match, so the run counts as absent and is trained again. Temporary files are never read as
records. Two sweeps writing the same record at once each write complete files and the last rename wins:
a run may be trained twice, a record is never corrupt or half-written, and a record whose weights
were replaced by the other sweep's is caught by its checksum. A record that does not parse, lacks a
field, or whose key does not match its file name and parameters is ignored and reported with a
:class:`CorruptRecordWarning`; a sweep then trains that run again.
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

SCHEMA = 2
#: schemas read: 1 (before weights and the two fingerprints; such records are stale in training)
SCHEMAS = (1, 2)
KEY_DIGITS = 20
#: the suffix of a record's weights file, beside its ``.json``
WEIGHTS_SUFFIX = ".safetensors"
#: the prefix of the transfer twin's tensor names in a weights file
TWIN_PREFIX = "twin."
#: the training outputs a record's ``training`` always has (the first three are metrics too)
TRAINING_FIELDS = ("best_epoch", "val_accuracy", "final_train_loss", "history")
#: the stages of a run that can be out of date, from none to all (:func:`stale_stage`)
STAGES = ("none", "measure", "train")
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


def weights_path(key_: str, directory: str | Path | None = None) -> Path:
    """The weights file of record ``key_`` (beside its JSON file)."""
    return Path(directory if directory is not None else paths.records_dir()) / f"{key_}{WEIGHTS_SUFFIX}"


def files(key_: str, directory: str | Path | None = None) -> list[Path]:
    """Every file of record ``key_`` that exists: its JSON file and its weights (e.g. to remove them)."""
    return [f for f in (path(key_, directory), weights_path(key_, directory)) if f.exists()]


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


# --- weights -------------------------------------------------------------------------------------------

def _cpu_state(module) -> dict:
    """``module.state_dict()`` as independent, contiguous CPU tensors (what safetensors stores)."""
    return {name: tensor.detach().to("cpu").clone().contiguous() for name, tensor in module.state_dict().items()}


def weights_bytes(model, twin=None) -> bytes:
    """The safetensors file of a trained network (its ``state_dict``, names as they are) and of its
    transfer ``twin`` (names prefixed :data:`TWIN_PREFIX`), as bytes: what workers return with a record."""
    from safetensors.torch import save

    state = _cpu_state(model)
    clash = [name for name in state if name.startswith(TWIN_PREFIX)]
    if clash:
        raise ValueError(f"a network's state_dict may not name a tensor {TWIN_PREFIX!r}...: {clash}")
    if twin is not None:
        state.update({TWIN_PREFIX + name: tensor for name, tensor in _cpu_state(twin).items()})
    return save(state)


def weights_states(data: bytes) -> tuple[dict, dict | None]:
    """``(state, twin_state)``: the ``state_dict``s of :func:`weights_bytes` (``twin_state``: ``None`` without
    a twin), CPU tensors to load with ``load_state_dict``."""
    from safetensors.torch import load

    tensors = load(data)
    state = {n: t for n, t in tensors.items() if not n.startswith(TWIN_PREFIX)}
    twin = {n[len(TWIN_PREFIX):]: t for n, t in tensors.items() if n.startswith(TWIN_PREFIX)}
    return state, twin or None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked_weights(record: dict, directory: str | Path | None = None) -> tuple[bytes | None, str | None]:
    """``(data, None)``: the bytes of ``record``'s weights file, which match its SHA-256; or ``(None, why)``."""
    info = record.get("weights")
    if not isinstance(info, dict) or "sha256" not in info:
        return None, "it keeps no weights"
    file = weights_path(record["key"], directory)
    try:
        data = file.read_bytes()
    except OSError as error:
        return None, f"its weights file {file.name} cannot be read ({type(error).__name__})"
    if _sha256(data) != info["sha256"]:
        return None, f"its weights file {file.name} does not match the record (SHA-256 differs)"
    return data, None


def load_weights(record: dict, directory: str | Path | None = None) -> bytes | None:
    """The bytes of ``record``'s weights file, checked against its SHA-256; ``None`` (with a
    :class:`CorruptRecordWarning`) when they are missing or do not match: the record is then not reusable."""
    data, problem = _checked_weights(record, directory)
    if problem is not None:
        _problem(path(record["key"], directory), f"{problem}; its run counts as not recorded")
    return data


# --- making, writing and reading records ----------------------------------------------------------------

def training_outputs(history: dict, seconds: float | None = None) -> dict:
    """What a record keeps of a run's training: every field of its history
    (:func:`snnlib.measure.train.fit_members`; at least :data:`TRAINING_FIELDS`, a missing one as ``None``),
    JSON-ready, with the run's training ``seconds``; what the measuring stage reads again from a stored run."""
    kept = {**{name: None for name in TRAINING_FIELDS}, **history}
    return json.loads(json.dumps(plain({**kept, "seconds": seconds})))


def make(params: dict, metrics: dict, wall_seconds: float, device: str, device_name: str | None = None,
         training: dict | None = None, weights: bytes | None = None) -> dict:
    """A complete record of a run with canonical ``params`` that produced ``metrics``; ``training``: its
    :func:`training_outputs`; ``weights``: its :func:`weights_bytes` (written by :func:`save`)."""
    from snnlib.study import fingerprint

    commit, dirty = git_state()
    key_ = canonical_key(params)
    stored = None if weights is None else dict(file=f"{key_}{WEIGHTS_SUFFIX}", sha256=_sha256(weights),
                                               bytes=len(weights))
    return dict(schema=SCHEMA, key=key_, experiment=params["experiment"], params=params,
                metrics=json.loads(json.dumps(plain(metrics))), seed=params["seed"], versions=versions(),
                code=fingerprint.code_fingerprint(), code_train=fingerprint.training_fingerprint(),
                code_measure=fingerprint.measuring_fingerprint(), training=training, weights=stored,
                commit=commit, dirty=dirty, device=device, device_name=device_name, wall_seconds=wall_seconds,
                timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def _write_atomically(target: Path, data: bytes, prefix: str) -> None:
    """``data`` into ``target`` by way of a temporary file in its folder (fsync, :func:`os.replace`)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(record: dict, directory: str | Path | None = None, weights: bytes | None = None) -> Path:
    """Write ``record`` atomically (temporary file, fsync, :func:`os.replace`); returns its path.

    ``weights`` (the bytes of :func:`weights_bytes` whose SHA-256 the record holds) are written first, the
    same way, to :func:`weights_path`; only then the record (module docstring)."""
    target = path(record["key"], directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    if weights is not None:
        info = record.get("weights") or {}
        if info.get("sha256") != _sha256(weights):
            raise ValueError(f"record {record['key']}: the weights given are not the ones it records "
                             f"(SHA-256 {_sha256(weights)[:12]}..., recorded {str(info.get('sha256'))[:12]}...)")
        _write_atomically(weights_path(record["key"], directory), weights, prefix=f".{record['key']}.")
    text = json.dumps(record, indent=1) + "\n"
    _write_atomically(target, text.encode("utf-8"), prefix=f".{record['key']}.")
    try:  # make the renames themselves durable (best effort: not every file system allows it)
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
    consistent record. (Its weights are checked where they are used: :func:`load_weights`.)"""
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
    if record["schema"] not in SCHEMAS or not isinstance(record["params"], dict) \
            or not isinstance(record["metrics"], dict):
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


def stale_stage(record: dict) -> str:
    """Which stage of ``record`` was made by other code than the current one (:data:`STAGES`):
    ``"train"`` if its training fingerprint differs or is missing (it must be trained again), else
    ``"measure"`` if its measurement fingerprint differs (its stored weights must be measured again),
    else ``"none"``."""
    from snnlib.study import fingerprint

    if record.get("code_train") != fingerprint.training_fingerprint():
        return "train"
    if record.get("code_measure") != fingerprint.measuring_fingerprint():
        return "measure"
    return "none"


def is_stale(record: dict) -> bool:
    """Whether ``record`` was made by other result-deciding code than the current one (or by unknown
    code), in either stage (:func:`stale_stage`)."""
    return stale_stage(record) != "none"


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

def _device_of(params: dict) -> tuple[str, str | None]:
    from snnlib.measure.train import resolve_device

    device = resolve_device(params["device"])
    if device.type == "cuda":
        import torch

        return str(device), torch.cuda.get_device_name(device)
    return str(device), None


def execute_group(group: list[dict]) -> list[tuple[dict, bytes]]:
    """Train canonical runs that share a group key (:func:`snnlib.study.experiment.group_key`) as one
    ensemble now and measure them; return ``(record, weights)`` of each (not written: the caller saves
    them with :func:`save`, so a worker without the caller's file system can return them). No reuse check."""
    from snnlib.study import experiment

    device, device_name = _device_of(group[0])
    start = time.perf_counter()
    trained = experiment.train_group(group)
    results = experiment.measure_group(*trained)
    wall = (time.perf_counter() - start) / len(group)
    out = []
    for p, metrics, model, twin, history, seconds in zip(group, results, trained.models, trained.twins,
                                                         trained.histories, trained.seconds):
        weights = weights_bytes(model, twin)
        out.append((make(p, metrics, wall, device, device_name, training=training_outputs(history, seconds),
                         weights=weights), weights))
    return out


def execute_measure(stored: list[tuple[dict, bytes]]) -> list[tuple[dict, bytes]]:
    """The measuring stage alone for recorded runs of one group (equal group keys) whose training is
    current: ``stored`` holds each ``(record, weights)`` (:func:`load_weights`). Returns the records made
    again with the new metrics (training outputs and weights kept, ``wall_seconds`` = stored training
    seconds + measuring), not written (the caller saves them). Nothing is trained."""
    from snnlib.study import experiment

    group = [record["params"] for record, _ in stored]
    trainings = [record["training"] for record, _ in stored]
    if any(not isinstance(t, dict) for t in trainings):
        raise ValueError("records measured again must keep their training outputs ('training')")
    device, device_name = _device_of(group[0])
    start = time.perf_counter()
    seconds = [t.get("seconds") or 0.0 for t in trainings]
    results = experiment.measure_stored(group, [weights_states(data) for _, data in stored], trainings, seconds)
    wall = (time.perf_counter() - start) / len(group)
    return [(make(p, metrics, s + wall, device, device_name, training=t, weights=data), data)
            for p, metrics, s, t, (_, data) in zip(group, results, seconds, trainings, stored)]


def execute(params: dict, directory: str | Path | None = None) -> dict:
    """Train canonical ``params`` now, write the record and its weights (atomically) and return it.
    No reuse check."""
    ((record, weights),) = execute_group([params])
    save(record, directory, weights)
    return record


def run(params: dict, force: bool = False, directory: str | Path | None = None, reuse_stale: bool = False) -> dict:
    """The record of the run ``params``: the stored one if it exists, is not stale and keeps its weights
    (unless ``force``); measured again from its weights if only its measurement is stale; else trained
    now. ``reuse_stale``: keep a stale record as it is."""
    p = canonical(params)
    if not force:
        existing = load(canonical_key(p), directory)
        stage = stale_stage(existing) if existing is not None else "train"
        if existing is not None and (reuse_stale or stage != "train"):
            weights = load_weights(existing, directory)
            if weights is not None:
                if reuse_stale or stage == "none":
                    return existing
                ((record, weights),) = execute_measure([(existing, weights)])
                save(record, directory, weights)
                return record
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
    ``timestamp``, ``commit``, ``ran_on`` (the device), ``code``, ``code_train``, ``code_measure``, ``stale``
    (either stage is stale),
    ``stale_stage`` (:func:`stale_stage`: ``none``, ``measure`` or ``train``) and ``weights_bytes`` (the size
    of its weights file; ``None`` without one). A metric named like a parameter gets ``metric.``."""
    out = {"key": record["key"]}
    out.update(_flatten("", record["params"]))
    for name, value in record["metrics"].items():
        out["metric." + name if name in out else name] = value
    stage = stale_stage(record)
    weights = record.get("weights")
    out.update(wall_seconds=record["wall_seconds"], timestamp=record["timestamp"], commit=record["commit"],
               ran_on=record["device"], code=record.get("code"), code_train=record.get("code_train"),
               code_measure=record.get("code_measure"), stale=stage != "none", stale_stage=stage,
               weights_bytes=weights.get("bytes") if isinstance(weights, dict) else None)
    return out


def to_frame(records: list[dict]):
    """A pandas DataFrame with one row per record (:func:`row`), in the given order."""
    import pandas as pd

    rows = [row(r) for r in records]
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=["key", "experiment"])


def frame(experiment: str | list[str] | None = None, directory: str | Path | None = None):
    """All records (optionally of ``experiment``) as one DataFrame (:func:`to_frame`)."""
    return to_frame(load_all(directory, experiment))
