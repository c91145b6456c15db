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

The two sides take turns, so a burst of load from elsewhere on the machine falls on both
alike: each repeat (``--repeats``, fresh databases each time) runs the insert on one side
then the other, then the conflicts on one side then the other, the side going first
alternating from repeat to repeat (project, bare; bare, project; ...). Each repeat gives
a ratio per phase; the figure is their median.

    .venv/bin/python bench/ingest.py [--series 200] [--points 5000] [--repeats 3]
                                      [--pg-points N] [--no-postgres] [--profile]
                                      [--json PATH]
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
import statistics
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
PHASES = ("insert (empty table)", "re-upsert (every row conflicts)")
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


# --- the sides: each holds one database, and times one upsert of all the rows -------------------


class Project:
    """``db.queries.upsert_observations`` through ``open_database``'s engine."""

    def __init__(self, url: str, series):
        self.engine = open_database(url)
        queries.upsert_series(self.engine, series)

    def upsert(self, rows, profiler=None) -> float:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        queries.upsert_observations(self.engine, rows)
        if profiler:
            profiler.disable()
        return time.perf_counter() - start

    def close(self) -> None:
        self.engine.dispose()


class SqliteBare:
    """``sqlite3`` executemany of the same upsert, with db/engine.py's pragmas."""

    def __init__(self, path: Path, series):
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
        self.conn = conn

    def upsert(self, rows, profiler=None) -> float:
        start = time.perf_counter()
        with self.conn:  # one transaction, as the project's engine.begin()
            self.conn.executemany(
                UPSERT_SQL.format(p="?"),
                ((r["series_id"], _sqlite_text(r["ts"]), r["value"], r["high"], r["low"],
                  _sqlite_text(r["fetched_at"])) for r in rows),
            )
        return time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


class PgBare:
    """psycopg ``executemany`` (pipelined) of the same upsert, no COPY."""

    def __init__(self, dsn: str, url: str, series):
        import psycopg

        open_database(url).dispose()
        self.conn = psycopg.connect(dsn)
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO series (id, source, symbol, unit, first_seen_at) VALUES (%s, %s, %s, %s, %s)",
                [(s["id"], s["source"], s["symbol"], s["unit"], s["first_seen_at"]) for s in series],
            )
        self.conn.commit()

    def upsert(self, rows, profiler=None) -> float:
        start = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.executemany(
                UPSERT_SQL.format(p="%s"),
                ((r["series_id"], r["ts"], r["value"], r["high"], r["low"], r["fetched_at"])
                 for r in rows),
            )
        self.conn.commit()
        return time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def alternate(open_sides, rows, repeats: int, profile: bool, check=None) -> tuple[dict, list]:
    """Time both sides, taking turns (see the module's docstring). ``open_sides(r)``
    gives repeat r's (project, bare) on fresh databases and a function removing them;
    ``check(project, bare)`` runs on the filled databases of the first repeat."""
    times = {phase: {"project": [], "bare": []} for phase in PHASES}
    profiles = []
    for r in range(repeats):
        project, bare, remove = open_sides(r)
        try:
            order = [("project", project), ("bare", bare)]
            for phase in PHASES:
                for name, side in order if r % 2 == 0 else order[::-1]:
                    profiler = cProfile.Profile() if profile and name == "project" and r == 0 else None
                    times[phase][name].append(side.upsert(rows, profiler))
                    if profiler:
                        profiles.append(profiler)
            if check is not None and r == 0:
                check(project, bare)
        finally:
            project.close()
            bare.close()
            remove()
    return times, profiles


# --- SQLite ----------------------------------------------------------------------------------


def sqlite_sides(folder: Path, series):
    def open_sides(r: int):
        paths = [folder / f"project-{r}.db", folder / f"bare-{r}.db"]

        def remove():
            for path in paths:
                for f in folder.glob(path.name + "*"):
                    f.unlink()

        return Project(f"sqlite:///{paths[0]}", series), SqliteBare(paths[1], series), remove

    return open_sides


def sqlite_check(n: int):
    """Both files hold the same rows, stored as the same text."""
    sample = "SELECT series_id, ts, value, high, low FROM observation ORDER BY series_id, ts LIMIT 3"

    def check(project: Project, bare: SqliteBare) -> None:
        with project.engine.connect() as conn:
            counts = [conn.exec_driver_sql("SELECT count(*) FROM observation").scalar()]
            samples = [[tuple(row) for row in conn.exec_driver_sql(sample)]]
        counts.append(bare.conn.execute("SELECT count(*) FROM observation").fetchone()[0])
        samples.append(bare.conn.execute(sample).fetchall())
        assert counts == [n, n], counts
        assert samples[0] == samples[1], samples

    return check


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


def pg_sides(dsn: str, parsed, series):
    """Two scratch databases per repeat, created here and dropped after it."""
    def open_sides(r: int):
        names = [f"tracker_bench_ingest_{os.getpid()}_{r}_{side}" for side in ("project", "bare")]
        urls = [parsed.set(database=name).render_as_string(hide_password=False) for name in names]
        dsns = [dsn.replace(f"dbname={parsed.database}", f"dbname={name}") for name in names]

        def remove():
            for name in names:
                pg_drop(dsn, name)

        for name in names:
            pg_create(dsn, name)
        try:
            return Project(urls[0], series), PgBare(dsns[1], urls[1], series), remove
        except Exception:
            remove()
            raise

    return open_sides


def pg_check(n: int):
    def check(project: Project, bare: PgBare) -> None:
        with project.engine.connect() as conn:
            counts = [conn.exec_driver_sql("SELECT count(*) FROM observation").scalar()]
        counts.append(bare.conn.execute("SELECT count(*) FROM observation").fetchone()[0])
        assert counts == [n, n], counts

    return check


# --- report ------------------------------------------------------------------------------------


def report(backend: str, n: int, times: dict) -> dict:
    out = {}
    for phase in PHASES:
        project, bare = times[phase]["project"], times[phase]["bare"]
        ratios = [b / p for p, b in zip(project, bare, strict=True)]  # points/s ratio
        ratio = statistics.median(ratios)
        p_s, b_s = statistics.median(project), statistics.median(bare)
        print(f"{backend} {phase}: project median {p_s:.2f} s = {n / p_s:,.0f} points/s; "
              f"bare median {b_s:.2f} s = {n / b_s:,.0f} points/s; ratio per repeat "
              f"{', '.join(f'{x:.2f}' for x in ratios)}; median ratio {ratio:.2f} "
              f"(target >= {TARGET_RATIO}) {verdict(ratio >= TARGET_RATIO)}")
        out[phase] = {"project_s": project, "bare_s": bare, "ratios": ratios, "ratio": ratio,
                      "project_pps": n / p_s, "bare_pps": n / b_s}
    return out


def print_profile(title: str, profiler, top: int = 25) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    print(f"\ncProfile, {title} (by own time):")
    print(out.getvalue())


def postgres(args, series, rows) -> dict | None:
    url = os.environ.get("TRACKER_TEST_POSTGRES_URL", DEFAULT_PG)
    dsn, parsed = pg_admin_dsn(url)
    version = pg_reachable(dsn)
    if not version:
        return None
    if args.pg_points and args.pg_points != args.points:
        series, rows = make_rows(args.series, args.pg_points)
    times, profiles = alternate(pg_sides(dsn, parsed, series), rows, args.repeats, args.profile,
                                pg_check(len(rows)))
    print(f"PostgreSQL {version}, scratch databases created and dropped per repeat")
    out = report("PostgreSQL", len(rows), times) | {"points": len(rows)}
    for i, profiler in enumerate(profiles):
        print_profile(f"PostgreSQL upsert_observations, {PHASES[i]}", profiler)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest benchmark (issue 8)")
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--points", type=int, default=5000, help="points per series")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats, each side taking turns (see the docstring)")
    parser.add_argument("--pg-points", type=int, default=None,
                        help="points per series on PostgreSQL (default: --points)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the project's upserts (slower; figures then not comparable)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    results: dict = {"batch": queries.UPSERT_BATCH, "repeats": args.repeats,
                     "load_average_start": load_average()}
    print(f"load average at start: {results['load_average_start']} ({os.cpu_count()} CPUs)")

    build = time.perf_counter()
    series, rows = make_rows(args.series, args.points)
    n = len(rows)
    print(f"{n:,} points ({args.series} series x {args.points} daily points), built in "
          f"{time.perf_counter() - build:.1f} s (not timed); upsert batch {queries.UPSERT_BATCH:,} rows; "
          f"{args.repeats} repeats, the sides taking turns")

    folder = tmpdir("tracker-bench-ingest-")
    times, profiles = alternate(sqlite_sides(folder, series), rows, args.repeats, args.profile,
                                sqlite_check(n))
    print(f"SQLite {sqlite3.sqlite_version}, files in {folder} (removed after each repeat)")
    results["sqlite"] = report("SQLite", n, times)
    for i, profiler in enumerate(profiles):
        print_profile(f"SQLite upsert_observations, {PHASES[i]}", profiler)
    if not args.no_postgres:
        results["postgresql"] = postgres(args, series, rows)

    results["load_average_end"] = load_average()
    print(f"load average at end: {results['load_average_end']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
