import pytest
import torch

from snnlib.study import experiment
from snnlib.measure.train import TrainConfig, resolve_device

TINY = dict(experiment="test", task="delayed-recall", task_params=dict(n_train=96, n_test=48, delay=2),
            variant="LIF", hidden=[16], epochs=2, batch_size=32, seed=3, device="cpu")


def test_tiny_training_is_deterministic():
    a, b = experiment.run(TINY), experiment.run(TINY)
    for key in ("test_accuracy", "train_accuracy", "test_loss", "firing_rates", "final_train_loss"):
        assert a[key] == b[key]


def test_different_seed_gives_different_run():
    a, b = experiment.run(TINY), experiment.run({**TINY, "seed": 4})
    assert (a["final_train_loss"], a["firing_rates"]) != (b["final_train_loss"], b["firing_rates"])


def test_training_learns_digits():
    metrics = experiment.run(dict(task="digits", variant="LIF", hidden=[64], epochs=3, device="cpu"))
    assert metrics["test_accuracy"] > 0.7 > metrics["chance"]
    assert 0 < metrics["firing_rates"][0] < 1
    assert metrics["gap"] == pytest.approx(metrics["train_accuracy"] - metrics["test_accuracy"])


@pytest.mark.parametrize("change,match", [
    (dict(task="cifar"), "unknown task 'cifar'; valid tasks are: digits"),
    (dict(variant="LIFX"), "unknown variant"),
    (dict(decay=1.2), r"decay must be a number in \[0, 1\]"),
    (dict(task_params=dict(delay=-1)), "delay must be an integer >= 0"),
    (dict(task_params=dict(dealy=3)), "task 'delayed-recall' has no parameter 'dealy'"),
    (dict(epochs=0), "epochs must be an integer >= 1"),
    (dict(lr=0), "lr must be a number > 0"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(hidden=[]), "hidden must be a non-empty list"),
    (dict(device="tpu"), "device must be one of"),
    (dict(measures=["magic"]), "unknown measure"),
    (dict(optimizer="sgd"), "unknown run parameter"),
])
def test_bad_run_parameters_fail_before_training(change, match, monkeypatch):
    monkeypatch.setattr(experiment, "fit", lambda *a, **k: pytest.fail("trained despite bad parameters"))
    with pytest.raises(ValueError, match=match):
        experiment.run({**TINY, **change})


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            TrainConfig(device="cuda")
