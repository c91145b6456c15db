"""When is a series too old to judge by? Pure functions, with only the standard library
(the quick `tracker series --json` path uses them too).

Two tests, either one makes a series stale: its newest point is older than its own
cadence allows (about two trading days for daily prices, a release period and its lag for
monthly and quarterly data), or its source was asked since the series was last refreshed
and it has not been refreshed for three poll intervals (a source or symbol failing).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: importing dataclasses would slow the quick path
    from tracker.sources.base import Point

RECENT = 12  # newest points read to judge a series (max_age looks at the last 11)
# Daily prices: about two trading days, plus a weekend or a holiday.
DAILY_MAX_AGE = timedelta(days=4)
# Slower series (weekly, monthly, quarterly releases) may lag their period by this much.
RELEASE_LAG = timedelta(days=45)


def max_age(points: list[Point]) -> timedelta:
    """How old the newest point may be, from the series' own cadence."""
    recent = points[-11:]
    gaps = [b.ts - a.ts for a, b in pairwise(recent)]  # the last 10 gaps, or fewer
    cadence = median(gaps) if gaps else timedelta(days=1)
    if cadence <= timedelta(days=1):
        return DAILY_MAX_AGE
    return 2 * cadence + RELEASE_LAG


def is_stale(points: list[Point], now: datetime) -> bool:
    return not points or now - points[-1].ts > max_age(points)


FETCH_INTERVALS = 3  # poll intervals a series may go without a refresh


def fetch_overdue(
    last_fetch: datetime | None, last_attempt: datetime | None, now: datetime, interval: timedelta
) -> bool:
    """Not refreshed for FETCH_INTERVALS polls although its source was asked since. (A
    daemon that was simply not running has not asked, so a restart does not flag
    everything stale before its first poll.)"""
    if last_fetch is None or last_attempt is None or last_attempt <= last_fetch:
        return False
    return now - last_fetch > FETCH_INTERVALS * interval


def series_stale(
    recent: list[Point], now: datetime, last_fetch: datetime | None = None,
    last_attempt: datetime | None = None, interval: timedelta | None = None,
) -> bool:
    """Both tests: ``recent`` is the series' newest points (a dozen show its cadence);
    the fetch test applies when the source's poll ``interval`` is known."""
    if is_stale(recent, now):
        return True
    return interval is not None and fetch_overdue(last_fetch, last_attempt, now, interval)
