"""``digits``: scikit-learn's bundled 8x8 handwritten digits as a spatial task (DESIGN.md §4)."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from snnlib.checks import check_choice, check_fraction, check_int
from .base import TaskData, as_tensors

ENCODINGS = ("current", "poisson")


def make_digits(seed: int = 0, n_steps: int = 8, encoding: str = "current", test_fraction: float = 0.25) -> TaskData:
    """The 1797 digits, pixels scaled to ``p = pixel / 16 ∈ [0, 1]``, presented for ``n_steps`` steps.

    Encodings:
        ``current``: the constant current ``x[t] = p`` at every step.
        ``poisson``: spikes ``x[t] ~ Bernoulli(p)``, independent across steps (a rate code).

    The stratified train/test split and the spikes are drawn from ``seed``.
    """
    check_int("seed", seed, minimum=0)
    n_steps = check_int("n_steps", n_steps)
    check_choice("encoding", encoding, ENCODINGS)
    test_fraction = check_fraction("test_fraction", test_fraction, open_low=True, open_high=True)
    images, labels = load_digits(return_X_y=True)
    p = (images / 16.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = np.repeat(p[:, None, :], n_steps, axis=1)  # [N, T, 64]
    if encoding == "poisson":
        x = (rng.random(x.shape) < x).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=test_fraction, stratify=labels, random_state=seed)
    (x_tr, y_tr), (x_te, y_te) = as_tensors(x_tr, y_tr), as_tensors(x_te, y_te)
    return TaskData("digits", x_tr, y_tr, x_te, y_te, n_classes=10, readout=slice(None),
                    encoding="current" if encoding == "current" else "spikes",
                    params=dict(seed=seed, n_steps=n_steps, encoding=encoding, test_fraction=test_fraction))
