"""Benchmark: the Prometheus metrics on the 5M-point database, as Prometheus and
node_exporter's textfile collector ask for them.

Serves the daemon's /metrics (jobs/metrics.py: prometheus-client's server, the state read
from the database at each scrape, the daemon's poll counters beside it) on a loopback
port in this process, over the database bench/queries.py builds (200 series x 25,000
daily points, a prediction per series, their snapshots and source health), and times
whole scrapes from a client on one kept-alive connection, after one to warm up; prints
the median and the best against the target, 100 ms. Then times `tracker metrics
--textfile PATH` as a timer would run it, a process each time, beside the full CLI's
`status --json` (``python -m tracker.cli``, never the lean path) on the same database.

    .venv/bin/python bench/metrics.py [--db PATH] [--runs 20] [--points 25000]

``--db PATH``: an existing benchmark database (its folder holds the config.toml and
registry that bench/queries.py wrote beside it); without it, one is built in a temporary
folder first, which takes minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import load_average, tmpdir

TARGET_MS = 100.0
TRACKER = str(Path(sys.executable).parent / "tracker")


def serve(config: Path):
    """The daemon's metrics endpoint over ``config``'s database and registry, on a free
    loopback port; returns it and its URL."""
    from db.engine import READ, open_database
    from jobs.metrics import DaemonMetrics
    from tracker.config import load_settings
    from tracker.registry import load_registry

    settings = load_settings(str(config))
    registry = load_registry(settings)
    settings.metrics.port = free_port()
    sources = sorted({series_id.split(":", 1)[0] for series_id in registry.series_ids()})
    metrics = DaemonMetrics.start(settings, open_database(settings.database.url, READ),
                                  lambda: registry, sources)
    if metrics is None:
        sys.exit("bench/metrics.py: could not listen on loopback")
    return metrics, f"http://127.0.0.1:{settings.metrics.port}/metrics"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def time_scrapes(url: str, runs: int) -> tuple[list[float], bytes]:
    """Milliseconds per whole scrape, after one to warm up; and the last answer."""
    import httpx

    with httpx.Client(timeout=60) as client:
        client.get(url).raise_for_status()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
    return times, response.content


def time_command(command: list[str], runs: int) -> list[float]:
    """Milliseconds per run of ``command``, a process each."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return times


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
            sys.exit(f"bench/metrics.py: no database at {args.db} with a config.toml beside it")
    else:
        from queries import build

        folder = tmpdir("tracker-bench-metrics-")
        print(f"building the benchmark database in {folder} ...")
        config, _ = build(folder, args.points)

    from prometheus_client.parser import text_string_to_metric_families

    metrics, url = serve(config)
    try:
        times, body = time_scrapes(url, args.runs)
    finally:
        metrics.stop()
    samples = sum(len(family.samples) for family in text_string_to_metric_families(body.decode()))
    median = statistics.median(times)
    ok = median < TARGET_MS
    print(f"GET /metrics ({samples} samples, {len(body) / 1024:.0f} KiB)  median {median:6.1f} ms"
          f"  best {min(times):6.1f} ms  ({args.runs} runs; target < {TARGET_MS:.0f} ms: "
          f"{'PASS' if ok else 'FAIL'})")
    runs = max(3, args.runs // 4)
    out = tmpdir("tracker-bench-metrics-") / "tracker.prom"
    commands = {
        "tracker metrics --textfile PATH": [TRACKER, "--config", str(config), "metrics",
                                            "--textfile", str(out)],
        "full CLI status --json": [sys.executable, "-m", "tracker.cli", "--config", str(config),
                                   "status", "--json"],
    }
    for name, command in commands.items():
        times = time_command(command, runs)
        print(f"{name:<32} median {statistics.median(times):6.1f} ms"
              f"  best {min(times):6.1f} ms  ({runs} runs, a process each)")
    print(f"load average at end: {load_average()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
