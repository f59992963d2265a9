"""Tables of the study's specification, generated from the code for the book's methods page.

Imported only by the book (Sphinx autodoc reads this module's docstring, which is assembled at import
from the task builders and the experiment declarations), so the tables cannot drift from the code:

- :func:`tasks_table`: every task that needs no downloaded file (generated, or read from files bundled
  with an installed package) with its length, inputs, classes, splits, readout window, readout decay
  λ_o, encoding and input scale (:meth:`snnlib.data.base.TaskData.describe`);
- :func:`profiles_table`: the value of every experiment parameter under each profile
  (:mod:`snnlib.study.config`).
"""

from __future__ import annotations

from snnlib.study import config

#: the tasks built without downloaded files: generated, or (japanese-vowels) bundled with an installed package
GENERATED = ("digits", "seq-digits", "mnist1d", "japanese-vowels", "delayed-recall", "temporal-xor")


def _rst_table(header: list[str], rows: list[list[str]], title: str) -> str:
    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append("   * - " + str(row[0]))
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines)


def tasks_table() -> str:
    """An RST table of every task of :data:`GENERATED` at its default size (seed 0)."""
    from snnlib.data import get_task

    rows = []
    for name in GENERATED:
        d = get_task(name, seed=0).describe()
        scale = "spike flips" if d["input_scale"] is None else f"{d['input_scale']:.4g}"
        rows.append([f"``{name}``", d["T"], d["inputs"], d["classes"], f"{d['train']} / {d['val']} / {d['test']}",
                     d["readout"], f"{d['readout_decay']:g}", d["encoding"], scale])
    return _rst_table(["task", "T", "inputs", "classes", "train / val / test", "readout window", "λ_o", "encoding",
                       "input scale (threat)"], rows, "Tasks at their default sizes and their readouts")


def profiles_table(name: str) -> str:
    """An RST table of experiment ``name``'s parameters under each profile."""
    cls = config.experiment_class(name)
    rows = []
    for field, info in cls.model_fields.items():
        if field == "profile":
            continue
        values = [cls.resolve(p).model_dump()[field] for p in config.PROFILE_NAMES]
        rows.append([f"``{field}``", *[f"``{v}``" for v in values], info.description or ""])
    return _rst_table(["parameter", *config.PROFILE_NAMES, "meaning"], rows, f"{name}: parameters by profile")


__doc__ = __doc__ + "\n\n" + tasks_table() + "\n\n" + "\n\n".join(
    profiles_table(name) for name in config.chapters() if issubclass(config.experiment_class(name), config.Experiment))
