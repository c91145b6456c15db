"""Run the fault suite and write docs/reliability.md from what it recorded.

    .venv/bin/python scripts/reliability_report.py

Every fault test records what it injected and what survived (tests/fault_record.py);
this script runs tests/faults with $TRACKER_FAULT_RESULTS pointing at a scratch file,
then renders the records as tables: faults tried, survived, points lost, duplicates.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reliability.md"
AREAS = {
    "sources": "Bad networks and bad payloads, per source",
    "fetch errors": "Every error a fetch can raise, per source",
    "deadlines": "Servers that drip: the deadline for a whole request",
    "bombs": "Decompression bombs",
    "implausible values": "Values a series cannot take",
    "crash": "Crash safety",
    "concurrency": "Concurrent readers while the daemon writes",
    "bad input": "Bad input (property-based)",
    "untrusted text": "Untrusted text: markup and terminal control",
    "secrets": "Secrets never shown (output, logs, database, cache)",
    "bad config and registry": "Hostile config and registry files",
    "quick-path cache": "The quick path's cache: stale or planted",
    "storage": "Storage faults: read-only, full, corrupt, vanished, wrong schema",
}


def run_suite(results: Path) -> tuple[int, float, str]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults"],
        cwd=ROOT, env={**os.environ, "TRACKER_FAULT_RESULTS": str(results)},
        capture_output=True, text=True, check=False,
    )
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return done.returncode, time.monotonic() - started, summary


def render(records: list[dict], code: int, seconds: float, summary: str) -> str:
    by_area: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_area[record["area"]].append(record)
    tried = len(records)
    survived = sum(r["survived"] for r in records)
    lines = [
        "# Reliability",
        "",
        ("Produced by `scripts/reliability_report.py` from a run of the fault suite "
        "(`tests/faults/`, part of `.ci/run`); do not edit by hand."),
        "",
        (f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores"),
        f"- pytest: {summary} (exit {code}), {seconds:.0f} s",
        (f"- Faults tried: {tried}; survived: {survived}; points lost: "
        f"{sum(r['lost'] for r in records)}; duplicates: {sum(r['duplicates'] for r in records)}"),
        "",
    ]
    for area, title in AREAS.items():
        rows = by_area.pop(area, [])
        if rows:
            lines += _table(title, rows)
    for area, rows in sorted(by_area.items()):
        lines += _table(area, rows)
    return "\n".join(lines) + "\n"


def _table(title: str, rows: list[dict]) -> list[str]:
    out = [f"## {title}", "", "| fault | target | survived | points lost | duplicates | what was recorded |",
           "| --- | --- | --- | ---: | ---: | --- |"]
    for r in sorted(rows, key=lambda r: (r["fault"], r["target"])):
        note = r["note"].replace("|", "\\|").replace("\n", " ")
        out.append(f"| {r['fault']} | {r['target']} | {'yes' if r['survived'] else '**no**'} | "
                   f"{r['lost']} | {r['duplicates']} | {note} |")
    return out + [""]


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "faults.json"
        code, seconds, summary = run_suite(results)
        records = json.loads(results.read_text()) if results.exists() else []
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(render(records, code, seconds, summary))
    print(f"{summary}; {len(records)} faults recorded; wrote {OUT.relative_to(ROOT)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
