"""Scale-out: a real Dask cluster, two sweeps on one folder at once, and records that know their code."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from snnlib.paths import ROOT
from snnlib.study import records, sweep

TINY = dict(experiment="t", task="delayed-recall", task_params=dict(n_train=40, n_test=16, delay=1),
            variant="LIF", hidden=[4], epochs=1, device="cpu")
GRID = dict(TINY, variant=["LIF", "RLIF"], seed=[0, 1])


def test_a_sweep_on_a_local_dask_cluster_writes_every_record_on_the_client(tmp_path):
    distributed = pytest.importorskip("distributed")
    client_side = tmp_path / "client"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None) as cluster:
        frame = sweep.run_grid(GRID, scheduler=cluster.scheduler_address, directory=client_side, progress=False)
    assert len(frame) == 4 and frame["test_accuracy"].notna().all()
    assert len(records.load_all(client_side)) == 4
    alone = sweep.run_grid(GRID, directory=tmp_path / "alone", progress=False)
    assert sorted(frame["test_accuracy"]) == sorted(alone["test_accuracy"])  # the same numbers as here


def test_snnlib_run_with_a_scheduler_trains_on_the_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    env = {**os.environ, "SNNLIB_RESULTS": str(tmp_path / "results"), "SNNLIB_EXECUTED": str(tmp_path / "executed")}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None) as cluster:
        done = subprocess.run([sys.executable, "-m", "snnlib", "run", "03_reset", "--profile", "smoke", "--no-progress",
                               "--scheduler", cluster.scheduler_address], capture_output=True, text=True, env=env,
                              timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    written = records.load_all(tmp_path / "results" / "records")
    # the chapter judges its claims over the whole study's records, so the other chapters' runs are trained too
    assert written and "03_reset" in {r["experiment"] for r in written}


WORKER = textwrap.dedent("""
    import sys
    from snnlib.study import sweep
    grid = dict(experiment="t", task="delayed-recall", task_params=dict(n_train=40, n_test=16, delay=1),
                variant=["LIF", "IF", "LIF-noreset"], hidden=[4], epochs=2, device="cpu", seed=[0, 1, 2])
    sweep.run_grid(grid, directory=sys.argv[1], progress=False, group_size=1)
""")


def test_two_sweeps_at_once_on_one_folder_leave_only_complete_records(tmp_path):
    folder = tmp_path / "records"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(folder)], stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    with _no_corrupt_warning():
        found = records.load_all(folder)
    assert len(found) == 9
    assert records.temporary_files(folder) == []


class _no_corrupt_warning:
    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self.caught = self._catch.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        assert not [w for w in self.caught if issubclass(w.category, records.CorruptRecordWarning)]


CHANGE_AND_SWEEP = textwrap.dedent("""
    import json, sys, warnings
    from snnlib import code_fingerprint
    from snnlib.study import records, sweep
    run = dict(experiment="t", task="delayed-recall", task_params=dict(n_train=40, n_test=16, delay=1),
               variant="LIF", hidden=[4], epochs=1, device="cpu", seed=0)
    reuse = sys.argv[2] == "reuse"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = sweep.run_grid(run, directory=sys.argv[1], progress=False, reuse_stale=reuse)
    print(json.dumps(dict(code=code_fingerprint(), record_code=frame["code"].iloc[0],
                          warned=[str(w.message) for w in caught if "stale" in str(w.message)])))
""")


def test_the_fingerprint_ignores_docstrings_comments_and_layout_not_statements():
    from snnlib.study.fingerprint import code_of

    source = (ROOT / "snnlib" / "model" / "fused.py").read_text()
    reworded = source.replace('"""The fused time loop', '"""A reworded docstring. The fused time loop', 1)
    reworded = reworded.replace("class _FusedLIF(", "# a new comment\n\n\nclass _FusedLIF(", 1)
    assert reworded != source and code_of(reworded) == code_of(source)
    changed = source.replace("CHUNK_ELEMENTS = 1 << 17", "CHUNK_ELEMENTS = 1 << 16", 1)
    assert changed != source and code_of(changed) != code_of(source)


def test_changing_the_neuron_code_makes_records_stale_and_they_are_retrained(tmp_path):
    package = tmp_path / "copy"
    shutil.copytree(ROOT / "snnlib", package / "snnlib", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(package)}
    folder = str(tmp_path / "records")

    def sweep_with_copy(mode):
        done = subprocess.run([sys.executable, "-c", CHANGE_AND_SWEEP, folder, mode], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        import json

        return json.loads(done.stdout.strip().splitlines()[-1])

    first = sweep_with_copy("retrain")
    assert first["record_code"] == first["code"]
    neuron = package / "snnlib" / "model" / "neurons.py"
    neuron.write_text(neuron.read_text() + "\nONE_CHANGED_LINE = 1\n")
    reused = sweep_with_copy("reuse")
    assert reused["code"] != first["code"] and reused["record_code"] == first["code"]
    assert reused["warned"] and "1 stale record" in reused["warned"][0]
    retrained = sweep_with_copy("retrain")
    assert retrained["record_code"] == retrained["code"] != first["code"]
    # the book, the command line and the figures are not part of the fingerprint
    cli = package / "snnlib" / "cli.py"
    cli.write_text(cli.read_text() + "\n# a comment\n")
    again = sweep_with_copy("retrain")
    assert again["code"] == retrained["code"]
