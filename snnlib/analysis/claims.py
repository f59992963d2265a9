r"""The four claims of the study and the generalization questions, each decided from recorded runs.

Every effect is a row (claim, arm, effect, task, λ, contrast, unit, SESOI and its reason, expected sign,
figure) carrying its **per-seed values**: the study is paired (one seed = one data set and one
initialisation for every variant), so each effect is first computed within each seed -- a paired
difference, or a trend across a swept factor -- and only then summarised over seeds
(:func:`snnlib.analysis.stats.adjust`: mean, Student-t interval, exact sign-flip p-value, Holm's
correction across **every** effect of the study as one family, and the verdict with the effect's
SESOI). :func:`effects` builds the rows, :func:`judge` adjusts them, :func:`verdicts` combines them per
claim.

Effects and their smallest effect sizes of interest (SESOI), in the effect's own units::

    C1  leakage trades memory retention against robustness (02_leakage; small λ = strong leak)
        memory      per-seed Spearman ρ(λ, test accuracy), delayed-recall at the longest delay     +   0.3
        robustness  per-seed Spearman ρ(λ, chance-corrected robust accuracy) at the middle budget:
                    spike flips on delayed-recall (the same networks), L∞ on the analog task        -   0.3
    C2  reset is essential for uninterrupted processing (03_reset), per λ, feed-forward and recurrent,
        trained on single samples and on streams
        drop(no reset) - drop(hard reset), drop = accuracy at position 1 - mean accuracy at ≥ 2       +   0.02
    C3  reset buys efficiency (03_reset), per task and λ, feed-forward
        hidden-layer SynOps per sample, (no reset - hard) / hard; counts only at matched accuracy     +   0.05
    C4  recurrence enriches complex dynamics, at a cost of robustness (04_recurrence), per task and λ
        accuracy    recurrent - feed-forward (matched pair: same width)                               +   0.02
        parameters  recurrent - feed-forward as wide as the recurrent layer has weights              +   0.02
        robustness  chance-corrected robust accuracy, recurrent - feed-forward                        -   0.05
    G   generalization, two-sided: train - test gap and accuracy at untrained delays along λ (02);
        gap, no reset - hard (03); gap, recurrent - feed-forward (04)                                 0   0.3 / 0.02

Why these SESOIs: accuracies are measured on 512 test samples, whose binomial standard error is about
2 points, so a difference under 2 points is within one run's measurement noise; ρ = 0.3 is a weak
monotone association (Cohen); 5% of SynOps is below what any hardware estimate resolves;
chance-corrected robustness moves by 0.05 when 5% of the above-chance accuracy is lost.

**Combining a claim's effects** (:func:`verdicts`): an arm tested on several tasks, λ levels or
conditions is combined by :func:`snnlib.analysis.stats.combine_tasks` (strict majority, and no row of
the opposite sign), so that one noisy task cannot decide alone; a trade-off claim (C1, C4) needs both
arms (:func:`snnlib.analysis.stats.combine_tradeoff`).

**Efficiency at matched accuracy** (C3): a row whose reset variant is less accurate than the one without
reset by more than 2 points (its accuracy difference ``accuracy_diff``, in the same row) cannot be
*supported*: its verdict becomes ``inconclusive`` and the table says why (``note``).

**Robustness** comes from the attack audit (:mod:`snnlib.measure.audit`): the worst case per sample over
the battery, chance-corrected ``(robust - chance) / (clean - chance)``; a run within 0.05 of chance has
no robustness value, and the table counts those (``n_excluded``) instead of dropping them silently.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from snnlib.analysis import stats
from snnlib.model.variants import Variant

CLAIMS = {
    "C1": "leakage trades memory retention against robustness",
    "C2": "reset is essential for uninterrupted temporal processing",
    "C3": "reset buys computational efficiency",
    "C4": "recurrence enriches the modelling of complex dynamics, at a cost of robustness",
    "G": "generalization (two-sided: does the component change it?)",
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


def robustness_scores(records: pd.DataFrame, radius: float | None = None) -> pd.DataFrame:
    """Per run, the chance-corrected worst-case robustness at ``radius`` (default: each task's middle
    radius of the grid, the full-range sanity radius aside), in column ``robustness`` (NaN for runs at
    chance)."""
    rows = audit_rows(records)
    if rows.empty:
        return rows
    rows = rows[~rows["full_range"].astype(bool)]  # the sanity radius covering the whole input range
    out = []
    for task, part in rows.groupby("task", sort=False):
        r = middle(part["radius"].unique()) if radius is None else radius
        at = part[np.isclose(part["radius"], r)]
        out.append(at.assign(robustness=[chance_corrected(a, c, ch) for a, c, ch in
                                         zip(at["accuracy"], at["clean"], at["chance"])]))
    return pd.concat(out, ignore_index=True)


def stream_drop(records: pd.DataFrame) -> pd.Series:
    """Per run, accuracy at stream position 1 minus the mean accuracy at positions ≥ 2."""
    return records["stream_accuracy"].map(lambda a: a[0] - float(np.mean(a[1:])) if isinstance(a, list) and len(a) > 1
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


def _row(claim, arm, effect, values, kind, expected, task="", decay=math.nan, contrast="", figure="", **extra):
    sesoi, reason = SESOI[kind]
    values = estimable(values) if callable(values) else values
    return dict(claim=claim, arm=arm, effect=effect, task=task, decay=decay, contrast=contrast,
                values=values, sesoi=extra.pop("sesoi", sesoi), sesoi_reason=extra.pop("sesoi_reason", reason),
                expected=expected, unit=kind, figure=figure, **extra)


def _lam(lam) -> str:
    return "IF (λ = 1)" if lam >= 1 else f"λ = {lam:g}"


def c1_effects(leakage: pd.DataFrame) -> list[dict]:
    """C1 from the records of 02_leakage (module docstring)."""
    rows = []
    recall = leakage[leakage["task"] == "delayed-recall"].assign(delay=lambda d: d["task_params.delay"].astype(int))
    longest = recall["delay"].max()
    at = recall[recall["delay"] == longest]
    rows.append(_row("C1", "memory", f"ρ(λ, accuracy) at delay {longest}", lambda: stats.per_seed_trend(at, "decay", "test_accuracy"),
                     "rho", +1, task="delayed-recall", contrast="trend along λ", figure="memory-heatmap"))
    scored = robustness_scores(leakage[leakage["audit"].notna()] if "audit" in leakage else leakage.iloc[:0])
    for task, part in scored.groupby("task", sort=False):
        threat = "spike flips" if part["encoding"].iloc[0] == "spikes" else "L∞ radius (input scales)"
        values = estimable(lambda: stats.per_seed_trend(part, "decay", "robustness"))
        rows.append(_row("C1", "robustness", f"ρ(λ, robustness) at {threat} {part['radius'].iloc[0]:g}", values,
                         "rho", -1, task=task, contrast="trend along λ", figure="leakage-robustness",
                         n_excluded=int(part["robustness"].isna().sum())))
    return rows


def _pairs(df, a_mask, b_mask, value, ratio=False):
    sub = df[a_mask | b_mask].assign(_level=np.where(b_mask[a_mask | b_mask], "b", "a"))
    return stats.per_seed_difference(sub, "_level", ("a", "b"), value, ratio=ratio)


def c2_effects(reset: pd.DataFrame) -> list[dict]:
    """C2: the stream accuracy drop without reset minus with a hard reset, per λ, feed-forward and
    recurrent, for networks trained on single samples and on streams."""
    df = with_labels(reset[reset["stream_accuracy"].notna()])
    df = df[df["rate_reg"] == 0].assign(drop=lambda d: stream_drop(d))
    rows = []
    for (trained, recurrent, lam), part in df.groupby(["train_stream", "recurrent", "decay"], sort=True):
        hard, none = part["reset"] == "hard", part["reset"] == "none"
        if not hard.any() or not none.any():
            continue
        arch = "recurrent" if recurrent else "feed-forward"
        condition = "trained on streams" if trained else "trained on samples"
        values = estimable(lambda: _pairs(part, hard, none, "drop"))
        name = ("R" if recurrent else "") + ("IF" if lam >= 1 else "LIF")
        rows.append(_row("C2", condition, f"drop, {name}-noreset − {name}", values, "accuracy", +1,
                         task=part["task"].iloc[0], decay=lam, contrast=f"{arch}, {condition}",
                         figure="stream-positions"))
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
                         decay=lam, contrast="relative difference", figure="efficiency-frontier",
                         accuracy_diff=float(accuracy.mean()) if accuracy is not None else math.nan))
    return rows


def c4_effects(recurrence: pd.DataFrame) -> list[dict]:
    """C4 in matched pairs (LIF vs RLIF, IF vs RIF at each λ): accuracy, accuracy against the
    parameter-matched wide feed-forward control, and chance-corrected robustness."""
    df = with_labels(recurrence)
    df = df.assign(task_label=[t if pd.isna(g) else f"{t} (gap {int(g)})" for t, g in
                               zip(df["task"], df.get("task_params.gap", pd.Series(np.nan, index=df.index)))])
    scored = robustness_scores(df[df["audit"].notna()]) if "audit" in df else pd.DataFrame()
    if not scored.empty:
        scored = with_labels(scored.assign(hidden=scored["width"].map(lambda w: [w])))
    rows = []
    for (task, lam, leak), part in df.groupby(["task_label", "decay", "leak"], sort=False):
        rec = part["arch"] == "R"
        for control, arm in (("FF", "accuracy"), ("FF-wide", "parameters")):
            ff = part["arch"] == control
            if rec.any() and ff.any():
                name = "LIF" if leak else "IF"
                rows.append(_row("C4", arm, f"accuracy, R{name} − {name}" + ("-wide" if control == "FF-wide" else ""),
                                 lambda: _pairs(part, ff, rec, "test_accuracy"), "accuracy", +1, task=task, decay=lam,
                                 contrast=f"recurrent vs {control}", figure="recurrence-accuracy"))
    if not scored.empty:
        for (task, lam, leak), part in scored.groupby(["task", "decay", "leak"], sort=False):
            rec, ff = part["arch"] == "R", part["arch"] == "FF"
            if rec.any() and ff.any():
                name = "LIF" if leak else "IF"
                values = estimable(lambda: _pairs(part, ff, rec, "robustness"))
                rows.append(_row("C4", "robustness", f"robustness, R{name} − {name}", values, "robustness", -1,
                                 task=task, decay=lam, contrast="recurrent vs FF", figure="recurrence-audit",
                                 n_excluded=int(part["robustness"].isna().sum())))
    return rows


def generalization_effects(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame) -> list[dict]:
    """Two-sided: does each component change the train - test gap or temporal generalization?"""
    rows = []
    recall = leakage[leakage["task"] == "delayed-recall"]
    trained_at = recall[recall["generalization"].notna()]
    if not trained_at.empty:
        rows.append(_row("G", "leakage", "ρ(λ, train − test gap)", lambda: stats.per_seed_trend(trained_at, "decay", "gap"),
                         "rho", 0, task="delayed-recall", contrast="trend along λ", figure="generalization"))
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
                             contrast="trend along λ", figure="generalization"))
    df = with_labels(reset)
    df = df[(df["rate_reg"] == 0) & (df["train_stream"] == 0) & (~df["recurrent"])]
    for (task, lam), part in df.groupby(["task", "decay"], sort=True):
        hard, none = part["reset"] == "hard", part["reset"] == "none"
        if hard.any() and none.any():
            name = "IF" if lam >= 1 else "LIF"
            rows.append(_row("G", "reset", f"gap, {name}-noreset − {name}", lambda: _pairs(part, hard, none, "gap"), "accuracy",
                             0, task=task, decay=lam, contrast="no reset vs hard", figure="generalization"))
    df = with_labels(recurrence)
    if "task_params.gap" in df:
        df = df[df["task_params.gap"].isna() | (df["task_params.gap"] == df["task_params.gap"].dropna().median())]
    for (task, lam, leak), part in df.groupby(["task", "decay", "leak"], sort=False):
        rec, ff = part["arch"] == "R", part["arch"] == "FF"
        if rec.any() and ff.any():
            name = "LIF" if leak else "IF"
            rows.append(_row("G", "recurrence", f"gap, R{name} − {name}", lambda: _pairs(part, ff, rec, "gap"), "accuracy", 0,
                             task=task, decay=lam, contrast="recurrent vs FF", figure="generalization"))
    return rows


# --- judging ---------------------------------------------------------------------------------------------

def effects(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame) -> pd.DataFrame:
    """Every effect of the study as rows with their per-seed values (not yet judged)."""
    rows = c1_effects(leakage) + c2_effects(reset) + c3_effects(reset) + c4_effects(recurrence) + \
        generalization_effects(leakage, reset, recurrence)
    return pd.DataFrame(rows)


def judge(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`snnlib.analysis.stats.adjust` over the whole family, then the matched-accuracy rule of C3.

    Rows with per-seed values on fewer than half the study's seeds (:data:`MIN_SEED_FRACTION`, and at
    least 2; e.g. when most runs sit at chance) are not part of the family: they are listed with NaN
    statistics, verdict *inconclusive* and a note saying why."""
    rows = rows.reset_index(drop=True)
    most = max((len(v) for v in rows["values"] if v is not None), default=0)
    minimum = max(2, math.ceil(MIN_SEED_FRACTION * most))
    missing = rows["values"].map(lambda v: v is None or len(v) < minimum)
    judged = stats.adjust(rows[~missing]) if (~missing).any() else rows.iloc[:0].copy()
    if missing.any():
        empty = rows[missing].assign(estimate=math.nan, n_seeds=0, p=math.nan, p_adjusted=math.nan, level=math.nan,
                                     ci_low=math.nan, ci_high=math.nan, ci95_low=math.nan, ci95_high=math.nan,
                                     verdict="inconclusive")
        judged = pd.concat([judged, empty]).sort_index()
    judged["note"] = ""
    if "accuracy_diff" in judged:
        unmatched = (judged["claim"] == "C3") & (judged["accuracy_diff"] < -MATCHED_ACCURACY)
        judged.loc[unmatched & (judged["verdict"] == "supported"), "verdict"] = "inconclusive"
        judged.loc[unmatched, "note"] = "reset variant less accurate by more than 2 points: not at matched accuracy"
    if "n_excluded" in judged:
        excluded = judged["n_excluded"].fillna(0) > 0
        judged.loc[excluded, "note"] = [f"{int(n)} run(s) at chance have no robustness value"
                                        for n in judged.loc[excluded, "n_excluded"]]
    judged.loc[missing.to_numpy(), "note"] = f"not estimable: fewer than {minimum} seeds with a value (runs at chance)"
    return judged


def evaluate(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame):
    """``(effects, verdicts)``: every effect judged, and one verdict per claim (:func:`verdicts`)."""
    judged = judge(effects(leakage, reset, recurrence))
    return judged, verdicts(judged)


def verdicts(judged: pd.DataFrame) -> pd.DataFrame:
    """One verdict per claim: each arm by strict majority of its rows, a trade-off by both arms."""
    out = []
    for claim, part in judged.groupby("claim", sort=True):
        arms = {arm: stats.combine_tasks(rows["verdict"]) for arm, rows in part.groupby("arm", sort=False)}
        if claim in ("C1", "C4"):
            benefit = [v for a, v in arms.items() if a != "robustness"]
            benefit = stats.combine_tasks(benefit) if benefit else "inconclusive"
            verdict = stats.combine_tradeoff([benefit, arms.get("robustness", "inconclusive")])
        elif claim == "G":
            verdict = "; ".join(f"{a}: {v}" for a, v in arms.items())
        else:
            verdict = stats.combine_tasks(list(arms.values()))
        out.append(dict(claim=claim, statement=CLAIMS[claim], verdict=verdict,
                        arms="; ".join(f"{a}: {v}" for a, v in arms.items()), n_effects=len(part),
                        n_seeds=int(part["n_seeds"].min())))
    return pd.DataFrame(out)


def claims_table(judged: pd.DataFrame) -> pd.DataFrame:
    """The effects table of ``snnlib claims``: claim, effect, task, λ, estimate, interval, p, Holm-adjusted
    p, SESOI, seeds, verdict."""
    return judged[["claim", "arm", "effect", "task", "decay", "estimate", "ci_low", "ci_high", "p", "p_adjusted",
                   "sesoi", "n_seeds", "verdict", "note"]].rename(columns={"decay": "lambda"})


def study_effects(profile: str = "quick", directory=None) -> pd.DataFrame:
    """Every effect judged, from the records of ``profile`` (empty when 02 - 04 have no records)."""
    from snnlib.study import records

    frames = {}
    for name in ("02_leakage", "03_reset", "04_recurrence"):
        found = [r for r in records.load_all(directory, name) if r["params"]["profile"] == profile]
        if not found:
            return pd.DataFrame()
        frames[name] = records.to_frame(found)
    return judge(effects(frames["02_leakage"], frames["03_reset"], frames["04_recurrence"]))


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
