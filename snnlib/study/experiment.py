"""One training run of the study, as a pure function of its parameters.

``run(params) -> metrics`` builds the task and the network, trains it, and measures it. Parameters
and metrics are plain JSON-ready dicts, so a run can be recorded (:mod:`snnlib.study.records`), keyed by
its parameters, and handed to any worker process (:mod:`snnlib.study.sweep`).

Parameters (``DEFAULTS`` gives the defaults; ``validate`` checks them all before any training)::

    experiment    name of the experiment the run belongs to (a label, part of the record key)
    profile       the profile the run was made for (a label, part of the record key)
    task          one of snnlib.data.TASKS;  task_params: that task's parameters (dict)
    variant       one of Variant.names();      decay: λ of the leaky variants, in [0, 1]
    hidden        sizes of the spiking layers;  readout_decay: λ_o of the readout
    epochs, batch_size, lr, seed, device        the optimisation (snnlib.measure.train.TrainConfig)
    measures      extra measurements, a list of names from MEASURES
    measure_params  their settings: epsilons, noise_levels, pgd_steps (robustness), delays
                  (generalization), stream_length (stream)
"""

from __future__ import annotations

import time

from snnlib.measure import attacks
from snnlib.measure import metrics as metrics_mod
from snnlib import data as tasks_mod
from snnlib.model.models import build_snn, check_sizes
from snnlib.model.neurons import check_decay
from snnlib.measure.train import TrainConfig, fit, resolve_device, seed_everything
from snnlib.model.variants import Variant

DEFAULTS = dict(experiment="adhoc", profile="adhoc", task="digits", task_params={}, variant="LIF", decay=0.5,
                hidden=[128], readout_decay=0.5, epochs=20, batch_size=64, lr=3e-3, seed=0, device="auto",
                measures=[], measure_params={})

# name -> function(model, task, params, test) -> dict of metrics, where ``test`` is the run's test-set
# measurement (snnlib.measure.metrics.measure); defined at the end of this module
MEASURES: dict = {}


def with_defaults(params: dict) -> dict:
    """``params`` completed with :data:`DEFAULTS`; unknown keys raise ``ValueError``."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown run parameter(s) {', '.join(map(repr, unknown))}; "
                         f"the run parameters are: {', '.join(DEFAULTS)}")
    full = {**DEFAULTS, **params}
    full["task_params"] = dict(full["task_params"])
    full["hidden"] = [full["hidden"]] if isinstance(full["hidden"], int) else list(full["hidden"])
    full["measures"] = list(full["measures"])
    full["measure_params"] = dict(full["measure_params"])
    return full


def train_config(params: dict) -> TrainConfig:
    return TrainConfig(epochs=params["epochs"], batch_size=params["batch_size"], lr=params["lr"],
                       seed=params["seed"], device=params["device"])


def validate(params: dict) -> dict:
    """Check every parameter of a run (without building any data); returns them completed with defaults."""
    p = with_defaults(params)
    tasks_mod.check_task(p["task"])
    tasks_mod.check_task_params(p["task"], p["task_params"])
    Variant.parse(p["variant"])
    check_decay(p["decay"])
    check_decay(p["readout_decay"])
    check_sizes("hidden", p["hidden"])
    train_config(p)
    unknown = [m for m in p["measures"] if m not in MEASURES]
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; valid measures are: {', '.join(MEASURES)}")
    return p


def build(params: dict):
    """The task and an untrained, seeded model of a (validated) run."""
    task = tasks_mod.get_task(params["task"], **{"seed": params["seed"], **params["task_params"]})
    seed_everything(params["seed"])
    model = build_snn(task.n_inputs, params["hidden"], task.n_classes, params["variant"], params["decay"],
                      readout_decay=params["readout_decay"])
    return task, model.to(resolve_device(params["device"]))


def run(params: dict, progress: bool = False) -> dict:
    """Train and measure one network; returns its metrics (JSON-ready)."""
    p = validate(params)
    start = time.perf_counter()
    task, model = build(p)
    history = fit(model, task.x_train, task.y_train, task.readout, train_config(p))
    test = metrics_mod.measure(model, task.x_test, task.y_test, task.readout, input_spikes=task.encoding == "spikes")
    train = metrics_mod.measure(model, task.x_train, task.y_train, task.readout)
    metrics = dict(test_accuracy=test["accuracy"], train_accuracy=train["accuracy"],
                   gap=metrics_mod.gap(train["accuracy"], test["accuracy"]), test_loss=test["loss"],
                   firing_rates=test["firing_rates"], firing_rate=test["firing_rate"], sparsity=test["sparsity"],
                   synops=test["synops"], final_train_loss=history[-1]["loss"], chance=task.chance)
    for name in p["measures"]:
        metrics.update(MEASURES[name](model, task, p, test))
    metrics["train_seconds"] = time.perf_counter() - start
    return metrics


def trained_model(params: dict):
    """Train a run's network and return ``(task, model)`` (for figures that need the network itself)."""
    p = validate(params)
    task, model = build(p)
    fit(model, task.x_train, task.y_train, task.readout, train_config(p))
    return task, model


# --- measurements beyond accuracy (the run parameter ``measures``) ------------------------------------
def measure_robustness(model, task, p, test) -> dict:
    """Accuracy under input noise (Gaussian on currents; deletion and insertion on spikes) at each of
    ``noise_levels``, and under FGSM and PGD (``pgd_steps`` steps) at each of ``epsilons``, on the test set.
    Attacked inputs are kept within the range the task's inputs take (train and test)."""
    mp = p["measure_params"]
    x, y, window = task.x_test, task.y_test, task.readout
    bounds = (min(task.x_train.min().item(), x.min().item()), max(task.x_train.max().item(), x.max().item()))
    noise = [row for kind in attacks.noise_for_encoding(task.encoding)
             for row in attacks.noise_curve(model, x, y, window, kind, mp.get("noise_levels", [0.0, 0.2]), seed=p["seed"])]
    attack = (attacks.robustness_curve(model, x, y, window, "fgsm", mp.get("epsilons", [0.0, 0.1]), bounds=bounds)
              + attacks.robustness_curve(model, x, y, window, "pgd", mp.get("epsilons", [0.0, 0.1]),
                                         seed=p["seed"], steps=mp.get("pgd_steps", 10), bounds=bounds))
    return dict(noise=noise, attack=attack)


def measure_generalization(model, task, p, test) -> dict:
    """Temporal generalization: test accuracy at every delay in ``delays`` (the trained delay included)
    of the same task with the same seed, read out over each task's own recall window."""
    if "delay" not in task.params:
        raise ValueError(f"measure 'generalization' needs a task with a delay, not {task.name!r}")
    rows = []
    for delay in p["measure_params"].get("delays", [task.params["delay"]]):
        other = tasks_mod.get_task(task.name, **{**task.params, "delay": delay})
        result = metrics_mod.temporal_generalization(model, other)
        rows.append(dict(delay=delay, accuracy=result["accuracy"]))
    return dict(generalization=rows)


def measure_efficiency(model, task, p, test) -> dict:
    """SynOps per sample of each spiking layer on the test set (input spikes included for spike inputs
    in the total ``synops``); firing rates, sparsity and total SynOps are among the main metrics."""
    return dict(layer_synops=test["layer_synops"])


def measure_stream(model, task, p, test) -> dict:
    """Uninterrupted processing: ``stream_length`` test samples fed back to back with no state reset;
    accuracy per stream position and the mean hidden membrane per segment (drift)."""
    k = p["measure_params"].get("stream_length", 4)
    stream = tasks_mod.make_stream(task, k, seed=p["seed"])
    accuracy = metrics_mod.stream_accuracy(model, stream.x, stream.y, stream.windows)
    drift = metrics_mod.membrane_drift(model, stream.x, k)
    return dict(stream_accuracy=accuracy, membrane_drift=drift[0])


MEASURES.update(robustness=measure_robustness, generalization=measure_generalization,
                efficiency=measure_efficiency, stream=measure_stream)
