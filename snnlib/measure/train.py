r"""Training by backpropagation through time with surrogate gradients, and evaluation.

The loss of a network is the cross-entropy of the readout logits (the readout membrane averaged over the
task's readout window, :mod:`snnlib.model.layers`), plus an optional firing-rate penalty::

    loss = mean_b CE(logits_b, y_b)  +  rate_reg · (1/L) Σ_l r_l

with ``r_l`` the firing rate of hidden layer ``l`` on the batch (spikes per neuron per step). For a task
whose ``readout`` is a tuple of ``K`` windows and whose ``y_train`` is ``[N, K]`` (a stream of ``K``
segments), the cross-entropy and the accuracy are means over the segments too. Adam updates all weights.
The Heaviside step's derivative is replaced by the surrogate's in the backward pass
(:class:`~snnlib.model.neurons.StrictATan`).

Networks are trained as ensembles (:func:`fit_members`, :mod:`snnlib.model.ensemble`): the members of
one group are stacked into one model and the ensemble's loss is the sum of the members' losses, so no
gradient mixes members and one Adam over the stacked parameters is, elementwise, one Adam per member.
A member's trained weights do not depend on the group it was trained in (bit for bit on the CPU), and a
single network (:func:`fit`) is an ensemble of one.

Validation: when a task has ``x_val`` / ``y_val``, every member is measured on them after every epoch,
and the weights of its epoch of best validation accuracy (the first best on ties) are the ones kept.
Without a validation split the last epoch's weights are kept. Test data are never touched here.

Early stopping (``TrainConfig.patience``): a member with a validation split stops once ``patience``
epochs in a row have not improved its best validation accuracy (a plateau); ``epochs`` is then the
*maximum* number of epochs. A member whose best epoch is the last one allowed had not reached a plateau:
``fit_members`` reports it (``converged`` is ``False``). In an ensemble the stacked computation goes on
until every member has stopped, but a stopped member's history, best epoch and kept weights end at its
own stop, so its result is the one it gets alone.

Determinism: :func:`seed_everything` seeds torch (weights) and a dedicated generator per member, seeded
by its ``TrainConfig.seed``, shuffles its batches, so on the CPU the same seed gives the same weights and
metrics.
"""

from __future__ import annotations

import ctypes
import random
import sys
from dataclasses import asdict, dataclass
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from snnlib.checks import check_int
from snnlib.measure.metrics import measure
from snnlib.model.ensemble import EnsembleSNN, group_limit  # noqa: F401  (group_limit: re-exported)
from snnlib.model.models import SNN


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of one training run."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    device: str = "auto"
    progress: bool = False  # a tqdm bar over epochs
    rate_reg: float = 0.0  # weight of the mean hidden firing rate in the loss
    patience: int | None = None  # stop after this many epochs without a better validation accuracy

    def __post_init__(self):
        check_int("epochs", self.epochs)
        if self.patience is not None:
            check_int("patience", self.patience)
        check_int("batch_size", self.batch_size)
        check_int("seed", self.seed, minimum=0)
        if not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise ValueError(f"lr must be a number > 0, got {self.lr!r}")
        if isinstance(self.rate_reg, bool) or not isinstance(self.rate_reg, (int, float)) or not self.rate_reg >= 0:
            raise ValueError(f"rate_reg must be a number >= 0, got {self.rate_reg!r}")
        resolve_device(self.device)

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when present, else the CPU; ``"cpu"``, ``"cuda"``, ``"cuda:1"`` are taken as given."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available; use 'auto' or 'cpu'")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """Let the C allocator keep freed memory for reuse instead of handing it back to the system
    (glibc on Linux: ``mallopt(M_MMAP_MAX, 0)`` and ``mallopt(M_TRIM_THRESHOLD, 1 GiB)``); once per process.

    A training step allocates the same large buffers (membranes, spikes, gradients, ``[T, B, n]`` per
    layer and member) again and again. By default glibc serves each with a fresh ``mmap`` and returns it on
    free, so every step pays the page faults of touching new memory; on a virtual machine that doubled the
    step time of a 10-member ensemble. Kept, the memory is reused; the process's resident memory stays at
    its peak. Returns whether the setting was applied (``False`` off glibc; nothing else changes).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(-4, 0) == 1 and libc.mallopt(-1, 1 << 30) == 1  # M_MMAP_MAX, M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        return False
    _ALLOCATOR_TUNED = ok
    return ok


def batches(n: int, batch_size: int, generator: torch.Generator | None = None):
    """Index tensors covering ``range(n)`` in batches, shuffled when a generator is given."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return order.split(batch_size)


#: the TrainConfig fields every member of one ensemble must share
SHARED_FIELDS = ("epochs", "batch_size", "lr", "device", "patience")


def _check_members(models, tasks, configs) -> None:
    if not (len(models) == len(tasks) == len(configs)) or not models:
        raise ValueError(f"models, tasks and configs must be non-empty lists of equal length, got "
                         f"{len(models)}, {len(tasks)} and {len(configs)}")
    for name in SHARED_FIELDS:
        values = [getattr(c, name) for c in configs]
        if len(set(values)) != 1:
            raise ValueError(f"all configs of one ensemble must agree on {name}, got {values}")
    for name in ("x_train", "y_train"):
        shapes = [tuple(getattr(t, name).shape) for t in tasks]
        if len(set(shapes)) != 1:
            raise ValueError(f"all tasks of one ensemble must have {name} of one shape, got {shapes}")
    for task in tasks:
        streams = isinstance(task.readout, tuple)
        if task.y_train.dim() != (2 if streams else 1) or (streams and task.y_train.shape[1] != len(task.readout)):
            raise ValueError(f"y_train must be [N] with a slice readout, or [N, K] with a tuple of K readout "
                             f"windows; got shape {tuple(task.y_train.shape)} with readout {task.readout!r}")


def _losses_and_hits(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member mean cross-entropy ``[M]`` and correct predictions ``[M]`` (counted over segments).

    ``logits`` ``[M, B, C]`` with ``y [M, B]``, or ``[M, K, B, C]`` with ``y [M, B, K]`` (streams)."""
    if logits.dim() == 4:
        y = y.permute(0, 2, 1)  # [M, K, B]
    members, classes = logits.shape[0], logits.shape[-1]
    ce = nn.functional.cross_entropy(logits.reshape(-1, classes), y.reshape(-1), reduction="none")
    hits = (logits.argmax(-1) == y).reshape(members, -1).sum(1)
    return ce.view(members, -1).mean(1), hits


class _MemberSplit:
    """One split (``("x_train", "y_train")`` or the validation pair) of every member's task, laid out
    sample-major once, ``x [M, N, T, F]`` and ``y [M, N(, K)]``, so that a batch of every member is one
    gather of contiguous ``T × F`` blocks (:meth:`batch`) instead of ``M`` strided gathers along the
    sample axis of ``[T, N, F]``. A task without the split (``None``) contributes zeros of the same shape
    (its results are not used). Pure copies: the batches hold exactly the task's numbers."""

    def __init__(self, tasks, names, device):
        x_name, y_name = names
        have = [t for t in tasks if getattr(t, x_name, None) is not None]
        x_like, y_like = getattr(have[0], x_name), getattr(have[0], y_name)
        xs = [getattr(t, x_name, None) for t in tasks]
        ys = [getattr(t, y_name, None) for t in tasks]
        self.x = torch.stack([(x if x is not None else torch.zeros_like(x_like)).transpose(0, 1) for x in xs]).to(device)
        self.y = torch.stack([y if y is not None else torch.zeros_like(y_like) for y in ys]).to(device)
        self.members = torch.arange(len(tasks), device=device)[:, None]

    def keep(self, positions: list[int]) -> None:
        """Keep only the members at ``positions`` (in that order)."""
        index = torch.tensor(positions, device=self.x.device)
        self.x, self.y = self.x[index], self.y[index]
        self.members = self.members[: len(positions)]

    def batch(self, idxs) -> tuple[torch.Tensor, torch.Tensor]:
        """Member-first batches ``x [M, T, B, F]``, ``y [M, B(, K)]``; ``idxs``: one index tensor per member."""
        rows = torch.stack(list(idxs)).to(self.x.device)
        return self.x[self.members, rows].transpose(1, 2), self.y[self.members, rows]


@torch.no_grad()
def _accuracies(ensemble: EnsembleSNN, split: _MemberSplit, windows, batch_size: int) -> list[float]:
    """Each member's accuracy on its own ``split`` (eval mode; batches of ``batch_size``)."""
    ensemble.eval()
    n = split.y.shape[1]
    hits = torch.zeros(split.y.shape[0], dtype=torch.long)
    for idx in torch.arange(n).split(batch_size):
        x, y = split.batch([idx] * len(hits))
        hits += _losses_and_hits(ensemble.forward_members(x, windows), y)[1].cpu()
    per_sample = n * (len(windows[0]) if isinstance(windows[0], tuple) else 1)
    return (hits.double() / per_sample).tolist()


def _drop_stopped(ensemble: EnsembleSNN, optimizer: torch.optim.Adam, positions: list[int]) -> torch.optim.Adam:
    """Keep the ensemble's members at ``positions`` and an Adam carrying their moments and step count:
    each kept member goes on exactly as before (Adam is elementwise), and the stopped ones cost nothing."""
    index = torch.tensor(positions)
    before = list(ensemble.parameters())
    ensemble.keep_members(positions)
    after = list(ensemble.parameters())
    kept = torch.optim.Adam(after, **optimizer.defaults)
    for old, new in zip(before, after):
        for key, value in optimizer.state.get(old, {}).items():  # exp_avg, exp_avg_sq: [M, ...]; step: []
            kept.state[new][key] = value[index.to(value.device)].clone() if value.dim() > 0 else value.clone()
    return kept


def fit_members(models: list[SNN], tasks: list, configs: list[TrainConfig]) -> list[dict]:
    """Train ``models`` together as one ensemble; the kept weights are written back into each ``models[i]``.

    A member that early stopping ends leaves the stack at the end of that epoch (:func:`_drop_stopped`):
    the others go on exactly as before, and the stopped one costs nothing more.

    Args:
        models: SNNs of the same shapes (inputs, hidden sizes, classes, recurrence), each built alone
            (e.g. ``seed_everything(seed); build_snn(...)``); λ, θ, reset and readout decay may differ.
        tasks: one :class:`~snnlib.data.TaskData` (or anything with ``x_train``, ``y_train``, ``readout``
            and optionally ``x_val``, ``y_val``) per member, of equal sizes.
        configs: one :class:`TrainConfig` per member; ``seed`` (the shuffling) and ``rate_reg`` may differ,
            ``epochs``, ``batch_size``, ``lr`` and ``device`` must agree.

    Returns:
        per member ``dict(history=[{epoch, loss, accuracy, val_accuracy}], best_epoch, val_accuracy,
        final_train_loss, epochs_trained, converged)``; ``val_accuracy`` is that of the kept epoch (``None``
        without a validation split), ``final_train_loss`` the mean training loss of the kept epoch,
        ``epochs_trained`` the epochs the member ran before it stopped, ``converged`` whether its best
        epoch came before the last one allowed (``None`` without a validation split).
    """
    models, tasks, configs = list(models), list(tasks), list(configs)
    _check_members(models, tasks, configs)
    keep_freed_memory()
    first = configs[0]
    device = resolve_device(first.device)
    ensemble = EnsembleSNN.from_members(models).to(device)
    optimizer = torch.optim.Adam(ensemble.parameters(), lr=first.lr)
    shuffles = [torch.Generator().manual_seed(c.seed) for c in configs]
    windows = [t.readout for t in tasks]
    rate_reg = torch.tensor([float(c.rate_reg) for c in configs], device=device)
    regularise = bool((rate_reg > 0).any())
    has_val = [getattr(t, "x_val", None) is not None and getattr(t, "y_val", None) is not None for t in tasks]
    n, members = len(tasks[0].y_train), len(models)
    per_sample = len(windows[0]) if isinstance(windows[0], tuple) else 1
    histories = [[] for _ in models]
    best = [dict(epoch=None, val_accuracy=None, state=None) for _ in models]
    progress = any(c.progress for c in configs)
    train_split = _MemberSplit(tasks, ("x_train", "y_train"), device)
    val_split = None
    if any(has_val):
        shapes = {(tuple(t.x_val.shape), tuple(t.y_val.shape)) for t, ok in zip(tasks, has_val) if ok}
        if len(shapes) != 1:
            raise ValueError(f"all tasks of one ensemble must have x_val and y_val of one shape, got {shapes}")
        val_split = _MemberSplit(tasks, ("x_val", "y_val"), device)
    active = [True] * members  # False once a member has stopped (early stopping)
    alive = list(range(members))  # the members still in the ensemble, in its order
    for epoch in tqdm(range(first.epochs), desc="epochs", disable=not progress, leave=False):
        if not any(active):
            break
        ensemble.train()
        total_loss, correct = [0.0] * members, [0] * members
        live_windows = [windows[m] for m in alive]
        live_rate_reg = rate_reg[alive] if regularise else None
        orders = [batches(n, first.batch_size, shuffles[m]) for m in alive]
        for idxs in zip(*orders):
            x, y = train_split.batch(idxs)
            losses, hits = _losses_and_hits(ensemble.forward_members(x, live_windows), y)
            if regularise:
                losses = losses + live_rate_reg * ensemble.member_rates()
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            optimizer.step()
            for m, value, hit in zip(alive, losses.tolist(), hits.tolist()):
                total_loss[m] += value * len(idxs[0])
                correct[m] += hit
        val = [None] * members
        if any(has_val):
            for m, score in zip(alive, _accuracies(ensemble, val_split, live_windows, first.batch_size)):
                val[m] = score if has_val[m] else None
        for position, m in enumerate(alive):
            histories[m].append(dict(epoch=epoch, loss=total_loss[m] / n,
                                     accuracy=correct[m] / (n * per_sample), val_accuracy=val[m]))
            if has_val[m] and (best[m]["val_accuracy"] is None or val[m] > best[m]["val_accuracy"]):
                best[m] = dict(epoch=epoch, val_accuracy=val[m], state=ensemble.member_state(position))
            if has_val[m] and first.patience is not None and epoch - best[m]["epoch"] >= first.patience:
                active[m] = False
        still = [position for position, m in enumerate(alive) if active[m]]
        if still and len(still) < len(alive):  # stopped members leave the stack
            optimizer = _drop_stopped(ensemble, optimizer, still)
            for split in (train_split, val_split):
                if split is not None:
                    split.keep(still)
            alive = [alive[position] for position in still]
    results = []
    for m, model in enumerate(models):
        kept = best[m]["epoch"] if has_val[m] else first.epochs - 1
        if best[m]["state"] is not None:
            ensemble.load_member(0, model, best[m]["state"])
        else:  # no validation split: the member trained every epoch and is still in the stack
            ensemble.load_member(alive.index(m), model)
        results.append(dict(history=histories[m], best_epoch=kept, val_accuracy=best[m]["val_accuracy"],
                            final_train_loss=histories[m][kept]["loss"], epochs_trained=len(histories[m]),
                            converged=(kept < first.epochs - 1) if has_val[m] else None))
    return results


def fit(model: SNN, x: torch.Tensor, y: torch.Tensor, readout, config: TrainConfig) -> list[dict]:
    """Train ``model`` on ``x [T, N, F]``, ``y [N]`` (no validation split); returns the history (mean loss
    and accuracy per epoch). The same as :func:`fit_members` of one member."""
    task = SimpleNamespace(x_train=x, y_train=y, readout=readout)
    return fit_members([model], [task], [config])[0]["history"]


def evaluate(model: SNN, x: torch.Tensor, y: torch.Tensor, readout: slice, batch_size: int = 512) -> dict:
    """Accuracy, mean cross-entropy, per-layer firing rates (``firing_rates``), pooled firing rate,
    sparsity and SynOps per sample of ``model`` on ``x``, ``y``: :func:`snnlib.measure.metrics.measure`."""
    return measure(model, x, y, readout, batch_size)
