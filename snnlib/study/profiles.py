"""Profiles (DESIGN.md §6) as data: the default parameters of every experiment at every size.

``smoke``  CI and tests: every notebook in well under a minute on 2 CPU cores.
``quick``  the default: the whole study, results well above chance, at most 30 minutes on 2 cores.
``full``   paper-scale, meant for a GPU machine: more seeds, epochs and sweep points.

Each notebook's ``parameters`` cell names ``profile`` and leaves every other parameter ``None``;
``resolve(experiment, profile, **given)`` fills the ``None`` ones from here, so any parameter can be
overridden (``python -m snnlib run EXPERIMENT -p NAME VALUE``) and the rest follow the profile.
"""

from __future__ import annotations

from copy import deepcopy

from snnlib.checks import check_int

PROFILE_NAMES = ("smoke", "quick", "full")

_COMMON = {
    "smoke": dict(seeds=2, hidden=[32], batch_size=128, lr=3e-3, device="auto", workers=1),
    "quick": dict(seeds=5, hidden=[128], batch_size=64, lr=3e-3, device="auto", workers=2),
    "full": dict(seeds=10, hidden=[256], batch_size=64, lr=2e-3, device="auto", workers=1),
}

_EXPERIMENTS = {
    "01_dynamics_and_baseline": {
        "smoke": dict(decay=0.5, variants=["LIF", "IF", "LIF-noreset", "RLIF"], tasks=["digits", "delayed-recall"],
                      epochs={"digits": 2, "delayed-recall": 2}, delay=6, n_train=256, n_test=128),
        "quick": dict(decay=0.5, variants="all", tasks=["digits", "delayed-recall"],
                      epochs={"digits": 15, "delayed-recall": 30}, delay=6, n_train=1024, n_test=512),
        "full": dict(decay=0.5, variants="all", tasks=["digits", "delayed-recall"],
                     epochs={"digits": 40, "delayed-recall": 60}, delay=6, n_train=4096, n_test=1024),
    },
    "02_leakage": {  # C1: decay factor λ swept on delayed-recall (λ x delay) and on a second task
        "smoke": dict(decays=[0.0, 0.5, 1.0], delays=[0, 8], robust_delay=0, second_task="seq-digits",
                      epochs={"delayed-recall": 2, "seq-digits": 2}, n_train=256, n_test=128,
                      epsilons=[0.0, 0.1], noise_levels=[0.0, 0.2], pgd_steps=2),
        "quick": dict(decays=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0], delays=[0, 4, 8, 16], robust_delay=4,
                      second_task="seq-digits", epochs={"delayed-recall": 30, "seq-digits": 40},
                      n_train=1024, n_test=512, epsilons=[0.0, 0.02, 0.05, 0.1, 0.2],
                      noise_levels=[0.0, 0.1, 0.2, 0.4], pgd_steps=10),
        "full": dict(decays=[round(0.1 * i, 1) for i in range(11)], delays=[0, 2, 4, 8, 12, 16, 24, 32],
                     robust_delay=4, second_task="mnist1d", epochs={"delayed-recall": 60, "mnist1d": 60},
                     n_train=4096, n_test=1024, epsilons=[0.0, 0.01, 0.02, 0.05, 0.1, 0.2],
                     noise_levels=[0.0, 0.05, 0.1, 0.2, 0.3, 0.4], pgd_steps=20),
    },
    "03_reset": {  # C2, C3: hard / soft / no reset, with and without leak
        "smoke": dict(decay=0.5, variants=["LIF", "LIF-noreset", "IF", "IF-noreset"], tasks=["digits", "delayed-recall"],
                      stream_task="digits", stream_length=3, epochs={"digits": 2, "delayed-recall": 2},
                      delay=4, n_train=256, n_test=128),
        "quick": dict(decay=0.5, variants=["LIF", "LIF-soft", "LIF-noreset", "IF", "IF-soft", "IF-noreset"],
                      tasks=["digits", "delayed-recall"], stream_task="digits", stream_length=8,
                      epochs={"digits": 15, "delayed-recall": 30}, delay=4, n_train=1024, n_test=512),
        "full": dict(decay=0.5, variants=["LIF", "LIF-soft", "LIF-noreset", "IF", "IF-soft", "IF-noreset"],
                     tasks=["digits", "delayed-recall", "seq-digits"], stream_task="digits", stream_length=16,
                     epochs={"digits": 40, "delayed-recall": 60, "seq-digits": 40}, delay=4,
                     n_train=4096, n_test=1024),
    },
    "04_recurrence": {  # C4: feed-forward vs recurrent, leaky and not
        "smoke": dict(decay=0.5, variants=["LIF", "RLIF"], tasks=["temporal-xor", "seq-digits"],
                      epochs={"temporal-xor": 2, "seq-digits": 2, "mnist1d": 2}, n_train=256, n_test=128,
                      epsilons=[0.0, 0.1], noise_levels=[0.0, 0.2], pgd_steps=2),
        "quick": dict(decay=0.5, variants=["LIF", "RLIF", "IF", "RIF"], tasks=["temporal-xor", "mnist1d", "seq-digits"],
                      epochs={"temporal-xor": 20, "mnist1d": 30, "seq-digits": 40}, n_train=4000, n_test=1000,
                      epsilons=[0.0, 0.02, 0.05, 0.1, 0.2], noise_levels=[0.0, 0.1, 0.2, 0.4], pgd_steps=10),
        "full": dict(decay=0.5, variants=["LIF", "RLIF", "IF", "RIF", "LIF-noreset", "RLIF-noreset"],
                     tasks=["temporal-xor", "mnist1d", "seq-digits"],
                     epochs={"temporal-xor": 60, "mnist1d": 80, "seq-digits": 40}, n_train=4000, n_test=1000,
                     epsilons=[0.0, 0.01, 0.02, 0.05, 0.1, 0.2], noise_levels=[0.0, 0.05, 0.1, 0.2, 0.3, 0.4],
                     pgd_steps=20),
    },
    "05_summary": {"smoke": {}, "quick": {}, "full": {}},  # reads the records of 02 - 04
    "06_reproducibility": {"smoke": {}, "quick": {}, "full": {}},  # reads the executed notebooks
}

EXPERIMENTS = tuple(_EXPERIMENTS)


def check_profile(profile: str) -> None:
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles are: {', '.join(PROFILE_NAMES)}")


def check_experiment(experiment: str) -> None:
    if experiment not in _EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; valid experiments are: {', '.join(EXPERIMENTS)}")


def defaults(experiment: str, profile: str = "quick") -> dict:
    """All parameters of ``experiment`` under ``profile`` (a fresh copy)."""
    check_experiment(experiment)
    check_profile(profile)
    return deepcopy({**_COMMON[profile], **_EXPERIMENTS[experiment][profile]})


def resolve(experiment: str, profile: str = "quick", **given) -> dict:
    """The profile's parameters with every ``given`` value that is not ``None`` put in their place.

    A name the experiment does not take raises ``ValueError`` listing the ones it does.
    """
    params = defaults(experiment, profile)
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ValueError(f"experiment {experiment!r} has no parameter {', '.join(map(repr, unknown))}; "
                         f"its parameters are: profile, {', '.join(params)}")
    params.update({k: v for k, v in given.items() if v is not None})
    params["profile"] = profile
    return params


# --- value checks ------------------------------------------------------------------------------------
# Light on purpose (no torch): the command line checks every ``-p NAME VALUE`` with these before it
# executes a notebook, in well under a second. A name with no check here is passed through unchecked;
# the run-level checks (:func:`snnlib.study.experiment.validate`) still apply when the runs are built.
# ``resolve`` does not call them (a profile may name a task that is still being written); a notebook
# may call ``check_params(resolve(...))`` to check its resolved parameters.

def _task_names() -> tuple[str, ...]:
    """The task names of :data:`snnlib.data.TASKS`, read without importing torch when possible.

    ``snnlib.data`` imports torch and scikit-learn (seconds); its ``_BUILDERS`` dict literal is read
    from the source instead, and the module is imported only when that literal cannot be found.
    """
    import sys

    if "snnlib.data" in sys.modules:
        return tuple(sys.modules["snnlib.data"].TASKS)
    import ast
    from importlib.util import find_spec

    try:
        tree = ast.parse(open(find_spec("snnlib.data").origin, encoding="utf-8").read())
        for node in tree.body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
                node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(target, ast.Name) and target.id == "_BUILDERS" and isinstance(node.value, ast.Dict):
                names = tuple(ast.literal_eval(k) for k in node.value.keys)
                if names and all(isinstance(n, str) for n in names):
                    return names
    except Exception:  # any surprise: fall back to the real thing
        pass
    from snnlib.data import TASKS

    return tuple(TASKS)


def _int(minimum: int):
    def check(name, value):
        check_int(name, value, minimum)
    return check


def _positive_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


def _nonnegative_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must hold numbers >= 0, got {value!r}")


def _unit_interval(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1] (1 = no leakage), got {value!r}")


def _list_of(check, allow_single=True):
    def check_list(name, value):
        values = value if isinstance(value, (list, tuple)) else [value] if allow_single else None
        if not values:
            raise ValueError(f"{name} must be a non-empty list, got {value!r}")
        for v in values:
            check(name, v)
    return check_list


def _task(name, value):
    names = _task_names()
    if value not in names:
        raise ValueError(f"unknown task {value!r} in {name}; valid tasks are: {', '.join(names)}")


def _variant(name, value):
    from snnlib.model.variants import Variant

    if value not in Variant.names():
        raise ValueError(f"unknown variant {value!r} in {name}; valid variant names are: "
                         f"{', '.join(Variant.names())} (or 'all')")


def _variants(name, value):
    if value != "all" and value != ["all"]:
        _list_of(_variant)(name, value)


def _epochs(name, value):
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"{name} must be an integer >= 1 or a non-empty dict task -> integer >= 1")
        for task, epochs in value.items():
            _task(name, task)
            _int(1)(f"{name}[{task!r}]", epochs)
    else:
        _int(1)(name, value)


def _device(name, value):
    ok = isinstance(value, str) and (value in ("auto", "cpu", "cuda") or
                                     (value.startswith("cuda:") and value[5:].isdigit()))
    if not ok:
        raise ValueError(f"{name} must be one of 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}")


def _hidden(name, value):
    values = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, (list, tuple)) or not values or \
            not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in values):
        raise ValueError(f"{name} must be a positive integer or a non-empty list of them, got {value!r}")


def _profile(name, value):
    check_profile(value)


#: parameter name -> check(name, value) raising ValueError; shared by every experiment
PARAM_CHECKS = {
    "profile": _profile,
    "seeds": _int(1), "seed": _int(0), "workers": _int(1),
    "n_train": _int(1), "n_test": _int(1), "batch_size": _int(1),
    "epochs": _epochs, "lr": _positive_number, "device": _device, "hidden": _hidden,
    "task": _task, "tasks": _list_of(_task),
    "variant": _variant, "variants": _variants,
    "delay": _int(0), "delays": _list_of(_int(0)),
    "decay": _unit_interval, "decays": _list_of(_unit_interval), "readout_decay": _unit_interval,
    "robust_delay": _int(0), "second_task": _task, "stream_task": _task, "stream_length": _int(1),
    "epsilons": _list_of(_nonnegative_number), "noise_levels": _list_of(_nonnegative_number), "pgd_steps": _int(1),
}


def check_params(params: dict) -> None:
    """Check the value of every parameter in ``params`` that :data:`PARAM_CHECKS` knows (``None`` means
    "from the profile" and passes); raises ``ValueError`` naming the parameter and its allowed values."""
    for name, value in params.items():
        if value is not None and name in PARAM_CHECKS:
            PARAM_CHECKS[name](name, value)
