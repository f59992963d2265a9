"""``delayed-recall``: remember a cue across a silent (or noisy) delay.

Each sample is ``cue_steps`` of a noisy spike pattern of its class on ``n_channels`` cue channels,
then ``delay`` steps of silence (or background spikes at rate ``delay_noise``), then ``recall_steps``
during which a separate *go* channel is on. The label is the cue's class; the logits are read out
over the recall window only, so the class must be carried across the delay by the network state::

    step:    0 ... cue_steps-1 | cue_steps ... cue_steps+delay-1 | ... recall window ...
    cue:     class pattern      | silence / noise                   | silence
    go:      0                  | 0                                 | 1

Class patterns are random binary vectors over the cue channels; during the cue a channel of the
pattern spikes with probability ``p_on`` per step, any other with ``p_off``.

**Readout without memory.** The readout integrator has ``λ_o = 0`` (``readout_decay``), so its
membrane ``U[t] = W h[t]`` is the present hidden activity only, and it is averaged over the recall
window only. A leaky readout (``λ_o > 0``) would itself carry the cue across the delay, and the task
would no longer measure the memory of the spiking layer; with ``λ_o = 0`` all memory lives there.

Splits: ``n_train`` training samples, of which a stratified ``val_fraction`` (drawn from ``seed``) is
carved off as the validation split, and ``n_test`` test samples. Choices are made on validation
data; the test split is never used to choose anything. Inputs are spikes: no ``input_scale`` (the
threat model is a budget of spike flips), ``input_bounds = (0, 1)``.
"""

from __future__ import annotations

import numpy as np

from snnlib.checks import check_fraction, check_int
from .base import TaskData, as_tensors, check_val_fraction, split_validation

#: ``λ_o``: the readout holds no memory of its own
READOUT_DECAY = 0.0


def make_delayed_recall(seed: int = 0, delay: int = 4, n_classes: int = 4, n_channels: int = 20,
                        cue_steps: int = 5, recall_steps: int = 5, delay_noise: float = 0.0,
                        n_train: int = 1024, n_test: int = 512, p_on: float = 0.8, p_off: float = 0.05,
                        val_fraction: float = 0.2) -> TaskData:
    """Generate the task; inputs ``[cue_steps + delay + recall_steps, N, n_channels + 1]`` of 0/1 spikes."""
    check_int("seed", seed, minimum=0)
    delay = check_int("delay", delay, minimum=0)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    n_channels = check_int("n_channels", n_channels, minimum=2)
    cue_steps, recall_steps = check_int("cue_steps", cue_steps), check_int("recall_steps", recall_steps)
    n_train, n_test = check_int("n_train", n_train), check_int("n_test", n_test)
    delay_noise = check_fraction("delay_noise", delay_noise)
    p_on, p_off = check_fraction("p_on", p_on), check_fraction("p_off", p_off)
    val_fraction = check_val_fraction(val_fraction)
    if 2 ** n_channels < n_classes:
        raise ValueError(f"n_channels={n_channels} cannot hold {n_classes} distinct class patterns")

    rng = np.random.default_rng(seed)
    patterns = set()
    while len(patterns) < n_classes:  # distinct, non-empty class patterns
        bits = tuple(rng.random(n_channels) < 0.5)
        if any(bits):
            patterns.add(bits)
    prototypes = np.array(sorted(patterns), dtype=bool)

    n_steps = cue_steps + delay + recall_steps

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, n_classes, size=n)
        x = np.zeros((n, n_steps, n_channels + 1), dtype=np.float32)
        rate = np.where(prototypes[labels], p_on, p_off)[:, None, :]  # [n, 1, channels]
        x[:, :cue_steps, :n_channels] = rng.random((n, cue_steps, n_channels)) < rate
        x[:, cue_steps:cue_steps + delay, :n_channels] = rng.random((n, delay, n_channels)) < delay_noise
        x[:, cue_steps + delay:, n_channels] = 1.0  # the go signal
        return x, labels

    (x_tr, y_tr), (x_te, y_te) = as_tensors(*sample(n_train)), as_tensors(*sample(n_test))
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    params = dict(seed=seed, delay=delay, n_classes=n_classes, n_channels=n_channels, cue_steps=cue_steps,
                  recall_steps=recall_steps, delay_noise=delay_noise, n_train=n_train, n_test=n_test,
                  p_on=p_on, p_off=p_off, val_fraction=val_fraction)
    return TaskData("delayed-recall", x_tr, y_tr, x_te, y_te, n_classes=n_classes,
                    readout=slice(cue_steps + delay, n_steps), encoding="spikes", params=params,
                    x_val=x_val, y_val=y_val, input_scale=None, readout_decay=READOUT_DECAY, readout_note="recall")
