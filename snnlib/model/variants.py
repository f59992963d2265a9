"""The twelve model variants of the study and their canonical names.

A variant is one cell of the factorial design leak x reset x recurrence::

    leak       {True, False}          -> "LIF" / "IF"
    reset      {"hard", "soft", "none"} -> "" / "-soft" / "-noreset"
    recurrent  {False, True}          -> "" / leading "R"

so ``Variant(leak=True, reset="hard", recurrent=True).name == "RLIF"`` and
``Variant.parse("RIF-noreset") == Variant(leak=False, reset="none", recurrent=True)``.
One function prints a name (:attr:`Variant.name`) and one parses it (:meth:`Variant.parse`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

RESETS = ("hard", "soft", "none")
_RESET_SUFFIX = {"hard": "", "soft": "-soft", "none": "-noreset"}


@dataclass(frozen=True)
class Variant:
    """One combination of leak, reset and recurrence."""

    leak: bool = True
    reset: str = "hard"
    recurrent: bool = False

    def __post_init__(self):
        if self.reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {self.reset!r}")

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``LIF``, ``IF-soft``, ``RLIF-noreset``."""
        return ("R" if self.recurrent else "") + ("LIF" if self.leak else "IF") + _RESET_SUFFIX[self.reset]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def all(cls) -> list[Variant]:
        """The twelve variants, feed-forward before recurrent, leaky before not, reset hard/soft/none."""
        return [cls(leak, reset, rec) for rec, leak, reset in product((False, True), (True, False), RESETS)]

    @classmethod
    def names(cls) -> list[str]:
        """The twelve canonical names, in the order of :meth:`all`."""
        return [v.name for v in cls.all()]

    @classmethod
    def parse(cls, name: str | Variant) -> Variant:
        """The variant called ``name``; raises ``ValueError`` listing the valid names otherwise."""
        if isinstance(name, Variant):
            return name
        for variant in cls.all():
            if variant.name == name:
                return variant
        raise ValueError(f"unknown variant {name!r}; valid variant names are: {', '.join(cls.names())}")


def parse_variants(names) -> list[Variant]:
    """Parse a list of names (or the string ``"all"``) into variants, failing on the first bad one."""
    if names == "all" or names == ["all"]:
        return Variant.all()
    if isinstance(names, str):
        names = [names]
    return [Variant.parse(n) for n in names]
