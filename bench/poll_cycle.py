"""Benchmark (issue 8): one poll cycle over 200 series, against loopback servers that add
100 ms to every answer.

Workload: 80 Yahoo symbols, 40 FRED ids, 60 Polymarket slugs, 20 Kalshi tickers, one
prediction each (bench/loopback.py), four servers on four ports (one per source, so the
per-host concurrency limit applies per source as in production), a fresh SQLite
database per run.

Figures:
- cycle: one ``tracker.service.poll.run_cycle`` (fetch + store + gap check + evaluate), fresh DB,
  with the time of each phase (each source is stored as its answer arrives, so store
  overlaps fetch); the fetch phase alone (``fetch_all`` here: the sources' fetches, no store).
- bound: max over hosts of ceil(requests to the host / per_host_concurrency) x delay,
  with per_host_concurrency read from the settings; ratio cycle / bound, target <= 1.2.
- sequential: (a) every series fetched one at a time, one request after another (a
  loop over the series, each source's own fetch with one symbol); (b) the project's
  own batching but one request in flight at a time (per_host_concurrency = 1, one
  source after another). Speed-up = sequential / concurrent fetch phase, and / whole
  cycle; target >= 10x.
- requests counted by each server (Gamma: slugs per request).

    .venv/bin/python bench/poll_cycle.py [--runs 3] [--delay 0.1] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import Loopback, load_average, tmpdir, workload

from db.engine import open_database
from tracker.config import load_settings
from tracker.registry import load_registry
from tracker.service import poll
from tracker.sources import load_source
from tracker.sources.http import HttpClient

TARGET_BOUND_RATIO = 1.2
TARGET_SPEEDUP = 10.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- timing the phases of run_cycle by wrapping tracker.service.poll's own names (this process only) ----

PHASES: dict[str, float] = defaultdict(float)


def _timed(name, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[name] += time.perf_counter() - start

    return wrapper


def _timed_async(name, fn):
    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            PHASES[name] += time.perf_counter() - start

    return wrapper


async def fetch_all(settings, wanted, now: datetime):
    """The fetch phase alone: every source at once, as run_cycle fetches, nothing stored."""
    async with HttpClient.from_settings(settings) as http:
        return await asyncio.gather(*(poll.fetch_source(http, settings, name, symbols, now)
                                      for name, symbols in wanted.items()))


# Each source is stored as soon as its answer arrives, so storing overlaps the fetch:
# "of which store" is inside "fetch+store", not after it.
poll.fetch_and_store = _timed_async("fetch+store", poll.fetch_and_store)
poll.store = _timed("of which store", poll.store)
poll.fill_market_gaps = _timed("gap check", poll.fill_market_gaps)
poll.evaluate_all = _timed("evaluate", poll.evaluate_all)
poll.wanted_symbols = _timed("wanted_symbols", poll.wanted_symbols)


def bound_seconds(stats: dict, per_host: int, delay: float) -> float:
    return max(math.ceil(s["requests"] / per_host) * delay for s in stats.values())


def fresh_engine(folder: Path, name: str):
    return open_database(f"sqlite:///{folder / name}")


def run_cycle_once(settings, registry, folder: Path, name: str, lb: Loopback):
    engine = fresh_engine(folder, name)
    PHASES.clear()
    lb.reset()
    start = time.perf_counter()
    result = poll.run_cycle(settings, registry, engine, honour_backoff=False)
    elapsed = time.perf_counter() - start
    phases = dict(PHASES)
    phases["other"] = elapsed - sum(v for k, v in phases.items() if not k.startswith("of which"))
    engine.dispose()
    return elapsed, phases, result, lb.stats()


def fetch_once(settings, registry, folder: Path, name: str, lb: Loopback):
    engine = fresh_engine(folder, name)
    wanted = poll.wanted_symbols(registry, engine)
    lb.reset()
    start = time.perf_counter()
    reports = asyncio.run(fetch_all(settings, wanted, datetime.now(UTC)))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, reports, lb.stats(), wanted


async def _per_series_loop(settings, wanted, now):
    """Every series on its own, one request after another."""
    async with HttpClient.from_settings(settings) as http:
        for name, symbols in wanted.items():
            fetcher = load_source(name)
            for symbol, since in symbols.items():
                report = await fetcher.fetch(http, settings, {symbol: since}, now)
                assert not report.errors, report.errors


def sequential_per_series(settings, wanted, lb: Loopback):
    lb.reset()
    start = time.perf_counter()
    asyncio.run(_per_series_loop(settings, wanted, datetime.now(UTC)))
    return time.perf_counter() - start, lb.stats()


def sequential_batched(settings, wanted, lb: Loopback):
    """The project's fetch, one request in flight: per_host_concurrency=1, one source at a time."""
    one = settings.model_copy(
        update={"http": settings.http.model_copy(update={"per_host_concurrency": 1})}
    )
    lb.reset()
    start = time.perf_counter()
    for name, symbols in wanted.items():
        reports = asyncio.run(fetch_all(one, {name: symbols}, datetime.now(UTC)))
        assert not reports[0].errors, reports[0].errors
    return time.perf_counter() - start, lb.stats()


def profile_cycle(settings, registry, folder: Path, lb: Loopback, top: int = 30) -> str:
    engine = fresh_engine(folder, "profile.db")
    profiler = cProfile.Profile()
    profiler.enable()
    poll.run_cycle(settings, registry, engine, honour_backoff=False)
    profiler.disable()
    engine.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def requests_line(stats: dict) -> str:
    parts = []
    for source, s in stats.items():
        extra = f" ({s['slugs']} slugs, {s['slugs'] / max(1, s['requests']):.0f}/request)" if s["slugs"] else ""
        parts.append(f"{source} {s['requests']}{extra}, max {s['max_in_flight']} in flight")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description="poll cycle benchmark (issue 8)")
    parser.add_argument("--runs", type=int, default=3, help="fresh-database cycles to time")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds the servers add")
    parser.add_argument("--profile", action="store_true", help="cProfile one cycle too")
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--per-host", type=int, default=None, metavar="N",
                        help="write [http] per_host_concurrency = N into the config "
                             "(default: the project's default)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")

    folder = tmpdir("tracker-bench-poll-")
    results: dict = {}
    with Loopback(args.delay) as lb:
        config, symbols = workload(folder, lb.urls, f"sqlite:///{folder / 'unused.db'}",
                                   per_host_concurrency=args.per_host)
        settings = load_settings(config)
        registry = load_registry(settings)
        per_host = settings.http.per_host_concurrency
        n_series = sum(len(v) for v in symbols.values())
        print(f"workload: {n_series} series ({', '.join(f'{k} {len(v)}' for k, v in symbols.items())}), "
              f"{len(registry)} predictions, delay {args.delay * 1000:.0f} ms per response, "
              f"per_host_concurrency = {per_host} (from settings.http), four servers")
        print(f"scratch folder: {folder}")

        # A throw-away cycle first, so one-off import and compile costs are not measured.
        run_cycle_once(settings, registry, folder, "warmup.db", lb)

        cycles = []
        for i in range(args.runs):
            elapsed, phases, result, stats = run_cycle_once(settings, registry, folder, f"cycle{i}.db", lb)
            assert result.ok, [str(line) for line in result.lines]
            points = sum(line.points for line in result.lines)
            cycles.append((elapsed, phases, stats))
            print(f"cycle {i + 1} (fresh SQLite): {elapsed:.3f} s  ["
                  + ", ".join(f"{k} {v:.3f}" for k, v in phases.items())
                  + f"]  {points} points stored, {len(result.evaluations)} evaluations")
        cycle_times = [c[0] for c in cycles]
        cycle = statistics.median(cycle_times)
        cycle_stats = cycles[0][2]

        fetches = []
        for i in range(args.runs):
            elapsed, reports, stats, wanted = fetch_once(settings, registry, folder, f"fetch{i}.db", lb)
            assert all(not r.errors for r in reports), [r.errors for r in reports]
            fetches.append(elapsed)
            fetch_stats = stats
        fetch = statistics.median(fetches)
        print("fetch phase alone: " + ", ".join(f"{t:.3f}" for t in fetches) + f" s (median {fetch:.3f})")
        print(f"requests per host: {requests_line(fetch_stats)}")

        bound = bound_seconds(fetch_stats, per_host, args.delay)
        print()
        print("per host: ceil(requests / per_host_concurrency) x delay = "
              + "; ".join(f"{s} ceil({v['requests']}/{per_host}) x {args.delay:g} = "
                          f"{math.ceil(v['requests'] / per_host) * args.delay:.1f} s"
                          for s, v in fetch_stats.items()))
        print(f"bound (slowest host): {bound:.2f} s")
        ratio_cycle = cycle / bound
        ratio_fetch = fetch / bound
        print(f"cycle / bound = {cycle:.3f} / {bound:.2f} = {ratio_cycle:.2f} (target <= {TARGET_BOUND_RATIO}) "
              f"{verdict(ratio_cycle <= TARGET_BOUND_RATIO)}")
        print(f"fetch / bound = {fetch:.3f} / {bound:.2f} = {ratio_fetch:.2f} (target <= {TARGET_BOUND_RATIO}) "
              f"{verdict(ratio_fetch <= TARGET_BOUND_RATIO)}")
        results |= {
            "series": n_series, "per_host_concurrency": per_host, "delay": args.delay,
            "cycle_times": cycle_times, "cycle": cycle,
            "cycle_phases": [c[1] for c in cycles],
            "fetch_times": fetches, "fetch": fetch, "bound": bound,
            "ratio_cycle_bound": ratio_cycle, "ratio_fetch_bound": ratio_fetch,
            "requests": fetch_stats, "cycle_requests": cycle_stats,
        }

        if not args.skip_sequential:
            print()
            seq_loop, loop_stats = sequential_per_series(settings, wanted, lb)
            seq_batched, batched_stats = sequential_batched(settings, wanted, lb)
            total_loop = sum(s["requests"] for s in loop_stats.values())
            total_batched = sum(s["requests"] for s in batched_stats.values())
            print(f"sequential, every series on its own ({total_loop} requests): {seq_loop:.2f} s")
            print(f"sequential, project batching, 1 in flight ({total_batched} requests): {seq_batched:.2f} s")
            for label, seq in (("per-series loop", seq_loop), ("batched, 1 in flight", seq_batched)):
                speedup = seq / fetch
                print(f"speed-up vs {label}: fetch phase {seq:.2f} / {fetch:.3f} = {speedup:.1f}x "
                      f"{verdict(speedup >= TARGET_SPEEDUP)}; whole cycle {seq:.2f} / {cycle:.3f} = "
                      f"{seq / cycle:.1f}x {verdict(seq / cycle >= TARGET_SPEEDUP)} (target >= {TARGET_SPEEDUP:g}x)")
            best_possible = seq_loop / bound
            print(f"the most the per-host limit allows: per-series loop / bound = {seq_loop:.2f} / {bound:.2f} "
                  f"= {best_possible:.1f}x; batched serial / bound = {seq_batched / bound:.1f}x")
            results |= {
                "sequential_per_series": seq_loop, "sequential_batched": seq_batched,
                "sequential_requests": {"per_series": total_loop, "batched": total_batched},
                "speedup_per_series": seq_loop / fetch, "speedup_batched": seq_batched / fetch,
                "speedup_cycle_per_series": seq_loop / cycle,
                "speedup_best_possible": best_possible,
            }

        if args.profile:
            print("\ncProfile of one fresh-database cycle:")
            print(profile_cycle(settings, registry, folder, lb))

    print(f"load average at end: {load_average()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
