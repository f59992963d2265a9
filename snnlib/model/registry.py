"""The registry of neuron models, by name (torch-free, so that names parse without importing torch).

A neuron model is a :class:`~snnlib.model.dynamics.NeuronDynamics` subclass. Each registered name maps to
that class and to the parameters the name fixes: ``IF`` is the ``LIF`` dynamics with ``decay = 1`` (no
leakage), the one place where "non-leaky means λ = 1" is written. A name whose entry fixes no decay is
*leaky*: its runs are swept over λ. Built-in models are registered by import path, so this module never
imports torch; :func:`snnlib.model.dynamics.register_neuron` adds one by class.

Every registered name takes the variant name forms of :class:`~snnlib.model.variants.Variant`:
``R<name>`` (recurrent), ``<name>-soft`` and ``<name>-noreset``. A name may therefore not start with
``R`` nor contain ``-``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class NeuronSpec:
    """A registered neuron name: its dynamics class (or ``"module:Class"``) and the parameters it fixes."""

    name: str
    dynamics: object
    fixed: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def leaky(self) -> bool:
        """Whether λ is a free parameter of this name (``False`` where the name fixes ``decay``)."""
        return "decay" not in self.fixed

    def dynamics_class(self):
        """The :class:`~snnlib.model.dynamics.NeuronDynamics` subclass (imported on first use)."""
        if isinstance(self.dynamics, str):
            module, cls = self.dynamics.split(":")
            return getattr(importlib.import_module(module), cls)
        return self.dynamics


_NAME = re.compile(r"^[A-QS-Z][A-Za-z0-9]*$")
_NEURONS: dict[str, NeuronSpec] = {}


def add(name: str, dynamics, fixed: dict | None = None) -> NeuronSpec:
    """Register ``name`` (see :func:`snnlib.model.dynamics.register_neuron` for the checked public form)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"neuron name must be letters and digits, start with an upper-case letter other than "
                         f"'R' (R<name> is the recurrent form) and contain no '-', got {name!r}")
    spec = NeuronSpec(name, dynamics, MappingProxyType(dict(fixed or {})))
    _NEURONS[name] = spec
    return spec


def spec(name: str) -> NeuronSpec:
    """The registered neuron ``name``; ``ValueError`` listing the registered names otherwise."""
    if name not in _NEURONS:
        raise ValueError(f"unknown neuron model {name!r}; registered neuron models are: {', '.join(_NEURONS)}")
    return _NEURONS[name]


def names() -> list[str]:
    """The registered neuron names, in registration order (the built-ins first)."""
    return list(_NEURONS)


# The built-in models. IF is LIF without leakage: λ = 1, the only definition of "non-leaky".
add("LIF", "snnlib.model.dynamics:LIF")
add("IF", "snnlib.model.dynamics:LIF", fixed={"decay": 1.0})
add("PLIF", "snnlib.model.plif:PLIF")
add("ALIF", "snnlib.model.alif:ALIF")
