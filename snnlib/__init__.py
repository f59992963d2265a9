"""snnlib: leakage, reset and recurrence in leaky integrate-and-fire networks.

The package is grouped by role:

- :mod:`snnlib.model` -- variant names, the neuron node, layers and networks;
- :mod:`snnlib.data` -- the tasks;
- :mod:`snnlib.measure` -- training, metrics, attacks and the robustness audit, untrained dynamics;
- :mod:`snnlib.analysis` -- statistics, claims and verdicts, report tables, figures;
- :mod:`snnlib.study` -- the experiment declarations, one run, records, sweeps and ensembles;
- :mod:`snnlib.cli` and :mod:`snnlib.paths`.

The public API, stable from one version to the next, is exported here::

    Variant, VariantNode, build_snn, get_task, run, trained_model, run_grid, audit, code_fingerprint,
    NeuronDynamics, register_neuron

Names are loaded on first use (PEP 562), so ``import snnlib`` -- and the command line -- start without
importing torch. Tensor layout throughout: time first, ``[T, B, features]``.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

#: public name -> the module that defines it
_API = {
    "Variant": "snnlib.model.variants",
    "VariantNode": "snnlib.model.neurons",
    "build_snn": "snnlib.model.models",
    "get_task": "snnlib.data",
    "run": "snnlib.study.experiment",
    "trained_model": "snnlib.study.experiment",
    "run_grid": "snnlib.study.sweep",
    "audit": "snnlib.measure.audit",
    "code_fingerprint": "snnlib.study.fingerprint",
    "NeuronDynamics": "snnlib.model.dynamics",
    "register_neuron": "snnlib.model.dynamics",
}
__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'snnlib' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
