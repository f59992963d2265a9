"""The container every task returns, and helpers shared by the task builders."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass(frozen=True)
class TaskData:
    """Train and test data of one task, time first.

    Attributes:
        name: the task's name in :data:`snnlib.data.TASKS`.
        x_train, x_test: inputs ``[T, N, features]`` (float32).
        y_train, y_test: labels ``[N]`` (int64) in ``range(n_classes)``.
        n_classes: number of classes.
        readout: the steps whose readout membrane is averaged into the logits.
        encoding: ``"current"`` (real-valued input currents) or ``"spikes"`` (0/1 events); decides
            which input noise applies (Gaussian on currents, deletion/insertion on spikes).
        params: the parameters the task was built with, seed included.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    readout: slice = field(default_factory=lambda: slice(None))
    encoding: str = "current"
    params: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[-1]

    @property
    def chance(self) -> float:
        """Accuracy of always guessing the most frequent test class."""
        return float(torch.bincount(self.y_test, minlength=self.n_classes).max() / len(self.y_test))

    def __repr__(self) -> str:
        return (f"TaskData({self.name!r}, T={self.n_steps}, inputs={self.n_inputs}, classes={self.n_classes}, "
                f"train={len(self.y_train)}, test={len(self.y_test)}, readout={self.readout}, "
                f"encoding={self.encoding!r})")


def as_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """``x [N, T, F] -> [T, N, F]`` float32 and ``y -> int64``."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2))).float(), torch.from_numpy(y).long()
