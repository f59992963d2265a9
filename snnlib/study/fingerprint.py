"""The code fingerprint: which version of the code that decides results made a record.

``code_fingerprint()`` is the SHA-256 (first 16 hex digits) of the code that affects a run's numbers:
the model (:mod:`snnlib.model`), the tasks (:mod:`snnlib.data`), training, metrics and attacks
(:mod:`snnlib.measure`, the benchmark aside), one run (:mod:`snnlib.study.experiment`) and the shared
parameter checks. The book, the command line, the figures, the statistics and the sweep machinery are
left out: changing them changes no recorded number. What is hashed is each file's syntax tree without
its docstrings (:func:`code_of`), so editing a docstring, a comment or the layout leaves the records
current; any change to a statement makes them stale.

Every record stores the fingerprint under ``code``. A record whose fingerprint differs from the current
one is *stale*: it was made by another program. Sweeps retrain stale runs by default
(:func:`snnlib.study.sweep.run_grid`, ``reuse_stale=False``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
#: the sources that affect results, relative to the package folder (folders: every .py file inside)
SOURCES = ("model", "data", "measure", "study/experiment.py", "checks.py")
#: files inside those folders that do not affect results
EXCLUDED = ("measure/bench.py",)


def source_files(package: Path = PACKAGE) -> list[Path]:
    """The files hashed by :func:`code_fingerprint`, in a fixed order."""
    files = []
    for entry in SOURCES:
        path = package / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [f for f in files if f.relative_to(package).as_posix() not in EXCLUDED]


def code_of(source: str) -> str:
    """The code of a Python source as the fingerprint sees it: its syntax tree (``ast.dump``) with the
    docstrings of the module, classes and functions removed; comments and layout are not in the tree."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@functools.lru_cache(maxsize=4)
def _fingerprint(package: Path) -> str:
    digest = hashlib.sha256()
    for file in source_files(package):
        digest.update(file.relative_to(package).as_posix().encode() + b"\0")
        digest.update(code_of(file.read_text(encoding="utf-8")).encode() + b"\0")
    return digest.hexdigest()[:16]


def code_fingerprint() -> str:
    """The fingerprint of the installed package's result-deciding sources (cached per process)."""
    return _fingerprint(PACKAGE)
