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

PROFILE_NAMES = ("smoke", "quick", "full")

_COMMON = {
    "smoke": dict(seeds=2, hidden=[32], decay=0.5, batch_size=128, lr=3e-3, device="auto", workers=1),
    "quick": dict(seeds=3, hidden=[128], decay=0.5, batch_size=64, lr=3e-3, device="auto", workers=1),
    "full": dict(seeds=10, hidden=[256], decay=0.5, batch_size=64, lr=2e-3, device="auto", workers=1),
}

_EXPERIMENTS = {
    "01_dynamics_and_baseline": {
        "smoke": dict(variants=["LIF", "IF", "LIF-noreset", "RLIF"], tasks=["digits", "delayed-recall"],
                      epochs={"digits": 2, "delayed-recall": 2}, delay=6, n_train=256, n_test=128),
        "quick": dict(variants="all", tasks=["digits", "delayed-recall"],
                      epochs={"digits": 15, "delayed-recall": 30}, delay=6, n_train=1024, n_test=512),
        "full": dict(variants="all", tasks=["digits", "delayed-recall"],
                     epochs={"digits": 40, "delayed-recall": 60}, delay=6, n_train=4096, n_test=1024),
    },
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
