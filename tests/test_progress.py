"""Progress bars on the terminal, never in a notebook: plain lines when not interactive; papermill check."""

import io
import subprocess
import sys

import nbformat
import pytest

from snnlib.study.progress import LineBar, terminal_bar


def _lines(total, updates, **kw):
    out = io.StringIO()
    bar = terminal_bar(total, "runs", file=out, **kw)
    for _ in range(updates):
        bar.update()
    bar.close()
    return out.getvalue()


def test_not_interactive_writes_a_line_per_tenth_without_carriage_returns():
    text = _lines(20, 20, reused=3)
    assert "\r" not in text
    lines = text.splitlines()
    assert [line.split(" [")[0] for line in lines] == [f"runs: {n}/20 ({5 * n}%)" for n in range(0, 21, 2)]
    assert all(line.endswith(", reused=3]") for line in lines)
    assert "<" in lines[-1]  # elapsed<remaining


def test_a_bar_stopped_early_says_where_once():
    lines = _lines(7, 3).splitlines()
    assert [line.split(" [")[0] for line in lines] == ["runs: 0/7 (0%)", "runs: 1/7 (14%)", "runs: 2/7 (29%)",
                                                       "runs: 3/7 (43%)"]


def test_initial_counts_as_done_and_disable_writes_nothing():
    assert _lines(30, 0, initial=4).splitlines() == ["runs: 4/30 (13%) [00:00<?]"]
    assert _lines(10, 10, disable=True) == ""


def test_an_interactive_terminal_gets_tqdms_bar(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(out, "isatty", lambda: True, raising=False)
    bar = terminal_bar(4, "runs", file=out, reused=1)
    assert not isinstance(bar, LineBar)
    bar.update(4)
    bar.close()
    assert "\r" in out.getvalue() and "4/4" in out.getvalue() and "reused=1" in out.getvalue()


@pytest.mark.parametrize("kw, message", [(dict(total=-1), "total must be an integer >= 0"),
                                         (dict(total=2, initial=3), "initial must be at most total"),
                                         (dict(total=2.5), "total must be an integer")])
def test_bad_arguments_name_the_parameter(kw, message):
    with pytest.raises(ValueError, match=message):
        terminal_bar(desc="runs", file=io.StringIO(), **kw)


def test_a_notebook_run_by_papermill_keeps_the_bar_out_of_its_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from snnlib.study.progress import terminal_bar\n"
        "bar = terminal_bar(5, 'runs', reused=2)\n"
        "for _ in range(5):\n    bar.update()\n"
        "bar.close()\nprint('finished')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    done = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", str(tmp_path / "in.ipynb"),
                           str(tmp_path / "out.ipynb")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    outputs = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs
    assert [(o.output_type, o.get("name"), o.get("text")) for o in outputs] == [("stream", "stdout", "finished\n")]
    assert "runs: 5/5 (100%)" in done.stderr  # it went to the terminal (here: papermill's stderr)
