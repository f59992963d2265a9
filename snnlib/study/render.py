"""Tidy an executed notebook for the book: ``clean_executed(path, profile, seeds, non_default)``.

``snnlib run`` calls it on the notebook papermill has just executed, before it replaces the chapter. In
place, it

1. tags the ``parameters`` cell and papermill's ``injected-parameters`` cell ``remove-cell``, so the book
   shows neither (the values are in the note of step 2);
2. inserts, right after the title cell, a note saying what the chapter ran with: the profile, the number
   of seeds, the parameters given on the command line that differ from the profile's defaults, and the
   command that reruns it. The note is a cell tagged ``run-parameters``; cleaning again replaces it;
3. deletes from every stderr stream output the lines that are progress bars (tqdm's ``40%|████ | 4/10``,
   ``3.0s/run]``, :mod:`snnlib.study.progress`'s ``runs: 4/10 (40%) [...]``) or kernel warnings
   (``file.py:12: UserWarning: ...`` with its indented source line, ``[IPKernelApp] WARNING | ...``), and
   the outputs left empty. Anything else on stderr (an error message) stays.
"""

from __future__ import annotations

import re
import shlex
from numbers import Integral
from pathlib import Path

import nbformat

from snnlib.checks import check_int

NOTE_TAG = "run-parameters"
HIDDEN_TAGS = ("parameters", "injected-parameters")

_PROGRESS = re.compile(
    r"\d+%\|"                                      # tqdm's bar:  40%|████
    r"|\|\s*\d+/\d+\s*\["                          # | 4/10 [
    r"|\d(?:it|run|cell|B)/s[\],]"                 # 3.0run/s]  1.2it/s,
    r"|s/(?:it|run|cell)[\],]"                     # 3.0s/run]
    r"|^\s*\S.*: \d+/\d+ \(\d+%\) \[")             # snnlib.study.progress's plain line
_WARNING = re.compile(r"^\S.*:\d+: \w*Warning: |^\[\w*(?:Kernel|App)\w*\] (?:WARNING|ERROR) \|")


def _flow(value) -> str:
    """A value as written after ``-p NAME``: YAML flow style (``8``, ``[LIF, IF]``, ``{digits: 2}``)."""
    import yaml

    if isinstance(value, str):
        return value
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True).strip()
    return text[:-3].strip() if text.endswith("...") else text


def run_note(experiment: str, profile: str, seeds: int | None, non_default: dict) -> str:
    """The markdown of the "This chapter ran with" note (a MyST admonition)."""
    head = f"Profile `{profile}`" + (f", {seeds} seed{'s' * (seeds != 1)}" if seeds is not None else "") + "."
    if non_default:
        changed = ", ".join(f"`{name}` = `{_flow(value)}`" for name, value in non_default.items())
        head += f" Changed from the profile's defaults: {changed}."
    else:
        head += " Every other parameter as the profile sets it."
    command = ["python", "-m", "snnlib", "run", experiment, "--profile", profile]
    for name, value in non_default.items():
        command += ["-p", name, _flow(value)]
    return ("```{admonition} This chapter ran with\n:class: note\n"
            f"{head} Rerun it with `{shlex.join(command)}`.\n```")


def _is_noise(line: str) -> bool:
    return bool(_PROGRESS.search(line) or _WARNING.search(line))


def clean_stderr(text: str) -> str:
    """``text`` without progress-bar lines, kernel warnings and their indented source lines.

    Carriage returns split lines as newlines do (each redraw of a bar is a line of its own).
    """
    kept, in_warning = [], False
    for line in re.split(r"\r\n|\r|\n", text):
        if _WARNING.search(line):
            in_warning = True
            continue
        if in_warning and line[:1].isspace() and line.strip():  # the warning's source line
            continue
        in_warning = False
        if not _is_noise(line):
            kept.append(line)
    cleaned = "\n".join(kept)
    return cleaned if cleaned.strip() else ""


def _clean_outputs(outputs: list) -> list:
    merged = []  # adjacent stderr streams joined first: a warning may arrive in two pieces
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr" and merged \
                and merged[-1].get("output_type") == "stream" and merged[-1].get("name") == "stderr":
            merged[-1]["text"] += output["text"]
        else:
            merged.append(output)
    kept = []
    for output in merged:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            output["text"] = clean_stderr(output["text"])
            if not output["text"]:
                continue
        kept.append(output)
    return kept


def clean_executed(path: str | Path, profile: str, seeds: int | None = None, non_default: dict | None = None,
                   experiment: str | None = None) -> Path:
    """Clean the executed notebook at ``path`` in place (see the module docstring); return its path.

    Args:
        path: an executed notebook.
        profile: the profile it ran with.
        seeds: seeds per configuration, or ``None`` where the chapter has none (a summary).
        non_default: parameters whose values differ from the profile's defaults, name -> value.
        experiment: named in the rerun command (default: the file's stem, ``EXPERIMENT.ipynb``).
    """
    path = Path(path)
    if not isinstance(profile, str) or not profile:
        raise ValueError(f"profile must be a profile name (a non-empty string), got {profile!r}")
    if seeds is not None:
        if not isinstance(seeds, Integral):
            raise ValueError(f"seeds must be an integer >= 1 or None, got {seeds!r}")
        check_int("seeds", seeds)
    non_default = {} if non_default is None else non_default
    if not isinstance(non_default, dict):
        raise ValueError(f"non_default must be a dict of parameter name -> value, got {type(non_default).__name__}")
    if not path.is_file():
        raise FileNotFoundError(f"no executed notebook at {path}")

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if NOTE_TAG not in c.metadata.get("tags", [])]
    for cell in cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(t in tags for t in HIDDEN_TAGS) and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code":
            cell.outputs = _clean_outputs(cell.outputs)
    note = nbformat.v4.new_markdown_cell(run_note(experiment or path.stem, profile, seeds, non_default))
    note.metadata["tags"] = [NOTE_TAG]
    note["id"] = NOTE_TAG  # a fixed id: cleaning again gives the same file
    title = 1 if cells and cells[0].cell_type == "markdown" and cells[0].source.lstrip().startswith("# ") else 0
    cells.insert(title, note)
    nb.cells = cells
    nbformat.write(nb, path)
    return path
