"""``mnist1d``: the MNIST-1D benchmark, generated procedurally.

MNIST-1D (Greydanus & Kobak, 2020) draws each sample from one of ten 1-D digit templates, padded,
scaled, translated, sheared, with correlated and i.i.d. noise, then resampled to ``seq_length``
points (the package's default, 40); the whole data set is standardised to mean 0, standard deviation
1. Its published baselines (4000 training samples): logistic regression 32 %, MLP 68 %, CNN 94 %,
GRU 91 %. The shape has to be read in time. Observed results with the defaults (one value per
step; all 4000 training samples trained on, before the validation split existed), reported and not
used to choose anything: an ``RLIF`` network ([128], ``λ = 0.5``; 30 epochs, Adam lr 3e-3, batch 64)
reached ~85 % test accuracy, a feed-forward ``LIF`` ~45 %. The logits are read out over all steps
with ``λ_o = 0.5``: the task needs integration over the sequence, not memory across a delay.

The data are **generated** here with ``mnist1d.data.make_dataset`` (pure NumPy/SciPy, no file, no
network); the package's ``get_dataset`` is never called, because by default it downloads a pickle.
``make_dataset`` seeds NumPy's and Python's *global* generators; the builder restores both
afterwards, so building the task leaves the caller's random state as it was. Generated data are
cached per process, keyed by their parameters.

Encoding, one sequence point per time step (``T = seq_length``):

- ``population = 1``: the single input current ``x[t] = gain · v[t]`` (``v`` standardised, so
  currents are mostly within ``±3 · gain``);
- ``population = k > 1``: ``k`` Gaussian receptive fields with centres evenly spaced on
  ``[-2.5, 2.5]`` and width equal to their spacing, ``x_i[t] = gain · exp(-(v[t] - c_i)² / 2σ²)``,
  currents in ``[0, gain]``.

``seed`` is the generator's seed: the same seed gives the same samples. ``seed=42`` with
``n_train=4000, n_test=1000`` is the package's reference configuration. The first ``n_train`` of
the (shuffled, class-balanced) generated samples are the training data, the next ``n_test`` the test
set. A stratified validation split of ``val_fraction · n_train`` samples (drawn from ``seed``) is
carved from the training data, which keeps the rest; choices are made on it, the test set is never
used to choose anything.

Input scale: the standard deviation of the encoded training inputs ``x_train`` (about ``gain`` for
``population = 1``, since ``v`` is standardised).
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np

from snnlib.checks import check_fraction, check_int
from .base import READOUT_DECAY, TaskData, as_tensors, check_val_fraction, split_validation

CENTRE_RANGE = 2.5  # receptive-field centres span [-2.5, 2.5] standard deviations


@lru_cache(maxsize=8)
def _generate(seed: int, n_samples: int, seq_length: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` standardised sequences ``[N, seq_length]`` and labels, global RNG state preserved."""
    from mnist1d.data import get_dataset_args, make_dataset  # imports matplotlib: only when needed

    args = get_dataset_args()
    args.num_samples, args.seed, args.final_seq_length, args.train_split = n_samples, seed, seq_length, 1.0
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    x, y = data["x"].astype(np.float32), data["y"].astype(np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def population_code(v: np.ndarray, population: int, gain: float = 1.0) -> np.ndarray:
    """``v [..., T] -> [..., T, population]`` (see the module docstring); ``population = 1`` is ``gain · v``."""
    if population == 1:
        return (gain * v)[..., None].astype(np.float32)
    centres = np.linspace(-CENTRE_RANGE, CENTRE_RANGE, population, dtype=np.float32)
    sigma = centres[1] - centres[0]
    return (gain * np.exp(-((v[..., None] - centres) ** 2) / (2 * sigma ** 2))).astype(np.float32)


def make_mnist1d(seed: int = 0, n_train: int = 4000, n_test: int = 1000, population: int = 1,
                 gain: float = 1.0, seq_length: int = 40, val_fraction: float = 0.2) -> TaskData:
    """MNIST-1D as ``[seq_length, N, population]`` input currents; 10 classes, read out over all steps."""
    check_int("seed", seed, minimum=0)
    n_train, n_test = check_int("n_train", n_train), check_int("n_test", n_test)
    population = check_int("population", population)
    gain = check_fraction("gain", gain, low=0.0, high=100.0, open_low=True)
    seq_length = check_int("seq_length", seq_length, minimum=2)
    val_fraction = check_val_fraction(val_fraction)
    if seed >= 2 ** 32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    n_total = -(-(n_train + n_test) // 10) * 10  # the generator makes num_samples // 10 per class
    v, y = _generate(seed, n_total, seq_length)
    x = population_code(v[:n_train + n_test], population, gain)  # [N, T, population]
    y = y[:n_train + n_test]
    (x_tr, y_tr), (x_te, y_te) = as_tensors(x[:n_train], y[:n_train].copy()), as_tensors(x[n_train:], y[n_train:].copy())
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    params = dict(seed=seed, n_train=n_train, n_test=n_test, population=population, gain=gain, seq_length=seq_length,
                  val_fraction=val_fraction)
    scale = float(x_tr.std())
    return TaskData("mnist1d", x_tr, y_tr, x_te, y_te, n_classes=10, readout=slice(None), encoding="current",
                    params=params, x_val=x_val, y_val=y_val, input_scale=scale if scale > 0 else None,
                    readout_decay=READOUT_DECAY)
