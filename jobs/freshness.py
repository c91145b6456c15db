"""Which stored series are stale, read from the database (the rules are in
tracker/staleness.py). Apart from jobs/evaluation.py so that `tracker series` and the
digest ask without importing every evaluator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from db import queries
from tracker.sources import group_of
from tracker.sources.base import Point
from tracker.staleness import RECENT, series_stale


def points_of(rows) -> list[Point]:
    """Rows that start with ts, value, high, low, as Points (by position: the loop runs
    over every loaded row, and a Row's attribute lookup costs more than an index)."""
    return [Point(row[0], row[1], row[2], row[3]) for row in rows]


def staleness(
    engine: Engine, series_ids, now: datetime, settings=None,
    loaded: dict[str, list[Point]] | None = None, newest: set[str] = frozenset(),
) -> dict[str, bool]:
    """Which series are stale: by their newest points' age against their cadence, and,
    with ``settings``, by a source that keeps failing for them.

    ``loaded`` holds points already read: for the series in ``newest``, their newest
    RECENT; for the others, all from some start on. Those take their newest from there
    when they have at least RECENT; with fewer, the window may hide the older points that
    show a slow cadence (an annual series), so they are read again."""
    loaded = loaded or {}
    recent: dict[str, list[Point]] = {}
    fetched: dict[str, datetime] = {}
    short = [sid for sid in series_ids
             if sid not in newest and len(loaded.get(sid, [])) < RECENT]
    for series_id, rows in queries.newest_points(engine, short, RECENT).items():
        recent[series_id] = points_of(rows)
        if rows:
            fetched[series_id] = rows[-1].fetched_at
    for series_id in series_ids:
        if series_id not in recent:
            recent[series_id] = loaded[series_id][-RECENT:]
    if not settings:
        return {series_id: series_stale(points, now) for series_id, points in recent.items()}
    health = queries.source_health(engine)
    fetched |= queries.fetched_at(engine, {sid: points[-1].ts for sid, points in recent.items()
                                           if points and sid not in fetched})
    stale = {}
    for series_id, points in recent.items():
        source = series_id.split(":", 1)[0]
        attempted = health[source].last_attempt_at if source in health else None
        # Every successful poll fetches the newest point again, or a newer one.
        stale[series_id] = series_stale(points, now, fetched.get(series_id), attempted,
                                        settings.schedule.interval(group_of(source)))
    return stale
