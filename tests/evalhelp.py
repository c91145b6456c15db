"""Hand-made series and predictions for evaluator tests."""

from datetime import UTC, date, datetime, time, timedelta

from tracker.evaluate import SeriesInput
from tracker.registry.loader import parse_prediction
from tracker.sources.base import Point


def day(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def daily(first: date, closes, highs=None, lows=None) -> list[Point]:
    """Points on consecutive calendar days from ``first``."""
    points = []
    for i, close in enumerate(closes):
        points.append(
            Point(
                day(first + timedelta(days=i)),
                close,
                highs[i] if highs else None,
                lows[i] if lows else None,
            )
        )
    return points


def series(series_id, points, stale=False):
    return {series_id: SeriesInput(series_id, points, stale=stale)}


def prediction(**fields):
    base = {"id": "p", "who": "Tester", "made_on": date(2026, 1, 10), "claim": "c"}
    return parse_prediction({**base, **fields}, "test", 1)
