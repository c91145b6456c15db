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
    "notifications": "Notifications: exactly once",
    "liveness": "Liveness: the watchdog and `tracker health`",
}

# What each area's faults try, said once under its heading.
ABOUT = {
    "sources": ("Each source's server answers a poll with an error, a wrong or broken body, "
                "or nothing at all."),
    "fetch errors": "Each kind of error the HTTP client can raise, injected into a fetch.",
    "deadlines": ("A server that sends a byte at a time, so that no single read times out: "
                  "the deadline for a whole request (`[http] request_deadline`) ends the wait."),
    "bombs": ("A small compressed body that inflates to 200 MB: refused at the size cap "
              "(`[http] max_response_mb`) as it is decompressed."),
    "implausible values": ("Closes of zero or below, of 1e308, or a thousand times too high: "
                           "refused, named, and never stored."),
    "crash": ("The daemon killed with SIGKILL at random moments, between polls and inside "
              "them, and during its first migration."),
    "concurrency": ("Command-line readers running while the daemon writes, on SQLite and on "
                    "PostgreSQL, and starting together with it on a new database."),
    "bad input": ("Generated input (arbitrary, mutated and invalid) fed to every parser and to "
                  "the config and registry loaders: each parses or fails with a clear error, "
                  "and never crashes."),
    "untrusted text": ("Markup and terminal control characters in market titles, notes, errors "
                       "and data, on a terminal, in a pipe and in the HTML digest."),
    "secrets": ("Passwords in database and source URLs, and credentials in the environment: "
                "none appears in any output, log line or file tracker writes."),
    "bad config and registry": ("Files that are not regular files, files too large, in-memory "
                                "databases and dates out of range: each refused with one line."),
    "quick-path cache": ("The cache the read commands keep: an edit it must notice, and a file "
                         "another user could have planted or could read."),
    "storage": ("The database read-only, full, damaged, deleted or replaced under the daemon, "
                "not created yet, or at another version's schema; output that cannot be "
                "written or sent."),
    "notifications": (
        "Push notifications (`[notify]`) when the daemon that sends them is killed, replaced "
        "by a standby or races another sender, and when a target fails. Each message is "
        "written to the outbox in the transaction that stores the change causing it, with a "
        "delivery per target; a sender claims a delivery (a conditional UPDATE, committed) "
        "before it sends it, and marks it sent as soon as the target accepts it. A message "
        "waiting when a daemon dies is sent after its restart, or by the standby that takes "
        "over. One window stays at least once: a sender killed after the target accepted a "
        "message and before it recorded that (the time of one small UPDATE) leaves its claim "
        "to expire, and the message is sent again 2 minutes later. `bench/notify_once.py` "
        "repeats the kill (a daemon SIGKILLed between writing and sending, then started again) "
        "and counts the messages each event gave: over 5 rounds, 1 message for each event, "
        "accepted 11.2 s (median; 13.6 s at most) after the poll that found it, the restart "
        "included; without a kill, 5 rounds, 1 message each, 1.6 s (2.4 s at most) after the "
        "start of the poll that found it (2 cores, shared with other work)."),
    "liveness": (
        "A daemon that dies, hangs or stops getting data. Under systemd (`Type=notify`, "
        "`WatchdogSec=120`) the daemon pings the watchdog every 60 s from its main loop, and "
        "only while the scheduler runs, its thread is alive and no job is more than 60 s "
        "past its run time (STUCK_AFTER); once the pings stop, systemd restarts it "
        "`WatchdogSec` after the last one, so within 60 to 120 s of the fault. `tracker "
        "health` exits 1 when no daemon holds the leader lock (the SQLite lock file's "
        "flock, PostgreSQL's advisory lock in `pg_locks`) and when a source group the "
        "registry reads has not polled successfully for three of its intervals (a group "
        "that never succeeded counts from its first failed poll, or from when the daemon "
        "took the lock). The tests below shorten the watchdog and the intervals to "
        "seconds; the figures scale with them."),
}
# The page's opening: what was tried, what a row says, and how to run it again.
INTRODUCTION = [
    "What tracker does when things go wrong. Every fault below was injected by tracker's fault",
    "suite (`tests/faults/`) into the real code: servers on this machine (127.0.0.1) that",
    "answer with recorded real responses, broken on purpose; processes killed mid-write;",
    "hostile files and input. Each row names the fault, what it was aimed at, whether tracker",
    "survived it (it carried on, or stopped with one clear line, as it should), how many",
    "stored points were lost and how many were stored twice, and what tracker recorded or",
    "printed. Temporary folders show as `TMP` or as pytest's own.",
    "",
    "To run the suite again and rewrite this page, from a clone with the test tools installed",
    "(the README's second command):",
    "",
    "    .venv/bin/python scripts/reliability_report.py",
    "",
    "It takes a minute or two; the same tests also run with the rest of the suite. This page",
    "is written by that script: change the script, not the page.",
]


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
        *INTRODUCTION,
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
            lines += _table(title, ABOUT.get(area, ""), rows)
    for area, rows in sorted(by_area.items()):
        lines += _table(area, "", rows)
    return "\n".join(lines) + "\n"


def _table(title: str, about: str, rows: list[dict]) -> list[str]:
    out = [f"## {title}", ""] + ([about, ""] if about else [])
    out += ["| fault | target | survived | points lost | duplicates | what was recorded |",
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
