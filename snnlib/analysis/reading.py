"""The primary contrasts under the other reading of the leak (05).

The study reads the leak one way (``leak_reading``, raw by default: ``H = λV + I``). The other reading,
gain-normalised (``H = λV + (1 - λ) I``, SpikingJelly's ``decay_input=True``), describes the same
networks for λ < 1 up to a rescaling of the weights but reaches different ones by training (methods). The
summary trains every run that feeds a primary contrast again under the other reading
(:func:`snnlib.study.runs.reading_runs`), each cell at its own learning rate chosen on validation data,
and passes them through the study's own analysis (:func:`snnlib.analysis.claims.effects`,
:func:`~snnlib.analysis.claims.judge`, :func:`~snnlib.analysis.claims.verdicts`): the primary rows form
that reading's confirmatory family, and each claim gets a verdict under it. The stability analysis
counts that verdict as one perturbation (:func:`snnlib.analysis.claims.stability`).
"""

from __future__ import annotations

import pandas as pd

from snnlib.analysis import claims

#: columns of a primary row kept in the side-by-side table
KEPT = ("estimate", "ci_low", "ci_high", "p_adjusted", "n_seeds", "verdict")


def split(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The records of the reading runs, one frame per chapter of :data:`claims.EXPERIMENTS`."""
    return {name: records[records["experiment"] == name].reset_index(drop=True) for name in claims.EXPERIMENTS}


def train_frames(cfg) -> dict[str, pd.DataFrame]:
    """The records of 05's reading runs (``cfg``: its configuration), per chapter; runs not yet recorded
    are trained (their learning-rate selection first, :func:`snnlib.study.runs.train`)."""
    from snnlib.study import runs

    return split(runs.train(cfg, desc=f"{cfg.name}: {cfg.the_other_reading()} reading"))


def recorded_frames(profile: str = "quick", directory=None) -> dict[str, pd.DataFrame] | None:
    """The recorded reading runs of ``profile`` (nothing trained), per chapter; ``None`` when the profile
    does not train them or one of them has no record."""
    from snnlib.study import config, records, runs, sweep

    cfg = config.resolve("05_summary", profile)
    try:
        built = runs.runs_of(cfg)
    except LookupError:  # no learning rate chosen yet: nothing of the reading is recorded
        return None
    if not built:
        return None
    found = []
    for params in sweep.plan(built):
        record = records.load(records.canonical_key(params), directory)
        if record is None:
            return None
        found.append(record)
    return split(records.to_frame(found))


def effects(frames: dict[str, pd.DataFrame], profile: str) -> pd.DataFrame:
    """The unjudged effect rows of the reading's frames (the primary ones marked; no generalization rows,
    whose measures the reading runs do not take)."""
    return claims.effects(*(frames[name] for name in claims.EXPERIMENTS), profile=profile, generalization=False)


def side_by_side(main: pd.DataFrame, other_rows: pd.DataFrame, main_reading: str, other_reading: str) -> pd.DataFrame:
    """One row per claim arm: its primary contrast judged under each reading (``main``: the study's judged
    rows; ``other_rows``: the other reading's unjudged rows, :func:`effects`, judged here by the study's
    rules), the columns of :data:`KEPT` suffixed by the reading, and each claim's verdict under each
    (``claim verdict, READING``; :func:`snnlib.analysis.claims.primary_by_arm`)."""
    def read(judged, reading):
        table = claims.primary_by_arm(judged, KEPT).reindex(columns=["claim", "arm", *KEPT, "claim_verdict"])
        return table.rename(columns={**{k: f"{k}, {reading}" for k in KEPT},
                                     "claim_verdict": f"claim verdict, {reading}"})

    return read(main, main_reading).merge(read(claims.judge(other_rows), other_reading), on=["claim", "arm"])


def compact(table: pd.DataFrame, readings: tuple[str, str]) -> pd.DataFrame:
    """:func:`side_by_side` for reading: per claim arm and reading, ``estimate [ci_low, ci_high]`` (at the
    family's adjusted level), the seeds and the arm's verdict, then the claim's verdict under each."""
    out = table[["claim", "arm"]].copy()
    for reading in readings:
        est, low, high = (table[f"{k}, {reading}"] for k in ("estimate", "ci_low", "ci_high"))
        out[f"{reading}: estimate [CI]"] = [f"{e:.3f} [{lo:.3f}, {hi:.3f}]" if pd.notna(e) else "--"
                                            for e, lo, hi in zip(est, low, high)]
        out[f"{reading}: seeds"] = table[f"n_seeds, {reading}"]
        out[f"{reading}: arm"] = table[f"verdict, {reading}"]
    for reading in readings:
        out[f"{reading}: claim"] = table[f"claim verdict, {reading}"]
    return out.set_index(["claim", "arm"])


def arithmetic(other_rows: pd.DataFrame) -> str:
    """Whether the other reading's seeds can decide its confirmatory family (:func:`claims.family_arithmetic`)."""
    return claims.family_arithmetic(claims.judge(other_rows))["text"]


def verdicts_text(table: pd.DataFrame, reading: str) -> str:
    """The claims' verdicts under ``reading`` in one line (:func:`side_by_side`), e.g. ``C1 not supported,
    C2 supported``."""
    per_claim = table.drop_duplicates("claim").set_index("claim")[f"claim verdict, {reading}"]
    return ", ".join(f"{claim} {verdict}" for claim, verdict in per_claim.items())


def holds(table: pd.DataFrame, main_reading: str, other_reading: str) -> dict[str, str]:
    """claim -> one sentence: whether its verdict is the same under both readings (:func:`side_by_side`)."""
    sentences = {}
    for claim, part in table.groupby("claim", sort=True):
        first, second = part.iloc[0][f"claim verdict, {main_reading}"], part.iloc[0][f"claim verdict, {other_reading}"]
        sentences[claim] = (f"{claim} is {first} under both readings of the leak." if first == second else
                            f"{claim} is {first} under the {main_reading} reading but {second} under the "
                            f"{other_reading} one: the verdict depends on how the leak is read.")
    return sentences
