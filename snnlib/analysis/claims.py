"""The four claims of the study (DESIGN.md §1), each decided from recorded runs.

Every claim is measured by one or more *effects*; each effect is an estimate with a 95% bootstrap
interval over seeds (:mod:`snnlib.analysis.stats`) and an expected sign, and gets its verdict from
:func:`snnlib.analysis.stats.verdict`. A claim with several effects (a trade-off, or one effect per task) is
combined conservatively (:func:`combine`): *supported* only if every effect is supported, *not
supported* if any effect has the wrong sign, *inconclusive* otherwise.

Robustness is measured *relative to clean accuracy* — robust accuracy divided by clean accuracy, at a
middle attack radius — so that a model that simply learned less is not called robust; runs at chance
level (within 0.1 of it) are left out of robustness effects.

C1  leakage trades memory retention against robustness (02_leakage; λ is the decay, small λ = strong leak)
    memory:      Spearman ρ(λ, accuracy) on delayed-recall at the longest delay        expected +
    robustness:  Spearman ρ(λ, PGD accuracy / clean accuracy) on the second task     expected -
C2  reset is essential for uninterrupted processing (03_reset), with and without leak separately
    stream accuracy at positions ≥ 2, with reset (hard, soft) minus without          expected +
C3  reset buys computational efficiency (03_reset), per task
    SynOps per sample without reset minus with reset, relative to the with-reset mean expected +
C4  recurrence enriches complex dynamics at a cost of robustness (04_recurrence), per task
    accuracy:    recurrent minus feed-forward                                        expected +
    robustness:  (PGD accuracy / clean) recurrent minus feed-forward                 expected -
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from snnlib.analysis import stats
from snnlib.analysis.report import long_table
from snnlib.model.variants import Variant

CLAIMS = {
    "C1": "leakage trades memory retention against robustness",
    "C2": "reset is essential for uninterrupted temporal processing",
    "C3": "reset buys computational efficiency",
    "C4": "recurrence enriches the modelling of complex dynamics, at a cost of robustness",
}


def combine(verdicts) -> str:
    """All supported -> supported; any not supported -> not supported; else inconclusive."""
    verdicts = list(verdicts)
    if verdicts and all(v == "supported" for v in verdicts):
        return "supported"
    if any(v == "not supported" for v in verdicts):
        return "not supported"
    return "inconclusive"


def _row(claim: str, effect_name: str, effect: stats.Effect, expected: int, figure: str) -> dict:
    return dict(claim=claim, effect=effect_name, estimate=effect.estimate, ci_low=effect.ci_low,
                ci_high=effect.ci_high, n_seeds=effect.n, expected="+" if expected > 0 else "-",
                verdict=effect.verdict(expected), figure=figure)


def middle(values) -> float:
    """The middle non-zero value of a sweep (the radius or level at which robustness is compared)."""
    nonzero = sorted(v for v in set(values) if v > 0)
    if not nonzero:
        raise ValueError("robustness needs at least one non-zero epsilon or noise level")
    return nonzero[(len(nonzero) - 1) // 2]


MARGIN_OVER_CHANCE = 0.1


def relative_robustness(records: pd.DataFrame, keep=("task", "variant", "decay", "seed"), attack: str = "pgd",
                        eps: float | None = None) -> pd.DataFrame:
    """Per run: accuracy under ``attack`` at ``eps`` (default: the middle ε) divided by clean accuracy.

    Runs whose clean accuracy is within ``MARGIN_OVER_CHANCE`` of chance are left out: a network that
    learned nothing has no robustness to measure (and its ratio is noise).
    """
    if "chance" in records.columns:
        records = records[records["test_accuracy"] > records["chance"] + MARGIN_OVER_CHANCE]
    keep = [c for c in keep if c in records.columns]
    curves = long_table(records, "attack", keep)
    curves = curves[curves["attack"] == attack]
    eps = middle(curves["eps"]) if eps is None else eps
    at = curves[np.isclose(curves["eps"], eps)].set_index(keep)["accuracy"]
    clean = curves[curves["eps"] == 0].set_index(keep)["accuracy"]
    out = (at / clean.clip(lower=1e-9)).rename("relative_robustness").reset_index()
    return out.assign(eps=eps)


def c1(leakage: pd.DataFrame) -> list[dict]:
    dr = leakage[leakage["task"] == "delayed-recall"]
    longest = int(dr["task_params.delay"].max())
    memory = stats.spearman_effect(dr[dr["task_params.delay"] == longest], "decay", "test_accuracy")
    rows = [_row("C1", f"memory: ρ(λ, accuracy), delayed-recall at delay {longest}", memory, +1, "fig-leak-heatmap")]
    second = leakage[leakage["task"] != "delayed-recall"]
    robust = relative_robustness(second)
    effect = stats.spearman_effect(robust, "decay", "relative_robustness")
    rows.append(_row("C1", f"robustness: ρ(λ, PGD/clean at ε={robust['eps'].iloc[0]:g}), "
                           f"{second['task'].iloc[0]}", effect, -1, "fig-leak-robustness"))
    return rows


def has_reset(variants: pd.Series) -> pd.Series:
    """``"reset"`` (hard or soft) or ``"no reset"`` for each variant name."""
    return variants.map(lambda name: "no reset" if Variant.parse(name).reset == "none" else "reset")


def recurrence_of(variants: pd.Series) -> pd.Series:
    """``"recurrent"`` or ``"feed-forward"`` for each variant name."""
    return variants.map(lambda name: "recurrent" if Variant.parse(name).recurrent else "feed-forward")


def c2(reset: pd.DataFrame) -> list[dict]:
    """One effect per leak level: leakage also pulls the membrane down, so it may stand in for a reset."""
    stream = long_table(reset, "stream_accuracy", ("task", "variant", "seed"))
    later = stream[stream["position"] >= 2].assign(reset=lambda d: has_reset(d["variant"]),
                                                   leak=lambda d: d["variant"].map(lambda n: Variant.parse(n).leak))
    rows = []
    for leak, part in later.groupby("leak", sort=False):
        if part["reset"].nunique() < 2:
            continue
        effect = stats.difference_effect(part, "reset", ("no reset", "reset"), "value")
        rows.append(_row("C2", f"stream accuracy (positions ≥ 2, {stream['task'].iloc[0]}): reset minus no reset, "
                               f"{'leaky' if leak else 'non-leaky'}", effect, +1, "fig-stream"))
    if not rows:
        raise ValueError("C2 needs variants with and without reset at the same leak on the stream task")
    return rows


def c3(reset: pd.DataFrame) -> list[dict]:
    rows = []
    for task, part in reset.groupby("task", sort=False):
        part = part.assign(reset=has_reset(part["variant"]))
        scale = part.loc[part["reset"] == "reset", "synops"].mean()
        effect = stats.difference_effect(part.assign(rel=part["synops"] / scale), "reset", ("reset", "no reset"), "rel")
        rows.append(_row("C3", f"SynOps/sample, no reset minus reset (relative), {task}", effect, +1, "fig-synops"))
    return rows


def c4(recurrence: pd.DataFrame) -> list[dict]:
    rec = recurrence.assign(recurrent=recurrence_of(recurrence["variant"]))
    rows = []
    for task, part in rec.groupby("task", sort=False):
        acc = stats.difference_effect(part, "recurrent", ("feed-forward", "recurrent"), "test_accuracy")
        rows.append(_row("C4", f"accuracy: recurrent minus feed-forward, {task}", acc, +1, "fig-rec-accuracy"))
    robust = relative_robustness(rec).assign(recurrent=lambda d: recurrence_of(d["variant"]))
    for task, part in robust.groupby("task", sort=False):
        eff = stats.difference_effect(part, "recurrent", ("feed-forward", "recurrent"), "relative_robustness")
        rows.append(_row("C4", f"robustness: PGD/clean at ε={part['eps'].iloc[0]:g}, recurrent minus feed-forward, {task}",
                         eff, -1, "fig-rec-robustness"))
    return rows


def evaluate(leakage: pd.DataFrame, reset: pd.DataFrame, recurrence: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(effects, verdicts)``: every effect with its interval and verdict, and one combined verdict per claim."""
    effects = pd.DataFrame(c1(leakage) + c2(reset) + c3(reset) + c4(recurrence))
    verdicts = (effects.groupby("claim", sort=False)["verdict"].agg(combine).rename("verdict").reset_index()
                .assign(statement=lambda d: d["claim"].map(CLAIMS))[["claim", "statement", "verdict"]])
    return effects, verdicts


# What each effect recommends, by its sign: (if the interval is above 0, if below 0, if it contains 0).
_ADVICE = {
    ("C1", "memory"): ("To hold information across long delays, keep leakage small (λ near 1): accuracy at the "
                       "longest delay rises with λ",
                       "Stronger leakage helped memory here, against expectation: accuracy at the longest delay "
                       "falls with λ",
                       "λ made no clear difference to memory at the longest delay"),
    ("C1", "robustness"): ("Leakage did not buy robustness: relative robust accuracy rises with λ, so less leak "
                           "was more robust",
                           "Where robustness to perturbed inputs matters more than memory, a leakier neuron "
                           "(smaller λ) keeps more of its clean accuracy under attack",
                           "λ made no clear difference to robustness under attack"),
    ("C2", "stream"): ("For inputs that arrive back to back without a state reset, use a neuron with a reset "
                       "(hard or soft): accuracy after the first sample stays higher",
                       "In streams, the variants without reset did better, against expectation",
                       "Reset made no clear difference on streams"),
    ("C3", "SynOps"): ("Without reset the network spends more synaptic operations per sample: a reset saves "
                       "operations",
                       "Without reset the network spent fewer synaptic operations, against expectation",
                       "Reset made no clear difference to synaptic operations"),
    ("C4", "accuracy"): ("Recurrence raised accuracy: use a recurrent layer for tasks that need interactions "
                         "across time",
                         "Recurrence lowered accuracy: the feed-forward network was better",
                         "Recurrence made no clear difference to accuracy"),
    ("C4", "robustness"): ("Recurrent networks kept more of their accuracy under attack: no robustness cost was "
                           "found",
                           "Recurrence cost robustness: if attacks matter, weigh this against its accuracy gain",
                           "Recurrence made no clear difference to robustness under attack"),
}


def recommendations(effects: pd.DataFrame) -> str:
    """Markdown bullets, one per effect, each chosen by the sign of the effect's interval and citing it."""
    lines = []
    for row in effects.to_dict("records"):
        kind = next(k for (claim, k) in _ADVICE if claim == row["claim"] and k in row["effect"])
        above, below, neither = _ADVICE[(row["claim"], kind)]
        text = above if row["ci_low"] > 0 else below if row["ci_high"] < 0 else neither
        where = row["effect"].rsplit(", ", 1)[-1] if row["claim"] in ("C2", "C3", "C4") else ""
        lines.append(f"- {f'**{where}**: ' if where else ''}{text}: effect {row['estimate']:.3f} "
                     f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}], {row['verdict']} for {row['claim']} "
                     f"({{numref}}`{row['figure']}`).")
    return "\n".join(lines)
