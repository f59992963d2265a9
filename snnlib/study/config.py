"""Every experiment declared once: one typed, frozen configuration per experiment (torch-free).

An experiment is a pydantic model. Its fields are the experiment's parameters, each with its type,
its allowed values and a one-line help; ``PROFILES`` holds the value of every field under each profile
(``smoke``, ``quick``, ``full``); validators check the rules that link two parameters (``robust_delay``
must be one of ``delays``; every task trained on needs an ``epochs`` entry). Everything else derives from
it:

- the notebook's ``parameters`` cell names exactly these fields (a test checks it), every one ``None``
  but ``profile``, and the notebook calls :func:`from_namespace` to resolve them;
- ``snnlib list`` prints the fields, their help and their profile values;
- ``snnlib run`` validates every ``-p NAME VALUE`` here, before papermill starts, and refuses a bad value
  or combination with exit status 2 naming the parameter and its allowed values.

The registry of chapters is here too: each experiment class is a chapter of the book, registered with
:func:`register`, and declares its role once -- ``name`` (its notebook ``notebooks/NAME.ipynb``; the
leading number orders the chapters), ``appendix`` (built after every other chapter, because it describes
them) and ``runs_function`` (the ``"module:function"`` that builds its training runs, or ``None`` when it
trains nothing of its own). The command line (``snnlib train all``, ``snnlib chapters``), the sweep
(:mod:`snnlib.study.runs`), the catalogue and the Makefile all read this registry, so adding a chapter
is a notebook plus one registered class.

Nothing here imports torch, so a bad value is refused in a fraction of a second. The run-level
parameters (one training run, :mod:`snnlib.study.experiment`) use the same field types.

Why pydantic and not dataclasses: typed fields with ranges, frozen instances, the cross-field
validators and the error messages come from one well-kept library instead of a hand-written validator
module; ``model_fields`` gives the names, types and help that ``snnlib list`` and the tests read.
"""

from __future__ import annotations

import importlib
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from snnlib.data.names import TASK_NAMES
from snnlib.model.variants import Variant

PROFILE_NAMES = ("smoke", "quick", "full")
Profile = Literal["smoke", "quick", "full"]
#: the two readings of the leak (methods): input raw, ``H = λV + I``, or gain-normalised, ``H = λV + (1 - λ) I``
LEAK_READINGS = ("raw", "gain-normalised")
LeakReading = Literal[LEAK_READINGS]  # type: ignore[valid-type]

# --- field types: each rule written once ------------------------------------------------------------
PositiveInt = Annotated[int, Field(strict=True, ge=1)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
Decay = Annotated[float, Field(ge=0.0, le=1.0, description="a decay factor λ in [0, 1] (1 = no leakage)")]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
TaskName = Literal[TASK_NAMES]  # type: ignore[valid-type]


def check_device(value: str) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    ok = isinstance(value, str) and (value in ("auto", "cpu", "cuda") or
                                     (value.startswith("cuda:") and value[5:].isdigit()))
    if not ok:
        raise ValueError(f"must be one of 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}")
    return value


def check_variant_names(value):
    """A list of canonical variant names, or ``"all"`` (the twelve)."""
    if value == "all" or value == ["all"]:
        return Variant.names()
    names = [value] if isinstance(value, str) else list(value)
    bad = [n for n in names if n not in Variant.names()]
    if bad or not names:
        raise ValueError(f"unknown variant {bad[0] if bad else names!r}; valid variant names are: "
                         f"{', '.join(Variant.names())} (or 'all')")
    return names


def check_scheduler(value):
    """``None`` (train on this machine) or a Dask scheduler address ``tcp://HOST:PORT``."""
    if value is not None and not (isinstance(value, str) and "://" in value):
        raise ValueError(f"must be a Dask scheduler address like 'tcp://127.0.0.1:8786', or null, got {value!r}")
    return value


def _one_size(value):
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


Device = Annotated[str, AfterValidator(check_device)]
Scheduler = Annotated[str | None, AfterValidator(check_scheduler)]
VariantNames = Annotated[list[str], BeforeValidator(check_variant_names)]
Hidden = Annotated[list[PositiveInt], BeforeValidator(_one_size), Field(min_length=1)]


# --- the common part -------------------------------------------------------------------------------

class Experiment(BaseModel):
    """Parameters every training experiment takes. Subclasses add their own and their profile values."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    name: ClassVar[str] = ""
    #: ``True`` for a chapter that describes the others: it is built after every other chapter
    appendix: ClassVar[bool] = False
    #: ``"module:function"`` building the runs from the configuration (``function(cfg) -> list[dict]``),
    #: named as a string so that this module never imports it; ``None``: the chapter trains no runs
    runs_function: ClassVar[str | None] = None
    #: ``True`` for a chapter whose runs are other chapters' runs (at other sizes), trained at the learning
    #: rates those chapters chose (:mod:`snnlib.study.lr_selection`) instead of choosing its own
    borrows_rates: ClassVar[bool] = False
    #: profile -> {field: value}; the common fields come from :data:`COMMON`
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {}

    profile: Profile = Field("quick", description="smoke | quick | full: supplies every parameter left at None")
    seeds: PositiveInt = Field(description="number of seeds per configuration (one seed is one data set and "
                                           "initialisation for every variant)")
    hidden: Hidden = Field(description="sizes of the spiking layers")
    batch_size: PositiveInt = Field(description="minibatch size")
    lr: PositiveFloat = Field(description="Adam learning rate")
    patience: PositiveInt | None = Field(description="early stopping: epochs without a better validation accuracy "
                                                     "before a run stops (null: every epoch; epochs is the maximum)")
    device: Device = Field("auto", description='"auto", "cpu", "cuda" or "cuda:N"')
    workers: PositiveInt = Field(1, description="parallel training processes on this machine")
    scheduler: Scheduler = Field(None, description="a Dask scheduler address (tcp://HOST:PORT) to train on "
                                                    "a cluster; null trains here")
    reuse_stale: bool = Field(False, description="reuse records made by other code instead of retraining them")
    lr_grid: list[PositiveFloat] = Field(min_length=1, description="learning rates each (variant, λ, task) is "
                                                                   "trained with on lr_seeds seeds; the best on "
                                                                   "validation accuracy trains its runs (one "
                                                                   "rate: lr for all); must hold lr")
    lr_seeds: PositiveInt = Field(description="seeds (the first ones) on which the learning rate is chosen")
    leak_reading: LeakReading = Field("raw", description="how a leaky neuron (0 < λ < 1) takes its input: raw, as "
                                                         "it is, or gain-normalised, scaled by 1 - λ")

    @model_validator(mode="after")
    def _lr_is_on_the_grid(self):
        if not any(abs(rate - self.lr) <= 1e-12 * self.lr for rate in self.lr_grid):
            raise ValueError(f"parameter 'lr_grid' must hold the shared lr {self.lr:g} (the rate ties go to), "
                             f"got {self.lr_grid}")
        if self.lr_seeds > self.seeds:
            raise ValueError(f"parameter 'lr_seeds' must be at most seeds ({self.seeds}), got {self.lr_seeds}")
        return self

    def runs_config(self, experiment: str) -> Experiment:
        """The configuration under which this experiment builds the runs that carry the name
        ``experiment``: itself, unless it re-estimates other chapters' runs under another setting (05)."""
        return self

    # --- epochs per task ---------------------------------------------------------------------------
    def trained_tasks(self) -> list[str]:
        """The tasks this experiment trains on (each needs an ``epochs`` entry)."""
        return []

    @model_validator(mode="after")
    def _epochs_for_every_task(self):
        epochs = getattr(self, "epochs", None)
        if isinstance(epochs, dict):
            missing = [t for t in self.trained_tasks() if t not in epochs]
            if missing:
                raise ValueError(f"epochs gives no value for task {missing[0]!r}; give one per task trained on "
                                 f"({', '.join(self.trained_tasks())}), e.g. -p epochs "
                                 f"'{{{', '.join(f'{t}: 20' for t in self.trained_tasks())}}}'")
        return self

    def epochs_for(self, task: str) -> int:
        epochs = self.epochs  # type: ignore[attr-defined]
        return epochs[task] if isinstance(epochs, dict) else epochs

    # --- resolving ---------------------------------------------------------------------------------
    @classmethod
    def defaults(cls, profile: str = "quick") -> dict:
        """Every parameter's value under ``profile`` (a fresh dict)."""
        check_profile(profile)
        return {**COMMON[profile], **_copy(cls.PROFILES[profile]), "profile": profile}

    @classmethod
    def resolve(cls, profile: str = "quick", **given) -> Experiment:
        """The profile's values with every ``given`` value that is not ``None`` in their place, validated.

        Raises ``ValueError`` naming the parameter and its allowed values (:func:`explain`).
        """
        unknown = sorted(set(given) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"experiment {cls.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                             f"its parameters are: {', '.join(cls.model_fields)}")
        values = {**cls.defaults(profile), **{k: v for k, v in given.items() if v is not None}}
        try:
            return cls(**values)
        except ValidationError as error:
            raise ValueError(explain(error, cls.name)) from None

    def non_default(self) -> dict:
        """The parameters whose value differs from the profile's."""
        defaults = type(self).resolve(self.profile).model_dump()
        return {k: v for k, v in self.model_dump().items() if k != "profile" and defaults.get(k) != v}


def _copy(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in d.items()}


def explain(error: ValidationError, experiment: str = "", fields=()) -> str:
    """One line per problem: ``parameter 'NAME': what is wrong (the allowed values), got VALUE``; an
    unknown name lists the known ones (``fields``)."""
    lines = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"]) or "(combination)"
        if problem["type"] == "extra_forbidden":
            known = f"; the parameters are: {', '.join(fields)}" if fields else ""
            lines.append(f"unknown parameter {where!r}{known}")
            continue
        message = problem["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
        got = f", got {problem['input']!r}" if "got " not in message and problem["loc"] else ""
        lines.append(f"parameter {where!r}: {message}{got}" if problem["loc"] else message)
    prefix = f"experiment {experiment!r}: " if experiment else ""
    return prefix + "; ".join(lines)


# --- shared parameter groups ------------------------------------------------------------------------

class _Tasks(BaseModel):
    """Mix-in: generated-task sizes and epochs per task."""

    epochs: dict[TaskName, PositiveInt] | PositiveInt = Field(  # type: ignore[valid-type]
        description="training epochs, one per task ({task: epochs}) or one for all")
    n_train: PositiveInt = Field(description="training samples of generated tasks (a validation split is carved "
                                             "from them)")
    n_test: PositiveInt = Field(description="test samples of generated tasks")


class _Audit(BaseModel):
    """Mix-in: the attack audit (snnlib.measure.audit) and input noise."""

    radii: list[NonNegativeFloat] = Field(min_length=1, description="L∞ attack radii on analog tasks, in units "
                                                                    "of the task's input scale (1: one grey level)")
    flips: list[NonNegativeInt] = Field(min_length=1, description="spike-flip budgets per sample on spike tasks")
    noise_levels: list[NonNegativeFloat] = Field(min_length=1, description="noise levels (Gaussian σ in input "
                                                                           "scales on currents; deletion/insertion "
                                                                           "probability on spikes)")
    audit_samples: PositiveInt = Field(description="test samples audited per run (the first n)")
    pgd_steps: PositiveInt = Field(description="PGD steps per restart")
    restarts: PositiveInt = Field(description="PGD random restarts")
    square_queries: PositiveInt = Field(description="query budget of the gradient-free Square attack")
    attack_losses: list[Literal["ce", "margin"]] = Field(min_length=1, description="losses the white-box and "
                                                         "transfer attacks ascend (cross-entropy, margin)")
    audit_redraws: PositiveInt = Field(description="audits per audited run with every random choice drawn "
                                                   "again (1: no redraw), for the Monte-Carlo spread")
    redraw_seeds: NonNegativeInt = Field(description="how many seeds (the first ones) are audited audit_redraws "
                                                     "times; the others once")


# --- the registry of chapters -----------------------------------------------------------------------

#: chapter name -> its configuration class, in registration order; :func:`chapters` gives the build order
EXPERIMENTS: dict[str, type[BaseModel]] = {}
_CHAPTER_NAME = re.compile(r"^[0-9]{2}_[a-z0-9_]+$")
_RUNS_FUNCTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")
CHAPTER_PARTS = ("all", "body", "appendix")


def register(cls: type[BaseModel]) -> type[BaseModel]:
    """Class decorator: add experiment ``cls`` to :data:`EXPERIMENTS`, the study's one list of chapters.

    ``cls.name`` is the notebook's name, two digits then lower-case words (``07_adaptation``: the
    notebook ``notebooks/07_adaptation.ipynb``); ``cls.appendix`` (bool) and ``cls.runs_function``
    (``"module:function"`` or ``None``) its role. Nothing is imported here: a test checks that every
    declared runs function imports. Raises ``ValueError`` naming the attribute and its allowed values.
    """
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not _CHAPTER_NAME.match(name):
        raise ValueError(f"{cls.__name__}.name must be two digits, '_' and lower-case words, the notebook's "
                         f"name (e.g. '07_adaptation' for notebooks/07_adaptation.ipynb), got {name!r}")
    if name in EXPERIMENTS and EXPERIMENTS[name] is not cls:
        raise ValueError(f"{cls.__name__}.name {name!r} is already the name of {EXPERIMENTS[name].__name__}; "
                         f"the registered names are: {', '.join(EXPERIMENTS)}")
    if not isinstance(getattr(cls, "appendix", None), bool):
        raise ValueError(f"{cls.__name__}.appendix must be True or False, got {getattr(cls, 'appendix', None)!r}")
    runs = getattr(cls, "runs_function", None)
    if runs is not None and not (isinstance(runs, str) and _RUNS_FUNCTION.match(runs)):
        raise ValueError(f"{cls.__name__}.runs_function must be None (trains nothing) or 'module:function' "
                         f"(e.g. 'snnlib.study.runs:leakage_runs'), got {runs!r}")
    EXPERIMENTS[name] = cls
    return cls


# --- the experiments --------------------------------------------------------------------------------

@register
class Baseline(_Tasks, Experiment):
    """01: every variant on every task at one decay factor; its wider learning-rate grid checks the grid
    the other chapters choose from."""

    name: ClassVar[str] = "01_dynamics_and_baseline"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:baseline_runs"
    decay: Decay = Field(description="λ of the leaky variants")
    variants: VariantNames = Field(description='variant names, or "all"')
    tasks: list[TaskName] = Field(min_length=1, description="tasks trained on")  # type: ignore[valid-type]
    delay: NonNegativeInt = Field(description="delay D of delayed-recall")

    def trained_tasks(self):
        return list(self.tasks)

    PROFILES = {
        "smoke": dict(decay=0.5, variants=["LIF", "IF", "LIF-noreset", "RLIF"], tasks=["digits", "delayed-recall"],
                      epochs={"digits": 2, "delayed-recall": 2}, delay=6, n_train=256, n_test=128,
                      lr_grid=[1e-3, 3e-3], lr_seeds=1),
        "quick": dict(seeds=8, decay=0.5, variants="all", tasks=["digits", "delayed-recall"],
                      epochs={"digits": 30, "delayed-recall": 40}, delay=6, n_train=1024, n_test=512,
                      lr_grid=[1e-3, 3e-3, 1e-2, 3e-2], lr_seeds=2),
        "full": dict(decay=0.5, variants="all", tasks=["digits", "delayed-recall"],
                     epochs={"digits": 30, "delayed-recall": 40}, delay=6, n_train=1024, n_test=1024,
                     lr_grid=[1e-3, 3e-3, 1e-2, 3e-2], lr_seeds=4),
    }


@register
class Leakage(_Audit, _Tasks, Experiment):
    """02 (C1): λ swept on delayed-recall (λ x delay), robustness of the same networks and of an analog task."""

    name: ClassVar[str] = "02_leakage"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:leakage_runs"
    decays: list[Decay] = Field(min_length=2, description="the swept decay factors λ")
    delays: list[NonNegativeInt] = Field(min_length=1, description="delays D of delayed-recall")
    robust_delay: NonNegativeInt = Field(description="the delay at which robustness and temporal generalization "
                                                     "are measured (one of delays)")
    second_task: TaskName = Field(description="an analog task for robustness vs λ (seq-digits or mnist1d)")  # type: ignore[valid-type]
    retention_noise: list[Fraction] = Field(min_length=2, description="background spike rates during the delay "
                                                                      "at which the robust_delay networks (trained "
                                                                      "silent) are tested: noise while a memory is held")

    def trained_tasks(self):
        return ["delayed-recall", self.second_task]

    @model_validator(mode="after")
    def _robust_delay_is_a_delay(self):
        if self.robust_delay not in self.delays:
            raise ValueError(f"parameter 'robust_delay' must be one of delays {self.delays}, got {self.robust_delay!r}")
        return self

    PROFILES = {
        "smoke": dict(decays=[0.0, 0.5, 1.0], delays=[0, 4], robust_delay=4, second_task="seq-digits",
                      retention_noise=[0.0, 0.2],
                      epochs={"delayed-recall": 2, "seq-digits": 2}, n_train=256, n_test=128,
                      radii=[0.0, 2.0], flips=[0, 2], noise_levels=[0.0, 0.2], audit_samples=32, pgd_steps=5,
                      restarts=1, square_queries=20, attack_losses=["margin"], audit_redraws=2, redraw_seeds=1),
        "quick": dict(decays=[0.0, 0.25, 0.5, 0.75, 0.9, 1.0], delays=[0, 4, 8, 16], robust_delay=8,
                      second_task="seq-digits", epochs={"delayed-recall": 40, "seq-digits": 50},
                      retention_noise=[0.0, 0.05, 0.1, 0.2, 0.3],
                      n_train=1024, n_test=512, radii=[0.0, 1.0, 2.0], flips=[0, 2, 8],
                      noise_levels=[0.0, 0.1, 0.4], audit_samples=32, pgd_steps=50, restarts=2,
                      square_queries=100, attack_losses=["margin"], audit_redraws=3, redraw_seeds=4),
        "full": dict(decays=[0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0], delays=[0, 4, 8, 16], robust_delay=8,
                     second_task="seq-digits", epochs={"delayed-recall": 40, "seq-digits": 50},
                     retention_noise=[0.0, 0.05, 0.1, 0.15, 0.2, 0.3],
                     n_train=1024, n_test=1024, radii=[0.0, 1.0, 2.0, 4.0], flips=[0, 2, 8],
                     noise_levels=[0.0, 0.1, 0.4], audit_samples=128, pgd_steps=50, restarts=2,
                     square_queries=100, attack_losses=["margin"], audit_redraws=1, redraw_seeds=0),
    }


@register
class Reset(_Tasks, Experiment):
    """03 (C2, C3): hard / soft / no reset, leaky at several λ and not, on streams and for efficiency."""

    name: ClassVar[str] = "03_reset"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:reset_runs"
    variants: VariantNames = Field(description="variants compared (all reset modes, with and without leak)")
    decays: list[Decay] = Field(min_length=1, description="λ levels of the leaky variants")
    tasks: list[TaskName] = Field(min_length=1, description="tasks trained on")  # type: ignore[valid-type]
    stream_task: TaskName = Field(description="the task whose samples are streamed (one of tasks)")  # type: ignore[valid-type]
    stream_length: PositiveInt = Field(description="samples per test stream (K), the state never cleared")
    train_stream_length: NonNegativeInt = Field(description="samples per training stream for networks trained "
                                                            "on streams (0: no such condition)")
    rate_regs: list[NonNegativeFloat] = Field(min_length=1, description="firing-rate regularisation strengths "
                                                                        "(the efficiency frontier); 0: none")
    delay: NonNegativeInt = Field(description="delay D of delayed-recall")

    def trained_tasks(self):
        return list(self.tasks)

    @model_validator(mode="after")
    def _stream_task_is_a_task(self):
        if self.stream_task not in self.tasks:
            raise ValueError(f"parameter 'stream_task' must be one of tasks {self.tasks}, got {self.stream_task!r}")
        if self.train_stream_length == 1:
            raise ValueError("parameter 'train_stream_length' must be 0 (no stream training) or >= 2, got 1")
        return self

    PROFILES = {
        "smoke": dict(variants=["LIF", "LIF-noreset", "IF", "IF-noreset"], decays=[0.5], tasks=["digits"],
                      stream_task="digits", stream_length=4, train_stream_length=0, rate_regs=[0.0],
                      epochs={"digits": 2}, delay=4, n_train=256, n_test=128),
        # quick: soft reset feed-forward only (recurrent networks serve C2's secondary rows, hard vs none)
        "quick": dict(variants=["LIF", "LIF-soft", "LIF-noreset", "IF", "IF-soft", "IF-noreset", "RLIF", "RLIF-noreset",
                                "RIF", "RIF-noreset"], decays=[0.5, 0.9], tasks=["seq-digits", "digits"], stream_task="seq-digits",
                      stream_length=16, train_stream_length=4, rate_regs=[0.0, 0.5, 2.0],
                      epochs={"digits": 30, "seq-digits": 50}, delay=4, n_train=1024, n_test=512),
        "full": dict(variants="all", decays=[0.5, 0.9], tasks=["seq-digits", "digits"], stream_task="seq-digits",
                     stream_length=32, train_stream_length=4, rate_regs=[0.0, 0.25, 0.5, 1.0, 2.0],
                     epochs={"digits": 30, "seq-digits": 50}, delay=4, n_train=1024, n_test=1024),
    }


class TaskSettings(BaseModel):
    """Run parameters that differ for one task from the experiment's (only those given apply)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    hidden: Hidden | None = Field(None, description="sizes of the spiking layers on this task")
    patience: PositiveInt | None = Field(None, description="early stopping on this task (null: every epoch)")

    def overrides(self) -> dict:
        """The parameters given (``patience=None`` given means: no early stopping)."""
        return {k: getattr(self, k) for k in sorted(self.model_fields_set)}


@register
class Recurrence(_Audit, _Tasks, Experiment):
    """04 (C4): feed-forward vs recurrent in matched pairs, a parameter-matched wide control, a gap sweep."""

    name: ClassVar[str] = "04_recurrence"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:recurrence_runs"
    variants: VariantNames = Field(description="variants compared, feed-forward and recurrent")
    decays: list[Decay] = Field(min_length=1, description="λ levels of the leaky variants")
    tasks: list[TaskName] = Field(min_length=1, description="tasks with temporal structure")  # type: ignore[valid-type]
    gaps: list[NonNegativeInt] = Field(min_length=1, description="gaps between temporal-xor's two events (memory "
                                                                 "span, at parity over separate channels)")
    events: list[Annotated[int, Field(strict=True, ge=2, le=5)]] = Field(
        min_length=1, description="numbers of events K of the order task (temporal-xor, label first-last, shared "
                                  "channels, gap event_gap): the complexity knob")
    event_gap: NonNegativeInt = Field(description="the gap between the order task's events")
    audit_tasks: list[TaskName] = Field(description="the tasks whose networks are audited (one of tasks)")  # type: ignore[valid-type]
    matched_control: bool = Field(description="add a feed-forward network as wide as the recurrent one has "
                                              "weights (the parameter-matched control)")
    task_settings: dict[TaskName, TaskSettings] = Field(  # type: ignore[valid-type]
        description="run parameters that differ per task, e.g. {japanese-vowels: {hidden: [128], patience: null}}")

    def trained_tasks(self):
        return list(self.tasks)

    @model_validator(mode="after")
    def _audit_tasks_are_tasks(self):
        unknown = [t for t in self.audit_tasks if t not in self.tasks]
        if unknown:
            raise ValueError(f"parameter 'audit_tasks' must list tasks of tasks {self.tasks}, got {unknown}")
        unknown = [t for t in self.task_settings if t not in self.tasks]
        if unknown:
            raise ValueError(f"parameter 'task_settings' must name tasks of tasks {self.tasks}, got {unknown}")
        return self

    PROFILES = {
        "smoke": dict(variants=["LIF", "RLIF"], decays=[0.5], tasks=["temporal-xor", "seq-digits"], gaps=[5],
                      events=[2, 3], event_gap=5, audit_tasks=["seq-digits"],
                      matched_control=True, task_settings={}, epochs={"temporal-xor": 2, "seq-digits": 2}, n_train=256,
                      n_test=128,
                      radii=[0.0, 2.0], flips=[0, 2], noise_levels=[0.0, 0.2], audit_samples=32, pgd_steps=5,
                      restarts=1, square_queries=20, attack_losses=["margin"], audit_redraws=2, redraw_seeds=1),
        "quick": dict(variants=["LIF", "RLIF", "IF", "RIF"], decays=[0.5],
                      tasks=["temporal-xor", "seq-digits", "japanese-vowels"], gaps=[0, 5, 20], events=[2, 3, 4, 5],
                      event_gap=5, audit_tasks=["seq-digits"], matched_control=True,
                      task_settings={"japanese-vowels": {"hidden": [128], "patience": None}},
                      epochs={"temporal-xor": 40, "seq-digits": 50, "japanese-vowels": 40}, n_train=1024, n_test=512,
                      radii=[0.0, 1.0, 2.0], flips=[0, 2, 8], noise_levels=[0.0, 0.1, 0.4], audit_samples=128,
                      pgd_steps=50, restarts=2, square_queries=100, attack_losses=["margin"], audit_redraws=3,
                      redraw_seeds=4),
        "full": dict(variants=["LIF", "RLIF", "IF", "RIF"], decays=[0.5],
                     tasks=["temporal-xor", "seq-digits", "japanese-vowels"], gaps=[0, 5, 10, 20], events=[2, 3, 4, 5],
                     event_gap=5, audit_tasks=["seq-digits"], matched_control=True,
                     task_settings={"japanese-vowels": {"patience": None}},
                     epochs={"temporal-xor": 40, "seq-digits": 50, "japanese-vowels": 40}, n_train=1024, n_test=1024,
                     radii=[0.0, 1.0, 2.0, 4.0], flips=[0, 2, 8], noise_levels=[0.0, 0.1, 0.4],
                     audit_samples=512, pgd_steps=50, restarts=2, square_queries=100, attack_losses=["margin"],
                     audit_redraws=3, redraw_seeds=4),
    }


@register
class Summary(Experiment):
    """05: reads the records of 02 - 04 (any missing run is trained), and trains their primary contrasts
    again under the other reading of the leak (:func:`snnlib.study.runs.reading_runs`), each cell at a
    learning rate chosen on validation data for that reading."""

    name: ClassVar[str] = "05_summary"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:reading_runs"
    other_reading: bool = Field(description="train every primary contrast of 02 - 04 again under the other "
                                            "reading of the leak, for the stability analysis")
    reading_seeds: PositiveInt = Field(description="seeds (the first ones) on which the other reading is trained")
    #: quick re-estimates under the other reading on 8 seeds (the chapters' first 8 of 16), as chapter 09
    #: re-estimates at other sizes: the fewest with which Holm over six primary contrasts can decide
    #: (6 · 2/2^8 < 0.05), so that quick stays within 15 minutes; full on all 24
    PROFILES = {"smoke": dict(other_reading=True, reading_seeds=2), "quick": dict(other_reading=True, reading_seeds=8),
                "full": dict(other_reading=True, reading_seeds=24)}

    def the_other_reading(self) -> str:
        """The reading of the leak that ``leak_reading`` is not."""
        return next(r for r in LEAK_READINGS if r != self.leak_reading)

    def runs_config(self, experiment: str) -> Experiment:
        """Chapter ``experiment`` under the other reading, on ``reading_seeds`` seeds, with this experiment's
        resources."""
        return resolve(experiment, self.profile, leak_reading=self.the_other_reading(), seeds=self.reading_seeds,
                       workers=self.workers, scheduler=self.scheduler, reuse_stale=self.reuse_stale)


@register
class Reproducibility(BaseModel):
    """06, the appendix: reads the executed notebooks and the records; trains nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str] = "06_reproducibility"
    appendix: ClassVar[bool] = True
    runs_function: ClassVar[str | None] = None
    PROFILES: ClassVar[dict] = {"smoke": {}, "quick": {}, "full": {}}
    profile: Profile = Field("quick", description="the profile whose records are described")

    @classmethod
    def defaults(cls, profile: str = "quick") -> dict:
        check_profile(profile)
        return {"profile": profile}

    resolve = classmethod(lambda cls, profile="quick", **given: Experiment.resolve.__func__(cls, profile, **given))

    def non_default(self) -> dict:
        return {}



def check_model_variants(value):
    """A list of variant names of any registered neuron model (``PLIF``, ``RALIF-noreset``), canonical."""
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise ValueError("must name at least one variant, e.g. ['PLIF', 'RPLIF', 'ALIF', 'RALIF']")
    return [Variant.parse(n).name for n in names]


ModelVariants = Annotated[list[str], BeforeValidator(check_model_variants)]


@register
class Learned(_Tasks, Experiment):
    """07: learned leak (PLIF) and adaptive threshold (ALIF), feed-forward and recurrent, on the tasks of
    02 (memory, retention noise) and 03 (streams, SynOps); fixed-λ LIF is read from 02's and 03's records."""

    name: ClassVar[str] = "07_learned_and_adaptive"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:learned_runs"
    variants: ModelVariants = Field(description="learned / adaptive variants trained on delayed-recall and the "
                                                "analog task (any registered neuron model)")
    decay: Decay = Field(description="λ of every variant: PLIF's initial λ, ALIF's fixed λ")
    beta: NonNegativeFloat = Field(description="ALIF's threshold adaptation strength β (θ + β a)")
    delays: list[NonNegativeInt] = Field(min_length=1, description="delays D of delayed-recall (a subset of "
                                                                   "02_leakage's, to compare with its λ sweep)")
    retention_noise: list[NonNegativeFloat] = Field(min_length=2, description="background spike rates during "
                                                    "the delay (the retention-noise measure; 0 first)")
    second_task: TaskName = Field(description="the analog task (02_leakage's second_task)")  # type: ignore[valid-type]
    stream_task: TaskName = Field(description="the task streamed without reset (03_reset's stream_task)")  # type: ignore[valid-type]
    stream_decay: Decay = Field(description="λ of the ALIF / ALIF-noreset pair on streams (one of 03_reset's)")
    stream_length: PositiveInt = Field(description="samples per test stream (03_reset's stream_length)")

    def trained_tasks(self):
        return ["delayed-recall", self.second_task, self.stream_task]

    @model_validator(mode="after")
    def _noise_starts_clean(self):
        if self.retention_noise[0] != 0.0:
            raise ValueError(f"parameter 'retention_noise' must start at 0.0 (the clean accuracy), "
                             f"got {self.retention_noise}")
        if any(level > 1.0 for level in self.retention_noise):
            raise ValueError(f"parameter 'retention_noise' holds spike probabilities in [0, 1], "
                             f"got {self.retention_noise}")
        return self

    PROFILES = {
        "smoke": dict(variants=["PLIF", "RPLIF", "ALIF", "RALIF"], decay=0.5, beta=0.2, delays=[4],
                      retention_noise=[0.0, 0.2], second_task="seq-digits", stream_task="digits",
                      stream_decay=0.5, stream_length=4,
                      epochs={"delayed-recall": 2, "seq-digits": 2, "digits": 2}, n_train=256, n_test=128),
        "quick": dict(seeds=8, variants=["PLIF", "RPLIF", "ALIF", "RALIF"], decay=0.5, beta=0.2, delays=[8, 16],
                      retention_noise=[0.0, 0.05, 0.1, 0.2, 0.3], second_task="seq-digits", stream_task="seq-digits",
                      stream_decay=0.9, stream_length=16,
                      epochs={"delayed-recall": 40, "seq-digits": 50}, n_train=1024, n_test=512),
        "full": dict(seeds=12, variants=["PLIF", "RPLIF", "ALIF", "RALIF"], decay=0.5, beta=0.2, delays=[8, 16],
                     retention_noise=[0.0, 0.05, 0.1, 0.15, 0.2, 0.3], second_task="seq-digits",
                     stream_task="seq-digits", stream_decay=0.9, stream_length=32,
                     epochs={"delayed-recall": 40, "seq-digits": 50}, n_train=1024, n_test=1024),
    }


@register
class Recommendations(Experiment):
    """08: what to use when -- recommendations computed by a rule from the judged effects of 02 - 04 and
    07; trains nothing of its own (reads, and trains any missing, runs of those chapters)."""

    name: ClassVar[str] = "08_recommendations"
    runs_function: ClassVar[str | None] = None
    PROFILES = {"smoke": {}, "quick": {}, "full": {}}

Sizes = Annotated[list[Hidden], Field(min_length=1)]


@register
class Scaling(Experiment):
    """09: every primary contrast of 02 - 04 re-estimated at other network sizes (widths and depths): the
    runs that feed the primary contrasts, trained again at each size (at the profile's own size they are
    the chapters' runs, reused)."""

    name: ClassVar[str] = "09_scaling"
    runs_function: ClassVar[str | None] = "snnlib.study.runs:scaling_runs"
    #: its runs are the chapters' (02 - 04), trained at the learning rates those chapters chose
    borrows_rates: ClassVar[bool] = True
    sizes: Sizes = Field(description="hidden layer sizes at which the primary contrasts are re-estimated, "
                                     "e.g. [[32], [64], [128, 128]] (one list per network: one entry per layer)")

    PROFILES = {
        "smoke": dict(sizes=[[16], [32]]),
        "quick": dict(sizes=[[32], [64]], seeds=8),
        "full": dict(sizes=[[32], [64], [128], [256], [128, 128]], seeds=10),
    }


COMMON = {
    "smoke": dict(seeds=2, hidden=[32], batch_size=128, lr=3e-3, patience=None, device="auto", workers=1,
                  scheduler=None, lr_grid=[3e-3], lr_seeds=1),
    "quick": dict(seeds=16, hidden=[64], batch_size=64, lr=3e-3, patience=5, device="auto", workers=2, scheduler=None,
                  lr_grid=[3e-3, 1e-2, 3e-2], lr_seeds=2),
    "full": dict(seeds=24, hidden=[128], batch_size=64, lr=3e-3, patience=10, device="auto", workers=2, scheduler=None,
                 lr_grid=[3e-3, 1e-2, 3e-2], lr_seeds=2),
}

def check_profile(profile: str) -> str:
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles are: {', '.join(PROFILE_NAMES)}")
    return profile


def experiment_class(name: str) -> type[BaseModel]:
    """The configuration class of experiment ``name``; ``ValueError`` naming the valid ones otherwise."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; valid experiments are: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def chapters(part: str = "all") -> list[str]:
    """The registered chapters in build order: the body chapters by name (their number first), then the
    appendix chapters by name; ``part`` ``"body"`` or ``"appendix"`` gives one of the two lists.

    ``make book`` executes the body chapters (side by side) before the appendix, which describes them.
    """
    if part not in CHAPTER_PARTS:
        raise ValueError(f"part must be one of {', '.join(CHAPTER_PARTS)}, got {part!r}")
    body = sorted(n for n, cls in EXPERIMENTS.items() if not cls.appendix)
    appendix = sorted(n for n, cls in EXPERIMENTS.items() if cls.appendix)
    return {"all": body + appendix, "body": body, "appendix": appendix}[part]


def training_experiments() -> tuple[str, ...]:
    """The chapters that train runs of their own (a ``runs_function``), in build order."""
    return tuple(n for n in chapters() if EXPERIMENTS[n].runs_function is not None)


def runs_function(name: str):
    """The function ``cfg -> list of run params`` of experiment ``name``, imported now (it may import
    torch); ``ValueError`` if the experiment trains nothing of its own."""
    spec = experiment_class(name).runs_function
    if spec is None:
        raise ValueError(f"experiment {name!r} trains no runs of its own; the experiments that do are: "
                         f"{', '.join(training_experiments())}")
    module, function = spec.split(":")
    return getattr(importlib.import_module(module), function)


def resolve(name: str, profile: str = "quick", **given):
    """The validated configuration of experiment ``name`` under ``profile`` with ``given`` overrides."""
    return experiment_class(name).resolve(profile, **given)


def from_namespace(name: str, namespace: dict):
    """The configuration of experiment ``name`` from a notebook's variables (its ``parameters`` cell):
    ``profile`` and every field of the experiment found in ``namespace``; ``None`` means "the profile's"."""
    cls = experiment_class(name)
    given = {k: namespace[k] for k in cls.model_fields if k in namespace and k != "profile"}
    return cls.resolve(namespace.get("profile", "quick"), **given)


def parameters_cell(name: str) -> str:
    """The source of experiment ``name``'s notebook ``parameters`` cell, derived from its declaration:
    ``profile = "quick"`` and every other field ``= None`` ("the profile's value"), each with its help."""
    fields = experiment_class(name).model_fields
    width = max(len(f"{k} = None") for k in fields) + 2
    lines = []
    for k, field in fields.items():
        code = f'{k} = "quick"' if k == "profile" else f"{k} = None"
        lines.append(f"{code.ljust(width)}# {field.description}")
    return "\n".join(lines)


def parameter_help(name: str) -> dict[str, str]:
    """Field name -> its one-line help, in declaration order."""
    return {k: f.description or "" for k, f in experiment_class(name).model_fields.items()}
