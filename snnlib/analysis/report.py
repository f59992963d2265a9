"""Tables and numbers for the book: formatted from aggregated records, never typed in."""

from __future__ import annotations

import pandas as pd

from snnlib.analysis.claims import ARMS

pd.set_option("display.max_colwidth", 200)  # effect descriptions and claims are long


def fmt_ci(mean: float, low: float, high: float, percent: bool = True, digits: int = 1) -> str:
    """``"97.1% [96.0, 98.2]"`` (or plain numbers with ``percent=False``).

    Percentages are accuracies: their interval is clipped to [0%, 100%], the range an accuracy can take
    (a Student-t interval over few seeds can reach past it)."""
    if percent:
        low, high = max(low, 0.0), min(high, 1.0)
        return f"{100 * mean:.{digits}f}% [{100 * low:.{digits}f}, {100 * high:.{digits}f}]"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def ci_table(summary: pd.DataFrame, index: str, columns: str | None = None, percent: bool = True,
             digits: int = 1, index_order=None) -> pd.DataFrame:
    """A table of ``mean [95% CI]`` cells, rows ``index`` and one column per level of ``columns``."""
    cells = summary.assign(cell=[fmt_ci(m, lo, hi, percent, digits)
                                 for m, lo, hi in zip(summary["mean"], summary["ci_low"], summary["ci_high"])])
    table = cells.set_index(index)[["cell"]] if columns is None else cells.pivot(index=index, columns=columns, values="cell")
    if index_order is not None:
        table = table.reindex([i for i in index_order if i in table.index])
    table.columns.name = None
    return table


def long_table(records: pd.DataFrame, column: str, keep=("task", "variant", "decay", "seed")) -> pd.DataFrame:
    """Expand a list-valued metric (``noise``, ``attack``, ``generalization``, ``stream_accuracy``, ...)
    into one row per entry, with the record columns ``keep``. List entries that are dicts become
    columns; plain numbers become ``value`` with their ``position`` (1-based) in the list."""
    keep = [c for c in keep if c in records.columns]
    rows = []
    for _, rec in records.dropna(subset=[column]).iterrows():
        for i, entry in enumerate(rec[column]):
            base = {c: rec[c] for c in keep}
            rows.append({**base, **entry} if isinstance(entry, dict) else {**base, "position": i + 1, "value": entry})
    return pd.DataFrame(rows)


def fmt_effect(row, digits: int = 2) -> str:
    """``"0.83 [0.61, 0.95], supported"`` from a judged effect row of :mod:`snnlib.analysis.claims`
    (the interval at its Holm-adjusted level)."""
    return (f"{row['estimate']:.{digits}f} [{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}], "
            f"{row['verdict']}")


def _lambda(value) -> str:
    return "" if pd.isna(value) else f"{value:g}"


def _where(row) -> str:
    """``"temporal-xor, gap 5, λ 0.5"``: the task, the operating point and λ of a judged row."""
    parts = [str(row["task"])]
    if row.get("point") and pd.notna(row.get("point_value")):
        parts.append(f"{row['point']} {row['point_value']:g}")
    if pd.notna(row["decay"]):
        parts.append(f"λ {row['decay']:g}")
    return ", ".join(parts)


def _role(row) -> str:
    return "primary" if row.get("primary", False) else "secondary" if row["claim"] != "G" else "exploratory"


def effects_table(judged: pd.DataFrame) -> pd.DataFrame:
    """Judged effects as a compact display table indexed by effect: its role (the claim arm's primary
    contrast, a secondary row, or exploratory), where (task, operating point, λ), estimate with its
    interval at the family's adjusted level, the adjusted p (Holm in the confirmatory family,
    Benjamini-Hochberg in the exploratory one), the SESOI, the Monte-Carlo standard error the attacks add
    (from the attack redraws, where the records hold them), seeds, verdict and note."""
    frame = pd.DataFrame(judged)
    table = pd.DataFrame({
        "effect": frame["effect"], "role": [_role(r) for _, r in frame.iterrows()],
        "where": [_where(r) for _, r in frame.iterrows()],
        "estimate [adjusted CI]": [f"{e:.3f} [{lo:.3f}, {hi:.3f}]" if pd.notna(e) else "not estimated"
                                   for e, lo, hi in zip(frame["estimate"], frame["ci_low"], frame["ci_high"])],
        "adjusted p": [f"{v:.4f} ({'Holm' if a == 'holm' else 'BH'})" if pd.notna(v) else "—"
                       for v, a in zip(frame["p_adjusted"], frame.get("adjustment", pd.Series("holm", frame.index)))],
        "SESOI": frame["sesoi"].map(lambda v: f"{v:g}"),
        "MC SE (attacks)": frame.get("mc_se", pd.Series(float("nan"), index=frame.index)).map(
            lambda v: f"{v:.4f}" if pd.notna(v) else "—"),
        "seeds": frame["n_seeds"], "verdict": frame["verdict"],
        "note": frame.get("note", pd.Series("", index=frame.index)).fillna("")})
    return table.sort_values("role", key=lambda r: r != "primary", kind="stable").set_index("effect")


def _counts(rows: pd.DataFrame) -> str:
    """``"saturated in 6 of 11, inconclusive in 5"``."""
    counts = rows["verdict"].value_counts()
    order = [v for v in ("supported", "not supported", "higher", "lower", "negligible", "saturated", "inconclusive")
             if v in counts]
    return ", ".join(f"{v} in {counts[v]}" + (f" of {len(rows)}" if not i else "") for i, v in enumerate(order))


def arm_summary(judged: pd.DataFrame, arm: str | None = None) -> str:
    """One sentence on a claim arm: its primary contrast (where, estimate, interval, verdict), then how
    many of its other rows got each verdict, e.g. ``"primary (temporal-xor, gap 5, λ 0.5): 0.12 [0.05,
    0.19], supported; secondary rows (not voting): saturated in 6 of 11, inconclusive in 5"``."""
    rows = judged if arm is None else judged[judged["arm"] == arm]
    if rows.empty:
        return "no comparison"
    primary = rows[rows["primary"]] if "primary" in rows else rows.iloc[:0]
    others = rows.drop(primary.index)
    parts = []
    for _, row in primary.iterrows():
        shown = fmt_effect(row) if pd.notna(row["estimate"]) else f"not estimable, {row['verdict']}"
        parts.append(f"primary ({_where(row)}): {shown}")
    claim = rows["claim"].iloc[0]
    declared = arm is not None and arm in ARMS.get(claim, ())
    if primary.empty and declared:
        parts.append("no primary contrast in the records: inconclusive")
    if len(others):
        kind = ("exploratory rows" if claim not in ARMS else "secondary rows" if declared or arm is None
                else "a secondary arm")
        parts.append(f"{kind} (not voting): " + _counts(others))
    return "; ".join(parts)


def claims_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table of ``snnlib claims`` formatted for the book (numbers rounded, no bare NaN)."""
    shown = table.copy()
    for column in ("estimate", "ci_low", "ci_high", "sesoi"):
        shown[column] = shown[column].map(lambda v: f"{v:.3f}" if pd.notna(v) else "—")
    for column in ("p", "p_adjusted"):
        shown[column] = shown[column].map(lambda v: f"{v:.4f}" if pd.notna(v) else "—")
    shown["lambda"] = shown["lambda"].map(_lambda)
    if "point_value" in shown:
        shown["point_value"] = shown["point_value"].map(_lambda)
    if "primary" in shown:
        shown["primary"] = shown["primary"].map(lambda v: "primary" if v else "")
    return shown.set_index(["claim", "arm", "effect"])


def verdicts_display(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The per-claim table of :func:`snnlib.analysis.claims.verdicts` for the book: the verdict (with
    its stability label), the arms, where the primary contrasts are, the secondary rows' verdicts and
    the seeds."""
    columns = [c for c in ("claim", "statement", "label", "arms", "primary", "secondary", "n_seeds") if c in verdicts]
    return verdicts[columns].rename(columns={"label": "verdict", "primary": "primary contrasts",
                                             "secondary": "other rows (not voting)", "n_seeds": "seeds"}
                                    ).set_index("claim")


def stability_display(stability: pd.DataFrame) -> pd.DataFrame:
    """The stability table (:func:`snnlib.analysis.claims.stability`) as one row per perturbation and
    one column per claim; a verdict that differs from the claim's main verdict is marked ``≠``, and the
    last row gives each claim's share of perturbations that keep its verdict."""
    if stability.empty:
        return pd.DataFrame({"stability": ["no claim to perturb"]})
    cells = stability.assign(cell=[v if same is None or pd.isna(same) or same else f"≠ {v}"
                                   for v, same in zip(stability["verdict"], stability["same_as_main"])])
    table = cells.pivot(index="perturbation", columns="claim", values="cell")
    table = table.reindex(list(dict.fromkeys(stability["perturbation"])))
    main = stability.groupby("claim")["main_verdict"].first()
    kept = stability.groupby("claim")["share_kept"].first()
    table.loc["main verdict"] = main
    table.loc["share kept"] = kept.map(lambda s: f"{s:.0%}" if pd.notna(s) else "—")
    table.columns.name = None
    return table


def flag_table(flags: pd.DataFrame) -> pd.DataFrame:
    """The audit's sanity checks per task and variant, only the rows where some check failed; a single
    row saying so when none did (no bare empty table)."""
    checks = ["masking_suspected", "not_monotone", "above_chance_at_full_range"]
    if flags.empty:
        return pd.DataFrame({"sanity checks": ["no audited runs"]})
    failed = flags[flags[checks].sum(axis=1) > 0]
    if failed.empty:
        return pd.DataFrame({"sanity checks": [f"all {int(flags['runs'].sum())} audited runs passed: none flagged "
                                               "for gradient masking, every curve non-increasing, chance at the "
                                               "full-range radius"]})
    shown = failed.assign(decay=failed["decay"].map(lambda d: f"{d:g}")).rename(columns={"label": "variant", "decay": "λ"})
    return shown.set_index(["task", "variant", "λ"])


#: at most this share of runs may keep the last epoch they were allowed (the convergence criterion)
MAX_UNCONVERGED = 0.05


def convergence_table(records: pd.DataFrame) -> pd.DataFrame:
    """Per task and variant: runs, how many kept the last epoch they were allowed (``best_at_last``: their
    validation accuracy was still rising when training stopped) and their share, and how many ended with a
    training loss above 90% of chance guessing's (``at_chance``: did not learn, e.g. strong leak at long
    delays; reported apart and left out of the share). Runs without a validation split are left out."""
    import math

    df = records[records["best_epoch"].notna() & records["val_accuracy"].notna()].copy()
    if df.empty:
        return pd.DataFrame(columns=["task", "variant", "runs", "at_chance", "best_at_last", "share"])
    df["at_chance"] = df["final_train_loss"] > 0.9 * df["chance"].map(lambda c: -math.log(c))
    df["best_at_last"] = (df["best_epoch"] == df["epochs"] - 1) & ~df["at_chance"]
    table = df.groupby(["task", "variant"]).agg(runs=("key", "size"), at_chance=("at_chance", "sum"),
                                                best_at_last=("best_at_last", "sum")).reset_index()
    table["share"] = table["best_at_last"] / (table["runs"] - table["at_chance"]).clip(lower=1)
    return table


def unconverged_share(records: pd.DataFrame) -> float:
    """The share of runs (those at chance aside) that kept the last epoch they were allowed."""
    table = convergence_table(records)
    learned = (table["runs"] - table["at_chance"]).sum()
    return float(table["best_at_last"].sum() / learned) if learned else float("nan")


#: energy of one synaptic operation (an accumulate) in picojoules, 45 nm CMOS: a 32-bit floating-point add
#: 0.9 pJ, a 32-bit integer add 0.1 pJ (M. Horowitz, "Computing's energy problem (and what we can do about
#: it)", ISSCC 2014, table of energies per operation). An order of magnitude, not a hardware measurement:
#: memory access, which dominates on real chips, is left out.
ENERGY_PER_SYNOP_PJ = {"fp32 add (45 nm)": 0.9, "int32 add (45 nm)": 0.1}


def energy_per_inference(synops: pd.Series | float, pj_per_op: float) -> pd.Series | float:
    """Energy of one inference in nanojoules from its synaptic operations: ``SynOps × E_op`` (pJ) / 1000."""
    return synops * pj_per_op / 1000.0


#: how far below the best rate of the grid the shared learning rate may fall, in validation accuracy, before
#: a cell counts as handicapped by it (the accuracy SESOI: 2 points)
LR_SHORTFALL = 0.02


def lr_check(selection: pd.DataFrame) -> pd.DataFrame:
    """The learning-rate selection's table (:func:`snnlib.study.lr_selection.table`) with ``handicapped``:
    the cells in which the shared rate falls more than :data:`LR_SHORTFALL` below the chosen one in mean
    validation accuracy -- what choosing per cell buys over one rate for all. Test accuracy is not read."""
    return selection.assign(handicapped=selection["shortfall"] > LR_SHORTFALL)


def lr_tables(profile: str) -> pd.DataFrame:
    """The learning-rate selection of every chapter that chooses rates (:func:`snnlib.study.lr_selection.table`),
    one row per cell. The summary's cells under the other reading of the leak carry their chapter's name
    and that reading, e.g. ``02_leakage (gain-normalised)``; its cells that the reading does not change
    (λ = 0 and λ = 1, :func:`snnlib.study.runs.reads_input`) are the chapters' own and are listed once."""
    from snnlib.study import config, lr_selection, runs

    tables = []
    for name in config.training_experiments():
        cfg = config.resolve(name, profile)
        if not lr_selection.selects(cfg):
            continue
        table = lr_selection.table(cfg)
        # cells named after another chapter are built under another configuration (the summary's reading)
        readings = {e: cfg.runs_config(e).leak_reading for e in table["experiment"].unique() if e != name}
        if readings:
            table = table[[runs.reads_input(dict(variant=r.variant, decay=r.decay)) for r in table.itertuples()]]
            table = table.assign(experiment=[f"{e} ({readings[e]})" for e in table["experiment"]])
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def lr_summary(selection: pd.DataFrame) -> str:
    """One sentence on a selection table: cells per chosen rate, and the handicapped ones."""
    if selection.empty:
        return "no learning rate was chosen (one rate in the grid)"
    checked = lr_check(selection)
    counts = checked["chosen"].value_counts().sort_index()
    chosen = ", ".join(f"{rate:g} in {n}" for rate, n in counts.items())
    worst = checked.sort_values("shortfall").iloc[-1]
    return (f"of {len(checked)} cells, the rate chosen was {chosen}; the shared rate would have lost more than "
            f"{LR_SHORTFALL:g} in validation accuracy in {int(checked['handicapped'].sum())} (the largest loss "
            f"{worst['shortfall']:.3f}: {worst['variant']} at λ {worst['decay']:g} on {worst['task']})")
