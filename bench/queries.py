"""Benchmark (issues 8 and 16): the read commands on a big database, as a user runs them.

Builds a SQLite database of 200 series x 25,000 daily points = 5,000,000 points (schema
by ``db.engine.open_database``, points bulk-inserted with ``sqlite3`` straight into the
project's ``observation`` table), a registry file with one prediction per series, source
health rows, and snapshots from the project's own evaluation (``evaluate_all``, timed
and reported on the way; it also keeps each prediction's made_on price). Then, as
subprocesses, best of 5, each as a ratio to ``python -c pass`` measured in the same run:

- ``tracker --config X COMMAND`` and ``... COMMAND --json`` for ``status``, ``series``,
  ``health``, ``scoreboard``, ``show ID`` and ``check`` (no --json), as a user runs
  them again: the lean path (tracker/quick/) answers from the cache the previous run
  left. Target: at most 5x ``python -c pass``.
- the same through the full CLI (``python -m tracker.cli``), which never takes the lean
  path: what the first run after the config or the registry changed costs;
- with ``--baseline DIR``, the same through an earlier commit's code (extracted into DIR,
  run with the same interpreter and packages): the before figures, in the same run;
- ``python -c pass`` and ``tracker --help`` (start-up);
- where the full CLI's time goes, step by step, and ``python -X importtime`` of the
  full CLI and of a lean ``status``.

Text output is read on a terminal COLUMNS wide (120). The script checks that the lean
path and the full CLI print the same bytes. A command whose runs exceed the time budget
is run fewer times (said so in the output). ``--profile`` adds a cProfile of each full
``--json`` command (``python -m cProfile -m tracker.cli``).

    .venv/bin/python bench/queries.py [--points 25000] [--budget 90] [--profile]
                                       [--keep DIR] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import load_average, registry_toml, symbols_for, tmpdir, write_config

BIN = Path(sys.executable).parent
TRACKER = str(BIN / "tracker")
TARGET_VS_PYTHON = 5.0
SHOWN = "bench-yahoo-000"  # the prediction `show` tells
READ_COMMANDS = [["status"], ["series"], ["health"], ["scoreboard"], ["show", SHOWN], ["check"]]
NO_SERVER = {s: "http://127.0.0.1:9" for s in ("yahoo", "fred", "polymarket", "kalshi")}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _text(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def build(folder: Path, n_points: int) -> tuple[Path, dict]:
    from db import queries
    from db.engine import open_database

    info: dict = {}
    db_path = folder / "tracker.db"
    symbols = symbols_for()
    registry_path = folder / "bench_registry.toml"
    registry_path.write_text(registry_toml(symbols))
    config = write_config(folder, NO_SERVER, f"sqlite:///{db_path}", [registry_path.name])

    open_database(f"sqlite:///{db_path}").dispose()
    now = datetime.now(UTC)
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    days = [_text(today - timedelta(days=n_points - 1 - i)) for i in range(n_points)]
    fetched = _text(now)
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # building only; the measured reads use the engine's pragmas
    conn.execute("PRAGMA cache_size=-200000")
    rng = random.Random(8)
    with conn:
        for source, names in symbols.items():
            market = source in ("polymarket", "kalshi")
            conn.executemany(
                "INSERT INTO series (id, source, symbol, name, unit, first_seen_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(f"{source}:{s}", source, s, f"Bench {s}", "probability" if market else "USD",
                  fetched, "open" if market else None) for s in names],
            )

            def points(series_id, market=market):
                value = 0.5 if market else 100.0
                for day in days:
                    if market:
                        value = min(0.99, max(0.01, value + rng.gauss(0.0, 0.01)))
                        yield series_id, day, value, None, None, fetched
                    else:
                        value *= 1.0 + rng.gauss(0.0, 0.01)
                        yield series_id, day, value, value * 1.005, value * 0.995, fetched

            for s in names:
                conn.executemany(
                    "INSERT INTO observation (series_id, ts, value, high, low, fetched_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    points(f"{source}:{s}"),
                )
        # These points bypass upsert_observations, which keeps series.point_count (what
        # `tracker series` shows): count them in once, as the migration that added it does.
        conn.execute(
            "UPDATE series SET point_count = "
            "(SELECT count(*) FROM observation WHERE observation.series_id = series.id)"
        )
    conn.execute("ANALYZE")
    conn.close()
    info["build_insert_s"] = time.perf_counter() - start

    from tracker.config import load_settings
    from tracker.registry import load_registry
    from tracker.service.evaluation import evaluate_all

    settings = load_settings(config)
    registry = load_registry(settings)
    engine = open_database(settings.database.url)
    for source in symbols:
        queries.record_source_result(engine, source, now, None)
    start = time.perf_counter()
    evaluations = evaluate_all(engine, registry, now, settings)
    info["evaluate_all_s"] = time.perf_counter() - start
    with engine.connect() as c:
        info["points"] = c.exec_driver_sql("SELECT count(*) FROM observation").scalar()
        info["snapshots"] = c.exec_driver_sql("SELECT count(*) FROM snapshot").scalar()
    engine.dispose()
    info["evaluations"] = len(evaluations)
    info["db_mb"] = sum(p.stat().st_size for p in folder.glob("tracker.db*")) / 1e6
    return config, info


def timed_runs(argv: list[str], runs: int, budget: float, check=None, env=None,
               before=None, cwd=None) -> tuple[list[float], str]:
    """Run argv up to ``runs`` times (fewer when the budget is spent); wall times.
    ``before`` runs ahead of each run, untimed."""
    times: list[float] = []
    out = ""
    spent = 0.0
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env,
                              cwd=cwd)
        elapsed = time.perf_counter() - start
        # No daemon leads on the bench's database: health's verdict is exit 1, as it should be.
        if done.returncode not in ((0, 1) if "health" in argv else (0,)):
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
        if check:
            check(done.stdout)
        times.append(elapsed)
        out = done.stdout
        spent += elapsed
        if spent > budget:
            break
    return times, out


def importtime(argv: list[str], top: int = 12, env=None) -> tuple[str, float]:
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True,
                          text=True, check=False, env=env)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # "| " then two spaces a level
        rows.append((int(cumulative), int(self_us), depth, name.strip()))
    total = sum(r[0] for r in rows if r[2] == 0) / 1e6
    lines = [f"  {'cumulative':>10} {'self':>8}  module (top-level imports, by cumulative time)"]
    for cumulative, self_us, depth, name in sorted((r for r in rows if r[2] == 0), reverse=True)[:top]:
        lines.append(f"  {cumulative / 1000:8.1f}ms {self_us / 1000:6.1f}ms  {name}")
    lines.append(f"  {'':>10} {'':>8}  heaviest modules by own time:")
    for cumulative, self_us, depth, name in sorted(rows, key=lambda r: -r[1])[:top]:
        lines.append(f"  {cumulative / 1000:8.1f}ms {self_us / 1000:6.1f}ms  {name}")
    return "\n".join(lines), total


BREAKDOWN = r"""
import time
started = time.time()
import json, sys
from datetime import UTC, datetime
t0 = time.perf_counter(); marks = {}
def mark(name):
    global t0
    now = time.perf_counter(); marks[name] = now - t0; t0 = now
import tracker.cli; mark("import tracker.cli (click, pydantic, tracker.config)")
from tracker.config import load_settings
settings = load_settings(sys.argv[1]); mark("load_settings")
from tracker.registry import load_registry; mark("import tracker.registry (pydantic models)")
registry = load_registry(settings); mark("load_registry")
import sqlalchemy; mark("import sqlalchemy")
import db.engine, db.queries; mark("import db.engine, db.queries (sqlmodel, models)")
engine = db.engine.make_engine(settings.database.url); mark("make_engine")
db.engine.current_revision(engine); mark("migrate: current_revision (first connection)")
db.engine.head_revision(); mark("migrate: head_revision (the migration file names)")
db.queries.latest_snapshots(engine); mark("status: latest_snapshots")
rows = db.queries.series_overview(engine); mark("series: series_overview (point_count, last point)")
db.queries.source_health(engine); mark("series: source_health")
from tracker.service.freshness import staleness; mark("series: import tracker.service.freshness")
staleness(engine, [r.id for r in rows], datetime.now(UTC), settings)
mark("series: staleness (each series' newest 12 points)")
print(json.dumps({"started": started, "marks": marks, "exiting": time.time()}), flush=True)
"""


def breakdown(config: Path) -> dict[str, float]:
    """Where the full CLI's time goes, step by step, in a fresh interpreter."""
    launched = time.time()
    done = subprocess.run([sys.executable, "-c", BREAKDOWN, str(config)],
                          capture_output=True, text=True, check=True)
    ended = time.time()
    out = json.loads(done.stdout)
    return {
        "interpreter start-up (to the first line of the script)": out["started"] - launched,
        **out["marks"],
        "interpreter shutdown (after the last line, to the exit)": ended - out["exiting"],
    }


def cprofile(argv: list[str], folder: Path, name: str, top: int = 25) -> str:
    out_file = folder / f"{name}.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out_file), "-m", "tracker.cli", *argv],
                   capture_output=True, text=True, check=True)
    out = io.StringIO()
    stats = pstats.Stats(str(out_file), stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


BEFORE = " (before)"


def commands_to_time(cfg: list[str], baseline: bool) -> list[tuple[str, list[str]]]:
    """(label, argv) of each run timed: the lean path of each read command, text and JSON,
    then the same through the full CLI; with a ``baseline``, through the code there."""
    lean, full, before = [], [], []
    for command in READ_COMMANDS:
        for as_json in ([], ["--json"]) if command != ["check"] else ([],):
            words = " ".join([*command, *as_json])
            lean.append((f"tracker {words}", [TRACKER, *cfg, *command, *as_json]))
            full.append((f"tracker {words} (full CLI)",
                         [sys.executable, "-m", "tracker.cli", *cfg, *command, *as_json]))
            before.append((f"tracker {words}{BEFORE}",
                           [sys.executable, "-m", "tracker.entry", *cfg, *command, *as_json]))
    return [("python -c pass", [sys.executable, "-c", "pass"]),
            ("tracker --help", [TRACKER, "--help"]), *lean, *full, *(before if baseline else [])]


def check_output(label: str, stdout: str, info: dict) -> None:
    """What each command prints holds what the database holds."""
    if "--json" not in label:
        return
    found = json.loads(stdout)
    if label.startswith(("tracker status", "tracker series")):
        assert len(found) == 200
    if label.startswith("tracker series"):
        assert sum(row["points"] for row in found) == info["points"]  # the kept counts add up
    if label.startswith("tracker show"):
        assert found["id"] == SHOWN


def report(labels: list[str], measured: dict[str, float], results: dict) -> None:
    """Each command's best time and its ratio to `python -c pass`, against the target."""
    base = measured["python -c pass"]
    print(f"\nratios to python -c pass ({base:.3f} s), target <= {TARGET_VS_PYTHON:g}x for the "
          "lean path:")
    for label in labels[1:]:
        best = measured[label]
        ratio = best / base
        line = f"  {label}: {best:.3f} s, {ratio:.1f}x"
        if label == "tracker --help":
            line += " (start-up, for reference)"
        elif "(full CLI)" not in label and BEFORE not in label:
            line += f" {verdict(ratio <= TARGET_VS_PYTHON)}"
        print(line)
        results[label] |= {"vs_python": ratio}


def time_commands(cfg: list[str], args, env: dict, info: dict, results: dict) -> None:
    commands = commands_to_time(cfg, bool(args.baseline))
    measured, outputs = {}, {}
    for label, argv in commands:
        # The baseline's code comes first on the path, from its own folder.
        where = ({"env": env | {"PYTHONPATH": str(Path(args.baseline).resolve())},
                  "cwd": args.baseline} if label.endswith(BEFORE) else {"env": env})
        if "(full CLI)" not in label and label.startswith("tracker "):
            subprocess.run(argv, capture_output=True, check=False, **where)  # leaves the cache
        times, outputs[label] = timed_runs(argv, args.runs, args.budget,
                                           lambda out, label=label: check_output(label, out, info),
                                           **where)
        measured[label] = min(times)
        note = "" if len(times) == args.runs else f" (only {len(times)} run(s): the {args.budget:g} s budget)"
        print(f"{label}: best of {len(times)} {min(times):.3f} s; runs "
              + ", ".join(f"{t:.3f}" for t in times) + note)
        results[label] = {"best": min(times), "runs": times}
    for label, _argv in commands:  # the lean answer is the full CLI's
        if f"{label} (full CLI)" in outputs:
            assert outputs[label] == outputs[f"{label} (full CLI)"], f"{label}: the outputs differ"
    report([label for label, _ in commands], measured, results)


def main() -> None:
    parser = argparse.ArgumentParser(description="read-command benchmark (issues 8 and 16)")
    parser.add_argument("--series-points", "--points", dest="points", type=int, default=25_000,
                        help="points per series (200 series)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=90.0,
                        help="seconds one command may spend before its remaining runs are skipped")
    parser.add_argument("--profile", action="store_true", help="cProfile each command once")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (reused when it has a database)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also time each command with the code in DIR, an earlier commit's "
                             "tree (git archive REV | tar -x -C DIR): the before figures")
    args = parser.parse_args()
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")

    folder = Path(args.keep) if args.keep else tmpdir("tracker-bench-queries-")
    folder.mkdir(parents=True, exist_ok=True)
    if args.keep and (folder / "tracker.db").exists():
        config, info = folder / "config.toml", json.loads((folder / "build.json").read_text())
        print(f"reusing {folder}")
    else:
        start = time.perf_counter()
        config, info = build(folder, args.points)
        info["build_total_s"] = time.perf_counter() - start
        (folder / "build.json").write_text(json.dumps(info))
    print(f"database: {info['points']:,} points in 200 series, {info['db_mb']:.0f} MB "
          f"({folder}); bulk insert {info['build_insert_s']:.1f} s")
    print(f"evaluate_all on it (200 predictions, stores the snapshots): {info['evaluate_all_s']:.2f} s, "
          f"{info['snapshots']} snapshots")
    results = {"build": info}

    cfg = ["--config", str(config)]
    cache = folder / "cache"  # the lean path's cache, apart from the user's own
    shutil.rmtree(cache, ignore_errors=True)
    env = os.environ | {"XDG_CACHE_HOME": str(cache), "COLUMNS": "120"}
    time_commands(cfg, args, env, info, results)

    print("\nwhere the full CLI's time goes, step by step in a fresh interpreter (best of 3 per step):")
    runs = [breakdown(config) for _ in range(3)]
    steps = {name: min(r[name] for r in runs if name in r) for name in runs[0]}
    for name, seconds in steps.items():
        print(f"  {seconds * 1000:9.1f} ms  {name}")
    results["breakdown"] = steps

    print()
    text, total = importtime(["-c", "import tracker.cli"])
    print(f"python -X importtime -c 'import tracker.cli': {total * 1000:.0f} ms of imports")
    print(text)
    text, total = importtime(["-m", "tracker.entry", *cfg, "status"], env=env)
    print(f"\npython -X importtime -m tracker.entry status (the lean path): {total * 1000:.0f} ms of imports")
    print(text)
    results["importtime_lean_status_ms"] = total * 1000

    if args.profile:
        for command in READ_COMMANDS[:-1]:  # check has no --json
            print(f"\ncProfile of the full tracker {' '.join(command)} --json:")
            print(cprofile([*cfg, *command, "--json"], folder, command[0]))

    print(f"load average at end: {load_average()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
