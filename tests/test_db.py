"""Storage: idempotent upserts and revisions on SQLite and PostgreSQL, migrations,
timestamps, and a reader that is never locked out by a writer."""

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db import queries
from db.engine import current_revision, head_revision, make_engine, open_database, sqlite_file

T0 = datetime(2026, 1, 2, tzinfo=UTC)


def add_series(engine, series_id="yahoo:CL=F"):
    source, symbol = series_id.split(":", 1)
    queries.upsert_series(
        engine, [{"id": series_id, "source": source, "symbol": symbol, "name": None, "unit": None, "first_seen_at": T0}]
    )


def obs(day, value, series_id="yahoo:CL=F", high=None, low=None):
    return {"series_id": series_id, "ts": T0 + timedelta(days=day), "value": value, "high": high, "low": low, "fetched_at": T0}


def count(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM observation")).scalar()


def test_same_point_twice_leaves_one_row(any_engine):
    add_series(any_engine)
    queries.upsert_observations(any_engine, [obs(0, 57.1), obs(1, 58.2)])
    queries.upsert_observations(any_engine, [obs(0, 57.1), obs(1, 58.2)])
    assert count(any_engine) == 2


def test_a_revised_value_replaces_the_old(any_engine):
    add_series(any_engine)
    queries.upsert_observations(any_engine, [obs(0, 57.1, high=58.0, low=56.5)])
    queries.upsert_observations(any_engine, [obs(0, 57.4, high=58.3, low=56.5)])
    (row,) = queries.series_points(any_engine, "yahoo:CL=F")
    assert (row.value, row.high, row.low) == (57.4, 58.3, 56.5)
    assert count(any_engine) == 1


def test_timestamps_come_back_as_utc(any_engine):
    add_series(any_engine)
    new_york = timezone(timedelta(hours=-5))
    queries.upsert_observations(
        any_engine, [{**obs(0, 1.0), "ts": datetime(2026, 1, 2, 19, 0, tzinfo=new_york)}]
    )
    (row,) = queries.series_points(any_engine, "yahoo:CL=F")
    assert row.ts == datetime(2026, 1, 3, 0, 0, tzinfo=UTC)
    assert row.ts.tzinfo is not None
    assert queries.last_timestamps(any_engine, ["yahoo:CL=F"]) == {"yahoo:CL=F": row.ts}


def test_naive_timestamps_are_refused(engine):
    add_series(engine)
    with pytest.raises(Exception, match="naive datetime"):
        queries.upsert_observations(engine, [{**obs(0, 1.0), "ts": datetime(2026, 1, 2)}])
    assert count(engine) == 0


def test_a_point_for_an_unknown_series_is_refused(any_engine):
    with pytest.raises(IntegrityError):
        queries.upsert_observations(any_engine, [obs(0, 1.0, series_id="yahoo:NOPE")])
    assert count(any_engine) == 0


def test_large_batches_go_through(any_engine):
    add_series(any_engine)
    sent = queries.upsert_observations(any_engine, (obs(i, float(i)) for i in range(120_000)))
    assert sent == 120_000
    assert count(any_engine) == 120_000


def test_series_overview_gives_last_value_and_count(any_engine):
    add_series(any_engine)
    add_series(any_engine, "fred:DFEDTARU")
    queries.upsert_observations(any_engine, [obs(0, 57.0), obs(3, 59.5), obs(1, 58.0)])
    rows = {row.id: row for row in queries.series_overview(any_engine)}
    assert rows["yahoo:CL=F"].points == 3
    assert rows["yahoo:CL=F"].last_value == 59.5
    assert rows["yahoo:CL=F"].last_ts == T0 + timedelta(days=3)
    assert rows["fred:DFEDTARU"].points == 0 and rows["fred:DFEDTARU"].last_value is None


def test_source_health_counts_failures_and_resets_on_success(any_engine):
    failing = {"CL=F": "HTTP 500"}
    queries.record_source_result(any_engine, "yahoo", T0, "HTTP 500", failing)
    queries.record_source_result(any_engine, "yahoo", T0 + timedelta(minutes=15), "HTTP 500", failing)
    health = queries.source_health(any_engine)["yahoo"]
    assert health.consecutive_failures == 2
    assert health.last_success_at is None
    assert queries.symbol_errors(health) == failing
    queries.record_source_result(any_engine, "yahoo", T0 + timedelta(minutes=30), None)
    health = queries.source_health(any_engine)["yahoo"]
    assert health.consecutive_failures == 0
    assert health.last_success_at == T0 + timedelta(minutes=30)
    assert health.last_error is None
    assert queries.symbol_errors(health) == {}


def test_a_success_keeps_the_symbols_that_failed_on_their_own(any_engine):
    missing = {"INVALID.BO": "no such symbol"}
    queries.record_source_result(any_engine, "yahoo", T0, None, missing)
    health = queries.source_health(any_engine)["yahoo"]
    assert (health.consecutive_failures, health.last_success_at, health.last_error) == (0, T0, None)
    assert queries.symbol_errors(health) == missing


def test_failing_symbols_given_as_a_list_share_the_error(any_engine):
    queries.record_source_result(any_engine, "yahoo", T0, "HTTP 500", ["CL=F", "GC=F"])
    health = queries.source_health(any_engine)["yahoo"]
    assert queries.symbol_errors(health) == {"CL=F": "HTTP 500", "GC=F": "HTTP 500"}


def test_failing_symbols_stored_as_a_plain_list_still_read(any_engine):
    """Rows written before each symbol kept its message hold a JSON list of symbols."""
    queries.record_source_result(any_engine, "yahoo", T0, "CL=F: HTTP 500")
    with any_engine.begin() as conn:
        conn.execute(text("UPDATE source_health SET failing_symbols = '[\"CL=F\"]'"))
    health = queries.source_health(any_engine)["yahoo"]
    assert queries.symbol_errors(health) == {"CL=F": "CL=F: HTTP 500"}


def test_new_database_is_migrated_to_head(sqlite_url):
    engine = open_database(sqlite_url)
    assert current_revision(engine) == head_revision()


def test_migrations_match_the_models(any_engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import metadata

    with any_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_reopening_keeps_the_data(sqlite_url):
    engine = open_database(sqlite_url)
    add_series(engine)
    queries.upsert_observations(engine, [obs(0, 1.0)])
    engine.dispose()
    assert count(open_database(sqlite_url)) == 1


def test_sqlite_pragmas_on_every_connection(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_a_new_database_opens_while_its_creator_holds_the_write_lock(sqlite_url):
    """A connection opening a brand-new file while another holds its write lock (as the
    creator does while it migrates) reads it, instead of failing at once with 'database
    is locked', busy timeout or not."""
    engine = make_engine(sqlite_url)  # the file appears
    creator = sqlite3.connect(sqlite_file(sqlite_url), isolation_level=None)
    creator.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        creator.close()
        engine.dispose()


# Opens ROUNDS new databases, each at the instant the parent gives plus its index times
# SPACING, so that every process opens the same new file within a few milliseconds of
# the others; prints how many opens failed and why.
OPEN_AT_ONCE = """
import sys, time
from db.engine import make_engine
folder, rounds, spacing = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
print("ready", flush=True)
start = float(sys.stdin.readline())
errors = []
for i in range(rounds):
    engine = make_engine(f"sqlite:///{folder}/{i}.db")
    time.sleep(max(0.0, start + i * spacing - time.time()))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except Exception as exc:
        errors.append(str(exc).splitlines()[0])
    engine.dispose()
print(len(errors), *sorted(set(errors)), sep="\\n")
"""


def test_processes_opening_a_new_database_at_once_all_open_it(tmp_path):
    """Six processes open each of 40 new databases within milliseconds of each other (a
    daemon, a standby and readers starting together): not one open fails."""
    processes, rounds, spacing = 6, 40, 0.05
    started = [
        subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, str(tmp_path), str(rounds),
                          str(spacing)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for process in started:  # every one has imported what it needs
            assert process.stdout.readline() == "ready\n"
        start = time.time() + 0.2
        for process in started:
            process.stdin.write(f"{start}\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=120)[0] for process in started]
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
    failures = [output.splitlines() for output in outputs]
    assert all(lines[0] == "0" for lines in failures), failures


def test_reader_is_never_locked_out_while_a_writer_upserts(sqlite_url, tmp_path):
    """100,000 points written in batches while another connection keeps reading."""
    writer = open_database(sqlite_url)
    add_series(writer)
    stop = threading.Event()
    reads, errors = [], []

    def read_loop():
        reader = open_database(sqlite_url)
        while not stop.is_set():
            try:
                queries.series_overview(reader)
                reads.append(len(queries.series_points(reader, "yahoo:CL=F", since=T0 + timedelta(days=99_000))))
            except Exception as exc:  # noqa: BLE001 -- 'database is locked' would land here
                errors.append(exc)
        reader.dispose()

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for start in range(0, 100_000, 5_000):
            queries.upsert_observations(writer, (obs(i, float(i)) for i in range(start, start + 5_000)))
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert len(reads) > 10
    assert count(writer) == 100_000
    # The file is sound afterwards.
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_upgrading_an_old_database_keeps_its_data(sqlite_url):
    """A database made by the first schema version is upgraded in place on open."""
    from alembic import command

    from db.engine import _alembic_config, make_engine

    old = make_engine(sqlite_url)
    with old.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
    with old.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO series (id, source, symbol, first_seen_at) "
            "VALUES ('yahoo:CL=F', 'yahoo', 'CL=F', '2026-01-02 00:00:00.000000')"
        )
        conn.exec_driver_sql(
            "INSERT INTO observation (series_id, ts, value, fetched_at) VALUES "
            "('yahoo:CL=F', '2026-01-02 00:00:00.000000', 57.3, '2026-01-02 00:00:00.000000')"
        )
    old.dispose()
    engine = open_database(sqlite_url)
    assert current_revision(engine) == head_revision() != "0001"
    (row,) = queries.series_points(engine, "yahoo:CL=F")
    assert row.value == 57.3
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT state FROM series").scalar() is None


def test_the_head_revision_read_from_file_names_is_alembics():
    from alembic.script import ScriptDirectory

    from db.engine import _alembic_config

    assert head_revision() == ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def test_a_series_read_thinned_keeps_each_slices_ends_and_extremes_and_the_point_before(any_engine):
    """An input's chart reads a long series as at most four points a slice of time, plus
    the value in force when the chart starts: a brief spike still shows."""
    from tracker.chart import column_ends

    start = datetime(2026, 3, 1, tzinfo=UTC)
    queries.upsert_series(any_engine, [{"id": "yahoo:CL=F", "source": "yahoo", "symbol": "CL=F",
                                        "first_seen_at": start - timedelta(days=3)}])
    moments = [start - timedelta(days=2)] + [start + timedelta(hours=h) for h in range(24 * 20)]
    values = [50.0] + [60.0 + (h % 7) for h in range(24 * 20)]
    values[200] = 95.0  # a spike for one hour
    queries.upsert_observations(any_engine, [
        {"series_id": "yahoo:CL=F", "ts": at, "value": value, "high": None, "low": None,
         "fetched_at": at} for at, value in zip(moments, values, strict=True)])
    end = start + timedelta(days=20)
    edges = [start, *column_ends(start, end, 10)]
    (points,) = queries.thinned_points(any_engine, ["yahoo:CL=F"], edges).values()
    assert points[0] == (moments[0], 50.0)  # in force at the start
    assert 10 < len(points) <= 4 * 10 + 1
    assert (moments[200], 95.0) in points and points[-1] == (moments[-1], values[-1])
    assert points == sorted(points)
    assert queries.thinned_points(any_engine, ["yahoo:CL=F"], [start]) == {"yahoo:CL=F": []}
