"""The attack audit (snnlib.measure.audit): a battery of attacks, worst case per sample, sanity checks."""

import math

import pytest
import torch
from torch import nn

from snnlib.data.base import TaskData
from snnlib.measure import attacks
from snnlib.measure import audit as audit_mod
from snnlib.measure.audit import (attack_surrogate, audit, audit_curve, audit_curves, audit_members, normalised_auc,
                                  relative_robustness)
from snnlib.model.models import build_snn
from snnlib.model.neurons import StrictATan, VariantNode

torch.set_num_threads(1)
FAST = dict(steps=10, restarts=2, square_queries=60, random_draws=3, rounds=5)


def make_task(x, y, n_classes=2, encoding="current", readout=slice(None)):
    return TaskData("toy", x, y, x, y, n_classes, readout=readout, encoding=encoding)


class Linear(nn.Module):
    """Binary score ``s = Σ_{t,f} W_{tf} x_{tf} + b``; logits ``[0, s]`` (class 1 when s > 0)."""

    def __init__(self, n_steps=3, n_feat=4, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = nn.Parameter(torch.randn(n_steps, 1, n_feat, generator=g))
        self.b = nn.Parameter(-0.5 * self.w.detach().sum())  # s = 0 at x = 0.5: scores of both signs

    def score(self, x):
        return (x * self.w).sum(dim=(0, 2)) + self.b

    def forward(self, x, readout=slice(None)):
        s = self.score(x)
        return torch.stack([torch.zeros_like(s), s], dim=1)


class Step(nn.Module):
    """A masked model, zero gradient everywhere: class 1 when more than half of the entries exceed
    ``level`` (currents) or when there are more than ``level`` spikes (spikes)."""

    def __init__(self, level=0.5, spikes=False):
        super().__init__()
        self.level, self.spikes = level, spikes

    def forward(self, x, readout=slice(None)):
        if self.spikes:  # class 1 from more than `level` spikes on
            s = (x.sum(dim=(0, 2)) > self.level).float() - 0.5
        else:
            s = (x > self.level).float().mean(dim=(0, 2)) - 0.5
        return torch.stack([-s, s], dim=1)


@pytest.fixture(scope="module")
def linear_task():
    """Inputs in [0.3, 0.7] (the bounds [0, 1] never bind at ε ≤ 0.3), labels by the sign of the score."""
    model = Linear()
    x = 0.3 + 0.4 * torch.rand(3, 64, 4, generator=torch.Generator().manual_seed(1))
    x[:, 0] = 0.0  # one sample with bounds that bind
    with torch.no_grad():
        y = (model.score(x) > 0).long()
    return model, make_task(x, y)


def analytic_robust(model, task, eps):
    """A linear binary score loses exactly ε ||W||₁ in the L∞ ball (no bounds): robust iff |s| > ε ||W||₁."""
    with torch.no_grad():
        return (model.score(task.x_test).abs() > eps * model.w.abs().sum()).float().mean().item()


# --- PGD and Square on a linear model -------------------------------------------------------------
@pytest.mark.parametrize("loss", attacks.LOSSES)
def test_pgd_reaches_the_analytic_worst_case_of_a_linear_score(linear_task, loss):
    model, task = linear_task
    x, y = task.x_test[:, 1:], task.y_test[1:]  # inputs away from the bounds
    eps = 0.05
    adv = attacks.pgd(model, x, y, eps=eps, steps=50, random_start=True, restarts=2, loss=loss, bounds=(0.0, 1.0))
    sign = 2 * y.float() - 1  # the margin of the true class is sign · s
    with torch.no_grad():
        worst = sign * model.score(x) - eps * model.w.abs().sum()
        got = sign * model.score(adv)
    assert torch.allclose(got, worst, atol=1e-5)


def test_audit_of_a_linear_model_is_the_analytic_robust_accuracy(linear_task):
    model, task = linear_task
    task = make_task(task.x_test[:, 1:], task.y_test[1:])
    for eps in (0.01, 0.03):
        res = audit(model, task, eps=eps, bounds=(0.0, 1.0), **FAST)
        expected = analytic_robust(model, task, eps)
        assert 0.2 < expected < 0.9
        assert res["clean"] == 1.0 and res["accuracy"] == pytest.approx(expected)
        for name in ("pgd-train-ce", "pgd-train-margin", "pgd-wide-ce", "pgd-wide-margin"):
            assert res["per_attack"][name] == pytest.approx(expected)
        assert res["per_attack"]["square"] >= expected - 1e-9  # no attack beats the exact worst case


def test_square_finds_the_adversarial_examples_a_linear_model_has(linear_task):
    model, task = linear_task
    x, y = task.x_test[:, 1:], task.y_test[1:]
    eps = 0.05
    with torch.no_grad():
        easy = model.score(x).abs() < 0.5 * eps * model.w.abs().sum()  # known to be breakable with room
    assert easy.sum() >= 3
    adv = attacks.square(model, x, y, eps=eps, queries=200, seed=0, bounds=(0.0, 1.0))
    with torch.no_grad():
        fooled = model(adv).argmax(1) != y
    assert fooled[easy].all()
    assert (adv - x).abs().max() <= eps + 1e-6


def test_square_is_as_strong_as_arts_on_a_toy_model(linear_task):
    art_square = pytest.importorskip("art.attacks.evasion").SquareAttack
    classifier_cls = pytest.importorskip("art.estimators.classification").PyTorchClassifier
    import numpy as np

    model = Linear(8, 8, seed=2)  # ART's Square needs a window smaller than the image on both sides
    x = 0.3 + 0.4 * torch.rand(8, 48, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        y = (model.score(x) > 0).long()
    n_steps, n, n_feat = x.shape

    class AsImage(nn.Module):  # ART sees [N, 1, T, F]
        def forward(self, img):
            return model(img[:, 0].permute(1, 0, 2))

    clf = classifier_cls(AsImage(), loss=nn.CrossEntropyLoss(), input_shape=(1, n_steps, n_feat), nb_classes=2,
                         clip_values=(0.0, 1.0), channels_first=True)
    eps, iters = 0.04, 100
    np.random.seed(0)
    art_adv = art_square(clf, eps=eps, max_iter=iters, verbose=False).generate(x.permute(1, 0, 2)[:, None].numpy(),
                                                                                y.numpy())
    art_acc = (clf.predict(art_adv).argmax(1) == y.numpy()).mean()
    ours = attacks.square(model, x, y, eps=eps, queries=iters + 2, seed=0, bounds=(0.0, 1.0))
    with torch.no_grad():
        our_acc = (model(ours).argmax(1) == y).float().mean().item()
    assert our_acc <= art_acc + 0.05
    assert our_acc >= analytic_robust(model, make_task(x, y), eps) - 1e-9


# --- the threat models ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_snn():
    torch.manual_seed(0)
    return build_snn(5, [16], 3, "RLIF")


def test_every_current_attack_respects_eps_and_the_bounds(tiny_snn):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 40, 5, generator=g).round() * 0.5 + 0.5 * torch.rand(6, 40, 5, generator=g)  # touches 0 and 1
    y = torch.randint(0, 3, (40,), generator=g)
    bounds = (x.min().item(), x.max().item())
    for eps in (0.05, 0.4):
        for adv in (attacks.pgd(tiny_snn, x, y, eps=eps, steps=5, random_start=True, restarts=2, loss="margin",
                                bounds=bounds, stop_when_fooled=True),
                    attacks.square(tiny_snn, x, y, eps=eps, queries=30, bounds=bounds)):
            assert (adv - x).abs().max().item() <= eps + 1e-6
            assert adv.min().item() >= bounds[0] and adv.max().item() <= bounds[1]


def spikes(n=40, seed=0, p=0.2):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(6, n, 5, generator=g) < p).float(), torch.randint(0, 3, (n,), generator=g)


def test_flips_stay_spikes_and_within_budget(tiny_snn):
    x, y = spikes()
    for flips in (1, 4, 13):
        outs = [attacks.greedy_flips(tiny_snn, x, y, flips=flips, rounds=4, loss=loss, stop_when_fooled=stop)
                for loss in attacks.LOSSES for stop in (True, False)]
        outs += [attacks.random_flips(x, flips, seed=1, mode=mode) for mode in attacks.FLIP_MODES]
        for out in outs:
            assert torch.all((out == 0) | (out == 1))
            assert (out != x).sum(dim=(0, 2)).max().item() <= flips
    deleted = attacks.random_flips(x, 3, mode="delete")
    inserted = attacks.random_flips(x, 3, mode="insert")
    assert torch.all(deleted <= x) and torch.all(inserted >= x)
    assert torch.equal((x - deleted).sum(dim=(0, 2)), x.sum(dim=(0, 2)).clamp(max=3))
    assert torch.equal(attacks.random_flips(x, 0), x)


def test_greedy_flips_raise_the_loss_of_a_linear_model():
    model = Linear(6, 5)
    x, y = spikes(seed=2)
    y = (y > 0).long()
    adv = attacks.greedy_flips(model, x, y, flips=4, rounds=4, stop_when_fooled=False)
    with torch.no_grad():
        before, after = (attacks.attack_loss(model(z), y, "margin") for z in (x, adv))
    # on a linear score the first-order gain is exact: flipping entry i adds -sign(y) wᵢ (1 - 2 xᵢ) to the
    # margin loss, and greedy takes the 4 largest positive gains (gradients do not change between rounds)
    sign = 2 * y.float() - 1
    gain = attacks._as_rows(model.w.expand(6, len(y), 5)) * -sign[:, None] * (1 - 2 * attacks._as_rows(x))
    best4 = gain.clamp(min=0).topk(4, dim=1).values.sum(1)
    assert torch.allclose(after - before, best4, atol=1e-5)


# --- stacking: a network's audit does not depend on the networks audited with it ------------------
def _members(recurrent):
    """Three networks of one shape with different dynamics (λ, reset), and their twins."""
    names = ["RLIF", "RLIF-soft", "RIF-noreset"] if recurrent else ["LIF", "LIF-soft", "IF-noreset"]
    nets = []
    for seed, (name, lam) in enumerate(zip(names, (0.5, 0.9, 1.0))):
        torch.manual_seed(seed)
        nets.append(build_snn(5, [16], 3, name, lam))
    return nets


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("encoding", ["current", "spikes"])
def test_a_network_audited_in_a_stack_gets_its_audit_alone(recurrent, encoding):
    models = _members(recurrent)
    twins = [build_snn(5, [16], 3, "RLIF" if recurrent else "LIF", 0.7) for _ in models]
    tasks = []
    for seed in range(3):  # each network on its own data
        x, y = spikes(n=24, seed=seed)
        if encoding == "current":
            x = torch.rand(6, 24, 5, generator=torch.Generator().manual_seed(seed))
        tasks.append(make_task(x, y, 3, encoding))
    radius = dict(eps=0.08, bounds=(0.0, 1.0)) if encoding == "current" else dict(flips=3)
    stacked = audit_members(models, tasks, seeds=[3, 4, 5], twins=twins, batch_size=10, **radius, **FAST)
    for m in range(3):
        alone = audit(models[m], tasks[m], seed=3 + m, twin=twins[m], batch_size=10, **radius, **FAST)
        assert torch.equal(stacked[m]["per_sample"], alone["per_sample"])
        assert torch.equal(stacked[m]["clean_sample"], alone["clean_sample"])
        assert stacked[m]["per_attack"] == alone["per_attack"] and stacked[m]["chance"] == alone["chance"]
    bounds = dict(bounds=(0.0, 1.0)) if encoding == "current" else {}
    curves = audit_curves(models, tasks, [0.05, 0.1] if encoding == "current" else [1, 3], seeds=[3, 4, 5],
                          twins=twins, **bounds, **FAST)
    alone = audit_curve(models[1], tasks[1], [0.05, 0.1] if encoding == "current" else [1, 3], seed=4, twin=twins[1],
                        **bounds, **FAST)
    assert curves[1]["rows"] == alone["rows"] and curves[1]["checks"] == alone["checks"]


def test_stacked_audit_validation():
    models = _members(False)
    x, y = spikes(n=8)
    current, other = make_task(torch.rand(6, 8, 5), y, 3), make_task(x, y, 3, "spikes")
    with pytest.raises(ValueError, match="must share the input encoding"):
        audit_members(models[:2], [current, other], seeds=[0, 1], eps=0.1, **FAST)
    with pytest.raises(ValueError, match="models, tasks and seeds"):
        audit_members(models, [current] * 3, seeds=[0], eps=0.1, **FAST)
    with pytest.raises(ValueError, match="twins must hold one network per audited network"):
        audit_members(models, [current] * 3, seeds=[0, 1, 2], twins=[models[0], None, None], eps=0.1, **FAST)
    with pytest.raises(ValueError, match="only snnlib SNNs"):
        audit_members([nn.Identity(), nn.Identity()], [current] * 2, seeds=[0, 1], eps=0.1, **FAST)


# --- determinism and the surrogate swap -----------------------------------------------------------
def test_audit_is_deterministic_for_a_seed(tiny_snn):
    x, y = spikes(seed=3)
    xc = torch.rand(6, 32, 5, generator=torch.Generator().manual_seed(4))
    for task, radius in ((make_task(xc, y[:32], 3), dict(eps=0.1)), (make_task(x, y, 3, "spikes"), dict(flips=3))):
        twin = build_snn(5, [16], 3, "RLIF")
        a, b = (audit(tiny_snn, task, seed=7, twin=twin, batch_size=16, **radius, **FAST) for _ in range(2))
        assert torch.equal(a["per_sample"], b["per_sample"]) and a["per_attack"] == b["per_attack"]
        assert a["accuracy"] <= min(a["per_attack"].values()) and not a["skipped"]
        assert set(a["per_attack"]) >= {"transfer", "square" if task.encoding == "current" else "random-flips"}


def test_attack_surrogate_swaps_the_gradient_not_the_output_and_restores(tiny_snn):
    x, y = spikes(seed=5)
    nodes = [m for m in tiny_snn.modules() if isinstance(m, VariantNode)]
    originals = [n.surrogate_function for n in nodes]
    with torch.no_grad():
        out = tiny_snn(x)
    _, g_train = attacks._loss_and_grad(tiny_snn, x, y, slice(None))
    wide = StrictATan(alpha=0.5)
    with attack_surrogate(tiny_snn, wide):
        assert all(n.surrogate_function is wide for n in nodes)
        with torch.no_grad():
            assert torch.equal(tiny_snn(x), out)
        _, g_wide = attacks._loss_and_grad(tiny_snn, x, y, slice(None))
    assert not torch.allclose(g_train, g_wide)
    assert all(n.surrogate_function is o for n, o in zip(nodes, originals))
    with pytest.raises(RuntimeError, match="boom"):
        with attack_surrogate(tiny_snn, wide):
            raise RuntimeError("boom")
    assert all(n.surrogate_function is o for n, o in zip(nodes, originals))
    with attack_surrogate(tiny_snn, None):  # None keeps the model's own
        assert all(n.surrogate_function is o for n, o in zip(nodes, originals))


# --- masking and the curve checks -----------------------------------------------------------------
def test_masking_is_flagged_on_a_step_function_model():
    n = 40
    y = (torch.arange(n) % 2).long()
    x = (0.45 + 0.1 * y.float())[None, :, None].expand(4, n, 16).clone()  # class 0: 0.45, class 1: 0.55
    task = make_task(x, y)
    res = audit(Step(), task, eps=0.1, bounds=(0.0, 1.0), steps=10, restarts=2, square_queries=150)
    assert res["clean"] == 1.0
    assert min(v for k, v in res["per_attack"].items() if k.startswith("pgd")) > 0.9  # zero gradient: PGD fails
    assert res["per_attack"]["square"] < 0.2 and res["masking_suspected"]
    curve = audit_curve(Step(), task, [0.0, 0.1], bounds=(0.0, 1.0), steps=10, restarts=1, square_queries=150)
    assert curve["checks"]["masking_suspected"] and curve["details"]["masking_radii"] == [0.1, 1.0]
    assert curve["checks"]["chance_at_max"] and curve["rows"][-1]["full_range"]


def test_masking_is_flagged_for_spike_flips():
    n = 30
    y = torch.zeros(n, dtype=torch.long)
    x = torch.zeros(4, n, 5)
    x[0, :, :3] = 1.0  # 3 spikes; class 1 from 4 spikes on
    res = audit(Step(level=3.5, spikes=True), make_task(x, y, encoding="spikes"), flips=2, random_draws=3, rounds=2)
    assert res["clean"] == 1.0 and res["per_attack"]["greedy-train-ce"] == 1.0
    assert res["per_attack"]["random-flips"] == 0.0 and res["masking_suspected"] and res["skipped"]


def test_curve_enforces_monotonicity_and_records_it(monkeypatch):
    pattern = {0.1: [1, 0, 1, 1], 0.2: [1, 1, 0, 0], 1.0: [0, 0, 0, 0]}

    def fake_audit(models, tasks, eps, **kw):
        s = torch.tensor(pattern[eps], dtype=torch.bool)
        every = {"pgd-train-ce": s.clone(), "square": torch.ones(4, dtype=torch.bool)}
        return [dict(per_sample=s, per_attack_sample=every,
                     accuracy=s.float().mean().item(), clean=1.0, chance=0.5, threat="linf", radius=eps,
                     per_attack={"pgd-train-ce": s.float().mean().item(), "square": 1.0}, masking_gap=-1.0,
                     skipped={}, settings={}, seconds={"total": 0.0})]

    monkeypatch.setattr(audit_mod, "audit_members", fake_audit)
    task = make_task(torch.rand(2, 4, 3), torch.tensor([0, 1, 0, 1]))
    curve = audit_curve(None, task, [0.1, 0.2], bounds=(0.0, 1.0))
    assert [r["radius"] for r in curve["rows"]] == [0.1, 0.2, 1.0]
    assert [r["accuracy_raw"] for r in curve["rows"]] == [0.75, 0.5, 0.0]
    assert [r["accuracy"] for r in curve["rows"]] == [0.75, 0.25, 0.0]  # sample 1 failed at 0.1, so at 0.2 too
    assert curve["rows"][1]["per_attack"] == {"pgd-train-ce": 0.25, "square": 1.0}
    assert curve["checks"] == dict(monotone=False, chance_at_max=True, worst_le_each=True, masking_suspected=False)
    assert curve["details"]["monotone_violations"] == [0.2]


# --- chance-corrected scores ----------------------------------------------------------------------
def test_relative_robustness_and_normalised_auc_by_hand():
    value, reason = relative_robustness(0.55, 0.9, 0.2)
    assert value == pytest.approx(0.5) and reason == ""
    assert relative_robustness(0.1, 0.9, 0.2).value == pytest.approx(-1 / 7)
    nan = relative_robustness(0.3, 0.52, 0.5)
    assert math.isnan(nan.value) and "within 0.05 of chance" in nan.reason
    # clean 1, chance 0: relative = accuracy; trapezoids over r/r_max = 0, .5, 1 of 1, .5, 0 -> 0.5
    assert normalised_auc([0.0, 1.0, 2.0], [1.0, 0.5, 0.0], 1.0, 0.0).value == pytest.approx(0.5)
    # the clean point is put at r = 0: (1 + .6)/2 * .5 + (.6 + .2)/2 * .5 = 0.6
    assert normalised_auc([1.0, 2.0], [0.6, 0.2], 1.0, 0.0).value == pytest.approx(0.6)
    assert normalised_auc([0.0, 3.0], [0.9, 0.9], 0.9, 0.1).value == pytest.approx(1.0)
    assert "within 0.05" in normalised_auc([0.0, 1.0], [0.5, 0.5], 0.5, 0.48).reason
    assert "no radius above 0" in normalised_auc([0.0], [0.5], 0.9, 0.1).reason
    with pytest.raises(ValueError, match="non-decreasing"):
        normalised_auc([1.0, 0.5], [0.5, 0.5], 0.9, 0.1)


# --- validation -----------------------------------------------------------------------------------
def test_audit_validation(tiny_snn, linear_task):
    model, task = linear_task
    x, y = spikes()
    spike_task = make_task(x, y, 3, "spikes")
    with pytest.raises(ValueError, match="flips applies to spike tasks"):
        audit(model, task, flips=3)
    with pytest.raises(ValueError, match="eps applies to current inputs"):
        audit(tiny_snn, spike_task, eps=0.1)
    with pytest.raises(ValueError, match="loss must be one of"):
        audit(model, task, eps=0.1, losses=("hinge",))
    with pytest.raises(ValueError, match="n_samples"):
        audit(model, task, eps=0.1, n_samples=0)
    with pytest.raises(ValueError, match="within bounds"):
        audit(model, task, eps=0.1, bounds=(0.2, 1.0))
    with pytest.raises(ValueError, match="radii must be non-decreasing"):
        audit_curve(model, task, [0.2, 0.1])
    with pytest.raises(ValueError, match="twin must give logits"):
        audit(tiny_snn, spike_task, flips=1, twin=build_snn(5, [4], 2, "LIF"))
    res = audit(model, task, eps=0.0, n_samples=10)  # radius 0: the clean accuracy, attacks included
    assert res["accuracy"] == res["clean"] and set(res["per_attack"].values()) == {res["clean"]}
    assert res["skipped"] == {"transfer": "no twin network given"} and res["settings"]["n_samples"] == 10
