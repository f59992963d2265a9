"""clean_executed: hidden parameter cells, the run note after the title, no progress bars or kernel warnings."""

import nbformat
import pytest

from snnlib.study.render import NOTE_TAG, clean_executed, clean_stderr, run_note

BAR = "\rruns:   0%|          | 0/4 [00:00<?, ?run/s]\rruns: 100%|##########| 4/4 [00:01<00:00, 3.1run/s, reused=0]\n"
WARNING = "/x/torch/nn.py:12: UserWarning: something internal\n  warnings.warn(msg)\n"


def _executed(path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "quick"\nseeds = None')
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell('# Parameters\nprofile = "smoke"\ndelay = 8\n')
    injected.metadata["tags"] = ["injected-parameters"]
    work = nbformat.v4.new_code_cell("records = sweep.run_grid(runs)")
    work.outputs = [nbformat.v4.new_output("stream", name="stderr", text=BAR),
                    nbformat.v4.new_output("stream", name="stdout", text="profile smoke: 4 runs\n"),
                    nbformat.v4.new_output("stream", name="stderr", text=WARNING[:40]),
                    nbformat.v4.new_output("stream", name="stderr", text=WARNING[40:] + "real trouble\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="runs: 2/4 (50%) [00:01<00:01]\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Leakage\n\nIntro."), params, injected, work]
    nbformat.write(nb, path)
    return path


def test_parameters_cells_are_removed_from_the_book_and_the_note_follows_the_title(tmp_path):
    path = clean_executed(_executed(tmp_path / "02_leakage.ipynb"), "smoke", 2, {"delay": 8})
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source.startswith("# Leakage")
    assert cells[1].metadata["tags"] == [NOTE_TAG]
    assert cells[1].source == (
        "```{admonition} This chapter ran with\n:class: note\n"
        "Profile `smoke`, 2 seeds. Changed from the profile's defaults: `delay` = `8`. "
        "Rerun it with `python -m snnlib run 02_leakage --profile smoke -p delay 8`.\n```")
    assert cells[2].metadata["tags"] == ["parameters", "remove-cell"]
    assert cells[3].metadata["tags"] == ["injected-parameters", "remove-cell"]


def test_progress_bars_and_kernel_warnings_go_other_stderr_stays(tmp_path):
    path = clean_executed(_executed(tmp_path / "nb.ipynb"), "smoke", 2, {})
    outputs = nbformat.read(path, as_version=4).cells[-1].outputs
    assert [(o.name, o.text) for o in outputs] == [("stdout", "profile smoke: 4 runs\n"), ("stderr", "real trouble\n")]


def test_the_experiment_can_be_named_apart_from_the_file(tmp_path):
    path = clean_executed(_executed(tmp_path / ".03_reset.123.tmp.ipynb"), "quick", 3, {}, experiment="03_reset")
    assert "snnlib run 03_reset --profile quick`" in nbformat.read(path, as_version=4).cells[1].source


def test_cleaning_twice_gives_the_same_notebook(tmp_path):
    path = clean_executed(_executed(tmp_path / "nb.ipynb"), "quick", 5, {"variants": ["LIF", "IF"]})
    once = path.read_text()
    clean_executed(path, "quick", 5, {"variants": ["LIF", "IF"]})
    assert path.read_text() == once


def test_the_note_without_seeds_or_changes_and_with_lists():
    assert "Profile `quick`. Every other parameter as the profile sets it." in run_note("05_summary", "quick", None, {})
    note = run_note("01_x", "full", 1, {"variants": ["LIF", "IF"], "task_params": {"digits": 2}})
    assert "1 seed." in note and "`variants` = `[LIF, IF]`" in note and "`task_params` = `{digits: 2}`" in note
    assert "-p variants '[LIF, IF]' -p task_params '{digits: 2}'" in note


def test_clean_stderr_keeps_errors_and_drops_noise():
    assert clean_stderr(BAR + WARNING) == ""
    assert clean_stderr("[IPKernelApp] WARNING | Kernel is running over TCP\nValueError: bad\n") == "ValueError: bad\n"


@pytest.mark.parametrize("args, message", [(("", 2, {}), "profile must be a profile name"),
                                           (("quick", 0, {}), "seeds must be an integer >= 1"),
                                           (("quick", "2", {}), "seeds must be an integer"),
                                           (("quick", 2, ["delay"]), "non_default must be a dict")])
def test_bad_arguments_name_the_parameter(tmp_path, args, message):
    with pytest.raises(ValueError, match=message):
        clean_executed(_executed(tmp_path / "nb.ipynb"), *args)


def test_a_missing_notebook_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="no executed notebook"):
        clean_executed(tmp_path / "none.ipynb", "quick", 2, {})
