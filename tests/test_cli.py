"""The command line: fast, clear errors before anything runs; papermill execution; results; clean."""

import io
import os
import re
import subprocess
import sys
import time
import tomllib

import nbformat
import pandas as pd
import pytest

from snnlib import cli

from snnlib import paths

from snnlib.study import records
from snnlib.study import config
from snnlib.study.config import EXPERIMENTS

EXPERIMENT = "01_dynamics_and_baseline"
BODY = '''if seeds == 7:
    raise RuntimeError("the notebook failed on purpose")
print(f"RESULT profile={profile} seeds={seeds!r} variants={variants!r} delay={delay!r}")
'''


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    """Tiny stand-ins for the experiment notebooks, with the declared ``parameters`` cell."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in EXPERIMENTS:
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"},
                                                "language_info": {"name": "python"}})
        nb.cells = [nbformat.v4.new_markdown_cell("# fixture"),
                    nbformat.v4.new_code_cell(config.parameters_cell(name), metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(BODY if name == EXPERIMENT else "print('ok')")]
        nbformat.write(nb, folder / f"{name}.ipynb")
    monkeypatch.setenv("SNNLIB_NOTEBOOKS", str(folder))
    return folder


def snnlib(*args, timeout=120):
    """``python -m snnlib ARGS`` in a subprocess (the environment of the test, fixtures included)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "snnlib", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())
    return done, time.perf_counter() - start


def main(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_console_script_is_declared():
    scripts = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["snnlib"] == "snnlib.cli:main"


def test_help_names_every_command():
    done, _ = snnlib("--help")
    assert done.returncode == 0
    for command in ("list", "run", "train", "plan", "claims", "bench", "results", "clean", "chapters", "export"):
        assert command in done.stdout
    done, _ = snnlib("run", "--help")
    assert done.returncode == 0 and "-p NAME VALUE" in done.stdout and "--profile {smoke,quick,full}" in done.stdout


@pytest.mark.parametrize("text, value", [("2", 2), ("0.5", 0.5), ("1e-3", 0.001), ("cpu", "cpu"),
                                         ("[LIF, IF]", ["LIF", "IF"]), ("{digits: 2}", {"digits": 2}),
                                         ("null", None), ("true", True), ("cuda:1", "cuda:1")])
def test_values_are_parsed_as_yaml(text, value):
    assert cli.parse_value(text) == value


BAD = [
    (["run", "nope"], ["unknown experiment 'nope'", EXPERIMENT]),
    (["run", EXPERIMENT, "--profile", "huge"], ["--profile", "'huge'", "smoke", "quick", "full"]),
    (["run", EXPERIMENT, "-p", "colour", "red"], ["no parameter 'colour'", "seeds", "delay"]),
    (["run", EXPERIMENT, "-p", "seeds", "0"], ["parameter 'seeds'", "greater than or equal to 1", "got 0"]),
    (["run", EXPERIMENT, "-p", "variants", "[LIF, LIFF]"], ["unknown variant 'LIFF'", "RLIF"]),
    (["run", EXPERIMENT, "-p", "tasks", "[mnist-3d]"], ["parameter 'tasks.0'", "'delayed-recall'", "got 'mnist-3d'"]),
    (["run", EXPERIMENT, "-p", "delay", "-1"], ["parameter 'delay'", "greater than or equal to 0", "got -1"]),
    (["run", EXPERIMENT, "-p", "decay", "1.5"], ["parameter 'decay'", "less than or equal to 1", "1.5"]),
    (["run", EXPERIMENT, "-p", "device", "gpu"], ["parameter 'device'", "'cuda:N'", "got 'gpu'"]),
    (["run", EXPERIMENT, "--scheduler", "localhost"], ["parameter 'scheduler'", "tcp://"]),
    # rules that link two parameters
    (["run", EXPERIMENT, "-p", "tasks", "[digits, seq-digits]"], ["epochs gives no value for task 'seq-digits'"]),
    (["run", "02_leakage", "--profile", "smoke", "-p", "robust_delay", "3"],
     ["parameter 'robust_delay' must be one of delays [0, 4], got 3"]),
    (["run", "03_reset", "-p", "stream_task", "mnist1d"], ["parameter 'stream_task' must be one of tasks"]),
    (["run", "03_reset", "-p", "train_stream_length", "1"], ["'train_stream_length' must be 0", "or >= 2"]),
    (["run", EXPERIMENT, "-p", "seeds", "[1"], ["parameter 'seeds'", "YAML"]),
    (["run", EXPERIMENT, "-p", "profile", "smoke"], ["--profile"]),
    (["results", "--experiment", "nope"], ["no records of experiment 'nope'", EXPERIMENT]),
    (["results", "--format", "html"], ["'html'", "markdown", "csv"]),
]


@pytest.mark.parametrize("args, words", BAD, ids=[" ".join(a[:1] + a[2:]) for a, _ in BAD])
def test_a_bad_parameter_stops_fast_with_its_name(notebooks, args, words):
    done, seconds = snnlib(*args)
    assert done.returncode != 0
    for word in words:
        assert word in done.stderr, done.stderr
    assert seconds < 2.0, f"{seconds:.2f} s"
    assert not paths.executed_dir().exists()  # nothing was executed


def test_checking_parameters_does_not_import_torch(notebooks):
    code = ("import sys, time; t = time.perf_counter(); from snnlib import cli; "
            "rc = cli.main(['run', '01_dynamics_and_baseline', '-p', 'seeds', '0']); "
            "assert rc == 2, rc; heavy = {'torch', 'pandas', 'spikingjelly'} & set(sys.modules); "
            "assert not heavy, heavy; print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 1.5


def test_list_shows_the_declared_parameters_and_profiles(notebooks, capsys):
    code, out, _ = main(capsys, "list", EXPERIMENT)
    assert code == 0
    lines = out.splitlines()
    header = lines[1].split()
    assert header == ["parameter", "smoke", "quick", "full", "help"]
    rows = {cells[0]: cells for cells in (re.split(r"\s{2,}", line.strip()) for line in lines[3:]) if cells[0]}
    cls = config.experiment_class(EXPERIMENT)
    seeds = [cls.defaults(p)["seeds"] for p in ("smoke", "quick", "full")]
    assert rows["seeds"][:4] == ["seeds", *map(str, seeds)]
    assert rows["seeds"][4].startswith("number of seeds per configuration")
    assert rows["profile"][:4] == ["profile", "smoke", "quick", "full"]
    assert set(rows) - {"run one with: python -m snnlib run EXPERIMENT [--profile PROFILE] [-p NAME VALUE ...]"} \
        == set(cls.model_fields)
    code, out, _ = main(capsys, "list")
    assert code == 0 and all(e in out for e in EXPERIMENTS)


def test_run_executes_the_notebook_and_replaces_it_only_on_success(notebooks):
    target = paths.executed_dir() / f"{EXPERIMENT}.ipynb"
    done, _ = snnlib("run", EXPERIMENT, "--profile", "smoke", "-p", "seeds", "3", "-p", "variants", "[LIF, IF]",
                     "--no-progress")
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    assert "RESULT profile=smoke seeds=3 variants=['LIF', 'IF'] delay=None" in text
    assert "This chapter ran with" in text  # the compact box replaces the raw parameters cells
    assert sorted(p.name for p in paths.executed_dir().iterdir()) == [target.name]  # no temporary file left

    done, _ = snnlib("run", EXPERIMENT, "-p", "seeds", "7", "--no-progress")
    assert done.returncode == 1
    assert "failed" in done.stderr and "on purpose" in done.stderr
    assert target.read_text() == text  # the previous executed notebook is untouched
    failed = paths.executed_dir() / "failed" / f"{EXPERIMENT}.ipynb"
    assert "on purpose" in failed.read_text()
    assert sorted(p.name for p in paths.executed_dir().glob("*.ipynb")) == [target.name]  # no stray chapter
    assert [p.name for p in paths.executed_dir().iterdir() if p.is_file()] == [target.name]


@pytest.fixture
def some_records():
    base = dict(task="delayed-recall", task_params=dict(n_train=64, n_test=32, delay=2), variant="LIF",
                hidden=[8], epochs=1, device="cpu")
    made = []
    for experiment, seed in [("t", 0), ("t", 1), ("u", 0)]:
        params = records.canonical(dict(base, experiment=experiment, seed=seed))
        record = records.make(params, dict(test_accuracy=0.25 + seed / 8, firing_rates=[0.5]), 0.1, "cpu")
        records.save(record)
        made.append(record)
    return made


def test_results_as_csv(some_records, capsys):
    code, out, _ = main(capsys, "results", "--experiment", "t", "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == 2 and set(table["experiment"]) == {"t"}
    assert sorted(table["test_accuracy"]) == [0.25, 0.375] and sorted(table["seed"]) == [0, 1]
    assert {"key", "seed", "variant", "task_params.delay", "firing_rates", "wall_seconds"} <= set(table.columns)
    code, out, _ = main(capsys, "results", "--format", "csv", "--columns", "experiment,seed,test_accuracy")
    assert code == 0 and out.splitlines()[0] == "experiment,seed,test_accuracy" and len(out.splitlines()) == 4


def test_results_as_markdown(some_records, capsys):
    code, out, _ = main(capsys, "results", "--columns", "experiment,seed,test_accuracy,firing_rates")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "| experiment | seed | test_accuracy | firing_rates |"
    assert lines[1] == "|---|---|---|---|"
    assert len(lines) == 5 and "| t | 1 | 0.375 | [0.5] |" in lines
    code, _, err = main(capsys, "results", "--columns", "nope")
    assert code == 2 and "no column 'nope'" in err


def test_results_without_records(capsys):
    code, out, err = main(capsys, "results")
    assert code == 0 and out == "" and "no records" in err


def test_clean_removes_what_it_says(some_records, capsys):
    executed = paths.executed_dir()
    executed.mkdir(parents=True)
    (executed / f"{EXPERIMENT}.ipynb").write_text("{}")
    (executed / "failed").mkdir()
    (executed / "failed" / f"{EXPERIMENT}.ipynb").write_text("{}")
    code, out, _ = main(capsys, "clean", "--records", "--experiment", "u")
    assert code == 0 and out.count("removed") == 1 and len(records.load_all()) == 2
    code, out, _ = main(capsys, "clean", "--executed")
    assert code == 0 and f"removed {executed / f'{EXPERIMENT}.ipynb'}" in out and len(records.load_all()) == 2
    assert out.count("removed") == 2 and list(executed.rglob("*.ipynb")) == []
    (paths.records_dir() / ".abc.tmp").write_text("{")
    code, out, _ = main(capsys, "clean")
    assert code == 0 and out.count("removed") == 3 and records.load_all() == []
    assert list(paths.records_dir().iterdir()) == []
    code, out, _ = main(capsys, "clean")
    assert code == 0 and out.strip() == "nothing to remove"


def test_results_reports_a_corrupt_record_and_goes_on(some_records, capsys):
    file = records.path(some_records[0]["key"])
    file.write_text(file.read_text()[:100])
    code, out, err = main(capsys, "results", "--format", "csv")
    assert code == 0 and len(pd.read_csv(io.StringIO(out))) == 2
    assert f"warning: ignoring record {file}" in err


def test_train_records_the_runs_a_notebook_then_reuses(capsys, monkeypatch):
    from snnlib.study import config, records, runs, sweep

    from snnlib.study import lr_selection

    code, _, err = main(capsys, "train", "01_dynamics_and_baseline", "--profile", "smoke", "--no-progress")
    cfg = config.resolve("01_dynamics_and_baseline", "smoke")
    planned = sweep.plan(runs.runs_of(cfg))
    assert code == 0 and f"done: {len(planned)} runs of 01_dynamics_and_baseline" in err
    # the learning-rate selection's runs, and the runs at the chosen rates (those of the selection's seeds
    # at the chosen rate are the same records)
    selection = {records.canonical_key(p) for p in sweep.plan(lr_selection.selection_runs(cfg))}
    assert len(records.load_all()) == len(selection | {records.canonical_key(p) for p in planned}) > len(planned)
    monkeypatch.setattr(sweep, "groups", lambda *a, **k: pytest.fail("trained a recorded run again"))
    frame = sweep.run_grid(runs.runs_of(config.resolve("01_dynamics_and_baseline", "smoke")), progress=False)
    assert len(frame) == len(planned)


@pytest.mark.parametrize("experiment, words", [("08_recommendations", "trains no runs of its own"), ("nope", "nope")])
def test_train_refuses_what_it_cannot_train(capsys, experiment, words):
    code, _, err = main(capsys, "train", experiment)
    assert code == 2 and words in err
