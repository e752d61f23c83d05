"""Parsing of the small value languages inside YAML strings: percentages, durations, dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

_PERCENT = re.compile(r"([-+]?)(0|[1-9][0-9]*)(\.[0-9]+)?\s*%")
_DURATION = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?\s*(s|min|h|d|w)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

SECONDS = {"s": Decimal(1), "min": Decimal(60), "h": Decimal(3600), "d": Decimal(86400), "w": Decimal(604800)}


@dataclass(frozen=True, order=True)
class Duration:
    """An exact elapsed time, in seconds."""

    seconds: Decimal

    def __str__(self) -> str:
        for unit in ("w", "d", "h", "min"):
            size = SECONDS[unit]
            if self.seconds and self.seconds % size == 0:
                return f"{self.seconds // size}{unit}"
        return f"{self.seconds}s"


class ValueProblem(ValueError):
    """A value that cannot be read; the message is for the user, the hint says how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def parse_percent(value: object, *, allow_above_one: bool = False, signed: bool = False) -> Decimal:
    """A fraction from ``25%`` or ``0.25``; a bare number above 1 is refused unless allowed."""
    if isinstance(value, bool) or value is None:
        raise ValueProblem(f"expected a percentage, found `{value}`", "write 25% or 0.25")
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        if abs(number) > 1 and not allow_above_one:
            raise ValueProblem(f"`{value}` is not a fraction", "write 25% or 0.25")
        if number < 0 and not signed:
            raise ValueProblem(f"`{value}` is negative", "write a value between 0% and 100%")
        return number
    if isinstance(value, str):
        match = _PERCENT.fullmatch(value.strip())
        if match:
            number = Decimal(value.strip().rstrip("%").strip()) / 100
            if number < 0 and not signed:
                raise ValueProblem(f"`{value}` is negative", "write a value between 0% and 100%")
            return number
    raise ValueProblem(f"`{value}` is not a percentage", "write 25% or 0.25")


def parse_duration(value: object) -> Duration:
    """A duration from ``30s``, ``15min``, ``4h``, ``3d`` or ``2w``."""
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match:
            number = Decimal(match.group(1) + (match.group(2) or ""))
            return Duration(number * SECONDS[match.group(3)])
        if re.fullmatch(r"[0-9.]+\s*m", value.strip()):
            raise ValueProblem(f"`{value}` is ambiguous", "write `min` for minutes (there is no `m`), e.g. 15min")
    raise ValueProblem(f"`{value}` is not a duration", "write a duration such as 30s, 15min, 4h, 3d or 2w")


def parse_date(value: object) -> date:
    """A calendar date from ``YYYY-MM-DD``."""
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueProblem(f"`{value}` is not a real date", "check the month and the day") from None
    raise ValueProblem(f"`{value}` is not a date", "write dates as YYYY-MM-DD, e.g. 2026-01-31")


def parse_quantity(value: object) -> Decimal | Duration:
    """A target point: a number, a percentage (as fraction) or a duration."""
    if isinstance(value, bool) or value is None:
        raise ValueProblem(f"expected a number, found `{value}`", "write a number, 80% or a duration like 4h")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if _PERCENT.fullmatch(text):
            return parse_percent(text, allow_above_one=True, signed=True)
        if _DURATION.fullmatch(text):
            return parse_duration(text)
        if re.fullmatch(r"[0-9.]+\s*m", text):
            return parse_duration(text)
    raise ValueProblem(f"`{value}` is not a number", "write a number, 80% or a duration like 4h")
