"""Benchmark (issues 8 and 16): resident memory of the daemon over 1,000 poll cycles,
with the daily digest job running among them.

The workload is the bundled registry on a fresh SQLite file, or with ``--year DIR`` a
copy of the database bench/year.py built in DIR (``--keep DIR``) with its registry: a
year of polling for 60 markets and 200 daily series (``--bundled-only``: with the
bundled registry alone, whose evaluation each cycle costs a quarter as much). Every source points at the
loopback servers (bench/loopback.py, no added delay), and ``[email]`` at an SMTP sink on
loopback that accepts every message: the digest is built and really sent.

The schedule cannot go below one second (tracker/config.py ``parse_duration``: a
positive whole number of s, m, h or d), and the daemon runs one poll job per group
(markets, prices, macro), so ``tracker run`` manages at most three cycles a second and
1,000 cycles take over five and a half minutes. So:

1. in-process (the figure against the target): 1,000 cycles of the daemon's poll job
   (``jobs.scheduler.poll_job``, which returns freed memory after each poll) in a loop,
   one group at a time in turn as the daemon's jobs do (markets, prices, macro, ...);
   every ``--digest-every`` cycles today's digest is taken out of the digest log and the
   daemon's digest job (``jobs.digest.DigestJob``) runs, which builds and sends it again
   (in a child process of its own, as in the daemon).
   VmRSS of this process from /proc/self/status after start-up and every ``--every``
   cycles;
2. the real daemon: ``tracker --config X run`` as a subprocess with every interval at
   "1s" and the digest due (``send_at`` 00:00 UTC), so it sends one at start. Every
   ``--digest-every`` cycles, once the last one was sent, today's digest is taken out of
   the log and the daemon gets SIGHUP: the reload schedules the digest job again, which
   finds it due. VmRSS from /proc/PID/status every second, cycles counted from its log
   lines (one line per source per cycle), for ``--daemon-cycles`` cycles (default 250,
   about 90 s; pass 1000 for the full run), then SIGTERM. With ``--web`` the daemon
   also serves the web view (``[web] serve``), and one of its pages is asked for every
   second, in turn (the scoreboard, a claim, series, calibration, the API, the feed).

Target: under 120 MB, and no upward trend. The trend is the least-squares slope of RSS
against cycles over the second half of the run (after warm-up), in MB per 1,000 cycles;
"no upward trend" is taken as a slope under 2 MB per 1,000 cycles.

    .venv/bin/python bench/daemon_memory.py [--year DIR [--bundled-only]] [--cycles 1000]
                                             [--every 10]
                                             [--digest-every 50] [--daemon-cycles 250]
                                             [--skip-daemon] [--skip-in-process] [--web]
                                             [--tracemalloc] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import Loopback, load_average, rss_mb, tmpdir, write_config

TARGET_MB = 120.0
TARGET_SLOPE = 2.0  # MB per 1,000 cycles over the second half
GROUP_ORDER = ("markets", "prices", "macro")
LOG_LINE = re.compile(r"tracker\.poll: (\w+): (ok|FAILED|backing off)")
DIGEST_SENT = re.compile(r"tracker\.digest: digest for \S+ sent")
PRINT_EVERY = 100  # cycles between the RSS figures printed


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
    picks, step = [samples[0]], PRINT_EVERY
    for cycle, mb in samples[1:]:
        if cycle >= step:
            picks.append((cycle, mb))
            step = (cycle // PRINT_EVERY + 1) * PRINT_EVERY
    if picks[-1] != samples[-1]:
        picks.append(samples[-1])
    print(f"{label}: RSS by cycle: " + ", ".join(f"{c}: {m:.1f}" for c, m in picks) + " MB")
    print(f"{label}: after start {start:.1f} MB, after {samples[-1][0]} cycles {end:.1f} MB, "
          f"highest sample {peak:.1f} MB, VmHWM {hwm:.1f} MB (target < {TARGET_MB:g} MB) "
          f"{verdict(max(peak, end) < TARGET_MB)}")
    print(f"{label}: trend over the second half {slope:+.2f} MB per 1,000 cycles "
          f"(no upward trend: < {TARGET_SLOPE:g}) {verdict(slope < TARGET_SLOPE)}")
    return {"start_mb": start, "end_mb": end, "peak_mb": peak, "hwm_mb": hwm,
            "slope_mb_per_1000": slope, "cycles": samples[-1][0], "samples": samples}


# --- the workload ---------------------------------------------------------------------------


def email_section(smtp_port: int) -> dict:
    """A digest due all day (00:00 UTC), sent to the loopback sink without TLS."""
    return {"enabled": True, "to": ["me@example.com"], "from": "tracker@example.com",
            "send_at": "00:00", "timezone": "UTC", "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port, "security": "none"}


def workload(prefix: str, urls: dict, args, schedule: dict | None = None) -> Path:
    """A folder with the config (and, with ``--year``, a copy of its database and, unless
    ``--bundled-only``, of its registry)."""
    folder = tmpdir(prefix)
    files = []
    if args.year is not None:
        for path in args.year.glob("tracker.db*"):
            shutil.copyfile(path, folder / path.name)
        if not args.bundled_only:
            shutil.copyfile(args.year / "bench_registry.toml", folder / "bench_registry.toml")
            files = ["bench_registry.toml"]
    return write_config(folder, urls, f"sqlite:///{folder / 'tracker.db'}", files, bundled=True,
                        schedule=schedule, email=email_section(urls["smtp"]))


def forget_todays_digest(db_path: Path) -> None:
    """Take today's digest (UTC, the config's zone) out of the log, so it is due again."""
    conn = sqlite3.connect(db_path, timeout=30)
    with conn:
        conn.execute("DELETE FROM digest_log WHERE digest_date = ?",
                     (datetime.now(UTC).date().isoformat(),))
    conn.close()


class _Problems(logging.Handler):
    """Counts the warnings and errors the product logs in this process."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


class _NoRetries:
    """The digest job's scheduler, for its retries: a failed send is counted instead."""

    def __init__(self):
        self.retries = 0

    def add_job(self, *args, **kwargs):
        self.retries += 1


# --- in-process ---------------------------------------------------------------------------------


def in_process(urls: dict, args) -> dict:
    from db.engine import open_database
    from jobs.digest import DigestJob
    from jobs.scheduler import poll_job
    from tracker.config import load_settings
    from tracker.registry import load_registry

    config = workload("tracker-bench-memory-", urls, args)
    settings = load_settings(config)
    registry = load_registry(settings)
    engine = open_database(settings.database.url)
    problems, retries = _Problems(), _NoRetries()
    logging.getLogger("tracker").addHandler(problems)
    digest_job = DigestJob(settings, registry, engine, retries)
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(10)
    gc.collect()
    samples = [(0, rss_mb()[0])]
    digest_seconds: list[float] = []
    start = time.perf_counter()
    for i in range(1, args.cycles + 1):
        poll_job(settings, registry, engine, GROUP_ORDER[(i - 1) % len(GROUP_ORDER)])
        if args.digest_every and i % args.digest_every == 0:
            forget_todays_digest(config.parent / "tracker.db")
            began = time.perf_counter()
            digest_job()
            digest_seconds.append(time.perf_counter() - began)
        if i == 1 and args.tracemalloc:
            first_snapshot = tracemalloc.take_snapshot()
        if i % args.every == 0 or i == 1:
            samples.append((i, rss_mb()[0]))
    elapsed = time.perf_counter() - start
    with engine.connect() as conn:
        points = conn.exec_driver_sql("SELECT count(*) FROM observation").scalar()
        snapshots = conn.exec_driver_sql("SELECT count(*) FROM snapshot").scalar()
    logging.getLogger("tracker").removeHandler(problems)
    print(f"in-process: {len(registry)} predictions, {len(registry.series_ids())} series; "
          f"{args.cycles} cycles in {elapsed:.1f} s; {len(digest_seconds)} digests "
          f"({_spread(digest_seconds)}), {retries.retries} not sent; "
          f"{len(problems.lines)} warning/error lines; database now {points:,} points, "
          f"{snapshots:,} snapshots")
    for line in problems.lines[:5]:
        print(f"  {line[:300]}")
    out = summarise("in-process", samples, rss_mb()[1])
    out |= {"seconds": elapsed, "digests": len(digest_seconds), "digest_s": digest_seconds,
            "digests_not_sent": retries.retries, "problems": len(problems.lines), "points": points}
    if args.tracemalloc:
        top = tracemalloc.take_snapshot().compare_to(first_snapshot, "lineno")[:10]
        print("tracemalloc, growth since cycle 1 (top 10):")
        for stat in top:
            print(f"  {stat}")
    engine.dispose()
    return out


def _spread(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    return (f"{ordered[0]:.2f}-{ordered[-1]:.2f} s each, median "
            f"{ordered[len(ordered) // 2]:.2f} s")


# --- the real daemon ----------------------------------------------------------------------------


class DaemonLog:
    """Reads the daemon's log as it grows: poll lines per source, digests sent, problems."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.counts: dict[str, int] = {}
        self.digests = 0
        self.problems: list[str] = []

    def cycles(self) -> int:
        from tracker.sources import group_of

        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            match = LOG_LINE.search(line)
            if match:
                self.counts[match.group(1)] = self.counts.get(match.group(1), 0) + 1
            self.digests += bool(DIGEST_SENT.search(line))
            if " ERROR " in line or " WARNING " in line:
                self.problems.append(line)
        # A markets cycle logs polymarket and kalshi; each other group one source.
        per_group: dict[str, int] = {}
        for source, n in self.counts.items():
            group = group_of(source)
            per_group[group] = max(per_group.get(group, 0), n)
        return sum(per_group.values())


WEB_PAGES = ("/", "/p/{id}", "/series", "/calibration", "/api/status", "/feed.atom")


def serve_web(config: Path) -> tuple[str, str]:
    """Add ``[web] serve`` on a free loopback port to the config: the daemon's base URL,
    and a claim id for the claim page."""
    import socket

    from tracker.config import load_settings
    from tracker.registry import load_registry

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(config, "a", encoding="utf-8") as out:
        out.write(f'\n[web]\nserve = true\nhost = "127.0.0.1"\nport = {port}\n')
    first = next(iter(load_registry(load_settings(config))))
    return f"http://127.0.0.1:{port}", first.id


def daemon(urls: dict, args) -> dict:
    config = workload("tracker-bench-daemon-", urls, args,
                      schedule={"markets_every": "1s", "prices_every": "1s", "macro_every": "1s"})
    folder = config.parent
    web, claim = serve_web(config) if args.web else (None, None)
    pages_asked, pages_failed = 0, {}
    tracker = str(Path(sys.executable).parent / "tracker")
    log = DaemonLog(folder / "daemon.log")
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DATABASE_URL", "TRACKER_CONFIG")}
    with open(log.path, "w") as out:
        proc = subprocess.Popen([tracker, "--config", str(config), "run"], stderr=out,
                                stdout=subprocess.DEVNULL, env=env)
    samples, timeline, hwm, asked = [], [], 0.0, 1  # the digest at start is asked for
    next_digest = args.digest_every
    started = time.perf_counter()
    try:
        while True:
            time.sleep(1.0)
            if proc.poll() is not None:
                raise SystemExit(f"the daemon exited ({proc.returncode}): {log.path.read_text()[-2000:]}")
            done = log.cycles()
            rss, hwm = rss_mb(proc.pid)
            if not samples or done > samples[-1][0] or done == 0:
                samples.append((done, rss))
            timeline.append((time.perf_counter() - started, done, rss))
            if web is not None:
                page = WEB_PAGES[pages_asked % len(WEB_PAGES)].format(id=claim)
                answer = ask_page(web + page)
                pages_asked += 1
                if answer != "200":
                    pages_failed[f"{page} {answer}"] = pages_failed.get(f"{page} {answer}", 0) + 1
            if args.digest_every and done >= next_digest and log.digests >= asked:
                forget_todays_digest(folder / "tracker.db")
                proc.send_signal(signal.SIGHUP)  # the reload schedules the digest job again
                asked += 1
                next_digest = done + args.digest_every
            if done >= args.daemon_cycles or time.perf_counter() - started > args.daemon_timeout:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    elapsed, done = timeline[-1][0], log.cycles()
    print(f"daemon (pid {proc.pid}, exit {proc.returncode} after SIGTERM): {done} cycles in "
          f"{elapsed:.0f} s ({done / elapsed:.1f} a second), lines per source "
          f"{json.dumps(log.counts, sort_keys=True)}; {log.digests} digests sent of {asked} "
          f"asked for; {len(log.problems)} warning/error lines; log {log.path}")
    for line in log.problems[:5]:
        print(f"  {line[:300]}")
    if done < args.daemon_cycles:
        print(f"daemon: stopped at the {args.daemon_timeout:g} s timeout before {args.daemon_cycles} cycles")
    print(f"daemon: RSS {timeline[0][2]:.1f} MB one second after launch")
    if web is not None:
        print(f"daemon: web view at {web}: {pages_asked} pages asked for, "
              f"{sum(pages_failed.values())} not answered 200: {pages_failed}")
    samples = [s for s in samples if s[0] > 0] or samples  # "after start": first poll done
    out = summarise("daemon", samples, hwm)
    out |= {"seconds": elapsed, "problems": len(log.problems), "lines": log.counts,
            "digests": log.digests, "web_pages": pages_asked, "web_failures": pages_failed}
    return out


def ask_page(url: str) -> str:
    """One page from the daemon's web view: its status code, or the error (the first
    requests come before the daemon leads and serves)."""
    import httpx

    try:
        return str(httpx.get(url, timeout=30).status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


def main() -> None:
    parser = argparse.ArgumentParser(description="daemon memory benchmark (issues 8 and 16)")
    parser.add_argument("--year", metavar="DIR", type=Path,
                        help="a copy of the database bench/year.py --keep DIR built")
    parser.add_argument("--bundled-only", action="store_true",
                        help="with --year: the bundled registry alone (its 11 markets have "
                             "a year of odds), not the year's 281 predictions")
    parser.add_argument("--cycles", type=int, default=1000, help="in-process cycles")
    parser.add_argument("--every", type=int, default=10, help="in-process: sample every N cycles")
    parser.add_argument("--digest-every", type=int, default=50,
                        help="cycles between digests (0: only the daemon's at start)")
    parser.add_argument("--daemon-cycles", type=int, default=250)
    parser.add_argument("--daemon-timeout", type=float, default=900.0, help="seconds")
    parser.add_argument("--skip-daemon", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--web", action="store_true",
                        help="the daemon serves the web view too; a page is asked for every second")
    parser.add_argument("--tracemalloc", action="store_true", help="in-process: top allocations that grew")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds the servers add")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.year is not None and not (args.year / "tracker.db").exists():
        raise SystemExit(f"no database in {args.year}: build it with bench/year.py --keep {args.year}")
    results: dict = {"started": datetime.now(UTC).isoformat(), "load_average_start": load_average(),
                     "year": str(args.year) if args.year else None,
                     "bundled_only": args.bundled_only}
    print(f"load average at start: {results['load_average_start']} ({os.cpu_count()} CPUs)")
    with Loopback(args.delay, smtp=True) as lb:
        if not args.skip_in_process:
            results["in_process"] = in_process(lb.urls, args)
            print()
        if not args.skip_daemon:
            results["daemon"] = daemon(lb.urls, args)
        results["requests"] = {k: v["requests"] for k, v in lb.stats().items()}
        results["smtp"] = lb.smtp_stats()
    results["load_average_end"] = load_average()
    print(f"SMTP sink: {results['smtp']['messages']} messages, {results['smtp']['bytes']:,} bytes")
    print(f"load average at end: {results['load_average_end']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
