"""Benchmark: the web view's pages on the 5M-point database, as a browser asks for them.

Serves `tracker serve`'s app with uvicorn on a loopback port (in this process, in a
thread) over the database bench/queries.py builds (200 series x 25,000 daily points, a
prediction per series, their snapshots), and times whole HTTP requests from a client on
one kept-alive connection: `/`, the scoreboard with every claim and the expected-hits
chart, and `/p/ID` for a threshold on a price series and for a market. Each path is asked once to warm up (the
templates compile, the made_on prices are read), then ``--runs`` times; prints the median
and the best of each against the target, 100 ms. Then the expected-hits chart's read
alone, cold (nothing kept, as after a poll stores a snapshot) and warm.

    .venv/bin/python bench/web.py [--db PATH] [--runs 20] [--points 25000]

``--db PATH``: an existing benchmark database (its folder holds the config.toml and
registry that bench/queries.py wrote beside it); without it, one is built in a temporary
folder first, which takes minutes.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import load_average, tmpdir

TARGET_MS = 100.0
PATHS = ["/", "/p/bench-yahoo-000", "/p/bench-polymarket-000"]


def serve(config: Path):
    """The app over ``config``'s database and registry, on a free loopback port."""
    import uvicorn

    from db.engine import READ, open_database
    from tracker.config import load_settings
    from tracker.registry import load_registry
    from tracker.web.app import create_app
    from tracker.web.data import Source

    settings = load_settings(str(config))
    source = Source(open_database(settings.database.url, READ), load_registry(settings), settings)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(source), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{listener.getsockname()[1]}"


def time_path(client, url: str, runs: int) -> list[float]:
    """Milliseconds per whole request, after one to warm up."""
    client.get(url).raise_for_status()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return times


def hits_timings(config: Path, runs: int) -> None:
    """The expected-hits chart's read on its own: cold (a new Source, nothing kept: what
    the first view after a poll stored a snapshot costs) and warm (kept: every other
    view), as medians of ``runs``."""
    from db.engine import READ, open_database
    from tracker.config import load_settings
    from tracker.registry import load_registry
    from tracker.web.data import Source

    settings = load_settings(str(config))
    registry = load_registry(settings)
    engine = open_database(settings.database.url, READ)
    cold, warm = [], []
    for _ in range(runs):
        source = Source(engine, registry, settings)
        start = time.perf_counter()
        chart = source.expected_hits()
        cold.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        source.expected_hits()
        warm.append((time.perf_counter() - start) * 1000)
    engine.dispose()
    moments = len(chart.times) if chart else 0
    people = len(chart.lines) if chart else 0
    print(f"expected hits over the year ({moments} moments, {people} people): "
          f"cold median {statistics.median(cold):.1f} ms, warm median "
          f"{statistics.median(warm):.1f} ms ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", metavar="PATH", type=Path,
                        help="an existing benchmark database (config.toml beside it)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--points", type=int, default=25_000, help="points per series, to build")
    args = parser.parse_args()
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")
    if args.db:
        config = args.db.resolve().parent / "config.toml"
        if not args.db.is_file() or not config.is_file():
            sys.exit(f"bench/web.py: no database at {args.db} with a config.toml beside it")
    else:
        from queries import build

        folder = tmpdir("tracker-bench-web-")
        print(f"building the benchmark database in {folder} ...")
        config, _ = build(folder, args.points)

    import httpx

    server, base = serve(config)
    failed = False
    try:
        with httpx.Client(timeout=60) as client:
            for path in PATHS:
                times = time_path(client, base + path, args.runs)
                median = statistics.median(times)
                ok = median < TARGET_MS
                failed |= not ok
                print(f"{path:<26} median {median:7.1f} ms  best {min(times):7.1f} ms  "
                      f"({args.runs} runs; target < {TARGET_MS:.0f} ms: "
                      f"{'PASS' if ok else 'FAIL'})")
    finally:
        server.should_exit = True
    hits_timings(config, min(args.runs, 10))
    print(f"load average at end: {load_average()}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
