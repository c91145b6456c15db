"""The year database of bench/year.py: a year of 5-minute market polling and years of
daily bars, written with bulk ``sqlite3`` inserts as the product would have stored them.

Market odds follow random walks in 0.001 steps that move on a few percent of polls (each
market its own share), so most polls repeat the value. A few markets resolve mid-year:
their odds drift towards the outcome for two weeks, a poll reads the market resolved at
1 or 0, the next poll reads it again (which confirms it) and no poll asks for it after.

New storage (the product's, db/changes.py): a market point where the odds change, each
at its poll's time, ``fetched_at`` and ``first_seen_at`` that time too; the series keeps
``confirmed_at`` (its last poll) and, once resolved, ``resolution_confirmed_at``.
``old_storage`` rewrites a copy the way the product stored markets before: a point on
every poll, resolved markets polled to the end. ``integer_keys`` rewrites a copy with an
integer series key and epoch-second timestamps in the points table.

``check_against_product`` feeds windows of the same polls through the product's own
store (``tracker.service.poll.store_series``) and compares what it kept.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from array import array
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

MARKET_SOURCES = ("polymarket", "kalshi")
EPSILON = 0.001  # tracker.service.evaluation.PROBABILITY_EPSILON
DRIFT_POLLS = 14 * 288  # two weeks of 5-minute polls before a resolution
OBSERVATION_INSERT = ("INSERT INTO observation (series_id, ts, value, high, low, fetched_at, "
                      "first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)")


def text(value: datetime) -> str:
    """A timestamp as the project's SQLite columns store it: naive UTC text, microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@dataclass
class Market:
    """One market's polls: its value at each tick up to ``last_poll`` (inclusive)."""

    series_id: str
    values: array
    resolve_at: int | None = None  # the tick a poll first read it resolved
    outcome: float | None = None

    @property
    def last_poll(self) -> int:
        """The tick of its last poll: the confirming read after a resolution."""
        return len(self.values) - 1 if self.resolve_at is None else self.resolve_at + 1

    def state_at(self, tick: int) -> tuple[str, float | None]:
        if self.resolve_at is not None and tick >= self.resolve_at:
            return "resolved", self.outcome
        return "open", None

    def changes(self, start: int = 0, stop: int | None = None) -> list[int]:
        """The ticks in [start, stop] whose poll changed the value (the first always)."""
        stop = self.last_poll if stop is None else min(stop, self.last_poll)
        values = self.values
        return [i for i in range(start, stop + 1) if i == start or values[i] != values[i - 1]]


def market_walk(rng: random.Random, series_id: str, n_ticks: int,
                resolve_at: int | None) -> Market:
    """A market's odds over ``n_ticks`` polls: a walk that moves on a share of polls of
    its own (1-12 %), drifting to its outcome before ``resolve_at`` when it resolves."""
    value = round(rng.uniform(0.05, 0.95), 3)
    move_share = rng.uniform(0.01, 0.12)
    scale = rng.uniform(0.002, 0.012)
    outcome = float(rng.random() < value) if resolve_at is not None else None
    end = n_ticks if resolve_at is None else resolve_at
    values = array("d")
    for tick in range(end):
        if rng.random() < move_share:
            pull = 0.0
            if resolve_at is not None and resolve_at - tick < DRIFT_POLLS:
                pull = (outcome - value) * 0.02
            step = rng.gauss(pull, scale)
            value = min(0.999, max(0.001, round(value + step, 3)))
        values.append(value)
    if resolve_at is not None:
        values.extend([outcome] * (n_ticks - resolve_at))  # what old storage kept polling
    return Market(series_id, values, resolve_at, outcome)


def simulate_markets(series_ids: list[str], n_ticks: int, resolving: int,
                     seed: int = 16) -> list[Market]:
    """The markets' polls; ``resolving`` of them resolve between 3 and 10 months in."""
    rng = random.Random(seed)
    chosen = set(rng.sample(range(len(series_ids)), min(resolving, len(series_ids))))
    markets = []
    for i, series_id in enumerate(series_ids):
        resolve_at = int(n_ticks * rng.uniform(0.25, 0.85)) if i in chosen else None
        markets.append(market_walk(rng, series_id, n_ticks, resolve_at))
    return markets


def market_rows(market: Market, ticks: list[str], every_poll: bool = False):
    """Observation rows: where the odds changed (new storage), or on every poll of the
    year (old storage, which kept polling a resolved market)."""
    indices = range(len(ticks)) if every_poll else market.changes()
    for i in indices:
        yield market.series_id, ticks[i], market.values[i], None, None, ticks[i], ticks[i]


def market_series_row(market: Market, ticks: list[str], first_seen: str) -> tuple:
    state, resolved = market.state_at(market.last_poll)
    confirmed = ticks[market.last_poll]
    settled = confirmed if market.resolve_at is not None else None
    source, symbol = market.series_id.split(":", 1)
    return (market.series_id, source, symbol, f"Bench {symbol}", "probability", first_seen,
            state, resolved, confirmed, settled)


def daily_rows(rng: random.Random, series_id: str, days: list[datetime], polled_from: datetime,
               bars: bool):
    """A daily random walk. Bars before ``polled_from`` came in one backfill then; later
    bars were first seen the evening of their day and last returned the next day."""
    value = 100.0
    backfilled = text(polled_from)
    for day in days:
        value *= 1.0 + rng.gauss(0.0, 0.01)
        if day < polled_from:
            first = last = backfilled
        else:
            first, last = text(day + timedelta(hours=22)), text(day + timedelta(days=1, hours=1))
        high, low = (value * 1.005, value * 0.995) if bars else (None, None)
        yield series_id, text(day), value, high, low, last, first


def snapshots_of(prediction, market: Market, ticks: list[str]):
    """The snapshots a year of evaluation stores for a market call: one whenever its
    probability moved past EPSILON (tracker/service/evaluation.py ``_changed``)."""
    last = None
    for i in market.changes():
        yes = market.values[i]
        p = yes if prediction.side == "yes" else 1.0 - yes
        if last is not None and abs(p - last) <= EPSILON:
            continue
        last = p
        ts = ticks[i]
        status = "on_track" if p >= 0.5 else "off_track"
        yield (prediction.id, ts, status, p, yes, ts,
               f"{prediction.series}: market gives {prediction.side} {p:.1%}",
               "market:polymarket",
               json.dumps({"as_of": ts, "state": "open", "yes_price": yes}, sort_keys=True))


def connect_for_build(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # building only; the measured reads use the engine's
    conn.execute("PRAGMA cache_size=-200000")
    return conn


# --- the storage variants ------------------------------------------------------------------


def compact_size(path: Path) -> int:
    """Bytes of the database once checkpointed and vacuumed (the same for every variant)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def table_bytes(path: Path, names: tuple[str, ...]) -> int | None:
    """Bytes of these tables and indexes (SQLite's dbstat), or None where it is missing."""
    conn = sqlite3.connect(path)
    try:
        marks = ", ".join("?" * len(names))
        return conn.execute(f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({marks})",
                            names).fetchone()[0]
    except sqlite3.OperationalError:  # built without SQLITE_ENABLE_DBSTAT_VTAB
        return None
    finally:
        conn.close()


# The points table is its primary key (WITHOUT ROWID): no index of its own. The integer
# variant counts the table mapping keys to series ids with it.
POINTS_TABLES = ("observation",)
INTEGER_POINTS_TABLES = ("observation_int", "series_key", "sqlite_autoindex_series_key_1")


def old_storage(new: Path, old: Path, markets: list[Market], ticks: list[str]) -> int:
    """A copy of ``new`` with every market's odds stored on every poll; its point count."""
    shutil.copyfile(new, old)
    conn = connect_for_build(old)
    with conn:
        for market in markets:
            conn.execute("DELETE FROM observation WHERE series_id = ?", (market.series_id,))
            conn.executemany(OBSERVATION_INSERT, market_rows(market, ticks, every_poll=True))
        conn.execute("UPDATE series SET confirmed_at = NULL, resolution_confirmed_at = NULL")
        conn.execute("UPDATE series SET point_count = (SELECT count(*) FROM observation "
                     "WHERE observation.series_id = series.id)")
    points = conn.execute("SELECT count(*) FROM observation").fetchone()[0]
    conn.close()
    return points


def integer_keys(new: Path, variant: Path) -> None:
    """A copy of ``new`` whose points table has an integer series key (a lookup table
    maps it to the text id) and epoch-second timestamps, in place of text."""
    shutil.copyfile(new, variant)
    conn = connect_for_build(variant)
    with conn:
        conn.execute("CREATE TABLE series_key (key INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL)")
        conn.execute("INSERT INTO series_key (id) SELECT id FROM series ORDER BY id")
        conn.execute(
            "CREATE TABLE observation_int (series INTEGER NOT NULL, ts INTEGER NOT NULL, "
            "value REAL NOT NULL, high REAL, low REAL, fetched_at INTEGER NOT NULL, "
            "first_seen_at INTEGER, PRIMARY KEY (series, ts)) WITHOUT ROWID")
        conn.execute(
            "INSERT INTO observation_int SELECT k.key, CAST(strftime('%s', o.ts) AS INTEGER), "
            "o.value, o.high, o.low, CAST(strftime('%s', o.fetched_at) AS INTEGER), "
            "CAST(strftime('%s', o.first_seen_at) AS INTEGER) "
            "FROM observation AS o JOIN series_key AS k ON k.id = o.series_id")
        conn.execute("DROP TABLE observation")
    conn.close()


# --- checked against the product ---------------------------------------------------------


def check_against_product(markets: list[Market], tick_times: list[datetime], polls: int) -> dict:
    """Store ``polls`` polls of two markets (one around its resolution) through the
    product's store in a scratch database, and compare with what this module writes."""
    import tempfile

    from db import queries
    from db.engine import open_database
    from tracker.service.poll import store_series
    from tracker.sources.base import Point, SeriesData, SourceReport

    resolving = next((m for m in markets if m.resolve_at is not None), None)
    open_one = next(m for m in markets if m.resolve_at is None)
    windows = [(open_one, 0)]
    if resolving is not None:
        windows.append((resolving, max(0, resolving.resolve_at - polls + 3)))
    checked = {}
    with tempfile.TemporaryDirectory(prefix="tracker-year-check-") as scratch:
        engine = open_database(f"sqlite:///{Path(scratch) / 'check.db'}")
        for market, start in windows:
            source, symbol = market.series_id.split(":", 1)
            stop = min(start + polls - 1, market.last_poll)
            for tick in range(start, stop + 1):
                state, resolved = market.state_at(tick)
                read = SeriesData(symbol, [Point(ts=tick_times[tick], value=market.values[tick])],
                                  name=f"Bench {symbol}", unit="probability", state=state,
                                  resolved_value=resolved)
                store_series(engine, SourceReport(source, [read]), tick_times[tick])
            stored = [(text(p.ts), p.value) for p in
                      queries.newest_points(engine, [market.series_id], polls)[market.series_id]]
            expected = [(text(tick_times[i]), market.values[i]) for i in market.changes(start, stop)]
            row = queries.series_by_id(engine, [market.series_id])[market.series_id]
            settled = text(tick_times[stop]) if stop == market.last_poll and \
                market.resolve_at is not None else None
            same = (stored == expected and text(row.confirmed_at) == text(tick_times[stop])
                    and (row.resolution_confirmed_at and text(row.resolution_confirmed_at)) == settled
                    and row.point_count == len(expected))
            if not same:
                raise SystemExit(f"{market.series_id}: the bulk rows differ from the product's "
                                 f"store: {stored[:5]} vs {expected[:5]}; {row}")
            checked[market.series_id] = {"polls": stop - start + 1, "points": len(expected)}
        engine.dispose()
    return checked


def first_tick(days: int, now: datetime) -> datetime:
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    return today - timedelta(days=days)


def made_on_days(count: int, first_day: date, days: int) -> list[date]:
    return [first_day + timedelta(days=(i + 1) * days // (count + 1)) for i in range(count)]
