"""Benchmark (issue 16): the scoreboard and the digest after a year of running.

Builds a SQLite database as a year of the daemon would leave it, in the storage of the
time (a market point on every poll):

- the bundled registry, plus market calls on extra markets (``--markets`` in all), their
  made_on days spread over the year;
- every market polled every ``--interval`` minutes for ``--days`` days, its price moving
  on about a third of the polls;
- every price and macro series of the registry as daily bars for ``--years`` years;
- the snapshots a year of evaluation stores for the market calls (one per move of their
  probability past the evaluation's epsilon), and one evaluation of everything now
  (``evaluate_all``, timed);
- yesterday's digest in the digest log, every market call shown 10 points lower, so
  today's digest lists them as movers and draws their charts.

Points and snapshots are bulk-inserted with ``sqlite3`` into the project's tables (schema
by ``db.engine.open_database``). Then ``tracker scoreboard`` and ``tracker digest
--preview FILE`` run as subprocesses under ``/usr/bin/time -v``, ``--runs`` times each:
the best wall time and the highest peak RSS are reported.

The build ends with an evaluation, which keeps the made_on prices
(tracker/service/made_on.py); ``--forget-prices`` deletes them before timing, to measure
the reads of a database no evaluation has run on since the upgrade.

Before and after a change: extract the older tree (``git archive COMMIT | tar -x -C
DIR``), build with ``PYTHONPATH=DIR`` so that both the build and the timed commands run
its code, copy the folder, ``tracker migrate`` the copy, and time each side with
``--keep`` on its folder.

    .venv/bin/python bench/year.py [--markets 20] [--days 365] [--interval 5]
                                   [--years 10] [--runs 3] [--keep DIR] [--json PATH]
                                   [--forget-prices]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import load_average, tmpdir, write_config

BIN = Path(sys.executable).parent
TRACKER = str(BIN / "tracker")
NO_SERVER = {s: "http://127.0.0.1:9" for s in ("yahoo", "fred", "polymarket", "kalshi")}
MOVE_SHARE = 0.3  # share of polls on which a market's price moves
EPSILON = 0.001  # tracker.service.evaluation.PROBABILITY_EPSILON


def _text(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def extra_markets_toml(count: int, first_day: date, days: int) -> str:
    """``count`` market calls on markets of their own, made on days spread over the year."""
    out = []
    for i in range(count):
        made_on = first_day + timedelta(days=(i + 1) * days // (count + 1))
        out.append(
            f'[[prediction]]\nid = "bench-market-{i:03d}"\nwho = "Bench"\n'
            f'made_on = {made_on.isoformat()}\nclaim = "bench market {i} resolves yes"\n'
            f'kind = "market"\nseries = "polymarket:bench-market-{i:03d}"\nside = "yes"\n'
        )
    return "\n".join(out)


def market_points(rng: random.Random, ticks: list[str], fetched: str):
    """(ts, value) of one market polled at every tick: a walk in 0.1-point steps."""
    value = rng.uniform(0.1, 0.9)
    for ts in ticks:
        if rng.random() < MOVE_SHARE:
            value = min(0.99, max(0.01, round(value + rng.choice((-1, 1)) * 0.001
                                                * rng.randint(1, 10), 3)))
        yield ts, value


def snapshots_of(prediction, points: list[tuple[str, float]]):
    """The snapshots a year of evaluation stores for a market call: one whenever its
    probability moved past EPSILON (tracker/service/evaluation.py ``_changed``)."""
    last = None
    for ts, yes in points:
        p = yes if prediction.side == "yes" else 1.0 - yes
        if last is not None and abs(p - last) <= EPSILON:
            continue
        last = p
        status = "on_track" if p >= 0.5 else "off_track"
        yield (prediction.id, ts, status, p, yes, ts,
               f"{prediction.series}: market gives {prediction.side} {p:.1%}",
               "market:polymarket",
               json.dumps({"as_of": ts, "state": "open", "yes_price": yes}, sort_keys=True))


def build(folder: Path, args) -> tuple[Path, dict]:
    from db.engine import open_database
    from tracker.config import load_settings
    from tracker.registry import load_registry

    info: dict = {}
    db_path = folder / "tracker.db"
    now = datetime.now(UTC)
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    first = today - timedelta(days=args.days)
    registry_path = folder / "bench_markets.toml"
    bundled_markets = 11  # the bundled registry's polymarket series
    registry_path.write_text(extra_markets_toml(max(0, args.markets - bundled_markets),
                                                first.date(), args.days))
    config = write_config(folder, NO_SERVER, f"sqlite:///{db_path}", [registry_path.name],
                          bundled=True)
    settings = load_settings(config)
    registry = load_registry(settings)
    open_database(settings.database.url).dispose()

    rng = random.Random(16)
    fetched = _text(now)
    ticks = []
    moment = first
    while moment <= now:
        ticks.append(_text(moment))
        moment += timedelta(minutes=args.interval)
    daily = [_text(today - timedelta(days=i)) for i in range(int(args.years * 365), -1, -1)]

    started = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # building only; the measured reads use the engine's pragmas
    conn.execute("PRAGMA cache_size=-200000")
    series_ids = registry.series_ids()
    markets = {}
    with conn:
        for series_id in series_ids:
            source, symbol = series_id.split(":", 1)
            market = source in ("polymarket", "kalshi")
            conn.execute(
                "INSERT INTO series (id, source, symbol, name, unit, first_seen_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (series_id, source, symbol, f"Bench {symbol}", "probability" if market else "USD",
                 _text(first), "open" if market else None))
            if market:
                markets[series_id] = list(market_points(rng, ticks, fetched))
                rows = ((series_id, ts, v, None, None, fetched) for ts, v in markets[series_id])
            elif source == "edgar":
                continue
            else:
                rows = _daily_rows(rng, series_id, daily, fetched)
            conn.executemany("INSERT INTO observation (series_id, ts, value, high, low, fetched_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", rows)
        for prediction in registry:
            if prediction.kind == "market" and prediction.series in markets:
                conn.executemany(
                    "INSERT INTO snapshot (prediction_id, at, status, probability, value, "
                    "value_at, explanation, model, inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    snapshots_of(prediction, markets[prediction.series]))
        conn.execute("UPDATE series SET point_count = "
                     "(SELECT count(*) FROM observation WHERE observation.series_id = series.id)")
    conn.execute("ANALYZE")
    conn.close()
    info["build_insert_s"] = round(time.perf_counter() - started, 1)
    info |= _evaluate_now(settings, registry, now)
    info["db_mb"] = round(sum(p.stat().st_size for p in folder.glob("tracker.db*")) / 1e6, 1)
    return config, info


def _daily_rows(rng: random.Random, series_id: str, days: list[str], fetched: str):
    value = 100.0
    for day in days:
        value *= 1.0 + rng.gauss(0.0, 0.01)
        yield series_id, day, value, value * 1.005, value * 0.995, fetched


def _evaluate_now(settings, registry, now: datetime) -> dict:
    """Source health, one evaluation of everything now (timed), and yesterday's digest
    showing every market call 10 points lower."""
    from db import queries
    from db.engine import open_database
    from jobs.digest import local_day
    from tracker.service.evaluation import evaluate_all

    engine = open_database(settings.database.url)
    for source in ("yahoo", "fred", "polymarket", "edgar"):
        queries.record_source_result(engine, source, now, None)
    started = time.perf_counter()
    evaluations = evaluate_all(engine, registry, now, settings)
    evaluate_s = time.perf_counter() - started
    shown = {pid: {"status": e.status.value,
                   "probability": None if e.probability is None else max(0.0, e.probability - 0.1)}
             for pid, e in evaluations.items()}
    yesterday = local_day(now, settings.email.timezone) - timedelta(days=1)
    queries.record_digest(engine, yesterday.isoformat(), now - timedelta(days=1), None, shown)
    with engine.connect() as c:
        points = c.exec_driver_sql("SELECT count(*) FROM observation").scalar()
        snapshots = c.exec_driver_sql("SELECT count(*) FROM snapshot").scalar()
    engine.dispose()
    return {"evaluate_all_s": round(evaluate_s, 2), "points": points, "snapshots": snapshots,
            "predictions": len(registry)}


def forget_prices(db_path: Path) -> int:
    """Delete the kept made_on prices (none before migration 0007); how many there were."""
    conn = sqlite3.connect(db_path)
    with conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'made_on_price'").fetchone():
            return 0
        return conn.execute("DELETE FROM made_on_price").rowcount


def timed(argv: list[str], runs: int) -> dict:
    """Best wall time and highest peak RSS of ``runs`` runs under /usr/bin/time -v."""
    walls, peaks = [], []
    for _ in range(runs):
        done = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
        walls.append(_wall(done.stderr))
        peaks.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                   done.stderr).group(1)) / 1024)
    return {"wall_s": round(min(walls), 2), "walls_s": [round(w, 2) for w in walls],
            "peak_rss_mb": round(max(peaks), 1)}


def _wall(stderr: str) -> float:
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", stderr).group(1)
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="a year of running: scoreboard and digest (issue 16)")
    parser.add_argument("--markets", type=int, default=20, help="market series in all")
    parser.add_argument("--days", type=int, default=365, help="days of market polling")
    parser.add_argument("--interval", type=int, default=5, help="minutes between market polls")
    parser.add_argument("--years", type=float, default=10, help="years of daily bars")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (reused when it has a database)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--forget-prices", action="store_true",
                        help="delete the kept made_on prices before timing")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else tmpdir("tracker-year-")
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "tracker.db").exists():
        config, info = folder / "config.toml", {"reused": str(folder)}
    else:
        config, info = build(folder, args)
    if args.forget_prices:
        info["prices_forgotten"] = forget_prices(folder / "tracker.db")
    print(f"database: {json.dumps(info)}", flush=True)
    figures = {"load_average": load_average(), "build": info}
    commands = {
        "scoreboard": [TRACKER, "--config", str(config), "scoreboard"],
        "digest --preview": [TRACKER, "--config", str(config), "digest", "--preview",
                             str(folder / "digest.html")],
    }
    for name, argv in commands.items():
        figures[name] = timed(argv, args.runs)
        print(f"{name}: {json.dumps(figures[name])}", flush=True)
    print(f"load average: {figures['load_average']}; folder {folder}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
