"""One poll cycle: fetch the series the registry needs, store them, record each source's
health, then evaluate every prediction.

Sources are fetched concurrently, and one failing source (or symbol) never stops the
others: whatever arrived is stored, and the failure is recorded and reported. Whatever a
source's fetch raises, and a fetch still running at the request deadline, is that
source's failure outright. A symbol whose values it cannot take (tracker/plausible.py)
is refused and reported as that symbol's failure, never stored.

Market odds are stored only when they change (a market polled every few minutes holds
the same price for hours); each poll records instead that the series was confirmed. A
market read twice in a row in the same final state is not asked for again: one read
alone could be a mistaken answer, and the next poll would correct it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from db import queries
from tracker import plausible
from tracker.config import Settings, parse_duration
from tracker.errorgroups import cause_lines, group_errors, in_one_line
from tracker.service.evaluation import evaluate_all
from tracker.service.notify import source_write
from tracker.sources import SOURCES, group_of, load_source
from tracker.sources.base import (
    SeriesData,
    SourceError,
    SourceReport,
    refuse_empty_series,
    unexpected,
)
from tracker.sources.http import HttpClient

if TYPE_CHECKING:
    from collections.abc import Callable

    from db.queries import SeriesRow
    from db.reads import Confirmation
    from tracker.registry import Registry

log = logging.getLogger("tracker.poll")

# History fetched before a prediction's start date on first sight: enough daily returns
# for the volatility models, and the baseline close for returns.
HISTORY_BEFORE_START = timedelta(days=120)
# Monthly, quarterly and annual macro series need years to hold a few observations.
MACRO_HISTORY_BEFORE_START = timedelta(days=3 * 366)
# A market series whose previous point is older than this many poll intervals has a gap.
GAP_INTERVALS = 2
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


@dataclass
class SourceLine:
    source: str
    series: int = 0
    points: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    skipped_until: datetime | None = None  # backing off after failures: not asked
    stored: int = 0  # points written: new or fetched again (market odds only where changed)
    seconds: float | None = None  # how long the source's fetch and store took

    @property
    def failed(self) -> bool:
        """Failed outright: every symbol asked for failed (or the source did)."""
        return outright(self.errors, self.series)

    @property
    def ok(self) -> bool:
        """The source answered. Some symbols may still have failed (``errors``): those
        are their own problems, not the source's."""
        return not self.failed and self.skipped_until is None

    def __str__(self) -> str:
        """One line, for a log: the errors grouped by cause (tracker/errorgroups.py)."""
        if self.skipped_until is not None:
            return f"{self.source}: backing off after failures until {self.skipped_until:%Y-%m-%d %H:%M:%S} UTC"
        failing = in_one_line(group_errors(self.errors))
        if self.failed:
            return f"{self.source}: FAILED: {failing}"
        stored = f"{self.source}: ok, {self.points} points in {self.series} series"
        if not self.errors:
            return stored
        count = f"{len(self.errors)} symbol{'s' if len(self.errors) > 1 else ''}"
        return f"{stored}; {count} failed: {failing}"

    def as_dict(self) -> dict:
        """The line as data, for ``tracker poll --json``: the errors whole and grouped."""
        return {
            "source": self.source, "ok": self.ok, "series": self.series, "points": self.points,
            "errors": dict(sorted(self.errors.items())),
            "causes": [{"cause": cause.text, "symbols": list(cause.symbols)}
                       for cause in group_errors(self.errors)],
            "backing_off_until": self.skipped_until,
        }

    def shown(self) -> list[str]:
        """The line for people: with several causes, a line for each under it."""
        causes = group_errors(self.errors)
        if len(causes) < 2 or self.skipped_until is not None:
            return [str(self)]
        headline = (f"{self.source}: FAILED" if self.failed else
                    f"{self.source}: ok, {self.points} points in {self.series} series; "
                    f"{len(self.errors)} symbols failed")
        return [headline, *(f"  {line}" for line in cause_lines(self.source, causes))]


@dataclass
class CycleResult:
    lines: list[SourceLine]
    evaluations: dict

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)


def changes_only(source: str) -> bool:
    """Is this source's series stored only when its value changes? Market odds are;
    prices and macro series keep one point per bar."""
    return group_of(source) == "markets"


def is_final(state: str | None, resolved_value: float | None) -> bool:
    """A market state that no later read changes: resolved with a value, or void."""
    return state == "void" or (state == "resolved" and resolved_value is not None)


def wanted_symbols(
    registry: Registry, engine: Engine, sources: set[str] | None = None,
    confirmed: dict[str, Confirmation] | None = None,
) -> dict[str, dict[str, date]]:
    """source -> {symbol: first date to fetch}: from the last stored point when there is
    one (so a gap after downtime fills itself), else from before the earliest start. A
    market whose final state was confirmed (``confirmed``: the series' confirmations,
    read here when not given) is not asked for."""
    first_needed: dict[str, date] = {}
    for prediction in registry:
        for series_id in prediction.series_ids():
            start = prediction.start - history_before_start(series_id)
            first_needed[series_id] = min(start, first_needed.get(series_id, start))
    last = queries.last_timestamps(engine, first_needed)
    if confirmed is None:
        confirmed = queries.confirmations(engine)
    settled = {sid for sid, seen in confirmed.items() if seen.resolution_confirmed_at}
    wanted: dict[str, dict[str, date]] = defaultdict(dict)
    for series_id, first in sorted(first_needed.items()):
        source, symbol = series_id.split(":", 1)
        if series_id in settled:
            continue  # read twice in the same final state: nothing left to learn
        if source in SOURCES and (sources is None or source in sources):
            stored = last.get(series_id)
            wanted[source][symbol] = stored.date() if stored else first
    return dict(wanted)


def history_before_start(series_id: str) -> timedelta:
    macro = group_of(series_id.split(":", 1)[0]) == "macro"
    return MACRO_HISTORY_BEFORE_START if macro else HISTORY_BEFORE_START


async def fetch_and_store(
    settings: Settings, engine: Engine, wanted, now: datetime, health,
    observe: Callable[[SourceLine], None] | None = None,
) -> tuple[list[SourceReport], list[SourceLine]]:
    """Fetch every source concurrently and store each answer as soon as it arrives, so
    the quicker sources are stored while the slowest one is still on the network.
    ``observe`` is told of each source's line once it is stored."""
    reports, lines = [], []
    async with HttpClient.from_settings(settings) as http:
        fetches = [_timed(fetch_source(http, settings, name, symbols, now))
                   for name, symbols in wanted.items()]
        for arrival in asyncio.as_completed(fetches):
            report, fetch_seconds = await arrival
            reports.append(report)
            began = time.monotonic()
            line = store(engine, report, now, health.get(report.source), settings)
            # The source's own time: not the wait while other sources' answers were stored.
            line.seconds = fetch_seconds + time.monotonic() - began
            lines.append(line)
            if observe is not None:
                observe(line)
    return reports, lines


async def _timed(fetch) -> tuple[SourceReport, float]:
    began = time.monotonic()
    report = await fetch
    return report, time.monotonic() - began


async def fetch_source(http: HttpClient, settings: Settings, name: str, symbols, now) -> SourceReport:
    """One source's answer for these symbols; an answer with no points is a failure.

    Whatever the fetch raises (an error no layer below foresaw, a parser's bug) fails the
    source outright, as does a fetch still running at the deadline (a fallback after a
    slow request would otherwise double it): the other sources and the evaluation go on.
    """
    deadline = parse_duration(settings.http.request_deadline).total_seconds()
    timer = asyncio.timeout(deadline)
    try:
        async with timer:
            report = await load_source(name).fetch(http, settings, symbols, now)
    except TimeoutError as exc:
        why = (f"no full answer within the {deadline:g} s deadline" if timer.expired()
               else unexpected(exc))
        return _failed(name, symbols, why)
    except SourceError as exc:
        return _failed(name, symbols, str(exc), exc.retry_after)
    except Exception as exc:
        log.debug("%s: fetch raised", name, exc_info=True)
        return _failed(name, symbols, unexpected(exc))
    return refuse_empty_series(report)


def _failed(name: str, symbols, message: str, retry_after: float | None = None) -> SourceReport:
    """The report of a source that failed as a whole: every symbol carries the message."""
    return SourceReport(name, errors=dict.fromkeys(symbols, message), retry_after=retry_after)


def backoff(failures: int) -> timedelta:
    """How long a source that failed outright ``failures`` times in a row is left alone:
    doubling from 30 s, at most an hour. Short runs of failures never delay a poll."""
    return min(BACKOFF_FIRST * 2 ** max(0, failures - 1), BACKOFF_MAX)


def outright(errors, series) -> bool:
    """Every symbol failed (or the source did): only then is the source failing. A source
    with some good symbols is working; its failing symbols are their own problems."""
    return bool(errors) and not series


def failed_outright(report: SourceReport) -> bool:
    return outright(report.errors, report.series)


def next_allowed(report: SourceReport, failures: int, now: datetime) -> datetime | None:
    """When the source may be asked again: after the server's Retry-After, and, when it
    failed outright, after the backoff. A source with some good symbols keeps polling."""
    wait = timedelta(seconds=report.retry_after or 0)
    if failed_outright(report):
        wait = max(wait, backoff(failures))
    return now + wait if wait else None


def waiting(source: str, until: datetime | None, failures: int, now: datetime) -> str | None:
    """What a source held off waits for, as a log line: 'yahoo: backing off until 05:09
    UTC after 3 failures'; None when it may be asked now."""
    if until is None or until <= now:
        return None
    clock = f"{until:%H:%M} UTC" if until.date() == now.date() else f"{until:%Y-%m-%d %H:%M} UTC"
    if failures:
        return f"{source}: backing off until {clock} after {failures} failure{'s' if failures > 1 else ''}"
    return f"{source}: waiting until {clock}, as its server asked (Retry-After)"


def waits(engine: Engine, sources: set[str], now: datetime) -> list[str]:
    """A line for each of ``sources`` held off at ``now``, from its stored health."""
    health = queries.source_health(engine)
    return [line for name in sorted(sources & set(health))
            if (line := waiting(name, health[name].next_allowed_at,
                                health[name].consecutive_failures, now))]


def _log_transition(report: SourceReport, before, line: SourceLine) -> None:
    """A line per source per cycle while it works; an error once when it starts failing
    and a line when it recovers, but not an error on every failing cycle. A symbol that
    starts failing while its source works is a warning, once."""
    was_failing = before is not None and before.consecutive_failures > 0
    if line.ok:
        if was_failing:
            log.info("%s: recovered after %d failed polls", report.source,
                     before.consecutive_failures)
        known = set(queries.symbol_errors(before)) if before is not None else set()
        log.log(logging.WARNING if set(line.errors) - known else logging.INFO, "%s", line)
    elif not was_failing:
        log.error("%s", line)
    else:
        log.debug("%s", line)


def refuse_implausible(engine: Engine, report: SourceReport) -> SourceReport:
    """Take out every series holding a value it cannot take: it becomes that symbol's
    error, and the source's other symbols are stored as usual."""
    ids = [f"{report.source}:{s.symbol}" for s in report.series]
    recent = queries.newest_points(engine, ids, plausible.RECENT) if ids else {}
    for series in list(report.series):
        series_id = f"{report.source}:{series.symbol}"
        why = plausible.problem(series_id, series.unit, series.points,
                                [p.value for p in recent.get(series_id, [])])
        if why is not None:
            report.series.remove(series)
            report.errors[series.symbol] = why
    return report


def store(engine: Engine, report: SourceReport, now: datetime, before=None,
          settings: Settings | None = None) -> SourceLine:
    report = refuse_implausible(engine, report)
    stored = store_series(engine, report, now)
    # The source fails only outright; otherwise its failing symbols are kept, each with
    # its message, for `tracker health`, and the source counts as a success.
    outright = failed_outright(report)
    error = "; ".join(f"{sym}: {msg}" for sym, msg in sorted(report.errors.items())) if outright else None
    failures = (before.consecutive_failures if before else 0) + 1 if outright else 0
    until = next_allowed(report, failures, now)
    queries.record_source_result(engine, report.source, now, error, report.errors, until,
                                 notify=source_write(settings, report.source, before, error, now))
    line = SourceLine(report.source, len(report.series), report.points, dict(report.errors),
                      stored=stored)
    _log_transition(report, before, line)
    if (held := waiting(report.source, until, failures, now)) is not None:
        log.info("%s", held)
    return line


def store_series(engine: Engine, report: SourceReport, now: datetime) -> int:
    """Store what the source returned: each series' row and its points (a market's only
    where its odds changed, and the series marked confirmed at ``now``). Returns the
    number of points written."""
    markets = changes_only(report.source)
    ids = [f"{report.source}:{s.symbol}" for s in report.series]
    previous = queries.series_by_id(engine, ids) if markets else {}
    queries.upsert_series(
        engine,
        [
            {
                "id": series_id,
                "source": report.source,
                "symbol": s.symbol,
                "name": s.name,
                "unit": s.unit,
                "first_seen_at": now,
                "state": s.state,
                "resolved_value": s.resolved_value,
                "meta": json.dumps(s.meta, sort_keys=True) if s.meta else None,
            }
            for series_id, s in zip(ids, report.series, strict=True)
        ],
    )
    stored = queries.upsert_observations(
        engine,
        (
            {
                "series_id": series_id,
                "ts": p.ts,
                "value": p.value,
                "high": p.high,
                "low": p.low,
                "fetched_at": now,
            }
            for series_id, s in zip(ids, report.series, strict=True)
            for p in s.points
        ),
        changes_only=markets,
    )
    if markets:  # after the points: a confirmation never vouches for odds not yet stored
        queries.confirm_series(engine, {
            series_id: settled_at(previous.get(series_id), s, now)
            for series_id, s in zip(ids, report.series, strict=True)
        }, now)
    return stored


def settled_at(previous: SeriesRow | None, read: SeriesData, now: datetime) -> datetime | None:
    """When this market's final state was confirmed: ``now`` when this read gives the
    same final state and value as the read before it (``previous``, the stored series),
    or earlier if that was already confirmed; None while it is not final, or has been
    read so only once."""
    if previous is None or not is_final(read.state, read.resolved_value):
        return None
    if (previous.state, previous.resolved_value) != (read.state, read.resolved_value):
        return None
    return previous.resolution_confirmed_at or now


def run_cycle(
    settings: Settings,
    registry: Registry,
    engine: Engine,
    sources: set[str] | None = None,
    now: datetime | None = None,
    honour_backoff: bool = True,
    observe: Callable[[SourceLine], None] | None = None,
) -> CycleResult:
    """Fetch, store, record health, evaluate. Never raises for a source's failure. A
    source backing off (Retry-After, or failing outright) is skipped until its time.
    ``observe`` is told of each polled source's line as soon as it is stored."""
    now = now or datetime.now(UTC)
    health = queries.source_health(engine)
    confirmed = queries.confirmations(engine)  # as they were before this cycle's reads
    wanted = wanted_symbols(registry, engine, sources, confirmed)
    lines = []
    for name in sorted(wanted):
        h = health.get(name)
        if honour_backoff and h is not None and h.next_allowed_at and h.next_allowed_at > now:
            log.debug("%s: backing off until %s", name, h.next_allowed_at)
            lines.append(SourceLine(name, skipped_until=h.next_allowed_at))
            del wanted[name]
    reports = []
    if wanted:
        reports, stored = asyncio.run(
            fetch_and_store(settings, engine, wanted, now, health, observe))
        lines.extend(stored)
    fill_market_gaps(settings, engine, reports, now, confirmed)
    evaluations = evaluate_all(engine, registry, now, settings)
    return CycleResult(sorted(lines, key=lambda line: line.source), evaluations)


def fill_market_gaps(settings: Settings, engine: Engine, reports, now: datetime,
                     confirmed: dict[str, Confirmation]) -> None:
    """After downtime or an outage, a market's odds during the gap come from its price
    history: each poll reads only the current price, so a gap would otherwise stay a
    gap. A market was last seen at its newest point before this cycle, or at its last
    confirmation (``confirmed``: as read before this cycle stored anything), whichever is
    later. Only markets this cycle reached are filled. Prices and macro series need
    nothing: their poll fetches from the last stored point."""
    from tracker.service.backfill import fill_gaps

    gap = GAP_INTERVALS * settings.schedule.interval("markets")
    ids = [f"{report.source}:{s.symbol}" for report in reports
           if changes_only(report.source) for s in report.series]
    stored = queries.last_timestamps(engine, ids, before=now - timedelta(seconds=1))
    seen = {sid: max(last, confirmed[sid].confirmed_at) if sid in confirmed else last
            for sid, last in stored.items()}
    gaps = {sid: last for sid, last in seen.items() if now - last > gap}
    if gaps:
        log.info("filling gaps in %d market series from their price history", len(gaps))
        fill_gaps(settings, engine, gaps, now)


def sources_in_group(group: str) -> set[str]:
    return {name for name in SOURCES if group_of(name) == group}


def used_sources(registry: Registry) -> set[str]:
    """The sources the registry's predictions read."""
    return {series_id.split(":", 1)[0] for series_id in registry.series_ids()}
