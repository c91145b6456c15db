"""When is a series too old to judge by? Policy for issue-2 scope; pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from tracker.sources.base import Point

# Daily prices: about two trading days, plus a weekend or a holiday.
DAILY_MAX_AGE = timedelta(days=4)
# Slower series (weekly, monthly, quarterly releases) may lag their period by this much.
RELEASE_LAG = timedelta(days=45)


def max_age(points: list[Point]) -> timedelta:
    """How old the newest point may be, from the series' own cadence."""
    gaps = [b.ts - a.ts for a, b in zip(points[-11:], points[-10:])]
    cadence = median(gaps) if gaps else timedelta(days=1)
    if cadence <= timedelta(days=1):
        return DAILY_MAX_AGE
    return 2 * cadence + RELEASE_LAG


def is_stale(points: list[Point], now: datetime) -> bool:
    return not points or now - points[-1].ts > max_age(points)
