"""The book and the notebooks agree with the library: variant table, table of contents, parameters."""

import re

import nbformat
import pytest
import yaml

from snnlib.study import profiles
from snnlib.paths import BOOK, NOTEBOOKS
from snnlib.model.variants import Variant

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


def test_intro_variant_table_matches_the_library():
    rows = re.findall(r"^\| (yes|no) \| (hard|soft|none) \| (yes|no) \| `([^`]+)`", (BOOK / "intro.md").read_text(), re.M)
    table = {name: Variant(leak == "yes", reset, rec == "yes") for leak, reset, rec, name in rows}
    assert sorted(table) == sorted(Variant.names())
    assert all(Variant.parse(name) == variant for name, variant in table.items())


def test_every_notebook_is_a_chapter_and_an_experiment():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    assert {f"executed/{nb.stem}" for nb in NOTEBOOK_FILES} <= files
    assert [nb.stem for nb in NOTEBOOK_FILES] == list(profiles.EXPERIMENTS)


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_parameters_cell_names_the_profile_parameters(notebook):
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = re.findall(r"^(\w+)\s*=", cells[0].source, re.M)
    assert names[0] == "profile"
    if notebook.stem in ("05_summary", "06_reproducibility"):
        return  # they summarize other experiments' records
    assert set(names[1:]) == set(profiles.defaults(notebook.stem, "quick"))
