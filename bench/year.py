"""Benchmark (issue 16): a year in the bench. Storage size, every read command and
``evaluate_all`` on the database a year of the daemon leaves.

The database (bench/year_build.py), in the product's storage: the bundled registry plus
market calls on more markets (``--markets`` in all, made_on days spread over the year),
polled every ``--interval`` minutes for ``--days`` days, their odds stored only where they
change with ``series.confirmed_at`` kept, ``--resolving`` of them resolved mid-year; and
price and macro series (``--daily`` in all, the extras threshold calls) as daily bars for
``--years`` years. Plus the snapshots a year of evaluation stores for the market calls,
source health, one evaluation of everything now (which keeps the made_on prices), and
yesterday's digest in the digest log with every market call 10 points lower, so today's
digest lists them as movers and draws their charts. Rows are bulk-inserted with
``sqlite3`` into the schema ``db.engine.open_database`` creates; before that, windows of
the same polls go through the product's own store and must leave the same rows, and
after it the product's reads must see each market's changes and confirmation.

Measured:

- size: the database, the same data in the old storage (a market point on every poll,
  resolved markets polled to the end), and with an integer series key and epoch-second
  timestamps in the points table; each checkpointed and vacuumed the same way;
- every read command as a subprocess, text and ``--json`` where it has it, with
  ``python -c pass`` in the same rounds (the commands take turns, round after round, so a
  burst of load hits them alike): median and best wall time, peak RSS, and the ratio of
  medians; targets: at most 5x ``python -c pass``, ``digest --preview`` under 0.5 s;
- ``evaluate_all`` in a fresh process, first call and best of 5 repeats, on the bundled
  registry and on the whole year registry.

``--keep DIR`` builds in DIR and reuses the database found there (with its sizes from
the build); ``--forget-prices`` deletes the kept made_on prices before timing.

    .venv/bin/python bench/year.py [--markets 60] [--daily 200] [--resolving 6]
                                   [--days 365] [--interval 5] [--years 10] [--runs 5]
                                   [--keep DIR] [--json PATH] [--forget-prices]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import year_build as yb
from loopback import load_average, tmpdir, write_config

BIN = Path(sys.executable).parent
TRACKER = str(BIN / "tracker")
TIME = "/usr/bin/time"
NO_SERVER = {s: "http://127.0.0.1:9" for s in ("yahoo", "fred", "polymarket", "kalshi")}
TARGET_VS_PYTHON = 5.0
TARGET_DIGEST_S = 0.5
TARGET_EVALUATE_S = 0.1  # repeated, bundled registry
SHOWN = "bench-market-000"  # the prediction `show` shows: a market call with a year of odds


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- the registry ---------------------------------------------------------------------------


def extra_registry(markets: int, daily: int, first_day, days: int) -> str:
    """Market calls on markets of their own (made on days spread over the year) and
    far-off thresholds on daily series of their own."""
    out = []
    for i, made_on in enumerate(yb.made_on_days(markets, first_day, days)):
        out.append(
            f'[[prediction]]\nid = "bench-market-{i:03d}"\nwho = "Bench"\n'
            f'made_on = {made_on.isoformat()}\nclaim = "bench market {i} resolves yes"\n'
            f'kind = "market"\nseries = "polymarket:bench-market-{i:03d}"\nside = "yes"\n')
    for i in range(daily):
        source, symbol = ("fred", f"BENCHF{i:03d}") if i % 4 == 3 else ("yahoo", f"BENCH{i:03d}.L")
        out.append(
            f'[[prediction]]\nid = "bench-daily-{i:03d}"\nwho = "Bench {i % 7}"\n'
            f'made_on = {first_day.isoformat()}\nclaim = "{symbol} tops 1e12"\n'
            f'kind = "threshold"\nseries = "{source}:{symbol}"\ntarget = 1e12\n'
            f'direction = "above"\ndeadline = 2030-12-31\n')
    return "\n".join(out)


def write_configs(folder: Path, args, first_day) -> tuple[Path, Path]:
    """(the year config, a config of the bundled registry alone), both on the database."""
    from tracker.config import load_settings
    from tracker.registry import load_registry

    url = f"sqlite:///{folder / 'tracker.db'}"
    bundled = write_config(folder, NO_SERVER, url, [], bundled=True)
    bundled = bundled.rename(folder / "config-bundled.toml")
    ids = load_registry(load_settings(bundled)).series_ids()
    markets = sum(s.split(":", 1)[0] in yb.MARKET_SOURCES for s in ids)
    daily = sum(s.split(":", 1)[0] in ("yahoo", "fred", "coingecko") for s in ids)
    registry = folder / "bench_registry.toml"
    registry.write_text(extra_registry(max(0, args.markets - markets),
                                       max(0, args.daily - daily), first_day, args.days))
    return write_config(folder, NO_SERVER, url, [registry.name], bundled=True), bundled


# --- the build --------------------------------------------------------------------------------


def build(folder: Path, args) -> dict:
    from db.engine import open_database
    from tracker.config import load_settings
    from tracker.registry import load_registry

    now = datetime.now(UTC)
    first = yb.first_tick(args.days, now)
    config, _bundled = write_configs(folder, args, first.date())
    settings = load_settings(config)
    registry = load_registry(settings)
    open_database(settings.database.url).dispose()
    tick_times, moment = [], first
    while moment <= now:
        tick_times.append(moment)
        moment += timedelta(minutes=args.interval)
    ticks = [yb.text(t) for t in tick_times]
    ids = registry.series_ids()
    market_ids = [s for s in ids if s.split(":", 1)[0] in yb.MARKET_SOURCES]
    started = time.perf_counter()
    markets = yb.simulate_markets(market_ids, len(ticks), args.resolving)
    info = {"polls_per_market": len(ticks), "simulate_s": round(time.perf_counter() - started, 1)}
    info["checked_against_store"] = yb.check_against_product(markets, tick_times, args.check_polls)
    started = time.perf_counter()
    insert_all(folder / "tracker.db", registry, markets, ticks, first, args.years, now)
    info["insert_s"] = round(time.perf_counter() - started, 1)
    info |= evaluate_now(settings, registry, now)
    info["reads_check"] = check_reads(settings, markets, tick_times)
    info["sizes"] = sizes(folder, markets, ticks)
    return info


def insert_all(db_path: Path, registry, markets, ticks, first, years, now) -> None:
    """Series, points and snapshots, in one transaction."""
    import random

    rng = random.Random(17)
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    days = [today - timedelta(days=i) for i in range(int(years * 365), -1, -1)]
    by_id = {m.series_id: m for m in markets}
    conn = yb.connect_for_build(db_path)
    with conn:
        conn.executemany(
            "INSERT INTO series (id, source, symbol, name, unit, first_seen_at, state, "
            "resolved_value, confirmed_at, resolution_confirmed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [yb.market_series_row(m, ticks, ticks[0]) for m in markets])
        for market in markets:
            conn.executemany(yb.OBSERVATION_INSERT, yb.market_rows(market, ticks))
        for series_id in registry.series_ids():
            source, symbol = series_id.split(":", 1)
            if series_id in by_id or source == "edgar":
                continue
            conn.execute("INSERT INTO series (id, source, symbol, name, unit, first_seen_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (series_id, source, symbol, f"Bench {symbol}", "USD", yb.text(first)))
            conn.executemany(yb.OBSERVATION_INSERT,
                             yb.daily_rows(rng, series_id, days, first, source != "fred"))
        for prediction in registry:
            if prediction.kind == "market" and prediction.series in by_id:
                conn.executemany(
                    "INSERT INTO snapshot (prediction_id, at, status, probability, value, "
                    "value_at, explanation, model, inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    yb.snapshots_of(prediction, by_id[prediction.series], ticks))
        conn.execute("UPDATE series SET point_count = "
                     "(SELECT count(*) FROM observation WHERE observation.series_id = series.id)")
    conn.execute("ANALYZE")
    conn.close()


def evaluate_now(settings, registry, now: datetime) -> dict:
    """Source health, one evaluation of everything now, and yesterday's digest showing
    every market call 10 points lower."""
    from db import queries
    from db.engine import open_database
    from jobs.digest import local_day
    from tracker.service.evaluation import evaluate_all

    engine = open_database(settings.database.url)
    for source in ("yahoo", "fred", "polymarket", "edgar"):
        queries.record_source_result(engine, source, now, None)
    evaluations = evaluate_all(engine, registry, now, settings)
    shown = {pid: {"status": e.status.value,
                   "probability": None if e.probability is None else max(0.0, e.probability - 0.1)}
             for pid, e in evaluations.items()}
    yesterday = local_day(now, settings.email.timezone) - timedelta(days=1)
    queries.record_digest(engine, yesterday.isoformat(), now - timedelta(days=1), None, shown)
    with engine.connect() as c:
        points = c.exec_driver_sql("SELECT count(*) FROM observation").scalar()
        market_points = c.exec_driver_sql(
            "SELECT count(*) FROM observation JOIN series ON series.id = series_id "
            "WHERE series.source IN ('polymarket', 'kalshi')").scalar()
        snapshots = c.exec_driver_sql("SELECT count(*) FROM snapshot").scalar()
    engine.dispose()
    return {"points": points, "market_points": market_points, "snapshots": snapshots,
            "predictions": len(registry), "series": len(registry.series_ids())}


def check_reads(settings, markets, tick_times) -> dict:
    """What the product's reads say of each market: its point count, its newest point,
    when it was last seen (``last_seen``) and whether it is settled."""
    from db import queries
    from db.engine import open_database
    from tracker.freshness import last_seen

    engine = open_database(settings.database.url)
    overview = {row.id: row for row in queries.series_overview(engine)}
    confirmed = queries.confirmations(engine)
    engine.dispose()
    for market in markets:
        row, seen = overview[market.series_id], confirmed[market.series_id]
        changes = market.changes()
        last = tick_times[market.last_poll]
        problems = [
            row.points != len(changes) and f"{row.points} points, not {len(changes)}",
            row.last_ts != tick_times[changes[-1]] and f"newest point {row.last_ts}",
            last_seen(row.last_ts, row.confirmed_at) != last and "last seen",
            (seen.resolution_confirmed_at is not None) != (market.resolve_at is not None)
            and "settled",
        ]
        if any(problems):
            raise SystemExit(f"{market.series_id}: the product reads {[p for p in problems if p]}")
    return {"markets": len(markets), "resolved": sum(m.resolve_at is not None for m in markets)}


def sizes(folder: Path, markets, ticks) -> dict:
    """Bytes of the database in the product's storage, the old one and the integer-key one."""
    new = folder / "tracker.db"
    out = {"new_bytes": yb.compact_size(new), "new_points_bytes": yb.table_bytes(new, yb.POINTS_TABLES)}
    with tempfile.TemporaryDirectory(prefix="tracker-year-sizes-", dir=folder) as scratch:
        old = Path(scratch) / "old.db"
        out["old_points"] = yb.old_storage(new, old, markets, ticks)
        out["old_bytes"] = yb.compact_size(old)
        out["old_points_bytes"] = yb.table_bytes(old, yb.POINTS_TABLES)
        old.unlink()
        variant = Path(scratch) / "integer.db"
        yb.integer_keys(new, variant)
        out["integer_bytes"] = yb.compact_size(variant)
        out["integer_points_bytes"] = yb.table_bytes(variant, yb.INTEGER_POINTS_TABLES)
    return out


# --- measured -----------------------------------------------------------------------------------


def run_once(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run; a failing command stops the bench.

    The peak comes from /usr/bin/time: a child forked from this process would report
    this process's own peak (Linux keeps the high-water mark across exec)."""
    with tempfile.NamedTemporaryFile() as peak, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        done = subprocess.run([TIME, "-f", "%M", "-o", peak.name, *argv], env=env,
                              stdout=subprocess.DEVNULL, stderr=err, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): "
                             f"{err.read().decode(errors='replace')[-2000:]}")
        kbytes = int(Path(peak.name).read_text().split()[-1])
    return wall, kbytes / 1024


def commands(config: Path, folder: Path) -> dict[str, list[str]]:
    base = [TRACKER, "--config", str(config)]
    out = {"python -c pass": [sys.executable, "-c", "pass"]}
    for name, argv in (("status", ["status"]), ("series", ["series"]),
                       (f"show {SHOWN}", ["show", SHOWN]), ("health", ["health"]),
                       ("scoreboard", ["scoreboard"])):
        out[name] = base + argv
        out[f"{name} --json"] = base + argv + ["--json"]
    out["check"] = base + ["check"]
    out["digest --preview"] = base + ["digest", "--preview", str(folder / "digest.html")]
    return out


def time_commands(config: Path, folder: Path, runs: int) -> dict:
    """Each command once to warm up (and fill the quick path's cache), then ``runs``
    rounds in which every command runs once."""
    env = os.environ | {"XDG_CACHE_HOME": str(folder / "cache")}
    env = {k: v for k, v in env.items() if k not in ("TRACKER_DATABASE_URL", "TRACKER_CONFIG")}
    argvs = commands(config, folder)
    for argv in argvs.values():
        run_once(argv, env)
    walls = {name: [] for name in argvs}
    peaks = {name: 0.0 for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            wall, peak = run_once(argv, env)
            walls[name].append(wall)
            peaks[name] = max(peaks[name], peak)
    python = statistics.median(walls["python -c pass"])
    out = {}
    for name, values in walls.items():
        median = statistics.median(values)
        out[name] = {"median_s": round(median, 4), "best_s": round(min(values), 4),
                     "runs_s": [round(v, 4) for v in values], "peak_rss_mb": round(peaks[name], 1),
                     "vs_python": round(median / python, 1)}
    return out


def evaluate_in_fresh_process(config: Path, repeats: int) -> dict:
    """``evaluate_all`` in a new interpreter: the first call, then the best of repeats."""
    code = (
        "import json, sys, time\n"
        "from datetime import UTC, datetime\n"
        "from db.engine import open_database\n"
        "from tracker.config import load_settings\n"
        "from tracker.registry import load_registry\n"
        "from tracker.service.evaluation import evaluate_all\n"
        "settings = load_settings(sys.argv[1]); registry = load_registry(settings)\n"
        "engine = open_database(settings.database.url); walls = []\n"
        "for _ in range(int(sys.argv[2]) + 1):\n"
        "    t = time.perf_counter(); evaluate_all(engine, registry, datetime.now(UTC), settings)\n"
        "    walls.append(time.perf_counter() - t)\n"
        "print(json.dumps({'predictions': len(registry), 'first_s': walls[0],\n"
        "                  'repeated_best_s': min(walls[1:]), 'repeated_s': walls[1:]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(config), str(repeats)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"evaluate_all failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def forget_prices(db_path: Path) -> int:
    """Delete the kept made_on prices; how many there were."""
    conn = sqlite3.connect(db_path)
    with conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'made_on_price'").fetchone():
            return 0
        return conn.execute("DELETE FROM made_on_price").rowcount


# --- the report ----------------------------------------------------------------------------------


def report_sizes(info: dict) -> None:
    s = info["sizes"]
    print(f"database (built in {info.get('build_s', '?')} s): {info['points']:,} points ({info['market_points']:,} market points in "
          f"{info['polls_per_market']:,} polls of each market), {info['snapshots']:,} snapshots, "
          f"{info['predictions']} predictions over {info['series']} series")
    print(f"size, product storage (odds stored when they change): {_mb(s, 'new')}")
    print(f"size, old storage (odds stored on every poll, {s['old_points']:,} points): "
          f"{_mb(s, 'old')}; {s['old_bytes'] / s['new_bytes']:.1f}x the product's file")
    print(f"size, integer series key and epoch-second timestamps: {_mb(s, 'integer')}; "
          f"{1 - s['integer_bytes'] / s['new_bytes']:.0%} less than the product's file")


def _mb(sizes: dict, variant: str) -> str:
    """A variant's file size, and its points table's (with its index) where known."""
    total, points = sizes[f"{variant}_bytes"], sizes.get(f"{variant}_points_bytes")
    table = "" if points is None else f" (points table {points / 1e6:.1f} MB)"
    return f"{total / 1e6:.1f} MB{table}"


def report_commands(timed: dict) -> None:
    python = timed["python -c pass"]["median_s"]
    print(f"{'command':<34} {'median':>8} {'best':>8} {'x python':>9} {'peak RSS':>9}  target")
    for name, t in timed.items():
        if name == "python -c pass":
            target = ""
        elif name.startswith("digest"):
            target = f"< {TARGET_DIGEST_S} s {verdict(t['median_s'] < TARGET_DIGEST_S)}"
        else:
            target = f"<= {TARGET_VS_PYTHON:g}x {verdict(t['vs_python'] <= TARGET_VS_PYTHON)}"
        print(f"{name:<34} {t['median_s']:>7.3f}s {t['best_s']:>7.3f}s {t['vs_python']:>8.1f}x "
              f"{t['peak_rss_mb']:>7.1f}MB  {target}")
    print(f"(python -c pass median {python:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description="a year in the bench (issue 16)")
    parser.add_argument("--markets", type=int, default=60, help="market series in all")
    parser.add_argument("--daily", type=int, default=200, help="daily price and macro series in all")
    parser.add_argument("--resolving", type=int, default=6, help="markets that resolve mid-year")
    parser.add_argument("--days", type=int, default=365, help="days of market polling")
    parser.add_argument("--interval", type=int, default=5, help="minutes between market polls")
    parser.add_argument("--years", type=float, default=10, help="years of daily bars")
    parser.add_argument("--runs", type=int, default=5, help="rounds of the read commands")
    parser.add_argument("--check-polls", type=int, default=600,
                        help="polls of two markets stored through the product as a check")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (reused when it has a database)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--forget-prices", action="store_true",
                        help="delete the kept made_on prices before timing")
    args = parser.parse_args()
    figures = {"load_average_start": load_average()}
    print(f"load average at start: {figures['load_average_start']} ({os.cpu_count()} CPUs)",
          flush=True)

    folder = Path(args.keep) if args.keep else tmpdir("tracker-year-")
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "tracker.db").exists():
        info = json.loads((folder / "build.json").read_text()) | {"reused": str(folder)}
    else:
        started = time.perf_counter()
        info = build(folder, args)
        info["build_s"] = round(time.perf_counter() - started, 1)
        (folder / "build.json").write_text(json.dumps(info, indent=2))
    if args.forget_prices:
        info["prices_forgotten"] = forget_prices(folder / "tracker.db")
    figures["build"] = info
    report_sizes(info)
    print(f"checked against the product's store: {json.dumps(info['checked_against_store'])}; "
          f"the product's reads: {json.dumps(info['reads_check'])}", flush=True)

    for name, config in (("bundled", folder / "config-bundled.toml"), ("year", folder / "config.toml")):
        figures[f"evaluate_all {name}"] = e = evaluate_in_fresh_process(config, 5)
        target = "" if name != "bundled" else (
            f" (target < {TARGET_EVALUATE_S} s, as on the 5M-point database) "
            f"{verdict(e['repeated_best_s'] < TARGET_EVALUATE_S)}")
        print(f"evaluate_all, {name} registry ({e['predictions']} predictions): first call "
              f"{e['first_s']:.3f} s, repeated best of 5 {e['repeated_best_s']:.3f} s{target}",
              flush=True)
    figures["commands"] = time_commands(folder / "config.toml", folder, args.runs)
    report_commands(figures["commands"])
    figures["load_average_end"] = load_average()
    print(f"load average at end: {figures['load_average_end']}; folder {folder}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
