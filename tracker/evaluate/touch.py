"""When did a series first reach a level? A day's high or low counts where the source
gives it (a wick counts); the close otherwise. Results say which was used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from statistics import median

from tracker.points import Point

# How long after a deadline data may take to arrive before we call it without them.
DEADLINE_GRACE_DAYS = 4


@dataclass(frozen=True)
class Touch:
    point: Point
    price: float  # the high, low or close that reached the level
    used: str  # "high", "low" or "close"

    @property
    def day(self) -> date:
        return self.point.ts.date()


def reaches(point: Point, level: float, above: bool) -> Touch | None:
    if above:
        price, used = (point.high, "high") if point.high is not None else (point.value, "close")
        price = max(price, point.value)
        return Touch(point, price, used) if price >= level else None
    price, used = (point.low, "low") if point.low is not None else (point.value, "close")
    price = min(price, point.value)
    return Touch(point, price, used) if price <= level else None


def first_touch(points: list[Point], level: float, above: bool) -> Touch | None:
    for point in points:
        touch = reaches(point, level, above)
        if touch:
            return touch
    return None


def covers(points: list[Point], deadline: date) -> bool:
    """Do the data reach the deadline? A daily series may stop a weekend or holiday
    short of it; a monthly or quarterly one a whole period short (its last observation
    is dated at the start of the period that holds the deadline)."""
    if not points:
        return False
    gaps = [(b.ts - a.ts).days for a, b in zip(points[-11:], points[-10:])]
    grace = max(DEADLINE_GRACE_DAYS, median(gaps)) if gaps else DEADLINE_GRACE_DAYS
    return (deadline - points[-1].ts.date()).days <= grace


def describe(touch: Touch, show: Callable[[float], str]) -> str:
    """'$44.50 (day's low) on 2026-03-02', the price as ``show`` prints it."""
    how = "close" if touch.used == "close" else f"day's {touch.used}"
    return f"{show(touch.price)} ({how}) on {touch.day.isoformat()}"
