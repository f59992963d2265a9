"""``seq-digits``: scikit-learn's 8x8 digits read one row per step, a temporal-integration task.

Each image is presented row by row, top to bottom: at step ``t`` the 8 inputs carry the currents
``x[t] = gain · pixel[row(t)] / 16 ∈ [0, gain]`` of one image row. With ``row_steps = r`` every row is
held for ``r`` consecutive steps, so ``T = 8 · r``. No single step shows the whole digit: the class
has to be integrated over time, by the membranes (leakage) or the recurrent weights. The logits are
read out over the whole sequence, as for every classification task, with ``λ_o = 0.5``: the readout
may integrate too, since the task tests integration, not memory across a silent delay.

The default ``gain = 3``, chosen on validation data, drives the first layer harder than
``pixel / 16`` alone (8 inputs per step instead of 64). Observed results, reported and not used to
choose it: an ``RLIF`` network ([128], ``λ = 0.5``; 40 epochs, Adam lr 3e-3, batch 64) reached
91-92 % test accuracy with ``gain = 3``, and 90-92 %, less stable across seeds, with ``gain = 1``.

Input scale: one grey level is ``gain / 16`` in input units. Splits: a stratified train/test split,
then a stratified validation split carved from the training part, both drawn from ``seed``, as in
:mod:`snnlib.data.digits`. The test split
is never used to choose anything.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from snnlib.checks import check_fraction, check_int
from .base import READOUT_DECAY, TaskData, as_tensors, check_val_fraction, split_validation
from .digits import GREY_LEVELS


def make_seq_digits(seed: int = 0, row_steps: int = 1, gain: float = 3.0, test_fraction: float = 0.25,
                    val_fraction: float = 0.2) -> TaskData:
    """The 1797 digits as sequences ``[8 · row_steps, N, 8]`` of row currents ``gain · pixel / 16``."""
    check_int("seed", seed, minimum=0)
    row_steps = check_int("row_steps", row_steps)
    gain = check_fraction("gain", gain, low=0.0, high=100.0, open_low=True)
    test_fraction = check_fraction("test_fraction", test_fraction, open_low=True, open_high=True)
    val_fraction = check_val_fraction(val_fraction)
    images, labels = load_digits(return_X_y=True)
    rows = (gain * images / GREY_LEVELS).astype(np.float32).reshape(-1, 8, 8)  # [N, row, column]
    x = np.repeat(rows, row_steps, axis=1)  # [N, T, 8]
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=test_fraction, stratify=labels, random_state=seed)
    (x_tr, y_tr), (x_te, y_te) = as_tensors(x_tr, y_tr), as_tensors(x_te, y_te)
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    return TaskData("seq-digits", x_tr, y_tr, x_te, y_te, n_classes=10, readout=slice(None), encoding="current",
                    params=dict(seed=seed, row_steps=row_steps, gain=gain, test_fraction=test_fraction,
                                val_fraction=val_fraction),
                    x_val=x_val, y_val=y_val, input_scale=gain / GREY_LEVELS, readout_decay=READOUT_DECAY)
