r"""``temporal-xor``: ``K`` events spread out in time, labelled by how many (``parity``) or in what order they came.

Each sample holds ``n_events = K`` events, one after the other with ``gap`` silent steps between
them. After the last event a separate *go* channel is on for ``recall_steps`` steps and the logits are
read out over that recall window only::

    step:  | event 1 | gap | event 2 | gap | ... | event K | recall window |
    go:    |    0    |  0  |    0    |  0  |     |    0    |       1       |

**Three labels, one complexity knob.** ``K`` is the task's temporal complexity at a fixed ``gap``;
``gap`` is its memory span. What ``K`` means depends on ``label``:

- ``label="parity"`` (the default, the original task): every event is one of two types, **A** or
  **B**, drawn independently and uniformly; the label is ``(number of B events) mod 2`` (for ``K = 2``
  the XOR of the two identities). It depends on *how many* B events there were, not on when.
- the *order labels*: the ``K`` events are ``K`` distinct types ``0 .. K-1``, each exactly once, in a
  uniformly random order ``π`` (``π[k]`` = the type of event ``k``). Every type occurs once in every
  sample, so *how many* events of each type there were says nothing: only their order does. The two
  order labels are computed from the same events (the same seed gives the same samples for both;
  only the validation split, stratified by label, differs):

  - ``label="order-parity"``: the parity of the permutation, the number of inversions
    ``Σ_{i<j} [π[i] > π[j]]`` modulo 2, i.e. the XOR of all ``K(K-1)/2`` pairwise orders "did type ``a``
    come before type ``b``". It depends on every event, and on every pair of events.
  - ``label="first-last"``: ``[π[0] > π[K-1]]``, whether the first event's type is numbered higher
    than the last one's. It depends on two events only, but they are the oldest and the newest of
    ``K``: the ``K - 2`` events between them must be told apart from both, and ignored.

  For ``K = 2`` both say which of the two types came first (0: type 0 first, 1: type 1 first).

Every label is exactly balanced in distribution (half of all identity vectors have odd parity, half
of all permutations are odd, and swapping the first and last events flips ``first-last``, ``K >= 2``).
``parity`` and ``order-parity`` are independent of any ``K - 1`` of the events' types, so a model that
keeps fewer than all ``K`` events is at chance (50 %).

**Channels.** Each event lasts ``event_steps = E`` steps and drives one *group* of channels. With
``label="parity"`` a group has ``n_channels`` channels: pattern A is its first ``h = n_channels // 2``,
pattern B the rest (as before). With an order label a group has ``K · h`` channels and type ``j``
is channels ``j·h .. (j+1)·h - 1``, so every event drives ``h`` channels whatever ``K`` (for ``K = 2``
and an even ``n_channels`` the two layouts are the same). During an event a channel of its type
spikes with probability ``p_on`` per step, any other channel of the group with ``p_off``. With
``channels="separate"`` event ``k`` has its own group (``K`` groups of inputs, plus the go channel);
with ``"shared"`` every event uses the same single group, so which event is which is told only by
its time. Background spikes at rate ``noise`` fall on every event channel at every step outside its
events. Inputs: ``K · n_channels + 1`` (parity, separate), ``n_channels + 1`` (parity, shared),
``K² · h + 1`` (order labels, separate), ``K · h + 1`` (order labels, shared).

**What each setting demands** (one hidden layer; the readout is memoryless, ``λ_o = 0``, and reads
only the recall window, so whatever decides the label must be in the hidden spikes at recall).
A hidden neuron's membrane is ``V[t] = λ V[t-1] + W x[t] + b`` (``+ W_rec S[t-1]`` if recurrent), with a
reset after a spike:

- *Feed-forward IF without reset* (``IF-noreset``, a pure integrator, ``λ = 1``): at recall
  ``V[t] = W c[t] + b (t + 1)`` with ``c[t]`` the per-channel spike counts so far, so its spikes, and the
  logits, are a function of the per-channel counts only. It can count (neuron ``k`` fires once ``k``
  events arrived) and so computes, given width, any label that is a function of the counts:
  ``parity`` on either channel layout, and the order labels with ``"separate"`` channels (there the
  order is written in space: event ``k``'s type is on event ``k``'s own channels). It cannot tell order
  in time: with an order label and ``channels="shared"`` the counts are independent of the label
  (every type once, every channel's spikes drawn alike whatever the order), so it is at chance, exactly
  (tests/test_complexity_task.py builds these networks by hand: 100 % where counts suffice, chance
  where they do not, ``K = 2..5``).
- *Feed-forward IF with a reset* (``IF``, ``IF-soft``): a spike resets the membrane to 0 (hard), so
  what it holds at recall is what came after its last spike -- a recency signal that the input
  itself triggers -- or lowers it by ``θ`` (soft), so it holds the input minus ``θ`` per spike, and how
  many spikes there were depends on the order of excitation and inhibition. With the hard reset it
  can tell order: a neuron excited strongly by type ``a`` (it fires and resets during ``a``) and
  inhibited by type ``b`` keeps ``b``'s inhibition to the recall window only if ``b`` came after
  ``a`` (a hand-built one solves the order labels at ``K = 2``, tested). Combining such pairwise
  orders -- into their parity, or into "which came first, which last" -- is then up to the hidden
  layer and a linear readout.
- *Feed-forward LIF* (``λ < 1``): the contribution of an event of age ``a`` steps is scaled by
  ``λ^a``, so the membranes hold a recency-weighted code of the events: the last type has the largest
  trace (a hand-built neuron tells which of two types came last, tested) and, without firing before
  recall, event ``k``'s trace is ``≈ λ^{(K-k)(E + gap)}`` of the last one's. Order is readable only as
  far as those traces stay above the spike noise: the earliest of ``K`` events has weight
  ``λ^{(K-1)(E + gap)}`` (``λ = 0.9, E = 3, gap = 5``: 0.43 for ``K = 2``, 0.034 for ``K = 5``);
  ``first-last`` needs exactly that faintest trace, told apart from ``K - 1`` stronger ones.
  For ``parity`` on shared channels the B channels' trace ``Σ_k [event k is B] λ^{age_k}`` mixes the
  count with recency (one recent B against several old ones).
- *Recurrent* (``RLIF``, ``RIF``): ``W_rec S[t-1]`` lets the layer keep a state without decay --
  which types have arrived and the parity so far (``2^K · 2`` states) for ``order-parity``, the
  first event's type (``K`` states) for ``first-last``, the parity so far (``2``) for ``parity`` -- and
  update it at each event, whatever the gap.

So at a fixed ``gap``, an order label with ``channels="shared"`` and ``K = 2..5`` grows what the task
needs -- ``K(K-1)/2`` pairwise orders (``order-parity``), or the oldest of ``K`` events held against
``K - 2`` distractors (``first-last``) -- while ruling out the counting shortcut; the other settings
are controls: ``parity`` (counting suffices) and the order labels with ``"separate"`` channels (the
same labels, the order written in space). Observed (test accuracy, 2 seeds, reported, not used to
choose anything; ``gap = 5``, ``λ = 0.9``, hidden ``[64]``, 20 epochs, ``n_train = 1024``, shared
channels): ``first-last`` at ``K = 3, 4, 5`` -- LIF 0.99, 0.93-0.95, 0.82-0.84; IF 0.99, 0.96,
0.88-0.91; RLIF 0.998, 0.99-1.0, 0.97-0.99; RIF 1.0, 1.0, 1.0; ``order-parity`` -- every variant
0.96-1.0 at ``K <= 3`` and 0.47-0.53 at ``K = 4, 5`` (1 seed; training accuracy <= 0.6: not fitted);
``IF-noreset`` at chance (0.47-0.54) throughout, as it must be.

**Readout without memory.** The readout integrator has ``λ_o = 0`` (``readout_decay``), so its
membrane ``U[t] = W h[t]`` is the present hidden activity only, and it is averaged over the recall
window only. A leaky readout would itself hold (a decayed trace of) the events, and part of the
memory the task measures would live outside the spiking layer; with ``λ_o = 0`` all of it lives there.

Splits: ``n_train`` training samples, of which a stratified ``val_fraction`` (drawn from ``seed``) is
carved off as the validation split, and ``n_test`` test samples. Choices are made on validation
data; the test split is never used to choose anything. The same parameters give the same data;
``label="parity"`` data are the same as before ``label`` existed, and the two order labels share
their samples. Inputs are spikes: no ``input_scale`` (the threat model is a budget of spike flips),
``input_bounds = (0, 1)``.
"""

from __future__ import annotations

import numpy as np

from snnlib.checks import check_choice, check_fraction, check_int
from .base import TaskData, as_tensors, check_val_fraction, split_validation

CHANNEL_MODES = ("separate", "shared")
#: what the label is: the parity of the number of B events; the parity of the order of K distinct types;
#: whether the first of them is numbered higher than the last
LABELS = ("parity", "order-parity", "first-last")
#: the labels of K distinct types in a random order
ORDER_LABELS = ("order-parity", "first-last")
#: ``λ_o``: the readout holds no memory of its own
READOUT_DECAY = 0.0


def parity(identities: np.ndarray) -> np.ndarray:
    """The label of events with ``identities [..., K]`` (0 = A, 1 = B): their sum modulo 2."""
    return (np.asarray(identities).sum(axis=-1) % 2).astype(np.int64)


def permutation_parity(order: np.ndarray) -> np.ndarray:
    """The label of events of types ``order [..., K]`` (a permutation of ``0 .. K-1`` per row): the number
    of inversions ``Σ_{i<j} [order[i] > order[j]]`` modulo 2 (0 = even permutation, 1 = odd)."""
    order = np.asarray(order)
    k = order.shape[-1]
    later = np.triu(np.ones((k, k), dtype=bool), 1)  # [i, j]: j comes after i
    inversions = ((order[..., :, None] > order[..., None, :]) & later).sum(axis=(-2, -1))
    return (inversions % 2).astype(np.int64)


def first_last(order: np.ndarray) -> np.ndarray:
    """The label of events of types ``order [..., K]``: ``[order[0] > order[K-1]]``, whether the first event's
    type is numbered higher than the last one's."""
    order = np.asarray(order)
    return (order[..., 0] > order[..., -1]).astype(np.int64)


#: label name -> the function of the event types that computes it
LABEL_FUNCTIONS = {"parity": parity, "order-parity": permutation_parity, "first-last": first_last}


def event_onsets(n_events: int, event_steps: int, gap: int) -> list[int]:
    """The first step of each event."""
    return [k * (event_steps + gap) for k in range(n_events)]


def type_patterns(label: str, n_events: int, n_channels: int) -> np.ndarray:
    """``[n_types, group]`` booleans: which channels of an event's group each type drives.

    ``parity``: two types over ``n_channels`` channels, A the first ``n_channels // 2``, B the rest.
    order labels: ``K`` types, type ``j`` the ``j``-th block of ``h = n_channels // 2`` channels of ``K · h``.
    """
    half = n_channels // 2
    if label == "parity":
        patterns = np.zeros((2, n_channels), dtype=bool)
        patterns[0, :half], patterns[1, half:] = True, True  # A, B
        return patterns
    return np.kron(np.eye(n_events, dtype=bool), np.ones((1, half), dtype=bool))


def make_temporal_xor(seed: int = 0, n_events: int = 2, gap: int = 10, event_steps: int = 3, recall_steps: int = 3,
                      n_channels: int = 10, channels: str = "separate", noise: float = 0.0,
                      n_train: int = 2048, n_test: int = 512, p_on: float = 0.8, p_off: float = 0.05,
                      val_fraction: float = 0.2, label: str = "parity") -> TaskData:
    """Generate the task; inputs ``[K · event_steps + (K - 1) · gap + recall_steps, N, inputs]`` of 0/1 spikes.

    ``label``: ``"parity"`` (of the number of B events), ``"order-parity"`` (parity of the order of ``K``
    distinct types) or ``"first-last"`` (the first type numbered higher than the last); see the module
    docstring for the channel layouts and what each setting demands.
    """
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
    check_choice("label", label, LABELS)

    patterns = type_patterns(label, n_events, n_channels)
    group = patterns.shape[1]  # channels of one event's group
    onsets = event_onsets(n_events, event_steps, gap)
    n_steps = onsets[-1] + event_steps + recall_steps
    n_groups = n_events if channels == "separate" else 1
    n_event_inputs = n_groups * group
    rng = np.random.default_rng(seed)

    def draw_types(n: int) -> np.ndarray:
        if label == "parity":
            return rng.integers(0, 2, size=(n, n_events))
        return rng.permuted(np.tile(np.arange(n_events), (n, 1)), axis=1)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        types = draw_types(n)
        x = np.zeros((n, n_steps, n_event_inputs + 1), dtype=np.float32)
        x[:, :, :n_event_inputs] = rng.random((n, n_steps, n_event_inputs)) < noise
        for k, onset in enumerate(onsets):
            where = slice(k * group, (k + 1) * group) if channels == "separate" else slice(0, group)
            rate = np.where(patterns[types[:, k]], p_on, p_off)[:, None, :]  # [n, 1, group]
            x[:, onset:onset + event_steps, where] = rng.random((n, event_steps, group)) < rate
        x[:, n_steps - recall_steps:, n_event_inputs] = 1.0  # the go signal
        return x, LABEL_FUNCTIONS[label](types)

    (x_tr, y_tr), (x_te, y_te) = as_tensors(*sample(n_train)), as_tensors(*sample(n_test))
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    params = dict(seed=seed, n_events=n_events, gap=gap, event_steps=event_steps, recall_steps=recall_steps,
                  n_channels=n_channels, channels=channels, noise=noise, n_train=n_train, n_test=n_test,
                  p_on=p_on, p_off=p_off, val_fraction=val_fraction, label=label)
    return TaskData("temporal-xor", x_tr, y_tr, x_te, y_te, n_classes=2,
                    readout=slice(n_steps - recall_steps, n_steps), encoding="spikes", params=params,
                    x_val=x_val, y_val=y_val, input_scale=None, readout_decay=READOUT_DECAY, readout_note="recall")
