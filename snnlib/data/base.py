"""The container every task returns, and helpers shared by the task builders.

**Three splits.** Every task has a training, a validation and a test split. The validation split is
carved from the training data (:func:`split_validation`): a fraction ``val_fraction`` (default 0.2,
0 = none) of the training samples, stratified by label, drawn from the task's seed; the training
split keeps the rest. Anything chosen -- a task parameter, an epoch, a hyper-parameter -- is chosen
on validation data; the test split is only ever measured, never used to choose anything.

**Input scale.** ``input_scale`` is the size of one natural unit of the input, so that attack radii
and noise levels can be stated in comparable units across tasks: one grey level for the digit tasks,
the training standard deviation for MNIST-1D. Spike tasks have none (``None``): their threat model is
a budget of spike flips, not a radius. ``input_bounds`` are the smallest and largest input values of
the three splits together (``(0, 1)`` for spikes).

**Readout.** ``readout`` is the window of steps whose readout membrane, averaged, gives the logits;
``readout_decay`` is the readout integrator's ``λ_o``:  ``U[t] = λ_o · U[t-1] + W h[t]``. Tasks that
test memory read out with ``λ_o = 0`` over the recall window only, so the readout holds no memory of
its own; the others keep ``λ_o = 0.5``.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

import numpy as np
import torch

from snnlib.checks import check_fraction

#: the default ``λ_o`` of the readout integrator, for the tasks that are not memory tasks
READOUT_DECAY = 0.5
#: the largest allowed ``val_fraction`` (excluded)
MAX_VAL_FRACTION = 0.5
_VAL_STREAM = 0x76616C  # "val": the validation draw has its own generator, so the task's other draws are unchanged


@dataclass(frozen=True)
class TaskData:
    """Train, validation and test data of one task, time first.

    Attributes:
        name: the task's name in :data:`snnlib.data.TASKS`.
        x_train, x_test: inputs ``[T, N, features]`` (float32).
        y_train, y_test: labels ``[N]`` (int64) in ``range(n_classes)`` (``[N, k]`` for a stream task,
            see :func:`snnlib.data.stream.stream_task`).
        n_classes: number of classes.
        readout: the steps whose readout membrane is averaged into the logits (a tuple of windows,
            one per sample, for a stream task).
        encoding: ``"current"`` (real-valued input currents) or ``"spikes"`` (0/1 events); decides
            which input noise applies (Gaussian on currents, deletion/insertion on spikes).
        params: the parameters the task was built with, seed included.
        x_val, y_val: the validation split, carved from the training data (``None`` when the task
            was built with ``val_fraction=0``). Choices are made on it, never on the test split.
        input_scale: one natural unit of the input (``None`` for spike inputs); see the module docstring.
        input_bounds: ``(min, max)`` of the inputs of all splits; ``(0, 1)`` for spikes. Computed
            when not given.
        readout_decay: ``λ_o`` of the readout integrator for this task.
        readout_note: a word on what the readout window is (``"recall"``), for :meth:`describe`.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    readout: slice | tuple[slice, ...] = field(default_factory=lambda: slice(None))
    encoding: str = "current"
    params: dict = field(default_factory=dict)
    _: KW_ONLY
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    input_scale: float | None = None
    input_bounds: tuple[float, float] | None = None
    readout_decay: float = READOUT_DECAY
    readout_note: str = ""

    def __post_init__(self):
        if (self.x_val is None) != (self.y_val is None):
            raise ValueError("x_val and y_val must both be given or both be None")
        if self.x_val is not None and (self.x_val.shape[0] != self.x_train.shape[0]
                                       or self.x_val.shape[1] != len(self.y_val)):
            raise ValueError(f"x_val {tuple(self.x_val.shape)} does not match x_train's steps "
                             f"({self.x_train.shape[0]}) or y_val's {len(self.y_val)} samples")
        check_fraction("readout_decay", self.readout_decay)
        if self.input_scale is not None and not self.input_scale > 0:
            raise ValueError(f"input_scale must be a positive number or None, got {self.input_scale!r}")
        if self.input_bounds is None:
            object.__setattr__(self, "input_bounds", self._bounds())

    def _bounds(self) -> tuple[float, float]:
        if self.encoding == "spikes":
            return (0.0, 1.0)
        xs = [x for x in (self.x_train, self.x_val, self.x_test) if x is not None and x.numel()]
        return (min(float(x.min()) for x in xs), max(float(x.max()) for x in xs))

    @property
    def n_steps(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[-1]

    @property
    def n_val(self) -> int:
        return 0 if self.y_val is None else len(self.y_val)

    @property
    def chance(self) -> float:
        """Accuracy of always guessing the most frequent test class."""
        y = self.y_test.reshape(-1)
        return float(torch.bincount(y, minlength=self.n_classes).max() / len(y))

    def readout_text(self) -> str:
        """The readout window in words: ``"all steps"``, ``"steps 9-13 (recall)"``, ..."""
        note = f" ({self.readout_note})" if self.readout_note else ""
        if isinstance(self.readout, tuple):
            k = len(self.readout)
            return f"{window_text(self.readout[0], self.n_steps // k)}{note} of each of {k} samples"
        return f"{window_text(self.readout, self.n_steps)}{note}"

    def describe(self) -> dict:
        """One row of the table of tasks: sizes, readout, encoding and input scale."""
        return dict(name=self.name, T=self.n_steps, inputs=self.n_inputs, classes=self.n_classes,
                    train=len(self.y_train), val=self.n_val, test=len(self.y_test), readout=self.readout_text(),
                    readout_decay=self.readout_decay, encoding=self.encoding, input_scale=self.input_scale)

    def __repr__(self) -> str:
        return (f"TaskData({self.name!r}, T={self.n_steps}, inputs={self.n_inputs}, classes={self.n_classes}, "
                f"train={len(self.y_train)}, val={self.n_val}, test={len(self.y_test)}, readout={self.readout}, "
                f"readout_decay={self.readout_decay}, encoding={self.encoding!r})")


def window_text(readout: slice, n_steps: int) -> str:
    """``"all steps"``, ``"step 7"`` or ``"steps 9-13"`` (inclusive, 0-based) for a window of ``n_steps`` steps."""
    steps = range(n_steps)[readout]
    if steps == range(n_steps):
        return "all steps"
    if len(steps) == 1:
        return f"step {steps[0]}"
    if steps.step != 1:
        return f"steps {steps.start}-{steps[-1]} every {steps.step}"
    return f"steps {steps.start}-{steps[-1]}"


def as_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """``x [N, T, F] -> [T, N, F]`` float32 and ``y -> int64``."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2))).float(), torch.from_numpy(y).long()


def check_val_fraction(val_fraction) -> float:
    """``val_fraction`` in ``[0, 0.5)``."""
    return check_fraction("val_fraction", val_fraction, high=MAX_VAL_FRACTION, open_high=True)


def stratified_counts(counts: np.ndarray, n_val: int) -> np.ndarray:
    """How many of each class go to validation: ``n_val`` shared in proportion to ``counts``.

    Class ``c`` gets ``⌊n_c · n_val / N⌋``, and the ``n_val - Σ⌊·⌋`` samples left over go one each
    to the classes with the largest remainders (ties: the smaller class index), so every class is
    within one sample of its proportional share and the total is exactly ``n_val``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    share = counts * n_val / counts.sum()
    quota = np.floor(share).astype(np.int64)
    left = n_val - int(quota.sum())
    order = np.lexsort((np.arange(len(counts)), -(share - quota)))  # largest remainder first
    quota[order[:left]] += 1
    return quota


def split_validation(x: torch.Tensor, y: torch.Tensor, val_fraction: float, seed: int):
    """Carve a stratified validation split from training data ``x [T, N, F]``, ``y [N]``.

    ``n_val = max(1, round(val_fraction · N))`` samples (none when ``val_fraction = 0``), shared
    among the classes by :func:`stratified_counts`; which samples of each class is drawn from
    ``seed`` (with a generator of its own, so the task's other draws do not change). Returns
    ``(x_train, y_train, x_val, y_val)``, both parts in their original order; ``x_val, y_val`` are
    ``None`` when ``val_fraction = 0``.
    """
    val_fraction = check_val_fraction(val_fraction)
    if val_fraction == 0:
        return x, y, None, None
    n = len(y)
    n_val = max(1, round(val_fraction * n))
    if n_val >= n:
        raise ValueError(f"val_fraction={val_fraction} of {n} training sample(s) leaves none to train on")
    labels = y.numpy()
    classes, counts = np.unique(labels, return_counts=True)
    rng = np.random.default_rng((seed, _VAL_STREAM))
    quotas = stratified_counts(counts, n_val)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quotas)]
    is_val = np.zeros(n, dtype=bool)
    is_val[np.concatenate(chosen)] = True
    val, train = torch.from_numpy(np.flatnonzero(is_val)), torch.from_numpy(np.flatnonzero(~is_val))
    return x[:, train].contiguous(), y[train].clone(), x[:, val].contiguous(), y[val].clone()

