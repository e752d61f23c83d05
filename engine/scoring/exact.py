"""The decimal context of scoring and money, the conversions into it, and exact allocation.

Every public function of ``kpi_engine.scoring`` runs inside :data:`CONTEXT` (see :func:`in_context`):
40 significant digits, half-even, and the traps that turn silent mistakes into exceptions —
``FloatOperation`` above all, so ``Decimal(0.1)`` or ``Decimal("1") < 1.5`` raise instead of
letting a binary float into a score or a payout. Sums and products that must be exact (weights,
contributions, pool totals) run in :data:`EXACT`, which also traps ``Inexact``: if one ever had
to round, that is a bug, and it raises rather than losing a cent.

Divisions are the only place where rounding happens before the final money rounding; they run in
:data:`CONTEXT` and keep 40 significant digits, far beyond the 12 digits any output shows.
Allocation (pools, renormalized weights) is done on exact rationals (``fractions.Fraction`` built
from the decimals, never from floats), so remainders and their ties are compared exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import (
    ROUND_HALF_EVEN,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

PRECISION = 40
SIGNIFICANT_DIGITS = 12
_TRAPS = [InvalidOperation, DivisionByZero, Overflow, FloatOperation, Clamped]

CONTEXT = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999, traps=_TRAPS)
"""Where scoring and money run: divisions round half-even to 40 significant digits."""

EXACT = Context(prec=200, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999, traps=[*_TRAPS, Inexact])
"""For sums and products that must not round: any rounding raises ``decimal.Inexact``."""

TWELVE = Context(prec=SIGNIFICANT_DIGITS, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999, traps=_TRAPS)
"""Rounds to the 12 significant digits values are compared and reported at (``TWELVE.plus(x)``)."""
_ZERO = Decimal(0)

P = ParamSpec("P")
R = TypeVar("R")
K = TypeVar("K", bound="SupportsRichComparison")
RoundingMode = Literal["half_up", "half_even"]


def in_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` inside :data:`CONTEXT`, whatever context the caller has."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(CONTEXT):
            return fn(*args, **kwargs)

    return wrapper


def as_decimal(x: Decimal | int, name: str = "value") -> Decimal:
    """``x`` as a finite Decimal; a float raises ``decimal.FloatOperation``, other types ``TypeError``."""
    if type(x) is Decimal:  # the common case, checked first: scoring calls this for every row
        if not x.is_finite():
            raise ValueError(f"{name} must be finite, not {x}")
        return x
    if isinstance(x, bool) or not isinstance(x, (Decimal, int, float)):
        raise TypeError(f"{name} must be a Decimal or an int, not {type(x).__name__}")
    with localcontext(CONTEXT):
        # For a float this raises FloatOperation: the trap, not a type check, is the guard, so
        # the same rule holds for a float that reaches any Decimal operation further in.
        number = Decimal(x)
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, not {number}")
    return number


def to_decimal12(x: float | Decimal | int) -> Decimal:
    """``x`` rounded to 12 significant digits (half-even) as a Decimal: the one door for floats.

    A float is rounded from its exact binary value (``format(x, ".12g")``), so the share 6/10
    computed in floating point becomes exactly ``0.6``.
    """
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"value must be finite, not {x}")
        text = format(x, ".12g")
        if "e" not in text and text != "-0":
            return Decimal(text)  # "g" already drops trailing zeros: nothing for tidy() to do
        rounded = Decimal(text)
    else:
        rounded = TWELVE.plus(as_decimal(x))
    return tidy(rounded)  # 0.60 → 0.6, and never a "-0"


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of decimals (raises ``decimal.Inexact`` rather than round)."""
    with localcontext(EXACT):
        return sum((as_decimal(v) for v in values), Decimal(0))


def exact_product(*values: Decimal) -> Decimal:
    """The exact product of decimals (raises ``decimal.Inexact`` rather than round)."""
    with localcontext(EXACT):
        result = Decimal(1)
        for v in values:
            result *= as_decimal(v)
        return result


def tidy(x: Decimal) -> Decimal:
    """The same number without trailing zeros after the point: 0.250000 → 0.25, 0E-30 → 0, 100 stays 100."""
    reduced = x.normalize(context=EXACT)
    if reduced.adjusted() <= 0:  # |x| < 10 or zero: the exponent is not positive (the usual case)
        return reduced if reduced else _ZERO  # never a "-0"
    exponent = reduced.as_tuple().exponent
    return reduced.quantize(Decimal(1), context=EXACT) if isinstance(exponent, int) and exponent > 0 else reduced


def round_fraction(q: Fraction, mode: RoundingMode) -> int:
    """An exact rational rounded to an integer: half away from zero, or half to even."""
    if mode == "half_even":
        return round(q)  # Fraction.__round__ is exact banker's rounding
    if mode == "half_up":
        magnitude = math.floor(abs(q) + Fraction(1, 2))
        return magnitude if q >= 0 else -magnitude
    raise ValueError(f"unknown rounding mode `{mode}`; use half_up or half_even")


def largest_remainder(total: Decimal, weights: Mapping[K, Decimal], unit: Decimal) -> dict[K, Decimal]:
    """Split ``total`` in proportion to ``weights`` in multiples of ``unit``, summing to ``total`` exactly.

    Each share is floored to the unit; the units left over go one each to the largest remainders,
    ties to the lower key. All weights 0 → every amount 0. The total must be a non-negative
    multiple of the unit and every weight non-negative.
    """
    total, unit = as_decimal(total, "total"), as_decimal(unit, "unit")
    if unit <= 0:
        raise ValueError(f"the rounding unit must be positive, not {unit}")
    if total < 0:
        raise ValueError(f"the amount to split must not be negative, not {total}")
    units = Fraction(total) / Fraction(unit)
    if units.denominator != 1:
        raise ValueError(f"{total} is not a whole number of {unit}")
    exact = {key: as_decimal(w, f"weight of {key}") for key, w in weights.items()}
    if any(w < 0 for w in exact.values()):
        raise ValueError("weights must not be negative")
    # Integer arithmetic on the weights scaled to a common number of decimals: the quotas are
    # units × Wᵢ / ΣW, so floors and remainders (all over the same ΣW) are exact and fast.
    places = max((max(0, -int(w.as_tuple().exponent)) for w in exact.values()), default=0)
    scaled = {key: int(w.scaleb(places, context=EXACT)) for key, w in exact.items()}
    whole = sum(scaled.values())
    if whole == 0:
        return {key: _times(0, unit) for key in weights}
    counts: dict[K, int] = {}
    remainders: dict[K, int] = {}
    for key, w in scaled.items():
        counts[key], remainders[key] = divmod(int(units) * w, whole)
    left = int(units) - sum(counts.values())
    for key in sorted(scaled, key=lambda key: (-remainders[key], key))[:left]:
        counts[key] += 1
    return {key: _times(counts[key], unit) for key in weights}


def _times(count: int, unit: Decimal) -> Decimal:
    digits = unit.as_tuple()
    if digits.digits == (1,) and isinstance(digits.exponent, int):  # a power of ten: shift, don't multiply
        return Decimal((0 if count >= 0 else 1, tuple(int(c) for c in str(abs(count))), digits.exponent))
    with localcontext(EXACT):
        return Decimal(count) * unit
