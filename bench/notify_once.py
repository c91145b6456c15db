"""Benchmark (issue 19): notifications exactly once, measured on real `tracker run`
processes sending to a receiver on loopback.

Each round, on a fresh SQLite database: `tracker poll` records the baseline; the
registry's threshold is moved so that the next evaluation resolves the claim; then

- ``kill``: a daemon SIGKILLed as it is about to claim the message it has just written
  (after the commit, before any send), then a daemon started again, stopped a second
  after the receiver got the message;
- ``plain``: one daemon, stopped a second after the receiver got the message.

Printed: the messages the receiver accepted per event, over the rounds, and the time
from detection (the outbox row's created_at) to the receiver's acceptance (the
delivery's sent_at).

    .venv/bin/python bench/notify_once.py --rounds 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text

from db.engine import open_database
from tests.faults.test_notify_once import (
    FIXTURE,
    KILLED_BEFORE_SENDING,
    SYMBOL,
    Daemon,
    notifying_config,
    reach_the_target,
)
from tests.forked_cli import run_tracker
from tests.notify_receiver import Receiver
from tests.replay import ReplayServer, Reply
from tests.test_daemon import wait_for


def one_round(kill: bool) -> tuple[int, float]:
    """(messages accepted, seconds from detection to acceptance)."""
    with tempfile.TemporaryDirectory() as folder, ReplayServer() as server, Receiver() as receiver:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = notifying_config(Path(folder), server, receiver)
        assert run_tracker(["--config", config, "poll"]).returncode == 0
        reach_the_target(config)
        if kill:
            killed = Daemon(config, start=("-c", KILLED_BEFORE_SENDING))
            killed.proc.wait(timeout=120)
            assert killed.proc.returncode == -9, killed.log
        daemon = Daemon(config)
        try:
            assert wait_for(lambda: receiver.accepted, timeout=120), daemon.log
            time.sleep(1.0)  # room for a second message, were there one
        finally:
            daemon.stop()
        engine = open_database(f"sqlite:///{folder}/tracker.db")
        with engine.connect() as conn:
            created, sent = conn.execute(text(
                "SELECT o.created_at, d.sent_at FROM outbox o JOIN outbox_delivery d"
                " ON d.outbox_id = o.id")).one()
        engine.dispose()
        latency = (_as_time(sent) - _as_time(created)).total_seconds()
        return len(receiver.accepted), latency


def _as_time(value):
    from db.reads import utc

    return utc(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for kill in (True, False):
        counts, latencies = Counter(), []
        for _ in range(args.rounds):
            accepted, latency = one_round(kill)
            counts[accepted] += 1
            latencies.append(latency)
        name = "kill" if kill else "plain"
        print(f"{name}: {args.rounds} rounds, messages per event {dict(counts)}; detection to "
              f"acceptance median {statistics.median(latencies):.2f} s, "
              f"max {max(latencies):.2f} s")


if __name__ == "__main__":
    main()
