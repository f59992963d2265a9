"""The command line: ``python -m snnlib`` (or ``snnlib``) lists, runs, tabulates and cleans experiments.

::

    snnlib list [EXPERIMENT]
    snnlib run EXPERIMENT [--profile {smoke,quick,full}] [-p NAME VALUE]... [--scheduler tcp://HOST:PORT]
               [--reuse-stale] [--no-progress] [--log-output]
    snnlib train EXPERIMENT|all [--profile P] [--scheduler tcp://HOST:PORT] [--reuse-stale]
    snnlib plan EXPERIMENT|all [--profile P]
    snnlib claims [--profile P] [--format {markdown,csv}] [--stability]
    snnlib bench [--device D] [--threads N]
    snnlib results [--experiment E] [--format {markdown,csv}] [--columns A,B,...]
    snnlib clean [--records] [--executed] [--experiment E]
    snnlib chapters [--part {all,body,appendix}]
    snnlib export RUN_KEY --format nir PATH [--readout {li,affine}]

``run`` checks the experiment, the profile, every parameter name and value and every rule linking two
parameters against the experiment's declaration (:mod:`snnlib.study.config`, torch-free) before it
starts a kernel, then executes ``notebooks/EXPERIMENT.ipynb`` with papermill into
``executed_dir()/EXPERIMENT.ipynb``. The notebook is written to a temporary file first and replaces the
previous executed notebook only when it ran to the end; a failed one is kept as
``executed_dir()/failed/EXPERIMENT.ipynb`` (a subfolder, so globs of executed chapters never see it).
``train`` trains (and records) the runs of the experiments at their profile values without executing
any notebook: ``train all`` trains every experiment's runs in one sweep, so the workers share one queue
with the largest groups first and no core waits at the end of an experiment; the notebooks then find
every run recorded (``make book`` does this).

``chapters`` prints the registered chapters in build order, one per line, the appendix last (the Makefile
reads it; torch-free). ``export`` writes the trained network of a recorded run to a file other tools load
(NIR, :mod:`snnlib.model.nir_export`).

Exit status: 0 success, 1 the notebook failed, 2 a bad command line or parameter (nothing was run).
Only light modules are imported at start-up, so a bad parameter is reported in a fraction of a second.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from snnlib import paths

from snnlib.study import config

EXIT_FAILED, EXIT_USAGE = 1, 2
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class UsageError(Exception):
    """A bad command line or parameter: reported with exit status 2, before anything runs."""


# --- helpers --------------------------------------------------------------------------------------------

def parse_value(text: str):
    """A ``-p`` value parsed as YAML (``2`` -> 2, ``[LIF, IF]`` -> list, ``null`` -> None, ``cpu`` -> 'cpu'),
    and, unlike YAML 1.1, ``1e-3`` -> 0.001."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"not valid YAML: {error}") from None
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)
    return value


def notebook_path(experiment: str) -> Path:
    return paths.notebooks_dir() / f"{experiment}.ipynb"


def notebook_parameters(experiment: str) -> dict:
    """The notebook's parameters as papermill infers them: name -> {name, inferred_type_name, default, help}."""
    import papermill

    nb = notebook_path(experiment)
    if not nb.is_file():
        raise UsageError(f"experiment {experiment!r} has no notebook: {nb} does not exist")
    return papermill.inspect_notebook(str(nb))


def _check_experiment(experiment: str) -> None:
    try:
        config.experiment_class(experiment)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _format_value(value) -> str:
    import json

    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_markdown(frame) -> str:
    """A pipe table of ``frame`` (no index; floats with 4 significant digits, lists as written)."""
    def cell(value) -> str:
        if isinstance(value, float):
            text = f"{value:.4g}"
        elif value is None:
            text = ""
        else:
            text = str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "|".join("---" for _ in frame.columns) + "|"]
    for values in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in values) + " |")
    return "\n".join(lines)


# --- commands -------------------------------------------------------------------------------------------

def cmd_list(args) -> int:
    experiments = tuple(config.EXPERIMENTS)
    if args.experiment is not None:
        _check_experiment(args.experiment)
        experiments = (args.experiment,)
    for i, experiment in enumerate(experiments):
        cls = config.experiment_class(experiment)
        by_profile = {p: cls.defaults(p) for p in config.PROFILE_NAMES}
        rows = [[name, *(p if name == "profile" else _format_value(by_profile[p].get(name, field.default))
                         for p in config.PROFILE_NAMES), field.description or ""]
                for name, field in cls.model_fields.items()]
        if i:
            print()
        print(f"{experiment}   {notebook_path(experiment)}   {cls.__doc__.strip().splitlines()[0]}")
        print(_table(["parameter", *config.PROFILE_NAMES, "help"], rows))
    print("\nrun one with: python -m snnlib run EXPERIMENT [--profile PROFILE] [-p NAME VALUE ...]")
    return 0


def prepare_run(experiment: str, profile: str | None, pairs: list[tuple[str, str]]):
    """Check everything ``run`` needs; return the validated configuration and the parameters to inject.

    Raises :class:`UsageError` naming the bad experiment, profile, parameter, value or combination.
    Torch-free and papermill-free: a bad value is refused in a fraction of a second.
    """
    _check_experiment(experiment)
    profile = profile or "quick"
    given = {}
    for name, text in pairs:
        if name == "profile":
            raise UsageError("give the profile with --profile, not -p profile")
        try:
            given[name] = parse_value(text)
        except ValueError as error:
            raise UsageError(f"parameter {name!r}: {error}") from None
    if not notebook_path(experiment).is_file():
        raise UsageError(f"experiment {experiment!r} has no notebook: {notebook_path(experiment)} does not exist")
    try:
        cfg = config.resolve(experiment, profile, **given)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return cfg, {"profile": profile, **given}


def runs_experiments() -> tuple[str, ...]:
    """The experiments that train their own runs (the others summarise), as the registry declares them."""
    return config.training_experiments()


def cmd_run(args) -> int:
    pairs = list(args.parameters or [])
    if args.scheduler is not None:
        pairs.append(("scheduler", args.scheduler))
    if args.reuse_stale:
        pairs.append(("reuse_stale", "true"))
    cfg, parameters = prepare_run(args.experiment, args.profile, pairs)
    import warnings

    warnings.filterwarnings("ignore", message=".*[Tt]ransport.*")  # jupyter_client's kernel-port notices
    import papermill

    source = notebook_path(args.experiment)
    out_dir = paths.executed_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{args.experiment}.ipynb"
    failed = out_dir / "failed" / f"{args.experiment}.ipynb"
    tmp = out_dir / f".{args.experiment}.{os.getpid()}.tmp.ipynb"
    for name in ("SNNLIB_RESULTS", "SNNLIB_EXECUTED", "SNNLIB_NOTEBOOKS"):  # the kernel runs in the notebook folder
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).resolve())
    shown = ", ".join(f"{k}={v!r}" for k, v in parameters.items())
    print(f"{args.experiment} ({shown})", file=sys.stderr, flush=True)
    os.environ["SNNLIB_PROGRESS"] = "1" if args.progress else "0"
    sockets = tempfile.mkdtemp(prefix="snnlib-kernel-")
    try:
        from traitlets.config import Config

        # IPC transport: the kernel then has no TCP port to warn about; its shutdown chatter is silenced.
        # Its sockets live in a folder of this process's own, so notebooks can execute side by side.
        kernel = {"transport": "ipc", "ip": os.path.join(sockets, "kernel")}
        papermill.execute_notebook(str(source), str(tmp), parameters=parameters, progress_bar=False,
                                   log_output=args.log_output, kernel_name=args.kernel, cwd=str(source.parent),
                                   config=Config({"KernelManager": kernel}),
                                   extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    except BaseException as error:
        kept = tmp.exists()
        if kept:
            failed.parent.mkdir(exist_ok=True)
            os.replace(tmp, failed)
        if not isinstance(error, Exception):
            raise
        print(f"snnlib run: error: {args.experiment} failed: {type(error).__name__}: {error}".rstrip(),
              file=sys.stderr)
        print(f"  {target} was left as it was" + (f"; the partly executed notebook is {failed}" if kept else ""),
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    from snnlib.study.render import clean_executed

    clean_executed(tmp, cfg.profile, getattr(cfg, "seeds", None) if args.experiment in runs_experiments() else None,
                   cfg.non_default(), experiment=args.experiment)
    os.replace(tmp, target)
    if failed.exists():
        failed.unlink()
    print(f"done: {target}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    names = list(runs_experiments()) if args.experiment == "all" else [args.experiment]
    _check_experiment(names[0])
    if names[0] not in runs_experiments():
        raise UsageError(f"experiment {names[0]!r} trains no runs of its own; give one of "
                         f"{', '.join(runs_experiments())}, or all")
    cfgs = [config.resolve(name, args.profile) for name in names]
    from snnlib.study import lr_selection, runs, sweep

    scheduler = args.scheduler or cfgs[0].scheduler
    options = dict(workers=cfgs[0].workers, scheduler=scheduler, reuse_stale=args.reuse_stale, progress=args.progress)
    # first every experiment's learning-rate selection (one sweep), then every run at its chosen rate
    selection = [run for cfg in cfgs for run in lr_selection.selection_runs(cfg)]
    if selection:
        sweep.run_grid(selection, desc=f"{args.experiment} ({args.profile}): learning rates", **options)
    every = [run for cfg in cfgs for run in runs.runs_of(cfg)]
    frame = sweep.run_grid(every, desc=f"{args.experiment} ({args.profile})", **options)
    print(f"done: {len(frame)} runs of {', '.join(names)} recorded in {paths.records_dir()}", file=sys.stderr)
    return 0


def cmd_plan(args) -> int:
    names = list(config.EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        _check_experiment(name)
    from snnlib.study.plan import plan

    table = plan(names, args.profile, calibrate=not args.no_calibration)
    for column in ("training", "measures", "estimate", "estimate_workers"):
        table[column] = [f"{s / 60:.1f} min" for s in table[f"{column}_s"]]
    print(to_markdown(table.drop(columns=["training_s", "measures_s", "estimate_s", "estimate_workers_s"])))
    workers = config.resolve(names[0], args.profile).workers
    print(f"\nprofile {args.profile}: {int(table['runs'].iloc[-1] - table['shared'].iloc[-1])} distinct runs "
          f"({int(table['shared'].iloc[-1])} read by a second chapter), {int(table['recorded'].iloc[-1])} "
          f"recorded, {int(table['groups'].iloc[-1])} ensembles to train; estimated "
          f"{table['estimate_s'].iloc[-1] / 60:.1f} min on this machine in one process, "
          f"{table['estimate_workers_s'].iloc[-1] / 60:.1f} min with the profile's {workers} worker(s)")
    return 0


def cmd_chapters(args) -> int:
    for name in config.chapters(args.part):
        print(name)
    return 0


def cmd_export(args) -> int:
    from snnlib.study import records

    record = records.load(args.key)
    if record is None:
        raise UsageError(f"no record {args.key!r} in {paths.records_dir()}; list the keys with: "
                         f"snnlib results --columns key")
    from snnlib import trained_model
    from snnlib.model import nir_export
    from snnlib.model.variants import Variant

    variant = Variant.parse(record["params"]["variant"])
    try:  # before training: a network NIR cannot express is refused at once
        nir_export.check_exportable(variant.neuron, variant.reset, f"run {args.key} (variant {variant.name})")
    except ValueError as error:
        raise UsageError(str(error)) from None
    task, model = trained_model(record["params"])
    try:
        graph = nir_export.write_nir(model, args.path, readout=args.readout, readout_window=task.readout_text())
    except ValueError as error:
        raise UsageError(f"run {args.key}: {error}") from None
    print(f"wrote {args.path}: NIR graph of {len(graph.nodes)} nodes ({', '.join(graph.nodes)})", file=sys.stderr)
    return 0


def cmd_claims(args) -> int:
    from snnlib.analysis import claims

    frames = claims.recorded_frames(args.profile)
    if frames is None:
        print(f"no records of the {args.profile} profile; run the experiments first (make book)", file=sys.stderr)
        return 0
    study = claims.assess(frames, args.profile)
    table = study.stability if args.stability else claims.claims_table(study.judged)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print(to_markdown(table))
    return 0


def cmd_bench(args) -> int:
    from snnlib.measure import bench

    argv = ["--device", args.device, "--threads", str(args.threads)]
    return bench.main(argv)


def cmd_results(args) -> int:
    import warnings

    from snnlib.study import records

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", records.CorruptRecordWarning)
        found = records.load_all()
    for warning in caught:
        print(f"snnlib results: warning: {warning.message}", file=sys.stderr)
    recorded = sorted({r["experiment"] for r in found})
    if args.experiment is not None:
        if args.experiment not in recorded and args.experiment not in config.EXPERIMENTS:
            raise UsageError(f"no records of experiment {args.experiment!r}; recorded experiments are: "
                             f"{', '.join(recorded) or '(none)'}; the study's experiments are: "
                             f"{', '.join(config.EXPERIMENTS)}")
        found = [r for r in found if r["experiment"] == args.experiment]
    if not found:
        print(f"no records in {paths.records_dir()}" +
              (f" for experiment {args.experiment!r}" if args.experiment else ""), file=sys.stderr)
        return 0
    frame = records.to_frame(found)
    stages = frame["stale_stage"].value_counts()  # which stage of each record is out of date
    if stages.get("train", 0) or stages.get("measure", 0):
        print(f"snnlib results: {stages.get('train', 0)} record(s) stale in training (snnlib run trains them "
              f"again), {stages.get('measure', 0)} stale in measurement only (snnlib run measures their "
              f"stored weights again); see the column stale_stage", file=sys.stderr)
    order = [c for c in ("experiment", "task", "variant", "decay", "seed") if c in frame.columns]
    frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    if args.columns:
        wanted = [c.strip() for c in args.columns.split(",") if c.strip()]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise UsageError(f"no column {', '.join(map(repr, missing))}; the columns are: {', '.join(frame.columns)}")
        frame = frame[wanted]
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        print(to_markdown(frame))
    return 0


def cmd_clean(args) -> int:
    both = not args.records and not args.executed
    removed = []
    if args.records or both:
        folder = paths.records_dir()
        if folder.is_dir():
            if args.experiment is None:
                files = sorted(folder.glob("*.json")) + sorted(folder.glob("*.safetensors")) + \
                    sorted(folder.glob(".*.tmp"))
            else:
                from snnlib.study import records

                files = [f for r in records.load_all(folder, args.experiment) for f in records.files(r["key"], folder)]
            removed += _remove(files)
    if args.executed or both:
        folder = paths.executed_dir()
        if folder.is_dir():
            if args.experiment is None:
                files = sorted(folder.glob("*.ipynb")) + sorted(folder.glob(".*.tmp.ipynb")) + \
                    sorted(folder.glob("failed/*.ipynb"))
            else:
                files = [folder / f"{args.experiment}.ipynb", folder / "failed" / f"{args.experiment}.ipynb"]
            removed += _remove(files)
    for file in removed:
        print(f"removed {file}")
    if not removed:
        print("nothing to remove")
    return 0


def _remove(files) -> list[Path]:
    done = []
    for file in files:
        try:
            file.unlink()
            done.append(file)
        except FileNotFoundError:
            pass
    return done


# --- the parser -----------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snnlib",
        description="Run and rerun the experiments of the study: each experiment is a papermill notebook "
                    "whose parameters default to a profile (smoke, quick, full); every training run is "
                    "recorded once and reused.",
        epilog=f"Records go to $SNNLIB_RESULTS/records (now {paths.records_dir()}), executed notebooks to "
               f"$SNNLIB_EXECUTED (now {paths.executed_dir()}); notebooks are read from $SNNLIB_NOTEBOOKS "
               f"(now {paths.notebooks_dir()}).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("list", help="list the experiments, their parameters and the profile values",
                            description="List each experiment with its notebook's parameters (as papermill "
                                        "reads the 'parameters' cell: name, type, default, help) and the value "
                                        "of each parameter under every profile.")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT", help="only this experiment")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser(
        "run", help="execute an experiment's notebook with new parameters",
        description="Execute notebooks/EXPERIMENT.ipynb with papermill into the executed-notebook folder. "
                    "The experiment, profile and every -p name and value are checked before anything runs. "
                    "The executed notebook replaces the previous one only if it ran to the end; a failed "
                    "one is kept in the subfolder failed/. Runs already recorded are reused, not retrained.",
        epilog="examples:  snnlib run 01_dynamics_and_baseline --profile smoke\n"
               "           snnlib run 01_dynamics_and_baseline -p seeds 5 -p variants '[LIF, IF]' -p lr 1e-3",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", metavar="EXPERIMENT", help=f"one of: {', '.join(config.EXPERIMENTS)}")
    p.add_argument("--profile", choices=config.PROFILE_NAMES, default=None,
                   help="the parameter profile (default: quick)")
    p.add_argument("-p", "--parameter", dest="parameters", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set parameter NAME to VALUE, parsed as YAML (2, 0.5, 1e-3, cpu, '[LIF, IF]', "
                        "'{digits: 2}', null); repeatable; see 'snnlib list' for the names")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="train on the Dask cluster whose scheduler is at this address; the records are "
                        "written here, so the workers need no shared file system")
    p.add_argument("--reuse-stale", action="store_true",
                   help="keep records made by other code (their code fingerprint differs) instead of retraining them")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar over the runs")
    p.add_argument("--log-output", action="store_true", help="stream the notebook's cell output to the terminal")
    p.add_argument("--kernel", default=None, metavar="NAME",
                   help="Jupyter kernel to execute with (default: the notebook's own)")
    p.set_defaults(func=cmd_run)

    p = commands.add_parser("train", help="train and record an experiment's runs (or all) without a notebook",
                            description="Train and record the runs of EXPERIMENT (or of every experiment, in one "
                                        "sweep) at the profile's values, without executing a notebook. Runs "
                                        "already recorded are reused; the notebooks then only read records.")
    p.add_argument("experiment", metavar="EXPERIMENT|all",
                   help=f"one of: {', '.join(runs_experiments())}, or all")
    p.add_argument("--profile", choices=config.PROFILE_NAMES, default="quick", help="the profile (default: quick)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="train on the Dask cluster whose scheduler is at this address")
    p.add_argument("--reuse-stale", action="store_true",
                   help="keep records made by other code (their code fingerprint differs) instead of retraining them")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar over the runs")
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("plan", help="count, group and time an experiment's runs without training",
                            description="Print, without training, the number of runs of each experiment, how "
                                        "many are recorded (and current), how they group into ensembles, and "
                                        "an estimated wall time from a short calibration on this machine.")
    p.add_argument("experiment", metavar="EXPERIMENT|all", help=f"one of: {', '.join(config.EXPERIMENTS)}, or all")
    p.add_argument("--profile", choices=config.PROFILE_NAMES, default="quick", help="the profile (default: quick)")
    p.add_argument("--no-calibration", action="store_true", help="count only; no timing")
    p.set_defaults(func=cmd_plan)

    p = commands.add_parser("claims", help="print the effects table behind the verdicts",
                            description="Print every effect of the study from the records: claim, arm, whether it "
                                        "is the arm's primary contrast, its family (confirmatory: Holm; "
                                        "exploratory: Benjamini-Hochberg), effect, task, λ, operating point, "
                                        "estimate, interval, p, adjusted p, SESOI, seeds, verdict and note. "
                                        "With --stability, each claim's verdict under every perturbation of "
                                        "the analysis instead.")
    p.add_argument("--profile", choices=config.PROFILE_NAMES, default="quick", help="the profile (default: quick)")
    p.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="table format (default: markdown)")
    p.add_argument("--stability", action="store_true",
                   help="print the stability table (claim, main_verdict, perturbation, verdict, same_as_main, "
                        "share_kept): leave-one-seed-out, SESOI x 1/2 and x 2, the other correction")
    p.set_defaults(func=cmd_claims)

    p = commands.add_parser("bench", help="time training steps side by side: snnlib, SpikingJelly, snnTorch",
                            description="In one process, ms per training step of an ANN floor, snnlib's "
                                        "feed-forward and recurrent networks, SpikingJelly and snnTorch, with "
                                        "ratios, and the throughput of ensembles of 1, 4, 10 and 32 runs at that "
                                        "shape (with the arithmetic bound on their speed-up) and at the quick "
                                        "profile's network size.")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    p.set_defaults(func=cmd_bench)

    p = commands.add_parser("results", help="print the recorded runs as a table",
                            description="Print one row per recorded run: its parameters (task_params flattened "
                                        "to task_params.NAME), its metrics, wall time, timestamp, commit and "
                                        "device. Corrupt record files are reported on stderr and skipped.")
    p.add_argument("--experiment", metavar="E", help="only the runs of experiment E")
    p.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="table format (default: markdown)")
    p.add_argument("--columns", metavar="A,B,...", help="only these columns, in this order")
    p.set_defaults(func=cmd_results)

    p = commands.add_parser("clean", help="delete executed notebooks and run records",
                            description="Delete the executed notebooks and the run records (both unless "
                                        "--records or --executed is given), without asking; prints every "
                                        "file it removes. Deleted runs are trained again when next needed.")
    p.add_argument("--records", action="store_true", help="delete run records (and leftover temporary files)")
    p.add_argument("--executed", action="store_true", help="delete executed notebooks")
    p.add_argument("--experiment", metavar="E", help="only the records and executed notebook of experiment E")
    p.set_defaults(func=cmd_clean)

    p = commands.add_parser("chapters", help="print the chapters in build order, the appendix last",
                            description="Print the registered chapters (snnlib.study.config) one per line in "
                                        "build order: the body chapters by number, then the appendix, which "
                                        "describes the others. Torch-free; the Makefile reads it.")
    p.add_argument("--part", choices=config.CHAPTER_PARTS, default="all",
                   help="all chapters (default), only the body, or only the appendix")
    p.set_defaults(func=cmd_chapters)

    p = commands.add_parser("export", help="write a recorded run's trained network to a file other tools load",
                            description="Write the trained network of the recorded run RUN_KEY to PATH in "
                                        "NIR, the Neuromorphic Intermediate Representation (an HDF5 file that "
                                        "snnTorch, Norse and other neuromorphic tools read). Only hard-reset "
                                        "LIF and IF networks, feed-forward or recurrent, are expressible in "
                                        "NIR; the others stop with an error naming what NIR lacks. The network "
                                        "is trained first when the record has no stored weights.",
                            epilog="example:  snnlib export 3f2a...e1 --format nir lif.nir")
    p.add_argument("key", metavar="RUN_KEY", help="a record's key (snnlib results --columns key,variant)")
    p.add_argument("--format", choices=("nir",), required=True, help="the file format (nir)")
    p.add_argument("path", metavar="PATH", help="the file to write (conventionally *.nir)")
    p.add_argument("--readout", choices=("li", "affine"), default="li",
                   help="li (default): end in the leaky-integrator readout (nir.LI); affine: end at the "
                        "readout's input current, for tools without nir.LI (snnTorch 1.0)")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m snnlib`` and of the ``snnlib`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        print(f"snnlib {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
