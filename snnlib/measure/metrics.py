r"""Measurements of a trained network: accuracy, generalization, efficiency, streams.

Definitions (``S_l[t, b, i] ∈ {0, 1}``: spike of neuron ``i`` of spiking layer ``l`` at step ``t`` for
sample ``b``; ``T`` steps, ``B`` samples, ``n_l`` neurons in layer ``l``):

Firing rate of layer ``l`` -- mean spikes per neuron per step (:func:`firing_rates`)::

    r_l = Σ_{t,b,i} S_l[t,b,i] / (T · B · n_l)

The pooled rate of the network (:func:`pooled_firing_rate`) is total spikes over total neuron-steps,
``Σ_l Σ S_l / (T · B · Σ_l n_l)``, i.e. the layer rates weighted by layer size.

Activation sparsity -- the fraction of silent neuron-steps over all spiking layers
(:func:`activation_sparsity`)::

    sparsity = #{(l, t, b, i) : S_l[t,b,i] = 0} / (T · B · Σ_l n_l)       (= 1 - pooled rate)

Synaptic operations per sample (:func:`synops_per_sample`). A spike of a neuron drives one
accumulate operation at every synapse it projects to, its *fan-out*::

    fan_out_l = out_features of the next spiking layer (l < L-1)
              | out_features of the readout            (l = L-1, the last spiking layer)
              + n_l                                     if layer l is recurrent (W_rec: n_l -> n_l)

    SynOps/sample = (1/B) Σ_l fan_out_l · Σ_{t,b,i} S_l[t,b,i]
                  (+ (1/B) n_0 · Σ_{t,b,j} x[t,b,j]    with ``x_spikes``: 0/1 input spikes into layer 0)

Every spike counts, including a recurrent spike of the last step whose effect would fall after the
sequence ends. Real-valued input currents are multiply-accumulates, not spike-driven operations, so
the input term is added only when the input is spikes (``TaskData.encoding == "spikes"``), on request.

Train-test gap (:func:`gap`): ``train accuracy - test accuracy``.

Uninterrupted processing (:func:`stream_accuracy`): a stream ``x [K·T, N, F]`` holds ``K`` samples
back to back; ONE forward pass from a cleared state runs over the whole stream (the state is never
cleared between segments), and the logits of segment ``k`` are the readout membrane ``U`` averaged
over that segment's window ``R_k`` (absolute steps of the stream)::

    logits_k = (1/|R_k|) Σ_{t ∈ R_k} U[t],        accuracy_k = mean_n [argmax logits_k[n] = y[n, k]]

:func:`segment_windows` turns a task's per-sample readout window into the ``K`` absolute windows.

Membrane drift (:func:`membrane_drift`): the mean post-reset hidden membrane ``V_l[t]`` (recorded by
the nodes' ``store_v_seq``) over the steps of segment ``k``, the samples and the neurons of layer ``l``::

    drift[l][k] = mean_{t ∈ segment k, b, i} V_l[t, b, i]          (signed)

Temporal generalization (:func:`temporal_generalization`): the accuracy of a trained model on
another :class:`~snnlib.data.TaskData` (the same task at another delay or length), read out over
that task's own readout window.
"""

from __future__ import annotations

import torch
from torch import nn

from snnlib.checks import check_int
from snnlib.model.models import SNN

__all__ = [
    "firing_rates", "pooled_firing_rate", "activation_sparsity", "fan_outs", "layer_synops",
    "input_synops", "synops_per_sample", "gap", "measure", "train_test_gap", "segment_windows", "stream_accuracy",
    "membrane_drift", "temporal_generalization",
]


# --- input checks ---------------------------------------------------------------------------------
def _check_spikes(spikes) -> list[torch.Tensor]:
    spikes = list(spikes)
    if not spikes or not all(isinstance(s, torch.Tensor) and s.dim() == 3 for s in spikes):
        raise ValueError("spikes must be a non-empty list of [T, B, n] tensors, one per spiking layer")
    if len({s.shape[:2] for s in spikes}) != 1:
        raise ValueError(f"spikes must share T and B across layers, got shapes {[tuple(s.shape) for s in spikes]}")
    return spikes


def _check_xy(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.dim() != 3:
        raise ValueError(f"x must be [T, N, features], got shape {tuple(x.shape)}")
    if y.dim() != 1 or len(y) != x.shape[1]:
        raise ValueError(f"y must be [N] with N = x.shape[1] = {x.shape[1]}, got shape {tuple(y.shape)}")


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _batches(n: int, batch_size: int):
    return torch.arange(n).split(batch_size)


# --- efficiency: pure functions of the recorded spikes --------------------------------------------
def firing_rates(spikes) -> list[float]:
    """Mean spikes per neuron per step of each layer, ``r_l``, from spikes ``[T, B, n_l]``."""
    return [s.float().mean().item() for s in _check_spikes(spikes)]


def pooled_firing_rate(spikes) -> float:
    """Total spikes over total neuron-steps of all layers (layer rates weighted by layer size)."""
    spikes = _check_spikes(spikes)
    return sum(s.float().sum().item() for s in spikes) / sum(s.numel() for s in spikes)


def activation_sparsity(spikes) -> float:
    """Fraction of silent neuron-steps (``S = 0``) over all spiking layers."""
    spikes = _check_spikes(spikes)
    return sum((s == 0).sum().item() for s in spikes) / sum(s.numel() for s in spikes)


def fan_outs(model: SNN) -> list[int]:
    """Synapses each spike of spiking layer ``l`` drives: the next layer's (or the readout's)
    ``out_features``, plus ``out_features`` of its own if the layer is recurrent."""
    layers = list(model.layers)
    targets = [nxt.out_features for nxt in layers[1:]] + [model.readout.fc.out_features]
    return [t + (layer.out_features if layer.recurrent else 0) for layer, t in zip(layers, targets)]


def layer_synops(model: SNN, spikes) -> list[float]:
    """SynOps per sample of each spiking layer: ``fan_out_l · Σ S_l / B``."""
    spikes = _check_spikes(spikes)
    if len(spikes) != len(model.layers):
        raise ValueError(f"spikes must have one entry per spiking layer ({len(model.layers)}), got {len(spikes)}")
    batch = spikes[0].shape[1]
    return [f * s.float().sum().item() / batch for f, s in zip(fan_outs(model), spikes)]


def synops_per_sample(model: SNN, spikes, x_spikes: torch.Tensor | None = None) -> float:
    """Synaptic operations per sample (module docstring); ``x_spikes`` adds the input spikes' term."""
    total = sum(layer_synops(model, spikes))
    if x_spikes is not None:
        total += input_synops(model, x_spikes)
    return total


def input_synops(model: SNN, x_spikes: torch.Tensor) -> float:
    """SynOps per sample of 0/1 input spikes ``[T, B, F]`` into the first layer: ``n_0 · Σ x / B``."""
    if x_spikes.dim() != 3:
        raise ValueError(f"x_spikes must be [T, B, features], got shape {tuple(x_spikes.shape)}")
    if not torch.all((x_spikes == 0) | (x_spikes == 1)):
        raise ValueError("x_spikes must hold 0/1 spikes; real-valued input currents have no input SynOps")
    return model.layers[0].out_features * x_spikes.sum().item() / x_spikes.shape[1]


def gap(train_accuracy: float, test_accuracy: float) -> float:
    """The generalization gap ``train accuracy - test accuracy``."""
    return float(train_accuracy) - float(test_accuracy)


# --- one pass over a data set ---------------------------------------------------------------------
@torch.no_grad()
def measure(model: SNN, x: torch.Tensor, y: torch.Tensor, readout: slice = slice(None), batch_size: int = 512,
            input_spikes: bool = False) -> dict:
    """Accuracy, loss and efficiency of ``model`` on ``x [T, N, F]``, ``y [N]`` in one pass (eval mode).

    Returns a dict with ``accuracy``, ``loss`` (mean cross-entropy), ``firing_rates`` (per layer),
    ``firing_rate`` (pooled), ``sparsity``, ``synops`` (per sample, input spikes included when
    ``input_spikes``), ``layer_synops`` (per layer, per sample) and ``n``.
    """
    _check_xy(x, y)
    batch_size = check_int("batch_size", batch_size)
    device = _device(model)
    model.eval()
    n_layers = len(model.layers)
    correct, loss, spikes, silent, in_spikes = 0, 0.0, [0.0] * n_layers, 0, 0.0
    for idx in _batches(len(y), batch_size):
        xb, yb = x[:, idx].to(device), y[idx].to(device)
        logits = model(xb, readout)
        correct += (logits.argmax(1) == yb).sum().item()
        loss += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        for l, s in enumerate(model.last_spikes):
            spikes[l] += s.sum().item()
            silent += (s == 0).sum().item()
        if input_spikes:
            in_spikes += input_synops(model, xb) * len(idx)
    n, steps = len(y), x.shape[0]
    sizes = [layer.out_features for layer in model.layers]
    per_layer = [f * total / n for f, total in zip(fan_outs(model), spikes)]
    return dict(accuracy=correct / n, loss=loss / n,
                firing_rates=[total / (n * steps * size) for total, size in zip(spikes, sizes)],
                firing_rate=sum(spikes) / (n * steps * sum(sizes)),
                sparsity=silent / (n * steps * sum(sizes)),
                synops=sum(per_layer) + in_spikes / n, layer_synops=per_layer, n=n)


def _check_task_fits(model: SNN, task) -> None:
    if task.n_inputs != model.layers[0].in_features:
        raise ValueError(f"task {task.name!r} has {task.n_inputs} inputs but the model takes "
                         f"{model.layers[0].in_features}")
    if task.n_classes != model.readout.fc.out_features:
        raise ValueError(f"task {task.name!r} has {task.n_classes} classes but the model has "
                         f"{model.readout.fc.out_features} outputs")


def train_test_gap(model: SNN, task, batch_size: int = 512) -> dict:
    """``train_accuracy``, ``test_accuracy`` and their ``gap`` on ``task`` (its readout window)."""
    _check_task_fits(model, task)
    train = measure(model, task.x_train, task.y_train, task.readout, batch_size)["accuracy"]
    test = measure(model, task.x_test, task.y_test, task.readout, batch_size)["accuracy"]
    return dict(train_accuracy=train, test_accuracy=test, gap=gap(train, test))


def temporal_generalization(model: SNN, task, split: str = "test", batch_size: int = 512) -> dict:
    """:func:`measure` of a trained ``model`` on another ``task`` (e.g. another delay), read out over
    ``task.readout``; adds ``n_steps`` (the task's sequence length) and ``task_params``."""
    if split not in ("test", "train"):
        raise ValueError(f"split must be one of ('test', 'train'), got {split!r}")
    _check_task_fits(model, task)
    x, y = (task.x_test, task.y_test) if split == "test" else (task.x_train, task.y_train)
    result = measure(model, x, y, task.readout, batch_size, input_spikes=task.encoding == "spikes")
    return dict(result, n_steps=task.n_steps, task_params=dict(task.params))


# --- uninterrupted streams ------------------------------------------------------------------------
def segment_windows(readout: slice, n_steps: int, n_segments: int) -> list[slice]:
    """The absolute readout windows of ``n_segments`` samples of ``n_steps`` steps each laid back to
    back, each sample read out over ``readout`` (relative to its own start, step 1)."""
    check_int("n_steps", n_steps)
    check_int("n_segments", n_segments)
    if not isinstance(readout, slice):
        raise ValueError(f"readout must be a slice, got {readout!r}")
    start, stop, step = readout.indices(n_steps)
    if step != 1 or stop <= start:
        raise ValueError(f"readout must be a non-empty slice with step 1 within {n_steps} steps, got {readout}")
    return [slice(k * n_steps + start, k * n_steps + stop) for k in range(n_segments)]


def _check_windows(windows, total_steps: int, n_segments: int) -> list[slice]:
    windows = list(windows)
    if len(windows) != n_segments:
        raise ValueError(f"windows must hold one slice per segment ({n_segments}), got {len(windows)}")
    for w in windows:
        if not isinstance(w, slice) or len(range(*w.indices(total_steps))) == 0:
            raise ValueError(f"each window must be a non-empty slice within the {total_steps} stream steps, got {w!r}")
    return windows


@torch.no_grad()
def stream_accuracy(model: SNN, x_stream: torch.Tensor, y_segments: torch.Tensor, windows,
                    batch_size: int = 512) -> list[float]:
    """Accuracy at each stream position ``k`` of ONE uninterrupted forward pass over ``x_stream``.

    Args:
        x_stream: ``[K·T, N, F]``, ``K`` samples back to back (the state is never cleared in between).
        y_segments: ``[N, K]``, the label of each segment.
        windows: ``K`` slices of absolute stream steps; segment ``k``'s logits are the readout
            membrane averaged over ``windows[k]`` (see :func:`segment_windows`).
    """
    if x_stream.dim() != 3:
        raise ValueError(f"x_stream must be [K*T, N, features], got shape {tuple(x_stream.shape)}")
    if y_segments.dim() != 2 or y_segments.shape[0] != x_stream.shape[1]:
        raise ValueError(f"y_segments must be [N, K] with N = {x_stream.shape[1]}, got shape {tuple(y_segments.shape)}")
    windows = _check_windows(windows, x_stream.shape[0], y_segments.shape[1])
    batch_size = check_int("batch_size", batch_size)
    device = _device(model)
    model.eval()
    correct = torch.zeros(len(windows), dtype=torch.long)
    for idx in _batches(x_stream.shape[1], batch_size):
        u = model.membrane(x_stream[:, idx].to(device))  # [K·T, B, C], one pass from a cleared state
        yb = y_segments[idx].to(device)
        for k, w in enumerate(windows):
            correct[k] += (u[w].mean(dim=0).argmax(1) == yb[:, k]).sum().item()
    return (correct.double() / x_stream.shape[1]).tolist()


@torch.no_grad()
def membrane_drift(model: SNN, x_stream: torch.Tensor, n_segments: int, batch_size: int = 512) -> list[list[float]]:
    """Mean post-reset hidden membrane per layer and per segment, ``drift[l][k]``, along ONE
    uninterrupted pass over ``x_stream [K·T, N, F]`` cut into ``n_segments`` equal segments.

    The nodes' ``store_v_seq`` is switched on for the pass and restored afterwards.
    """
    if x_stream.dim() != 3:
        raise ValueError(f"x_stream must be [K*T, N, features], got shape {tuple(x_stream.shape)}")
    if isinstance(n_segments, bool) or not isinstance(n_segments, int) or n_segments < 1 \
            or x_stream.shape[0] % n_segments:
        raise ValueError(f"n_segments must be an integer >= 1 dividing the {x_stream.shape[0]} stream steps, "
                         f"got {n_segments!r}")
    batch_size = check_int("batch_size", batch_size)
    device = _device(model)
    model.eval()
    nodes = [layer.node for layer in model.layers]
    saved = [node.store_v_seq for node in nodes]
    sums = torch.zeros(len(nodes), n_segments, dtype=torch.float64)
    try:
        for node in nodes:
            node.store_v_seq = True
        for idx in _batches(x_stream.shape[1], batch_size):
            model.membrane(x_stream[:, idx].to(device))
            for l, node in enumerate(nodes):
                v = node.v_seq  # [K·T, B, n]
                seg = v.reshape(n_segments, -1, *v.shape[1:])  # [K, T, B, n]
                sums[l] += seg.double().sum(dim=(1, 2, 3)).cpu()
    finally:
        for node, flag in zip(nodes, saved):
            node.store_v_seq = flag
    steps = x_stream.shape[0] // n_segments
    counts = torch.tensor([steps * x_stream.shape[1] * node_layer.out_features for node_layer in model.layers],
                          dtype=torch.float64)
    return (sums / counts[:, None]).tolist()
