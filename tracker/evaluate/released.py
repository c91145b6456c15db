"""Shared by ``level`` and ``estimate``: the number a series releases for one period.

A point of a macro series is stamped 00:00 UTC of its observation date (the period start
for monthly, quarterly and annual data), so the number for ``on`` is released once a point
dated ``on`` exists. Stored points are the latest revision, so that point is read as is.
Until then the latest released value stands in for it (a nowcast).
"""

from __future__ import annotations

from datetime import date

from tracker.evaluate import guards
from tracker.evaluate.result import SeriesInput
from tracker.points import Point
from tracker.units import plain as number


def signed(x: float) -> str:
    """A difference: +0.1, -0.4, 0.0."""
    return ("+" if round(x, 3) > 0 else "") + number(x)


def span(low: float, high: float) -> str:
    """A range: 2.5-3.0, or -1.0 to 0.5 when a dash would read as a minus sign."""
    return f"{number(low)}{' to ' if min(low, high) < 0 else '-'}{number(high)}"


def within(value: float, low: float, high: float) -> bool:
    """low <= value <= high, both ends included, forgiving float noise in bounds computed
    as value +- tolerance (2.4 + 0.3 is 2.6999999999999997)."""
    eps = 1e-9 * max(1.0, abs(low), abs(high))
    return low - eps <= value <= high + eps


def point_on(series: SeriesInput, on: date) -> Point | None:
    """The point released for the period ``on``, if any."""
    found = [p for p in series.points if p.ts.date() == on]
    return found[-1] if found else None


def period(day: date, points: list[Point]) -> str:
    """How people name the period starting ``day``, judged by the series' own dates:
    2026 in an annual series, 2026Q3 in a quarterly one, 2026-07 in a monthly one, else
    the date itself."""
    dates = [p.ts.date() for p in points]
    if len(dates) < 2 or any(d.day != 1 for d in dates) or day.day != 1:
        return day.isoformat()
    months = {d.month for d in dates}
    if months == {1} and day.month == 1:
        return str(day.year)
    if months <= {1, 4, 7, 10} and day.month in (1, 4, 7, 10):
        return f"{day.year}Q{(day.month + 2) // 3}"
    return f"{day:%Y-%m}"


def unavailable(series: SeriesInput, on: date) -> str | None:
    """Why there is no nowcast for a period not yet released (None when there is one)."""
    if why := guards.why_empty(series):
        return why
    last = series.points[-1]
    if last.ts.date() > on:
        return (
            f"{series.name} has no value dated {on}, though it has later ones (latest for "
            f"{period(last.ts.date(), series.points)}): is {on} an observation date of it?"
        )
    return guards.why_stale(series)


def nowcast(series: SeriesInput, on: date, needs: str) -> str:
    """'<series>: 2026 not released yet; latest 4.3 for 2025 (needs >= 5.0)'."""
    last = series.points[-1]
    return (
        f"{series.name}: {period(on, series.points)} not released yet; latest "
        f"{series.show(last.value)} for {period(last.ts.date(), series.points)} ({needs})"
    )
