"""Tasks: every data set of the study behind one interface.

``get_task(name, seed=0, **params)`` returns a :class:`TaskData` whose inputs are time-first
``[T, N, features]`` float tensors, with integer labels ``[N]``, in three splits: training,
validation (carved from the training data, stratified by label, ``val_fraction`` of it) and test.
Choices are made on the validation split; the test split is never used to choose anything. The
task also declares its readout -- the window of steps whose readout membrane, averaged, gives the
logits, and the readout integrator's ``λ_o`` (``readout_decay``) -- and its ``input_scale`` and
``input_bounds``. Every task is generated (or bundled, or read from files), sized by its
parameters, and returns identical data for the same seed.

``TASKS`` lists the names (the same tuple as :data:`snnlib.data.names.TASK_NAMES`, which imports no
torch); each builder's keyword arguments are its parameters, and ``task_parameters(name)`` lists
them with their defaults. The builders and the classes are imported on first use (PEP 562), so
importing this package (and :mod:`snnlib.data.names`) does not import torch.
"""

from __future__ import annotations

import importlib
import inspect

from .names import MEMORY_TASKS, TASK_NAMES

#: task name -> (module, builder); imported on first use
_BUILDERS = {
    "digits": ("digits", "make_digits"),
    "seq-digits": ("seq_digits", "make_seq_digits"),
    "mnist1d": ("mnist1d", "make_mnist1d"),
    "japanese-vowels": ("japanese_vowels", "make_japanese_vowels"),
    "delayed-recall": ("memory", "make_delayed_recall"),
    "temporal-xor": ("temporal_xor", "make_temporal_xor"),
    "shd": ("neuromorphic", "make_shd"),
    "nmnist": ("neuromorphic", "make_nmnist"),
}
TASKS = tuple(_BUILDERS)

#: public name -> the submodule that defines it, imported on first use
_LAZY = {
    "TaskData": "base",
    "StreamData": "stream",
    "make_stream": "stream",
    "stream_task": "stream",
    "DatasetNotFoundError": "neuromorphic",
}

__all__ = ["TASKS", "TASK_NAMES", "MEMORY_TASKS", "TaskData", "StreamData", "DatasetNotFoundError", "get_task",
           "make_stream", "stream_task", "task_parameters", "check_task", "check_task_params"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'snnlib.data' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _builder(name: str):
    module, function = _BUILDERS[name]
    return getattr(importlib.import_module(f".{module}", __name__), function)


def check_task(name: str) -> None:
    """Raise ``ValueError`` naming the valid tasks if ``name`` is not one of them."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown task {name!r}; valid tasks are: {', '.join(TASKS)}")


def task_parameters(name: str) -> dict:
    """The parameters of task ``name`` with their default values."""
    check_task(name)
    return {p.name: p.default for p in inspect.signature(_builder(name)).parameters.values()}


def check_task_params(name: str, params: dict) -> None:
    """Raise ``ValueError`` if ``params`` names a parameter task ``name`` does not take."""
    allowed = task_parameters(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"task {name!r} has no parameter {', '.join(map(repr, unknown))}; "
                         f"its parameters are: {', '.join(allowed)}")


def get_task(name: str, **params):
    """Build task ``name`` with ``params`` (see :func:`task_parameters`); returns a :class:`TaskData`."""
    check_task(name)
    check_task_params(name, params)
    return _builder(name)(**params)
