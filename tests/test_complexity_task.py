"""temporal-xor as a task family of declared complexity ``K = n_events``: the order labels
(``order-parity``: parity of the order of ``K`` distinct event types; ``first-last``: the first type
numbered higher than the last) beside the original ``parity`` label, and the validity of each setting,
shown with networks whose weights are set by hand (no training):

- a counting network (``IF-noreset``: an integrator without reset, one hidden layer) computes the label
  exactly where the task says counting suffices -- ``parity`` on shared channels, the order labels on
  separate channels -- and is at chance where it says order is needed (the order labels on shared
  channels), K = 2..5;
- with an order label on shared channels every ``IF-noreset`` network, whatever its weights, gives every
  (noise-free) sample the same logits, while a reset (``IF``) or a leak (``LIF``) lets a hand-built neuron
  tell the order of two events.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from snnlib.data import get_task
from snnlib.data.temporal_xor import (LABEL_FUNCTIONS, ORDER_LABELS, event_onsets, first_last, parity,
                                      permutation_parity, type_patterns)
from snnlib.model.models import build_snn

KS = (2, 3, 4, 5)
E, GAP, R = 3, 5, 3  # event_steps, gap, recall_steps of the hand-built checks
#: noise-free spikes: an event drives exactly its type's channels, every step
EXACT = dict(p_on=1.0, p_off=0.0, noise=0.0, event_steps=E, gap=GAP, recall_steps=R)
#: stochastic spikes, as in training
NOISY = dict(p_on=0.8, p_off=0.05, noise=0.02, event_steps=E, gap=GAP, recall_steps=R)


def task_of(k: int, label: str, channels: str, n: int = 1000, **spikes):
    return get_task("temporal-xor", n_events=k, label=label, channels=channels, n_train=n, n_test=n,
                    seed=k, **(spikes or EXACT))


def binomial_margin(n: int) -> float:
    """Three standard deviations of the accuracy of a coin-flip on ``n`` samples."""
    return 3 * math.sqrt(0.25 / n)


def splits(task):
    return [(task.x_train, task.y_train), (task.x_val, task.y_val), (task.x_test, task.y_test)]


@torch.no_grad()
def accuracy(model, task, x, y) -> float:
    return float((model(x, window=task.readout).argmax(-1) == y).float().mean())


def hand_network(task, hidden_weight: torch.Tensor, readout_weight, readout_bias, variant="IF-noreset",
                 decay=0.5):
    """One hidden layer of ``variant`` with input weights ``hidden_weight [h, inputs]`` (bias 0) and a
    memoryless readout (``λ_o = 0``) of weights ``[2, h]`` and bias ``[2]``, all set by hand."""
    model = build_snn(task.n_inputs, [hidden_weight.shape[0]], 2, variant, decay=decay, readout_decay=0.0)
    with torch.no_grad():
        layer = model.layers[0]
        layer.fc.weight.copy_(hidden_weight)
        layer.fc.bias.zero_()
        model.readout.fc.weight.copy_(torch.as_tensor(readout_weight, dtype=torch.float32))
        model.readout.fc.bias.copy_(torch.as_tensor(readout_bias, dtype=torch.float32))
    return model


def counting_network(task, counted: np.ndarray, spikes_per_event: int, k: int):
    """``IF-noreset`` neurons ``1..k``: neuron ``j`` receives ``1 / ((j - 0.5) · spikes_per_event)`` per spike
    on the ``counted`` channels, so after ``c`` events its membrane is ``c / (j - 0.5)`` and it fires (``> θ
    = 1``) once ``c >= j``, and keeps firing (no reset). The readout ``Σ_j (-1)^(j+1) S_j - 1/2`` is
    ``+1/2`` when ``c`` is odd and ``-1/2`` when it is even: class 1 iff the count is odd."""
    weight = torch.zeros(k, task.n_inputs)
    for j in range(1, k + 1):
        weight[j - 1, torch.as_tensor(counted)] = 1.0 / ((j - 0.5) * spikes_per_event)
    alternating = [(-1.0) ** j for j in range(k)]  # +1, -1, +1, ...
    return hand_network(task, weight, [[0.0] * k, alternating], [0.0, -0.5])


def decode_order(x: torch.Tensor, k: int, half: int, shared: bool) -> torch.Tensor:
    """The type of each event of noise-free order-label data ``x [T, N, inputs]``: the one block that fired."""
    types = []
    for slot, onset in enumerate(event_onsets(k, E, GAP)):
        base = 0 if shared else slot * k * half
        event = x[onset:onset + E, :, base:base + k * half].reshape(E, x.shape[1], k, half).sum((0, 3))
        assert torch.all((event > 0).sum(-1) == 1)  # exactly one type per event
        types.append(event.argmax(-1))
    return torch.stack(types, dim=1)


# --- the order labels ----------------------------------------------------------------------------------


def test_permutation_parity_hand_worked():
    cases = {(0, 1): 0, (1, 0): 1, (0, 1, 2): 0, (1, 0, 2): 1, (2, 1, 0): 1, (1, 2, 0): 0, (2, 0, 1): 0,
             (3, 2, 1, 0): 0, (0, 1, 3, 2): 1, (4, 3, 2, 1, 0): 0, (1, 0, 2, 3, 4): 1}
    for order, label in cases.items():
        assert permutation_parity(np.array(order)) == label, order
    for k in KS:  # half of all permutations are odd
        every = np.array(list(itertools.permutations(range(k))))
        assert permutation_parity(every).sum() * 2 == len(every)


def test_first_last_hand_worked():
    cases = {(0, 1): 0, (1, 0): 1, (0, 2, 1): 0, (2, 0, 1): 1, (1, 0, 2): 0, (3, 0, 1, 2): 1, (2, 4, 3, 1, 0): 1,
             (0, 4, 3, 2, 1): 0}
    for order, label in cases.items():
        assert first_last(np.array(order)) == label, order
    for k in KS:  # half of all permutations: swapping the first and last events flips the label
        every = np.array(list(itertools.permutations(range(k))))
        assert first_last(every).sum() * 2 == len(every)
    pairs = np.array(list(itertools.permutations(range(2))))
    assert np.array_equal(first_last(pairs), permutation_parity(pairs))  # K = 2: the same label


@pytest.mark.parametrize("label", ORDER_LABELS)
@pytest.mark.parametrize("channels", ["shared", "separate"])
@pytest.mark.parametrize("k", KS)
def test_order_labels_are_functions_of_the_order_of_k_distinct_types(k, channels, label):
    task = task_of(k, label, channels, n=300)
    half = 10 // 2
    assert task.n_inputs == (k if channels == "shared" else k * k) * half + 1
    for x, y in splits(task):
        types = decode_order(x, k, half, channels == "shared")
        assert torch.equal(types.sort(dim=1).values, torch.arange(k).expand_as(types))  # each type once
        assert torch.equal(torch.from_numpy(LABEL_FUNCTIONS[label](types.numpy())), y)
    go = task.x_train[:, :, -1]
    assert torch.all(go[task.readout] == 1) and go[:task.n_steps - R].sum() == 0


@pytest.mark.parametrize("label", ORDER_LABELS)
def test_order_with_two_events_says_which_type_came_first(label):
    task = task_of(2, label, "shared", n=200)
    first = decode_order(task.x_test, 2, 5, shared=True)[:, 0]
    assert torch.equal(task.y_test, first)  # 1: type 1 first


def test_the_order_labels_share_their_inputs():
    """The same samples, labelled two ways; only the validation split, stratified by label, differs."""
    a, b = (get_task("temporal-xor", n_events=4, label=label, channels="shared", n_train=300, n_test=300,
                     val_fraction=0) for label in ORDER_LABELS)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)
    assert not torch.equal(a.y_test, b.y_test)


def test_type_patterns():
    parity_patterns = type_patterns("parity", 4, 7)  # A: the first 3 channels, B: the other 4
    assert parity_patterns.tolist() == [[True] * 3 + [False] * 4, [False] * 3 + [True] * 4]
    order = type_patterns("first-last", 3, 4)  # 3 types of 2 channels each
    assert order.astype(int).tolist() == [[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]]
    # K = 2 and an even n_channels: the same two patterns as A and B
    assert np.array_equal(type_patterns("order-parity", 2, 10), type_patterns("parity", 2, 10))
    assert np.array_equal(type_patterns("order-parity", 5, 6), type_patterns("first-last", 5, 6))


@pytest.mark.parametrize("label", ORDER_LABELS)
@pytest.mark.parametrize("k", KS)
def test_order_classes_are_balanced(k, label):
    task = get_task("temporal-xor", n_events=k, label=label, channels="shared", n_train=4000, n_test=1000)
    y = torch.cat([task.y_train, task.y_val, task.y_test]).float()
    assert abs(float(y.mean()) - 0.5) < binomial_margin(len(y))


def test_order_data_same_seed_same_data_and_split():
    params = dict(n_events=4, label="first-last", channels="shared", n_train=200, n_test=50)
    a, b, c = (get_task("temporal-xor", seed=s, **params) for s in (3, 3, 4))
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert not torch.equal(a.x_train, c.x_train)
    assert a.params["label"] == "first-last" and a.params["seed"] == 3
    # the validation split: 20 % of the training samples, stratified
    assert len(a.y_val) == 40 and len(a.y_train) == 160
    counts = torch.bincount(torch.cat([a.y_train, a.y_val]), minlength=2)
    assert torch.all((torch.bincount(a.y_val, minlength=2) - counts * 40 / 200).abs() < 1)
    assert get_task("temporal-xor", seed=3, val_fraction=0, **params).y_val is None


def test_the_parity_label_is_the_default_and_unchanged():
    default, explicit = get_task("temporal-xor", n_train=64, n_test=16), \
        get_task("temporal-xor", n_train=64, n_test=16, label="parity")
    assert default.params["label"] == "parity"
    assert torch.equal(default.x_train, explicit.x_train) and torch.equal(default.y_test, explicit.y_test)


@pytest.mark.parametrize("params, word, allowed", [
    (dict(label="order"), "label", "'parity', 'order-parity', 'first-last'"),
    (dict(label=None), "label", "first-last"),
    (dict(label="order-parity", n_events=1), "n_events", ">= 2"),
    (dict(label="first-last", channels="both"), "channels", "shared"),
    (dict(label="order-parity", n_channels=1), "n_channels", ">= 2"),
    (dict(label="first-last", gap=-1), "gap", ">= 0"),
])
def test_bad_parameters_name_themselves_and_their_allowed_values(params, word, allowed):
    with pytest.raises(ValueError, match=rf"\b{word}\b") as info:
        get_task("temporal-xor", n_train=16, n_test=8, **params)
    assert allowed in str(info.value)


# --- validity: a counting network solves what counting solves, and nothing more ------------------------


@pytest.mark.parametrize("k", KS)
def test_counting_network_computes_parity_on_shared_channels(k):
    task = task_of(k, "parity", "shared")
    b_channels = np.flatnonzero(type_patterns("parity", k, 10)[1])
    model = counting_network(task, b_channels, spikes_per_event=len(b_channels) * E, k=k)
    for x, y in splits(task):
        assert accuracy(model, task, x, y) == 1.0


@pytest.mark.parametrize("label", ORDER_LABELS)
@pytest.mark.parametrize("k", KS)
def test_counting_network_computes_order_on_separate_channels(k, label):
    """The order written in space: a lookup table of per-channel counts. Neuron ``π`` (one per permutation)
    gets ``1 / ((K - 1/2) · h · E)`` per spike on the channels of type ``π[s]`` of event ``s``, every ``s``, so
    its membrane is ``m / (K - 1/2)`` with ``m`` the events that match ``π``: it fires iff all ``K`` match.
    The readout adds the labels of the firing neurons, minus 1/2."""
    task = task_of(k, label, "separate")
    half, group = 5, k * 5
    perms = list(itertools.permutations(range(k)))
    weight = torch.zeros(len(perms), task.n_inputs)
    for i, perm in enumerate(perms):
        for slot, kind in enumerate(perm):
            start = slot * group + kind * half
            weight[i, start:start + half] = 1.0 / ((k - 0.5) * half * E)
    signs = torch.from_numpy(LABEL_FUNCTIONS[label](np.array(perms))).float()
    model = hand_network(task, weight, torch.stack([torch.zeros(len(perms)), signs]), [0.0, -0.5])
    for x, y in splits(task):
        assert accuracy(model, task, x, y) == 1.0


@pytest.mark.parametrize("label", ORDER_LABELS)
@pytest.mark.parametrize("k", KS)
def test_counting_network_is_at_chance_on_order_with_shared_channels(k, label):
    """The network that computes ``parity`` by counting B events, counting the events of type 1 of order
    data instead: every type occurs once, so the count says nothing, and the network gives every sample
    the same answer, right as often as that class occurs."""
    parity_task = task_of(k, "parity", "shared", n=200)
    b_channels = np.flatnonzero(type_patterns("parity", k, 10)[1])
    solver = counting_network(parity_task, b_channels, spikes_per_event=len(b_channels) * E, k=k)
    assert accuracy(solver, parity_task, parity_task.x_test, parity_task.y_test) == 1.0
    task = task_of(k, label, "shared", n=2000)
    counted = np.flatnonzero(type_patterns(label, k, 10)[1])  # the channels of type 1
    model = counting_network(task, counted, spikes_per_event=len(counted) * E, k=k)
    assert abs(accuracy(model, task, task.x_test, task.y_test) - 0.5) < binomial_margin(len(task.y_test))


@pytest.mark.parametrize("label", ORDER_LABELS)
@pytest.mark.parametrize("k", KS)
def test_a_count_of_stochastic_spikes_is_at_chance_on_order_with_shared_channels(k, label):
    """With stochastic spikes the counts vary from sample to sample, but not with the label: a neuron that
    fires iff type 1's channels spiked more than their median count on the training split (weight
    ``1 / (m + 1/2)`` per spike) splits the samples, and agrees with the label only by chance."""
    task = task_of(k, label, "shared", n=2000, **NOISY)
    counted = torch.as_tensor(np.flatnonzero(type_patterns(label, k, 10)[1]))
    median = float(task.x_train[:, :, counted].sum((0, 2)).median())
    weight = torch.zeros(1, task.n_inputs)
    weight[0, counted] = 1.0 / (median + 0.5)
    model = hand_network(task, weight, [[0.0], [1.0]], [0.0, -0.5])
    with torch.no_grad():
        fired = model(task.x_test, window=task.readout).argmax(-1).float().mean()
    assert 0.2 < float(fired) < 0.8  # not a constant guess
    assert abs(accuracy(model, task, task.x_test, task.y_test) - 0.5) < binomial_margin(len(task.y_test))


@pytest.mark.parametrize("k", KS)
def test_no_integrator_without_reset_can_tell_order_on_shared_channels(k):
    """Any weights: an IF-noreset layer's recall membrane is ``W c + b (t + 1)``, and noise-free order data
    give every sample the same counts ``c``, so the same logits; with a reset or a leak they differ."""
    task = task_of(k, "order-parity", "shared", n=300)  # the inputs of both order labels
    generator = torch.Generator().manual_seed(k)
    weight = torch.randn(32, task.n_inputs, generator=generator) * 0.7
    readout = torch.randn(2, 32, generator=generator)
    counting = hand_network(task, weight, readout, [0.0, 0.0], variant="IF-noreset")
    with torch.no_grad():
        logits = counting(task.x_test, window=task.readout)
        assert torch.allclose(logits, logits[:1].expand_as(logits), atol=1e-5)
        for variant in ("IF", "LIF"):
            other = hand_network(task, weight, readout, [0.0, 0.0], variant=variant, decay=0.9)(
                task.x_test, window=task.readout)
            assert not torch.allclose(other, other[:1].expand_as(other), atol=1e-3), variant


def test_a_reset_tells_which_type_came_first():
    """IF with a hard reset, ``K = 2``: a neuron excited by type 0 (it fires and resets at every step of it),
    inhibited by type 1 (``-(2R + 1)`` in all), and driven by ``2`` per step of the go signal. If type 0 came
    last, the reset has wiped type 1's inhibition and the go signal makes it fire; if type 1 came last, the
    inhibition outlasts the ``R`` recall steps. It fires iff type 1 came first: the label. Without the reset
    (``IF-noreset``) the same weights are at chance."""
    task = task_of(2, "order-parity", "shared", n=2000)
    half = 5
    weight = torch.zeros(1, task.n_inputs)
    inhibit = (2 * R + 1) / (half * E)
    weight[0, :half] = (inhibit * half * E + 2) / half  # type 0: beats all of type 1's inhibition at once
    weight[0, half:2 * half] = -inhibit
    weight[0, -1] = 2.0  # go
    readout = [[0.0], [1.0]], [0.0, -0.5]
    assert accuracy(hand_network(task, weight, *readout, variant="IF"), task, task.x_test, task.y_test) == 1.0
    blind = accuracy(hand_network(task, weight, *readout, variant="IF-noreset"), task, task.x_test, task.y_test)
    assert abs(blind - 0.5) < binomial_margin(len(task.y_test))


def test_a_leak_tells_which_type_came_last():
    """LIF (``λ = 0.9``), ``K = 2``, one recall step: ``+w`` per spike of type 1, ``-w`` of type 0 with
    ``w h E = 1/2`` (no spike before recall), and the go signal at ``θ = 1``. At recall ``V = 1 + λ d`` with
    ``d = w h (Σ λ^age over type 1's spikes - the same over type 0's)``: positive iff type 1 came last, and
    then it fires. Firing says "type 0 first", the label 0. An integrator (``IF-noreset``) has ``d = 0``."""
    task = get_task("temporal-xor", n_events=2, label="first-last", channels="shared", n_train=500, n_test=500,
                    **{**EXACT, "recall_steps": 1})
    half = 5
    w = 0.5 / (half * E)
    weight = torch.zeros(1, task.n_inputs)
    weight[0, :half], weight[0, half:2 * half], weight[0, -1] = -w, w, 1.0
    readout = [[1.0], [0.0]], [-0.5, 0.0]
    assert accuracy(hand_network(task, weight, *readout, variant="LIF", decay=0.9),
                    task, task.x_test, task.y_test) == 1.0
    blind = accuracy(hand_network(task, weight, *readout, variant="IF-noreset"), task, task.x_test, task.y_test)
    assert abs(blind - 0.5) < binomial_margin(len(task.y_test))


def test_parity_labels_still_count_b_events():
    task = task_of(3, "parity", "shared", n=300)
    b = torch.from_numpy(type_patterns("parity", 3, 10)[1])
    ids = torch.stack([task.x_test[onset:onset + E, :, :10][..., b].sum((0, 2)) > 0
                       for onset in event_onsets(3, E, GAP)], dim=1).long()
    assert torch.equal(task.y_test, torch.from_numpy(parity(ids.numpy())))
