r"""Learned and adaptive components (chapter 07): effect rows for the exploratory family, never voting on C1-C4.

Two questions, each answered by per-seed paired differences (one seed = one data set and one
initialisation for every network) judged with the study's machinery (:mod:`snnlib.analysis.claims`,
claim ``L``, every row *exploratory*: :func:`snnlib.analysis.claims.assess` ``extra_rows``):

**Does a learned λ remove C1's trade-off?** PLIF (one learned λ per neuron) against the *best fixed λ*
of 02_leakage's LIF sweep at the same delay, the best λ chosen on mean **validation** accuracy
(:func:`best_fixed_decay`), never on test accuracy:

- memory: test accuracy of delayed-recall, PLIF − LIF(λ*), at each delay (two-sided, SESOI 0.02);
- robustness: the retention-noise area (:func:`retention_area`), PLIF − LIF(λ*) (two-sided, SESOI 0.05).

The retention-noise area of one network is the chance-corrected accuracy averaged over the noise
levels :math:`r_0 = 0 < r_1 < \dots < r_K` by the trapezoid rule,

.. math::  A = \frac{1}{r_K - r_0} \int_{r_0}^{r_K} \frac{a(r) - c}{a(0) - c}\, dr

(:math:`a(r)`: test accuracy with background spikes at rate :math:`r` during the delay, :math:`c`
chance): 1 when noise costs nothing, 0 when the smallest noise already brings the network to chance;
NaN when the clean accuracy is within 0.05 of chance (no memory to lose).

**Does an adaptive threshold change C2 / C3?** ALIF (:math:`\theta + \beta a`) on streams:

- stream: drop(ALIF-noreset) − drop(ALIF) (expected +, as C2), and drop(ALIF-noreset) −
  drop(LIF-noreset) of 03_reset at the same λ (two-sided: does adaptation stand in for a reset?);
- SynOps: (ALIF-noreset − ALIF) / ALIF (expected +, as C3), and (ALIF − LIF) / LIF (two-sided).

The drop is accuracy at stream position 1 minus the mean at positions ≥ 2 (:func:`claims.stream_drop`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from snnlib.analysis import claims

CLAIM = "L"
STATEMENT = "learned leak (PLIF) and adaptive threshold (ALIF) against fixed λ (exploratory)"


def retention_area(levels, accuracies, chance: float) -> float:
    """The chance-corrected area under accuracy against retention noise (module docstring); ``levels``
    ascending from 0. ``ValueError`` when they are not."""
    levels, acc = np.asarray(levels, dtype=float), np.asarray(accuracies, dtype=float)
    if len(levels) < 2 or levels[0] != 0.0 or np.any(np.diff(levels) <= 0):
        raise ValueError(f"levels must ascend from 0.0 with at least two values, got {list(levels)}")
    clean = acc[0]
    if clean - chance < claims.MIN_ABOVE_CHANCE:
        return math.nan
    kept = (acc - chance) / (clean - chance)
    return float(np.sum((kept[1:] + kept[:-1]) / 2 * np.diff(levels)) / (levels[-1] - levels[0]))


def retention_scores(records: pd.DataFrame) -> pd.Series:
    """Per run, :func:`retention_area` of its ``retention_noise`` rows (NaN where it has none)."""
    def area(rows, chance):
        if not isinstance(rows, list) or len(rows) < 2:
            return math.nan
        return retention_area([r["level"] for r in rows], [r["accuracy"] for r in rows], chance)
    if "retention_noise" not in records:
        return pd.Series(math.nan, index=records.index)
    return pd.Series([area(r, c) for r, c in zip(records["retention_noise"], records["chance"])], index=records.index)


def _recall(df: pd.DataFrame) -> pd.DataFrame:
    out = df[df["task"] == "delayed-recall"]
    return out.assign(delay=out["task_params.delay"].astype(int))


def best_fixed_decay(leakage: pd.DataFrame) -> dict[int, float]:
    """Delay -> the λ of 02_leakage's LIF sweep with the highest mean validation accuracy at that delay
    (ties: the larger λ, the weaker leak)."""
    recall = _recall(leakage)
    recall = recall[recall["variant"] == "LIF"]
    best = {}
    for delay, part in recall.groupby("delay"):
        means = part.groupby("decay")["val_accuracy"].mean().dropna()
        if len(means):
            best[int(delay)] = float(means[means == means.max()].index.max())
    return best


def best_fixed_runs(leakage_runs: list[dict], leakage: pd.DataFrame, delays) -> list[dict]:
    """The run parameters (02_leakage's own) of the best fixed λ (:func:`best_fixed_decay`) at each of
    ``delays``, on delayed-recall: the networks whose retention noise the chapter measures."""
    best = best_fixed_decay(leakage)
    return [p for p in leakage_runs if p["task"] == "delayed-recall" and p["variant"] == "LIF"
            and p["task_params"]["delay"] in delays and p["task_params"]["delay"] in best
            and math.isclose(p["decay"], best[p["task_params"]["delay"]])]


def measure_fixed_retention(params: list[dict], levels) -> pd.DataFrame:
    """The retention-noise measure of recorded runs, on their stored weights (nothing trained where the
    record is current; :func:`snnlib.study.experiment.trained_model`), with the same function the
    learned runs are measured with. Columns: seed, decay, delay, chance, retention_noise."""
    from snnlib.study.experiment import trained_model
    from snnlib.study.measuring import measure_retention_noise

    rows = []
    for p in params:
        task, model = trained_model(p)
        measured = measure_retention_noise(model, task, {"measure_params": dict(retention_noise=list(levels))}, None)
        rows.append(dict(seed=p["seed"], decay=p["decay"], delay=p["task_params"]["delay"], chance=task.chance,
                         retention_noise=measured["retention_noise"]))
    return pd.DataFrame(rows)


def _difference(a: pd.DataFrame, b: pd.DataFrame, value: str, ratio: bool = False):
    """Per seed, mean(value of b) - mean(value of a) (or relative), as the claims' paired rows."""
    both = pd.concat([a.assign(_level="a"), b.assign(_level="b")], ignore_index=True)
    from snnlib.analysis import stats

    return claims.estimable(lambda: stats.per_seed_difference(both, "_level", ("a", "b"), value, ratio=ratio))


def _levels(a: pd.DataFrame, b: pd.DataFrame, value: str) -> tuple[float, float]:
    means = [pd.to_numeric(x[value], errors="coerce").mean() for x in (a, b)]
    means = [m for m in means if pd.notna(m)]
    return (min(means), max(means)) if means else (math.nan, math.nan)


def _row(arm, effect, values, kind, expected, task, decay=math.nan, contrast="", point="", point_value=math.nan,
         levels=(math.nan, math.nan), chance=math.nan, ceiling=1.0, figure="learned"):
    return claims._row(CLAIM, arm, effect, values, kind, expected, task=task, decay=decay, contrast=contrast,
                       figure=figure, point=point, point_value=point_value, levels=levels, chance=chance,
                       ceiling=ceiling)


def learned_effects(learned: pd.DataFrame, leakage: pd.DataFrame, reset: pd.DataFrame,
                    fixed_retention: pd.DataFrame | None = None) -> list[dict]:
    """The effect rows of chapter 07 (module docstring), unjudged, claim ``L``: to be passed as
    ``extra_rows`` to :func:`snnlib.analysis.claims.assess`, which puts them in the exploratory family.

    ``learned``: 07's records; ``leakage``, ``reset``: 02's and 03's; ``fixed_retention``: the
    retention-noise measure of the best fixed λ (:func:`measure_fixed_retention`; without it no
    robustness row)."""
    rows = []
    recall, fixed = _recall(learned), _recall(leakage)
    best = best_fixed_decay(leakage)
    retention = None
    if fixed_retention is not None and len(fixed_retention):
        retention = fixed_retention.assign(retention=retention_scores(fixed_retention))
    for delay, part in recall.groupby("delay", sort=True):
        if int(delay) not in best:
            continue
        lam = best[int(delay)]
        ref = fixed[(fixed["delay"] == delay) & (fixed["variant"] == "LIF") & np.isclose(fixed["decay"], lam)]
        where = dict(task="delayed-recall", point="delay", point_value=float(delay), chance=float(part["chance"].mean()))
        for variant in ("PLIF", "ALIF"):
            own = part[part["variant"] == variant]
            if own.empty or ref.empty:
                continue
            rows.append(_row("memory", f"accuracy, {variant} − LIF at best λ {lam:g}",
                             _difference(ref, own, "test_accuracy"), "accuracy", 0,
                             contrast="learned vs best fixed λ (chosen on validation)",
                             levels=_levels(ref, own, "test_accuracy"), **where))
            if retention is not None and variant == "PLIF":
                theirs = retention[retention["delay"] == delay]
                mine = own.assign(retention=retention_scores(own))
                if len(theirs):
                    rows.append(_row("robustness", f"retention-noise area, {variant} − LIF at best λ {lam:g}",
                                     _difference(theirs, mine, "retention"), "robustness", 0,
                                     contrast="learned vs best fixed λ (chosen on validation)",
                                     levels=_levels(theirs, mine, "retention"), task="delayed-recall",
                                     point="delay", point_value=float(delay), chance=0.0))
    rows += _stream_rows(learned, reset)
    return rows


def _stream_rows(learned: pd.DataFrame, reset: pd.DataFrame) -> list[dict]:
    streamed = learned[learned["stream_accuracy"].notna()] if "stream_accuracy" in learned else learned.iloc[:0]
    rows = []
    if streamed.empty:
        return rows
    streamed = streamed.assign(drop=claims.stream_drop(streamed), later=claims.stream_later(streamed))
    lam, task = float(streamed["decay"].iloc[0]), streamed["task"].iloc[0]
    alif, alif_nr = streamed[streamed["variant"] == "ALIF"], streamed[streamed["variant"] == "ALIF-noreset"]
    base = reset[(reset["task"] == task) & np.isclose(reset["decay"], lam) & (reset["rate_reg"] == 0)
                 & (reset["train_stream"] == 0)]
    if "stream_accuracy" in base:
        base = base[base["stream_accuracy"].notna()]
        base = base.assign(drop=claims.stream_drop(base), later=claims.stream_later(base))
    lif, lif_nr = base[base["variant"] == "LIF"], base[base["variant"] == "LIF-noreset"]
    chance = float(streamed["chance"].mean())
    common = dict(task=task, decay=lam, chance=chance)
    if len(alif) and len(alif_nr):
        rows.append(_row("stream", "drop, ALIF-noreset − ALIF", _difference(alif, alif_nr, "drop"), "accuracy", +1,
                         contrast="feed-forward, trained on samples", levels=_levels(alif, alif_nr, "later"),
                         **common))
        rows.append(_row("SynOps", "hidden SynOps, (ALIF-noreset − ALIF) / ALIF",
                         _difference(alif, alif_nr, "hidden_synops", ratio=True), "synops", +1,
                         contrast="relative difference, feed-forward", ceiling=math.nan,
                         levels=_levels(alif, alif_nr, "test_accuracy"), **common))
    if len(alif_nr) and len(lif_nr) and "drop" in base:
        rows.append(_row("stream", "drop, ALIF-noreset − LIF-noreset", _difference(lif_nr, alif_nr, "drop"),
                         "accuracy", 0, contrast="adaptive vs fixed threshold, no reset",
                         levels=_levels(lif_nr, alif_nr, "later"), **common))
    if len(alif) and len(lif):
        rows.append(_row("SynOps", "hidden SynOps, (ALIF − LIF) / LIF", _difference(lif, alif, "hidden_synops", ratio=True),
                         "synops", 0, contrast="adaptive vs fixed threshold, hard reset", ceiling=math.nan,
                         levels=_levels(lif, alif, "test_accuracy"), **common))
    return rows


def decay_quantiles(records: pd.DataFrame) -> pd.DataFrame:
    """Per run of a learned-λ variant, the quantiles of its first hidden layer's learned λ from the metrics
    (``neuron``): columns task, variant, delay (NaN off delayed-recall), seed, mean, q10, median, q90."""
    rows = []
    for _, rec in records.iterrows():
        layers = rec.get("neuron")
        if isinstance(layers, list) and layers and "decay" in layers[0]:
            q = layers[0]["decay"]
            rows.append(dict(task=rec["task"], variant=rec["variant"], seed=rec["seed"],
                             delay=rec.get("task_params.delay", math.nan), **{k: q[k] for k in
                                                                             ("mean", "min", "q10", "median", "q90", "max")}))
    return pd.DataFrame(rows)
