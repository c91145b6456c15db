"""Concurrency: CLI readers (real `tracker status --json` and `tracker series --json`
processes) while a real `tracker run` writes every second, on SQLite (WAL, busy_timeout)
and on PostgreSQL; and readers starting together with the daemon on a new database.

No read may fail: exit 0, no 'database is locked' on stderr, a JSON document on stdout."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from tests.faults.test_crash_safety import (
    SLUGS,
    SYMBOL,
    every_second_config,
    market_cycles,
    serve_moving_markets,
)
from tests.replay import ReplayServer
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import Daemon

READERS = 10
READ_FOR = 15.0  # seconds the readers keep starting new reads
READ_TIMEOUT = 60.0  # one read may take this long on a loaded machine before it counts as failed
COMMANDS = (("status", "--json"), ("series", "--json"))
SERIES = {f"polymarket:{slug}" for slug in SLUGS.values()} | {f"yahoo:{SYMBOL}"}


@dataclass
class Read:
    command: str
    code: int | None
    stdout: str
    stderr: str
    seconds: float = 0.0

    @property
    def not_created_yet(self) -> bool:
        """A read before the daemon created the database: it says so, and creates nothing."""
        lines = self.stderr.strip().splitlines()
        return (self.code == 2 and len(lines) == 1 and "`tracker migrate` creates it" in lines[0]
                and "Traceback" not in self.stderr)

    @property
    def problem(self) -> str | None:
        """Why this read failed, or None."""
        if self.code != 0:
            return f"exit {self.code}: {self.stderr.strip()[-500:]}"
        if "database is locked" in self.stderr or "Traceback" in self.stderr:
            return f"stderr: {self.stderr.strip()[-500:]}"
        try:
            json.loads(self.stdout)
        except ValueError as exc:
            return f"stdout is not JSON ({exc}): {self.stdout[:200]!r}"
        return None


def read_once(config, command: tuple[str, ...]) -> Read:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tracker.cli", "--config", str(config), *command],
            capture_output=True, text=True, timeout=READ_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        return Read(command[0], None, "", f"did not finish in {READ_TIMEOUT:.0f} s", READ_TIMEOUT)
    return Read(command[0], done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def read_in_loops(config, seconds: float) -> list[Read]:
    """READERS threads, each running the CLI in a loop (status and series in turn)
    until ``seconds`` have passed; every run they made."""
    reads: list[Read] = []
    stop_at = time.monotonic() + seconds

    def loop(index: int) -> None:
        n = index
        while time.monotonic() < stop_at:
            reads.append(read_once(config, COMMANDS[n % len(COMMANDS)]))
            n += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 2 * READ_TIMEOUT)
    return reads


def point_duplicates(url: str) -> int:
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT (SELECT count(*) FROM observation) - "
                "(SELECT count(*) FROM (SELECT DISTINCT series_id, ts FROM observation) AS d)"
            )).scalar()
    finally:
        engine.dispose()


def miscounted_series(url: str) -> dict[str, tuple[int, int]]:
    """Series whose kept point_count (what `tracker series` shows) is not count(*):
    {id: (point_count, count)}."""
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, point_count, "
                "(SELECT count(*) FROM observation o WHERE o.series_id = s.id) FROM series s"
            )).all()
    finally:
        engine.dispose()
    return {sid: (kept, counted) for sid, kept, counted in rows if kept != counted}


def readers_while_the_daemon_writes(tmp_path, fault_result, backend: str, database: str | None):
    with ReplayServer() as server:
        serve_moving_markets(server)
        config = every_second_config(tmp_path, server.url, database=database)
        daemon = Daemon(config)
        try:
            first = daemon.saw("polymarket: ok", timeout=30) and daemon.saw("yahoo: ok", timeout=30)
            assert first, daemon.log
            before = market_cycles(server)
            reads = read_in_loops(config, READ_FOR)
            written = market_cycles(server) - before
            still_running = daemon.proc.poll() is None
        finally:
            code = daemon.stop()
    url = database or f"sqlite:///{tmp_path / 'tracker.db'}"
    dups = point_duplicates(url)
    miscounted = miscounted_series(url)
    failed = [(r.command, r.problem) for r in reads if r.problem]
    fault_result(
        "concurrency", f"{READERS} CLI readers while the daemon writes every second", backend,
        survived=not failed and still_running and code == 0 and dups == 0 and not miscounted,
        lost=len(failed), duplicates=dups,
        note=f"{len(reads)} reads in {READ_FOR:.0f} s, {len(failed)} failed "
             f"(each {statistics.median(r.seconds for r in reads):.1f} s median, "
             f"{max(r.seconds for r in reads):.1f} s at most, process start included); "
             f"{written} poll cycles written meanwhile",
    )

    assert not failed, f"{len(failed)} of {len(reads)} reads failed: {failed[:5]}"
    assert len(reads) >= READERS  # every reader ran at least once
    assert written >= 5, f"the daemon polled only {written} times in {READ_FOR:.0f} s"
    assert still_running and code == 0, daemon.log
    for bad in ("database is locked", "Traceback", "failed"):
        assert bad not in daemon.log, daemon.log
    assert dups == 0
    assert miscounted == {}, "series whose point count is not count(*): (kept, counted)"
    for read in reads:  # what the readers saw: every prediction, every series with points
        rows = json.loads(read.stdout)
        if read.command == "series":
            assert {row["id"] for row in rows} == SERIES and all(row["points"] for row in rows)
        else:
            assert len(rows) == len(SLUGS) + 1
            assert all(row["status"] != "no_data" for row in rows if row["id"] in SLUGS)


def test_ten_cli_readers_while_the_daemon_writes_every_second_on_sqlite(tmp_path, fault_result):
    readers_while_the_daemon_writes(tmp_path, fault_result, "sqlite", None)


@pytest.mark.postgres
def test_ten_cli_readers_while_the_daemon_writes_every_second_on_postgres(
    tmp_path, fault_result, postgres_url
):
    readers_while_the_daemon_writes(tmp_path, fault_result, "postgresql", postgres_url)


# The CLI's own entry point, in a process that has imported everything it needs and then
# waits for a file to appear: the processes then open the database within milliseconds of
# each other, as a daemon and the readers of a busy machine might, without the spread
# their imports would otherwise add.
AT_THE_SIGNAL = """
import os, sys, time
import db.engine, db.queries, jobs.scheduler, tracker.cli
db.engine.head_revision()  # reads the migration scripts: not what is raced
go = sys.argv.pop(1)
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
sys.argv[0] = "tracker"
tracker.cli.main()
"""


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_readers_and_the_daemon_starting_together_on_a_new_database(
    tmp_path, fault_result, request, backend
):
    """The daemon creates a new database while readers arrive at once: each reader
    reads it, or finds it not created yet and says so in one line (exit 2; a reader
    creates nothing); none fails otherwise, and the daemon polls."""
    database = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    go = tmp_path / "go"
    with ReplayServer() as server:
        serve_moving_markets(server)
        config = every_second_config(tmp_path, server.url, database=database)

        def start(*command, **streams):
            return subprocess.Popen(
                [sys.executable, "-c", AT_THE_SIGNAL, str(go), "--config", str(config), *command],
                text=True, **streams,
            )

        log = (tmp_path / "daemon.log").open("w+")
        daemon = start("run", stdout=subprocess.DEVNULL, stderr=log)
        readers = [
            start(*COMMANDS[i % len(COMMANDS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for i in range(READERS - 1)
        ]
        everyone = wait_for(lambda: len(list(tmp_path.glob("go.ready.*"))) == READERS, 60)
        go.touch()
        reads = []
        try:
            for i, proc in enumerate(readers):
                try:
                    out, err = proc.communicate(timeout=READ_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, err = proc.communicate()
                reads.append(Read(COMMANDS[i % len(COMMANDS)][0], proc.returncode, out, err))
            polled = wait_for(lambda: "polymarket: ok" in (tmp_path / "daemon.log").read_text(), 30)
        finally:
            for proc in readers:
                if proc.poll() is None:
                    proc.kill()
            daemon.terminate()
            try:
                code = daemon.wait(timeout=40)
            finally:
                if daemon.poll() is None:
                    daemon.kill()
                log.close()
    daemon_log = (tmp_path / "daemon.log").read_text()
    failed = [(r.command, r.problem) for r in reads if r.problem and not r.not_created_yet]
    fault_result(
        "concurrency", "CLI readers and the daemon starting together on a new database", backend,
        survived=not failed and polled and code == 0, lost=len(failed),
        note=f"{len(reads)} readers and 1 daemon (which created it) opened it at once, "
             f"{sum(r.not_created_yet for r in reads)} found it not created yet, "
             f"{len(failed)} failed",
    )
    assert everyone, "not every process got ready to start"
    assert not failed, failed
    assert polled and code == 0, daemon_log
