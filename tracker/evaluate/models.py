"""Probability models. All assume a driftless random walk in log price.

Assumptions shared by every model here: the log price X = ln S moves as sigma * W (a
Brownian motion with no drift), sigma is the recent realised volatility and is constant
until the deadline, and time is calendar time. Driftless means today's price is the
median of every future price: the models express "how far, how volatile, how long",
never a view on direction.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from tracker.points import Point

VOL_WINDOW = 60  # returns used for realised volatility
SECONDS_PER_YEAR = 365.25 * 86400


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def realised_vol(points: Sequence[Point], window: int = VOL_WINDOW) -> tuple[float, int]:
    """Annualised volatility of log closes over the last ``window`` returns.

    Each squared return is divided by the calendar time it spans, so weekends, holidays
    and 7-day series all give a variance per calendar year, matching the calendar time to
    the deadline used by the models. Returns (sigma, number of returns used).
    """
    recent = [p for p in points[-(window + 1):] if p.value > 0]
    sum_sq = 0.0
    span = 0.0
    count = 0
    for before, after in itertools.pairwise(recent):
        seconds = (after.ts - before.ts).total_seconds()
        if seconds <= 0:
            continue
        sum_sq += math.log(after.value / before.value) ** 2
        span += seconds / SECONDS_PER_YEAR
        count += 1
    if count == 0 or span == 0:
        return 0.0, 0
    return math.sqrt(sum_sq / span), count


def prob_end_beyond(spot: float, target: float, above: bool, sigma: float, years: float) -> float:
    """P(S_T >= target) (or <= when not above): ln S_T ~ N(ln spot, sigma^2 T)."""
    if sigma <= 0 or years <= 0:
        return float(spot >= target if above else spot <= target)
    z = math.log(spot / target) / (sigma * math.sqrt(years))
    return norm_cdf(z if above else -z)


def prob_touch(spot: float, target: float, sigma: float, years: float) -> float:
    """P(the price reaches target at some time before T), by the reflection principle:
    2 * P(S_T beyond target) = 2 * Phi(-|ln(target/spot)| / (sigma sqrt T))."""
    if spot == target:
        return 1.0
    if sigma <= 0 or years <= 0:
        return 0.0
    return min(1.0, 2.0 * norm_cdf(-abs(math.log(target / spot)) / (sigma * math.sqrt(years))))


def prob_race(
    spot: float, target: float, against: float, sigma: float, years: float | None
) -> tuple[float, float, float]:
    """(P(target first), P(against first), P(neither)) before the horizon.

    Without a horizon this is the log-space gambler's ruin,
    P(target first) = ln(against/spot) / ln(against/target). With one, it is the
    exit law of a Brownian motion from the interval between the two log levels
    (eigenfunction series): with L the interval's width and x the distance from the
    lower level, P(exit low by T) = (1 - x/L) - sum 2/(n pi) sin(n pi x/L) e^{-n^2 pi^2 s^2 T / 2L^2}.
    """
    low, high = sorted((target, against))
    if not low < spot < high:
        raise ValueError(f"spot {spot} is not between {low} and {high}")
    width = math.log(high / low)
    x = math.log(spot / low) / width  # 0 at the low level, 1 at the high level
    if years is None or sigma <= 0:
        p_low, p_high = 1.0 - x, x
        if sigma <= 0 and years is not None:
            p_low = p_high = 0.0
    else:
        p_low, p_high = 1.0 - x, x
        decay = (math.pi * sigma) ** 2 * years / (2.0 * width**2)
        for n in range(1, 2001):
            weight = math.exp(-(n * n) * decay)
            if weight < 1e-16:
                break
            term = 2.0 / (n * math.pi) * weight
            p_low -= term * math.sin(n * math.pi * x)
            p_high -= term * math.sin(n * math.pi * (1.0 - x))
        p_low, p_high = min(max(p_low, 0.0), 1.0), min(max(p_high, 0.0), 1.0)
    p_neither = max(0.0, 1.0 - p_low - p_high)
    if target < against:
        return p_low, p_high, p_neither
    return p_high, p_low, p_neither
