"""Verdicts against network size: every primary contrast re-estimated at other widths and depths (09).

At each size of the scaling chapter (``sizes``, e.g. ``[[32], [64], [128], [256], [128, 128]]``) the runs
of 02 - 04 that feed a primary contrast (:func:`snnlib.study.runs.sized_runs`) are trained at that size,
with the same seeds, tasks, λ and measures; at the chapters' own size they are the chapters' records.
Each size's runs go through the same analysis as the study's (:func:`snnlib.analysis.claims.effects`,
:func:`~snnlib.analysis.claims.judge`, :func:`~snnlib.analysis.claims.verdicts`): the six primary rows form
that size's confirmatory family (Holm), and each claim gets its verdict at that size. Nothing here
chooses a size: the question is whether a verdict read at the study's size holds as the network grows.
"""

from __future__ import annotations

import pandas as pd

from snnlib.analysis import claims

#: columns of a primary row kept in the scaling table
KEPT = ("claim", "arm", "effect", "task", "decay", "point", "point_value", "unit", "sesoi", "estimate", "ci_low",
        "ci_high", "p_adjusted", "n_seeds", "verdict", "level_low", "level_high")


def size_label(hidden) -> str:
    """``"64"`` for one layer of 64, ``"128×128"`` for two layers of 128."""
    return "×".join(str(int(h)) for h in hidden)


def sized_frames(cfg, hidden, workers=None, scheduler=None, reuse_stale=None) -> dict[str, pd.DataFrame]:
    """The records of the runs of 02 - 04 that feed a primary contrast, at hidden sizes ``hidden``
    (:func:`snnlib.study.runs.sized_runs`), one frame per chapter; runs not yet recorded are trained."""
    from snnlib.study import lr_selection, runs, sweep

    built = runs.sized_runs(cfg, hidden)
    sized = lr_selection.apply(cfg, built, lr_selection.chosen(cfg, built))  # each chapter's chosen rates
    frames = {}
    for name in runs.PRIMARY_CHAPTERS:
        mine = [r for r in sized if r["experiment"] == name]
        frames[name] = sweep.run_grid(mine, workers=workers or cfg.workers, scheduler=scheduler or cfg.scheduler,
                                      reuse_stale=cfg.reuse_stale if reuse_stale is None else reuse_stale,
                                      desc=f"{name} at {size_label(hidden)}")
    return frames


def judge_size(frames: dict[str, pd.DataFrame], profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(judged rows, claim verdicts)`` of one size's frames, by the study's own rules."""
    rows = claims.effects(*(frames[name] for name in claims.EXPERIMENTS), profile=profile, generalization=False)
    judged = claims.judge(rows)
    return judged, claims.verdicts(judged)


def scaling_table(judged_by_size: dict[str, tuple[pd.DataFrame, pd.DataFrame]], sizes) -> pd.DataFrame:
    """One row per size and claim arm: the primary row's estimate, interval, adjusted p and verdict, with
    the size (``size``, ``width`` of the first layer, ``depth``) and the claim's verdict at that size
    (``claim_verdict``). Arms without a primary row at a size are listed with verdict *inconclusive*
    (:func:`snnlib.analysis.claims.primary_by_arm`)."""
    out = []
    for hidden in sizes:
        label = size_label(hidden)
        judged, verdicts = judged_by_size[label]
        by_claim = dict(zip(verdicts["claim"], verdicts["verdict"]))
        out += [dict(size=label, width=int(hidden[0]), depth=len(hidden), **row)
                for row in claims.primary_by_arm(judged, KEPT, by_claim).to_dict("records")]
    return pd.DataFrame(out)


def holds(table: pd.DataFrame, reference: str) -> dict[str, str]:
    """claim -> one sentence: whether its verdict at the ``reference`` size (the study's) is the same at
    every other size of ``table``, and where it is not."""
    sentences = {}
    for claim, part in table.groupby("claim", sort=True):
        per_size = part.drop_duplicates("size").set_index("size")["claim_verdict"]
        if reference not in per_size.index:
            sentences[claim] = f"{claim}: the study's size {reference} was not re-estimated."
            continue
        ref = per_size[reference]
        others = per_size.drop(reference)
        differ = others[others != ref]
        sizes = ", ".join(per_size.index)
        if differ.empty:
            sentences[claim] = f"{claim} is {ref} at every size ({sizes}): the verdict holds as the network grows."
        else:
            changes = "; ".join(f"{v} at {s}" for s, v in differ.items())
            sentences[claim] = f"{claim} is {ref} at the study's size {reference} but {changes}: the verdict " \
                               f"depends on the network's size."
    return sentences
