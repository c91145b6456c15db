"""Which stored series are stale, read from the database (the rules are in
tracker/freshness.py). Apart from tracker/service/evaluation.py so that `tracker series` and the
digest ask without importing every evaluator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from db import queries
from tracker.freshness import RECENT, series_stale
from tracker.points import Point
from tracker.sources import group_of


def points_of(rows) -> list[Point]:
    """Rows that start with ts, value, high, low, as Points (by position: the loop runs
    over every loaded row, and a Row's attribute lookup costs more than an index)."""
    return [Point(row[0], row[1], row[2], row[3]) for row in rows]


def staleness(
    engine: Engine, series_ids, now: datetime, settings=None, newest: dict | None = None,
) -> dict[str, bool]:
    """Which series are stale: by their newest points against the release cadence they
    have shown, and, with ``settings``, by a source that keeps failing for them. Reads
    each series' newest RECENT points, with when each arrived, unless given as ``newest``."""
    if newest is None:
        newest = queries.newest_points(engine, series_ids, RECENT)
    health = queries.source_health(engine) if settings else {}
    stale = {}
    for series_id, rows in newest.items():
        points = points_of(rows)
        arrivals = [row.first_seen_at for row in rows]
        if not settings:
            stale[series_id] = series_stale(points, now, arrivals=arrivals)
            continue
        source = series_id.split(":", 1)[0]
        attempted = health[source].last_attempt_at if source in health else None
        # Every successful poll fetches the newest point again, or a newer one.
        fetched = rows[-1].fetched_at if rows else None
        stale[series_id] = series_stale(points, now, fetched, attempted,
                                        settings.schedule.interval(group_of(source)), arrivals)
    return stale
