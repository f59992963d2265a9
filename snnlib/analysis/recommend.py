"""What to use when: recommendations computed by one rule from the judged effect rows, never typed by hand.

Each scenario (:data:`SCENARIOS`) names, per component (leak, reset, recurrence, learned / adaptive), the
one effect row its choice rests on (:class:`Evidence`: claim, arm, and either the claim's primary row or
the first row whose effect text contains a given string; ``largest_point``: at the largest operating
point, e.g. the longest delay) and the option that a positive and a negative effect each recommend.

The rule (:func:`recommend_one`), applied to the row's verdict and estimate:

- *supported*, *not supported*, *higher*, *lower* (a direction established, significant, and -- but for
  *not supported* -- at least the SESOI): the option of the estimate's sign;
- *negligible*: "either: the difference is below the SESOI";
- *inconclusive*, *saturated*, or no such row: "no recommendation: evidence inconclusive".

The evidence strength is the row's verdict, its family, and for a primary row its claim's stability
label (:func:`snnlib.analysis.claims.verdicts`); a *fragile* claim is flagged in the text.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pandas as pd

DECISIVE = ("supported", "not supported", "higher", "lower")
INCONCLUSIVE = "no recommendation: evidence inconclusive"
NEGLIGIBLE = "either: the difference is below the SESOI"


class Evidence(NamedTuple):
    """One component's choice in a scenario: which row decides it and what each sign recommends."""

    component: str
    claim: str
    arm: str
    positive: str  #: recommended when the row's estimate is > 0
    negative: str  #: recommended when it is < 0
    primary: bool = True  #: the claim arm's primary row (else the first row whose effect contains ``contains``)
    contains: str = ""
    largest_point: bool = False  #: among matching rows, the one at the largest operating point


SCENARIOS: dict[str, tuple[Evidence, ...]] = {
    "long memory": (
        Evidence("leak", "C1", "memory", "weak leak (λ near 1)", "strong leak (small λ)"),
        Evidence("learned / adaptive", "L", "memory", "learned λ (PLIF)", "best fixed λ (LIF)", primary=False,
                 contains="PLIF", largest_point=True),
    ),
    "continuous streams, never reset": (
        Evidence("reset", "C2", "stream", "hard reset", "no reset suffices"),
        Evidence("learned / adaptive", "L", "stream", "fixed threshold (LIF-noreset)",
                 "adaptive threshold (ALIF-noreset)", primary=False, contains="ALIF-noreset − LIF-noreset"),
    ),
    "noisy inputs (noise while a memory is held)": (
        Evidence("leak", "C1", "robustness", "weak leak (λ near 1)", "strong leak (small λ)"),
        Evidence("learned / adaptive", "L", "robustness", "learned λ (PLIF)", "best fixed λ (LIF)", primary=False,
                 contains="PLIF", largest_point=True),
    ),
    "adversarial inputs": (
        Evidence("leak", "C1", "robustness", "weak leak (λ near 1)", "strong leak (small λ)", primary=False,
                 contains="L∞ radii"),
        Evidence("recurrence", "C4", "robustness", "recurrent", "feed-forward"),
    ),
    "a tight energy budget": (
        Evidence("reset", "C3", "SynOps", "hard reset", "no reset"),
        Evidence("learned / adaptive", "L", "SynOps", "fixed threshold (LIF)", "adaptive threshold (ALIF)",
                 primary=False, contains="(ALIF − LIF)"),
    ),
    "complex temporal interactions": (
        Evidence("recurrence", "C4", "accuracy", "recurrent", "feed-forward"),
        Evidence("leak", "C1", "memory", "weak leak (λ near 1)", "strong leak (small λ)"),
    ),
}


def effect_ids(judged: pd.DataFrame) -> pd.Series:
    """A stable id per judged row, ``CLAIM-arm-N`` (N counts the claim arm's rows in table order): the
    anchor by which a recommendation cites its row."""
    arm = judged["arm"].astype(str).str.replace(" ", "-")
    n = judged.groupby(["claim", "arm"], sort=False).cumcount() + 1
    return judged["claim"].astype(str) + "-" + arm + "-" + n.astype(str)


def select(judged: pd.DataFrame, evidence: Evidence):
    """The row ``evidence`` rests on (a Series, with its ``id``), or ``None`` when the table has none."""
    rows = judged.assign(id=effect_ids(judged))
    rows = rows[(rows["claim"] == evidence.claim) & (rows["arm"] == evidence.arm)]
    if evidence.primary:
        rows = rows[rows["primary"].astype(bool)]
    if evidence.contains:
        rows = rows[rows["effect"].str.contains(evidence.contains, regex=False)]
    if rows.empty:
        return None
    if evidence.largest_point:
        rows = rows.sort_values("point_value", kind="stable", na_position="first")
        return rows.iloc[-1]
    return rows.iloc[0]


def recommend_one(row, evidence: Evidence) -> str:
    """The option the rule (module docstring) picks from one judged row (``None``: no row)."""
    if row is None:
        return INCONCLUSIVE
    verdict = str(row["verdict"])
    if verdict in DECISIVE and pd.notna(row["estimate"]) and row["estimate"] != 0:
        return evidence.positive if row["estimate"] > 0 else evidence.negative
    if verdict == "negligible":
        return NEGLIGIBLE
    return INCONCLUSIVE


def strength(row, verdicts: pd.DataFrame | None = None) -> str:
    """The evidence strength of one row: its verdict and family, and for a primary row its claim's
    stability label, "FRAGILE" first where the claim's verdict changes under a perturbation."""
    if row is None:
        return "no such effect in the records"
    text = f"{row['verdict']} ({row.get('family', '')})"
    if bool(row.get("primary", False)) and verdicts is not None and "fragile" in verdicts:
        claim = verdicts[verdicts["claim"] == row["claim"]]
        if len(claim):
            c = claim.iloc[0]
            if bool(c["fragile"]):
                return f"FRAGILE: {text}; claim {row['claim']} kept under {c['share_kept']:.0%} of the perturbations"
            if pd.notna(c.get("share_kept", math.nan)):
                return f"{text}; claim {row['claim']} stable under every perturbation"
    elif not bool(row.get("primary", False)):
        text += "; exploratory row, stability not assessed"
    return text


def recommendations(judged: pd.DataFrame, verdicts: pd.DataFrame | None = None,
                    scenarios: dict[str, tuple[Evidence, ...]] | None = None) -> pd.DataFrame:
    """One row per scenario and component: scenario, component, recommendation, effect_id, effect, task,
    estimate, verdict, strength. Everything follows from ``judged`` (:func:`snnlib.analysis.claims.judge`)
    and ``verdicts`` (with stability) by the rule of the module docstring."""
    scenarios = SCENARIOS if scenarios is None else scenarios
    out = []
    for scenario, evidence in scenarios.items():
        for ev in evidence:
            row = select(judged, ev)
            out.append(dict(scenario=scenario, component=ev.component, recommendation=recommend_one(row, ev),
                            effect_id="" if row is None else row["id"],
                            effect="" if row is None else row["effect"],
                            task="" if row is None else row["task"],
                            estimate=math.nan if row is None else row["estimate"],
                            verdict="missing" if row is None else row["verdict"],
                            strength=strength(row, verdicts)))
    return pd.DataFrame(out)


def counts(table: pd.DataFrame) -> dict[str, int]:
    """Of a :func:`recommendations` table: ``n_choices`` (rows), ``n_decided`` (those with a recommendation,
    not :data:`INCONCLUSIVE`) and ``n_fragile`` (those resting on a fragile claim)."""
    return dict(n_choices=len(table), n_decided=int((table["recommendation"] != INCONCLUSIVE).sum()),
                n_fragile=int(table["strength"].str.startswith("FRAGILE").sum()))
