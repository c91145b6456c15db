"""Benchmark (issue 8): 1,000,000 points (200 series x 5,000 daily points) through
``db.queries.upsert_observations``, against a bare driver ``executemany`` of the same
rows into the same table with ``INSERT ... ON CONFLICT DO UPDATE``.

SQLite: two fresh files, both created by ``db.engine.open_database`` (same schema, same
migrations); the bare run opens its file with ``sqlite3`` and sets the pragmas of
db/engine.py (WAL, busy_timeout, synchronous=NORMAL, foreign_keys=ON). PostgreSQL (when
reachable, ``$TRACKER_TEST_POSTGRES_URL`` or postgres@127.0.0.1:5432/test): two scratch
databases created and dropped here, schema by ``open_database``; the bare run is psycopg
``executemany`` (pipelined) of the same upsert, no COPY.

Both sides start from the same list of row dicts (what ``tracker.service.poll.store`` hands the
project) and the timing of the bare side includes turning them into driver tuples.
Each is timed twice: into an empty table (all inserts), then the same rows again (all
conflicts: every row updated). Ratio = project points/s / bare points/s, target >= 0.5.

    .venv/bin/python bench/ingest.py [--series 200] [--points 5000] [--pg-points N]
                                      [--no-postgres] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import load_average, tmpdir

from db import engine as db_engine
from db import queries
from db.engine import open_database

TARGET_RATIO = 0.5
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMNS = ("series_id", "ts", "value", "high", "low", "fetched_at")
UPSERT_SQL = (
    "INSERT INTO observation (series_id, ts, value, high, low, fetched_at) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value, "
    "high = excluded.high, low = excluded.low, fetched_at = excluded.fetched_at"
)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def make_rows(n_series: int, n_points: int, seed: int = 8):
    """Series rows and observation dicts: daily random walks, stamped 00:00 UTC."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    first = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(days=n_points)
    days = [first + timedelta(days=i) for i in range(n_points)]
    series = [
        {"id": f"yahoo:INGEST{i:03d}", "source": "yahoo", "symbol": f"INGEST{i:03d}",
         "name": None, "unit": "USD", "first_seen_at": now, "state": None,
         "resolved_value": None, "meta": None}
        for i in range(n_series)
    ]
    rows = []
    for s in series:
        value = 100.0
        for day in days:
            value *= 1.0 + rng.gauss(0.0, 0.01)
            rows.append({"series_id": s["id"], "ts": day, "value": value,
                         "high": value * 1.005, "low": value * 0.995, "fetched_at": now})
    return series, rows


def _sqlite_text(value: datetime) -> str:
    """What SQLAlchemy's SQLite DateTime stores: naive UTC text with microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# --- SQLite ----------------------------------------------------------------------------------


def sqlite_project(path: Path, series, rows, profile: bool):
    engine = open_database(f"sqlite:///{path}")
    queries.upsert_series(engine, series)
    timings = []
    profiles = []
    for _ in range(2):
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        queries.upsert_observations(engine, rows)
        if profiler:
            profiler.disable()
            profiles.append(profiler)
        timings.append(time.perf_counter() - start)
    engine.dispose()
    return timings, profiles


def sqlite_bare(path: Path, series, rows):
    open_database(f"sqlite:///{path}").dispose()  # the same schema, created the same way
    conn = sqlite3.connect(path, timeout=db_engine.SQLITE_BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={db_engine.SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    with conn:
        conn.executemany(
            "INSERT INTO series (id, source, symbol, unit, first_seen_at) VALUES (?, ?, ?, ?, ?)",
            [(s["id"], s["source"], s["symbol"], s["unit"], _sqlite_text(s["first_seen_at"]))
             for s in series],
        )
    sql = UPSERT_SQL.format(p="?")
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        with conn:  # one transaction, as the project's engine.begin()
            conn.executemany(
                sql,
                ((r["series_id"], _sqlite_text(r["ts"]), r["value"], r["high"], r["low"],
                  _sqlite_text(r["fetched_at"])) for r in rows),
            )
        timings.append(time.perf_counter() - start)
    conn.close()
    return timings


def sqlite_check(project: Path, bare: Path, n: int) -> None:
    """Both files hold the same rows, stored as the same text."""
    sample = "SELECT series_id, ts, value, high, low FROM observation ORDER BY series_id, ts LIMIT 3"
    counts, samples = [], []
    for path in (project, bare):
        with sqlite3.connect(path) as conn:
            counts.append(conn.execute("SELECT count(*) FROM observation").fetchone()[0])
            samples.append(conn.execute(sample).fetchall())
    assert counts == [n, n], counts
    assert samples[0] == samples[1], samples


# --- PostgreSQL --------------------------------------------------------------------------------


def pg_admin_dsn(url: str) -> tuple[str, str]:
    """(libpq DSN of the admin database, server part of the URL)."""
    from sqlalchemy.engine import make_url

    u = make_url(db_engine.normalise_url(url))
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"
    if u.password:
        dsn += f" password={u.password}"
    return dsn, u


def pg_reachable(dsn: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable ({str(exc).strip().splitlines()[0]}): skipped")
        return None


def pg_create(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_project(url: str, series, rows, profile: bool):
    engine = open_database(url)
    queries.upsert_series(engine, series)
    timings, profiles = [], []
    for _ in range(2):
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        queries.upsert_observations(engine, rows)
        if profiler:
            profiler.disable()
            profiles.append(profiler)
        timings.append(time.perf_counter() - start)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM observation").scalar()
    engine.dispose()
    assert count == len(rows), count
    return timings, profiles


def pg_bare(dsn: str, url: str, series, rows):
    import psycopg

    open_database(url).dispose()
    timings = []
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO series (id, source, symbol, unit, first_seen_at) VALUES (%s, %s, %s, %s, %s)",
                [(s["id"], s["source"], s["symbol"], s["unit"], s["first_seen_at"]) for s in series],
            )
        conn.commit()
        sql = UPSERT_SQL.format(p="%s")
        for _ in range(2):
            start = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(
                    sql,
                    ((r["series_id"], r["ts"], r["value"], r["high"], r["low"], r["fetched_at"])
                     for r in rows),
                )
            conn.commit()
            timings.append(time.perf_counter() - start)
        count = conn.execute("SELECT count(*) FROM observation").fetchone()[0]
    assert count == len(rows), count
    return timings


# --- report ------------------------------------------------------------------------------------


def report(backend: str, n: int, project: list[float], bare: list[float]) -> dict:
    out = {}
    for i, phase in enumerate(("insert (empty table)", "re-upsert (every row conflicts)")):
        p_rate, b_rate = n / project[i], n / bare[i]
        ratio = p_rate / b_rate
        print(f"{backend} {phase}: project {project[i]:.2f} s = {p_rate:,.0f} points/s; "
              f"bare {bare[i]:.2f} s = {b_rate:,.0f} points/s; "
              f"ratio {ratio:.2f} (target >= {TARGET_RATIO}) {verdict(ratio >= TARGET_RATIO)}")
        out[phase] = {"project_s": project[i], "bare_s": bare[i], "project_pps": p_rate,
                      "bare_pps": b_rate, "ratio": ratio}
    return out


def print_profile(title: str, profiler, top: int = 25) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    print(f"\ncProfile, {title} (by own time):")
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest benchmark (issue 8)")
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--points", type=int, default=5000, help="points per series")
    parser.add_argument("--pg-points", type=int, default=None,
                        help="points per series on PostgreSQL (default: --points)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the project's upserts (slower; figures then not comparable)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")

    results: dict = {"batch": queries.UPSERT_BATCH}
    build = time.perf_counter()
    series, rows = make_rows(args.series, args.points)
    n = len(rows)
    print(f"{n:,} points ({args.series} series x {args.points} daily points), built in "
          f"{time.perf_counter() - build:.1f} s (not timed); upsert batch {queries.UPSERT_BATCH:,} rows")

    folder = tmpdir("tracker-bench-ingest-")
    project_path, bare_path = folder / "project.db", folder / "bare.db"
    project_t, profiles = sqlite_project(project_path, series, rows, args.profile)
    bare_t = sqlite_bare(bare_path, series, rows)
    sqlite_check(project_path, bare_path, n)
    print(f"SQLite {sqlite3.sqlite_version}, files in {folder}")
    results["sqlite"] = report("SQLite", n, project_t, bare_t)
    for i, profiler in enumerate(profiles):
        print_profile(f"SQLite upsert_observations pass {i + 1}", profiler)

    if not args.no_postgres:
        url = os.environ.get("TRACKER_TEST_POSTGRES_URL", DEFAULT_PG)
        dsn, parsed = pg_admin_dsn(url)
        version = pg_reachable(dsn)
        if version:
            pg_rows = rows
            if args.pg_points and args.pg_points != args.points:
                series, pg_rows = make_rows(args.series, args.pg_points)
            names = [f"tracker_bench_ingest_{os.getpid()}_{side}" for side in ("project", "bare")]
            urls = [parsed.set(database=name).render_as_string(hide_password=False) for name in names]
            dsns = [dsn.replace(f"dbname={parsed.database}", f"dbname={name}") for name in names]
            try:
                for name in names:
                    pg_create(dsn, name)
                project_t, profiles = pg_project(urls[0], series, pg_rows, args.profile)
                bare_t = pg_bare(dsns[1], urls[1], series, pg_rows)
            finally:
                for name in names:
                    pg_drop(dsn, name)
            print(f"PostgreSQL {version}, scratch databases {', '.join(names)} (dropped)")
            results["postgresql"] = report("PostgreSQL", len(pg_rows), project_t, bare_t)
            results["postgresql"]["points"] = len(pg_rows)
            for i, profiler in enumerate(profiles):
                print_profile(f"PostgreSQL upsert_observations pass {i + 1}", profiler)

    print(f"load average at end: {load_average()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
