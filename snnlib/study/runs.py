"""The runs of each experiment, built from its validated configuration (:mod:`snnlib.study.config`).

Each experiment names its runs function in its declaration (``runs_function``, :mod:`snnlib.study.config`);
:func:`runs_of` calls it. A notebook resolves its configuration, asks this module for the list of runs,
and hands the list to :func:`snnlib.study.sweep.run_grid`, which trains only the runs without a current
record, grouped into ensembles. Each run is a params dict of :func:`snnlib.study.experiment.run`.

Non-leaky variants ignore λ; their runs carry their own (``IF``: ``decay=1.0``, :meth:`Variant.decay`) so
that one non-leaky network is trained once, not once per λ level of the leaky ones.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from snnlib.model.variants import Variant
from snnlib.study import config


def common(cfg, **extra) -> dict:
    """The run parameters every run of an experiment shares."""
    return dict(experiment=cfg.name, profile=cfg.profile, hidden=list(cfg.hidden), batch_size=cfg.batch_size,
                lr=cfg.lr, patience=cfg.patience, device=cfg.device, **extra)


def task_params(cfg, task: str, **extra) -> dict:
    """Task parameters from ``cfg`` for ``task`` (``n_train``, ``n_test``, ``delay`` where the task takes
    them), then ``extra``."""
    from snnlib.data import task_parameters

    takes = task_parameters(task)
    given = {name: getattr(cfg, name) for name in ("n_train", "n_test", "delay") if hasattr(cfg, name)}
    return {**{k: v for k, v in given.items() if k in takes}, **extra}


def variant_decays(variants, decays) -> list[tuple[str, float]]:
    """``(variant, λ)`` pairs: each leaky variant at every λ of ``decays``, each non-leaky one at λ = 1."""
    pairs = []
    for name in variants:
        v = Variant.parse(name)
        pairs += list(dict.fromkeys((v.name, v.decay(float(lam))) for lam in decays))
    return pairs


def reads_input(run: dict) -> bool:
    """Whether the reading of the leak changes ``run``: a leaky neuron model that takes
    ``gain_normalised`` (:class:`snnlib.model.dynamics.LIF`, ALIF), at ``0 < λ < 1`` (at λ = 0 the gain
    ``1 - λ`` is 1, and λ = 1, IF, has one reading)."""
    from snnlib.study.experiment import neuron_options

    return "gain_normalised" in neuron_options(Variant.parse(run["variant"]).neuron) and 0.0 < float(run["decay"]) < 1.0


def with_reading(cfg, built: list[dict]) -> list[dict]:
    """``built`` under ``cfg``'s reading of the leak (``leak_reading``): with ``"gain-normalised"``, every
    run the reading changes (:func:`reads_input`) takes ``neuron_params.gain_normalised``; the raw reading
    leaves the runs as they are."""
    if getattr(cfg, "leak_reading", "raw") == "raw":
        return built
    return [dict(run, neuron_params={**run.get("neuron_params", {}), "gain_normalised": True})
            if reads_input(run) else run for run in built]


def audit_params(cfg, **extra) -> dict:
    """The audit's settings from ``cfg`` (radii, flips, noise, samples, budgets)."""
    return dict(radii=list(cfg.radii), flips=list(cfg.flips), noise_levels=list(cfg.noise_levels),
                audit_samples=cfg.audit_samples, pgd_steps=cfg.pgd_steps, restarts=cfg.restarts,
                square_queries=cfg.square_queries, losses=list(cfg.attack_losses), **extra)


def baseline_runs(cfg) -> list[dict]:
    """01: every variant on every task at the configured λ (each at its learning rate chosen on validation
    data, :mod:`snnlib.study.lr_selection`; 01's wider grid checks the grid itself)."""
    pairs = variant_decays(cfg.variants, [cfg.decay])
    return with_reading(cfg, [dict(common(cfg), task=task, task_params=task_params(cfg, task), variant=v, decay=lam,
                                   epochs=cfg.epochs_for(task), seed=s)
                              for task in cfg.tasks for v, lam in pairs for s in range(cfg.seeds)])


def leakage_runs(cfg) -> list[dict]:
    """02 (C1): ``LIF`` with λ swept (λ = 1 is IF) on delayed-recall at every delay. At ``robust_delay`` the
    same networks are audited with spike flips and tested at the other delays (temporal generalization);
    on ``second_task`` (analog) they are audited with L∞ radii."""
    runs = []
    for lam in cfg.decays:
        for delay in cfg.delays:
            measures, mp = [], {}
            if delay == cfg.robust_delay:
                measures = ["audit", "generalization", "retention_noise"]
                mp = audit_params(cfg, delays=list(cfg.delays), retention_noise=list(cfg.retention_noise))
            runs += [dict(common(cfg), task="delayed-recall", task_params=task_params(cfg, "delayed-recall", delay=delay),
                          variant="LIF", decay=float(lam), epochs=cfg.epochs_for("delayed-recall"), seed=s,
                          measures=measures, measure_params=mp) for s in range(cfg.seeds)]
        task = cfg.second_task
        runs += [dict(common(cfg), task=task, task_params=task_params(cfg, task), variant="LIF", decay=float(lam),
                      epochs=cfg.epochs_for(task), seed=s, measures=["audit"], measure_params=audit_params(cfg))
                 for s in range(cfg.seeds)]
    return with_reading(cfg, runs)


def reset_runs(cfg) -> list[dict]:
    """03 (C2, C3): every reset mode, leaky (at each λ) and not, feed-forward and recurrent where listed.

    - on every task: the feed-forward variants trained on single samples (efficiency); on ``stream_task``
      the recurrent ones too, all tested on streams of ``stream_length`` samples with the state never
      cleared (C2 compares reset modes feed-forward and recurrent; C3 feed-forward only);
    - on ``stream_task`` with ``train_stream_length >= 2``: the feed-forward variants trained on streams too
      (state carried across samples during training), tested on the same test streams;
    - the efficiency frontier: on every task but ``stream_task``, the feed-forward hard- and no-reset
      variants again at every non-zero ``rate_regs`` strength (C3 compares those two).
    """
    runs = []
    pairs = variant_decays(cfg.variants, cfg.decays)
    stream_mp = dict(stream_length=cfg.stream_length)
    for task in cfg.tasks:
        streamed = task == cfg.stream_task
        for v, lam in pairs:
            for reg in cfg.rate_regs:
                if Variant.parse(v).recurrent and (reg or not streamed):
                    continue  # recurrent networks serve C2's streams only
                if reg and (streamed or Variant.parse(v).reset == "soft"):
                    continue  # the frontier is traced on the other tasks, for C3's contrast: hard vs no reset
                runs += [dict(common(cfg), task=task, task_params=task_params(cfg, task), variant=v, decay=lam,
                              rate_reg=float(reg), epochs=cfg.epochs_for(task), seed=s,
                              measures=["stream"] if streamed and not reg else [],
                              measure_params=stream_mp if streamed and not reg else {})
                         for s in range(cfg.seeds)]
    if cfg.train_stream_length:  # feed-forward networks trained on streams
        task = cfg.stream_task
        runs += [dict(common(cfg), task=task, task_params=task_params(cfg, task), variant=v, decay=lam,
                      train_stream=cfg.train_stream_length, epochs=cfg.epochs_for(task), seed=s,
                      measures=["stream"], measure_params=stream_mp)
                 for v, lam in pairs if not Variant.parse(v).recurrent for s in range(cfg.seeds)]
    return with_reading(cfg, runs)


@functools.lru_cache(maxsize=32)
def task_shape(task: str, params_json: str) -> tuple[int, int]:
    """``(n_inputs, n_classes)`` of ``task`` with these parameters (built once, small, seed 0)."""
    import json

    from snnlib.data import get_task

    params = {**json.loads(params_json)}
    for size in ("n_train", "n_test"):
        if size in params:
            params[size] = 40
    built = get_task(task, seed=0, **params)
    return built.n_inputs, built.n_classes


def matched_width(n_inputs: int, hidden: int, n_classes: int) -> int:
    """Width H' of a feed-forward layer with as many weights as a recurrent one of width H:
    ``F·H' + H' + H'·C + C = F·H + H + H² + H·C + C``, rounded to the nearest integer."""
    return round((n_inputs * hidden + hidden + hidden * hidden + hidden * n_classes) / (n_inputs + 1 + n_classes))


#: the order task of C4's complexity knob: the label depends on the order of K typed events on shared
#: channels (snnlib.data.temporal_xor), which integrators that count events cannot tell apart
ORDER_TASK = dict(label="first-last", channels="shared")


def temporal_xor_settings(cfg) -> list[dict]:
    """temporal-xor's task parameters in 04: the gap sweep at two events (parity, separate channels: memory
    span), then the order task at every K of ``events`` at ``event_gap`` (interaction as a knob)."""
    span = [task_params(cfg, "temporal-xor", gap=g) for g in cfg.gaps]
    order = [task_params(cfg, "temporal-xor", gap=cfg.event_gap, n_events=k, **ORDER_TASK) for k in cfg.events]
    return span + order


def needs_matched_control(cfg, task: str, task_params: dict) -> bool:
    """Whether a setting of 04 gets the parameter-matched wide feed-forward control (does the recurrent
    network win by its extra weights?): the audited tasks, and the order task at its middle K (the lower
    of two middles); not temporal-xor's gap sweep, whose question is memory span, nor the other tasks,
    whose matched pairs are a check on real data. One K suffices for a secondary question, and each control
    costs as much as the wide network it is."""
    if task in cfg.audit_tasks:
        return True
    if task == "temporal-xor" and task_params.get("label", "parity") != "parity":
        ks = sorted(cfg.events)
        return task_params.get("n_events") == ks[(len(ks) - 1) // 2]
    return False


def recurrence_runs(cfg) -> list[dict]:
    """04 (C4): each variant at each λ (leaky ones) on every task; temporal-xor at every setting of
    :func:`temporal_xor_settings`. With ``matched_control``, each recurrent variant's feed-forward twin is
    trained again as wide as the recurrent layer has weights. The networks of ``audit_tasks`` are audited
    (the matched pairs, not the wide controls)."""
    import json

    runs = []
    for task in cfg.tasks:
        settings = temporal_xor_settings(cfg) if task == "temporal-xor" else [task_params(cfg, task)]
        extra = dict(measures=["audit"], measure_params=audit_params(cfg)) if task in cfg.audit_tasks else {}
        own = cfg.task_settings[task].overrides() if task in cfg.task_settings else {}
        base = dict(common(cfg), **own)  # the task's own hidden sizes or patience, where it declares them
        # the wide feed-forward controls answer the accuracy question only: they are not audited
        for tp in settings:
            pairs = variant_decays(cfg.variants, cfg.decays)
            runs += [dict(base, task=task, task_params=tp, variant=v, decay=lam, epochs=cfg.epochs_for(task),
                          seed=s, **extra) for v, lam in pairs for s in range(cfg.seeds)]
            if cfg.matched_control and len(base["hidden"]) == 1 and needs_matched_control(cfg, task, tp):
                n_in, n_out = task_shape(task, json.dumps(tp, sort_keys=True))
                wide = [matched_width(n_in, base["hidden"][0], n_out)]
                twins = [(v.with_recurrence(False).name, lam) for v, lam in
                         ((Variant.parse(name), lam) for name, lam in pairs) if v.recurrent]
                runs += [dict(base, task=task, task_params=tp, variant=v, decay=lam, hidden=wide,
                              epochs=cfg.epochs_for(task), seed=s) for v, lam in twins for s in range(cfg.seeds)]
    return with_reading(cfg, runs)


class _RunsByExperiment(Mapping):
    """Experiment name -> its runs function, read from the registry (each experiment's ``runs_function``,
    :mod:`snnlib.study.config`) at every look-up: only the experiments that train runs of their own."""

    def __getitem__(self, name: str):
        if name not in config.EXPERIMENTS or config.EXPERIMENTS[name].runs_function is None:
            raise KeyError(name)
        return config.runs_function(name)

    def __iter__(self):
        return iter(config.training_experiments())

    def __len__(self) -> int:
        return len(config.training_experiments())


#: the runs function of every experiment that trains, as the registry declares them (a live view)
RUNS = _RunsByExperiment()


def runs_of(cfg, choice: dict | None = None, missing: str = "raise") -> list[dict]:
    """The runs of the experiment ``cfg`` configures (its declared ``runs_function``), each at its cell's
    learning rate chosen on validation data (:mod:`snnlib.study.lr_selection`: ``choice``, default the
    recorded selection; a cell without one raises, or keeps the shared rate with ``missing="shared"``);
    audited runs of the first ``redraw_seeds`` seeds are audited ``audit_redraws`` times
    (:func:`with_redraws`)."""
    from snnlib.study import lr_selection

    built = config.runs_function(cfg.name)(cfg)
    choice = lr_selection.chosen(cfg, built) if choice is None else choice
    return with_redraws(cfg, lr_selection.apply(cfg, built, choice, missing))


def train(cfg, desc: str | None = None, **grid_options):
    """Train (or reuse) the runs of ``cfg``: its learning-rate selection first, then its runs at the chosen
    rates (:func:`runs_of`). ``grid_options`` go to :func:`snnlib.study.sweep.run_grid` (default: the
    configuration's workers, scheduler and reuse_stale). Returns the records of the runs."""
    from snnlib.study import lr_selection, sweep

    options = {**dict(workers=cfg.workers, scheduler=cfg.scheduler, reuse_stale=cfg.reuse_stale), **grid_options}
    selection = lr_selection.selection_runs(cfg)
    if selection:
        sweep.run_grid(selection, desc=f"{desc or cfg.name}: learning rates", **options)
    return sweep.run_grid(runs_of(cfg), desc=desc or cfg.name, **options)


def with_redraws(cfg, planned: list[dict]) -> list[dict]:
    """``planned`` with ``audit_redraws`` in the audit settings of the audited runs whose seed is among the
    first ``redraw_seeds`` (experiments without an audit are returned as they are)."""
    redraws, seeds = getattr(cfg, "audit_redraws", 1), getattr(cfg, "redraw_seeds", 0)
    if redraws < 2 or not seeds:
        return planned
    return [dict(p, measure_params={**p["measure_params"], "audit_redraws": redraws})
            if "audit" in p.get("measures", ()) and p["seed"] < seeds else p for p in planned]


def learned_runs(cfg) -> list[dict]:
    """07: the learned / adaptive ``variants`` (PLIF, ALIF, feed-forward and recurrent) at ``decay`` on
    delayed-recall at every delay (with the retention-noise measure) and on ``second_task``; and the
    feed-forward ALIF with and without reset at ``stream_decay`` on ``stream_task``, tested on streams.

    Task sizes, epochs, hidden sizes and seeds are the profile's, as in 02_leakage and 03_reset, so that
    their fixed-λ LIF records are the comparison (read from those chapters, never trained here)."""
    neuron_params = lambda v: dict(beta=cfg.beta) if Variant.parse(v).neuron == "ALIF" else {}  # noqa: E731
    noise = dict(retention_noise=list(cfg.retention_noise))
    runs = []
    for v in cfg.variants:
        for delay in cfg.delays:
            runs += [dict(common(cfg), task="delayed-recall", task_params=task_params(cfg, "delayed-recall", delay=delay),
                          variant=v, neuron_params=neuron_params(v), decay=float(cfg.decay),
                          epochs=cfg.epochs_for("delayed-recall"), seed=s, measures=["retention_noise"],
                          measure_params=noise) for s in range(cfg.seeds)]
        task = cfg.second_task
        runs += [dict(common(cfg), task=task, task_params=task_params(cfg, task), variant=v,
                      neuron_params=neuron_params(v), decay=float(cfg.decay), epochs=cfg.epochs_for(task), seed=s)
                 for s in range(cfg.seeds)]
    task = cfg.stream_task
    runs += [dict(common(cfg), task=task, task_params=task_params(cfg, task), variant=v, neuron_params=dict(beta=cfg.beta),
                  decay=float(cfg.stream_decay), epochs=cfg.epochs_for(task), seed=s, measures=["stream"],
                  measure_params=dict(stream_length=cfg.stream_length))
             for v in ("ALIF", "ALIF-noreset") for s in range(cfg.seeds)]
    return with_reading(cfg, runs)


# --- 09: the primary contrasts at other network sizes -------------------------------------------------

#: the chapters whose runs feed the primary contrasts (snnlib.analysis.claims.PRIMARY)
PRIMARY_CHAPTERS = ("02_leakage", "03_reset", "04_recurrence")


def feeds_primary(run: dict, profile: str, hidden: list[int] | None = None) -> bool:
    """Whether ``run`` (a run of 02 - 04) is one that a primary contrast of ``profile`` reads
    (:data:`snnlib.analysis.claims.PRIMARY`): C1's λ sweep on delayed-recall (every delay: the operating
    point is chosen on validation data); C2's and C3's feed-forward leaky hard and no-reset pairs at the
    declared task and λ (C2 trained on single samples and unregularised, C3 along every rate
    regularisation); C4's matched pairs on the order task (every K, at every λ when each architecture's
    best λ is chosen, else at the declared one) and its leaky pairs at the declared λ on the audited task,
    at ``hidden`` (the size being re-estimated; default the run's own: its wide controls
    are left out)."""
    from snnlib.analysis.claims import PRIMARY

    declared = {(p.claim, p.arm): p for p in PRIMARY[profile]}
    v, task, lam = Variant.parse(run["variant"]), run["task"], run["decay"]
    experiment = run["experiment"]
    if experiment == "02_leakage":
        return task == declared["C1", "memory"].task
    if experiment == "03_reset":
        if v.recurrent or not v.leak or v.reset == "soft" or run.get("train_stream", 0):
            return False
        c2, c3 = declared["C2", "stream"], declared["C3", "SynOps"]
        return ((task == c2.task and lam == c2.decay and not run.get("rate_reg", 0.0)) or
                (task == c3.task and lam == c3.decay))
    if experiment == "04_recurrence":
        accuracy, robustness = declared["C4", "accuracy"], declared["C4", "robustness"]
        if run["hidden"] != (run["hidden"] if hidden is None else list(hidden)):
            return False
        if task == accuracy.task:  # every λ where each architecture's best λ is chosen (decay None)
            return (run["task_params"].get("label", "parity") == ORDER_TASK["label"] and
                    (accuracy.decay is None or (v.leak and lam == accuracy.decay)))
        return task == robustness.task and v.leak and lam == robustness.decay
    return False


#: the measures a primary contrast reads, per chapter (the others are left out at the other sizes)
PRIMARY_MEASURES = {"02_leakage": ("retention_noise",), "03_reset": ("stream",), "04_recurrence": ("audit",)}


def primary_measures_only(run: dict) -> dict:
    """``run`` with only the measures a primary contrast reads (:data:`PRIMARY_MEASURES`), without attack
    redraws: a network trained again elsewhere (another size, the other reading) is measured for what the
    primary contrasts need."""
    keep = [m for m in run.get("measures", []) if m in PRIMARY_MEASURES[run["experiment"]]]
    params = {k: v for k, v in run["measure_params"].items() if k != "audit_redraws"} if keep else {}
    return dict(run, measures=keep, measure_params=params)


def sized_runs(cfg, hidden: list[int]) -> list[dict]:
    """The runs of 02 - 04 that feed a primary contrast (:func:`feeds_primary`), at hidden sizes ``hidden``
    and ``cfg``'s seeds. At the chapters' own size they are the chapters' runs as they are (so their
    records are reused); at any other size they keep only the measures a primary contrast reads. Their
    learning rates are set by :func:`runs_of`: each chapter's, chosen at its own size."""
    sized = []
    for name in PRIMARY_CHAPTERS:
        chapter = config.resolve(name, cfg.profile, hidden=list(hidden), seeds=cfg.seeds, leak_reading=cfg.leak_reading)
        own = list(config.resolve(name, cfg.profile).hidden) == list(hidden)
        for run in with_redraws(chapter, config.runs_function(name)(chapter)):  # runs_of sets their rates
            if not feeds_primary(run, cfg.profile, hidden):
                continue
            sized.append(run if own else primary_measures_only(run))
    return sized


def scaling_runs(cfg) -> list[dict]:
    """09: :func:`sized_runs` at every size of ``cfg.sizes`` (the runs keep their chapter's name)."""
    return [run for hidden in cfg.sizes for run in sized_runs(cfg, hidden)]


# --- 05: the primary contrasts under the other reading of the leak -----------------------------------------

def reading_runs(cfg) -> list[dict]:
    """05: the runs of 02 - 04 that feed a primary contrast (:func:`feeds_primary`), built by each chapter
    under the other reading of the leak (``cfg.runs_config``: the chapter with ``leak_reading`` the other
    one and ``cfg``'s seeds), at the chapters' own sizes. The runs the reading changes
    (:func:`reads_input`) keep only the measures a primary contrast reads, without attack redraws; the
    others (λ = 0 and λ = 1) are the chapters' runs as they are, so their records are reused. Their
    learning rates are chosen for this reading on validation data (:mod:`snnlib.study.lr_selection`). None
    unless ``cfg.other_reading``."""
    if not cfg.other_reading:
        return []
    out = []
    for name in PRIMARY_CHAPTERS:
        chapter = cfg.runs_config(name)
        for run in with_redraws(chapter, config.runs_function(name)(chapter)):
            if not feeds_primary(run, cfg.profile):
                continue
            out.append(primary_measures_only(run) if reads_input(run) else run)
    return out
