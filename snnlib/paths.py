"""Every path of the project, in one place (no other module hard-codes one).

``SNNLIB_RESULTS`` overrides where records go and ``SNNLIB_EXECUTED`` where executed notebooks go
(tests point them at a temporary folder), so a test run never touches the study's own results;
``SNNLIB_NOTEBOOKS`` overrides where the experiment notebooks are read from (tests use a fixture).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"


def results_dir() -> Path:
    """Root of all generated results (default ``results/`` in the repository)."""
    return Path(os.environ.get("SNNLIB_RESULTS", ROOT / "results"))


def records_dir() -> Path:
    """Where run records are stored, one JSON file per run."""
    return results_dir() / "records"


def notebooks_dir() -> Path:
    """Where the experiment notebooks ``EXPERIMENT.ipynb`` are read from (default :data:`NOTEBOOKS`)."""
    return Path(os.environ.get("SNNLIB_NOTEBOOKS", NOTEBOOKS))


DATA_ENV = "SNNLIB_DATA"


def data_dir(name: str, given: str | os.PathLike | None = None) -> Path:
    """The folder of data set ``name``: ``given``, else ``$SNNLIB_DATA/<name>``, else ``<results>/data/<name>``."""
    if given is not None:
        return Path(given)
    root = os.environ.get(DATA_ENV)
    return (Path(root) if root else results_dir() / "data") / name


def executed_dir() -> Path:
    """Where papermill writes the executed notebooks that the book renders."""
    return Path(os.environ.get("SNNLIB_EXECUTED", BOOK / "executed"))
