"""The reads that both the full CLI and the lean path make, each written once: its SQL
text, its typed row and the builder of that row.

``db/queries.py`` runs them through SQLAlchemy, on SQLite and PostgreSQL alike, so the
SQL here is portable. ``tracker/quick/`` runs them on SQLite through the standard
library's sqlite3, to answer the read commands without importing SQLAlchemy or
pydantic: so this module imports only the standard library. Each read takes
``run(sql, params)``, which executes the SQL on a connection and returns its rows as
tuples; parameters are named (``:s0``), a style both drivers accept, and timestamps in
them are aware datetimes, which the runner binds as the database stores them
(``sqlite_params``).

The builders turn stored timestamps into aware UTC datetimes whichever way the driver
gives them (see ``utc``), so both paths print the same bytes.
"""

# No `from __future__ import annotations` here: with it, NamedTuple compiles each field's
# annotation string when the class is made, a cost the lean path pays on every run.
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from tracker.points import Point

Run = Callable[[str, Mapping[str, Any]], Iterable[Sequence[Any]]]

NEWEST_CHUNK = 200  # UNION ALL terms per statement: SQLite allows 500


def utc(value: str | datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime. SQLite holds naive UTC text
    (db/types.py), which sqlite3 returns as it is; PostgreSQL's driver returns an aware
    datetime in the session's time zone."""
    if value is None:
        return None
    if isinstance(value, str):
        # Parsed with its zone: several times faster than .replace(tzinfo=UTC) afterwards,
        # which counts when newest_points reads thousands of rows.
        return datetime.fromisoformat(value + "+00:00")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- the newest snapshot of every prediction -------------------------------------------


class SnapshotRow(NamedTuple):
    """One snapshot: a prediction's evaluated state at one time (``db.models.Snapshot``)."""

    id: int
    prediction_id: str
    at: datetime
    status: str
    probability: float | None
    value: float | None
    value_at: datetime | None
    explanation: str
    model: str | None
    inputs: str | None  # JSON


SNAPSHOT_COLUMNS = ", ".join(f"s.{name}" for name in SnapshotRow._fields)
# A skip scan: the recursive part steps from one prediction id to the next through the
# index, and each step finds that prediction's highest snapshot id by one more probe
# (ix_snapshot_prediction_id). A GROUP BY would visit every snapshot ever stored.
LATEST_SNAPSHOTS = f"""
    WITH RECURSIVE predictions(prediction_id) AS (
      SELECT min(prediction_id) FROM snapshot
      UNION ALL
      SELECT (SELECT min(prediction_id) FROM snapshot
              WHERE snapshot.prediction_id > predictions.prediction_id)
      FROM predictions WHERE predictions.prediction_id IS NOT NULL
    )
    SELECT {SNAPSHOT_COLUMNS}
    FROM predictions JOIN snapshot AS s
      ON s.id = (SELECT max(id) FROM snapshot
                 WHERE snapshot.prediction_id = predictions.prediction_id)
"""


def snapshot_row(raw: Sequence[Any]) -> SnapshotRow:
    id_, prediction_id, at, status, probability, value, value_at, explanation, model, inputs = raw
    return SnapshotRow(id_, prediction_id, utc(at), status, probability, value, utc(value_at),
                       explanation, model, inputs)


def latest_snapshots(run: Run) -> dict[str, SnapshotRow]:
    """The newest snapshot of every prediction, keyed by prediction id."""
    return {row.prediction_id: row for row in map(snapshot_row, run(LATEST_SNAPSHOTS, {}))}


SERIES_IDS = "SELECT id FROM series ORDER BY id"  # every stored series, by id


# --- every series with its newest point -------------------------------------------------


class SeriesOverviewRow(NamedTuple):
    """A stored series with its point count and newest point (None, None: no points)."""

    id: str
    source: str
    symbol: str
    name: str | None
    unit: str | None
    points: int
    last_ts: datetime | None
    last_value: float | None
    # A market's: when a fetch last returned its odds, which are stored only when they
    # change (see ``Confirmation``); None for other series.
    confirmed_at: datetime | None


# The count is the series row's point_count (kept by db.queries.upsert_observations); the
# newest point comes from the index, series by series: nothing here visits every point.
SERIES_OVERVIEW = """
    SELECT id, source, symbol, name, unit, point_count,
      (SELECT ts FROM observation WHERE series_id = series.id ORDER BY ts DESC LIMIT 1),
      (SELECT value FROM observation WHERE series_id = series.id ORDER BY ts DESC LIMIT 1),
      confirmed_at
    FROM series ORDER BY id
"""


def series_overview_row(raw: Sequence[Any]) -> SeriesOverviewRow:
    id_, source, symbol, name, unit, points, last_ts, last_value, confirmed_at = raw
    return SeriesOverviewRow(id_, source, symbol, name, unit, points, utc(last_ts), last_value,
                             utc(confirmed_at))


def series_overview(run: Run) -> list[SeriesOverviewRow]:
    """Every stored series, by id."""
    return [series_overview_row(raw) for raw in run(SERIES_OVERVIEW, {})]


# --- when each market was last confirmed --------------------------------------------------


class Confirmation(NamedTuple):
    """A market series' fetch times. Its odds are stored only when they change, so its
    newest point says when they last moved, not whether they are still being seen."""

    confirmed_at: datetime  # the latest fetch that returned the series, changed or not
    # When a second read confirmed its final state; it is no longer polled after that.
    resolution_confirmed_at: datetime | None


CONFIRMATIONS = ("SELECT id, confirmed_at, resolution_confirmed_at FROM series "
                 "WHERE confirmed_at IS NOT NULL")


def confirmations(run: Run) -> dict[str, Confirmation]:
    """Every series a poll has confirmed (the markets), by id."""
    return {id_: Confirmation(utc(confirmed_at), utc(settled))
            for id_, confirmed_at, settled in run(CONFIRMATIONS, {})}


# --- how each source's polls went ---------------------------------------------------------


class SourceHealthRow(NamedTuple):
    """How a source's last polls went (``db.models.SourceHealth``)."""

    source: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None  # the first failure of the current run of them
    last_error: str | None
    failing_symbols: str | None  # JSON: read it with db.queries.symbol_errors
    next_allowed_at: datetime | None


SOURCE_HEALTH = f"SELECT {', '.join(SourceHealthRow._fields)} FROM source_health"


def source_health_row(raw: Sequence[Any]) -> SourceHealthRow:
    (source, last_attempt_at, last_success_at, consecutive_failures, failing_since, last_error,
     failing_symbols, next_allowed_at) = raw
    return SourceHealthRow(source, utc(last_attempt_at), utc(last_success_at),
                           consecutive_failures, utc(failing_since), last_error, failing_symbols,
                           utc(next_allowed_at))


def source_health(run: Run) -> dict[str, SourceHealthRow]:
    """Every source that has been polled, keyed by name."""
    return {row.source: row for row in map(source_health_row, run(SOURCE_HEALTH, {}))}


# --- the newest points of each series --------------------------------------------------------


class StoredPoint(NamedTuple):
    """A stored point with when it was fetched."""

    ts: datetime
    value: float
    high: float | None
    low: float | None
    fetched_at: datetime  # the latest fetch that returned it
    first_seen_at: datetime  # fetched_at for points stored before it was kept


make_point = StoredPoint._make  # from one tuple: quicker than the keyword-aware __new__

@functools.lru_cache(maxsize=64)
def newest_points_sql(n: int, count: int) -> str:
    """The newest ``count`` points of ``n`` series (parameters s0, s1, ...), newest first:
    a UNION ALL of one index search per series. Text, not Core expressions: SQLAlchemy
    took longer to compile the expression than the database to run it."""
    one = ("SELECT * FROM (SELECT series_id, ts, value, high, low, fetched_at, "
           "coalesce(first_seen_at, fetched_at) AS first_seen_at FROM observation "
           "WHERE series_id = :s{i} ORDER BY ts DESC LIMIT {count}) AS newest{i}")
    return " UNION ALL ".join(one.format(i=i, count=int(count)) for i in range(n))


def newest_points(run: Run, series_ids: Iterable[str], count: int,
                  per_statement: int = NEWEST_CHUNK) -> dict[str, list[StoredPoint]]:
    """The newest ``count`` points of each series, in time order, ``per_statement`` series
    in one statement. Through SQLAlchemy, or to a server, a statement costs more than its
    index searches, so a poll reads a hundred market series in one. Straight through
    sqlite3, one series per statement is quicker: the connection prepares that statement
    once and reuses it, while a UNION of hundreds takes longer to prepare than to run."""
    ids = list(series_ids)
    found: dict[str, list[StoredPoint]] = {sid: [] for sid in ids}
    moment = _parsed_once()  # a poll stores many points with one fetched_at
    for chunk in chunks(ids, per_statement):
        params = {f"s{i}": sid for i, sid in enumerate(chunk)}
        for series_id, ts, value, high, low, fetched_at, first_seen_at in run(
            newest_points_sql(len(chunk), count), params
        ):
            found[series_id].append(make_point(
                (moment(ts), value, high, low, moment(fetched_at), moment(first_seen_at))))
    return {sid: rows[::-1] for sid, rows in found.items()}  # read newest first


# --- the points of many series, each from its own start ---------------------------------------


@functools.lru_cache(maxsize=64)
def points_in_sql(n: int, from_first: bool, to_last: bool) -> str:
    """The points of ``n`` series (parameters s0, s1, ...) from ``:first`` and up to
    ``:last`` where asked (both included), in time order per series."""
    bounds = (" AND ts >= :first" if from_first else "") + (" AND ts <= :last" if to_last else "")
    return ("SELECT series_id, ts, value, high, low FROM observation "
            f"WHERE series_id IN ({in_list('s', n)}){bounds} ORDER BY series_id, ts")


def points_in(run: Run, windows: Mapping[str, tuple[datetime | None, datetime | None]]
              ) -> dict[str, list[Point]]:
    """Points of many series, each in time order within its own window (first, last:
    both included; None: unbounded on that side). One query per distinct window rather
    than one per series: a poll evaluates hundreds of series, and most share a window."""
    by_window: dict[tuple[datetime | None, datetime | None], list[str]] = {}
    for series_id, window in windows.items():
        by_window.setdefault(window, []).append(series_id)
    points: dict[str, list[Point]] = {series_id: [] for series_id in windows}
    for (first, last), ids in by_window.items():
        for chunk in chunks(sorted(ids), IN_LIST_CHUNK):
            params: dict[str, Any] = {f"s{i}": sid for i, sid in enumerate(chunk)}
            params |= {"first": first} if first is not None else {}
            params |= {"last": last} if last is not None else {}
            sql = points_in_sql(len(chunk), first is not None, last is not None)
            collect_points(run(sql, params), points)
    return points


def collect_points(rows: Iterable[Sequence[Any]], into: dict[str, list[Point]]) -> None:
    """Append each (series_id, ts, value, high, low) row to its series' list as a Point."""
    moment = _parsed_once()
    for series_id, ts, value, high, low in rows:
        into[series_id].append(Point(moment(ts), value, high, low))


def _parsed_once() -> Callable[[Any], datetime | None]:
    """``utc`` that parses each distinct stored timestamp once, for one read: its
    series share dates and fetch times, and parsing cost more than the query."""
    parsed: dict[Any, datetime | None] = {}

    def moment(raw: Any) -> datetime | None:
        try:
            return parsed[raw]
        except KeyError:
            when = parsed[raw] = utc(raw)
            return when

    return moment


# --- how a source's symbols failed ----------------------------------------------------------


def symbol_errors(health_row: SourceHealthRow) -> dict[str, str]:
    """A source_health row's failing symbols, each with its message. Rows written before
    the messages were kept hold a plain list: those symbols get the source's last error."""
    import json

    stored = json.loads(health_row.failing_symbols) if health_row.failing_symbols else {}
    if isinstance(stored, list):
        return dict.fromkeys(stored, health_row.last_error or "failed")
    return stored


# --- the kept made_on prices ------------------------------------------------------------------


class MadeOnPriceRow(NamedTuple):
    """A kept made_on price (``db.models.MadeOnPrice``)."""

    prediction_id: str
    definition: str  # the key of the registry entry it was evaluated for
    price: float | None  # None: there was no price then
    evidence: str | None  # JSON: series id -> points in its window, when price is None
    checked_at: datetime


IN_LIST_CHUNK = 500  # ids per IN (...): far below every driver's parameter limit


@functools.lru_cache(maxsize=8)
def made_on_price_sql(n: int) -> str:
    """The kept prices of ``n`` predictions (parameters p0, p1, ...): primary-key lookups."""
    marks = ", ".join(f":p{i}" for i in range(n))
    return (f"SELECT {', '.join(MadeOnPriceRow._fields)} FROM made_on_price "
            f"WHERE prediction_id IN ({marks})")


def made_on_price_rows(run: Run, prediction_ids: Iterable[str]) -> dict[str, MadeOnPriceRow]:
    """The kept made_on prices of these predictions, by id."""
    rows: dict[str, MadeOnPriceRow] = {}
    for chunk in chunks(sorted(set(prediction_ids)), IN_LIST_CHUNK):
        params = {f"p{i}": pid for i, pid in enumerate(chunk)}
        for pid, definition, price, evidence, checked_at in run(made_on_price_sql(len(chunk)),
                                                                 params):
            rows[pid] = MadeOnPriceRow(pid, definition, price, evidence, utc(checked_at))
    return rows


# --- timestamps as parameters ------------------------------------------------------------------


def stored_text(moment: datetime) -> str:
    """A timestamp as SQLite stores it (db/types.py): naive UTC text to the microsecond,
    which compares as text in the stored order."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def sqlite_params(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` with each timestamp as SQLite stores it (PostgreSQL's driver takes the
    aware datetime itself)."""
    if not any(isinstance(value, datetime) for value in params.values()):
        return params
    return {name: _stored_text_memo(value) if isinstance(value, datetime) else value
            for name, value in params.items()}


# A chart's slice edges are bound again for each prediction it draws.
_stored_text_memo = functools.lru_cache(maxsize=1024)(stored_text)


# --- stored series by id -------------------------------------------------------------------------


class SeriesRow(NamedTuple):
    """A stored series (``db.models.Series``)."""

    id: str
    source: str
    symbol: str
    name: str | None
    unit: str | None
    first_seen_at: datetime
    state: str | None  # a market's: open, closed, resolved...; None for other series
    resolved_value: float | None
    meta: str | None  # JSON
    point_count: int
    confirmed_at: datetime | None  # markets: the latest fetch that returned the series
    resolution_confirmed_at: datetime | None  # markets: final state read twice; not polled


def in_list(prefix: str, n: int) -> str:
    """``:p0, :p1, ...``: the parameters of an IN list."""
    return ", ".join(f":{prefix}{i}" for i in range(n))


def series_by_id(run: Run, series_ids: Iterable[str]) -> dict[str, SeriesRow]:
    """The stored series among these ids (name, unit, market state, meta), by id."""
    found: dict[str, SeriesRow] = {}
    for chunk in chunks(list(dict.fromkeys(series_ids)), IN_LIST_CHUNK):
        sql = (f"SELECT {', '.join(SeriesRow._fields)} FROM series "
               f"WHERE id IN ({in_list('s', len(chunk))})")
        for raw in run(sql, {f"s{i}": sid for i, sid in enumerate(chunk)}):
            (id_, source, symbol, name, unit, first_seen_at, state, resolved_value, meta,
             point_count, confirmed_at, settled) = raw
            found[id_] = SeriesRow(id_, source, symbol, name, unit, utc(first_seen_at), state,
                                   resolved_value, meta, point_count, utc(confirmed_at),
                                   utc(settled))
    return found


# --- points counted in a window -----------------------------------------------------------------


def count_points_between(run: Run, windows: Mapping[str, tuple[datetime | None, datetime | None]]
                         ) -> dict[str, int]:
    """How many points each series has within its window (first, last: both included;
    None: unbounded on that side), counted in the index, none of them read. One query
    per distinct window."""
    by_window: dict[tuple[datetime | None, datetime | None], list[str]] = {}
    for series_id, window in windows.items():
        by_window.setdefault(window, []).append(series_id)
    counts = dict.fromkeys(windows, 0)
    for (first, last), ids in by_window.items():
        for chunk in chunks(sorted(ids), IN_LIST_CHUNK):
            params: dict[str, Any] = {f"s{i}": sid for i, sid in enumerate(chunk)}
            sql = f"SELECT series_id, count(*) FROM observation WHERE series_id IN ({in_list('s', len(chunk))})"
            if first is not None:
                sql += " AND ts >= :first"
                params["first"] = first
            if last is not None:
                sql += " AND ts <= :last"
                params["last"] = last
            counts.update((sid, count) for sid, count in run(sql + " GROUP BY series_id", params))
    return counts


# --- manual verdicts ---------------------------------------------------------------------------


class ResolutionRow(NamedTuple):
    """A manual verdict (``db.models.Resolution``)."""

    prediction_id: str
    outcome: str  # right | wrong | void
    note: str
    resolved_at: datetime


RESOLUTIONS = f"SELECT {', '.join(ResolutionRow._fields)} FROM resolution"


def resolutions(run: Run) -> dict[str, ResolutionRow]:
    """Every manual verdict, by prediction id."""
    return {pid: ResolutionRow(pid, outcome, note, utc(at))
            for pid, outcome, note, at in run(RESOLUTIONS, {})}


# --- one prediction's snapshots ------------------------------------------------------------------

SNAPSHOT_FIELDS = ", ".join(SnapshotRow._fields)
SNAPSHOT_HISTORY = f"SELECT {SNAPSHOT_FIELDS} FROM snapshot WHERE prediction_id = :pid ORDER BY id"
# The snapshots whose status differs from the one before (the first included).
STATUS_CHANGES = f"""
    SELECT {SNAPSHOT_FIELDS} FROM (
      SELECT {SNAPSHOT_FIELDS}, lag(status) OVER (ORDER BY at, id) AS before
      FROM snapshot WHERE prediction_id = :pid) AS ranked
    WHERE before IS NULL OR before != status
    ORDER BY at, id
"""
CHARTED = ("status", "probability", "value")  # the columns a snapshot's span is asked of


def snapshot_history(run: Run, prediction_id: str) -> list[SnapshotRow]:
    """Every snapshot of one prediction, oldest first."""
    return list(map(snapshot_row, run(SNAPSHOT_HISTORY, {"pid": prediction_id})))


def status_changes(run: Run, prediction_id: str) -> list[SnapshotRow]:
    """The snapshots of one prediction whose status differs from the one before (the
    first included), oldest first."""
    return list(map(snapshot_row, run(STATUS_CHANGES, {"pid": prediction_id})))


def snapshot_span(run: Run, prediction_id: str,
                  column: str) -> tuple[int, datetime | None, datetime | None]:
    """How many snapshots of a prediction have ``column`` (status, probability, value)
    set, and the first and last time one does."""
    if column not in CHARTED:
        raise ValueError(f"no span of snapshot.{column}")
    sql = (f"SELECT count({column}), min(at), max(at) FROM snapshot "
           f"WHERE prediction_id = :pid AND {column} IS NOT NULL")
    ((count, first, last),) = run(sql, {"pid": prediction_id})
    return count, utc(first), utc(last)


@functools.lru_cache(maxsize=16)
def thinned_sql(n: int, column: str) -> str:
    """The query of thinned_snapshots for ``n`` slices: parameters pid, lo0, hi0, lo1, ...
    WITH slices(lo, hi) AS (VALUES ...), which SQLite takes too."""
    if column not in ("probability", "value"):
        raise ValueError(f"no chart of snapshot.{column}")
    rows = ", ".join(f"(:lo{i}, :hi{i})" for i in range(n))
    within = (f"FROM snapshot WHERE prediction_id = :pid AND {column} IS NOT NULL "
              "AND at > slices.lo AND at <= slices.hi")
    orders = ["at, id", "at DESC, id DESC", f"{column}, at", f"{column} DESC, at"]
    picks = ", ".join(f"(SELECT id {within} ORDER BY {order} LIMIT 1) AS p{i}"
                      for i, order in enumerate(orders))
    chosen = " UNION ".join(f"SELECT p{i} FROM picked" for i in range(len(orders)))
    return (f"WITH slices(lo, hi) AS (VALUES {rows}), picked AS (SELECT {picks} FROM slices) "
            f"SELECT {SNAPSHOT_FIELDS} FROM snapshot WHERE id IN ({chosen}) ORDER BY at, id")


def thinned_snapshots(run: Run, prediction_ids: Iterable[str], column: str,
                      edges: Sequence[datetime]) -> dict[str, list[SnapshotRow]]:
    """The snapshots of each prediction whose ``column`` (probability, value) is set,
    thinned to what a chart of ``len(edges) - 1`` columns can draw: in each slice of time
    (edges[i], edges[i + 1]] (the first slice also holds edges[0]) the first, the last,
    the lowest and the highest, so a brief extreme still shows and the value each slice
    ends on is kept. Oldest first. One statement per prediction, which picks each
    slice's four by index searches: no row outside them leaves the database."""
    found: dict[str, list[SnapshotRow]] = {pid: [] for pid in prediction_ids}
    if len(edges) < 2:
        return found
    # The first slice starts just before edges[0], so that it holds edges[0].
    lows = [edges[0] - timedelta(microseconds=1), *edges[1:-1]]
    params: dict[str, Any] = {}
    for i, (lo, hi) in enumerate(zip(lows, edges[1:], strict=True)):
        params |= {f"lo{i}": lo, f"hi{i}": hi}
    sql = thinned_sql(len(lows), column)
    for pid in found:
        found[pid] = list(map(snapshot_row, run(sql, params | {"pid": pid})))
    return found


# --- a series' points thinned to a chart -----------------------------------------------------


@functools.lru_cache(maxsize=16)
def thinned_points_sql(n: int) -> str:
    """The query of thinned_points for ``n`` slices: parameters sid, first, lo0, hi0, lo1, ...
    Each slice's picks are index searches on (series_id, ts); the point in force at
    ``:first`` (the newest before it) comes too, so a line starts at the chart's left edge."""
    rows = ", ".join(f"(:lo{i}, :hi{i})" for i in range(n))
    within = "FROM observation WHERE series_id = :sid AND ts > slices.lo AND ts <= slices.hi"
    orders = ["ts", "ts DESC", "value, ts", "value DESC, ts"]
    picks = ", ".join(f"(SELECT ts {within} ORDER BY {order} LIMIT 1) AS p{i}"
                      for i, order in enumerate(orders))
    chosen = " UNION ".join(f"SELECT p{i} FROM picked" for i in range(len(orders)))
    before = ("SELECT ts FROM (SELECT ts FROM observation WHERE series_id = :sid "
              "AND ts < :first ORDER BY ts DESC LIMIT 1) AS newest_before")
    return (f"WITH slices(lo, hi) AS (VALUES {rows}), picked AS (SELECT {picks} FROM slices) "
            f"SELECT ts, value FROM observation WHERE series_id = :sid "
            f"AND ts IN ({chosen} UNION {before}) ORDER BY ts")


def thinned_points(run: Run, series_ids: Iterable[str],
                   edges: Sequence[datetime]) -> dict[str, list[tuple[datetime, float]]]:
    """The (ts, value) points of each series thinned to what a chart of ``len(edges) - 1``
    columns can draw, as ``thinned_snapshots`` thins a history: in each slice (edges[i],
    edges[i + 1]] (the first also holds edges[0]) the first, the last, the lowest and the
    highest, and the newest point before edges[0]. Oldest first; no other row is read."""
    found: dict[str, list[tuple[datetime, float]]] = {sid: [] for sid in series_ids}
    if len(edges) < 2:
        return found
    lows = [edges[0] - timedelta(microseconds=1), *edges[1:-1]]
    params: dict[str, Any] = {"first": edges[0]}
    for i, (lo, hi) in enumerate(zip(lows, edges[1:], strict=True)):
        params |= {f"lo{i}": lo, f"hi{i}": hi}
    sql = thinned_points_sql(len(lows))
    for sid in found:
        found[sid] = [(utc(ts), value) for ts, value in run(sql, params | {"sid": sid})]
    return found


# --- the snapshots calibration scores -------------------------------------------------------


class ScoredSnapshot(NamedTuple):
    """What calibration reads of a snapshot: when, its status, its chance and its model."""

    prediction_id: str
    at: datetime
    status: str
    probability: float | None
    model: str | None


def claims_snapshots(run: Run, prediction_ids: Iterable[str]) -> dict[str, list[ScoredSnapshot]]:
    """Every snapshot of these predictions (calibration asks for the resolved ones only),
    five columns of each, oldest first: index searches, a chunk of ids per statement."""
    found: dict[str, list[ScoredSnapshot]] = {}
    for chunk in chunks(list(dict.fromkeys(prediction_ids)), IN_LIST_CHUNK):
        sql = ("SELECT prediction_id, at, status, probability, model FROM snapshot "
               f"WHERE prediction_id IN ({in_list('c', len(chunk))}) "
               "ORDER BY prediction_id, at, id")
        for pid, at, status, probability, model in run(sql, {f"c{i}": c for i, c in enumerate(chunk)}):
            found.setdefault(pid, []).append(ScoredSnapshot(pid, utc(at), status, probability, model))
    return found


# --- the snapshots in force at given moments ------------------------------------------------


@functools.lru_cache(maxsize=16)
def in_force_sql(claims: int, moments: int) -> str:
    """The query of in_force for ``claims`` ids (c0, c1, ...) and ``moments`` times (t0,
    t1, ...): for each pair, the id of the claim's newest snapshot at or before the time,
    by an index search on (prediction_id, at); then those snapshots, each once."""
    ids = ", ".join(f"(:c{i})" for i in range(claims))
    times = ", ".join(f"(:t{i})" for i in range(moments))
    newest = ("SELECT s.id FROM snapshot AS s WHERE s.prediction_id = claims.pid "
              "AND s.at <= moments.t ORDER BY s.at DESC, s.id DESC LIMIT 1")
    return (f"WITH claims(pid) AS (VALUES {ids}), moments(t) AS (VALUES {times}) "
            "SELECT prediction_id, at, status, probability, model FROM snapshot "
            f"WHERE id IN (SELECT ({newest}) FROM claims, moments) "
            "ORDER BY prediction_id, at, id")


def in_force(run: Run, prediction_ids: Iterable[str],
             moments: Sequence[datetime]) -> dict[str, list[ScoredSnapshot]]:
    """The snapshots of each prediction that are its newest at or before one of
    ``moments``, each once, oldest first: what a chart sampled at those moments needs
    and nothing more (a prediction with none is left out). A chunk of ids per statement."""
    found: dict[str, list[ScoredSnapshot]] = {}
    if not moments:
        return found
    times = {f"t{i}": moment for i, moment in enumerate(moments)}
    for chunk in chunks(list(dict.fromkeys(prediction_ids)), IN_FORCE_CHUNK):
        sql = in_force_sql(len(chunk), len(moments))
        params = times | {f"c{i}": pid for i, pid in enumerate(chunk)}
        for pid, at, status, probability, model in run(sql, params):
            found.setdefault(pid, []).append(ScoredSnapshot(pid, utc(at), status, probability, model))
    return found


IN_FORCE_CHUNK = 200  # ids per statement of in_force; with its moments, far below 999 parameters

SNAPSHOT_ENDS = ("SELECT max(id), (SELECT at FROM snapshot ORDER BY id LIMIT 1), "
                 "(SELECT at FROM snapshot ORDER BY id DESC LIMIT 1) FROM snapshot")


class SnapshotEnds(NamedTuple):
    """The newest snapshot's id (it changes whenever one is stored), and when the first
    and the newest stored were taken."""

    newest_id: int | None
    first_at: datetime | None
    newest_at: datetime | None


def snapshot_ends(run: Run) -> SnapshotEnds:
    """Read by the primary key's ends: no scan, however many snapshots are stored."""
    ((newest_id, first_at, newest_at),) = run(SNAPSHOT_ENDS, {})
    return SnapshotEnds(newest_id, utc(first_at), utc(newest_at))


# --- what the digest reads besides the above ------------------------------------------------


def values_at(run: Run, prediction_ids: Iterable[str], column: str,
              when: datetime) -> dict[str, float]:
    """Each prediction's ``column`` (probability, value) as it stood at ``when``: from its
    newest snapshot at or before then that has it set (a prediction without one is left
    out). One index search per prediction, by the same statement."""
    if column not in ("probability", "value"):
        raise ValueError(f"no value of snapshot.{column}")
    sql = (f"SELECT {column} FROM snapshot WHERE prediction_id = :pid AND at <= :when "
           f"AND {column} IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1")
    found = {}
    for pid in prediction_ids:
        for (value,) in run(sql, {"pid": pid, "when": when}):
            found[pid] = value
    return found


class DigestRow(NamedTuple):
    """A digest the SMTP server accepted (``db.models.DigestLog``)."""

    digest_date: str  # YYYY-MM-DD, local date
    sent_at: datetime
    message_id: str | None
    values_json: str | None  # the values the email showed


LAST_DIGEST_BEFORE = ("SELECT digest_date, sent_at, message_id, values_json FROM digest_log "
                      "WHERE digest_date < :day ORDER BY digest_date DESC LIMIT 1")


def last_digest_before(run: Run, day: str) -> DigestRow | None:
    """The newest digest sent for a local date (YYYY-MM-DD) before ``day``: what the
    digest's movement is measured from."""
    for digest_date, sent_at, message_id, values_json in run(LAST_DIGEST_BEFORE, {"day": day}):
        return DigestRow(digest_date, utc(sent_at), message_id, values_json)
    return None


# --- notifications: what is waiting, and each target's record ----------------------------


class NotifyTargetRow(NamedTuple):
    """One notification target's record (``db.models.OutboxDelivery``, grouped)."""

    label: str  # scheme and host
    last_sent_at: datetime | None
    pending: int  # neither sent nor given up
    retrying: int  # of those, how many failed at least once
    given_up: int  # given up since its last message sent
    last_error: str | None  # the newest error of a delivery not sent
    oldest_pending_at: datetime | None


class OutboxSummary(NamedTuple):
    pending: int
    oldest_pending_at: datetime | None
    targets: list[NotifyTargetRow]


OUTBOX_UNSENT = (
    "SELECT d.target_key, d.target_label, d.failed_at, d.attempts, d.last_error, o.created_at"
    " FROM outbox_delivery d JOIN outbox o ON o.id = d.outbox_id"
    " WHERE d.sent_at IS NULL ORDER BY d.outbox_id"
)
OUTBOX_SENT = ("SELECT target_key, MIN(target_label), MAX(sent_at) FROM outbox_delivery"
               " WHERE sent_at IS NOT NULL GROUP BY target_key")


def outbox_summary(run: Run) -> OutboxSummary:
    """What waits in the outbox, and for each target that ever had a message: when it
    last accepted one, what waits for it, and what was given up since."""
    labels: dict[str, str] = {}
    last_sent: dict[str, datetime | None] = {}
    for key, label, sent_at in run(OUTBOX_SENT, {}):
        labels[key], last_sent[key] = label, utc(sent_at)
    counts: dict[str, list] = {}  # key -> [pending, retrying, given up, last error, oldest]
    for key, label, failed_at, attempts, last_error, created_at in run(OUTBOX_UNSENT, {}):
        labels.setdefault(key, label)
        entry = counts.setdefault(key, [0, 0, 0, None, None])
        failed_at, created_at = utc(failed_at), utc(created_at)
        if failed_at is None:
            entry[0] += 1
            entry[1] += attempts > 0 and last_error is not None
            entry[4] = entry[4] or created_at
        elif last_sent.get(key) is None or failed_at > last_sent[key]:
            entry[2] += 1
        entry[3] = last_error or entry[3]
    targets = [NotifyTargetRow(labels[key], last_sent.get(key), *counts.get(key, [0, 0, 0, None, None]))
               for key in sorted(labels, key=lambda k: (labels[k], k))]
    oldest = [t.oldest_pending_at for t in targets if t.oldest_pending_at is not None]
    return OutboxSummary(sum(t.pending for t in targets), min(oldest, default=None), targets)
