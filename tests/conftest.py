import pytest
import torch

# Two cores are shared by everything in CI; one thread keeps test timings stable.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def isolated_results(tmp_path, monkeypatch):
    """Every test writes records and executed notebooks under its own temporary folder."""
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("SNNLIB_EXECUTED", str(tmp_path / "executed"))
