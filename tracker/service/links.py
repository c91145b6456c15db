"""`tracker check --online`: does every link in the registry exist, and has it had data
recently?

Each source is asked once, with the fetch a poll uses, for every symbol, slug, ticker and
series the registry links to; nothing is stored. A link the source says does not exist,
one that fails on its own, and one whose newest point is older than its cadence allows
(the rule that marks stored series stale) is a problem. A source that fails for all of
its links, none of them missing, is one problem, not one per link: the source is down
(unreachable, refusing, answering nonsense), not the links.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from tracker.freshness import is_stale
from tracker.service.poll import history_before_start
from tracker.sources import SOURCES, load_source
from tracker.sources.base import SeriesData, SourceError, SourceReport, plain
from tracker.sources.http import HttpClient

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.registry import Registry


@dataclass(frozen=True, order=True)
class Problem:
    """One line of the report: ``where`` is a series id, or a source's name when the
    source could not be asked at all."""

    where: str
    what: str

    def __str__(self) -> str:
        return plain(f"{self.where}: {self.what}")  # API text: one line, no escapes


def now() -> datetime:
    """The time links are judged at (a function of its own so tests can fix it)."""
    return datetime.now(UTC)


def check_links(settings: Settings, registry: Registry) -> list[Problem]:
    """Every problem with the registry's links, sorted; empty when all are fine."""
    at = now()
    wanted = links_to_ask(registry, at)
    reports = asyncio.run(_fetch_all(settings, wanted, at))
    return sorted(p for report in reports for p in problems_in(report, wanted[report.source], at))


def links_to_ask(registry: Registry, at: datetime) -> dict[str, dict[str, date]]:
    """source -> {symbol: first date to ask for}: the span a poll reads before a
    prediction's start, enough points to show a series' cadence."""
    wanted: dict[str, dict[str, date]] = defaultdict(dict)
    for series_id in registry.series_ids():
        source, symbol = series_id.split(":", 1)
        if source in SOURCES:
            wanted[source][symbol] = (at - history_before_start(series_id)).date()
    return dict(wanted)


async def _fetch_all(
    settings: Settings, wanted: dict[str, dict[str, date]], at: datetime
) -> list[SourceReport]:
    async with HttpClient.from_settings(settings) as http:
        return await asyncio.gather(
            *(_fetch(http, settings, name, symbols, at) for name, symbols in wanted.items())
        )


async def _fetch(
    http: HttpClient, settings: Settings, name: str, symbols: dict[str, date], at: datetime
) -> SourceReport:
    try:
        return await load_source(name).fetch(http, settings, symbols, at)
    except SourceError as exc:  # sources record per-symbol errors; this is a last resort
        return SourceReport(name, errors=dict.fromkeys(symbols, str(exc)))


def problems_in(report: SourceReport, since: dict[str, date], at: datetime) -> list[Problem]:
    """The problems in one source's answer: one for the source when all of its links
    failed and none because it does not exist, else one per link."""
    if len(report.errors) > 1 and not report.series and not report.missing:
        return [_source_problem(report)]
    problems = [Problem(f"{report.source}:{symbol}", message)
                for symbol, message in report.errors.items()]
    problems += [Problem(f"{report.source}:{s.symbol}", _no_data_since(s, since[s.symbol]))
                 for s in report.series if is_stale(s.points, at)]
    return problems


def _source_problem(report: SourceReport) -> Problem:
    """Every link of the source failed, and none because it does not exist: unreachable,
    refusing, or answering nonsense. Its most common message says which."""
    message = Counter(report.errors.values()).most_common(1)[0][0]
    return Problem(report.source, f"cannot check its {len(report.errors)} links: {message}")


def _no_data_since(series: SeriesData, asked_from: date) -> str:
    newest = series.points[-1].ts.date() if series.points else asked_from
    return f"no data since {newest.isoformat()}"
