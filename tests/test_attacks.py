"""Input noise and white-box attacks through the surrogate gradient (snnlib.measure.attacks)."""

import pytest
import torch
from torch import nn

from snnlib.measure import attacks
from snnlib.model.models import build_snn
from snnlib.data import get_task
from snnlib.measure.train import TrainConfig, evaluate, fit, seed_everything

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    return get_task("digits")


@pytest.fixture(scope="module")
def trained(digits):
    """A small LIF trained on digits for a few epochs (~1-2 s)."""
    seed_everything(0)
    model = build_snn(digits.n_inputs, [64], digits.n_classes, "LIF")
    fit(model, digits.x_train, digits.y_train, digits.readout,
        TrainConfig(epochs=4, batch_size=64, lr=3e-3, device="cpu"))
    model.eval()
    assert evaluate(model, digits.x_test, digits.y_test, digits.readout)["accuracy"] > 0.85
    return model


@pytest.fixture(scope="module")
def batch(digits):
    return digits.x_test[:, :200], digits.y_test[:200]


def ce(model, x, y, readout):
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x, readout), y).item()


# --- noise ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", attacks.NOISES)
def test_noise_level_zero_is_identity(kind):
    x = (torch.rand(5, 4, 6, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    out = attacks.perturb(x, kind, 0.0, seed=1)
    assert torch.equal(out, x) and out is not x


@pytest.mark.parametrize("kind", attacks.NOISES)
def test_noise_is_deterministic_with_a_seed(kind):
    x = (torch.rand(5, 40, 6, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    assert torch.equal(attacks.perturb(x, kind, 0.2, seed=7), attacks.perturb(x, kind, 0.2, seed=7))
    assert not torch.equal(attacks.perturb(x, kind, 0.2, seed=7), attacks.perturb(x, kind, 0.2, seed=8))
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(attacks.perturb(x, kind, 0.2, seed=g1), attacks.perturb(x, kind, 0.2, seed=g2))


def test_gaussian_noise_statistics():
    x = torch.full((10, 100, 50), 0.5)
    noisy = attacks.gaussian_noise(x, 0.2, seed=0)
    d = noisy - x
    assert abs(d.mean().item()) < 0.005 and d.std().item() == pytest.approx(0.2, rel=0.02)
    clipped = attacks.gaussian_noise(x, 1.0, seed=0, bounds=(0.0, 1.0))
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_spike_deletion_and_insertion():
    # (the data's generator must differ from the noise's: the same seed would draw the same uniforms)
    x = (torch.rand(10, 200, 20, generator=torch.Generator().manual_seed(123)) < 0.3).float()
    deleted = attacks.delete_spikes(x, 0.25, seed=0)
    assert torch.all(deleted <= x)  # only removes
    assert 1 - deleted.sum() / x.sum() == pytest.approx(0.25, abs=0.01)
    assert torch.equal(attacks.delete_spikes(x, 1.0), torch.zeros_like(x))
    inserted = attacks.insert_spikes(x, 0.25, seed=0)
    assert torch.all(inserted >= x) and torch.all((inserted == 0) | (inserted == 1))
    new = (inserted - x).sum() / (1 - x).sum()
    assert new.item() == pytest.approx(0.25, abs=0.01)


def test_noise_validation():
    x = torch.zeros(2, 2, 2)
    with pytest.raises(ValueError, match="kind"):
        attacks.perturb(x, "salt", 0.1)
    with pytest.raises(ValueError, match="p must"):
        attacks.delete_spikes(x, 1.5)
    with pytest.raises(ValueError, match="sigma"):
        attacks.gaussian_noise(x, -0.1)
    with pytest.raises(ValueError, match="0/1 spikes"):
        attacks.insert_spikes(x + 0.5, 0.1)
    with pytest.raises(ValueError, match="seed"):
        attacks.gaussian_noise(x, 0.1, seed=-1)
    assert attacks.noise_for_encoding("spikes") == ("delete", "insert")
    with pytest.raises(ValueError, match="encoding"):
        attacks.noise_for_encoding("poisson")


def test_noisy_accuracy_level_zero_and_curve(trained, digits):
    x, y = digits.x_test, digits.y_test
    clean = evaluate(trained, x, y, digits.readout)["accuracy"]
    assert attacks.noisy_accuracy(trained, x, y, digits.readout, "gaussian", 0.0) == clean
    curve = attacks.noise_curve(trained, x, y, digits.readout, "gaussian", [0.0, 0.5, 2.0])
    assert [c["level"] for c in curve] == [0.0, 0.5, 2.0] and curve[0]["accuracy"] == clean
    assert curve[2]["accuracy"] < clean


# --- attacks --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", attacks.ATTACKS)
def test_eps_zero_is_clean_accuracy_exactly(trained, digits, kind):
    x, y = digits.x_test, digits.y_test
    clean = evaluate(trained, x, y, digits.readout)["accuracy"]
    assert attacks.robust_accuracy(trained, x, y, digits.readout, kind, 0.0) == clean
    assert torch.equal(attacks.apply_attack(trained, x[:, :10], y[:10], digits.readout, kind, 0.0), x[:, :10])


@pytest.mark.parametrize("kind", attacks.ATTACKS)
def test_perturbation_within_eps_and_range(trained, batch, digits, kind):
    x, y = batch
    for eps in (0.03, 0.3):
        adv = attacks.apply_attack(trained, x, y, digits.readout, kind, eps)
        assert (adv - x).abs().max().item() <= eps + 1e-6
        assert adv.min().item() >= 0.0 and adv.max().item() <= 1.0
    adv = attacks.pgd(trained, x, y, digits.readout, 0.2, random_start=True, bounds=(0.0, 0.9 + 0.1))
    assert (adv - x).abs().max().item() <= 0.2 + 1e-6
    lo_hi = (-1.0, 2.0)  # a wider valid range is respected too
    adv = attacks.fgsm(trained, x, y, digits.readout, 0.5, bounds=lo_hi)
    assert adv.min().item() >= -1.0 and (adv - x).abs().max().item() <= 0.5 + 1e-6


@pytest.mark.parametrize("kind", attacks.ATTACKS)
def test_attacked_loss_at_least_clean_loss(trained, batch, digits, kind):
    x, y = batch
    clean = ce(trained, x, y, digits.readout)
    for eps in (0.02, 0.1):
        adv = attacks.apply_attack(trained, x, y, digits.readout, kind, eps)
        assert ce(trained, adv, y, digits.readout) >= clean


def test_pgd_keeps_per_sample_loss_at_least_clean(trained, batch, digits):
    x, y = batch
    adv = attacks.pgd(trained, x, y, digits.readout, 0.05, steps=5)
    with torch.no_grad():
        before = nn.functional.cross_entropy(trained(x, digits.readout), y, reduction="none")
        after = nn.functional.cross_entropy(trained(adv, digits.readout), y, reduction="none")
    assert torch.all(after >= before)


def test_pgd_at_least_as_strong_as_fgsm(trained, digits):
    x, y = digits.x_test, digits.y_test
    for eps in (0.05, 0.1):
        fgsm_acc = attacks.robust_accuracy(trained, x, y, digits.readout, "fgsm", eps)
        pgd_acc = attacks.robust_accuracy(trained, x, y, digits.readout, "pgd", eps, steps=10)
        assert pgd_acc <= fgsm_acc
    clean = evaluate(trained, x, y, digits.readout)["accuracy"]
    assert fgsm_acc < clean


def test_pgd_with_one_full_step_is_fgsm(trained, batch, digits):
    x, y = batch
    one = attacks.pgd(trained, x, y, digits.readout, 0.1, steps=1, step_size=0.1, keep_best=False)
    assert torch.allclose(one, attacks.fgsm(trained, x, y, digits.readout, 0.1))


def test_pgd_random_start_is_deterministic_with_a_seed(trained, batch, digits):
    x, y = batch
    run = lambda seed: attacks.pgd(trained, x, y, digits.readout, 0.1, steps=3, random_start=True,  # noqa: E731
                                   seed=seed, keep_best=False)
    assert torch.equal(run(5), run(5))
    assert not torch.equal(run(5), run(6))
    acc = lambda: attacks.robust_accuracy(trained, x, y, digits.readout, "pgd", 0.1, batch_size=64,  # noqa: E731
                                          steps=3, random_start=True, seed=2)
    assert acc() == acc()


def test_attacks_leave_the_model_untouched(trained, batch, digits):
    x, y = batch
    trained.zero_grad(set_to_none=True)  # fit leaves the last step's gradients behind
    trained.train()
    before = [p.detach().clone() for p in trained.parameters()]
    for kind in attacks.ATTACKS:
        attacks.robust_accuracy(trained, x, y, digits.readout, kind, 0.1, steps=2) if kind == "pgd" else \
            attacks.robust_accuracy(trained, x, y, digits.readout, kind, 0.1)
    assert all(p.grad is None and p.requires_grad for p in trained.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, trained.parameters()))
    assert trained.training  # the mode is restored
    trained.eval()
    x_in = x.clone().requires_grad_(False)
    attacks.fgsm(trained, x_in, y, digits.readout, 0.1)
    assert x_in.grad is None and torch.equal(x_in, x)


def test_robustness_curve(trained, batch, digits):
    x, y = batch
    curve = attacks.robustness_curve(trained, x, y, digits.readout, "fgsm", [0.0, 0.05, 0.2])
    assert [c["eps"] for c in curve] == [0.0, 0.05, 0.2] and {c["attack"] for c in curve} == {"fgsm"}
    accs = [c["accuracy"] for c in curve]
    assert accs[0] == evaluate(trained, x, y, digits.readout)["accuracy"]
    assert accs[2] <= accs[1] <= accs[0]


def test_custom_attack_callable(trained, batch, digits):
    x, y = batch
    identity = lambda model, x, y, readout, eps: x  # noqa: E731
    clean = evaluate(trained, x, y, digits.readout)["accuracy"]
    assert attacks.robust_accuracy(trained, x, y, digits.readout, identity, 0.1) == clean


def test_attack_validation(trained, batch, digits):
    x, y = batch
    with pytest.raises(ValueError, match="attack must be one of"):
        attacks.robust_accuracy(trained, x, y, digits.readout, "cw", 0.1)
    with pytest.raises(ValueError, match="eps"):
        attacks.fgsm(trained, x, y, digits.readout, -0.1)
    with pytest.raises(ValueError, match="steps"):
        attacks.pgd(trained, x, y, digits.readout, 0.1, steps=0)
    with pytest.raises(ValueError, match="bounds"):
        attacks.fgsm(trained, x, y, digits.readout, 0.1, bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="within bounds"):
        attacks.fgsm(trained, x * 16, y, digits.readout, 0.1)
    with pytest.raises(ValueError, match="y must be"):
        attacks.pgd(trained, x, y[:5], digits.readout, 0.1)


def test_attack_on_spike_inputs_is_a_relaxation_in_unit_range():
    task = get_task("delayed-recall", n_train=16, n_test=32)
    seed_everything(0)
    model = build_snn(task.n_inputs, [16], task.n_classes, "RLIF")
    adv = attacks.pgd(model, task.x_test, task.y_test, task.readout, 0.3, steps=3)
    assert adv.min() >= 0 and adv.max() <= 1 and (adv - task.x_test).abs().max() <= 0.3 + 1e-6


# --- PGD options: restarts, loss, stop when fooled; the margin loss ---------------------------------
def test_margin_loss_by_hand():
    logits = torch.tensor([[2.0, 0.5, 1.0], [0.0, 3.0, 1.0]])
    y = torch.tensor([0, 2])
    assert torch.allclose(attacks.attack_loss(logits, y, "margin"), torch.tensor([-1.0, 2.0]))
    with pytest.raises(ValueError, match="loss must be one of"):
        attacks.attack_loss(logits, y, "hinge")


def test_pgd_restarts_loss_and_stop_when_fooled(trained, batch, digits):
    x, y = batch
    run = lambda **kw: attacks.pgd(trained, x, y, digits.readout, 0.1, steps=4, seed=3, **kw)  # noqa: E731
    assert torch.equal(run(restarts=2, loss="margin"), run(restarts=2, loss="margin"))
    one, two = run(random_start=True), run(random_start=True, restarts=2)
    with torch.no_grad():
        l1, l2, l0 = (nn.functional.cross_entropy(trained(z, digits.readout), y, reduction="none")
                      for z in (one, two, x))
    assert torch.all(l2 >= l1 - 1e-6) and torch.all(l2 >= l0)  # a second restart only keeps better points
    stopped = run(restarts=2, loss="margin", stop_when_fooled=True)
    assert (stopped - x).abs().max() <= 0.1 + 1e-6
    with torch.no_grad():
        fooled_full = trained(run(restarts=2, loss="margin"), digits.readout).argmax(1) != y
        fooled_stop = trained(stopped, digits.readout).argmax(1) != y
    assert fooled_stop.float().mean() >= fooled_full.float().mean() - 0.02
    with pytest.raises(ValueError, match="restarts"):
        run(restarts=0)
    with pytest.raises(ValueError, match="loss must be one of"):
        run(loss="hinge")
