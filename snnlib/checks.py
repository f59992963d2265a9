"""Parameter checks shared by every module: each raises ``ValueError`` naming the parameter and the
values it allows, and returns the value in its canonical type."""

from __future__ import annotations

from numbers import Integral, Real


def check_int(name: str, value, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (``bool`` is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(name: str, value, low: float = 0.0, high: float = 1.0, open_low=False, open_high=False) -> float:
    """A number in ``[low, high]`` (or the open interval on either side)."""
    ok = isinstance(value, Real) and not isinstance(value, bool)
    ok = ok and (value > low if open_low else value >= low) and (value < high if open_high else value <= high)
    if not ok:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}")
    return float(value)


def check_choice(name: str, value, choices):
    """One of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value
