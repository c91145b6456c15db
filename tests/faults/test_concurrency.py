"""Concurrency: CLI readers (real `tracker status --json` and `tracker series --json`
processes) while a real `tracker run` writes every second, on SQLite (WAL, busy_timeout)
and on PostgreSQL; and readers starting together with the daemon on a new database.

No read may fail: exit 0, no 'database is locked' on stderr, a JSON document on stdout."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
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
# The readers keep starting new reads for at least READ_FOR seconds, and until the daemon
# has written WRITES_DURING poll cycles meanwhile (at most READ_AT_MOST seconds).
READ_FOR, WRITES_DURING, READ_AT_MOST = 5.0, 5, 60.0
READ_TIMEOUT = 60  # one read may take this long on a loaded machine before it counts as failed
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
        return (self.code == 2 and len(lines) == 1 and "create it with `tracker poll`" in lines[0]
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


# A reader process: imports the CLI and what a read needs once, then runs each command
# line it is sent (a JSON list a line on stdin) in a child forked for it: a process of its
# own that loads the config and opens the database afresh, as `tracker` does, without
# paying for the imports again, so that the reads are many and their time is spent on the
# database. Each answer is one JSON line: exit code, stdout, stderr, seconds.
READER = """
import json, os, signal, sys, tempfile, time, traceback
import db.engine, db.queries, tracker.cli, tracker.views.series, tracker.views.status
print("ready", flush=True)
for line in sys.stdin:
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            signal.alarm(int(sys.argv[1]))  # a read that hangs is killed, and counts as failed
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.argv = ["tracker", *json.loads(line)]
            try:
                tracker.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        answer = {"code": os.waitstatus_to_exitcode(status), "stdout": out.read().decode(),
                  "stderr": err.read().decode(), "seconds": time.monotonic() - started}
    print(json.dumps(answer), flush=True)
"""


class Reader:
    """A READER process, for one thread of a test at a time. Each read names its config
    and runs in a child of its own, so the tests of this module share these processes."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", READER, str(READ_TIMEOUT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ready(self) -> bool:
        """Wait until it has imported what it needs."""
        return self.proc.stdout.readline() == "ready\n"

    def read(self, config, command: tuple[str, ...]) -> Read:
        self.proc.stdin.write(json.dumps(["--config", str(config), *command]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            return Read(command[0], None, "", f"the reader process ended ({self.proc.wait()})")
        answer = json.loads(line)
        return Read(command[0], answer["code"], answer["stdout"], answer["stderr"],
                    answer["seconds"])

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=READ_TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture(scope="module")
def readers() -> Iterator[list[Reader]]:
    """READERS reader processes, every one ready to read: started once for the module, as
    their imports cost a core for seconds and hold nothing of a test's database."""
    readers = [Reader() for _ in range(READERS)]
    try:
        assert all(reader.ready() for reader in readers), "a reader process did not start"
        yield readers
    finally:
        for reader in readers:
            reader.close()


def read_in_loops(
    readers: list[Reader], config, enough: Callable[[], bool]
) -> tuple[list[Read], float]:
    """A thread per reader, reading in a loop (status and series in turn) for READ_FOR
    seconds and then until ``enough()`` (at most READ_AT_MOST seconds): every read they
    made, and for how long they read."""
    reads: list[Read] = []
    started = time.monotonic()

    def reading() -> bool:
        spent = time.monotonic() - started
        return spent < READ_FOR or (spent < READ_AT_MOST and not enough())

    def loop(index: int) -> None:
        n = index
        while reading():
            reads.append(readers[index].read(config, COMMANDS[n % len(COMMANDS)]))
            n += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(readers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=READ_AT_MOST + 2 * READ_TIMEOUT)
    return reads, time.monotonic() - started


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


def readers_while_the_daemon_writes(
    readers: list[Reader], tmp_path, fault_result, backend: str, database: str | None
):
    with ReplayServer() as server:
        serve_moving_markets(server)
        config = every_second_config(tmp_path, server.url, database=database)
        daemon = Daemon(config)
        try:
            first = daemon.saw("polymarket: ok", timeout=30) and daemon.saw("yahoo: ok", timeout=30)
            assert first, daemon.log
            before = market_cycles(server)
            reads, seconds = read_in_loops(
                readers, config, lambda: market_cycles(server) - before >= WRITES_DURING)
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
        note=f"{len(reads)} reads in {seconds:.0f} s, {len(failed)} failed "
             f"(each {statistics.median(r.seconds for r in reads):.2f} s median, "
             f"{max(r.seconds for r in reads):.2f} s at most, fork included); "
             f"{written} poll cycles written meanwhile",
    )

    assert not failed, f"{len(failed)} of {len(reads)} reads failed: {failed[:5]}"
    assert len(reads) >= READERS  # every reader ran at least once
    assert written >= WRITES_DURING, f"the daemon polled only {written} times in {seconds:.0f} s"
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


@pytest.mark.long
def test_ten_cli_readers_while_the_daemon_writes_every_second_on_sqlite(
    readers, tmp_path, fault_result
):
    readers_while_the_daemon_writes(readers, tmp_path, fault_result, "sqlite", None)


@pytest.mark.long
@pytest.mark.postgres
def test_ten_cli_readers_while_the_daemon_writes_every_second_on_postgres(
    readers, tmp_path, fault_result, postgres_url
):
    readers_while_the_daemon_writes(readers, tmp_path, fault_result, "postgresql", postgres_url)


# One process imports everything the CLI needs, then forks the daemon and the readers:
# each a process of its own, which waits for a file to appear and then runs the CLI's own
# entry point. They open the database within milliseconds of each other, as a daemon and
# the readers of a busy machine might, without the spread (and the cost) ten imports would
# add. It prints the children's pids (a JSON list), then a JSON line for each child as it
# ends (index, exit code), the readers first; child i writes to out.i and err.i.
AT_THE_SIGNAL = """
import json, os, signal, sys, time, traceback
import db.engine, db.queries, jobs.scheduler, tracker.cli
db.engine.head_revision()  # reads the migration scripts: not what is raced
go, folder, read_timeout, commands = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]

def run(index, command):
    for fd, name in ((1, "out"), (2, "err")):
        os.dup2(os.open(f"{folder}/{name}.{index}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    open(f"{go}.ready.{os.getpid()}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.002)
    if index:  # a reader that hangs is killed, and counts as failed
        signal.alarm(read_timeout)
    sys.argv = ["tracker", *json.loads(command)]
    try:
        tracker.cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

pids = []
for index, command in enumerate(commands):
    pid = os.fork()
    if pid == 0:
        run(index, command)
    pids.append(pid)
print(json.dumps(pids), flush=True)
for index, pid in [*enumerate(pids)][1:] + [(0, pids[0])]:
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"index": index, "code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class StartedTogether:
    """An AT_THE_SIGNAL process and its children: the daemon (child 0), then the readers."""

    def __init__(self, folder, go, commands: list[tuple[str, ...]]):
        self.folder, self.lines = folder, []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", AT_THE_SIGNAL, str(go), str(folder), str(READ_TIMEOUT),
             *(json.dumps(command) for command in commands)],
            stdout=subprocess.PIPE, text=True,
        )
        self.pids = json.loads(self.proc.stdout.readline() or "[]")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def ended(self, count: int, timeout: float) -> dict[int, int]:
        """The exit codes of the first ``count`` children to be waited for, by index."""
        wait_for(lambda: len(self.lines) >= count, timeout)
        return {line["index"]: line["code"] for line in self.lines[:count]}

    def output(self, index: int, name: str) -> str:
        path = self.folder / f"{name}.{index}"
        return path.read_text() if path.exists() else ""

    def end(self) -> None:
        """Kill whatever is left: the children, then the process that forked them."""
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=5)


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
    go, outputs = tmp_path / "go", tmp_path / "outputs"
    outputs.mkdir()
    with ReplayServer() as server:
        serve_moving_markets(server)
        config = every_second_config(tmp_path, server.url, database=database)
        commands = [("--config", str(config), *command) for command in
                    [("run",), *(COMMANDS[i % len(COMMANDS)] for i in range(READERS - 1))]]
        started = StartedTogether(outputs, go, commands)
        try:
            assert len(started.pids) == READERS, "the process that forks them did not start"
            everyone = wait_for(lambda: len(list(tmp_path.glob("go.ready.*"))) == READERS, 60)
            go.touch()
            codes = started.ended(READERS - 1, READ_TIMEOUT + 10)
            reads = [Read(commands[i][2], codes.get(i), started.output(i, "out"),
                          started.output(i, "err")) for i in range(1, READERS)]
            polled = wait_for(lambda: "polymarket: ok" in started.output(0, "err"), 30)
            os.kill(started.pids[0], signal.SIGTERM)
            code = started.ended(READERS, 40).get(0)
        finally:
            started.end()
    daemon_log = started.output(0, "err")
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
