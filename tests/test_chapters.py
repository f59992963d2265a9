"""The registry of chapters: one declaration per chapter feeds the command line, the sweep and the Makefile."""

import re
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from snnlib import cli, paths
from snnlib.study import config, runs


@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry that a test may add to; the study's own is restored afterwards."""
    monkeypatch.setattr(config, "EXPERIMENTS", dict(config.EXPERIMENTS))
    return config.EXPERIMENTS


def a_new_chapter():
    """A chapter 10 declared the way a new chapter is: one registered class (here a copy of 01's runs)."""

    @config.register
    class Adaptation(config.Baseline):
        """10: a new chapter that trains."""

        name: ClassVar[str] = "10_adaptation"
        runs_function: ClassVar[str | None] = "snnlib.study.runs:baseline_runs"

    return Adaptation


def test_the_appendix_is_built_last_even_after_a_higher_number(registry, capsys):
    a_new_chapter()
    assert config.chapters() == ["01_dynamics_and_baseline", "02_leakage", "03_reset", "04_recurrence",
                                 "05_summary", "07_learned_and_adaptive", "08_recommendations", "09_scaling",
                                 "10_adaptation", "06_reproducibility"]
    assert config.chapters("appendix") == ["06_reproducibility"]
    assert cli.main(["chapters"]) == 0
    assert capsys.readouterr().out.split() == config.chapters()
    assert cli.main(["chapters", "--part", "body"]) == 0
    assert capsys.readouterr().out.split()[-1] == "10_adaptation"


def test_one_declaration_puts_a_chapter_in_the_sweep_and_the_command_line(registry, monkeypatch, capsys):
    a_new_chapter()
    assert "10_adaptation" in cli.runs_experiments() and "10_adaptation" in runs.RUNS
    from snnlib.study import lr_selection

    monkeypatch.setattr(lr_selection, "selects", lambda cfg: False)  # nothing is recorded to choose rates from
    cfg = config.resolve("10_adaptation", "smoke")
    built = runs.runs_of(cfg)
    assert built and {r["experiment"] for r in built} == {"10_adaptation"}
    trained = []

    def run_grid(every, **kwargs):  # stands in for training: records what `train all` would train
        import pandas as pd

        trained.extend(every)
        return pd.DataFrame(every)

    from snnlib.study import sweep

    monkeypatch.setattr(sweep, "run_grid", run_grid)
    assert cli.main(["train", "all", "--profile", "smoke", "--no-progress"]) == 0
    # every training chapter's runs are trained (the scaling chapter's and the summary's carry the names
    # of 02 - 04)
    borrowed = {"05_summary", "09_scaling"}
    assert {r["experiment"] for r in trained} == set(config.training_experiments()) - borrowed
    assert len(trained) > sum(len(runs.runs_of(config.resolve(n, "smoke"))) for n in config.training_experiments()
                              if n not in borrowed)
    assert "10_adaptation" in capsys.readouterr().err


def test_a_chapter_that_trains_nothing_says_so(registry):
    assert "08_recommendations" not in runs.RUNS and "06_reproducibility" not in cli.runs_experiments()
    with pytest.raises(ValueError, match="'08_recommendations' trains no runs of its own; the experiments that do"):
        config.runs_function("08_recommendations")


@pytest.mark.parametrize("attributes, words", [
    (dict(name="7_adaptation"), "name must be two digits"),
    (dict(name="02_leakage"), "'02_leakage' is already the name of Leakage"),
    (dict(name="07_x", appendix="yes"), "appendix must be True or False"),
    (dict(name="07_x", runs_function="baseline_runs"), "runs_function must be None (trains nothing) or 'module:"),
])
def test_a_bad_declaration_is_refused_with_its_attribute(registry, attributes, words):
    cls = type("Bad", (config.Baseline,), attributes)
    with pytest.raises(ValueError) as error:
        config.register(cls)
    assert words in str(error.value)
    assert list(config.EXPERIMENTS) == list(registry)  # nothing was added


def test_every_declared_runs_function_imports():
    for name in config.training_experiments():
        assert callable(config.runs_function(name)), name
    with pytest.raises(ValueError, match="part must be one of all, body, appendix"):
        config.chapters("middle")


def test_the_makefile_lists_no_chapter_and_asks_snnlib():
    makefile = (paths.ROOT / "Makefile").read_text()
    assert not re.search(r"\b[0-9]{2}_[a-z]", makefile), "a chapter name is written in the Makefile"
    assert "wildcard notebooks" not in makefile
    assert "-m snnlib chapters" in makefile


def test_make_expands_the_chapters_in_build_order():
    """``make -n`` prints the recipes with the chapters snnlib names: the body side by side, the appendix last."""
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(["make", "-n", "-C", str(paths.ROOT), "experiments", "nbval", "PROFILE=smoke",
                           f"BIN={bin_dir}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    body = next(line for line in lines if line.startswith("printf"))
    assert body.split("'%s\\n' ")[1].split(" |")[0].split() == config.chapters("body")
    appendix = next(line for line in lines if line.startswith("for nb in") and "snnlib run" in line)
    assert appendix.split("for nb in ")[1].split(";")[0].split() == config.chapters("appendix")
    assert lines.index(appendix) > lines.index(body)
    nbval = next(line for line in lines if line.startswith("for nb in") and "snnlib run" not in line)
    assert nbval.split("for nb in ")[1].split(";")[0].split() == config.chapters()
