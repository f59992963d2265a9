"""``shd`` and ``nmnist``: event-based data sets read from their own on-disk formats.

Nothing is downloaded, ever: the files must be put in place by hand (see below). Without them the
builders raise :class:`DatasetNotFoundError` (a ``FileNotFoundError`` that is also a ``ValueError``)
at once, naming the data set, the URL to download and the folder to put it in.

The data folder is ``data_dir`` when given, else ``$SNNLIB_DATA/<name>`` when the environment
variable ``SNNLIB_DATA`` is set, else ``<results>/data/<name>`` (``results/data/shd`` in the
repository, or under ``$SNNLIB_RESULTS``).

**SHD** (Spiking Heidelberg Digits, Cramer et al. 2020): spoken digits 0-9 in English and German
(20 classes) as spikes of 700 cochlear channels. Files ``shd_train.h5`` (8156 samples) and
``shd_test.h5`` (2264), HDF5 with the variable-length arrays ``spikes/times`` (seconds) and
``spikes/units`` (channel 0-699) per sample and ``labels``. Download ``shd_train.h5.gz`` and
``shd_test.h5.gz`` from https://zenkelab.org/datasets/ and gunzip them into the data folder. Reading
them needs ``h5py``.

**N-MNIST** (Orchard et al. 2015): MNIST digits seen by an ATIS event camera (34 x 34 pixels, two
polarities) during three saccades, ~300 ms in all. Folders ``Train/<digit>/*.bin`` (60000 files) and
``Test/<digit>/*.bin`` (10000): unzip ``Train.zip`` and ``Test.zip`` from
https://www.garrickorchard.com/datasets/n-mnist (Mendeley Data, doi:10.17632/468j46mzdv.1) into the
data folder. Each event is 40 bits, 5 bytes big-endian: x (8 bits), y (8 bits), polarity (1 bit),
timestamp in µs (23 bits); an event with ``y = 240`` marks a timestamp overflow (add 2^13 µs to every
later event), as in the data set's own reader.

Binning: the first ``duration_ms`` of each sample is cut into ``n_steps`` equal bins; events after
it are dropped. Inputs are 0/1 spikes (a channel that fired at least once in a bin), or spike counts
with ``counts=True`` (encoding ``"current"`` then). ``channel_pool`` (SHD) sums groups of adjacent
channels, ``pool`` (N-MNIST) sums ``pool x pool`` pixel blocks per polarity, to shrink the input.

``n_train``/``n_test`` (default: all) take a random subset; ``seed`` draws it and the order of the
samples. A stratified validation split of ``val_fraction`` of the ``n_train`` training samples (drawn
from ``seed``) is carved from them, and the training split keeps the rest; choices are made on
validation data, the test files are never used to choose anything.

Readout over all steps with ``λ_o = 0.5``: these are classification tasks, not memory tasks. Spike
inputs have no ``input_scale`` (their threat model is a budget of spike flips) and
``input_bounds = (0, 1)``; with ``counts=True`` the encoding is ``"current"``, still without an
``input_scale``, and ``input_bounds`` are the smallest and largest counts.

Dense float inputs are big (all of SHD at ``n_steps=100`` is ``100 x 8156 x 700`` floats, 2.3 GB;
all of N-MNIST at 30 steps is 16 GB): size runs with ``n_train``, the pooling and ``n_steps``.
Binned data are cached per process (as compact ``uint8``), keyed by the files and the parameters.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from snnlib.paths import DATA_ENV, data_dir
from snnlib.checks import check_fraction, check_int
from .base import READOUT_DECAY, TaskData, as_tensors, check_val_fraction, split_validation


SHD_URL = "https://zenkelab.org/datasets/"
SHD_FILES = {"train": "shd_train.h5", "test": "shd_test.h5"}
SHD_UNITS, SHD_CLASSES = 700, 20

NMNIST_URL = "https://www.garrickorchard.com/datasets/n-mnist"
NMNIST_DOI = "doi:10.17632/468j46mzdv.1"
NMNIST_FOLDERS = {"train": "Train", "test": "Test"}
NMNIST_SIZE, NMNIST_CLASSES = 34, 10
NMNIST_OVERFLOW_Y, NMNIST_OVERFLOW_US = 240, 2 ** 13

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 2


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A data set's files are not where they are looked for; the message says what to download, and where."""


def _check_optional_count(name: str, value) -> int | None:
    return None if value is None else check_int(name, value)


def _check_common(seed, n_steps, duration_ms, n_train, n_test, counts, val_fraction):
    check_int("seed", seed, minimum=0)
    check_val_fraction(val_fraction)
    n_steps = check_int("n_steps", n_steps)
    duration_ms = check_fraction("duration_ms", duration_ms, low=0.0, high=1e7, open_low=True)
    n_train, n_test = _check_optional_count("n_train", n_train), _check_optional_count("n_test", n_test)
    if not isinstance(counts, bool):
        raise ValueError(f"counts must be True or False, got {counts!r}")
    return n_steps, duration_ms, n_train, n_test


def _subset(n_available: int, n_wanted: int | None, rng: np.random.Generator, name: str, dataset: str) -> np.ndarray:
    """A seeded random order of ``n_wanted`` (default all) of ``n_available`` samples."""
    if n_wanted is not None and n_wanted > n_available:
        raise ValueError(f"{name}={n_wanted} exceeds the {n_available} samples of {dataset}")
    return rng.permutation(n_available)[:n_available if n_wanted is None else n_wanted]


def _cached(key, build):
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    value = build()
    _CACHE[key] = value
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def _bin(times_ms: np.ndarray, channels: np.ndarray, n_steps: int, duration_ms: float, n_features: int) -> np.ndarray:
    """Spike counts ``[n_steps, n_features]`` (``uint8``, saturating at 255) of one sample's events."""
    bins = np.floor(np.asarray(times_ms, dtype=np.float64) * (n_steps / duration_ms)).astype(np.int64)
    keep = (bins >= 0) & (bins < n_steps)
    flat = bins[keep] * n_features + np.asarray(channels, dtype=np.int64)[keep]
    counts = np.bincount(flat, minlength=n_steps * n_features)
    return np.minimum(counts, 255).astype(np.uint8).reshape(n_steps, n_features)


def _finish(name, splits, n_classes, counts, params) -> TaskData:
    """TaskData from cached ``uint8`` counts ``[N, T, F]`` and labels per split, the validation split carved."""
    (x_tr, y_tr), (x_te, y_te) = splits
    # fresh, writable uint8 arrays (the cached ones are read-only): 0/1 spikes, or the counts
    x_tr, x_te = (x_tr.copy(), x_te.copy()) if counts else (np.minimum(x_tr, 1), np.minimum(x_te, 1))
    (x_tr, y_tr), (x_te, y_te) = as_tensors(x_tr, y_tr.copy()), as_tensors(x_te, y_te.copy())
    x_tr, y_tr, x_val, y_val = split_validation(x_tr, y_tr, params["val_fraction"], params["seed"])
    return TaskData(name, x_tr, y_tr, x_te, y_te, n_classes=n_classes, readout=slice(None),
                    encoding="current" if counts else "spikes", params=params,
                    x_val=x_val, y_val=y_val, input_scale=None, readout_decay=READOUT_DECAY)


# --- SHD ---------------------------------------------------------------------------------------


def _shd_missing(folder: Path, missing: list[str]) -> DatasetNotFoundError:
    urls = " and ".join(f"{SHD_URL}{f}.gz" for f in SHD_FILES.values())
    return DatasetNotFoundError(
        f"dataset 'shd' (Spiking Heidelberg Digits) not found: missing {', '.join(missing)} in {folder}. "
        f"Nothing is downloaded at run time: download {urls}, gunzip them into {folder} "
        f"(or pass data_dir=..., or set {DATA_ENV} to a folder holding shd/)."
    )


def _read_shd(path: Path, n_steps: int, duration_ms: float, pool: int, order_seed: int, n_wanted, name: str):
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a dependency
        raise ImportError("reading dataset 'shd' needs h5py (pip install h5py)") from exc
    try:
        with h5py.File(path, "r") as f:
            labels = np.asarray(f["labels"][:], dtype=np.int64)
            times, units = f["spikes"]["times"][:], f["spikes"]["units"][:]  # one read each: object arrays
            if not len(times) == len(units) == len(labels):
                raise ValueError(f"dataset 'shd': {path} has {len(times)} spike times, {len(units)} spike units "
                                 f"and {len(labels)} labels; they must be as many")
            idx = _subset(len(labels), n_wanted, np.random.default_rng(order_seed), name, f"dataset 'shd' ({path.name})")
            n_features = -(-SHD_UNITS // pool)
            x = np.zeros((len(idx), n_steps, n_features), dtype=np.uint8)
            for row, i in enumerate(idx):
                unit = np.asarray(units[i], dtype=np.int64)
                if unit.size and (unit.min() < 0 or unit.max() >= SHD_UNITS):
                    raise ValueError(f"dataset 'shd': {path} sample {i} has a unit outside 0..{SHD_UNITS - 1}")
                x[row] = _bin(np.asarray(times[i], dtype=np.float64) * 1000.0, unit // pool, n_steps, duration_ms,
                              n_features)
    except (OSError, KeyError) as exc:
        raise ValueError(f"dataset 'shd': {path} is not a readable SHD file (HDF5 with spikes/times, "
                         f"spikes/units and labels): {exc}") from exc
    y = labels[idx]
    if y.size and (y.min() < 0 or y.max() >= SHD_CLASSES):
        raise ValueError(f"dataset 'shd': {path} has labels outside 0..{SHD_CLASSES - 1}")
    x.flags.writeable = False
    return x, y


def make_shd(seed: int = 0, n_steps: int = 100, duration_ms: float = 1000.0, channel_pool: int = 1,
             counts: bool = False, n_train: int | None = None, n_test: int | None = None,
             data_dir: str | None = None, val_fraction: float = 0.2) -> TaskData:
    """SHD binned to ``[n_steps, N, ceil(700 / channel_pool)]``; 20 classes, read out over all steps."""
    n_steps, duration_ms, n_train, n_test = _check_common(seed, n_steps, duration_ms, n_train, n_test, counts,
                                                          val_fraction)
    channel_pool = check_int("channel_pool", channel_pool)
    folder = _data_dir_param("shd", data_dir)
    paths = {split: folder / f for split, f in SHD_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise _shd_missing(folder, missing)
    params = dict(seed=seed, n_steps=n_steps, duration_ms=duration_ms, channel_pool=channel_pool, counts=counts,
                  n_train=n_train, n_test=n_test, data_dir=None if data_dir is None else str(data_dir),
                  val_fraction=float(val_fraction))
    stamp = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths.values())
    key = ("shd", stamp, seed, n_steps, duration_ms, channel_pool, n_train, n_test)
    splits = _cached(key, lambda: (
        _read_shd(paths["train"], n_steps, duration_ms, channel_pool, seed, n_train, "n_train"),
        _read_shd(paths["test"], n_steps, duration_ms, channel_pool, seed + 1, n_test, "n_test"),
    ))
    return _finish("shd", splits, SHD_CLASSES, counts, params)


# --- N-MNIST -----------------------------------------------------------------------------------


def read_atis_events(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Events of one N-MNIST ``.bin`` file: ``x``, ``y``, ``p`` (0/1) and ``t`` (µs), overflow markers applied."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise ValueError(f"dataset 'nmnist': {path} is not in the 40-bit ATIS event format "
                         f"(its size, {raw.size} bytes, is not a multiple of 5)")
    raw = raw.reshape(-1, 5).astype(np.int64)
    x, y = raw[:, 0], raw[:, 1]
    p = raw[:, 2] >> 7
    t = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    overflow = y == NMNIST_OVERFLOW_Y
    t = t + NMNIST_OVERFLOW_US * np.cumsum(overflow)  # each marker shifts itself and every later event
    keep = ~overflow & (x < NMNIST_SIZE) & (y < NMNIST_SIZE)
    return dict(x=x[keep], y=y[keep], p=p[keep], t=t[keep])


def _nmnist_missing(folder: Path, missing: list[str]) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"dataset 'nmnist' (N-MNIST) not found: missing {', '.join(missing)} in {folder}. "
        f"Nothing is downloaded at run time: download Train.zip and Test.zip from {NMNIST_URL} "
        f"(Mendeley Data, {NMNIST_DOI}) and unzip them into {folder}, giving {folder / 'Train'}/0..9/*.bin "
        f"and {folder / 'Test'}/0..9/*.bin (or pass data_dir=..., or set {DATA_ENV} to a folder holding nmnist/)."
    )


def _nmnist_files(split_dir: Path) -> list[tuple[Path, int]]:
    files = []
    for label in range(NMNIST_CLASSES):
        class_dir = split_dir / str(label)
        if class_dir.is_dir():
            files += [(class_dir / e.name, label) for e in sorted(os.scandir(class_dir), key=lambda e: e.name)
                      if e.name.endswith(".bin") and e.is_file()]
    return files


def _read_nmnist(files, n_steps, duration_ms, pool, order_seed, n_wanted, name, split_dir):
    idx = _subset(len(files), n_wanted, np.random.default_rng(order_seed), name, f"dataset 'nmnist' ({split_dir})")
    side = -(-NMNIST_SIZE // pool)
    n_features = 2 * side * side
    x = np.zeros((len(idx), n_steps, n_features), dtype=np.uint8)
    for row, i in enumerate(idx):
        ev = read_atis_events(files[i][0])
        feature = ev["p"] * side * side + (ev["y"] // pool) * side + ev["x"] // pool
        x[row] = _bin(ev["t"] / 1000.0, feature, n_steps, duration_ms, n_features)
    x.flags.writeable = False
    return x, np.array([files[i][1] for i in idx], dtype=np.int64)


def make_nmnist(seed: int = 0, n_steps: int = 30, duration_ms: float = 300.0, pool: int = 1, counts: bool = False,
                n_train: int | None = None, n_test: int | None = None, data_dir: str | None = None,
                val_fraction: float = 0.2) -> TaskData:
    """N-MNIST binned to ``[n_steps, N, 2 · ceil(34 / pool)²]`` (polarity, row, column); 10 classes."""
    n_steps, duration_ms, n_train, n_test = _check_common(seed, n_steps, duration_ms, n_train, n_test, counts,
                                                          val_fraction)
    pool = check_int("pool", pool)
    folder = _data_dir_param("nmnist", data_dir)
    dirs = {split: folder / sub for split, sub in NMNIST_FOLDERS.items()}
    missing = [f"{d.name}/" for d in dirs.values() if not d.is_dir()]
    if missing:
        raise _nmnist_missing(folder, missing)
    files = {split: _nmnist_files(d) for split, d in dirs.items()}
    empty = [f"{dirs[s].name}/<digit>/*.bin" for s, f in files.items() if not f]
    if empty:
        raise _nmnist_missing(folder, empty)
    params = dict(seed=seed, n_steps=n_steps, duration_ms=duration_ms, pool=pool, counts=counts,
                  n_train=n_train, n_test=n_test, data_dir=None if data_dir is None else str(data_dir),
                  val_fraction=float(val_fraction))
    stamp = tuple((str(d.resolve()), len(files[s]), max(p.stat().st_mtime_ns for p, _ in files[s][:1] + files[s][-1:]))
                  for s, d in dirs.items())
    key = ("nmnist", stamp, seed, n_steps, duration_ms, pool, n_train, n_test)
    splits = _cached(key, lambda: (
        _read_nmnist(files["train"], n_steps, duration_ms, pool, seed, n_train, "n_train", dirs["train"]),
        _read_nmnist(files["test"], n_steps, duration_ms, pool, seed + 1, n_test, "n_test", dirs["test"]),
    ))
    return _finish("nmnist", splits, NMNIST_CLASSES, counts, params)


def _data_dir_param(name: str, given) -> Path:
    if given is not None and not isinstance(given, (str, os.PathLike)):
        raise ValueError(f"data_dir must be a path (str or os.PathLike), got {given!r}")
    return data_dir(name, given)
