"""Benchmark (issue 16): `tracker digest --preview FILE`, the whole process, wall time.

Target: under 0.5 s on the 5M-point database (bench/queries.py) and on a year of polling
(bench/year.py). Runs the command as a subprocess ``--runs`` times and prints the median
(and the best) with PASS/FAIL against the target, next to ``python -c pass`` measured in
the same run, with the load average at start and end: other work on the machine
stretches every figure, so compare the ratios when the load is high. The CPU time (user
and system) of each run is printed too: other work stretches it less than the wall time.

The command is answered by the lean path (tracker/quick/) from the cache the first,
untimed run leaves; the full CLI, which answers the first run after the config or the
registry changed, is timed too.

Each is measured twice: as the environment runs it, and with the project's bytecode
cached (in a folder of the benchmark's own). ``PYTHONDONTWRITEBYTECODE=1`` with an
editable install compiles every tracker module on every run; ``pip install`` writes the
bytecode once, as the second figure has it.

The database: ``--db PATH`` (a tracker.db with the config.toml its builder wrote beside
it), or built in ``--keep DIR`` (reused when it has one) by ``--build queries`` (200
series x 25,000 daily points) or ``--build year`` (20 markets polled every 5 minutes
for a year, and daily bars), with those benchmarks' own builders.

Before and after a change: ``--before DIR`` with the older tree (``git archive COMMIT |
tar -x -C DIR``) runs it too, on ``PYTHONPATH``, each of its runs next to one of this
tree's, so that a burst of load falls on both sides alike; the ratio is printed.

    .venv/bin/python bench/digest_preview.py --db DIR/tracker.db [--runs 7] [--before DIR]
    .venv/bin/python bench/digest_preview.py --build year --keep DIR [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import load_average, tmpdir

BIN = Path(sys.executable).parent
TRACKER = str(BIN / "tracker")
TARGET_SECONDS = 0.5


def build(kind: str, folder: Path) -> Path:
    """The database of bench/queries.py or bench/year.py, by their builders, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "queries":
        import queries

        config, _info = queries.build(folder, 25_000)
    else:
        import year

        year.build(folder, SimpleNamespace(markets=60, daily=200, resolving=6, days=365,
                                           interval=5, years=10, check_polls=600))
        config = folder / "config.toml"
    return config


class Run(NamedTuple):
    wall: float
    cpu: float  # user + system: stretched less than the wall time by other work


def timed(argv: list[str], env: dict[str, str]) -> Run:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    stderr = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {stderr[-2000:].decode(errors='replace')}")
    return Run(took, usage.ru_utime + usage.ru_stime)


def alternated(argv: list[str], sides: dict[str, dict[str, str]], runs: int) -> dict[str, list[Run]]:
    """Times of ``argv`` under each side's environment, the sides taking turns."""
    times: dict[str, list[Run]] = {side: [] for side in sides}
    for env in sides.values():
        timed(argv, env)  # writes the bytecode (when cached) and warms the page cache
    for _ in range(runs):
        for side, env in sides.items():
            times[side].append(timed(argv, env))
    return times


def report(label: str, runs: list[Run], baseline: Run) -> Run:
    wall = statistics.median(run.wall for run in runs)
    cpu = statistics.median(run.cpu for run in runs)
    verdict = "PASS" if wall < TARGET_SECONDS else "FAIL"
    print(f"{label}: wall median {wall:.3f} s, best {min(run.wall for run in runs):.3f} s "
          f"({wall / baseline.wall:.1f}x python -c pass); CPU median {cpu:.3f} s "
          f"({cpu / baseline.cpu:.1f}x); target < {TARGET_SECONDS:g} s wall: {verdict}", flush=True)
    return Run(wall, cpu)


def medians(runs: list[Run]) -> Run:
    return Run(statistics.median(run.wall for run in runs), statistics.median(run.cpu for run in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description="tracker digest --preview, wall time (issue 16)")
    parser.add_argument("--db", metavar="PATH", help="a tracker.db with its config.toml beside it")
    parser.add_argument("--build", choices=("queries", "year"), help="build this benchmark's database")
    parser.add_argument("--keep", metavar="DIR", help="with --build: build in DIR (reused when it has one)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", metavar="DIR", help="an older source tree to time alongside")
    args = parser.parse_args()
    if bool(args.db) == bool(args.build):
        parser.error("give --db PATH or --build queries|year")
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)", flush=True)

    if args.db:
        config = Path(args.db).parent / "config.toml"
        if not config.is_file():
            parser.error(f"no config.toml beside {args.db}")
    else:
        folder = Path(args.keep) if args.keep else tmpdir("tracker-digest-preview-")
        existing = folder / "config.toml"
        config = existing if (folder / "tracker.db").exists() else build(args.build, folder)
    out = config.parent / "digest-preview.html"
    argv = [TRACKER, "--config", str(config), "digest", "--preview", str(out)]
    # The command above answers on the lean path once a run has left its cache (each
    # side's first, untimed run does); this one always runs the full CLI.
    full_argv = [sys.executable, "-m", "tracker.cli", *argv[1:]]
    pycache = tmpdir("tracker-digest-pycache-")
    modes = {
        "as run here" + (" (PYTHONDONTWRITEBYTECODE set)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""):
            dict(os.environ),
        "bytecode cached": {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            | {"PYTHONPYCACHEPREFIX": str(pycache)},
    }
    print(f"database: {config.parent / 'tracker.db'}; {args.runs} runs each", flush=True)
    for mode, env in modes.items():
        sides = {"this tree": env}
        if args.before:
            before = env | {"PYTHONPATH": str(Path(args.before).resolve())}
            sides = {"before": before} | sides
        baseline = medians(alternated([sys.executable, "-c", "pass"], sides, args.runs)["this tree"])
        print(f"{mode}: python -c pass: wall median {baseline.wall:.3f} s, CPU median "
              f"{baseline.cpu:.3f} s", flush=True)
        found = {side: report(f"{mode}: {side}: tracker digest --preview", runs, baseline)
                 for side, runs in alternated(argv, sides, args.runs).items()}
        if args.before:
            after, before = found["this tree"], found["before"]
            print(f"{mode}: this tree over before: wall {after.wall / before.wall:.2f}x, "
                  f"CPU {after.cpu / before.cpu:.2f}x", flush=True)
        full = alternated(full_argv, {"this tree": env}, args.runs)["this tree"]
        report(f"{mode}: this tree: the full CLI (a first run after the config or registry "
               "changed)", full, baseline)
    html = out.read_text(encoding="utf-8")
    print(f"preview: {len(html) / 1e3:.0f} KB, {html.count('data:image/png')} charts drawn")
    shutil.rmtree(pycache, ignore_errors=True)
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
