"""`tracker backfill`: the history of every series the registry needs.

Each series is read in windows that suit its API (a year of Yahoo bars, a whole FRED
series, 14 days of Polymarket CLOB prices, 200 days of hourly Kalshi candles), oldest
first. After each window its points are upserted and the end of the window is recorded in
``backfill_progress``, so an interrupted run resumes at the first window not stored, and
a window read twice leaves one row per timestamp. A market's history is stored as its poll
stores it, only where the odds changed. Series run concurrently; the HTTP layer's
per-host limits keep each API's load polite.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from db import queries
from tracker.config import Settings
from tracker.service.evaluation import evaluate_all
from tracker.service.poll import changes_only, history_before_start
from tracker.sources import SOURCES, load_source
from tracker.sources.base import HistorySource, SourceError
from tracker.sources.http import HttpClient

if TYPE_CHECKING:
    from tracker.registry import Registry

log = logging.getLogger("tracker.backfill")


@dataclass
class Task:
    """One series to backfill: asked from ``since``, resuming at ``resume_at``."""

    series_id: str
    since: datetime
    resume_at: datetime
    windows: int = 0  # how many windows remain, for progress
    points: int = 0
    error: str | None = None

    @property
    def source(self) -> str:
        return self.series_id.split(":", 1)[0]

    @property
    def symbol(self) -> str:
        return self.series_id.split(":", 1)[1]


@dataclass
class BackfillResult:
    tasks: list[Task] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(task.error is None for task in self.tasks)


class Reporter:
    """What the CLI shows while a backfill runs; the default shows nothing."""

    def started(self, task: Task) -> None: ...

    def window_done(self, task: Task, until: datetime, points: int) -> None: ...

    def finished(self, task: Task) -> None: ...


def windows(start: datetime, end: datetime, size: timedelta | None) -> Iterator[tuple[datetime, datetime]]:
    if size is None:
        if start < end:
            yield start, end
        return
    while start < end:
        stop = min(start + size, end)
        yield start, stop
        start = stop


def history_of(name: str) -> HistorySource | None:
    """The source called ``name`` when it exists and can read history, else None: a
    backfill passes its series by."""
    if name not in SOURCES:
        return None
    found = load_source(name)
    return found if isinstance(found, HistorySource) else None


def plan(
    registry: Registry,
    engine: Engine,
    now: datetime,
    since: date | None = None,
    sources: set[str] | None = None,
) -> list[Task]:
    """Every series the registry reads, from ``since`` (default: the poll's first date,
    well before each prediction's start), resuming where an earlier run stopped."""
    first: dict[str, date] = {}
    for prediction in registry:
        for series_id in prediction.series_ids():
            start = since or prediction.start - history_before_start(series_id)
            first[series_id] = min(start, first.get(series_id, start))
    progress = queries.backfill_progress(engine)
    tasks = []
    for series_id, day in sorted(first.items()):
        name = series_id.split(":", 1)[0]
        reader = history_of(name)
        if reader is None or (sources and name not in sources):
            continue
        start = datetime.combine(day, time(), UTC)
        done = progress.get(series_id)
        resume = start
        if done is not None and done.since <= start < done.done_until:
            resume = done.done_until  # the earlier run covered [done.since, done_until)
        task = Task(series_id, start, resume)
        task.windows = sum(1 for _ in windows(resume, now, reader.history_window))
        tasks.append(task)
    return tasks


async def _run_task(
    http: HttpClient, settings: Settings, engine: Engine, task: Task, now: datetime,
    meta: dict | None, reporter: Reporter,
) -> None:
    reader = history_of(task.source)
    spans = list(windows(task.resume_at, now, reader.history_window))
    reporter.started(task)
    try:
        async with aclosing(reader.history(http, settings, task.symbol, meta, spans)) as answers:
            for _start, end in spans:
                data = await anext(answers)
                _store(engine, task, data, now)
                queries.record_backfill_window(engine, task.series_id, task.since, end, now)
                task.points += len(data.points)
                reporter.window_done(task, end, len(data.points))
    except SourceError as exc:
        task.error = str(exc)
    reporter.finished(task)


def _store(engine: Engine, task: Task, data, now: datetime) -> None:
    queries.ensure_series(
        engine,
        [{"id": task.series_id, "source": task.source, "symbol": task.symbol,
          "name": data.name, "unit": data.unit, "first_seen_at": now}],
    )
    queries.upsert_observations(
        engine,
        ({"series_id": task.series_id, "ts": p.ts, "value": p.value, "high": p.high,
          "low": p.low, "fetched_at": now} for p in data.points),
        changes_only=changes_only(task.source),
    )


def _stored_meta(engine: Engine, series_ids) -> dict[str, dict]:
    rows = queries.series_by_id(engine, series_ids)
    return {sid: json.loads(row.meta) for sid, row in rows.items() if row.meta}


async def _run_all(
    settings: Settings, engine: Engine, tasks: list[Task], now: datetime, reporter: Reporter
) -> None:
    meta = _stored_meta(engine, [t.series_id for t in tasks])
    async with HttpClient.from_settings(settings) as http:
        await asyncio.gather(
            *(_run_task(http, settings, engine, t, now, meta.get(t.series_id), reporter)
              for t in tasks)
        )


def fill_gaps(settings: Settings, engine: Engine, gaps: dict[str, datetime], now: datetime) -> None:
    """Fetch each series' history from when it was last seen before a gap up to ``now``."""
    tasks = [Task(series_id, since, since) for series_id, since in gaps.items()]
    asyncio.run(_run_all(settings, engine, tasks, now, Reporter()))
    for task in tasks:
        if task.error:
            log.warning("%s: could not fill its gap: %s", task.series_id, task.error)


def backfill(
    settings: Settings,
    registry: Registry,
    engine: Engine,
    since: date | None = None,
    sources: set[str] | None = None,
    reporter: Reporter | None = None,
    now: datetime | None = None,
) -> BackfillResult:
    """Fetch and store history, then evaluate every prediction on it."""
    now = now or datetime.now(UTC)
    tasks = plan(registry, engine, now, since, sources)
    asyncio.run(_run_all(settings, engine, tasks, now, reporter or Reporter()))
    evaluate_all(engine, registry, now, settings)
    return BackfillResult(tasks)
