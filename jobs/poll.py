"""One poll cycle: fetch the series the registry needs, store them, record each source's
health, then evaluate every prediction.

Sources are fetched concurrently, and one failing source (or symbol) never stops the
others: whatever arrived is stored, and the failure is recorded and reported.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from db import queries
from jobs.evaluation import evaluate_all
from tracker.config import Settings
from tracker.sources import SOURCES, group_of, source_module
from tracker.sources.base import SourceReport
from tracker.sources.http import HttpClient

log = logging.getLogger("tracker.poll")

# History fetched before a prediction's start date on first sight: enough daily returns
# for the volatility models, and the baseline close for returns.
HISTORY_BEFORE_START = timedelta(days=120)


@dataclass
class SourceLine:
    source: str
    series: int = 0
    points: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        if self.ok:
            return f"{self.source}: ok, {self.points} points in {self.series} series"
        failing = ", ".join(f"{sym} ({msg})" for sym, msg in sorted(self.errors.items()))
        stored = f"; stored {self.points} points in {self.series} series" if self.series else ""
        return f"{self.source}: FAILED {failing}{stored}"


@dataclass
class CycleResult:
    lines: list[SourceLine]
    evaluations: dict

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)


def wanted_symbols(
    registry, engine: Engine, sources: set[str] | None = None
) -> dict[str, dict[str, date]]:
    """source -> {symbol: first date to fetch}: from the last stored point when there is
    one (so a gap after downtime fills itself), else from before the earliest start."""
    first_needed: dict[str, date] = {}
    for prediction in registry:
        for series_id in prediction.series_ids():
            start = prediction.start - HISTORY_BEFORE_START
            first_needed[series_id] = min(start, first_needed.get(series_id, start))
    last = queries.last_timestamps(engine, first_needed)
    wanted: dict[str, dict[str, date]] = defaultdict(dict)
    for series_id, first in sorted(first_needed.items()):
        source, symbol = series_id.split(":", 1)
        if source in SOURCES and (sources is None or source in sources):
            stored = last.get(series_id)
            wanted[source][symbol] = stored.date() if stored else first
    return dict(wanted)


async def fetch_all(settings: Settings, wanted, now: datetime) -> list[SourceReport]:
    async with HttpClient.from_settings(settings) as http:
        return list(
            await asyncio.gather(
                *(
                    source_module(name).fetch(http, settings, symbols, now)
                    for name, symbols in wanted.items()
                )
            )
        )


def store(engine: Engine, report: SourceReport, now: datetime) -> SourceLine:
    queries.upsert_series(
        engine,
        [
            {
                "id": f"{report.source}:{s.symbol}",
                "source": report.source,
                "symbol": s.symbol,
                "name": s.name,
                "unit": s.unit,
                "first_seen_at": now,
                "state": s.state,
                "resolved_value": s.resolved_value,
                "meta": json.dumps(s.meta, sort_keys=True) if s.meta else None,
            }
            for s in report.series
        ],
    )
    queries.upsert_observations(
        engine,
        (
            {
                "series_id": f"{report.source}:{s.symbol}",
                "ts": p.ts,
                "value": p.value,
                "high": p.high,
                "low": p.low,
                "fetched_at": now,
            }
            for s in report.series
            for p in s.points
        ),
    )
    error = "; ".join(f"{sym}: {msg}" for sym, msg in sorted(report.errors.items())) or None
    next_allowed = now + timedelta(seconds=report.retry_after) if report.retry_after else None
    queries.record_source_result(
        engine, report.source, now, error, sorted(report.errors), next_allowed
    )
    return SourceLine(report.source, len(report.series), report.points, dict(report.errors))


def run_cycle(
    settings: Settings,
    registry,
    engine: Engine,
    sources: set[str] | None = None,
    now: datetime | None = None,
) -> CycleResult:
    """Fetch, store, record health, evaluate. Never raises for a source's failure."""
    now = now or datetime.now(UTC)
    wanted = wanted_symbols(registry, engine, sources)
    reports = asyncio.run(fetch_all(settings, wanted, now)) if wanted else []
    lines = []
    for report in reports:
        line = store(engine, report, now)
        (log.info if line.ok else log.warning)("%s", line)
        lines.append(line)
    evaluations = evaluate_all(engine, registry, now)
    return CycleResult(lines, evaluations)


def sources_in_group(group: str) -> set[str]:
    return {name for name in SOURCES if group_of(name) == group}
