"""``japanese-vowels``: a real temporal data set, the UCI Japanese Vowels, read offline.

Nine Japanese male speakers each said the vowels /ae/ (Kudo, Toyama & Shimbo, 1999, "Multidimensional
curve classification using passing-through regions", Pattern Recognition Letters 20). Each utterance
is a sequence of 7 to 29 frames of 12 LPC cepstrum coefficients; the class is the speaker (9
classes). The standard split has 270 training utterances (30 per speaker) and 370 test utterances
(24 to 88 per speaker, as the recordings happened: 31, 35, 88, 44, 29, 24, 40, 50, 29).

**Where the data come from.** The files ship inside the ``sktime`` wheel on PyPI
(``sktime/datasets/data/JapaneseVowels/JapaneseVowels_{TRAIN,TEST}.ts``, pinned in pyproject.toml);
nothing is downloaded. The builder finds the installed package without importing it and reads the
two ``.ts`` files itself (:func:`read_ts`): after the ``@data`` line, one utterance per line, its 12
coefficient series separated by ``:``, the values of each by ``,``, and the speaker (1-9) last.

**Encoding.** Each coefficient ``c`` is z-scored with the mean and standard deviation of all frames of
the 270 standard training utterances,

    ``x[t, c] = (v[t, c] - μ_c) / σ_c``,   ``μ_c, σ_c`` over every frame of the training file,

so one input unit is one training standard deviation (``input_scale = 1``). The statistics come from
the whole training file (the validation utterances included) so that they, and with them the test
inputs, do not depend on ``seed``; they are 24 numbers, not a choice made on validation data. Every
utterance is then padded with zeros *after* its last frame to the longest utterance of the two files
(``T = 29``): a padded step is zero input, the training mean. ``input_bounds`` are the smallest and
largest input of the three splits (computed by :class:`~snnlib.data.base.TaskData`).

**Readout.** One window shared by every sample: the logits are the readout membrane averaged over
all ``T`` steps, with ``λ_o = 0.5`` (:class:`~snnlib.data.base.TaskData` has one window for all
samples). For a short utterance the padded steps add what the network still holds after it ended --
its decaying membranes, its recurrent activity, the readout's own decay -- to the average.

**Splits.** The 370 test utterances are the standard test split, the same for every seed. A
stratified validation split of ``val_fraction`` of the 270 training utterances (6 per speaker at
``0.2``), drawn from ``seed``, is carved from them; the training split keeps the rest. Both files are
put in one fixed shuffled order (a constant permutation, not ``seed``), so that the first ``n`` test
samples -- which the audits measure -- mix the speakers instead of being the first speakers only.

**Training budget: no early stopping.** Train this task for a fixed number of epochs, keeping the
epoch of best validation accuracy as every run does, with ``patience`` null: early stopping on it stops
too soon, for every variant alike. Its 216 training utterances make an epoch only 4 Adam steps (batch
64), and its 54 validation utterances move the validation accuracy in steps of 1.85 %: the accuracy
stays flat for 5 epochs while the network is still learning. Measured on validation data alone (40-100
epochs, seeds 0-7, ``LIF``/``RLIF`` at ``λ = 0.5``, ``IF``, ``RIF``, [64], Adam lr 3e-3): a patience of
5 epochs stops at a median epoch of 15-24 (per variant), when the validation loss is still a median
1.9 (``RLIF``, ``RIF``) to 5.3 (``LIF``) times its smallest value (that of the feed-forward networks
falls for all 100 epochs, of the recurrent ones until a median epoch of 34-64); a budget of 40 epochs
without stopping brings every variant's seed-mean best validation accuracy within one validation
utterance of its value after 100 epochs (30 epochs does not: ``LIF`` is 3 points short).

Observed test accuracy, reported and not used to choose anything (``snnlib.study.experiment.run``, [64],
batch 64, lr 3e-3, ``λ = 0.5``, seeds 0-15, CPU): with patience 5 and at most 40 epochs, ``LIF`` 84.9 %
(71.9-95.7), ``RLIF`` 88.2 % (80.0-94.3), ``IF`` 91.0 %, ``RIF`` 92.1 %; with 40 epochs and no early
stopping, ``LIF`` 95.1 % (90.5-96.5), ``RLIF`` 92.7 % (86.2-94.9), ``IF`` 95.2 % (94.3-95.9), ``RIF``
93.4 % (90.0-95.9); about 1 s per run (0.02-0.03 s per epoch).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from snnlib.checks import check_int
from .base import READOUT_DECAY, TaskData, as_tensors, check_val_fraction, split_validation

N_COEFFICIENTS = 12
N_SPEAKERS = 9
PACKAGE = "sktime"
FOLDER = ("datasets", "data", "JapaneseVowels")
FILES = {"train": "JapaneseVowels_TRAIN.ts", "test": "JapaneseVowels_TEST.ts"}
_ORDER_SEED = 0x4A56  # "JV": the fixed order of the utterances in each split, the same for every seed


def data_folder() -> Path:
    """The folder of the two ``.ts`` files inside the installed ``sktime`` (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"task 'japanese-vowels' reads the files bundled with the package {PACKAGE!r}, "
                                  f"which is not installed; install the version pinned in pyproject.toml")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*FOLDER)


def read_ts(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Read a multivariate ``.ts`` file: ``([v_i [T_i, dims] float64], labels [N] str)``.

    Lines before ``@data`` are the header (``#`` comments, ``@`` tags); after it, each non-empty line
    is ``d1_1,d1_2,...:d2_1,...:...:label``, every dimension with the same number of values.
    """
    lines = Path(path).read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().lower() == "@data"]
    if not starts:
        raise ValueError(f"{path} is not a .ts file: it has no '@data' line")
    series, labels = [], []
    for number, line in enumerate(lines[starts[0] + 1:], start=starts[0] + 2):
        if not line.strip():
            continue
        *dims, label = line.strip().split(":")
        values = [np.array(d.split(","), dtype=np.float64) for d in dims]
        if not values or len({len(v) for v in values}) != 1:
            raise ValueError(f"{path}, line {number}: the dimensions have different lengths or there are none")
        series.append(np.stack(values, axis=1))
        labels.append(label.strip())
    return series, np.array(labels)


def _speakers(labels: np.ndarray, path: Path) -> np.ndarray:
    """Labels ``"1".."9"`` -> speakers ``0..8``."""
    allowed = [str(k) for k in range(1, N_SPEAKERS + 1)]
    bad = sorted(set(labels) - set(allowed))
    if bad:
        raise ValueError(f"{path}: labels {bad} are not speakers {allowed}")
    return labels.astype(np.int64) - 1


def pad(series: list[np.ndarray], n_steps: int) -> np.ndarray:
    """``[v_i [T_i, F]] -> [N, n_steps, F]``, each ``v_i`` followed by zeros."""
    out = np.zeros((len(series), n_steps, series[0].shape[1]), dtype=np.float32)
    for i, v in enumerate(series):
        out[i, :len(v)] = v
    return out


@lru_cache(maxsize=1)
def _load() -> dict:
    """Both files, z-scored with the training file's statistics, padded to the longest utterance, in
    their fixed order: ``x_train [270, T, 12]``, ``y_train``, ``x_test [370, T, 12]``, ``y_test``, the
    statistics ``mean``/``std`` [12] and ``lengths_train``/``lengths_test``. Read-only arrays."""
    folder = data_folder()
    raw = {}
    for split, name in FILES.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"task 'japanese-vowels': {path} is missing from the installed {PACKAGE!r}")
        series, labels = read_ts(path)
        if any(v.shape[1] != N_COEFFICIENTS for v in series):
            raise ValueError(f"{path}: every utterance must have {N_COEFFICIENTS} coefficients")
        raw[split] = (series, _speakers(labels, path))
    frames = np.concatenate(raw["train"][0])  # every training frame: [Σ T_i, 12]
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    n_steps = max(len(v) for split in raw.values() for v in split[0])
    rng = np.random.default_rng(_ORDER_SEED)
    out = dict(mean=mean, std=std)
    for split, (series, y) in raw.items():
        order = rng.permutation(len(y))
        out[f"x_{split}"] = pad([(series[i] - mean) / std for i in order], n_steps)
        out[f"y_{split}"] = y[order]
        out[f"lengths_{split}"] = np.array([len(series[i]) for i in order])
    for value in out.values():
        value.flags.writeable = False
    return out


def make_japanese_vowels(seed: int = 0, val_fraction: float = 0.2) -> TaskData:
    """Japanese Vowels as ``[29, N, 12]`` z-scored cepstrum currents, zero-padded; 9 speakers, read out
    over all steps (see the module docstring). ``seed`` draws only the validation split."""
    check_int("seed", seed, minimum=0)
    val_fraction = check_val_fraction(val_fraction)
    data = _load()
    (x_tr, y_tr), (x_te, y_te) = (as_tensors(data["x_train"].copy(), data["y_train"].copy()),
                                  as_tensors(data["x_test"].copy(), data["y_test"].copy()))
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, val_fraction, seed)
    return TaskData("japanese-vowels", x_tr, y_tr, x_te, y_te, n_classes=N_SPEAKERS, readout=slice(None),
                    encoding="current", params=dict(seed=seed, val_fraction=val_fraction),
                    x_val=x_val, y_val=y_val, input_scale=1.0, readout_decay=READOUT_DECAY)

