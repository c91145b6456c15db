"""How numbers, times and scores read wherever tracker shows them: the command line
(tracker/cli/, `tracker show`) and the digest (tracker/digest/render.py), so a figure
reads the same in both. ``none`` is what stands for a missing value: the command line
writes a hyphen, the digest an en dash. Standard library only."""

from __future__ import annotations

from datetime import UTC, datetime

HYPHEN = "-"


def percent(fraction: float | None, none: str = HYPHEN) -> str:
    """A probability or a rate as a whole percentage: '62%'."""
    return none if fraction is None else f"{100 * fraction:.0f}%"


def number(value: float | None, none: str = HYPHEN) -> str:
    """A series value: '4,180.00' from 1 up, whole from 100,000 up ('164,600': payrolls,
    in thousands), four significant digits below 1: '0.0455'. Never in exponent form."""
    if value is None:
        return none
    if abs(value) >= 100_000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 else short(value)


def short(value: float) -> str:
    """A value in about four significant digits, for a chart's scale: '164,600', '6,846',
    '58.1', '0.0455'. Grouped by thousands, never in exponent form ('1.646e+05')."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.4g}"
    if "e" in text:  # below 0.0001
        text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text


def timestamp(moment: datetime | None, none: str = HYPHEN) -> str:
    """An instant in UTC, to the minute: '2026-11-25 15:00 UTC'."""
    return none if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def when(moment: datetime | None, none: str = HYPHEN) -> str:
    """An instant; only its date at midnight, where daily bars are stamped: '2026-09-25'."""
    if moment is not None and moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return timestamp(moment, none)


def n_of(n: int) -> str:
    """The number of calls behind a figure: '(n=4)'."""
    return f"(n={n})"


def record(right: int, wrong: int) -> str:
    """Right/wrong counts: '3/1'."""
    return f"{right}/{wrong}"


def brier(call: float | None, price: float | None, none: str = HYPHEN) -> str:
    """The calls' mean Brier score, then the price's: '0.25/0.18'."""
    return none if call is None or price is None else f"{call:.2f}/{price:.2f}"
