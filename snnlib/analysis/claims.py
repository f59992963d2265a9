r"""The four claims of the study and the generalization questions, each decided from recorded runs.

Every effect is a row (claim, arm, effect, task, λ, operating point, contrast, unit, SESOI and its
reason, expected sign, figure) carrying its **per-seed values**: the study is paired (one seed = one
data set and one initialisation for every variant), so each effect is first computed within each seed
-- a paired difference, or a rank correlation along a swept factor -- and only then summarised over
seeds (:func:`snnlib.analysis.stats.adjust`: mean, Student-t interval, on the Fisher-z scale for
correlations, exact sign-flip p-value, the family's correction, and the verdict with the effect's
SESOI). :func:`effects` builds the rows and marks the primary ones, :func:`judge` judges them,
:func:`verdicts` decides each claim from its primary contrasts, :func:`stability` perturbs the analysis.

Effects and their smallest effect sizes of interest (SESOI), in the effect's own units::

    C1  leakage trades memory retention against robustness (02_leakage; small λ = strong leak)
        memory      per-seed Spearman ρ(λ, test accuracy), delayed-recall, at each delay               +   0.3
        robustness  per-seed Spearman ρ(λ, robustness) on the memory arm's networks at robust_delay:
                    retention noise (background spikes during the delay; area under the
                    chance-corrected accuracy curve over the rates), and the attack audits (area
                    over the spike-flip budgets; over the L∞ radii of the analog task)              -   0.3
    C2  reset is essential for uninterrupted processing (03_reset), per λ, feed-forward and recurrent,
        trained on single samples and on streams of a temporal task (seq-digits)
        stream      drop(no reset) - drop(hard reset), drop = accuracy at position 1 - mean at ≥ 2   +   0.02
    C3  reset buys efficiency (03_reset), per task and λ, feed-forward
        frontier    SynOps each mode needs to reach the same accuracy on its rate-regularisation
                    frontier, (no reset - hard) / hard                                              +   0.05
        SynOps      unregularised hidden SynOps, (no reset - hard) / hard, at matched accuracy      +   0.05
    C4  recurrence enriches complex dynamics, at a cost of robustness (04_recurrence), per task and λ
        growth      per-seed slope along K (events whose order decides the label, shared channels,
                    a fixed gap) of recurrent - feed-forward accuracy, per added event              +   0.01
        accuracy    recurrent - feed-forward (matched pair: same width), each gap and K            +   0.02
        parameters  recurrent - feed-forward as wide as the recurrent layer has weights              +   0.02
        robustness  chance-corrected robustness (area over the L∞ radii), recurrent - feed-forward   -   0.05
    G   generalization, two-sided: train - test gap and accuracy at untrained delays along λ (02);
        gap, no reset - hard (03); gap, recurrent - feed-forward (04)                                 0   0.3 / 0.02

Why these SESOIs: accuracies are measured on 512 test samples, whose binomial standard error is about
2 points, so a difference under 2 points is within one run's measurement noise; ρ = 0.3 is a weak
monotone association (Cohen); 5% of SynOps is below what any hardware estimate resolves;
chance-corrected robustness moves by 0.05 when 5% of the above-chance accuracy is lost.

**Primary contrasts** (:data:`PRIMARY`, :class:`Primary`). Each arm of a claim -- C1 memory, C1
robustness, C2, C3, C4 accuracy, C4 robustness -- declares exactly one primary contrast before any
verdict is read: its task, its λ (none for a trend along λ), its condition, and its operating point
(delay, gap or radius). The declaration is data, one table per profile (the profiles' grids differ),
edited in one place; a test checks that every declared task and λ exists in every profile's grid. An
operating point is either fixed (the only row that matches) or chosen by a declared rule that reads
*validation* accuracy, never test accuracy (``choose="validation"``): among the matching rows, the
one whose reference -- every run of the λ sweep for a trend, the feed-forward control for a
difference -- has the mean validation accuracy :math:`v` furthest from both chance :math:`c_0` and the
ceiling 1,

.. math::  \text{headroom} = \min(v - c_0,\ 1 - v), \qquad \text{chosen point} = \arg\max \text{headroom}

(ties: the smaller operating point; no validation accuracy at all: the middle one). A delay where every
λ recalls perfectly, or none does, cannot show a trend along λ; a gap where the feed-forward control is
at the ceiling cannot show recurrence helping. **A claim's verdict is decided by its primary
contrasts alone**: C2 and C3 take their primary row's verdict, the trade-offs C1 and C4 combine the
two arms' primary verdicts (:func:`snnlib.analysis.stats.combine_tradeoff`). Every other row is
*secondary*: shown and tested, never voting. A declared contrast without a row in the records (a grid
that changed) leaves its arm *inconclusive*, and the table says so.

**Two families** (:func:`judge`). The primary rows form the *confirmatory* family, judged with Holm's
correction (family-wise error rate 0.05: a claim's verdict is a confirmatory statement); every other row,
secondary or generalization, forms the *exploratory* family, judged with Benjamini and Hochberg's
correction (false discovery rate 0.05, with false-coverage-rate intervals,
:mod:`snnlib.analysis.stats`): its rows are a screen of where else the components matter, and a
family-wise correction over some sixty of them would only blur them. Neither family's size depends on
the other's, so adding a task to a chapter's grid changes no claim's verdict. The judged table has the
columns ``primary`` (bool) and ``family`` (``confirmatory`` / ``exploratory``).

**Enough seeds for the family.** With :math:`n` seeds the exact sign-flip p-value is at least
:math:`2/2^n`, so Holm's smallest adjusted p over the :math:`m` confirmatory contrasts is
:math:`m \cdot 2/2^n`, and no claim can be decided unless it is below 0.05
(:func:`snnlib.analysis.stats.seeds_needed`): for :math:`m = 6`, :math:`n \ge 8`; the quick profile's
12 seeds give :math:`6 \cdot 2/4096 = 0.0029`, the smoke profile's 2 seeds :math:`\min(1, 6 \cdot 2/4) = 1`
(smoke verdicts are a test of the pipeline, never of a claim). :func:`family_arithmetic` computes it
from the judged table, and the summary prints it.

**Saturated rows.** A row whose groups all lie within 2 points of the ceiling, or all within 2 points
of chance (:func:`snnlib.analysis.stats.saturated`; for a trend every λ level, for a difference both
arms; accuracies between chance and 1, chance-corrected robustness between 0 and 1, stream accuracy
at the later positions for C2; SynOps at matched accuracy only at chance) is labelled ``saturated``, not
``negligible``: it could not have shown the effect. It stays in its family.

**Efficiency at matched accuracy** (C3): a row whose reset variant is less accurate than the one without
reset by more than 2 points (its accuracy difference ``accuracy_diff``, in the same row) cannot be
*supported*: its verdict becomes ``inconclusive`` and the table says why (``note``).

**Robustness** comes from the attack audit (:mod:`snnlib.measure.audit`): the worst case per sample over
the battery, chance-corrected ``(robust - chance) / (clean - chance)``; a run within 0.05 of chance has
no robustness value, and the table counts those (``n_excluded``) instead of dropping them silently.

**Estimable rows.** A row with per-seed values on fewer than half the study's seeds (and at least 2)
is listed, not judged: verdict *inconclusive*, a note, and it joins no family. A claim's seed count is
the smallest over its *estimable* primary rows.

**Stability** (:func:`stability`). For each claim, the share of perturbations of the analysis under
which its verdict stays the same: each seed left out in turn (the primary rows stay those chosen with
every seed), every SESOI halved and doubled, the other correction for the confirmatory family
(Benjamini-Hochberg in place of Holm), and, where the records hold them, each attack redraw and the
other reading of the leak (its primary contrasts trained again by the summary,
:mod:`snnlib.analysis.reading`; effect tables computed from those records; *not available* otherwise, and
not counted). A verdict that changes under any perturbation is labelled *fragile*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from snnlib.analysis import stats
from snnlib.model.variants import Variant
from snnlib.study.config import PROFILE_NAMES

CLAIMS = {
    "C1": "leakage trades memory retention against robustness",
    "C2": "reset is essential for uninterrupted temporal processing",
    "C3": "reset buys computational efficiency",
    "C4": "recurrence enriches the modelling of complex dynamics, at a cost of robustness",
    "G": "generalization (two-sided: does the component change it?)",
    "L": "learned leak and adaptive threshold against fixed λ (exploratory, chapter 07)",
}
SESOI = dict(
    rho=(0.3, "a weak monotone association (ρ = 0.3)"),
    accuracy=(0.02, "about one binomial standard error of a test accuracy on 512 samples"),
    synops=(0.05, "5% of SynOps, below what a hardware estimate resolves"),
    robustness=(0.05, "5% of the above-chance accuracy lost"),
)
MIN_ABOVE_CHANCE = 0.05
MATCHED_ACCURACY = 0.02
#: an effect is judged only on at least this fraction of the study's seeds (fewer, e.g. when most runs sit
#: at chance, and it is listed, not judged)
MIN_SEED_FRACTION = 0.5
FAMILIES = ("confirmatory", "exploratory")
#: the correction of each family (:func:`snnlib.analysis.stats.adjust`)
ADJUSTMENT = {"confirmatory": "holm", "exploratory": "bh"}
#: the claims that are trade-offs: both arms must stand
TRADEOFFS = ("C1", "C4")


# --- the pre-registered primary contrasts -------------------------------------------------------------

class Primary(BaseModel):
    """One claim arm's primary contrast: the one row that decides the arm (module docstring).

    A row matches when its ``claim``, ``arm`` and ``task`` are these, its λ is ``decay`` (``None``: a
    trend along λ, whose rows carry no λ) and, if given, its ``contrast`` is this one. ``choose="only"``
    expects exactly one matching row; ``choose="validation"`` picks among the matching rows the
    operating point ``point`` whose reference has the most validation headroom.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim: Literal["C1", "C2", "C3", "C4"]
    arm: str
    task: str
    decay: float | None = Field(None, ge=0.0, le=1.0)
    contrast: str | None = None
    point: Literal["", "delay", "gap", "radius"] = ""
    choose: Literal["only", "validation"] = "only"
    reason: str

    def describe(self) -> str:
        """``"delayed-recall, trend along λ, delay chosen on validation accuracy"``."""
        lam = f"λ {self.decay:g}" if self.decay is not None else "" if "λ" in (self.contrast or "") else "trend along λ"
        parts = [self.task] + ([lam] if lam else [])
        if self.contrast:
            parts.append(self.contrast)
        if self.point:
            parts.append(f"{self.point} chosen on validation accuracy" if self.choose == "validation"
                         else f"{self.point} as declared")
        return ", ".join(parts)


#: the primary contrast of every claim arm; edit here (and, where one profile's grid lacks a λ or task,
#: in :data:`_PROFILE_CHANGES`)
_PRIMARY = (
    Primary(claim="C1", arm="memory", task="delayed-recall", point="delay", choose="validation",
            reason="the trend along λ at the delay where the sweep's mean validation accuracy (every λ) is "
                   "furthest from chance and ceiling: at delay 0 every λ recalls, at the longest none may"),
    Primary(claim="C1", arm="robustness", task="delayed-recall", contrast="retention noise",
            reason="the perturbation a memory meets, on the same networks as the memory arm: background "
                   "spikes during the delay of networks trained on a silent one, scored over the whole "
                   "noise curve (chance-corrected normalised area)"),
    Primary(claim="C2", arm="stream", task="seq-digits", decay=0.9, contrast="feed-forward, trained on samples",
            reason="a temporal task (one image row per step) streamed without any reset, at the weakest leak of "
                   "the grid, where a membrane without reset carries the most state from one sample to the "
                   "next; trained on single samples, so nothing taught it streams"),
    Primary(claim="C3", arm="SynOps", task="digits", decay=0.5, contrast="frontier",
            reason="SynOps at equal accuracy along the rate-regularisation frontier (regularisation cuts "
                   "SynOps too, so an unregularised comparison would credit reset with what any penalty "
                   "buys), at the study's reference λ, on the task every profile trains"),
    Primary(claim="C4", arm="accuracy", task="temporal-xor", contrast="growth with complexity, best λ",
            reason="how the recurrent − feed-forward difference grows with the number of events whose ORDER "
                   "decides the label (integrators that count events cannot tell it), at a fixed gap: "
                   "complexity as a knob, apart from memory span; each architecture at its best λ at each "
                   "K (chosen on validation accuracy among the λ levels trained, λ = 1 the non-leaky one), "
                   "so that neither is judged at a leak that suits only the other"),
    Primary(claim="C4", arm="robustness", task="seq-digits", decay=0.5, contrast="recurrent vs FF",
            reason="the analog task, whose feed-forward and recurrent networks are both above chance, scored "
                   "over the whole L∞ radius grid (chance-corrected normalised area)"),
)
#: per profile, the fields of a declaration that differ because the profile's grid lacks the λ or task
_PROFILE_CHANGES: dict[str, dict[tuple[str, str], dict]] = {
    # smoke's 03_reset trains λ = 0.5 on digits only, without the rate-regularisation sweep
    "smoke": {("C2", "stream"): dict(decay=0.5, task="digits"),
              ("C3", "SynOps"): dict(contrast="relative difference, feed-forward")},
    "quick": {},
    "full": {},
}


def _declare(profile: str) -> tuple[Primary, ...]:
    changes = _PROFILE_CHANGES[profile]
    return tuple(Primary(**{**p.model_dump(), **changes.get((p.claim, p.arm), {})}) for p in _PRIMARY)


#: profile -> the primary contrasts, one per claim arm
PRIMARY: dict[str, tuple[Primary, ...]] = {profile: _declare(profile) for profile in PROFILE_NAMES}
#: claim -> its arms, in order (the same under every profile)
ARMS: dict[str, tuple[str, ...]] = {c: tuple(p.arm for p in _PRIMARY if p.claim == c) for c in ("C1", "C2", "C3", "C4")}


def primary_table(profile: str) -> pd.DataFrame:
    """The declarations of ``profile`` as a table (claim, arm, task, λ, contrast, point, choose, reason)."""
    if profile not in PRIMARY:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    return pd.DataFrame([p.model_dump() for p in PRIMARY[profile]]).rename(columns={"decay": "lambda"})


# --- per-run scores ------------------------------------------------------------------------------------

def middle(values) -> float:
    """The middle non-zero radius of a grid (the one the claims judge robustness at)."""
    nonzero = sorted(v for v in values if v > 0)
    return nonzero[(len(nonzero) - 1) // 2] if nonzero else math.nan


def audit_rows(records: pd.DataFrame, keep=("task", "variant", "decay", "seed", "width")) -> pd.DataFrame:
    """One row per run and audited radius: radius (spike flips, or L∞ in input scales), worst-case
    ``accuracy``, ``clean``, each attack's accuracy (``attack.NAME``), the run's ``chance``."""
    keep = [c for c in keep if c in records.columns]
    rows = []
    if "audit" not in records:  # no run of these records was audited
        return pd.DataFrame(rows)
    for _, rec in records.dropna(subset=["audit"]).iterrows():
        for entry in rec["audit"]:
            radius = entry.get("radius_scales", entry["radius"])
            rows.append({**{c: rec[c] for c in keep}, "radius": radius, "full_range": entry["full_range"],
                         "accuracy": entry["accuracy"], "clean": entry["clean"], "chance": rec["chance"],
                         "encoding": "spikes" if "radius_scales" not in entry else "current",
                         **{f"attack.{k}": v for k, v in entry["per_attack"].items()}})
    return pd.DataFrame(rows)


def chance_corrected(robust, clean, chance) -> float:
    """``(robust - chance) / (clean - chance)``; NaN when clean is within 0.05 of chance."""
    return (robust - chance) / (clean - chance) if clean - chance >= MIN_ABOVE_CHANCE else math.nan


def normalised_area(x, y) -> float:
    """The area under ``y`` over ``x`` (trapezoids) divided by the width of ``x``: the mean height of the
    curve, in ``y``'s units; NaN if any ``y`` is NaN or ``x`` has no width."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if len(x) < 2 or x[-1] <= x[0] or np.isnan(y).any():
        return math.nan
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))


def robustness_scores(records: pd.DataFrame, radius: float | None = None) -> pd.DataFrame:
    """Per run, the chance-corrected worst-case robustness in column ``robustness``: by default the
    normalised area under the chance-corrected robust-accuracy curve over the audited radii (the full-range
    sanity radius aside; :func:`normalised_area`; ``radius`` None); with ``radius``, the value at that one
    radius (``radius`` NaN: at every radius, one row each). NaN for runs within 0.05 of chance."""
    rows = audit_rows(records)
    if rows.empty:
        return rows
    rows = rows[~rows["full_range"].astype(bool)]  # the sanity radius covering the whole input range
    rows = rows.assign(robustness=[chance_corrected(a, c, ch) for a, c, ch in
                                   zip(rows["accuracy"], rows["clean"], rows["chance"])])
    if radius is not None:  # NaN: every single radius, one row each
        at = rows if isinstance(radius, float) and math.isnan(radius) else rows[np.isclose(rows["radius"], radius)]
        return at.reset_index(drop=True)
    keys = [c for c in ("task", "variant", "decay", "seed", "width") if c in rows.columns]
    out = []
    for _, part in rows.groupby(keys, sort=False, dropna=False):
        first = part.iloc[0].to_dict()
        first.update(radius=math.nan, radius_max=float(part["radius"].max()), accuracy=_mean(part["accuracy"]),
                     robustness=normalised_area(part["radius"], part["robustness"]))
        out.append(first)
    return pd.DataFrame(out)


def retention_scores(records: pd.DataFrame) -> pd.DataFrame:
    """Per run with a retention-noise curve, the normalised area under its chance-corrected accuracy
    ``(acc(q) - chance) / (acc(0) - chance)`` over the background-spike rates ``q`` held during the delay
    (:func:`normalised_area`), in column ``robustness`` (NaN for runs within 0.05 of chance when clean)."""
    if "retention_noise" not in records:
        return pd.DataFrame()
    rows = []
    for _, rec in records.dropna(subset=["retention_noise"]).iterrows():
        curve = sorted(rec["retention_noise"], key=lambda r: r["level"])
        clean = curve[0]["accuracy"]
        scores = [chance_corrected(r["accuracy"], clean, rec["chance"]) for r in curve]
        rows.append(dict(task=rec["task"], variant=rec["variant"], decay=rec["decay"], seed=rec["seed"],
                         level_max=curve[-1]["level"], robustness=normalised_area([r["level"] for r in curve], scores)))
    return pd.DataFrame(rows)


def stream_drop(records: pd.DataFrame) -> pd.Series:
    """Per run, accuracy at stream position 1 minus the mean accuracy at positions ≥ 2."""
    return records["stream_accuracy"].map(lambda a: a[0] - float(np.mean(a[1:])) if isinstance(a, list) and len(a) > 1
                                          else math.nan)


def stream_later(records: pd.DataFrame) -> pd.Series:
    """Per run, the mean stream accuracy at positions ≥ 2 (what C2's saturation is read on)."""
    return records["stream_accuracy"].map(lambda a: float(np.mean(a[1:])) if isinstance(a, list) and len(a) > 1
                                          else math.nan)


def with_labels(records: pd.DataFrame) -> pd.DataFrame:
    """Records with ``width`` (first hidden size), ``leak``, ``reset``, ``recurrent`` and ``arch``:
    ``FF``, ``R``, or ``FF-wide`` (a feed-forward network wider than the recurrent ones of its task)."""
    df = records.copy()
    df["width"] = df["hidden"].map(lambda h: h[0] if isinstance(h, list) else h)
    parsed = df["variant"].map(Variant.parse)
    df["leak"], df["reset"], df["recurrent"] = parsed.map(lambda v: v.leak), parsed.map(lambda v: v.reset), \
        parsed.map(lambda v: v.recurrent)
    base = df[df["recurrent"]].groupby("task")["width"].min() if df["recurrent"].any() else pd.Series(dtype=float)
    df["arch"] = ["R" if r else "FF-wide" if t in base.index and w > base[t] else "FF"
                  for r, t, w in zip(df["recurrent"], df["task"], df["width"])]
    df["label"] = [v + ("-wide" if a == "FF-wide" else "") for v, a in zip(df["variant"], df["arch"])]
    return df


# --- effect rows -----------------------------------------------------------------------------------------

def estimable(compute):
    """``compute()`` (per-seed values), or ``None`` when fewer than 2 seeds have one (e.g. every run at
    chance)."""
    try:
        return compute()
    except ValueError:
        return None


def _mean(series) -> float:
    values = pd.to_numeric(pd.Series(series), errors="coerce").dropna()
    return float(values.mean()) if len(values) else math.nan


def _levels(df: pd.DataFrame, group, value: str) -> tuple[float, float]:
    """The smallest and largest mean of ``value`` over the groups of ``group`` (a column or a Series);
    groups without a value are left out; ``(nan, nan)`` when none has one."""
    means = pd.to_numeric(df[value], errors="coerce").groupby(group).mean().dropna()
    return (float(means.min()), float(means.max())) if len(means) else (math.nan, math.nan)


def headroom(runs: pd.DataFrame) -> float:
    """``min(v - chance, 1 - v)`` for the mean validation accuracy ``v`` of ``runs`` (the rule that
    chooses an operating point; NaN without validation accuracy)."""
    v = _mean(runs["val_accuracy"]) if "val_accuracy" in runs else math.nan
    return min(v - _mean(runs["chance"]), 1.0 - v) if "chance" in runs else math.nan


def _row(claim, arm, effect, values, kind, expected, task="", decay=math.nan, contrast="", figure="", point="",
         point_value=math.nan, levels=(math.nan, math.nan), chance=math.nan, ceiling=1.0, val_headroom=math.nan,
         **extra):
    sesoi, reason = SESOI[kind]
    values = estimable(values) if callable(values) else values
    return dict(claim=claim, arm=arm, effect=effect, task=task, decay=decay, point=point, point_value=point_value,
                contrast=contrast, values=values, sesoi=extra.pop("sesoi", sesoi),
                sesoi_reason=extra.pop("sesoi_reason", reason), expected=expected, unit=kind,
                transform="fisher_z" if kind == "rho" else "identity", figure=figure, level_low=levels[0],
                level_high=levels[1], chance=chance, ceiling=ceiling, val_headroom=val_headroom, **extra)


def _arm_levels(df: pd.DataFrame, masks, value: str) -> tuple[float, float]:
    means = [_mean(df.loc[m, value]) for m in masks]
    means = [m for m in means if not math.isnan(m)]
    return (min(means), max(means)) if means else (math.nan, math.nan)


def c1_effects(leakage: pd.DataFrame) -> list[dict]:
    """C1 from the records of 02_leakage (module docstring): the memory trend at every delay, the
    robustness trend on every audited task."""
    rows = []
    recall = leakage[leakage["task"] == "delayed-recall"].assign(delay=lambda d: d["task_params.delay"].astype(int))
    for delay, at in recall.groupby("delay", sort=True):
        rows.append(_row("C1", "memory", f"ρ(λ, accuracy) at delay {delay}",
                         lambda: stats.per_seed_trend(at, "decay", "test_accuracy"), "rho", +1, task="delayed-recall",
                         contrast="trend along λ", figure="memory-heatmap", point="delay", point_value=float(delay),
                         levels=_levels(at, at["decay"], "test_accuracy"), chance=_mean(at["chance"]),
                         val_headroom=headroom(at)))
    retention = retention_scores(leakage)
    if not retention.empty:
        rows.append(_row("C1", "robustness", f"ρ(λ, retention robustness), background spikes ≤ "
                         f"{retention['level_max'].max():g} during the delay",
                         lambda: stats.per_seed_trend(retention, "decay", "robustness"), "rho", -1,
                         task="delayed-recall", contrast="retention noise", figure="leakage-robustness",
                         levels=_levels(retention, retention["decay"], "robustness"), chance=0.0,
                         n_excluded=int(retention["robustness"].isna().sum())))
    scored = robustness_scores(leakage[leakage["audit"].notna()] if "audit" in leakage else leakage.iloc[:0])
    for task, part in (scored.groupby("task", sort=False) if not scored.empty else ()):
        threat = "spike flips" if part["encoding"].iloc[0] == "spikes" else "L∞ radii (input scales)"
        rows.append(_row("C1", "robustness", f"ρ(λ, robustness), area over {threat} ≤ {part['radius_max'].max():g}",
                         lambda: stats.per_seed_trend(part, "decay", "robustness"), "rho", -1, task=task,
                         contrast="attack audit", figure="leakage-robustness",
                         levels=_levels(part, part["decay"], "robustness"), chance=0.0,
                         n_excluded=int(part["robustness"].isna().sum())))
    rows += _single_radius_rows(leakage[leakage["audit"].notna()] if "audit" in leakage else leakage.iloc[:0],
                                lambda at: dict(claim="C1", by=["task"], trend=True))
    return rows


def _single_radius_rows(audited: pd.DataFrame, how) -> list[dict]:
    """Secondary rows at the middle radius of each audited task's grid (the area over the grid is the
    primary score; one radius is a cross-section of it)."""
    at_radius = robustness_scores(audited, radius=math.nan) if not audited.empty else pd.DataFrame()
    rows = []
    if at_radius.empty:
        return rows
    spec = how(at_radius)
    for key, part in at_radius.groupby(spec["by"], sort=True):
        radius = middle(part["radius"].unique())
        part = part[np.isclose(part["radius"], radius)]
        if part.empty:
            continue
        task = key[0] if isinstance(key, tuple) else key
        unit = "spike flips" if part["encoding"].iloc[0] == "spikes" else "L∞ in input scales"
        if spec.get("trend"):
            rows.append(_row(spec["claim"], "robustness", f"ρ(λ, robustness) at radius {radius:g} ({unit})",
                             lambda: stats.per_seed_trend(part, "decay", "robustness"), "rho", -1, task=task,
                             contrast=f"attack audit, radius {radius:g}", figure="leakage-robustness",
                             levels=_levels(part, part["decay"], "robustness"), chance=0.0,
                             n_excluded=int(part["robustness"].isna().sum())))
            continue
        labelled = with_labels(part.assign(hidden=part["width"].map(lambda w: [w])))
        for leak, part in labelled.groupby("leak", sort=True):
            rec, ff = part["arch"] == "R", part["arch"] == "FF"
            if rec.any() and ff.any():
                lam = key[1]
                name = "LIF" if leak else "IF"
                rows.append(_row("C4", "robustness", f"robustness at radius {radius:g} ({unit}), R{name} − {name}",
                                 lambda: _pairs(part, ff, rec, "robustness"), "robustness", -1, task=task,
                                 decay=lam, contrast=f"recurrent vs FF, radius {radius:g}", figure="recurrence-audit",
                                 levels=_arm_levels(part, (ff, rec), "robustness"), chance=0.0,
                                 n_excluded=int(part["robustness"].isna().sum())))
    return rows


def _pairs(df, a_mask, b_mask, value, ratio=False):
    sub = df[a_mask | b_mask].assign(_level=np.where(b_mask[a_mask | b_mask], "b", "a"))
    return stats.per_seed_difference(sub, "_level", ("a", "b"), value, ratio=ratio)


def c2_effects(reset: pd.DataFrame) -> list[dict]:
    """C2: the stream accuracy drop without reset minus with a hard reset, per λ, feed-forward and
    recurrent, for networks trained on single samples and on streams."""
    df = with_labels(reset[reset["stream_accuracy"].notna()])
    df = df[df["rate_reg"] == 0].assign(drop=lambda d: stream_drop(d), later=lambda d: stream_later(d))
    rows = []
    for (trained, recurrent, lam), part in df.groupby(["train_stream", "recurrent", "decay"], sort=True):
        hard, none = part["reset"] == "hard", part["reset"] == "none"
        if not hard.any() or not none.any():
            continue
        arch = "recurrent" if recurrent else "feed-forward"
        condition = "trained on streams" if trained else "trained on samples"
        name = ("R" if recurrent else "") + ("IF" if lam >= 1 else "LIF")
        rows.append(_row("C2", "stream", f"drop, {name}-noreset − {name}", lambda: _pairs(part, hard, none, "drop"),
                         "accuracy", +1, task=part["task"].iloc[0], decay=lam, contrast=f"{arch}, {condition}",
                         figure="stream-positions", levels=_arm_levels(part, (hard, none), "later"),
                         chance=_mean(part["chance"])))
    return rows


def c3_effects(reset: pd.DataFrame) -> list[dict]:
    """C3: relative hidden-layer SynOps without reset over with a hard reset, per task and λ
    (feed-forward, no rate regularisation), with the accuracy difference of the same pair."""
    df = with_labels(reset)
    df = df[(df["rate_reg"] == 0) & (df["train_stream"] == 0) & (~df["recurrent"])]
    rows = []
    for (task, lam), part in df.groupby(["task", "decay"], sort=True):
        hard, none = part["reset"] == "hard", part["reset"] == "none"
        if not hard.any() or not none.any():
            continue
        name = "IF" if lam >= 1 else "LIF"
        accuracy = estimable(lambda: _pairs(part, none, hard, "test_accuracy"))  # hard - none: > -2 points = matched
        rows.append(_row("C3", "SynOps", f"hidden SynOps, ({name}-noreset − {name}) / {name}",
                         lambda: _pairs(part, hard, none, "hidden_synops", ratio=True), "synops", +1, task=task,
                         decay=lam, contrast="relative difference, feed-forward", figure="efficiency-frontier",
                         levels=_arm_levels(part, (hard, none), "test_accuracy"), chance=_mean(part["chance"]),
                         ceiling=math.nan,  # SynOps at matched accuracy: the ceiling is where C3 is best measured
                         accuracy_diff=float(accuracy.mean()) if accuracy is not None else math.nan))
    return rows


def synops_at_accuracy(runs: pd.DataFrame, target: float) -> float:
    """The fewest hidden SynOps per sample of any run in ``runs`` (one seed's rate-regularisation sweep of
    one variant) whose test accuracy reaches ``target``; NaN when none does."""
    reached = runs.loc[pd.to_numeric(runs["test_accuracy"]) >= target - 1e-12, "hidden_synops"]
    return float(reached.min()) if len(reached) else math.nan


def frontier_difference(part: pd.DataFrame, hard, none) -> pd.Series:
    """Per seed, ``(S_none - S_hard) / S_hard`` with ``S`` the SynOps each reset mode needs to reach the
    same accuracy along its rate-regularisation frontier (:func:`synops_at_accuracy`): the target is the
    best accuracy the weaker of the two reaches, less :data:`MATCHED_ACCURACY` (both reach it, so the
    comparison is at equal accuracy by construction)."""
    values = {}
    for seed, runs in part.groupby("seed", sort=True):
        a, b = runs[hard.loc[runs.index]], runs[none.loc[runs.index]]
        if a.empty or b.empty:
            continue
        target = min(a["test_accuracy"].max(), b["test_accuracy"].max()) - MATCHED_ACCURACY
        s_hard, s_none = synops_at_accuracy(a, target), synops_at_accuracy(b, target)
        if s_hard > 0 and not math.isnan(s_none):
            values[seed] = (s_none - s_hard) / s_hard
    effect = pd.Series(values, dtype=float, name="frontier SynOps: none / hard - 1")
    effect.index.name = "seed"
    if len(effect) < 2:
        raise ValueError("fewer than 2 seeds with both reset modes on the frontier")
    return effect


def c3_frontier_effects(reset: pd.DataFrame) -> list[dict]:
    """C3 along the SynOps-accuracy frontier that the rate-regularisation sweep traces, per task and λ
    (feed-forward, trained on samples): :func:`frontier_difference`."""
    df = with_labels(reset)
    df = df[(df["train_stream"] == 0) & (~df["recurrent"])]
    rows = []
    for (task, lam), part in df.groupby(["task", "decay"], sort=True):
        hard, none = part["reset"] == "hard", part["reset"] == "none"
        if not hard.any() or not none.any() or part["rate_reg"].nunique() < 2:
            continue
        name = "IF" if lam >= 1 else "LIF"
        rows.append(_row("C3", "SynOps", f"SynOps at equal accuracy on the frontier, ({name}-noreset − {name}) / {name}",
                         lambda: frontier_difference(part, hard, none), "synops", +1, task=task, decay=lam,
                         contrast="frontier", figure="efficiency-frontier",
                         levels=_arm_levels(part, (hard, none), "test_accuracy"), chance=_mean(part["chance"]),
                         ceiling=math.nan))
    return rows


def _setting(df: pd.DataFrame) -> pd.Series:
    """temporal-xor's setting of a run: ``parity`` (the gap sweep) or ``first-last K=k`` (the order task)."""
    if "task_params.label" not in df:
        return pd.Series("", index=df.index)
    events = df["task_params.n_events"] if "task_params.n_events" in df else pd.Series(2, index=df.index)
    return pd.Series([f"{lab} K={int(k)}" if isinstance(lab, str) and lab != "parity" else
                      ("parity" if isinstance(lab, str) else "") for lab, k in zip(df["task_params.label"],
                                                                                    events.fillna(2))],
                     index=df.index)


def at_best_decay(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The runs of ``df`` at the λ (``decay``; λ = 1 is the non-leaky variant) with the highest mean
    validation accuracy over seeds in each group of ``by``; a tie goes to the smaller λ. Test accuracy is
    not read."""
    means = df.groupby(by + ["decay"], sort=True)["val_accuracy"].mean().reset_index()
    best = means.loc[means.sort_values(by + ["val_accuracy", "decay"], ascending=[True] * len(by) + [False, True])
                     .groupby(by, sort=False).head(1).index, by + ["decay"]]
    return df.merge(best, on=by + ["decay"])


def _growth_row(part: pd.DataFrame, effect: str, contrast: str, decay: float = math.nan) -> dict:
    """C4's accuracy row over ``part`` (order-task runs): per seed, the least-squares slope along K of the
    recurrent − feed-forward accuracy difference (matched pairs; ``effect`` formats ``{ks}``, the K range)."""
    pairs = part[part["arch"].isin(["R", "FF"])]
    acc = pairs.pivot_table(index=["seed", "task_params.n_events"], columns="arch", values="test_accuracy")
    diff = (acc["R"] - acc["FF"]).rename("diff").reset_index()
    ks = sorted(part["task_params.n_events"].dropna().astype(int).unique())
    return _row("C4", "accuracy", effect.format(ks=f"K = {ks[0]}…{ks[-1]}"),
                lambda: stats.per_seed_trend(diff, "task_params.n_events", "diff", method="slope"),
                "accuracy", +1, task="temporal-xor", decay=decay, contrast=contrast, figure="recurrence-accuracy",
                levels=_arm_levels(part, (part["arch"] == "FF", part["arch"] == "R"), "test_accuracy"),
                chance=_mean(part["chance"]), sesoi=0.01,
                sesoi_reason="one point of accuracy per added event (4 points over K = 2…5)")


def c4_complexity_effects(recurrence: pd.DataFrame) -> list[dict]:
    """C4's accuracy as complexity grows (:func:`_growth_row`): with each architecture at its best λ at
    each K, chosen on validation accuracy among the λ levels trained (:func:`at_best_decay`; ``decay``
    NaN); and per λ and leak."""
    df = with_labels(recurrence)
    if "task_params.label" not in df:
        return []
    df = df[(df["task"] == "temporal-xor") & df["task_params.label"].isin(["first-last", "order-parity"])]
    rows = []
    pairs = df[df["arch"].isin(["R", "FF"])]
    if {"R", "FF"} <= set(pairs["arch"]):
        best = at_best_decay(pairs, ["arch", "task_params.n_events"])
        lams = ", ".join(f"{a} λ {' '.join(f'{v:g}' for v in part.groupby('task_params.n_events')['decay'].first())}"
                         for a, part in best.groupby("arch", sort=False))
        rows.append(_growth_row(best, f"growth of R − FF per added event, each at its best λ ({{ks}}; {lams})",
                                "growth with complexity, best λ"))
    for (lam, leak), part in df.groupby(["decay", "leak"], sort=True):
        if {"R", "FF"} <= set(part["arch"]):
            name = "LIF" if leak else "IF"
            rows.append(_growth_row(part, f"growth of R{name} − {name} per added event ({{ks}})",
                                    "growth with complexity", decay=lam))
    return rows


def _gap_of(df: pd.DataFrame) -> pd.Series:
    return df["task_params.gap"] if "task_params.gap" in df else pd.Series(np.nan, index=df.index)


def c4_effects(recurrence: pd.DataFrame) -> list[dict]:
    """C4 in matched pairs (LIF vs RLIF, IF vs RIF at each λ, and each gap of temporal-xor): accuracy,
    accuracy against the parameter-matched wide feed-forward control, and chance-corrected robustness."""
    df = with_labels(recurrence)
    df = df.assign(_gap=_gap_of(df).fillna(-1.0), _setting=_setting(df))
    scored = robustness_scores(df[df["audit"].notna()]) if "audit" in df else pd.DataFrame()
    if not scored.empty:
        scored = with_labels(scored.assign(hidden=scored["width"].map(lambda w: [w])))
    rows = c4_complexity_effects(recurrence)
    for (task, setting, gap, lam, leak), part in df.groupby(["task", "_setting", "_gap", "decay", "leak"], sort=True):
        rec = part["arch"] == "R"
        where = dict(point="gap", point_value=float(gap)) if gap >= 0 and setting in ("", "parity") else {}
        label = f" ({setting}, gap {gap:g})" if setting and setting != "parity" else ""
        for control, arm in (("FF", "accuracy"), ("FF-wide", "parameters")):
            ff = part["arch"] == control
            if rec.any() and ff.any():
                name = "LIF" if leak else "IF"
                rows.append(_row("C4", arm, f"accuracy, R{name} − {name}" + ("-wide" if control == "FF-wide" else "")
                                 + label, lambda: _pairs(part, ff, rec, "test_accuracy"), "accuracy", +1, task=task,
                                 decay=lam, contrast=f"recurrent vs {control}" + (f", {setting}" if label else ""),
                                 figure="recurrence-accuracy",
                                 levels=_arm_levels(part, (ff, rec), "test_accuracy"), chance=_mean(part["chance"]),
                                 val_headroom=headroom(part[ff]), **where))
    if not scored.empty:
        for (task, lam, leak), part in scored.groupby(["task", "decay", "leak"], sort=True):
            rec, ff = part["arch"] == "R", part["arch"] == "FF"
            if rec.any() and ff.any():
                name = "LIF" if leak else "IF"
                rows.append(_row("C4", "robustness", f"robustness (area over L∞ radii ≤ {part['radius_max'].max():g}), "
                                 f"R{name} − {name}", lambda: _pairs(part, ff, rec, "robustness"), "robustness", -1,
                                 task=task, decay=lam, contrast="recurrent vs FF", figure="recurrence-audit",
                                 levels=_arm_levels(part, (ff, rec), "robustness"), chance=0.0,
                                 n_excluded=int(part["robustness"].isna().sum())))
        audited = with_labels(recurrence[recurrence["audit"].notna()])
        audited = audited[audited["arch"] != "FF-wide"]
        rows += _single_radius_rows(audited, lambda at: dict(claim="C4", by=["task", "decay"]))
    return rows


def generalization_effects(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame) -> list[dict]:
    """Two-sided: does each component change the train - test gap or temporal generalization?"""
    rows = []
    recall = leakage[leakage["task"] == "delayed-recall"]
    trained_at = recall[recall["generalization"].notna()]
    if not trained_at.empty:
        rows.append(_row("G", "leakage", "ρ(λ, train − test gap)", lambda: stats.per_seed_trend(trained_at, "decay", "gap"),
                         "rho", 0, task="delayed-recall", contrast="trend along λ", figure="generalization",
                         levels=_levels(trained_at, trained_at["decay"], "test_accuracy"),
                         chance=_mean(trained_at["chance"])))
        own = int(trained_at["task_params.delay"].iloc[0])
        long = []
        for _, rec in trained_at.iterrows():
            for entry in rec["generalization"]:
                if entry["delay"] != own:
                    long.append(dict(seed=rec["seed"], decay=rec["decay"], side="shorter" if entry["delay"] < own
                                     else "longer", accuracy=entry["accuracy"]))
        long = pd.DataFrame(long)
        for side, part in (long.groupby("side") if not long.empty else []):
            rows.append(_row("G", "leakage", f"ρ(λ, accuracy at {side} delays than trained)",
                             lambda: stats.per_seed_trend(part, "decay", "accuracy"), "rho", 0, task="delayed-recall",
                             contrast="trend along λ", figure="generalization",
                             levels=_levels(part, part["decay"], "accuracy"), chance=_mean(trained_at["chance"])))
    df = with_labels(reset)
    df = df[(df["rate_reg"] == 0) & (df["train_stream"] == 0) & (~df["recurrent"])]
    for (task, lam), part in df.groupby(["task", "decay"], sort=True):
        hard, none = part["reset"] == "hard", part["reset"] == "none"
        if hard.any() and none.any():
            name = "IF" if lam >= 1 else "LIF"
            rows.append(_row("G", "reset", f"gap, {name}-noreset − {name}", lambda: _pairs(part, hard, none, "gap"), "accuracy",
                             0, task=task, decay=lam, contrast="no reset vs hard", figure="generalization",
                             levels=_arm_levels(part, (hard, none), "test_accuracy"), chance=_mean(part["chance"])))
    df = with_labels(recurrence)
    if "task_params.gap" in df:
        df = df[df["task_params.gap"].isna() | (df["task_params.gap"] == df["task_params.gap"].dropna().median())]
    for (task, lam, leak), part in df.groupby(["task", "decay", "leak"], sort=True):
        rec, ff = part["arch"] == "R", part["arch"] == "FF"
        if rec.any() and ff.any():
            name = "LIF" if leak else "IF"
            rows.append(_row("G", "recurrence", f"gap, R{name} − {name}", lambda: _pairs(part, ff, rec, "gap"), "accuracy", 0,
                             task=task, decay=lam, contrast="recurrent vs FF", figure="generalization",
                             levels=_arm_levels(part, (ff, rec), "test_accuracy"), chance=_mean(part["chance"])))
    return rows


# --- primary rows and families ---------------------------------------------------------------------------

def _matches(rows: pd.DataFrame, declared: Primary) -> pd.Series:
    match = (rows["claim"] == declared.claim) & (rows["arm"] == declared.arm) & (rows["task"] == declared.task)
    decay = pd.to_numeric(rows["decay"], errors="coerce")
    match &= decay.isna() if declared.decay is None else np.isclose(decay.fillna(-1.0), declared.decay)
    if declared.contrast is not None:
        match &= rows["contrast"] == declared.contrast
    return match


def choose_primary(rows: pd.DataFrame, declared: Primary) -> int | None:
    """The index of the row that is ``declared``'s primary contrast, or ``None`` when no row matches
    (module docstring: the validation-headroom rule, ties to the smaller operating point, the middle
    one without validation accuracy). ``ValueError`` when ``choose="only"`` matches several rows."""
    candidates = rows[_matches(rows, declared)]
    if candidates.empty:
        return None
    if declared.choose == "only":
        if len(candidates) > 1:
            raise ValueError(f"the primary contrast of {declared.claim} {declared.arm} ({declared.describe()}) "
                             f"matches {len(candidates)} rows: {list(candidates['effect'])}; declare its decay, "
                             f"contrast, or choose='validation' in snnlib.analysis.claims.PRIMARY")
        return int(candidates.index[0])
    candidates = candidates.sort_values("point_value", kind="stable")
    room = pd.to_numeric(candidates["val_headroom"], errors="coerce")
    if room.isna().all():
        return int(candidates.index[(len(candidates) - 1) // 2])
    return int(room.idxmax())  # the first (smallest operating point) of equal maxima


def mark_primary(rows: pd.DataFrame, profile: str) -> pd.DataFrame:
    """``rows`` with ``primary`` (bool), ``family`` (``confirmatory`` for the primary rows of
    ``profile``'s declarations, :data:`PRIMARY`, else ``exploratory``) and ``primary_reason``."""
    if profile not in PRIMARY:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    rows = rows.reset_index(drop=True).assign(primary=False, primary_reason="")
    for declared in PRIMARY[profile]:
        chosen = choose_primary(rows, declared)
        if chosen is not None:
            rows.loc[chosen, "primary"] = True
            rows.loc[chosen, "primary_reason"] = declared.reason
    rows["family"] = np.where(rows["primary"], "confirmatory", "exploratory")
    return rows


def records_profile(*frames: pd.DataFrame) -> str | None:
    """The one profile the records of ``frames`` were made under (their ``profile`` column), or ``None``."""
    found = {p for f in frames if "profile" in f for p in f["profile"].dropna().unique()}
    if len(found) > 1:
        raise ValueError(f"the records mix profiles {sorted(found)}; judge one profile at a time")
    return found.pop() if found else None


def effects(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame,
            profile: str | None = None, generalization: bool = True) -> pd.DataFrame:
    """Every effect of the study as rows with their per-seed values (not yet judged), the primary ones
    marked (:func:`mark_primary`) by the declarations of ``profile`` (default: the records' own);
    ``generalization=False`` leaves out the generalization rows (records without those measures)."""
    profile = profile or records_profile(leakage, reset, recurrence)
    if profile is None:
        raise ValueError(f"profile must be given (one of {PROFILE_NAMES}) when the records have no profile column")
    rows = c1_effects(leakage) + c2_effects(reset) + c3_frontier_effects(reset) + c3_effects(reset) + \
        c4_effects(recurrence) + \
        (generalization_effects(leakage, reset, recurrence) if generalization else [])
    return mark_primary(pd.DataFrame(rows), profile)


# --- judging ---------------------------------------------------------------------------------------------

def _add_note(judged: pd.DataFrame, mask, notes) -> None:
    """Append ``notes`` (one string for every row, or one per row of ``mask``) to the rows' ``note``."""
    mask = np.asarray(mask, dtype=bool)
    notes = [notes] * int(mask.sum()) if isinstance(notes, str) else list(notes)
    judged.loc[mask, "note"] = [n if not old else f"{old}; {n}" for old, n in zip(judged.loc[mask, "note"], notes)]


def judge(rows: pd.DataFrame, alpha: float = 0.05, confirmatory: str = ADJUSTMENT["confirmatory"],
          exploratory: str = ADJUSTMENT["exploratory"]) -> pd.DataFrame:
    """Judge every row within its family (module docstring), then label saturated rows and apply the
    matched-accuracy rule of C3.

    ``rows`` are :func:`effects` rows (with ``primary`` and ``family``). The confirmatory family is
    corrected by ``confirmatory`` (``"holm"``), the exploratory one by ``exploratory`` (``"bh"``;
    :func:`snnlib.analysis.stats.adjust`). Rows with per-seed values on fewer than half the study's
    seeds (:data:`MIN_SEED_FRACTION`, and at least 2; e.g. when most runs sit at chance) join no
    family: they are listed with NaN statistics, verdict *inconclusive* and a note saying why."""
    if "family" not in rows or "primary" not in rows:
        raise ValueError("rows need the columns 'primary' and 'family': build them with claims.effects "
                         "(or claims.mark_primary)")
    bad = sorted(set(rows["family"]) - set(FAMILIES))
    if bad:
        raise ValueError(f"family must be one of {FAMILIES}, got {bad}")
    rows = rows.reset_index(drop=True)
    for column, default in (("level_low", math.nan), ("level_high", math.nan), ("chance", math.nan),
                            ("ceiling", 1.0), ("transform", "identity")):
        if column not in rows:
            rows[column] = default  # a table built by hand: nothing to say about saturation
    n_values = rows["values"].map(lambda v: 0 if v is None else len(v))
    minimum = max(2, math.ceil(MIN_SEED_FRACTION * (int(n_values.max()) if len(n_values) else 0)))
    missing = n_values < minimum
    parts = []
    for family, adjustment in (("confirmatory", confirmatory), ("exploratory", exploratory)):
        member = (rows["family"] == family) & ~missing
        if member.any():
            parts.append(stats.adjust(rows[member], alpha=alpha, adjustment=adjustment).assign(adjustment=adjustment))
    if missing.any():
        parts.append(rows[missing].assign(estimate=math.nan, n_seeds=n_values[missing], p=math.nan,
                                          p_adjusted=math.nan, level=math.nan, ci_low=math.nan, ci_high=math.nan,
                                          ci95_low=math.nan, ci95_high=math.nan, mean_value=math.nan,
                                          verdict="inconclusive", adjustment=""))
    judged = pd.concat(parts).sort_index()
    judged["note"] = ""
    if "n_excluded" in judged:
        excluded = judged["n_excluded"].fillna(0) > 0
        _add_note(judged, excluded, [f"{int(n)} run(s) at chance have no robustness value"
                                     for n in judged.loc[excluded, "n_excluded"]])
    full = pd.Series([stats.saturated(lo, hi, c, ce) for lo, hi, c, ce in
                      zip(judged["level_low"], judged["level_high"], judged["chance"], judged["ceiling"])],
                     index=judged.index) & ~missing
    judged.loc[full, "verdict"] = stats.SATURATED
    _add_note(judged, full, [f"saturated: no group more than 2 points "
                             f"{'above chance' if hi <= c + stats.SATURATION_MARGIN else 'below the ceiling'} "
                             f"(group means {lo:.3f} - {hi:.3f})"
                             for lo, hi, c in zip(judged.loc[full, "level_low"], judged.loc[full, "level_high"],
                                                  judged.loc[full, "chance"])])
    if "accuracy_diff" in judged:
        unmatched = (judged["claim"] == "C3") & (judged["accuracy_diff"] < -MATCHED_ACCURACY)
        judged.loc[unmatched & (judged["verdict"] == "supported"), "verdict"] = "inconclusive"
        _add_note(judged, unmatched, "reset variant less accurate by more than 2 points: not at matched accuracy")
    _add_note(judged, missing.to_numpy(), f"not estimable: fewer than {minimum} seeds with a value (runs at chance)")
    return judged


def _primary_row(part: pd.DataFrame, arm: str):
    rows = part[(part["arm"] == arm) & part["primary"]]
    return rows.iloc[0] if len(rows) else None


def _where(row) -> str:
    parts = [str(row.get("task", ""))]
    if pd.notna(row.get("point_value", math.nan)) and row.get("point", ""):
        parts.append(f"{row['point']} {row['point_value']:g}")
    if pd.notna(row.get("decay", math.nan)):
        parts.append(f"λ {row['decay']:g}")
    return ", ".join(p for p in parts if p)


def _counts(verdicts) -> str:
    counts = pd.Series(list(verdicts), dtype=object).value_counts()
    return ", ".join(f"{n} {v}" for v, n in counts.items()) or "none"


def verdicts(judged: pd.DataFrame, stability_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One verdict per claim, from its primary rows alone: an arm takes its primary row's verdict
    (*inconclusive* without one), C2 and C3 their arm's, the trade-offs C1 and C4 both arms'
    (:func:`snnlib.analysis.stats.combine_tradeoff`). Secondary rows are counted (``secondary``), never
    voting; generalization (``G``) has no primary contrast and is reported as counts of its
    exploratory rows.

    Columns: claim, statement, verdict, arms (``arm: verdict``), primary (where each primary row is),
    secondary (counts of the other rows' verdicts), n_effects, n_primary, n_seeds (the smallest over the
    claim's estimable primary rows; 0 when none is estimable), and, with a ``stability_table``
    (:func:`stability`), share_kept, fragile and label (the verdict, with "(fragile)" where it applies)."""
    out = []
    for claim, part in judged.groupby("claim", sort=True):
        primary = part[part["primary"]]
        estimable_primary = primary[primary["p"].notna()]
        if claim in ARMS:
            arms = {}
            for arm in ARMS[claim]:
                row = _primary_row(part, arm)
                arms[arm] = "inconclusive" if row is None else str(row["verdict"])
            verdict = stats.combine_tradeoff(list(arms.values())) if claim in TRADEOFFS else arms[ARMS[claim][0]]
            arms_text = "; ".join(f"{a}: {v}" for a, v in arms.items())
            where = "; ".join(f"{arm}: {_where(row)}" if (row := _primary_row(part, arm)) is not None
                              else f"{arm}: no row in the records" for arm in ARMS[claim])
        else:
            verdict = "exploratory"
            arms_text = "; ".join(f"{a}: {_counts(r['verdict'])}" for a, r in part.groupby("arm", sort=False))
            where = "none (exploratory)"
        secondary = part[~part["primary"]]
        out.append(dict(claim=claim, statement=CLAIMS[claim], verdict=verdict, arms=arms_text, primary=where,
                        secondary=_counts(secondary["verdict"]), n_effects=len(part), n_primary=len(primary),
                        n_seeds=int(estimable_primary["n_seeds"].min()) if len(estimable_primary) else 0))
    table = pd.DataFrame(out)
    if stability_table is not None and not table.empty:
        kept = stability_table.groupby("claim")["share_kept"].first()
        table["share_kept"] = table["claim"].map(kept)
        table["fragile"] = table["share_kept"].map(lambda s: bool(pd.notna(s) and s < 1))
        table["label"] = [f"{v} (fragile: kept under {s:.0%} of the perturbations)" if f else
                          f"{v} (stable under every perturbation)" if pd.notna(s) else v
                          for v, s, f in zip(table["verdict"], table["share_kept"], table["fragile"])]
    else:
        table["label"] = table["verdict"] if not table.empty else []
    return table


def claim_verdicts(judged: pd.DataFrame) -> dict[str, str]:
    """claim -> its verdict (:func:`verdicts`), for the claims C1 - C4."""
    table = verdicts(judged)
    return {c: v for c, v in zip(table["claim"], table["verdict"]) if c in ARMS}


def primary_by_arm(judged: pd.DataFrame, columns: Sequence[str], by_claim: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per claim arm of :data:`ARMS`: claim, arm, the ``columns`` of its primary row (only verdict
    *inconclusive* where the arm has no estimable primary row) and ``claim_verdict`` (from ``by_claim``,
    claim -> verdict; default :func:`claim_verdicts` of ``judged``). How a judged study is read elsewhere
    -- at another size, under the other reading of the leak."""
    by_claim = claim_verdicts(judged) if by_claim is None else by_claim
    out = []
    for claim, arms in ARMS.items():
        for arm in arms:
            row = judged[(judged["claim"] == claim) & (judged["arm"] == arm) & judged["primary"]]
            values = {k: row.iloc[0].get(k) for k in columns if k in row.columns} if len(row) else \
                dict(verdict="inconclusive")
            out.append({"claim": claim, "arm": arm, **values, "claim_verdict": by_claim.get(claim, "inconclusive")})
    return pd.DataFrame(out)


# --- stability --------------------------------------------------------------------------------------------

NOT_AVAILABLE = "not available"


def _seeds(rows: pd.DataFrame) -> list:
    seeds = set()
    for v in rows["values"]:
        if isinstance(v, pd.Series):
            seeds |= set(v.index)
    return sorted(seeds)


def _without_seed(values, seed):
    if isinstance(values, pd.Series):
        left = values.drop(seed, errors="ignore")
        return left if len(left) else None
    return values


def stability(rows: pd.DataFrame, redraws: Sequence[pd.DataFrame] | None = None,
              other_reading: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """For each claim C1 - C4, its verdict under each perturbation of the analysis (module docstring).

    ``rows`` are the unjudged :func:`effects` rows; ``redraws`` optional effect tables computed from
    each attack redraw's robustness, ``other_reading`` an optional effect table from the other reading
    of the leak (:mod:`snnlib.analysis.reading`; each built with :func:`effects`); without them those
    perturbations are listed as
    ``not available`` and not counted. Columns: claim, main_verdict, perturbation, verdict,
    same_as_main (``None`` where not available) and share_kept (the share of available perturbations
    that keep the main verdict, the same on every row of a claim)."""
    main = claim_verdicts(judge(rows, alpha=alpha))
    variants: list[tuple[str, pd.DataFrame | None, dict]] = []
    for seed in _seeds(rows):
        variants.append((f"leave out seed {seed}", rows.assign(values=[_without_seed(v, seed) for v in rows["values"]]),
                         {}))
    variants += [("SESOI × 1/2", rows.assign(sesoi=rows["sesoi"] * 0.5), {}),
                 ("SESOI × 2", rows.assign(sesoi=rows["sesoi"] * 2.0), {}),
                 ("Benjamini-Hochberg for the confirmatory family", rows,
                  dict(confirmatory="bh", exploratory="holm"))]
    if redraws:
        variants += [(f"attack redraw {k + 1}", table, {}) for k, table in enumerate(redraws)]
    else:
        variants.append(("attack redraws", None, {}))
    variants.append(("the other reading of the leak", other_reading, {}))
    out = []
    for name, table, options in variants:
        found = claim_verdicts(judge(table, alpha=alpha, **options)) if table is not None else {}
        for claim, verdict in main.items():
            changed = found.get(claim, NOT_AVAILABLE) if table is not None else NOT_AVAILABLE
            out.append(dict(claim=claim, main_verdict=verdict, perturbation=name, verdict=changed,
                            same_as_main=None if changed == NOT_AVAILABLE else changed == verdict))
    table = pd.DataFrame(out, columns=["claim", "main_verdict", "perturbation", "verdict", "same_as_main"])
    kept = table.dropna(subset=["same_as_main"]).groupby("claim")["same_as_main"].mean()
    table["share_kept"] = table["claim"].map(kept)
    return table.sort_values("claim", kind="stable").reset_index(drop=True)


# --- the study as a whole ---------------------------------------------------------------------------------

class Assessment(NamedTuple):
    """Everything the chapters and the summary show about the claims, computed once the same way."""

    rows: pd.DataFrame  #: the unjudged effect rows (:func:`effects`)
    judged: pd.DataFrame  #: every row judged within its family (:func:`judge`)
    verdicts: pd.DataFrame  #: one row per claim, with its stability (:func:`verdicts`)
    stability: pd.DataFrame  #: the perturbations (:func:`stability`)


EXPERIMENTS = ("02_leakage", "03_reset", "04_recurrence")


def redraw_frames(frames: dict[str, pd.DataFrame]) -> list[dict[str, pd.DataFrame]]:
    """One copy of the study per attack redraw ``k = 1, 2, ...``: every run audited with redraws
    (``audit_redraws``) takes its ``k``-th redraw's audit in place of its first; the others keep theirs.
    Empty when no run has a redraw."""
    count = max((len(r) for df in frames.values() if "audit_redraws" in df
                 for r in df["audit_redraws"] if isinstance(r, list)), default=0)
    out = []
    for k in range(count):
        study = {}
        for name, df in frames.items():
            if "audit_redraws" in df:
                df = df.assign(audit=[r[k] if isinstance(r, list) and len(r) > k else a
                                      for a, r in zip(df["audit"], df["audit_redraws"])])
            study[name] = df
        out.append(study)
    return out


def _redraw_seeds(frames: dict[str, pd.DataFrame]) -> set:
    return {s for df in frames.values() if "audit_redraws" in df
            for s, r in zip(df["seed"], df["audit_redraws"]) if isinstance(r, list) and r}


def monte_carlo_se(rows: pd.DataFrame, redraws: Sequence[pd.DataFrame], seeds: set) -> pd.Series:
    r"""Per effect row, the Monte-Carlo standard error that the attacks' randomness adds to its estimate:
    with :math:`e_{s,k}` the per-seed effect of seed :math:`s` under draw :math:`k` (the first audit and
    every redraw), :math:`\hat\sigma^2` the mean over the redrawn ``seeds`` of the variance over draws, and
    :math:`n` the seeds of the estimate, :math:`\mathrm{SE}_{MC} = \sqrt{\hat\sigma^2 / n}`. NaN for rows
    the redraws do not move (no audit) or without redraws."""
    key = ["claim", "arm", "effect", "task", "contrast"]
    # every table comes from effects() over the same runs, so its rows are in the same order
    tables = [t["values"].tolist() for t in redraws
              if len(t) == len(rows) and (t[key].to_numpy() == rows[key].to_numpy()).all()]
    if len(tables) != len(redraws):
        raise ValueError("every redraw's effect table must have the rows of the main table, in order")
    out = []
    for i, (_, row) in enumerate(rows.iterrows()):
        values = row["values"]
        draws = [t[i] for t in tables]
        if not isinstance(values, pd.Series) or not seeds or any(not isinstance(d, pd.Series) for d in draws):
            out.append(math.nan)
            continue
        per_seed = pd.concat([values, *draws], axis=1).loc[lambda d: d.index.isin(seeds)].dropna()
        variance = per_seed.var(axis=1, ddof=1)
        moved = len(variance) and variance.max() > 1e-12  # else the redraws left the row as it was (rounding aside)
        out.append(math.sqrt(variance.mean() / len(values)) if moved else math.nan)
    return pd.Series(out, index=rows.index, dtype=float)


def assess(frames: dict[str, pd.DataFrame], profile: str | None = None,
           redraws: Sequence[pd.DataFrame] | None = None, other_reading: pd.DataFrame | str | None = "recorded",
           extra_rows: Sequence[dict] | None = None) -> Assessment:
    """The claims judged over the whole study: ``frames`` holds the records of 02_leakage, 03_reset and
    04_recurrence (:func:`study_frames`). Every chapter and the summary call this, so a claim has one
    verdict everywhere. ``extra_rows``: further unjudged effect rows (e.g. chapter 07's,
    :func:`snnlib.analysis.learned.learned_effects`) appended to the *exploratory* family: they are
    judged with the other rows, and never vote on C1 - C4. ``redraws``: effect tables of the attack
    redraws; by default those the records hold (:func:`redraw_frames`), which also give each audited row
    its Monte-Carlo standard error (``mc_se``, :func:`monte_carlo_se`). ``other_reading``: the effect
    rows of the other reading of the leak (:mod:`snnlib.analysis.reading`); by default (``"recorded"``)
    those its recorded runs give, if the profile's are all recorded; ``None``: not available."""
    missing = [name for name in EXPERIMENTS if name not in frames]
    if missing:
        raise ValueError(f"frames lacks the records of {missing}; it needs {list(EXPERIMENTS)}")
    rows = effects(*(frames[name] for name in EXPERIMENTS), profile=profile)
    if redraws is None:  # the attack redraws the records hold
        redraws = [effects(*(study[name] for name in EXPERIMENTS), profile=profile)
                   for study in redraw_frames(frames)] or None
    mc_se = monte_carlo_se(rows, redraws or [], _redraw_seeds(frames))
    if isinstance(other_reading, str):
        if other_reading != "recorded":
            raise ValueError(f"other_reading must be an effect table, None or 'recorded', got {other_reading!r}")
        from snnlib.analysis import reading

        profile = profile or records_profile(*(frames[name] for name in EXPERIMENTS))
        found = reading.recorded_frames(profile) if profile else None
        other_reading = reading.effects(found, profile) if found else None
    if extra_rows:
        extra = pd.DataFrame(list(extra_rows)).assign(primary=False, primary_reason="", family="exploratory")
        rows = pd.concat([rows, extra], ignore_index=True)
    judged = judge(rows).assign(mc_se=mc_se.reindex(rows.index))
    table = stability(rows, redraws=redraws, other_reading=other_reading)
    return Assessment(rows, judged, verdicts(judged, table), table)


def evaluate(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame, profile: str | None = None):
    """``(judged, verdicts)`` without the stability analysis (:func:`assess` has it)."""
    judged = judge(effects(leakage, reset, recurrence, profile=profile))
    return judged, verdicts(judged)


def study_frames(profile: str, own: dict[str, pd.DataFrame] | None = None, workers=None, scheduler=None,
                 reuse_stale=None) -> dict[str, pd.DataFrame]:
    """The records of 02 - 04 under ``profile``'s parameters (:func:`snnlib.study.sweep.run_grid`: runs
    not yet recorded are trained), with ``own`` (experiment -> records) used as given: a chapter passes
    its own records."""
    from snnlib.study import config, runs

    frames = dict(own or {})
    for name in EXPERIMENTS:
        if name not in frames:
            cfg = config.resolve(name, profile, workers=workers, scheduler=scheduler, reuse_stale=reuse_stale)
            frames[name] = runs.train(cfg, desc=name)
    return frames


def recorded_frames(profile: str = "quick", directory=None) -> dict[str, pd.DataFrame] | None:
    """The recorded runs of 02 - 04 under ``profile`` (nothing trained): each chapter's own runs, at the
    profile's parameters (not the runs of the same chapter that the scaling chapter trains at other
    sizes), or ``None`` when one of them has no record."""
    from snnlib.study import config, records, runs, sweep

    frames = {}
    for name in EXPERIMENTS:
        try:
            built = runs.runs_of(config.resolve(name, profile))
        except LookupError:  # no learning rate chosen yet: nothing of this chapter is recorded
            return None
        own = {records.canonical_key(p) for p in sweep.plan(built)}
        found = [r for r in records.load_all(directory, name) if r["key"] in own]
        if not found:
            return None
        frames[name] = records.to_frame(found)
    return frames


def study_effects(profile: str = "quick", directory=None) -> pd.DataFrame:
    """Every effect judged, from the records of ``profile`` (empty when 02 - 04 have no records)."""
    frames = recorded_frames(profile, directory)
    return pd.DataFrame() if frames is None else judge(effects(*(frames[n] for n in EXPERIMENTS), profile=profile))


def family_arithmetic(judged: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Whether the confirmatory family can decide anything with its seeds (module docstring): ``n`` (the
    fewest seeds of an estimable primary row), ``m`` (estimable primary rows), ``floor`` (``2/2^n``),
    ``holm_floor`` (``m · 2/2^n``), ``decidable`` (``holm_floor < alpha``), ``seeds_needed`` and a
    sentence ``text``."""
    primary = judged[judged["primary"] & judged["p"].notna()]
    if primary.empty:
        return dict(n=0, m=0, floor=math.nan, holm_floor=math.nan, decidable=False, seeds_needed=0,
                    text="No primary contrast could be estimated: no claim can be decided.")
    n, m = int(primary["n_seeds"].min()), len(primary)
    floor, holm = stats.sign_flip_floor(n), stats.holm_floor(n, m)
    need = stats.seeds_needed(m, alpha)
    text = (f"With n = {n} seeds the smallest exact sign-flip p-value is 2/2^{n} = {floor:.2g}; over the m = {m} "
            f"primary contrasts of the confirmatory family, Holm's smallest adjusted p is {m} × 2/2^{n} = "
            f"{holm:.2g}, " + (f"below α = {alpha:g}: a claim can be decided (a family of {m} needs at least "
                               f"{need} seeds)." if holm < alpha else
                               f"not below α = {alpha:g}: no claim can be decided with these seeds (a family "
                               f"of {m} needs at least {need})."))
    return dict(n=n, m=m, floor=floor, holm_floor=holm, decidable=holm < alpha, seeds_needed=need, text=text)


def claims_table(judged: pd.DataFrame) -> pd.DataFrame:
    """The effects table of ``snnlib claims``: claim, arm, primary, family, effect, task, λ, operating
    point, estimate, interval (at the family's adjusted level), p, adjusted p, SESOI, seeds, verdict, note,
    and the Monte-Carlo standard error of the attacks (``mc_se``, NaN where there is none)."""
    columns = ["claim", "arm", "primary", "family", "effect", "task", "decay", "point", "point_value", "estimate",
               "ci_low", "ci_high", "p", "p_adjusted", "sesoi", "n_seeds", "verdict", "note"]
    table = judged.reindex(columns=columns + ["mc_se"])
    return table.rename(columns={"decay": "lambda"})


def masking_flags(records: pd.DataFrame) -> pd.DataFrame:
    """Per task and variant (and λ): how many runs the audit flagged *gradient masking suspected*, and
    how many failed any other sanity check."""
    if "audit_checks" not in records:
        return pd.DataFrame()
    df = with_labels(records[records["audit_checks"].notna()])
    checks = pd.DataFrame(list(df["audit_checks"]), index=df.index)
    df = df.assign(masking=checks["masking_suspected"].astype(bool),
                   not_monotone=~checks["monotone"].astype(bool),
                   not_chance_at_max=checks["chance_at_max"].map(lambda v: v is False))
    return (df.groupby(["task", "label", "decay"], sort=False)
              .agg(runs=("seed", "size"), masking_suspected=("masking", "sum"),
                   not_monotone=("not_monotone", "sum"), above_chance_at_full_range=("not_chance_at_max", "sum"))
              .reset_index())


def retention_curves(records: pd.DataFrame) -> pd.DataFrame:
    """Long table (task, variant, decay, seed, level, accuracy) of the runs' retention-noise curves: test
    accuracy with background spikes at rate ``level`` during the delay (:func:`retention_scores` scores them)."""
    rows = [dict(task=rec["task"], variant=rec["variant"], decay=rec["decay"], seed=rec["seed"], level=entry["level"],
                 accuracy=entry["accuracy"])
            for _, rec in (records.dropna(subset=["retention_noise"]).iterrows() if "retention_noise" in records else [])
            for entry in rec["retention_noise"]]
    return pd.DataFrame(rows, columns=["task", "variant", "decay", "seed", "level", "accuracy"])
