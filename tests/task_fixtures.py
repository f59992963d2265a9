"""Tiny SHD and N-MNIST data sets written in the real on-disk formats, for tests.

The writers pack the bytes themselves (independently of :mod:`snnlib.data.neuromorphic`'s readers),
so a test that loads what they wrote checks the readers against the formats, not against themselves.

- SHD: HDF5 ``shd_train.h5`` / ``shd_test.h5`` with variable-length ``spikes/times`` (seconds,
  float) and ``spikes/units`` (uint16) per sample, ``labels`` (uint16) and, as in the real files,
  ``extra/speaker``.
- N-MNIST: ``Train/<digit>/<id>.bin`` and ``Test/<digit>/<id>.bin``, each event 5 bytes: x, y,
  polarity (top bit) with the timestamp's top 7 bits, then the timestamp's low 16 bits (µs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OVERFLOW_Y = 240


def write_shd_file(path: Path, times: list[np.ndarray], units: list[np.ndarray], labels) -> Path:
    """One SHD file: ``times[i]`` (seconds) and ``units[i]`` are the spikes of sample ``i``."""
    import h5py

    with h5py.File(path, "w") as f:
        spikes = f.create_group("spikes")
        t = spikes.create_dataset("times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
        u = spikes.create_dataset("units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (ti, ui) in enumerate(zip(times, units)):
            t[i] = np.asarray(ti, dtype=np.float32)
            u[i] = np.asarray(ui, dtype=np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        f.create_group("extra").create_dataset("speaker", data=np.zeros(len(labels), dtype=np.uint16))
    return path


def random_shd_split(rng: np.random.Generator, n: int, n_classes: int = 20, max_spikes: int = 50):
    """Random spikes (times in [0, 1.2) s, units in 0..699) and labels for ``n`` samples."""
    times, units = [], []
    for _ in range(n):
        k = int(rng.integers(1, max_spikes))
        times.append(np.sort(rng.random(k) * 1.2))
        units.append(rng.integers(0, 700, size=k))
    return times, units, rng.integers(0, n_classes, size=n)


def make_shd_dir(root: Path, n_train: int = 12, n_test: int = 6, seed: int = 0) -> Path:
    """A folder with ``shd_train.h5`` and ``shd_test.h5`` of random samples."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    write_shd_file(root / "shd_train.h5", *random_shd_split(rng, n_train))
    write_shd_file(root / "shd_test.h5", *random_shd_split(rng, n_test))
    return root


def pack_atis(x, y, p, t) -> bytes:
    """Events in the 40-bit ATIS format of N-MNIST (``t`` in µs, below 2**23)."""
    out = bytearray()
    for xi, yi, pi, ti in zip(x, y, p, t):
        assert 0 <= ti < 2 ** 23 and 0 <= xi < 256 and 0 <= yi < 256 and pi in (0, 1)
        out += bytes([int(xi), int(yi), (int(pi) << 7) | (int(ti) >> 16), (int(ti) >> 8) & 0xFF, int(ti) & 0xFF])
    return bytes(out)


def random_events(rng: np.random.Generator, n_events: int = 40, max_t: int = 320_000):
    t = np.sort(rng.integers(0, max_t, size=n_events))
    return rng.integers(0, 34, size=n_events), rng.integers(0, 34, size=n_events), rng.integers(0, 2, size=n_events), t


def make_nmnist_dir(root: Path, per_class_train: int = 2, per_class_test: int = 1, seed: int = 0) -> Path:
    """A folder with ``Train/0..9`` and ``Test/0..9`` holding random ``.bin`` samples."""
    rng = np.random.default_rng(seed)
    for split, per_class in (("Train", per_class_train), ("Test", per_class_test)):
        for digit in range(10):
            folder = root / split / str(digit)
            folder.mkdir(parents=True, exist_ok=True)
            for j in range(per_class):
                (folder / f"{digit * 1000 + j + 1:05d}.bin").write_bytes(pack_atis(*random_events(rng)))
    return root
