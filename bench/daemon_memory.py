"""Benchmark (issue 8): resident memory of the poller over 1,000 poll cycles.

The workload is the bundled registry (what a daemon really runs), every source pointed
at the loopback servers (bench/loopback.py, no added delay), on a fresh SQLite file.

The schedule cannot go below one second (tracker/config.py ``parse_duration``: a
positive whole number of s, m, h or d), and the daemon runs one poll job per group
(markets, prices, macro), so ``tracker run`` manages at most three cycles a second and
1,000 cycles take over five and a half minutes. So:

1. in-process (the figure against the target): 1,000 cycles of ``tracker.service.poll.run_cycle``
   in a loop, one group at a time in turn as the daemon's jobs do (markets, prices,
   macro, ...), VmRSS of this process from /proc/self/status after start-up and every
   50 cycles;
2. the real daemon: ``tracker --config X run`` as a subprocess with every interval at
   "1s", VmRSS from /proc/PID/status every second, cycles counted from its log lines
   (one line per source per cycle), for ``--daemon-cycles`` cycles (default 250, about
   90 s; pass 1000 for the full run), then SIGTERM.

Target: under 120 MB, and no upward trend. The trend is the least-squares slope of RSS
against cycles over the second half of the run (after warm-up), in MB per 1,000 cycles;
"no upward trend" is taken as a slope under 2 MB per 1,000 cycles.

    .venv/bin/python bench/daemon_memory.py [--cycles 1000] [--daemon-cycles 250]
                                             [--skip-daemon] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import Loopback, load_average, rss_mb, tmpdir, write_config

TARGET_MB = 120.0
TARGET_SLOPE = 2.0  # MB per 1,000 cycles over the second half
GROUP_ORDER = ("markets", "prices", "macro")
LOG_LINE = re.compile(r"tracker\.poll: (\w+): (ok|FAILED|backing off)")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def slope_per_1000(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) over cycles, second half, per 1,000 cycles."""
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) < 2:
        return 0.0
    n = len(half)
    mx = sum(c for c, _ in half) / n
    my = sum(m for _, m in half) / n
    sxx = sum((c - mx) ** 2 for c, _ in half)
    sxy = sum((c - mx) * (m - my) for c, m in half)
    return 1000 * sxy / sxx if sxx else 0.0


def summarise(label: str, samples: list[tuple[int, float]], hwm: float) -> dict:
    start, end = samples[0][1], samples[-1][1]
    peak = max(m for _, m in samples)
    slope = slope_per_1000(samples)
    picks = samples[:: max(1, len(samples) // 10)]
    if picks[-1] != samples[-1]:
        picks.append(samples[-1])
    print(f"{label}: RSS by cycle: " + ", ".join(f"{c}: {m:.1f}" for c, m in picks) + " MB")
    print(f"{label}: after start {start:.1f} MB, after {samples[-1][0]} cycles {end:.1f} MB, "
          f"peak sample {peak:.1f} MB, VmHWM {hwm:.1f} MB (target < {TARGET_MB:g} MB) "
          f"{verdict(max(peak, end) < TARGET_MB)}")
    print(f"{label}: trend over the second half {slope:+.2f} MB per 1,000 cycles "
          f"(no upward trend: < {TARGET_SLOPE:g}) {verdict(slope < TARGET_SLOPE)}")
    return {"start_mb": start, "end_mb": end, "peak_mb": peak, "hwm_mb": hwm,
            "slope_mb_per_1000": slope, "cycles": samples[-1][0], "samples": samples}


def in_process(urls: dict, cycles: int, every: int, trace: bool) -> dict:
    from db.engine import open_database
    from tracker.config import load_settings
    from tracker.registry import load_registry
    from tracker.service import poll

    folder = tmpdir("tracker-bench-memory-")
    config = write_config(folder, urls, f"sqlite:///{folder / 'tracker.db'}", bundled=True)
    settings = load_settings(config)
    registry = load_registry(settings)
    engine = open_database(settings.database.url)
    groups = {g: poll.sources_in_group(g) for g in GROUP_ORDER}
    if trace:
        import tracemalloc

        tracemalloc.start(10)
    gc.collect()
    samples = [(0, rss_mb()[0])]
    failed = 0
    start = time.perf_counter()
    for i in range(1, cycles + 1):
        group = GROUP_ORDER[(i - 1) % len(GROUP_ORDER)]
        result = poll.run_cycle(settings, registry, engine, groups[group])
        failed += not result.ok
        if i == 1 and trace:
            first_snapshot = tracemalloc.take_snapshot()
        if i % every == 0 or i == 1:
            samples.append((i, rss_mb()[0]))
    elapsed = time.perf_counter() - start
    with engine.connect() as conn:
        points = conn.exec_driver_sql("SELECT count(*) FROM observation").scalar()
        snapshots = conn.exec_driver_sql("SELECT count(*) FROM snapshot").scalar()
    print(f"in-process: {len(registry)} predictions, {len(registry.series_ids())} series; "
          f"{cycles} cycles in {elapsed:.1f} s ({elapsed / cycles * 1000:.0f} ms each), "
          f"{failed} with a failed source; database now {points:,} points, {snapshots} snapshots")
    out = summarise("in-process", samples, rss_mb()[1])
    out |= {"seconds": elapsed, "failed_cycles": failed, "points": points}
    if trace:
        top = tracemalloc.take_snapshot().compare_to(first_snapshot, "lineno")[:10]
        print("tracemalloc, growth since cycle 1 (top 10):")
        for stat in top:
            print(f"  {stat}")
    engine.dispose()
    return out


def daemon(urls: dict, cycles: int, timeout: float) -> dict:
    folder = tmpdir("tracker-bench-daemon-")
    config = write_config(
        folder, urls, f"sqlite:///{folder / 'tracker.db'}", bundled=True,
        schedule={"markets_every": "1s", "prices_every": "1s", "macro_every": "1s"},
    )
    tracker = str(Path(sys.executable).parent / "tracker")
    log_path = folder / "daemon.log"
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DATABASE_URL", "TRACKER_CONFIG")}
    log = open(log_path, "w")  # noqa: SIM115 - the daemon writes it until it stops
    proc = subprocess.Popen([tracker, "--config", str(config), "run"], stderr=log,
                            stdout=subprocess.DEVNULL, env=env)
    counts: dict[str, int] = {}
    problems: list[str] = []
    lock = threading.Lock()
    offset = 0

    def count_cycles() -> int:
        nonlocal offset
        with open(log_path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        offset += len(complete)
        with lock:
            for line in complete.decode("utf-8", "replace").splitlines():
                match = LOG_LINE.search(line)
                if match:
                    counts[match.group(1)] = counts.get(match.group(1), 0) + 1
                if " ERROR " in line or " WARNING " in line:
                    problems.append(line)
        # A markets cycle logs polymarket and kalshi; each other group one source.
        from tracker.sources import group_of

        per_group: dict[str, int] = {}
        for source, n in counts.items():
            group = group_of(source)
            per_group[group] = max(per_group.get(group, 0), n)
        return sum(per_group.values())

    samples: list[tuple[int, float]] = []
    timeline: list[tuple[float, int, float]] = []
    started = time.perf_counter()
    hwm = 0.0
    try:
        while True:
            time.sleep(1.0)
            if proc.poll() is not None:
                raise SystemExit(f"the daemon exited ({proc.returncode}): {log_path.read_text()[-2000:]}")
            done = count_cycles()
            rss, hwm = rss_mb(proc.pid)
            if not samples or done > samples[-1][0] or done == 0:
                samples.append((done, rss))
            timeline.append((time.perf_counter() - started, done, rss))
            if done >= cycles or time.perf_counter() - started > timeout:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    elapsed = timeline[-1][0]
    done = count_cycles()
    print(f"daemon (pid {proc.pid}, exit {proc.returncode} after SIGTERM): {done} cycles in "
          f"{elapsed:.0f} s ({done / elapsed:.1f} a second), lines per source {json.dumps(counts, sort_keys=True)}; "
          f"{len(problems)} warning/error lines; log {log_path}")
    for line in problems[:5]:
        print(f"  {line}")
    if done < cycles:
        print(f"daemon: stopped at the {timeout:g} s timeout before {cycles} cycles")
    print(f"daemon: RSS {timeline[0][2]:.1f} MB one second after launch")
    samples = [s for s in samples if s[0] > 0] or samples  # "after start": first poll done
    out = summarise("daemon", samples, hwm)
    out |= {"seconds": elapsed, "problems": len(problems), "lines": counts}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="daemon memory benchmark (issue 8)")
    parser.add_argument("--cycles", type=int, default=1000, help="in-process cycles")
    parser.add_argument("--every", type=int, default=50, help="in-process: sample every N cycles")
    parser.add_argument("--daemon-cycles", type=int, default=250)
    parser.add_argument("--daemon-timeout", type=float, default=900.0, help="seconds")
    parser.add_argument("--skip-daemon", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true", help="in-process: top allocations that grew")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds the servers add")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")

    results: dict = {"started": datetime.now(UTC).isoformat()}
    with Loopback(args.delay) as lb:
        if not args.skip_in_process:
            results["in_process"] = in_process(lb.urls, args.cycles, args.every, args.tracemalloc)
            print()
        if not args.skip_daemon:
            results["daemon"] = daemon(lb.urls, args.daemon_cycles, args.daemon_timeout)
        results["requests"] = {k: v["requests"] for k, v in lb.stats().items()}
    print(f"load average at end: {load_average()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
