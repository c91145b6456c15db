"""Which stored series are stale, read from the database (the rules are in
tracker/freshness.py). Apart from tracker/service/evaluation.py so that `tracker series` and the
digest ask without importing every evaluator."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from db import queries
from tracker.freshness import RECENT, stale_series
from tracker.points import Point
from tracker.sources import group_of

if TYPE_CHECKING:
    from tracker.config import Settings


def points_of(rows) -> list[Point]:
    """Rows that start with ts, value, high, low, as Points (by position: the loop runs
    over every loaded row, and a Row's attribute lookup costs more than an index)."""
    return [Point(row[0], row[1], row[2], row[3]) for row in rows]


def staleness(
    engine: Engine, series_ids: Iterable[str], now: datetime, settings: Settings | None = None,
    newest: dict | None = None, confirmed: dict | None = None,
) -> dict[str, bool]:
    """Which series are stale: by their newest points against the release cadence they
    have shown (a market's by when a poll last confirmed it), and, with ``settings``, by a
    source that keeps failing for them. Reads each series' newest RECENT points, with
    when each arrived, unless given as ``newest``; and the markets' confirmations unless
    given as ``confirmed``."""
    if newest is None:
        newest = queries.newest_points(engine, series_ids, RECENT)
    if confirmed is None:
        confirmed = queries.confirmations(engine)
    if not settings:
        return stale_series(newest, now, confirmed=confirmed)
    return stale_series(newest, now, queries.source_health(engine),
                        lambda source: settings.schedule.interval(group_of(source)), confirmed)
