"""The book and the notebooks agree with the library: variant table, table of contents, parameters."""

import re

import nbformat
import pytest
import yaml

from snnlib.study import config
from snnlib.paths import BOOK, NOTEBOOKS
from snnlib.model.variants import Variant

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


def test_intro_variant_table_matches_the_library():
    rows = re.findall(r"^\| (yes|no) \| (hard|soft|none) \| (yes|no) \| `([^`]+)`", (BOOK / "intro.md").read_text(), re.M)
    table = {name: Variant("LIF" if leak == "yes" else "IF", reset, rec == "yes") for leak, reset, rec, name in rows}
    assert sorted(table) == sorted(Variant.names())
    assert all(Variant.parse(name) == variant for name, variant in table.items())


def test_every_notebook_is_a_chapter_and_an_experiment():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    assert {f"executed/{nb.stem}" for nb in NOTEBOOK_FILES} <= files
    assert [nb.stem for nb in NOTEBOOK_FILES] == list(config.EXPERIMENTS)


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_the_parameters_cell_is_derived_from_the_declaration(notebook):
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    assert cells[0].source == config.parameters_cell(notebook.stem)
    names = re.findall(r"^(\w+)\s*=", cells[0].source, re.M)
    assert names == list(config.experiment_class(notebook.stem).model_fields)


def test_no_file_refers_outside_the_repository():
    from snnlib.paths import ROOT

    tracked = [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts
               and "_build" not in p.parts and "results" not in p.parts and p.suffix in (".py", ".md", ".ipynb",
                                                                                       ".yml", ".toml", ".cfg")]
    needles = ("../" + "shared", "DESIGN" + ".md")  # spelled apart so that this file does not match itself
    offenders = [str(p) for p in tracked if any(n in p.read_text(errors="ignore") for n in needles)]
    assert offenders == []


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter_with_its_help(notebook):
    import papermill

    inspected = papermill.inspect_notebook(str(notebook))
    fields = config.experiment_class(notebook.stem).model_fields
    assert list(inspected) == list(fields)
    assert all(inspected[k]["help"] == (f.description or "") for k, f in fields.items())
