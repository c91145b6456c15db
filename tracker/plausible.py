"""Values a series cannot take, refused before they are stored: a bad print taken as
truth can settle a prediction, and a later fix would flip it.

The rule depends on the series' unit (tracker/units.py):

- every value, high and low is finite;
- prices (dollars, or another currency from Yahoo) and index points are above zero, and
  never more than ``JUMP`` times away, up or down, from the series' recent stored values
  (their median), or, with nothing stored yet, from the median of the fetched batch;
- probabilities lie within 0..1;
- EDGAR's counts are never negative (zero is a real count);
- rates, growth and spreads (percent), and plain numbers, may be zero or negative and
  move by any factor near zero: only finiteness is asked of them.

Pure: the caller passes the recent stored values.
"""

from __future__ import annotations

import math
from statistics import median

from tracker.points import Point
from tracker.units import INDEX, PROBABILITY, USD, unit_of

JUMP = 100.0  # a factor no real price or index moves by between two polls
RECENT = 5  # stored values the jump is measured against

# Prices that can go below zero: WTI crude settled at -$37.63 on 2020-04-20.
CAN_BE_NEGATIVE = {"yahoo:CL=F", "fred:DCOILWTICO"}


def problem(series_id: str, stated_unit: str | None, points: list[Point],
            recent: list[float]) -> str | None:
    """Why these fetched points cannot be right, as one line; None when they can."""
    for point in points:
        bad = next((v for v in (point.value, point.high, point.low)
                    if v is not None and not math.isfinite(v)), None)
        if bad is not None:
            return f"refused a non-finite value ({bad}) on {point.ts:%Y-%m-%d}"
    unit = unit_of(series_id, stated_unit)
    if unit == PROBABILITY:
        return _first(points, lambda v: not 0.0 <= v <= 1.0, "a probability outside 0..1")
    if series_id.startswith("edgar:"):
        return _first(points, lambda v: v < 0, "a negative count")
    if not _positive(series_id, unit):
        return None
    level = "an index level" if unit == INDEX else "a price"
    below = _first(points, lambda v: v <= 0, f"{level} of zero or below")
    return below or _jump(points, recent)


def _positive(series_id: str, unit: str) -> bool:
    """Prices and index levels: above zero, and moving by factors far below JUMP."""
    if series_id in CAN_BE_NEGATIVE:
        return False
    return unit in (USD, INDEX) or series_id.startswith("yahoo:")


def _first(points: list[Point], wrong, what: str) -> str | None:
    point = next((p for p in points if wrong(p.value)), None)
    if point is None:
        return None
    return f"refused {what}: {point.value:g} on {point.ts:%Y-%m-%d}"


def _jump(points: list[Point], recent: list[float]) -> str | None:
    """A value over JUMP times away from the recent ones (stored, else this batch's)."""
    usable = [v for v in recent if v > 0]
    reference = median(usable) if usable else median(p.value for p in points) if points else 0
    if reference <= 0:
        return None
    for point in points:
        ratio = point.value / reference
        if ratio > JUMP or ratio < 1 / JUMP:
            return (f"refused {point.value:g} on {point.ts:%Y-%m-%d}: over {JUMP:g} times "
                    f"away from its recent {reference:g}")
    return None
