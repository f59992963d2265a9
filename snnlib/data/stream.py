"""Streams: samples of a task fed back to back, for uninterrupted processing.

``make_stream(task, k, seed)`` draws ``k`` samples (from the test set by default) for each stream and
concatenates them in time with no gap: a stream is ``k · T`` steps long, segment ``i`` occupying
steps ``i·T .. (i+1)·T - 1``. A model runs over the whole stream from a cleared state, so its state is
*never* reset between segments: whatever the previous samples left in the membranes (and, for
recurrent variants, in the spikes fed back) is there when the next sample starts. Segment ``i`` is
read out over the task's own readout window shifted by ``i·T`` (``windows[i]``), and its label is
``y[:, i]``; accuracy per position shows how processing degrades along the stream.

Use::

    stream = make_stream(task, k=4, seed=0)
    membrane = model.membrane(stream.x)           # [k·T, N, classes], one pass, no reset inside
    logits = stream.segment_logits(membrane)      # [k, N, classes]
    accuracy_per_position = (logits.argmax(-1) == stream.y.T).float().mean(1)

``stream_task(task, k, seed)`` turns a whole task into streams, for *training* across samples: every
split (train, validation, test) holds streams of ``k`` samples of that same split, with labels
``y [N // k, k]`` and the readout a tuple of the ``k`` absolute windows; the network's state is
carried from one sample to the next, in training as in testing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from snnlib.checks import check_choice, check_int
from .base import TaskData

SPLITS = ("test", "train")


@dataclass(frozen=True)
class StreamData:
    """``n_streams`` streams of ``n_segments`` samples each.

    Attributes:
        task: name of the task the samples come from.
        x: inputs ``[n_segments · segment_steps, n_streams, features]``.
        y: labels ``[n_streams, n_segments]``; ``y[:, i]`` is the label of segment ``i``.
        windows: the readout window of each segment, absolute steps of ``x``.
        segment_steps: ``T`` of one sample.
        n_classes, encoding: as in the task.
        indices: ``[n_streams, n_segments]``, the sample of the task's split in each segment.
        params: ``k``, ``seed``, ``n_streams``, ``split`` and the task's parameters (``task_params``).
    """

    task: str
    x: torch.Tensor
    y: torch.Tensor
    windows: tuple[slice, ...]
    segment_steps: int
    n_classes: int
    encoding: str
    indices: torch.Tensor
    params: dict = field(default_factory=dict)

    @property
    def n_segments(self) -> int:
        return self.y.shape[1]

    @property
    def n_streams(self) -> int:
        return self.y.shape[0]

    @property
    def n_steps(self) -> int:
        return self.x.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.x.shape[-1]

    def segment_logits(self, membrane: torch.Tensor) -> torch.Tensor:
        """Readout membrane ``[k·T, B, C]`` of a run over the whole stream -> logits ``[k, B, C]``."""
        if membrane.shape[0] != self.n_steps:
            raise ValueError(f"membrane has {membrane.shape[0]} steps, the stream {self.n_steps}")
        return torch.stack([membrane[w].mean(dim=0) for w in self.windows])

    def __repr__(self) -> str:
        return (f"StreamData({self.task!r}, segments={self.n_segments}, T={self.segment_steps}, "
                f"steps={self.n_steps}, inputs={self.n_inputs}, streams={self.n_streams})")


def shift_window(readout: slice, n_steps: int, offset: int) -> slice:
    """The window ``readout`` of a ``n_steps``-step sample, as absolute steps of a segment starting at ``offset``."""
    steps = range(n_steps)[readout]
    if len(steps) == 0 or steps.step < 0:
        raise ValueError(f"readout window {readout} selects no step, or runs backwards, in a {n_steps}-step sample")
    return slice(steps.start + offset, steps.stop + offset, steps.step if steps.step != 1 else None)


def _draw(x: torch.Tensor, y: torch.Tensor, k: int, n_streams: int, seed: int):
    """``n_streams`` streams of ``k`` samples of ``x [T, N, F]``, ``y [N]``: ``(x [k·T, n, F], y [n, k], indices)``.

    Without replacement when ``n_streams · k <= N``, with replacement otherwise; drawn from ``seed``.
    """
    n_available = len(y)
    rng = np.random.default_rng(seed)
    if n_streams * k <= n_available:
        idx = rng.permutation(n_available)[:n_streams * k].reshape(n_streams, k)
    else:
        idx = rng.integers(0, n_available, size=(n_streams, k))
    idx = torch.from_numpy(idx).long()
    steps, features = x.shape[0], x.shape[-1]
    segments = x[:, idx.reshape(-1)].reshape(steps, n_streams, k, features)  # [T, N, k, F]
    xs = segments.permute(2, 0, 1, 3).reshape(k * steps, n_streams, features).contiguous()
    return xs, y[idx].clone(), idx


def make_stream(task: TaskData, k: int = 4, seed: int = 0, n_streams: int | None = None,
                split: str = "test") -> StreamData:
    """``n_streams`` streams of ``k`` samples of ``task``'s ``split``, concatenated in time with no gap.

    The samples are drawn from ``seed``; when ``n_streams · k`` does not exceed the split's size no
    sample appears twice (the default ``n_streams`` is the split's size // ``k``), otherwise they
    are drawn with replacement.
    """
    if not isinstance(task, TaskData):
        raise ValueError(f"task must be a TaskData, got {type(task).__name__}")
    k = check_int("k", k)
    check_int("seed", seed, minimum=0)
    check_choice("split", split, SPLITS)
    x, y = (task.x_test, task.y_test) if split == "test" else (task.x_train, task.y_train)
    n_streams = max(1, len(y) // k) if n_streams is None else check_int("n_streams", n_streams)
    xs, ys, idx = _draw(x, y, k, n_streams, seed)
    steps = x.shape[0]
    windows = tuple(shift_window(task.readout, steps, i * steps) for i in range(k))
    params = dict(k=k, seed=seed, n_streams=n_streams, split=split, task_params=dict(task.params))
    return StreamData(task.name, xs, ys, windows, steps, task.n_classes, task.encoding, idx, params)


def stream_task(task: TaskData, k: int, seed: int = 0) -> TaskData:
    """``task`` with every split made of streams of ``k`` of its own samples, back to back, for training.

    Each split (train, validation, test) of ``N`` samples becomes ``N // k`` streams: inputs
    ``[k·T, N // k, F]``, labels ``[N // k, k]`` (``y[:, i]`` the label of sample ``i`` of each stream);
    no sample appears twice, the ``N mod k`` left over are dropped. The samples are drawn from
    ``seed``, split by split, exactly as :func:`make_stream` draws them (``make_stream(task, k, seed,
    split="test")`` gives the test streams). ``readout`` is the tuple of the ``k`` windows in absolute
    steps (the task's window shifted by ``i·T``); every other field is the task's, the name is
    ``"<name>-stream"`` and ``params`` gains ``stream = {"k": k, "seed": seed}``.
    """
    if not isinstance(task, TaskData):
        raise ValueError(f"task must be a TaskData, got {type(task).__name__}")
    if isinstance(task.readout, tuple):
        raise ValueError(f"task {task.name!r} is already made of streams")
    k = check_int("k", k)
    check_int("seed", seed, minimum=0)
    splits = {"train": (task.x_train, task.y_train), "test": (task.x_test, task.y_test)}
    if task.x_val is not None:
        splits["val"] = (task.x_val, task.y_val)
    streams = {}
    for split, (x, y) in splits.items():
        if len(y) < k:
            raise ValueError(f"k={k} exceeds the {len(y)} samples of {task.name!r}'s {split} split")
        streams[split] = _draw(x, y, k, len(y) // k, seed)[:2]
    steps = task.n_steps
    windows = tuple(shift_window(task.readout, steps, i * steps) for i in range(k))
    (x_tr, y_tr), (x_te, y_te) = streams["train"], streams["test"]
    x_val, y_val = streams.get("val", (None, None))
    return replace(task, name=f"{task.name}-stream", x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te,
                   x_val=x_val, y_val=y_val, readout=windows, params=dict(task.params, stream=dict(k=k, seed=seed)))
