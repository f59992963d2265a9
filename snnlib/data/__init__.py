"""Tasks: every data set of the study behind one interface (DESIGN.md §4).

``get_task(name, seed=0, **params)`` returns a :class:`TaskData` whose inputs are time-first
``[T, N, features]`` float tensors, with integer labels ``[N]`` and the readout window: the steps
whose readout membrane, averaged, gives the logits. Every task is generated (or bundled), sized by
its parameters, and returns identical data for the same seed.

``TASKS`` lists the names; each builder's keyword arguments are its parameters, and
``task_parameters(name)`` lists them with their defaults.
"""

from __future__ import annotations

import inspect

from .base import TaskData
from .digits import make_digits
from .memory import make_delayed_recall
from .mnist1d import make_mnist1d
from .neuromorphic import DatasetNotFoundError, make_nmnist, make_shd
from .seq_digits import make_seq_digits
from .stream import StreamData, make_stream
from .temporal_xor import make_temporal_xor

_BUILDERS = {
    "digits": make_digits,
    "seq-digits": make_seq_digits,
    "mnist1d": make_mnist1d,
    "delayed-recall": make_delayed_recall,
    "temporal-xor": make_temporal_xor,
    "shd": make_shd,
    "nmnist": make_nmnist,
}
TASKS = tuple(_BUILDERS)

__all__ = ["TASKS", "TaskData", "StreamData", "DatasetNotFoundError", "get_task", "make_stream",
           "task_parameters", "check_task"]


def check_task(name: str) -> None:
    """Raise ``ValueError`` naming the valid tasks if ``name`` is not one of them."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown task {name!r}; valid tasks are: {', '.join(TASKS)}")


def task_parameters(name: str) -> dict:
    """The parameters of task ``name`` with their default values."""
    check_task(name)
    return {p.name: p.default for p in inspect.signature(_BUILDERS[name]).parameters.values()}


def check_task_params(name: str, params: dict) -> None:
    """Raise ``ValueError`` if ``params`` names a parameter task ``name`` does not take."""
    allowed = task_parameters(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"task {name!r} has no parameter {', '.join(map(repr, unknown))}; "
                         f"its parameters are: {', '.join(allowed)}")


def get_task(name: str, **params) -> TaskData:
    """Build task ``name`` with ``params`` (see :func:`task_parameters`)."""
    check_task(name)
    check_task_params(name, params)
    return _BUILDERS[name](**params)
