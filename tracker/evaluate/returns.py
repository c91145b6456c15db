"""Returns from a start date, for the relative kinds (outperform, rank). Pure functions.

A return runs from the close on or before ``start`` (the last point dated on or before
it) to the latest point while the prediction is open, or to the close on or before the
deadline once the deadline has passed. An equal-weight basket's return is the mean of
its members' simple returns (rebalanced to equal weights at the start, not thereafter).

``legs`` checks that every series can give a return and says which cannot;
``common_log_returns`` lines several series up on the dates they all have, for the
probability models.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tracker.evaluate import guards
from tracker.evaluate.result import SeriesInput
from tracker.evaluate.touch import covers
from tracker.points import Point

DAYS_PER_YEAR = 365.25


def close_on_or_before(points: Sequence[Point], day: date) -> Point | None:
    """The last point dated on or before ``day`` (points in time order)."""
    i = _through(points, day)
    return points[i - 1] if i else None


def _through(points: Sequence[Point], day: date) -> int:
    """How many points are dated on or before ``day`` (points in time order)."""
    return bisect_right(points, day, key=lambda p: p.ts.date())


def simple_return(base: float, end: float) -> float:
    return end / base - 1.0


def equal_weight(returns: Sequence[float]) -> float:
    """An equal-weight basket's return: the mean of its members' simple returns."""
    return sum(returns) / len(returns)


@dataclass(frozen=True)
class Leg:
    """One series' return over the prediction's window."""

    series: SeriesInput
    base: Point  # the close on or before start
    end: Point  # the latest point, or the close on or before the deadline

    @property
    def ret(self) -> float:
        return simple_return(self.base.value, self.end.value)

    @property
    def log_ret(self) -> float:
        return math.log(self.end.value / self.base.value)

    def record(self) -> dict:
        """The two closes used, for an evaluation's ``inputs``."""
        return {
            "from": [self.base.ts.date().isoformat(), self.base.value],
            "to": [self.end.ts.date().isoformat(), self.end.value],
        }


def legs(
    series: Sequence[SeriesInput], start: date, deadline: date, now: datetime
) -> tuple[dict[str, Leg], str | None]:
    """Each series' leg, or (partial legs, why there is no data) when any series has no
    points, no positive close on or before ``start``, is stale while the prediction is
    open, or stops short of the deadline once it has passed. Every series at fault is
    named, not just the first."""
    past_deadline = now.date() > deadline
    found: dict[str, Leg] = {}
    problems: list[str] = []
    short: list[str] = []
    for s in series:
        if why := guards.why_empty(s):
            problems.append(why)
            continue
        base = close_on_or_before(s.points, start)
        if base is None:
            problems.append(
                f"{s.name} has no close on or before the start {start} "
                f"(first point {s.points[0].ts.date()})"
            )
            continue
        if base.value <= 0:
            problems.append(f"{s.name} closed at {base.value:g} on {base.ts.date()}: no return")
            continue
        end = close_on_or_before(s.points, deadline)  # not None: base is on or before it
        if past_deadline and not covers(s.points[:_through(s.points, deadline)], deadline):
            short.append(s.name)
            continue
        if not past_deadline and (why := guards.why_stale(s)):
            problems.append(why)
            continue
        if end.value <= 0:
            problems.append(f"{s.name} closed at {end.value:g} on {end.ts.date()}: no return")
            continue
        found[s.series_id] = Leg(s, base, end)
    if short:
        problems.append(guards.data_stop(deadline, short))
    return found, "; ".join(problems) or None


@dataclass(frozen=True)
class CommonReturns:
    """Log returns of several series between consecutive dates they all have."""

    dates: list[date]  # the common dates; one more than there are rows
    rows: list[tuple[float, ...]]  # per step: each series' log return, in the order given
    years: list[float]  # per step: the calendar time it spans, in years

    @property
    def span_years(self) -> float:
        return sum(self.years)


def common_log_returns(closes: Sequence[Mapping[date, float]], window: int) -> CommonReturns:
    """The last ``window`` log returns (at most) of each series, given its
    ``SeriesInput.daily_closes``, taken between consecutive dates on which every series has a
    positive close. A day missing from one series is skipped for all, so the move
    across it lands in the next step."""
    if not closes:
        return CommonReturns([], [], [])
    shared = set(closes[0]).intersection(*closes[1:])
    dates = sorted(shared)[-(window + 1):]
    rows = []
    years = []
    for before, after in itertools.pairwise(dates):
        rows.append(tuple(math.log(c[after] / c[before]) for c in closes))
        years.append((after - before).days / DAYS_PER_YEAR)
    return CommonReturns(dates, rows, years)


def coarse_log_returns(series: Sequence[Sequence[Point]], window: int) -> CommonReturns:
    """Log returns on the dates of the sparsest series (a monthly home-price index beside
    daily prices), each other series read at its last close on or before each date. For
    series that share too few dates for ``common_log_returns`` to give a history."""
    usable = [[p for p in points if p.value > 0] for points in series]
    if not usable or not all(usable):
        return CommonReturns([], [], [])
    sparsest = min(usable, key=len)
    grid = []
    for point in sparsest:
        day = point.ts.date()
        closes = [close_on_or_before(points, day) for points in usable]
        if all(closes):
            grid.append((day, [c.value for c in closes]))
    grid = grid[-(window + 1):]
    rows, years = [], []
    for (before, old), (after, new) in itertools.pairwise(grid):
        rows.append(tuple(math.log(b / a) for a, b in zip(old, new)))
        years.append((after - before).days / DAYS_PER_YEAR)
    return CommonReturns([day for day, _ in grid], rows, years)


def signed(r: float) -> str:
    """A return for an explanation line: +24.1%, -3.0%."""
    return f"{100 * r:+.1f}%"
