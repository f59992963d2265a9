"""The model variants of the study and their canonical names.

A variant is one cell of the factorial design neuron x reset x recurrence::

    neuron     a registered neuron model: "LIF", "IF" (LIF with λ = 1), or any registered name
    reset      {"hard", "soft", "none"} -> "" / "-soft" / "-noreset"
    recurrent  {False, True}            -> "" / leading "R"

so ``Variant("LIF", "hard", recurrent=True).name == "RLIF"`` and
``Variant.parse("RIF-noreset") == Variant("IF", "none", True)``. The study's twelve variants are the
``LIF`` / ``IF`` family (:meth:`Variant.all`); every registered neuron model
(:mod:`snnlib.model.registry`) takes the same name forms, e.g. ``RPLIF`` or ``ALIF-soft``.
One function prints a name (:attr:`Variant.name`) and one parses it (:meth:`Variant.parse`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from snnlib.model import registry

#: the reset modes and their name suffixes (the reset equations: :func:`snnlib.model.dynamics.reset_membrane`)
RESETS = ("hard", "soft", "none")
_RESET_SUFFIX = {"hard": "", "soft": "-soft", "none": "-noreset"}
#: the neuron models of the paper's factorial design
STUDY_NEURONS = ("LIF", "IF")


@dataclass(frozen=True)
class Variant:
    """One combination of neuron model, reset and recurrence."""

    neuron: str = "LIF"
    reset: str = "hard"
    recurrent: bool = False

    def __post_init__(self):
        registry.spec(self.neuron)
        if self.reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {self.reset!r}")

    @property
    def leak(self) -> bool:
        """Whether λ is a free parameter (``False`` for ``IF``: no leakage, λ = 1)."""
        return registry.spec(self.neuron).leaky

    def decay(self, decay: float) -> float:
        """The λ this variant runs at when the design asks for ``decay``: ``decay`` itself for leaky
        models, the fixed value of the name otherwise (``IF``: 1)."""
        return float(registry.spec(self.neuron).fixed.get("decay", decay))

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``LIF``, ``IF-soft``, ``RLIF-noreset``, ``RALIF-soft``."""
        return ("R" if self.recurrent else "") + self.neuron + _RESET_SUFFIX[self.reset]

    def __str__(self) -> str:
        return self.name

    def with_recurrence(self, recurrent: bool) -> Variant:
        """The same neuron and reset, feed-forward or recurrent."""
        return Variant(self.neuron, self.reset, recurrent)

    @classmethod
    def all(cls) -> list[Variant]:
        """The study's twelve variants, feed-forward before recurrent, leaky before not, reset hard/soft/none."""
        return [cls(neuron, reset, rec) for rec, neuron, reset in product((False, True), STUDY_NEURONS, RESETS)]

    @classmethod
    def names(cls) -> list[str]:
        """The twelve canonical names of the study, in the order of :meth:`all`."""
        return [v.name for v in cls.all()]

    @classmethod
    def parse(cls, name: str | Variant) -> Variant:
        """The variant called ``name`` (``[R]<neuron>[-soft|-noreset]``); ``ValueError`` listing the
        valid forms otherwise."""
        if isinstance(name, Variant):
            return name
        if isinstance(name, str):
            base, reset = name, "hard"
            for mode, suffix in _RESET_SUFFIX.items():
                if suffix and name.endswith(suffix):
                    base, reset = name[: -len(suffix)], mode
            recurrent = base.startswith("R")
            neuron = base[1:] if recurrent else base
            if neuron in registry.names():
                return cls(neuron, reset, recurrent)
        raise ValueError(f"unknown variant {name!r}; a variant name is [R]<neuron>[-soft|-noreset] with a "
                         f"registered neuron ({', '.join(registry.names())}), e.g. {', '.join(cls.names())}")


def parse_variants(names) -> list[Variant]:
    """Parse a list of names (or the string ``"all"``) into variants, failing on the first bad one."""
    if names == "all" or names == ["all"]:
        return Variant.all()
    if isinstance(names, str):
        names = [names]
    return [Variant.parse(n) for n in names]
