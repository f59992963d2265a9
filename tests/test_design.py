"""The designs without confounds: memory only in the spiking layer, choices made on validation data."""

import dataclasses

import pytest
import torch

import snnlib
from snnlib.measure.train import TrainConfig, fit_members, seed_everything
from snnlib.model.models import build_snn


def test_memory_lives_in_the_spiking_layer():
    """With the memoryless readout, LIF at λ = 0 cannot carry the cue across a delay; IF (λ = 1) can."""
    forgetful = snnlib.run(dict(task="delayed-recall", variant="LIF", decay=0.0, task_params=dict(delay=4)))
    assert abs(forgetful["test_accuracy"] - forgetful["chance"]) <= 0.05
    keeps = snnlib.run(dict(task="delayed-recall", variant="IF", task_params=dict(delay=4)))
    assert keeps["test_accuracy"] > 0.90


def test_every_run_records_its_validation_accuracy_and_chosen_epoch():
    metrics = snnlib.run(dict(task="delayed-recall", variant="LIF", hidden=[8], epochs=3,
                              task_params=dict(delay=1, n_train=80, n_test=20)))
    assert 0.0 <= metrics["val_accuracy"] <= 1.0
    assert metrics["best_epoch"] in range(3) and metrics["final_train_loss"] > 0


def _train(task, seed=0):
    seed_everything(seed)
    model = build_snn(task.n_inputs, [8], task.n_classes, "LIF", 0.5, readout_decay=task.readout_decay)
    (result,) = fit_members([model], [task], [TrainConfig(epochs=4, batch_size=16, lr=1e-2, seed=seed, device="cpu")])
    return model, result


def test_no_training_choice_reads_the_test_split():
    """Training on a task whose test split is replaced by noise chooses the same epoch and weights."""
    task = snnlib.get_task("delayed-recall", seed=0, delay=2, n_train=96, n_test=32)
    poisoned = dataclasses.replace(task, x_test=torch.rand_like(task.x_test) * 1e3, y_test=torch.zeros_like(task.y_test))
    model, result = _train(task)
    other, other_result = _train(poisoned)
    assert result["best_epoch"] == other_result["best_epoch"] and result["history"] == other_result["history"]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values()))


def test_the_validation_split_decides_the_epoch_kept():
    task = snnlib.get_task("delayed-recall", seed=0, delay=2, n_train=96, n_test=32)
    _, result = _train(task)
    best = max(range(len(result["history"])), key=lambda e: (result["history"][e]["val_accuracy"], -e))
    assert result["best_epoch"] == best
    assert result["val_accuracy"] == pytest.approx(result["history"][best]["val_accuracy"])
