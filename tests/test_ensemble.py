"""Ensembles: stacking and unstacking, training members together, and results that do not depend on
the group a member was trained in (bit for bit on the CPU)."""

from types import SimpleNamespace

import pytest
import torch

from snnlib.measure.train import TrainConfig, fit, fit_members, seed_everything
from snnlib.model.ensemble import EnsembleSNN, group_limit
from snnlib.model.models import build_snn

T, N, F, C = 8, 40, 5, 3


def make_task(seed, val=True, streams=0):
    """A small random task; ``streams=K`` makes ``[N, K]`` labels read out over K windows."""
    gen = torch.Generator().manual_seed(100 + seed)
    steps = T * max(streams, 1)
    x = torch.rand(steps, N, F, generator=gen) * 1.5
    y = torch.randint(0, C, (N, streams) if streams else (N,), generator=gen)
    readout = tuple(slice(k * T + T // 2, (k + 1) * T) for k in range(streams)) if streams else slice(T // 2, None)
    task = SimpleNamespace(x_train=x, y_train=y, readout=readout)
    if val:
        task.x_val, task.y_val = torch.rand(steps, 24, F, generator=gen) * 1.5, \
            torch.randint(0, C, (24, streams) if streams else (24,), generator=gen)
    return task


# (variant, decay, seed, rate_reg, has a validation split); feed-forward and recurrent groups
FF = [("LIF", 0.5, 1, 0.0, True), ("IF-soft", 0.9, 2, 0.5, False), ("LIF-noreset", 0.0, 3, 0.0, True),
      ("LIF-soft", 1.0, 4, 0.1, True), ("IF", 0.5, 5, 0.0, False)]
REC = [("RLIF", 0.5, 1, 0.0, True), ("RIF-soft", 0.9, 2, 0.5, False), ("RLIF-noreset", 0.0, 3, 0.0, True),
       ("RLIF-soft", 1.0, 4, 0.1, True), ("RIF", 0.5, 5, 0.0, False)]


def member(spec, hidden=(12, 10), epochs=2, patience=None):
    variant, decay, seed, rate_reg, val = spec
    seed_everything(seed)
    model = build_snn(F, list(hidden), C, variant, decay=decay, readout_decay=0.3 * (seed % 3))
    config = TrainConfig(epochs=epochs, batch_size=16, lr=5e-3, seed=seed, device="cpu", rate_reg=rate_reg,
                         patience=patience)
    return model, make_task(seed, val=val), config


def train(specs, **kwargs):
    models, tasks, configs = zip(*(member(s, **kwargs) for s in specs))
    return list(models), fit_members(list(models), list(tasks), list(configs))


@pytest.mark.parametrize("specs", [FF, REC], ids=["feed-forward", "recurrent"])
def test_results_do_not_depend_on_the_group(specs):
    alone = {s: train([s]) for s in (specs[0], specs[3])}
    groups = [[specs[0], specs[1], specs[3]], [specs[4], specs[3], specs[2], specs[1], specs[0]]]
    for group in groups:
        models, results = train(group)
        for spec, model, result in zip(group, models, results):
            if spec not in alone:
                continue
            ref_model, ref_result = alone[spec][0][0], alone[spec][1][0]
            assert result == ref_result
            for (name, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters()):
                assert torch.equal(p, q), name


def test_members_learn_and_report_each_epoch():
    models, results = train(FF[:2], epochs=3)
    for spec, result in zip(FF[:2], results):
        assert [h["epoch"] for h in result["history"]] == [0, 1, 2]
        assert all(0 <= h["accuracy"] <= 1 and h["loss"] > 0 for h in result["history"])
        if spec[4]:  # with a validation split: the first epoch of best validation accuracy
            scores = [h["val_accuracy"] for h in result["history"]]
            assert result["best_epoch"] == scores.index(max(scores))
            assert result["val_accuracy"] == max(scores)
        else:
            assert result["best_epoch"] == 2 and result["val_accuracy"] is None
            assert all(h["val_accuracy"] is None for h in result["history"])
        assert result["final_train_loss"] == result["history"][result["best_epoch"]]["loss"]
    assert results[0]["history"][-1]["loss"] < results[0]["history"][0]["loss"]


def test_early_stopping_ends_each_member_at_its_own_plateau_whatever_its_group():
    specs = [s for s in FF if s[4]]  # members with a validation split
    alone = [train([s], epochs=12, patience=2)[1][0] for s in specs]
    _, group = train(specs, epochs=12, patience=2)
    assert group == alone
    for result in group:
        scores = [h["val_accuracy"] for h in result["history"]]
        assert result["epochs_trained"] == len(scores) <= 12
        if result["epochs_trained"] < 12:  # stopped: `patience` epochs without a better score
            assert len(scores) - 1 - result["best_epoch"] == 2 and max(scores[-2:]) <= max(scores[:-2])
        assert result["converged"] == (result["best_epoch"] < 11)
    assert any(r["epochs_trained"] < 12 for r in group), "no member reached a plateau: the test shows nothing"


@pytest.mark.parametrize("specs", [FF, REC], ids=["feed-forward", "recurrent"])
def test_stopped_members_leave_the_stack_and_the_others_go_on_unchanged(specs, monkeypatch):
    """A member that early stopping ends is dropped from the stack (with its Adam moments); every member's
    history and kept weights are still those it gets trained alone, bit for bit."""
    drops = []
    keep_members = EnsembleSNN.keep_members
    monkeypatch.setattr(EnsembleSNN, "keep_members",
                        lambda self, positions: (drops.append(list(positions)), keep_members(self, positions))[1])
    models, group = train(specs, epochs=12, patience=2)
    assert drops, "no member stopped early: the test shows nothing"
    assert all(len(later) < len(earlier) for earlier, later in zip([specs] + drops, drops))
    for spec, model, result in zip(specs, models, group):
        alone_models, alone = train([spec], epochs=12, patience=2)
        assert result == alone[0]
        for (name, p), (_, q) in zip(model.named_parameters(), alone_models[0].named_parameters()):
            assert torch.equal(p, q), name


def test_kept_weights_are_those_of_the_best_epoch():
    spec = FF[0]
    models, results = train([spec], epochs=4)
    best = results[0]["best_epoch"]
    again, _ = train([(*spec[:4], False)], epochs=best + 1)  # no validation: keeps the last epoch
    for p, q in zip(models[0].parameters(), again[0].parameters()):
        assert torch.equal(p, q)


def test_fit_is_an_ensemble_of_one():
    model, task, config = member(FF[0])
    twin = member(FF[0])[0]
    history = fit(model, task.x_train, task.y_train, task.readout, config)
    result = fit_members([twin], [SimpleNamespace(x_train=task.x_train, y_train=task.y_train, readout=task.readout)],
                         [config])[0]
    assert history == result["history"]
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))


def test_stack_and_unstack():
    models = [member(s)[0] for s in FF[:3]]
    ensemble = EnsembleSNN.from_members(models)
    assert ensemble.n_members == 3
    x = torch.rand(T, 3, 6, F) * 1.5
    windows = slice(2, None)
    logits = ensemble(x, windows)
    assert logits.shape == (3, 6, C)
    for m, model in enumerate(models):
        assert torch.allclose(logits[m], model(x[:, m], windows), atol=1e-5)
        assert torch.equal(ensemble.last_spikes[0][m], model.last_spikes[0].transpose(0, 1).transpose(0, 1))
    with torch.no_grad():
        for p in ensemble.parameters():
            p.add_(1.0)
    back = ensemble.unstack()
    for m, (old, new) in enumerate(zip(models, back)):
        assert new.variant == old.variant and new.readout.decay == old.readout.decay
        for (name, p), (_, q) in zip(old.named_parameters(), new.named_parameters()):
            assert torch.equal(q, p + 1.0), name


def test_stream_training_reads_every_segment():
    K = 3
    seed_everything(0)
    model = build_snn(F, [12], C, "LIF")
    task = make_task(0, streams=K)
    ensemble = EnsembleSNN.from_members([model])
    logits = ensemble.forward_members(task.x_train[:, :5].unsqueeze(0), [task.readout])
    assert logits.shape == (1, K, 5, C)
    assert torch.allclose(logits[0], model(task.x_train[:, :5], task.readout), atol=1e-5)
    result = fit_members([model], [task], [TrainConfig(epochs=2, batch_size=16, seed=0, device="cpu")])[0]
    assert all(0 <= h["accuracy"] <= 1 and 0 <= h["val_accuracy"] <= 1 for h in result["history"])


def test_rate_regularisation_lowers_firing():
    rates = []
    for rate_reg in (0.0, 20.0):
        seed_everything(0)
        model = build_snn(F, [12], C, "IF-noreset")
        task = make_task(0, val=False)
        fit_members([model], [task], [TrainConfig(epochs=3, batch_size=16, seed=0, device="cpu", rate_reg=rate_reg)])
        with torch.no_grad():
            model(task.x_train)
        rates.append(model.last_spikes[0].mean().item())
    assert rates[1] < rates[0]


@pytest.mark.parametrize("field,value", [("epochs", 3), ("batch_size", 8), ("lr", 1e-3)])
def test_configs_must_agree(field, value):
    (m1, t1, c1), (m2, t2, c2) = member(FF[0]), member(FF[1])
    c2 = TrainConfig(**{**c2.as_dict(), field: value})
    with pytest.raises(ValueError, match=f"all configs of one ensemble must agree on {field}"):
        fit_members([m1, m2], [t1, t2], [c1, c2])


def test_members_must_match():
    (m1, t1, c1), (m2, t2, c2) = member(FF[0]), member(REC[1])
    with pytest.raises(ValueError, match="ensemble members must agree on recurrence"):
        fit_members([m1, m2], [t1, t2], [c1, c2])
    m3 = member(FF[1], hidden=(12, 9))[0]
    with pytest.raises(ValueError, match="layer out_features"):
        EnsembleSNN.from_members([m1, m3])
    with pytest.raises(ValueError, match="models, tasks and configs must be non-empty lists of equal length"):
        fit_members([m1], [t1, t2], [c1])
    short = SimpleNamespace(x_train=t2.x_train[:, :20], y_train=t2.y_train[:20], readout=t2.readout)
    with pytest.raises(ValueError, match="x_train of one shape"):
        fit_members([m1, member(FF[1])[0]], [t1, short], [c1, c2])


def test_group_limit():
    assert group_limit(100) == 32
    assert group_limit(10**8) == 1  # 1.6 GB of parameter state per member: one at a time
    assert 1 <= group_limit(10**6) <= 32
    assert group_limit(100, "auto") >= 1
    with pytest.raises(ValueError, match="n_params_per_member must be an integer >= 1"):
        group_limit(0)
