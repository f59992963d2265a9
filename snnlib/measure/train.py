r"""Training by backpropagation through time with surrogate gradients, and evaluation.

The loss is the cross-entropy of the readout logits (the readout membrane averaged over the task's
readout window, :mod:`snnlib.model.layers`); Adam updates all weights. The Heaviside step's derivative is
replaced by the surrogate's in the backward pass (:class:`~snnlib.model.neurons.StrictATan`).

Determinism: :func:`seed_everything` seeds torch (weights) and a dedicated generator shuffles the
batches, so on the CPU the same seed gives the same weights and metrics.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from snnlib.checks import check_int
from snnlib.measure.metrics import measure
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

    def __post_init__(self):
        check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        check_int("seed", self.seed, minimum=0)
        if not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise ValueError(f"lr must be a number > 0, got {self.lr!r}")
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


def batches(n: int, batch_size: int, generator: torch.Generator | None = None):
    """Index tensors covering ``range(n)`` in batches, shuffled when a generator is given."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return order.split(batch_size)


def fit(model: SNN, x: torch.Tensor, y: torch.Tensor, readout: slice, config: TrainConfig) -> list[dict]:
    """Train ``model`` on ``x [T, N, F]``, ``y [N]``; returns the history (mean loss and accuracy per epoch).

    The model is expected to be on the device of ``config`` already; data batches are moved there.
    """
    device = resolve_device(config.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(config.seed)
    history = []
    model.train()
    for epoch in tqdm(range(config.epochs), desc="epochs", disable=not config.progress, leave=False):
        total_loss, correct = 0.0, 0
        for idx in batches(len(y), config.batch_size, shuffle):
            xb, yb = x[:, idx].to(device), y[idx].to(device)
            logits = model(xb, readout)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        history.append(dict(epoch=epoch, loss=total_loss / len(y), accuracy=correct / len(y)))
    return history


def evaluate(model: SNN, x: torch.Tensor, y: torch.Tensor, readout: slice, batch_size: int = 512) -> dict:
    """Accuracy, mean cross-entropy, per-layer firing rates (``firing_rates``), pooled firing rate,
    sparsity and SynOps per sample of ``model`` on ``x``, ``y``: :func:`snnlib.measure.metrics.measure`."""
    return measure(model, x, y, readout, batch_size)
