"""The code fingerprint: which version of the code that decides results made a record.

``code_fingerprint()`` is the SHA-256 (first 16 hex digits) of the sources that affect a run's numbers:
the model (:mod:`snnlib.model`), the tasks (:mod:`snnlib.data`), training, metrics and attacks
(:mod:`snnlib.measure`, the benchmark aside), one run (:mod:`snnlib.study.experiment`) and the shared
parameter checks. The book, the command line, the figures, the statistics and the sweep machinery are
left out: changing them changes no recorded number.

Every record stores the fingerprint under ``code``. A record whose fingerprint differs from the current
one is *stale*: it was made by another program. Sweeps retrain stale runs by default
(:func:`snnlib.study.sweep.run_grid`, ``reuse_stale=False``).
"""

from __future__ import annotations

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


@functools.lru_cache(maxsize=4)
def _fingerprint(package: Path) -> str:
    digest = hashlib.sha256()
    for file in source_files(package):
        digest.update(file.relative_to(package).as_posix().encode() + b"\0")
        digest.update(file.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:16]


def code_fingerprint() -> str:
    """The fingerprint of the installed package's result-deciding sources (cached per process)."""
    return _fingerprint(PACKAGE)
