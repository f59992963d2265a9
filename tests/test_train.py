import pytest
import torch

from snnlib.study import experiment
from snnlib.measure import train
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
    (dict(decay=1.2), r"run parameter 'decay': must be less than or equal to 1"),
    (dict(task_params=dict(delay=-1)), "delay must be an integer >= 0"),
    (dict(task_params=dict(dealy=3)), "task 'delayed-recall' has no parameter 'dealy'"),
    (dict(epochs=0), "run parameter 'epochs': must be greater than or equal to 1"),
    (dict(lr=0), "run parameter 'lr': must be greater than 0"),
    (dict(seed=-1), "run parameter 'seed': must be greater than or equal to 0"),
    (dict(hidden=[]), "run parameter 'hidden'"),
    (dict(device="tpu"), "device'?:? must be one of"),
    (dict(measures=["magic"]), "unknown measure"),
    (dict(optimizer="sgd"), "run parameter 'optimizer'"),
])
def test_bad_run_parameters_fail_before_training(change, match, monkeypatch):
    monkeypatch.setattr(train, "fit_members", lambda *a, **k: pytest.fail("trained despite bad parameters"))
    with pytest.raises(ValueError, match=match):
        experiment.run({**TINY, **change})


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            TrainConfig(device="cuda")


@pytest.mark.parametrize("kwargs,match", [
    (dict(epochs=0), "epochs must be an integer >= 1"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(lr=0), "lr must be a number > 0"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(rate_reg=-0.1), "rate_reg must be a number >= 0"),
    (dict(rate_reg="x"), "rate_reg must be a number >= 0"),
    (dict(device="tpu"), "device must be one of"),
])
def test_bad_train_config_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_bench_table_and_text(monkeypatch):
    from snnlib.measure import bench

    monkeypatch.setattr(bench, "SHAPE", dict(n_inputs=4, hidden=8, n_outputs=3, steps=5, batch=6))
    monkeypatch.setattr(bench, "STUDY_SHAPE", dict(n_inputs=3, hidden=5, n_outputs=2, steps=4, batch=7, layers=1))
    table = bench.run_bench(threads=1, repeats=1, ensemble_sizes=(1, 2))
    names = list(table.name)
    assert names[:8] == ["ANN floor", "snnlib LIF", "snnlib RLIF", "snnlib LIF (hooks)", "SpikingJelly LIFNode",
                         "snnTorch Leaky", "snnTorch RLeaky", "W_rec products alone"]
    assert names[8:] == ["snnlib LIF x1", "snnlib LIF x2"] * 2
    assert list(table.kind[8:]) == ["ensemble"] * 2 + ["ensemble-study"] * 2
    assert (table.ms_per_step > 0).all()
    assert table.ratio_to_ann[0] == 1.0 and table.speedup.iloc[8] == 1.0 and table.speedup.iloc[10] == 1.0
    assert table.attrs["arithmetic_bound"] == table.ms_per_step[1] / table.ms_per_step[0]
    ms = dict(zip(table.name, table.ms_per_step))
    assert table.attrs["recurrent_floor"] == (ms["snnlib LIF"] + ms["W_rec products alone"]) / ms["ANN floor"]
    text = bench.format_bench(table)
    assert "ANN floor" in text and "snnlib LIF x2" in text and "T=5, B=6" in text
    assert "arithmetic bound" in text and "3→5→2, T=4, B=7" in text and "RLIF floor" in text


def test_bench_command_line(capsys, monkeypatch):
    from snnlib.measure import bench

    monkeypatch.setattr(bench, "run_bench", lambda **kw: pytest.fail("ran despite bad options"))
    with pytest.raises(SystemExit):
        bench.main(["--threads", "x"])
    monkeypatch.setattr(bench, "run_bench", lambda **kw: (_ for _ in ()).throw(ValueError("threads must be an integer >= 1, got 0")))
    with pytest.raises(SystemExit):
        bench.main(["--threads", "0"])
    assert "threads must be an integer >= 1" in capsys.readouterr().err
