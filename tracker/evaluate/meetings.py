"""A rate that moves in fixed steps at scheduled meetings (the Fed's target range moves
in 25 bp steps at FOMC meetings): the chance it reaches a level by a deadline.

A log-normal model does not fit such a series: it sits still for months, so its realised
volatility is zero and it gives no probability at all, or a tiny one. Here each meeting
left before the deadline is taken as an independent draw that moves the rate one step
in the claim's direction with probability ``p``, the pace of the last year: the steps
the series took in that direction over the past 365 days, per meeting held in a year
(clipped to 5%-95%, so a quiet year still leaves some chance). The claim needs ``k``
steps, so P = P(Binomial(meetings left, p) >= k). Moves against the claim, unscheduled
meetings and steps larger than one are not modelled.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from itertools import pairwise

from tracker.points import Point

PACE_WINDOW = timedelta(days=365)
PACE_CLIP = (0.05, 0.95)


def steps_needed(spot: float, target: float, step: float, above: bool) -> int:
    gap = (target - spot) if above else (spot - target)
    return max(0, math.ceil(gap / step - 1e-9))


def meetings_left(meetings: list[date], now: datetime, deadline: date) -> list[date]:
    """Meetings whose decision can still land by the deadline (today's included)."""
    return [m for m in meetings if now.date() <= m <= deadline]


def pace(points: list[Point], now: datetime, step: float, above: bool,
         meetings_per_year: int) -> float:
    """Steps per meeting in the claim's direction over the last year."""
    recent = [p for p in points if p.ts >= now - PACE_WINDOW]
    moved = 0.0
    for before, after in pairwise(recent):
        change = (after.value - before.value) if above else (before.value - after.value)
        moved += max(0.0, change) / step
    low, high = PACE_CLIP
    return min(high, max(low, round(moved) / meetings_per_year))


def prob_at_least(k: int, n: int, p: float) -> float:
    """P(Binomial(n, p) >= k)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def meetings_per_year(meetings: list[date]) -> int:
    """Scheduled meetings in a calendar year, from the registry's list (8 for the FOMC)."""
    years = {m.year for m in meetings}
    return max(1, round(len(meetings) / len(years)))
