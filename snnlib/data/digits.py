"""``digits``: scikit-learn's bundled 8x8 handwritten digits as a spatial task.

Splits: a stratified train/test split (``test_fraction``), then a stratified validation split
carved from the training part (``val_fraction``), both drawn from ``seed``. The test split is
never used to choose anything.

Input scale: with the ``current`` encoding one grey level (the 17 levels 0..16 of the images) is
``1/16`` in input units, the ``input_scale``; with ``poisson`` the inputs are spikes and there is
none. The logits are read out over all steps with ``λ_o = 0.5``: the task needs no memory.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from snnlib.checks import check_choice, check_fraction, check_int
from .base import READOUT_DECAY, TaskData, as_tensors, check_val_fraction, split_validation

ENCODINGS = ("current", "poisson")
GREY_LEVELS = 16  # pixel values are integers 0..16


def make_digits(seed: int = 0, n_steps: int = 8, encoding: str = "current", test_fraction: float = 0.25,
                val_fraction: float = 0.2) -> TaskData:
    """The 1797 digits, pixels scaled to ``p = pixel / 16 ∈ [0, 1]``, presented for ``n_steps`` steps.

    Encodings:
        ``current``: the constant current ``x[t] = p`` at every step.
        ``poisson``: spikes ``x[t] ~ Bernoulli(p)``, independent across steps (a rate code).

    The stratified train/test split, the validation split and the spikes are drawn from ``seed``.
    """
    check_int("seed", seed, minimum=0)
    n_steps = check_int("n_steps", n_steps)
    check_choice("encoding", encoding, ENCODINGS)
    test_fraction = check_fraction("test_fraction", test_fraction, open_low=True, open_high=True)
    val_fraction = check_val_fraction(val_fraction)
    images, labels = load_digits(return_X_y=True)
    p = (images / GREY_LEVELS).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = np.repeat(p[:, None, :], n_steps, axis=1)  # [N, T, 64]
    if encoding == "poisson":
        x = (rng.random(x.shape) < x).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=test_fraction, stratify=labels, random_state=seed)
    (x_tr, y_tr), (x_te, y_te) = as_tensors(x_tr, y_tr), as_tensors(x_te, y_te)
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    current = encoding == "current"
    return TaskData("digits", x_tr, y_tr, x_te, y_te, n_classes=10, readout=slice(None),
                    encoding="current" if current else "spikes",
                    params=dict(seed=seed, n_steps=n_steps, encoding=encoding, test_fraction=test_fraction,
                                val_fraction=val_fraction),
                    x_val=x_val, y_val=y_val, input_scale=1.0 / GREY_LEVELS if current else None,
                    readout_decay=READOUT_DECAY)
