"""The queries: bulk upserts, latest values, ranges, snapshots and source health.

Plain rows in, plain rows out (dicts in; named tuples out, each typed), so callers never
hold a session. The reads the quick path shares are in db/reads.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, and_, bindparam, func, or_, select, text, update

from db import changes, outbox, reads
from db.models import (
    BackfillProgress,
    DigestLog,
    MadeOnPrice,
    Observation,
    Resolution,
    Series,
    Snapshot,
    SourceHealth,
)
from db.reads import (
    Confirmation,
    SeriesOverviewRow,
    SnapshotRow,
    SourceHealthRow,
    StoredPoint,
)
from tracker.points import Point

UPSERT_BATCH = 50_000
COUNT_CHUNK = 300  # series per count query in upsert_observations: 3 parameters each

_OBS = Observation.__table__
_SERIES = Series.__table__
_SNAP = Snapshot.__table__
_HEALTH = SourceHealth.__table__
_RESOLUTION = Resolution.__table__
_BACKFILL = BackfillProgress.__table__
_DIGEST = DigestLog.__table__


def _upsert_row(engine: Engine, table, row: dict[str, Any], key: str) -> None:
    """Insert ``row``, or replace the other columns of the row with the same ``key``."""
    stmt = _insert(engine, table).values(row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key], set_={col: stmt.excluded[col] for col in row if col != key}
    )
    with engine.begin() as conn:
        conn.execute(stmt)


def _insert(engine: Engine, table):
    """An INSERT with the dialect's ON CONFLICT (imported here: the CLI's reads never
    pay for both dialects' modules)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert_series(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert series rows; a known series keeps first_seen_at, takes a newer name, unit and
    meta when given, and always takes the latest market state."""
    if not rows:
        return
    stmt = _insert(engine, _SERIES)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "name": func.coalesce(stmt.excluded.name, _SERIES.c.name),
            "unit": func.coalesce(stmt.excluded.unit, _SERIES.c.unit),
            "state": stmt.excluded.state,
            "resolved_value": stmt.excluded.resolved_value,
            "meta": func.coalesce(stmt.excluded.meta, _SERIES.c.meta),
        },
    )
    with engine.begin() as conn:
        conn.execute(stmt, list(rows))


def ensure_series(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert series rows that are new; a known series only fills a missing name or unit.

    For history: it must never touch a market's state, which only a live poll knows."""
    if not rows:
        return
    stmt = _insert(engine, _SERIES)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "name": func.coalesce(_SERIES.c.name, stmt.excluded.name),
            "unit": func.coalesce(_SERIES.c.unit, stmt.excluded.unit),
        },
    )
    with engine.begin() as conn:
        conn.execute(stmt, list(rows))


def upsert_observations(engine: Engine, rows: Iterable[dict[str, Any]],
                        changes_only: bool = False) -> int:
    """Store points idempotently: one upsert statement per batch of up to UPSERT_BATCH rows.

    The same (series_id, ts) twice leaves one row; a revised value replaces the old one,
    and ``first_seen_at`` (the first ``fetched_at``) stays. Each series' ``point_count``
    grows by the rows that were new, in the same transaction (see ``_store_batch``).

    With ``changes_only`` (market odds, polled far more often than they move) a point is
    stored only where the value changes: see db/changes.py. Returns the number of rows
    sent to the database.
    """
    stmt = _insert(engine, _OBS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["series_id", "ts"],
        set_={
            "value": stmt.excluded.value,
            "high": stmt.excluded.high,
            "low": stmt.excluded.low,
            "fetched_at": stmt.excluded.fetched_at,
            # Kept; a point stored before migration 0006 takes its first fetch time
            # known (every SET expression reads the row as it was).
            "first_seen_at": func.coalesce(_OBS.c.first_seen_at, _OBS.c.fetched_at),
        },
    )
    sent = 0
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in rows:
            batch.append(row | {"first_seen_at": row["fetched_at"]})
            if len(batch) >= UPSERT_BATCH:
                sent += _store_batch(conn, stmt, batch, changes_only)
                batch = []
        if batch:
            sent += _store_batch(conn, stmt, batch, changes_only)
    return sent


# Statements of _store_batch, run once per series of a batch (executemany).
_LOCK_SERIES = (
    update(_SERIES).where(_SERIES.c.id == bindparam("sid"))
    .values(point_count=_SERIES.c.point_count)
)
_ADD_POINTS = (
    update(_SERIES).where(_SERIES.c.id == bindparam("sid"))
    .values(point_count=_SERIES.c.point_count + bindparam("added"))
)


def _store_batch(conn, stmt, batch: list[dict[str, Any]], changes_only: bool = False) -> int:
    """Upsert one batch and add the rows that were new to their series' ``point_count``;
    with ``changes_only``, only the rows that change their series' value. Returns the
    number of rows upserted.

    No trigger: PostgreSQL's executemany runs one statement per row, so a trigger would
    update the series row once per point. Instead each series' stored rows between the
    batch's first and last timestamp for it are counted before and after the upsert (a
    range scan of the primary key): every inserted row lies in that range and no point is
    ever deleted, so the difference is exactly the new rows; a re-sent point adds 0.

    That holds only if no other writer adds points to these series in between, so their
    rows are locked first, in id order (two batches then never wait on each other in a
    cycle). On SQLite that first UPDATE takes the database's write lock before anything is
    read; on PostgreSQL it row-locks the series until commit, so writers of the same
    series take turns while writers of other series go on. (A call of several batches
    locks each batch's series as it reaches them: two such calls at once on PostgreSQL
    could deadlock, and the server would then fail one of them, storing nothing of it.)
    """
    ranges = _ts_ranges(batch)
    conn.execute(_LOCK_SERIES, [{"sid": sid} for sid in sorted(ranges)])
    if changes_only:  # read under the lock: a writer at once would store the same change
        batch = changes.only_changes(batch, changes.read_around(conn, ranges))
        if not batch:
            return 0
        ranges = _ts_ranges(batch)
    before = _count_in_ranges(conn, ranges)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_UPSERT_SQLITE, _sqlite_rows(batch))
    else:
        conn.execute(stmt, batch)
    after = _count_in_ranges(conn, ranges)
    added = [{"sid": sid, "added": after[sid] - before[sid]} for sid in sorted(ranges)
             if after[sid] != before[sid]]
    if added:
        conn.execute(_ADD_POINTS, added)
    return len(batch)


# The same upsert as upsert_observations' statement, as SQLite's driver takes it: rows go
# to sqlite3's executemany as tuples, without SQLAlchemy's per-value type processing,
# which took longer than the database's own work.
_UPSERT_SQLITE = (
    "INSERT INTO observation (series_id, ts, value, high, low, fetched_at, first_seen_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, ts) DO UPDATE SET "
    "value = excluded.value, high = excluded.high, low = excluded.low, "
    "fetched_at = excluded.fetched_at, "
    "first_seen_at = coalesce(observation.first_seen_at, observation.fetched_at)"
)


def _sqlite_rows(batch: list[dict[str, Any]]) -> list[tuple]:
    """The batch as _UPSERT_SQLITE's tuples, timestamps as SQLite stores them (as
    ``db.types.UTCDateTime`` does, naive ones refused)."""
    fetched: dict[datetime, str] = {}  # a poll stores many points with one fetched_at

    def moment(value: datetime) -> str:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a time zone")
        return reads.stored_text(value)

    rows = []
    for row in batch:
        at = row["fetched_at"]
        at_text = fetched.get(at) or fetched.setdefault(at, moment(at))
        rows.append((row["series_id"], moment(row["ts"]), row["value"], row.get("high"),
                     row.get("low"), at_text, at_text))
    return rows


# Statement of confirm_series, run once per series (executemany).
_CONFIRM = (
    update(_SERIES).where(_SERIES.c.id == bindparam("sid"))
    .values(confirmed_at=bindparam("at", type_=_SERIES.c.confirmed_at.type),
            resolution_confirmed_at=bindparam("settled", type_=_SERIES.c.confirmed_at.type))
)


def confirm_series(engine: Engine, settled: Mapping[str, datetime | None], at: datetime) -> None:
    """Record that the fetch at ``at`` returned these market series (their odds changed or
    not), each with when its final state was confirmed (None: open, or final only once)."""
    if not settled:
        return
    with engine.begin() as conn:
        conn.execute(_CONFIRM, [{"sid": sid, "at": at, "settled": when}
                                for sid, when in sorted(settled.items())])


def confirmations(engine: Engine) -> dict[str, Confirmation]:
    """When each market series was last returned by a fetch, by id
    (``db.reads.confirmations``)."""
    with engine.connect() as conn:
        return reads.confirmations(_runner(conn))


def _ts_ranges(batch: list[dict[str, Any]]) -> dict[str, tuple[datetime, datetime]]:
    """The first and last timestamp of each series in ``batch``."""
    ranges: dict[str, list[datetime]] = {}
    for row in batch:
        ts = row["ts"]
        span = ranges.get(row["series_id"])
        if span is None:
            ranges[row["series_id"]] = [ts, ts]
        elif ts < span[0]:
            span[0] = ts
        elif ts > span[1]:
            span[1] = ts
    return {sid: (lo, hi) for sid, (lo, hi) in ranges.items()}


def _count_in_ranges(conn, ranges: dict[str, tuple[datetime, datetime]]) -> dict[str, int]:
    """How many points each series has stored between its two timestamps (inclusive).

    One query per COUNT_CHUNK series (a poll stores hundreds of series at once): an OR
    of one primary-key range per series, which both databases scan range by range."""
    counts = dict.fromkeys(ranges, 0)
    spans = sorted(ranges.items())
    for start in range(0, len(spans), COUNT_CHUNK):
        chunk = spans[start:start + COUNT_CHUNK]
        counts.update(conn.execute(_count_query(len(chunk)), changes.range_params(chunk)).all())
    return counts


@functools.lru_cache(maxsize=64)
def _count_query(n: int):
    """The query of _count_in_ranges for ``n`` series, built once: parameters s0, lo0,
    hi0, s1, ... (building 300 ranges as expressions costs more than running them)."""
    ts = _OBS.c.ts
    in_ranges = or_(*(and_(_OBS.c.series_id == bindparam(f"s{i}"),
                           ts.between(bindparam(f"lo{i}", type_=ts.type), bindparam(f"hi{i}", type_=ts.type)))
                      for i in range(n)))
    return select(_OBS.c.series_id, func.count()).where(in_ranges).group_by(_OBS.c.series_id)


def last_timestamps(
    engine: Engine, series_ids: Iterable[str], before: datetime | None = None
) -> dict[str, datetime]:
    """The newest stored timestamp of each series that has points (earlier than
    ``before`` when given: the point a poll has just stored does not show a gap)."""
    ids = list(series_ids)
    if not ids:
        return {}
    query = (
        select(_OBS.c.series_id, func.max(_OBS.c.ts))
        .where(_OBS.c.series_id.in_(ids))
        .group_by(_OBS.c.series_id)
    )
    if before is not None:
        query = query.where(_OBS.c.ts < before)
    with engine.connect() as conn:
        # func.max loses the column type on SQLite, so convert through the column's type.
        process = _OBS.c.ts.type.process_result_value
        return {
            sid: process(_as_datetime(ts), engine.dialect) for sid, ts in conn.execute(query)
        }


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def all_series_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [id_ for (id_,) in _runner(conn)(reads.SERIES_IDS, {})]


SeriesRow = reads.SeriesRow


def series_by_id(engine: Engine, series_ids: Iterable[str]) -> dict[str, SeriesRow]:
    """The stored series among these ids (name, unit, market state, meta), by id."""
    ids = list(series_ids)
    if not ids:
        return {}
    with engine.connect() as conn:
        return reads.series_by_id(_runner(conn), ids)


def _columns(table, row_type: type[tuple]) -> list:
    """The columns of ``table`` named like the fields of ``row_type``, in their order."""
    return [table.c[name] for name in row_type._fields]


def series_points(engine: Engine, series_id: str, since: datetime | None = None):
    """Points of one series in time order: rows with ts, value, high, low."""
    query = select(_OBS.c.ts, _OBS.c.value, _OBS.c.high, _OBS.c.low).where(
        _OBS.c.series_id == series_id
    )
    if since is not None:
        query = query.where(_OBS.c.ts >= since)
    with engine.connect() as conn:
        return conn.execute(query.order_by(_OBS.c.ts)).all()


def points_since(engine: Engine, since: dict[str, datetime | None]) -> dict[str, list[Point]]:
    """Points of many series, each in time order from its own start (None: all of it)
    (``db.reads.points_in``)."""
    with engine.connect() as conn:
        return reads.points_in(_runner(conn), {sid: (start, None) for sid, start in since.items()})


def newest_points(engine: Engine, series_ids: Iterable[str], count: int) -> dict[str, list[StoredPoint]]:
    """The newest ``count`` points of each series, in time order, with ``fetched_at`` and
    ``first_seen_at`` (``db.reads.newest_points``)."""
    with engine.connect() as conn:
        return reads.newest_points(_runner(conn), series_ids, count)


def series_overview(engine: Engine) -> list[SeriesOverviewRow]:
    """Every stored series with its point count and newest point, by id
    (``db.reads.series_overview``)."""
    with engine.connect() as conn:
        return reads.series_overview(_runner(conn))


def _runner(conn) -> reads.Run:
    """How a read of db/reads.py runs its SQL text on this connection. Timestamps go to
    SQLite as the text it stores (db/types.py), to PostgreSQL as they are."""
    # fetchall: the reads keep every row, and a Result iterated fetches one at a time.
    if conn.dialect.name == "sqlite":
        return lambda sql, params: conn.execute(_statement(sql), reads.sqlite_params(params)).all()
    return lambda sql, params: conn.execute(_statement(sql), params).all()


@contextmanager
def reading(engine: Engine) -> Iterator[reads.Run]:
    """A connection to run the reads of db/reads.py on, as ``run(sql, params)``."""
    with engine.connect() as conn:
        yield _runner(conn)


# The text() of each SQL string, built once (newest_points has one per chunk size).
_statement = functools.lru_cache(maxsize=128)(text)


# --- snapshots ---------------------------------------------------------------------------


def latest_snapshots(engine: Engine) -> dict[str, SnapshotRow]:
    """The newest snapshot of every prediction, keyed by prediction id."""
    with engine.connect() as conn:
        return reads.latest_snapshots(_runner(conn))


def add_snapshots(engine: Engine, rows: Sequence[dict[str, Any]],
                  notify: outbox.NotifyWrite | None = None) -> None:
    """Store snapshots, and in the same transaction the notifications they caused (and
    the notification state they moved): both are stored, or neither."""
    if not rows and not (notify and (notify.events or notify.states)):
        return
    rows = [{**row, "inputs": _json_or_none(row.get("inputs"))} for row in rows]
    with engine.begin() as conn:
        if rows:
            conn.execute(_SNAP.insert(), rows)
        outbox.write(conn, notify)


def snapshot_history(engine: Engine, prediction_id: str) -> list[SnapshotRow]:
    """Every snapshot of one prediction, oldest first."""
    with engine.connect() as conn:
        return reads.snapshot_history(_runner(conn), prediction_id)


def _json_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


# --- source health -------------------------------------------------------------------------


def source_health(engine: Engine) -> dict[str, SourceHealthRow]:
    """Every source that has been polled, keyed by name."""
    with engine.connect() as conn:
        return reads.source_health(_runner(conn))


symbol_errors = reads.symbol_errors  # written once, in db/reads.py


def record_source_result(
    engine: Engine,
    source: str,
    at: datetime,
    error: str | None,
    failing_symbols: Mapping[str, str] | Iterable[str] = (),
    next_allowed_at: datetime | None = None,
    notify: outbox.NotifyWrite | None = None,
) -> None:
    """Record one poll of a source: success resets the failure count, failure bumps it.
    ``notify``: the notifications this result causes, stored in the same transaction.

    ``error`` is set only when the source failed outright. ``failing_symbols`` maps each
    failing symbol to its message either way (a source that answered may still have
    symbols that do not exist); a plain list of symbols gives each one ``error``. Stored
    as a JSON object."""
    if not isinstance(failing_symbols, Mapping):
        failing_symbols = dict.fromkeys(failing_symbols, error or "failed")
    values: dict[str, Any] = {
        "source": source,
        "last_attempt_at": at,
        "last_error": error,
        "failing_symbols": json.dumps(dict(failing_symbols), sort_keys=True) if failing_symbols
        else None,
        "next_allowed_at": next_allowed_at,
    }
    stmt = _insert(engine, _HEALTH)
    if error is None:
        values |= {"last_success_at": at, "consecutive_failures": 0, "failing_since": None}
        update = {key: stmt.excluded[key] for key in values if key != "source"}
    else:
        values |= {"consecutive_failures": 1, "failing_since": at}
        update = {key: stmt.excluded[key] for key in values if key != "source"}
        update["consecutive_failures"] = _HEALTH.c.consecutive_failures + 1
        # The run of failures began at the first of them: keep that time.
        update["failing_since"] = func.coalesce(_HEALTH.c.failing_since, stmt.excluded.failing_since)
    with engine.begin() as conn:
        conn.execute(stmt.values(values).on_conflict_do_update(index_elements=["source"], set_=update))
        outbox.write(conn, notify)


# --- manual resolutions ----------------------------------------------------------------------


ResolutionRow = reads.ResolutionRow


def resolutions(engine: Engine) -> dict[str, ResolutionRow]:
    """Every manual verdict, by prediction id."""
    with engine.connect() as conn:
        return reads.resolutions(_runner(conn))


def set_resolution(engine: Engine, prediction_id: str, outcome: str, note: str, at: datetime) -> None:
    """Record (or replace) a manual verdict."""
    row = {"prediction_id": prediction_id, "outcome": outcome, "note": note, "resolved_at": at}
    _upsert_row(engine, _RESOLUTION, row, "prediction_id")


def remove_resolution(engine: Engine, prediction_id: str) -> bool:
    """Forget a manual verdict; False when there was none."""
    with engine.begin() as conn:
        deleted = conn.execute(_RESOLUTION.delete().where(_RESOLUTION.c.prediction_id == prediction_id))
    return deleted.rowcount > 0


# --- backfill progress ------------------------------------------------------------------------


class BackfillRow(NamedTuple):
    """How far a backfill of one series got (``db.models.BackfillProgress``)."""

    series_id: str
    since: datetime
    done_until: datetime
    updated_at: datetime


def backfill_progress(engine: Engine) -> dict[str, BackfillRow]:
    """Every series' backfill progress, by series id."""
    with engine.connect() as conn:
        rows = conn.execute(select(*_columns(_BACKFILL, BackfillRow)))
        return {row.series_id: row for row in map(BackfillRow._make, rows)}


def record_backfill_window(
    engine: Engine, series_id: str, since: datetime, done_until: datetime, at: datetime
) -> None:
    """Remember that ``series_id`` is stored from ``since`` up to ``done_until``."""
    row = {"series_id": series_id, "since": since, "done_until": done_until, "updated_at": at}
    _upsert_row(engine, _BACKFILL, row, "series_id")


# --- digest log -------------------------------------------------------------------------------


DigestRow = reads.DigestRow


def digest_sent(engine: Engine, day: str) -> DigestRow | None:
    """The log row of the digest for a local date (YYYY-MM-DD), or None if not sent."""
    query = select(*_columns(_DIGEST, DigestRow)).where(_DIGEST.c.digest_date == day)
    return _first(engine, query, DigestRow)


def _first(engine: Engine, query, row_type):
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else row_type._make(row)


def record_digest(engine: Engine, day: str, sent_at: datetime, message_id: str | None,
                  values: dict) -> None:
    """Mark a local date's digest as sent (only after the server accepted it)."""
    row = {"digest_date": day, "sent_at": sent_at, "message_id": message_id,
           "values_json": json.dumps(values, sort_keys=True)}
    _upsert_row(engine, _DIGEST, row, "digest_date")


# --- bounded reads: a window of points, a thinned history, kept made_on prices -------------
# What the read commands use instead of a series' or a prediction's whole history, which
# grows with every poll.


def points_between(
    engine: Engine, windows: Mapping[str, tuple[datetime | None, datetime]]
) -> dict[str, list[Point]]:
    """Points of many series, each in time order within its own window (first, last:
    both included; first None: from the series' first point) (``db.reads.points_in``)."""
    with engine.connect() as conn:
        return reads.points_in(_runner(conn), windows)


def newest_points_until(engine: Engine, series_ids: Iterable[str], count: int,
                        until: datetime) -> dict[str, list]:
    """The newest ``count`` points of each series at or before ``until``, in time order,
    as [ts, value, high, low] lists: one index search per series."""
    found: dict[str, list] = {}
    with engine.connect() as conn:
        for series_id in series_ids:
            query = (select(_OBS.c.ts, _OBS.c.value, _OBS.c.high, _OBS.c.low)
                     .where(_OBS.c.series_id == series_id, _OBS.c.ts <= until)
                     .order_by(_OBS.c.ts.desc()).limit(count))
            found[series_id] = [list(row) for row in conn.execute(query)][::-1]
    return found


def count_points_between(
    engine: Engine, windows: Mapping[str, tuple[datetime | None, datetime | None]]
) -> dict[str, int]:
    """How many points each series has within its window (``reads.count_points_between``)."""
    with engine.connect() as conn:
        return reads.count_points_between(_runner(conn), windows)


def snapshot_span(engine: Engine, prediction_id: str,
                  column: str) -> tuple[int, datetime | None, datetime | None]:
    """How many snapshots of a prediction have ``column`` (probability, value) set, and
    the first and last time one does."""
    with engine.connect() as conn:
        return reads.snapshot_span(_runner(conn), prediction_id, column)


def status_changes(engine: Engine, prediction_id: str) -> list[SnapshotRow]:
    """The snapshots of one prediction whose status differs from the one before (the
    first included), oldest first."""
    with engine.connect() as conn:
        return reads.status_changes(_runner(conn), prediction_id)


def thinned_snapshots(engine: Engine, prediction_ids: Iterable[str], column: str,
                      edges: Sequence[datetime]) -> dict[str, list[SnapshotRow]]:
    """Each prediction's snapshots thinned to a chart's columns (``reads.thinned_snapshots``)."""
    with engine.connect() as conn:
        return reads.thinned_snapshots(_runner(conn), prediction_ids, column, edges)


def thinned_points(engine: Engine, series_ids: Iterable[str],
                   edges: Sequence[datetime]) -> dict[str, list[tuple[datetime, float]]]:
    """Each series' points thinned to a chart's columns (``reads.thinned_points``)."""
    with engine.connect() as conn:
        return reads.thinned_points(_runner(conn), series_ids, edges)


def claims_snapshots(engine: Engine, prediction_ids: Iterable[str]
                     ) -> dict[str, list[reads.ScoredSnapshot]]:
    """Every snapshot of these predictions, oldest first (``reads.claims_snapshots``)."""
    with engine.connect() as conn:
        return reads.claims_snapshots(_runner(conn), prediction_ids)


MadeOnPriceRow = reads.MadeOnPriceRow


_MADE_ON = MadeOnPrice.__table__


def made_on_price_rows(engine: Engine, prediction_ids: Iterable[str]) -> dict[str, MadeOnPriceRow]:
    """The kept made_on prices of these predictions, by id: primary-key lookups."""
    with engine.connect() as conn:
        return reads.made_on_price_rows(_runner(conn), prediction_ids)


def keep_made_on_prices(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Store made_on price rows (the fields of MadeOnPriceRow), replacing a prediction's
    row evaluated for an older definition or without a price."""
    if not rows:
        return
    stmt = _insert(engine, _MADE_ON)
    stmt = stmt.on_conflict_do_update(
        index_elements=["prediction_id"],
        set_={col: stmt.excluded[col] for col in MadeOnPriceRow._fields if col != "prediction_id"},
    )
    with engine.begin() as conn:
        conn.execute(stmt, list(rows))
