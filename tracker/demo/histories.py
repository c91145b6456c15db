"""The demo's data: for each series the registry links, what a year of polling would have
stored. Recorded real histories where the package holds one (``recorded/``: answers of
FRED and SEC EDGAR, parsed by the sources' own parsers); elsewhere a path drawn from a
seeded random generator, the same on every machine, and labelled as generated.

Generated paths are plausible in shape, not in level or direction: daily closes on
weekdays as a random walk in log price (1% a day), macro series monthly or quarterly
with small steps, market odds as a random walk in log-odds. They say nothing about what
happened in 2026.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources

from tracker.points import Point
from tracker.sources.base import SeriesData
from tracker.sources.edgar import parse_submissions
from tracker.sources.fred import parse_csv

SEED = 2026

# Recorded answers of the real APIs, where each came from (as the demo says it), and how
# a recording that ends before the demo does is carried on: daily, on weekdays, by a
# seeded path with this daily volatility (0: the last value held), or quarterly.
RECORDED = {
    "fred:DCOILWTICO": ("DCOILWTICO_daily_2025-12_2026-09.csv",
                        "FRED fredgraph.csv, daily WTI spot, fetched 2026-09-18", "daily", 0.01),
    "fred:DFEDTARU": ("DFEDTARU_daily_2025-07_2026-10.csv",
                      "FRED fredgraph.csv, fed funds target upper limit, to 2026-10-04",
                      "daily", 0.0),
    "fred:GDPC1": ("GDPC1_fredgraph_2000Q1_2026Q1.csv",
                   "FRED fredgraph.csv, quarterly real GDP, to 2026Q1", "quarterly", 0.0),
    "edgar:1181412": ("submissions_CIK0001181412_spacex.json",
                      "SEC EDGAR submissions of SpaceX, fetched 2026-08-25", None, 0.0),
}

# Where a generated path starts: roughly the level each series had at the end of 2025,
# so that the claims' thresholds are in reach. Anything else starts at 100.
START_LEVELS = {
    "yahoo:CL=F": 58.0, "yahoo:BZ=F": 61.0, "yahoo:HG=F": 5.0, "yahoo:GC=F": 4300.0,
    "yahoo:SI=F": 70.0, "yahoo:PL=F": 2000.0, "yahoo:^GSPC": 6850.0, "yahoo:^IXIC": 23200.0,
    "yahoo:DX-Y.NYB": 98.0, "yahoo:BTC-USD": 88000.0,
    "fred:CPIAUCSL": 325.0, "fred:PAYEMS": 159500.0, "fred:LNS14000036": 8.0,
    "fred:A191RL1Q225SBEA": 2.0, "fred:A191RL1A225NBEA": 2.5, "fred:GDPNOW": 2.5,
    "fred:DTWEXBGS": 120.0, "fred:SFXRSA": 330.0, "fred:LXXRSA": 430.0,
    "fred:CSUSHPISA": 330.0,
}
QUARTERLY = {"fred:A191RL1Q225SBEA", "fred:A191RL1A225NBEA", "fred:GDPNOW"}
DAILY_FRED = {"fred:DTWEXBGS"}
UNITS = {"yahoo": "USD", "polymarket": "probability", "kalshi": "probability",
         "edgar": "filings"}


@dataclass(frozen=True)
class DemoSeries:
    series_id: str
    data: SeriesData
    origin: str  # where its points came from, as the demo says it
    recorded: bool


def histories(series_ids: list[str], start: date, end: date, seed: int = SEED,
              closes: dict[str, date] | None = None) -> list[DemoSeries]:
    """Each series' points from ``start`` to ``end`` (recorded ones as recorded). A
    generated market in ``closes`` resolves the day after its date there, if that is
    before ``end``: yes when its odds were above even, its last point 1 (else 0)."""
    closes = closes or {}
    found = []
    for series_id in series_ids:
        # One generator per series, seeded by its id: adding a series to the registry
        # leaves every other series' path as it was.
        rng = random.Random(f"{seed}:{series_id}")
        if series_id in RECORDED:
            found.append(_recorded(series_id, end, rng, seed))
        else:
            data = _generated(series_id, start, end, rng)
            close = closes.get(series_id)
            if data.state == "open" and close is not None and close < end:
                _resolve(data, close)
            found.append(DemoSeries(series_id, data,
                                    f"generated: a seeded random path (seed {seed}), not real "
                                    "prices", recorded=False))
    return found


def _recorded(series_id: str, end: date, rng: random.Random, seed: int) -> DemoSeries:
    """The recording up to ``end``; one that stops earlier carried on to ``end`` by a
    generated path (the demo says from when), so that no claim goes stale for want of
    a newer recording."""
    file, origin, cadence, volatility = RECORDED[series_id]
    text = resources.files("tracker.demo").joinpath("recorded", file).read_text("utf-8")
    source, symbol = series_id.split(":", 1)
    if source == "edgar":
        data = parse_submissions(json.loads(text), symbol, end)
    else:
        data = parse_csv(text, symbol)
    data.points = [p for p in data.points if p.ts.date() <= end]
    origin = f"recorded: {origin}"
    last = data.points[-1]
    if cadence == "daily" and last.ts.date() < end:
        after = last.ts.date() + timedelta(days=1)
        data.points += _closes(last.value, after, end, rng, volatility, bars=False)
        origin += f"; generated from {after} (seeded random path, seed {seed})"
    elif cadence == "quarterly" and last.ts.date() < end - timedelta(days=92):
        quarter = _macro(last.value, last.ts.date(), end, 3, rng)[1:]
        data.points += quarter
        origin += (f"; generated from {quarter[0].ts.date()} (seeded random path, seed {seed})"
                   if quarter else "")
    return DemoSeries(series_id, data, origin, recorded=True)


def _generated(series_id: str, start: date, end: date, rng: random.Random) -> SeriesData:
    source, symbol = series_id.split(":", 1)
    if source in ("polymarket", "kalshi"):
        points = _odds(start, end, rng)
    elif source == "edgar":
        points = [Point(_at(end), 0.0)]  # no registration filing
    elif source == "fred" and series_id not in DAILY_FRED:
        months = 3 if series_id in QUARTERLY else 1
        points = _macro(START_LEVELS.get(series_id, 100.0), start, end, months, rng)
    else:
        points = _closes(START_LEVELS.get(series_id, 100.0), start, end, rng)
    # A generated market's question, from its slug: the demo has no real one to quote.
    name = f"{symbol.replace('-', ' ').capitalize()}?" if source == "polymarket" else None
    return SeriesData(symbol=symbol, points=points, name=name, unit=UNITS.get(source),
                      state="open" if source in ("polymarket", "kalshi") else None)


def _resolve(data: SeriesData, close: date) -> None:
    """The market settles the day after ``close``: its odds go to 1 or 0 and stay."""
    points = [p for p in data.points if p.ts.date() <= close]
    won = 1.0 if points and points[-1].value > 0.5 else 0.0
    data.points = [*points, Point(_at(close + timedelta(days=1)), won)]
    data.state, data.resolved_value = "resolved", won


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _days(start: date, end: date, weekdays_only: bool) -> list[date]:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [d for d in days if d.weekday() < 5] if weekdays_only else days


def _closes(level: float, start: date, end: date, rng: random.Random,
            volatility: float = 0.01, bars: bool = True) -> list[Point]:
    """Weekday closes (with a day's high and low when ``bars``), a random walk in log."""
    points = []
    for day in _days(start, end, weekdays_only=True):
        level *= math.exp(rng.gauss(0.0, volatility))
        close = round(level, 4)
        points.append(Point(_at(day), close, round(level * 1.008, 4), round(level * 0.992, 4))
                      if bars else Point(_at(day), close))
    return points


def _macro(level: float, start: date, end: date, months: int, rng: random.Random) -> list[Point]:
    points, day = [], date(start.year, start.month, 1)
    while day <= end:
        level += rng.gauss(0.0, abs(level) * 0.004 + 0.05)
        points.append(Point(_at(day), round(level, 3)))
        month = day.month - 1 + months
        day = date(day.year + month // 12, month % 12 + 1, 1)
    return points


def _odds(start: date, end: date, rng: random.Random) -> list[Point]:
    logit = rng.uniform(-2.0, 1.0)
    points = []
    for day in _days(start, end, weekdays_only=False):
        logit += rng.gauss(0.0, 0.12)
        points.append(Point(_at(day), round(1.0 / (1.0 + math.exp(-logit)), 3)))
    return points
