"""Training runs of the study, as pure functions of their parameters: one run, or a group trained together.

``run(params) -> metrics`` builds the task and the network, trains it, and measures it. Runs that share
everything that fixes the computation's shape (:func:`group_key`: task and its parameters but the seed,
hidden sizes, recurrence, epochs, batch size, learning rate, device, readout) are trained *together* by
:func:`run_group` as one stacked ensemble (:func:`snnlib.measure.train.fit_members`), each member with
its own seed, λ, reset mode and firing-rate regularisation; ``run(params)`` is ``run_group([params])[0]``,
and a run's metrics are identical alone or in any group. Parameters and metrics are plain JSON-ready
dicts, so a run can be recorded (:mod:`snnlib.study.records`) and handed to any worker process.

Parameters (:class:`RunParams` gives the types and defaults and checks them all before any training)::

    experiment, profile   labels of the experiment and profile the run belongs to (part of the record key)
    task, task_params     one of snnlib.data.TASKS and its parameters (the run's seed seeds the task)
    variant, decay        a variant name (Variant.parse: [R]<neuron>[-soft|-noreset]); λ of the leaky ones, in [0, 1]
    neuron_params         further parameters of the variant's neuron model (e.g. ALIF's beta), {} = its defaults
    hidden                sizes of the spiking layers
    readout_decay         λ_o of the readout; None = the task's own (0 on memory tasks)
    train_stream          0: train on single samples; k >= 2: on streams of k samples, state carried over
    rate_reg              firing-rate regularisation strength (0 = none)
    epochs, batch_size, lr, seed, device   the optimisation (snnlib.measure.train.TrainConfig)
    patience              early stopping: stop after this many epochs without a better validation accuracy
                          (None: train every epoch); epochs is then the maximum
    measures              extra measurements, names from MEASURES
    measure_params        their settings (see each measure)

Every run keeps the weights of its epoch of best *validation* accuracy; the test split is read only to
measure, never to choose.

**Two stages.** A run is trained (:func:`train_group`, the code of :mod:`snnlib.study.training`) and then
measured (:func:`measure_group`, :mod:`snnlib.study.measuring`); :func:`run_group` is the one after the
other. The measuring stage also runs alone on weights stored in a record (:func:`measure_stored`), with
the same numbers as on the networks just trained, so a change to measurement code re-measures the
recorded runs without training them; :func:`trained_model` loads a recorded run's weights.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from snnlib.study import training as _training
from snnlib.study.config import Decay, Device, Hidden, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt
# the stages' functions, also reachable from here (as before the stages had modules of their own)
from snnlib.study.measuring import (MEASURES, audit_runs, audit_stacks, measure_audit,  # noqa: F401
                                    measure_generalization, measure_group, measure_run, measure_stream)
from snnlib.study.training import (TWIN_SEED_OFFSET, TrainedGroup, build_model, build_task,  # noqa: F401
                                   train_config, training_task, wants_twin)

_training_task, _wants_twin = training_task, wants_twin  # their former private names (snnlib.study.plan)


class RunParams(BaseModel):
    """The parameters of one training run, with their types and defaults (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    experiment: str = "adhoc"
    profile: str = "adhoc"
    task: str = "digits"
    task_params: dict[str, Any] = {}
    variant: str = "LIF"
    neuron_params: dict[str, Any] = {}
    decay: Decay = 0.5
    hidden: Hidden = [128]
    readout_decay: Decay | None = None
    train_stream: NonNegativeInt = 0
    rate_reg: NonNegativeFloat = 0.0
    epochs: PositiveInt = 20
    patience: PositiveInt | None = None
    batch_size: PositiveInt = 64
    lr: PositiveFloat = 3e-3
    seed: NonNegativeInt = 0
    device: Device = "auto"
    measures: list[str] = []
    measure_params: dict[str, Any] = {}

    @field_validator("variant")
    @classmethod
    def _variant(cls, value):
        from snnlib.model.variants import Variant

        return Variant.parse(value).name

    @field_validator("task")
    @classmethod
    def _task(cls, value):
        from snnlib.data.names import TASK_NAMES

        if value not in TASK_NAMES:
            raise ValueError(f"unknown task {value!r}; valid tasks are: {', '.join(TASK_NAMES)}")
        return value

    @field_validator("measures")
    @classmethod
    def _measures(cls, value):
        unknown = [m for m in value if m not in MEASURES]
        if unknown:
            raise ValueError(f"unknown measure(s) {unknown}; valid measures are: {', '.join(MEASURES)}")
        return value

    @field_validator("train_stream")
    @classmethod
    def _stream(cls, value):
        if value == 1:
            raise ValueError("train_stream must be 0 (single samples) or >= 2 (streams of that many samples), got 1")
        return value


DEFAULTS = {name: field.default for name, field in RunParams.model_fields.items()}


def validate(params: dict) -> dict:
    """Check every parameter of a run (without building any data); returns them completed with defaults.

    Raises ``ValueError`` naming the parameter and its allowed values.
    """
    from snnlib.data import check_task_params
    from snnlib.study.config import explain

    try:
        p = RunParams(**params).model_dump()
    except ValidationError as error:
        raise ValueError(explain(error, fields=list(RunParams.model_fields)).replace("parameter ", "run parameter ")) \
            from None
    except TypeError as error:
        raise ValueError(f"run parameters must be a dict of names to values: {error}") from None
    check_task_params(p["task"], p["task_params"])
    check_neuron_params(p["variant"], p["decay"], p["neuron_params"])
    return p


def neuron_options(neuron: str) -> list[str]:
    """The parameters neuron model ``neuron`` takes beyond those every model takes (size, decay, reset,
    threshold, detach_reset): what ``neuron_params`` may set, e.g. ``gain_normalised`` for LIF."""
    import inspect

    from snnlib.model import registry

    cls = registry.spec(neuron).dynamics_class()
    return [n for n in inspect.signature(cls.__init__).parameters
            if n not in ("self", "size", "decay", "reset", "threshold", "detach_reset")]


def check_neuron_params(variant: str, decay: float, neuron_params: dict) -> None:
    """Build the variant's neuron model once (one neuron) with ``neuron_params``: a parameter the model does
    not take, or a value it refuses, is a ``ValueError`` naming ``neuron_params`` before anything trains."""
    from snnlib.model import registry
    from snnlib.model.variants import Variant

    v = Variant.parse(variant)
    spec = registry.spec(v.neuron)
    cls = spec.dynamics_class()
    takes = neuron_options(v.neuron)
    unknown = [k for k in neuron_params if k not in takes]
    if unknown:
        raise ValueError(f"run parameter 'neuron_params': {v.neuron} takes {takes or 'no parameter'}, got {unknown}")
    try:
        cls(size=1, **{"decay": v.decay(decay), **neuron_params, **spec.fixed}, reset=v.reset)
    except (TypeError, ValueError) as error:
        raise ValueError(f"run parameter 'neuron_params' of {v.neuron}: {error}") from None


def group_key(params: dict) -> tuple:
    """What fixes the shape of a run's computation: runs with equal keys can train as one ensemble."""
    from snnlib.model.variants import Variant

    task_params = {k: v for k, v in params["task_params"].items() if k != "seed"}
    variant = Variant.parse(params["variant"])
    from snnlib.model import registry

    neuron_model = registry.spec(variant.neuron).dynamics  # one stacked neuron model per ensemble
    return (params["task"], repr(sorted(task_params.items())), tuple(params["hidden"]), variant.recurrent,
            str(neuron_model), repr(sorted(params["neuron_params"].items())), params["readout_decay"],
            params["train_stream"], params["epochs"], params["patience"], params["batch_size"], params["lr"],
            params["device"])


# --- the two stages: training (snnlib.study.training) and measuring (snnlib.study.measuring) ----------

def _validated_group(group: list[dict]) -> list[dict]:
    runs = [validate(p) for p in group]
    if len({group_key(p) for p in runs}) > 1:
        raise ValueError("the runs of a group must share task, task parameters, hidden sizes, recurrence, "
                         "readout, epochs, batch size, learning rate and device")
    return runs


def train_group(group: list[dict]) -> TrainedGroup:
    """The training stage of the runs of ``group`` (equal :func:`group_key`): validated, their tasks built,
    trained as one ensemble (audited runs with their twins). Returns a :class:`TrainedGroup` (runs, tasks,
    models, twins, histories, seconds) that :func:`measure_group` measures: ``measure_group(*trained)``."""
    start = time.perf_counter()
    runs = _validated_group(group)
    tasks = [build_task(p) for p in runs]
    return _training.train_group(runs, tasks, started=start)


def run_group(group: list[dict]) -> list[dict]:
    """Train the runs of ``group`` (equal :func:`group_key`) as one ensemble and measure each; returns
    one metrics dict per run, in order. Audited runs add their twin network to the ensemble."""
    return measure_group(*train_group(group))


def load_state(model, state: dict):
    """``model`` with the tensors of ``state`` (a ``state_dict``, e.g. read from a record) loaded, strictly:
    every name of ``model.state_dict()`` and no other."""
    model.load_state_dict(state, strict=True)
    return model


def stored_models(params: dict, task, state: dict, twin_state: dict | None = None) -> tuple:
    """``(model, twin)`` of a validated run rebuilt from stored ``state_dict``s (``twin``: ``None`` when the
    run has none); raises ``ValueError`` when the twin is missing or unexpected."""
    if wants_twin(params) != (twin_state is not None):
        raise ValueError(f"run {params['task']} seed {params['seed']}: stored weights "
                         f"{'lack' if twin_state is None else 'have'} a transfer twin, but its audit "
                         f"{'needs' if twin_state is None else 'has no use for'} one")
    model = load_state(build_model(params, task), state)
    twin = None
    if twin_state is not None:
        twin = load_state(build_model(params, task, seed=params["seed"] + TWIN_SEED_OFFSET), twin_state)
    return model, twin


def measure_stored(group: list[dict], states: list[tuple[dict, dict | None]], histories: list[dict],
                   seconds: list[float] | None = None) -> list[dict]:
    """The measuring stage alone, on stored weights: the metrics of the runs of ``group`` (one group) whose
    trained ``(state, twin_state)`` and training ``histories`` were recorded, exactly as :func:`run_group`
    measures them just trained; nothing is trained. ``seconds``: see :func:`measure_group`."""
    runs = _validated_group(group)
    tasks = [build_task(p) for p in runs]
    built = [stored_models(p, task, *pair) for p, task, pair in zip(runs, tasks, states)]
    return measure_group(runs, tasks, [m for m, _ in built], [t for _, t in built], histories, seconds)


def run(params: dict) -> dict:
    """Train and measure one network; returns its metrics (JSON-ready). The same as a group of one."""
    return run_group([params])[0]


def trained_model(params: dict, directory=None):
    """The trained network of a run, ``(task, model)`` (for figures that need the network itself).

    When the run has a record whose training is current (:func:`snnlib.study.records.stale_stage` is not
    ``"train"``) and whose weights file is intact, its weights are loaded, and nothing is trained;
    otherwise the network is trained now (and not recorded). ``directory``: where the records are
    (default :func:`snnlib.paths.records_dir`)."""
    from snnlib.measure.train import fit_members
    from snnlib.study import records

    p = records.canonical(params)
    task = build_task(p)
    record = records.load(records.canonical_key(p), directory)
    if record is not None and records.stale_stage(record) != "train":
        data = records.load_weights(record, directory)
        if data is not None:
            state, _ = records.weights_states(data)
            return task, load_state(build_model(p, task), state)
    model = build_model(p, task)
    fit_members([model], [training_task(p, task)], [train_config(p)])
    return task, model
