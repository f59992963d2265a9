"""``temporal-xor``: the parity of ``K`` events spread out in time.

Each sample holds ``n_events = K`` events, one after the other with ``gap`` silent steps between
them. Every event is one of two patterns, **A** or **B**, drawn independently and uniformly; the label
is the parity (for ``K = 2`` the XOR) of the events' identities, ``label = (number of B events) mod 2``.
After the last event a separate *go* channel is on for ``recall_steps`` steps and the logits are read
out over that recall window only::

    step:  | event 1 | gap | event 2 | gap | ... | event K | recall window |
    go:    |    0    |  0  |    0    |  0  |     |    0    |       1       |

Each event lasts ``event_steps`` steps. Its ``n_channels`` channels split into two halves: pattern A
is the first half (channels ``0 .. n_channels // 2 - 1``), pattern B the second. During an event a
channel of its pattern spikes with probability ``p_on`` per step, any other of the event's channels
with ``p_off``. With ``channels="separate"`` event ``k`` has its own ``n_channels`` inputs
(``K · n_channels + 1`` inputs in all); with ``"shared"`` every event uses the same ``n_channels``
inputs (``n_channels + 1``), so which event is which is told only by its time. Background spikes at
rate ``noise`` fall on every event channel at every step outside that channel's event.

Since the identities are independent and uniform, the label is independent of any ``K - 1`` of them:
a model that sees (or remembers) fewer than all ``K`` events is at chance (50 %). The task needs the
events to interact across ``gap`` steps, which leakage alone (``λ^gap``) forgets and the hard reset
wipes, so it separates recurrent from feed-forward networks. Observed results (test accuracy,
reported, not used to choose anything): at the default ``gap = 10`` a feed-forward ``LIF`` ([128],
``λ = 0.5``) stayed at chance while an ``RLIF`` reached ~100 % in 20 epochs; at ``gap = 5`` the
``LIF`` still got ~84 % (from what the membranes keep), at ``gap = 0`` 100 %. Those results were
obtained with a leaky readout (``λ_o = 0.5``); they predate the memoryless readout below.

**Readout without memory.** The readout integrator has ``λ_o = 0`` (``readout_decay``), so its
membrane ``U[t] = W h[t]`` is the present hidden activity only, and it is averaged over the recall
window only. A leaky readout would itself hold (a decayed trace of) the events, and part of the
memory the task measures would live outside the spiking layer; with ``λ_o = 0`` all of it lives there.

Splits: ``n_train`` training samples, of which a stratified ``val_fraction`` (drawn from ``seed``) is
carved off as the validation split, and ``n_test`` test samples. Choices are made on validation
data; the test split is never used to choose anything. Inputs are spikes: no ``input_scale`` (the
threat model is a budget of spike flips), ``input_bounds = (0, 1)``.
"""

from __future__ import annotations

import numpy as np

from snnlib.checks import check_choice, check_fraction, check_int
from .base import TaskData, as_tensors, check_val_fraction, split_validation

CHANNEL_MODES = ("separate", "shared")
#: ``λ_o``: the readout holds no memory of its own
READOUT_DECAY = 0.0


def parity(identities: np.ndarray) -> np.ndarray:
    """The label of events with ``identities [..., K]`` (0 = A, 1 = B): their sum modulo 2."""
    return (np.asarray(identities).sum(axis=-1) % 2).astype(np.int64)


def event_onsets(n_events: int, event_steps: int, gap: int) -> list[int]:
    """The first step of each event."""
    return [k * (event_steps + gap) for k in range(n_events)]


def make_temporal_xor(seed: int = 0, n_events: int = 2, gap: int = 10, event_steps: int = 3, recall_steps: int = 3,
                      n_channels: int = 10, channels: str = "separate", noise: float = 0.0,
                      n_train: int = 2048, n_test: int = 512, p_on: float = 0.8, p_off: float = 0.05,
                      val_fraction: float = 0.2) -> TaskData:
    """Generate the task; inputs ``[K · event_steps + (K - 1) · gap + recall_steps, N, inputs]`` of 0/1 spikes."""
    check_int("seed", seed, minimum=0)
    n_events = check_int("n_events", n_events, minimum=2)
    gap = check_int("gap", gap, minimum=0)
    event_steps, recall_steps = check_int("event_steps", event_steps), check_int("recall_steps", recall_steps)
    n_channels = check_int("n_channels", n_channels, minimum=2)
    check_choice("channels", channels, CHANNEL_MODES)
    noise = check_fraction("noise", noise)
    n_train, n_test = check_int("n_train", n_train), check_int("n_test", n_test)
    p_on, p_off = check_fraction("p_on", p_on), check_fraction("p_off", p_off)
    val_fraction = check_val_fraction(val_fraction)

    half = n_channels // 2
    patterns = np.zeros((2, n_channels), dtype=bool)
    patterns[0, :half], patterns[1, half:] = True, True  # A, B
    onsets = event_onsets(n_events, event_steps, gap)
    n_steps = onsets[-1] + event_steps + recall_steps
    n_groups = n_events if channels == "separate" else 1
    n_event_inputs = n_groups * n_channels
    rng = np.random.default_rng(seed)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        identities = rng.integers(0, 2, size=(n, n_events))
        x = np.zeros((n, n_steps, n_event_inputs + 1), dtype=np.float32)
        x[:, :, :n_event_inputs] = rng.random((n, n_steps, n_event_inputs)) < noise
        for k, onset in enumerate(onsets):
            group = slice(k * n_channels, (k + 1) * n_channels) if channels == "separate" else slice(0, n_channels)
            rate = np.where(patterns[identities[:, k]], p_on, p_off)[:, None, :]  # [n, 1, channels]
            x[:, onset:onset + event_steps, group] = rng.random((n, event_steps, n_channels)) < rate
        x[:, n_steps - recall_steps:, n_event_inputs] = 1.0  # the go signal
        return x, parity(identities)

    (x_tr, y_tr), (x_te, y_te) = as_tensors(*sample(n_train)), as_tensors(*sample(n_test))
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    params = dict(seed=seed, n_events=n_events, gap=gap, event_steps=event_steps, recall_steps=recall_steps,
                  n_channels=n_channels, channels=channels, noise=noise, n_train=n_train, n_test=n_test,
                  p_on=p_on, p_off=p_off, val_fraction=val_fraction)
    return TaskData("temporal-xor", x_tr, y_tr, x_te, y_te, n_classes=2,
                    readout=slice(n_steps - recall_steps, n_steps), encoding="spikes", params=params,
                    x_val=x_val, y_val=y_val, input_scale=None, readout_decay=READOUT_DECAY, readout_note="recall")
