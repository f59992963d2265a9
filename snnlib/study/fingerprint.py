"""The code fingerprints: which version of the code that decides results made a record, stage by stage.

A run has two stages, and each has its fingerprint, the SHA-256 (first 16 hex digits) of the code it runs:

- **training** (:func:`training_fingerprint`): the modules that :mod:`snnlib.study.training` imports,
  transitively -- the tasks (:mod:`snnlib.data`), the model (:mod:`snnlib.model`), training
  (:mod:`snnlib.measure.train`) and what those import;
- **measurement** (:func:`measuring_fingerprint`): the modules that :mod:`snnlib.study.measuring` imports,
  transitively -- metrics, attacks, the audit, the measure functions; it imports the training stage's
  module too, so it contains the training part.

:func:`code_fingerprint` combines the two (a record's ``code``). Everything else -- the book, the command
line, the figures, the statistics, the sweep and record machinery, :mod:`snnlib.study.experiment`'s
validation and orchestration -- is left out: changing it changes no recorded number.

**Which files.** :func:`closure` follows the ``import`` and ``from ... import`` statements of snnlib modules
(syntax only, nothing is imported), everywhere in a module, so the lazy imports inside functions count: a
module counts when an import names it (``from snnlib.model import models`` names ``snnlib.model`` and
``snnlib.model.models``; relative imports are resolved), and so do the packages above it, whose
``__init__`` runs first, except the top-level ``snnlib/__init__.py`` (its public names are loaded lazily;
it decides nothing) and :data:`NOT_RESULTS` (:mod:`snnlib.paths`: where files are, not what they hold). A module that imports :mod:`importlib` loads modules by name, so each of its string
constants that names a module of the package -- absolute (``"snnlib.model.dynamics"``), relative to its
package (``"memory"`` in :mod:`snnlib.data`), or before a ``":"`` (``"snnlib.model.dynamics:LIF"``) --
counts as imported too. A file no module imports (a new empty one) changes neither fingerprint.

**What is hashed.** Each file's path and its syntax tree without its docstrings (:func:`code_of`), so
editing a docstring, a comment or the layout leaves the records current; any change to a statement makes
them stale. Every record stores both fingerprints (``code_train``, ``code_measure``,
:mod:`snnlib.study.records`); sweeps retrain the runs whose training part differs and measure again, from
their stored weights, those whose measurement part alone differs (:func:`snnlib.study.sweep.run_grid`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
NAME = "snnlib"
#: the entry module of each stage; a stage's fingerprint hashes it and every module it imports
ENTRIES = {"train": "snnlib.study.training", "measure": "snnlib.study.measuring"}
#: modules never hashed (nor followed): they say where files are, not what is computed
NOT_RESULTS = ("snnlib.paths",)


def module_file(module: str, package: Path = PACKAGE) -> Path | None:
    """The source of snnlib module ``module`` (``a/b.py`` or ``a/b/__init__.py``), or ``None`` if there is none."""
    parts = module.split(".")
    if parts[0] != NAME:
        return None
    base = package.joinpath(*parts[1:]) if len(parts) > 1 else package
    for candidate in (base.with_suffix(".py") if len(parts) > 1 else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _package_of(module: str, file: Path) -> str:
    """The package a module's relative imports start from: itself for an ``__init__``, else its parent."""
    return module if file.name == "__init__.py" else module.rpartition(".")[0]


def imports(module: str, package: Path = PACKAGE) -> set[str]:
    """The snnlib modules that ``module``'s source names as imports (module docstring), whether they exist
    or not (see :func:`closure`)."""
    file = module_file(module, package)
    if file is None:
        raise ValueError(f"module must be a module of the {NAME} package under {package}, got {module!r}")
    tree = ast.parse(file.read_text(encoding="utf-8"))
    own = _package_of(module, file)
    found, by_name = set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            by_name |= any(alias.name == "importlib" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own.split(".")[:len(own.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
                by_name |= origin == "importlib"
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    if by_name:  # modules loaded by name: string constants naming a module of the package
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.split(":")[0].strip()
                if text and all(part.isidentifier() for part in text.lstrip(".").split(".")):
                    found.add(text if text.startswith(NAME + ".") else f"{own}.{text.lstrip('.')}")
    return {name for name in found if name == NAME or name.startswith(NAME + ".")}


def closure(entry: str, package: Path = PACKAGE) -> list[str]:
    """``entry`` and every snnlib module it imports, transitively, with the packages above them (the
    top-level ``snnlib`` aside), sorted; names that are no module of the package (an imported function,
    say ``snnlib.model.models.build_snn``) are dropped."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in seen or module == NAME or module in NOT_RESULTS or module_file(module, package) is None:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(2, len(parts))]  # the packages above it
        todo += sorted(imports(module, package))
    return sorted(seen)


def source_files(part: str, package: Path = PACKAGE) -> list[Path]:
    """The files hashed by the fingerprint of stage ``part`` (``"train"`` or ``"measure"``), in a fixed order."""
    if part not in ENTRIES:
        raise ValueError(f"part must be one of {', '.join(map(repr, ENTRIES))}, got {part!r}")
    return sorted((module_file(m, package) for m in closure(ENTRIES[part], package)),
                  key=lambda f: f.relative_to(package).as_posix())


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


@functools.lru_cache(maxsize=8)
def part_fingerprint(part: str, package: Path = PACKAGE) -> str:
    """The fingerprint of stage ``part`` of the package in folder ``package`` (cached per process)."""
    digest = hashlib.sha256()
    for file in source_files(part, package):
        digest.update(file.relative_to(package).as_posix().encode() + b"\0")
        digest.update(code_of(file.read_text(encoding="utf-8")).encode() + b"\0")
    return digest.hexdigest()[:16]


def training_fingerprint() -> str:
    """The fingerprint of the installed package's training code (a record's ``code_train``)."""
    return part_fingerprint("train")


def measuring_fingerprint() -> str:
    """The fingerprint of the installed package's measurement code (a record's ``code_measure``)."""
    return part_fingerprint("measure")


def code_fingerprint() -> str:
    """The fingerprint of the installed package's result-deciding code: its training and measurement
    fingerprints together (a record's ``code``)."""
    both = f"train:{training_fingerprint()}\0measure:{measuring_fingerprint()}"
    return hashlib.sha256(both.encode()).hexdigest()[:16]
