"""The guards every evaluator runs on its inputs: is a series missing, empty or stale, and
do its data reach a deadline that has passed?

An evaluator reads as guard, decide, estimate, in this order:

1. Decide what the stored points already settle (a touch, a race's first barrier, a
   released number, a filing, a final market). No freshness guard runs before this step:
   decided stays decided, whatever later happens to the freshness of the inputs.
2. Past the deadline, decide only when the data reach it (``short_of_deadline``): a
   missing day could hold the touch or the close that decides.
3. Before estimating, guard the open claim (``why_unusable``): a claim whose series is
   empty or stale gets no probability and reads no_data, since a model fed a stale price
   gives a stale probability. Staleness decides nothing else.
4. Estimate.

Each ``why_*`` function returns the line a person reads in ``status``, ``show`` and the
digest (None when the guard passes), so one situation is said in the same words by every
evaluator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from tracker.evaluate.result import Evaluation, SeriesInput, Status
from tracker.evaluate.touch import covers
from tracker.points import Point


def series_of(inputs: dict[str, SeriesInput], series_id: str) -> SeriesInput:
    """The input for ``series_id``; an empty one when the caller has none."""
    return inputs.get(series_id) or SeriesInput(series_id, [])


def latest(series: SeriesInput) -> Point | None:
    return series.points[-1] if series.points else None


def headline(point: Point | None) -> dict[str, Any]:
    """An evaluation's headline value and its time, from ``point`` (nothing without one)."""
    return {"value": point.value, "value_at": point.ts} if point else {}


def usable(series: SeriesInput | None) -> bool:
    """Can an open claim be estimated from this series: has it points, and are they fresh?"""
    return series is not None and why_unusable(series) is None


def why_empty(series: SeriesInput, what: str = "data") -> str | None:
    """'no data for WTI crude yet' ('no odds for ...' with ``what="odds"``)."""
    return None if series.points else f"no {what} for {series.name} yet"


def why_stale(series: SeriesInput) -> str | None:
    """'WTI crude is stale: last point 2026-03-02'."""
    if series.stale and series.points:
        return f"{series.name} is stale: last point {series.points[-1].ts.date()}"
    return None


def why_unusable(series: SeriesInput) -> str | None:
    """Why an open claim on this series gets no estimate: it is empty, or stale."""
    return why_empty(series) or why_stale(series)


def data_stop(deadline: date, names: Sequence[str]) -> str:
    """'deadline 2026-06-30 passed; copper, S&P 500 data stop before it'."""
    return f"deadline {deadline} passed; {', '.join(names)} data stop before it"


def short_of_deadline(
    series: SeriesInput, window: list[Point], deadline: date, now: datetime
) -> str | None:
    """Once the deadline has passed, why ``window`` (the series' points up to it) cannot
    decide the claim: its data stop before the deadline. None before the deadline."""
    if now.date() > deadline and not covers(window, deadline):
        return data_stop(deadline, [series.name])
    return None


def no_data(why: str, last: Point | None = None) -> Evaluation:
    """The no_data result, with the latest point (when there is one) as its headline."""
    return Evaluation(Status.NO_DATA, why, **headline(last))
