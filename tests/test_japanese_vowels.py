"""``japanese-vowels``: the standard UCI splits read offline from the files sktime ships, checked
against sktime's own reader; z-scoring with training statistics; zero padding after each utterance;
the seeded validation split; the reader on hand-written files; bad parameters."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import torch

from snnlib.data import get_task
from snnlib.data import japanese_vowels as jv

#: the UCI documentation: 30 training utterances per speaker; test utterances per speaker 1-9
UCI_TRAIN_PER_SPEAKER = 30
UCI_TEST_PER_SPEAKER = [31, 35, 88, 44, 29, 24, 40, 50, 29]


@pytest.fixture(scope="module")
def task():
    return get_task("japanese-vowels", seed=0)


@pytest.fixture(scope="module")
def sktime_splits():
    """Both files as sktime's own loader reads them: ``{split: ([v_i [T_i, 12]], speakers)}``."""
    from sktime.datasets import load_japanese_vowels

    out = {}
    for split in ("train", "test"):
        frame, labels = load_japanese_vowels(split=split, return_X_y=True)
        series = [np.stack([frame.iloc[i, d].to_numpy(dtype=np.float64) for d in range(frame.shape[1])], axis=1)
                  for i in range(len(frame))]
        out[split] = series, labels.astype(np.int64) - 1
    return out


def lengths(x: torch.Tensor) -> torch.Tensor:
    """Per sample of ``x [T, N, F]``: one past its last step with a non-zero input."""
    nonzero = x.abs().sum(-1) > 0  # [T, N]
    steps = torch.arange(1, x.shape[0] + 1)[:, None]
    return (nonzero * steps).max(0).values


def samples(x: torch.Tensor, y: torch.Tensor) -> Counter:
    """The multiset of (sample bytes, label) of ``x [T, N, F]``, ``y [N]``."""
    return Counter((x[:, i].numpy().tobytes(), int(y[i])) for i in range(x.shape[1]))


def test_standard_splits_classes_and_sizes(task):
    assert (task.n_steps, task.n_inputs, task.n_classes) == (29, 12, 9)
    train_and_val = torch.cat([task.y_train, task.y_val])
    assert len(train_and_val) == 270 and len(task.y_test) == 370
    assert torch.bincount(train_and_val).tolist() == [UCI_TRAIN_PER_SPEAKER] * 9
    assert torch.bincount(task.y_test).tolist() == UCI_TEST_PER_SPEAKER
    assert torch.bincount(task.y_val).tolist() == [6] * 9  # 20 % of each speaker's 30
    assert task.chance == pytest.approx(88 / 370)  # TaskData.chance: the most frequent test speaker
    assert (task.encoding, task.input_scale, task.readout, task.readout_decay) == ("current", 1.0, slice(None), 0.5)
    every = torch.cat([task.x_train, task.x_val, task.x_test], dim=1)
    assert task.input_bounds == (float(every.min()), float(every.max()))


def test_lengths_are_7_to_26_in_training_and_7_to_29_in_test(task, sktime_splits):
    train_lengths = torch.cat([lengths(task.x_train), lengths(task.x_val)])
    assert (int(train_lengths.min()), int(train_lengths.max())) == (7, 26)
    assert (int(lengths(task.x_test).min()), int(lengths(task.x_test).max())) == (7, 29)
    for split, ours in (("train", train_lengths), ("test", lengths(task.x_test))):
        assert Counter(ours.tolist()) == Counter(len(v) for v in sktime_splits[split][0]), split


def test_padding_is_zero_and_frames_are_not(task):
    for x in (task.x_train, task.x_val, task.x_test):
        n = lengths(x)
        valid = torch.arange(x.shape[0])[:, None] < n[None, :]  # [T, N]
        assert torch.all(x[~valid] == 0)
        assert torch.all(x[valid].abs().sum(-1) > 0)  # no frame of an utterance is all zeros


def test_inputs_are_the_files_z_scored_with_training_statistics(task, sktime_splits):
    """Every sample is a file's utterance, z-scored with the statistics of the training file's frames
    (computed here from sktime's reader), then zero-padded to 29 steps; labels travel with them."""
    frames = np.concatenate(sktime_splits["train"][0])
    mean, std = frames.mean(axis=0), frames.std(axis=0)

    def expected(split):
        series, speakers = sktime_splits[split]
        x = np.zeros((29, len(series), 12), dtype=np.float32)
        for i, v in enumerate(series):
            x[:len(v), i] = (v - mean) / std
        return samples(torch.from_numpy(x), torch.from_numpy(speakers))

    assert samples(task.x_test, task.y_test) == expected("test")
    ours = samples(task.x_train, task.y_train) + samples(task.x_val, task.y_val)
    assert ours == expected("train")


def test_z_scoring_uses_training_statistics_only(task):
    def frame_stats(*xs):
        x = torch.cat(xs, dim=1).double()
        frames = x[x.abs().sum(-1) > 0]
        return frames.mean(0), frames.std(0, unbiased=False)

    mean, std = frame_stats(task.x_train, task.x_val)
    assert torch.allclose(mean, torch.zeros(12, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(std, torch.ones(12, dtype=torch.float64), atol=1e-5)
    test_mean, test_std = frame_stats(task.x_test)
    assert test_mean.abs().max() > 0.05 or (test_std - 1).abs().max() > 0.05  # not the test's own statistics


def test_seed_draws_only_the_validation_split():
    a, b, c = (get_task("japanese-vowels", seed=s) for s in (3, 3, 4))
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert torch.equal(a.x_test, c.x_test) and torch.equal(a.y_test, c.y_test)  # the test split: untouched
    assert not torch.equal(a.x_val, c.x_val)
    assert samples(a.x_train, a.y_train) + samples(a.x_val, a.y_val) == \
        samples(c.x_train, c.y_train) + samples(c.x_val, c.y_val)
    train, val = samples(a.x_train, a.y_train), samples(a.x_val, a.y_val)
    assert len(train) == 216 and len(val) == 54 and not set(train) & set(val)  # 270 distinct, none in both
    full = get_task("japanese-vowels", val_fraction=0)
    assert full.x_val is None and full.x_train.shape == (29, 270, 12)


def test_first_test_samples_mix_the_speakers(task):
    """The audits measure the first n test samples: in file order those would be speakers 1-3 only."""
    assert set(task.y_test[:64].tolist()) == set(range(9))
    assert set(task.y_train[:32].tolist()) == set(range(9))


@pytest.mark.parametrize("params, word", [
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(val_fraction=0.5), "val_fraction"),
    (dict(val_fraction="0.2"), "val_fraction"),
    (dict(n_steps=40), "n_steps"),
])
def test_bad_parameters_raise_value_error_naming_them(params, word):
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        get_task("japanese-vowels", **params)


def test_read_ts_hand_written(tmp_path):
    path = tmp_path / "tiny.ts"
    path.write_text("# a comment\n@problemName tiny\n@dimensions 2\n@classLabel true 1 2\n@data\n"
                    "1.5,2,3:4,5,6.25:2\n\n-1,0:0,1e-3:1\n")
    series, labels = jv.read_ts(path)
    assert labels.tolist() == ["2", "1"]
    assert series[0].tolist() == [[1.5, 4.0], [2.0, 5.0], [3.0, 6.25]] and series[1].tolist() == [[-1.0, 0.0],
                                                                                                    [0.0, 0.001]]
    padded = jv.pad(series, 4)  # [N, T, F], zeros after each utterance
    assert padded.shape == (2, 4, 2) and padded.dtype == np.float32
    assert np.array_equal(padded[0], [[1.5, 4], [2, 5], [3, 6.25], [0, 0]])
    assert np.allclose(padded[1], [[-1, 0], [0, 0.001], [0, 0], [0, 0]], rtol=0, atol=1e-7)
    path.write_text("@data\n1,2:3:1\n")
    with pytest.raises(ValueError, match="line 2"):
        jv.read_ts(path)
    path.write_text("1,2:3,4:1\n")
    with pytest.raises(ValueError, match="@data"):
        jv.read_ts(path)
    with pytest.raises(ValueError, match="speakers"):
        jv._speakers(np.array(["1", "10"]), path)


def test_missing_package_is_named(monkeypatch):
    monkeypatch.setattr(jv.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="sktime"):
        jv.data_folder()


def test_reads_offline(monkeypatch):
    """Built from scratch with every socket refused (the module's cache cleared first)."""
    def refuse(*args, **kwargs):
        raise AssertionError("japanese-vowels tried to use the network")
    jv._load.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert get_task("japanese-vowels", seed=1).x_test.shape == (29, 370, 12)


def test_import_does_not_import_sktime():
    code = ("import sys; from snnlib.data import get_task; get_task('japanese-vowels'); "
            "print('sktime' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"  # the files are read without importing sktime
