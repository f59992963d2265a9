"""The validity of the study's probes: each perturbation or knob changes only what it claims to."""

import torch

from snnlib import get_task
from snnlib.study import measuring


def test_retention_noise_leaves_the_cue_and_recall_windows_untouched():
    clean = get_task("delayed-recall", seed=3, delay=6, n_train=64, n_test=32)
    noisy = get_task("delayed-recall", seed=3, delay=6, n_train=64, n_test=32, delay_noise=0.3)
    cue, delay = clean.params["cue_steps"], clean.params["delay"]
    for a, b in ((clean.x_train, noisy.x_train), (clean.x_test, noisy.x_test)):
        assert torch.equal(a[:cue], b[:cue]) and torch.equal(a[cue + delay:], b[cue + delay:])
        assert a[cue:cue + delay].sum() == 0 and 0.2 < b[cue:cue + delay, :, :-1].mean() < 0.4
        assert b[cue:cue + delay, :, -1].sum() == 0  # the go channel stays silent during the delay
    assert torch.equal(clean.y_test, noisy.y_test) and torch.equal(clean.y_train, noisy.y_train)


def test_attack_streams_do_not_reuse_training_seeds():
    seeds = {measuring.attack_seed(s, r) for s in range(50) for r in range(3)}
    assert len(seeds) == 150 and not seeds & set(range(200_000))


def test_a_network_at_chance_on_the_full_test_set_is_not_audited():
    from snnlib.measure.train import seed_everything
    from snnlib.model.models import build_snn

    task = get_task("delayed-recall", seed=0, delay=2, n_train=64, n_test=200)
    seed_everything(0)
    silent = build_snn(task.n_inputs, [8], task.n_classes, "LIF")
    with torch.no_grad():
        for p in silent.parameters():
            p.zero_()  # constant logits: one class for every sample
    gate = measuring.above_chance(silent, task)
    assert not gate["above"] and gate["n"] == 200
    params = dict(measure_params=dict(audit_samples=8), seed=0, measures=["audit"])
    assert "at chance on the full test set" in measuring.measure_audit(silent, task, params, None)["audit_skipped"]


def test_energy_per_inference_is_synops_times_the_cited_energy_per_operation():
    from snnlib.analysis import report

    assert report.energy_per_inference(2000.0, 0.9) == 1.8  # 2000 accumulates of 0.9 pJ = 1.8 nJ
    assert report.ENERGY_PER_SYNOP_PJ["fp32 add (45 nm)"] == 0.9
