"""Crash safety: `tracker run` killed with SIGKILL at random moments (half of them aimed at
the few milliseconds a cycle spends writing), over and over, while it polls every second.
Real daemon processes against a loopback replay server whose Gamma answers change on
every request, so every cycle has something new to write. A last test kills the very
first start in the middle of creating the schema.

Afterwards the database must be intact (integrity_check), hold no duplicated point or
snapshot, keep every cycle a daemon reported as stored, and the next `tracker run` must
start at once (the lock file of a killed daemon never blocks) and fill the gap."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.replay import FIXTURES, ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, market, replay_config
from tests.test_daemon import wait_for

SYMBOL, CHART = YAHOO_CHART
MARKET_FILES = ("markets_open_xi.json", "markets_btc_open_leeds_proposed.json")
SLUGS = {
    "xi-out": "xi-jinping-out-before-2027",
    "btc-150k": "will-bitcoin-hit-150k-by-june-30-2026",
    "leeds-win": "epl-lee-bur-2026-05-01-lee",
}
MIN_CYCLES = 50
SEED = 20261125


class MovingGamma:
    """Gamma's ``/markets?slug=...``: the recorded market objects, with the Yes price
    moving on every request (by 0.07 modulo 0.9, never by less than a snapshot notices),
    so every poll stores a new point and a new snapshot per market."""

    def __init__(self):
        self.pool = {
            m["slug"]: m
            for name in MARKET_FILES
            for m in json.loads((FIXTURES / "polymarket" / name).read_text())
        }
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, query: dict[str, list[str]]) -> Reply:
        with self._lock:
            self.calls += 1
            n = self.calls
        answer = []
        for i, slug in enumerate(query.get("slug", [])):
            if slug in self.pool:
                yes = round(0.05 + ((7 * n + 13 * i) % 90) / 100, 4)
                prices = json.dumps([str(yes), str(round(1 - yes, 4))])
                answer.append({**self.pool[slug], "outcomePrices": prices})
        return Reply(json.dumps(answer).encode())


def serve_moving_markets(server: ReplayServer) -> MovingGamma:
    """Routes for a daemon polling markets and prices: moving Gamma prices, an empty CLOB
    history (what gap filling asks for after downtime) and the recorded Yahoo chart."""
    gamma = MovingGamma()
    server.add("/markets", gamma)
    server.add("/prices-history", Reply(b'{"history": []}'))
    server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(CHART))
    return gamma


def every_second_config(tmp_path: Path, url: str, database: str | None = None) -> Path:
    """Three Polymarket predictions and a Yahoo threshold, both groups polled every 1 s."""
    predictions = "".join(market(pid, f"polymarket:{slug}") for pid, slug in SLUGS.items()) + (
        f'[[prediction]]\nid = "bats-high"\nwho = "Test"\nmade_on = 2020-01-01\n'
        f'claim = "BATS above 1e12"\nkind = "threshold"\nseries = "yahoo:{SYMBOL}"\n'
        f'target = 1e12\ndirection = "above"\ndeadline = 2030-12-31\n\n'
    )
    config = replay_config(tmp_path, url, predictions=predictions)
    text = config.read_text()
    if database:
        text = text.replace(f'url = "sqlite:///{tmp_path / "tracker.db"}"', f'url = "{database}"')
    config.write_text(text + '\n[schedule]\nmarkets_every = "1s"\nprices_every = "1s"\n')
    return config


def market_cycles(server: ReplayServer) -> int:
    """Poll cycles that reached the server: each asks Gamma once for all the slugs."""
    return sum(1 for r in list(server.requests)
               if r.startswith("/markets?") and r.count("slug=") == len(SLUGS))


def recorded_bars() -> set[datetime]:
    from tracker.sources.yahoo import parse_chart

    series = parse_chart(json.loads((FIXTURES / CHART).read_text()), SYMBOL)
    return {p.ts for p in series.points}


def stored_rows(path: Path):
    """(series_id, ts) of every point, and (prediction, at, state) of every snapshot, read
    through the product's column types (so '...' and '...+00:00' would compare equal)."""
    from sqlalchemy import select

    from db.engine import make_engine
    from db.models import Observation, Snapshot

    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            obs = Observation.__table__
            points = conn.execute(select(obs.c.series_id, obs.c.ts)).all()
            snap = Snapshot.__table__
            snapshots = conn.execute(
                select(snap.c.prediction_id, snap.c.at, snap.c.status, snap.c.probability,
                       snap.c.value, snap.c.model).order_by(snap.c.id)
            ).all()
    finally:
        engine.dispose()
    return points, snapshots


def sqlite_checks(path: Path) -> dict[str, object]:
    """What SQLite itself says about the file, and duplicates counted in SQL."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        return {
            "integrity": [row[0] for row in conn.execute("PRAGMA integrity_check")],
            "foreign_keys": conn.execute("PRAGMA foreign_key_check").fetchall(),
            "point_duplicates": conn.execute(
                "SELECT count(*) - count(DISTINCT series_id || '|' || ts) FROM observation"
            ).fetchone()[0],
            "snapshot_duplicates": conn.execute(
                "SELECT count(*) - count(DISTINCT prediction_id || '|' || at) FROM snapshot"
            ).fetchone()[0],
        }
    finally:
        conn.close()


def duplicates(points, snapshots) -> tuple[int, int, int]:
    """(points stored twice, snapshots stored twice for one prediction and time, snapshots
    repeating the previous one of their prediction unchanged)."""
    point_dups = sum(n - 1 for n in Counter(points).values() if n > 1)
    per_time = Counter((s.prediction_id, s.at) for s in snapshots)
    snap_dups = sum(n - 1 for n in per_time.values() if n > 1)
    repeats, last = 0, {}
    for s in snapshots:
        state = (s.status, s.probability, s.value, s.model)
        repeats += last.get(s.prediction_id) == state
        last[s.prediction_id] = state
    return point_dups, snap_dups, repeats


def wait_to_kill(rng: random.Random, gamma: MovingGamma) -> str:
    """Sleep until the moment to kill. Half the time: a random 0.2-2.5 s after the start.
    As a cycle writes for only some 20 ms of its second, random moments seldom land in a
    write; so the other half aims: 0-40 ms after Gamma answers this run's first or second
    poll, while the daemon stores the answer, fills gaps and evaluates."""
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.2, 2.5))
        return "random"
    target = gamma.calls + rng.choice((1, 2))
    offset = rng.uniform(0.0, 0.04)
    give_up = time.monotonic() + 20
    while gamma.calls < target and time.monotonic() < give_up:
        time.sleep(0.001)
    time.sleep(offset)
    return "aimed"


# A process that imports the CLI once, then starts each daemon it is asked for (a JSON
# list of arguments a line on stdin) as a child forked for it: a process of its own that
# runs `tracker run` from the CLI's entry point, its stderr in the file named first. It
# answers with the child's pid, then with its exit code once it has ended. The daemons of
# the kill loop so start in milliseconds instead of a core's half second of imports.
DAEMONS = """
import json, os, sys, traceback
import db.engine, jobs.scheduler, tracker.cli
for line in sys.stdin:
    log, *args = json.loads(line)
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        sys.argv = ["tracker", *args]
        try:
            tracker.cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stderr.flush()
        os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class ForkedDaemon:
    """A `tracker run` forked by a DAEMONS process: a pid to signal, its log lines, and its
    exit code once the DAEMONS process has seen it end."""

    def __init__(self, daemons: subprocess.Popen, config: Path, log: Path):
        self._daemons, self._log = daemons, log
        daemons.stdin.write(json.dumps([str(log), "--config", str(config), "run"]) + "\n")
        daemons.stdin.flush()
        self.pid = json.loads(daemons.stdout.readline())["pid"]
        self._ended: list[int] = []
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _wait(self):
        line = self._daemons.stdout.readline()
        self._ended.append(json.loads(line)["code"] if line else None)

    def poll(self) -> int | None:
        return self._ended[0] if self._ended else None

    def signal(self, signum: int) -> None:
        if not self._ended:
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int | None:
        """Its exit code (killed with SIGKILL if it is still running after ``timeout``)."""
        self._waiter.join(timeout)
        if self._waiter.is_alive():
            self.signal(signal.SIGKILL)
            self._waiter.join()
        return self.poll()

    def stop(self) -> int | None:
        self.signal(signal.SIGTERM)
        return self.wait(timeout=40)

    @property
    def lines(self) -> list[str]:
        return self._log.read_text().splitlines() if self._log.exists() else []

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def saw(self, text: str, timeout: float = 20.0) -> bool:
        return wait_for(lambda: any(text in line for line in self.lines), timeout)


@contextmanager
def daemon_starter() -> Iterator[subprocess.Popen]:
    """A DAEMONS process; it ends once its stdin is closed and its last daemon has."""
    daemons = subprocess.Popen([sys.executable, "-c", DAEMONS], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        yield daemons
    finally:
        daemons.stdin.close()
        try:
            daemons.wait(timeout=60)
        finally:
            if daemons.poll() is None:
                daemons.kill()


@pytest.mark.long
def test_sigkill_at_random_moments_during_50_poll_cycles(tmp_path, fault_result):
    rng = random.Random(SEED)
    database = tmp_path / "tracker.db"
    kills, acknowledged, refused = 0, 0, []
    landed = Counter()  # (random|aimed, before the first poll | in a poll | between polls)
    with ReplayServer() as server, daemon_starter() as daemons:
        gamma = serve_moving_markets(server)
        config = every_second_config(tmp_path, server.url)
        deadline = time.monotonic() + 150  # a safety net: 50 cycles take ~40-80 s
        while market_cycles(server) < MIN_CYCLES and time.monotonic() < deadline:
            asked_before = len(server.requests)
            daemon = ForkedDaemon(daemons, config, tmp_path / f"daemon.{kills}.log")
            kind = wait_to_kill(rng, gamma)
            alive = daemon.poll() is None
            daemon.signal(signal.SIGKILL)
            daemon.wait(timeout=30)
            kills += 1
            if not alive:  # it stopped on its own: refused by a stale lock, a broken database...
                refused.append(daemon.log)
            # A cycle is reported only once its points are committed.
            reported = sum(1 for line in daemon.lines if "polymarket: ok" in line)
            acknowledged += reported
            asked = server.requests[asked_before:]
            polls = sum(1 for r in asked if r.startswith(("/markets?", "/v8/")))
            reported += sum(1 for line in daemon.lines if "yahoo: ok" in line)
            where = ("before the first poll" if not polls
                     else "in a poll" if polls > reported else "between polls")
            landed[kind, where] += 1
        cycles = market_cycles(server)
        after_kills = sqlite_checks(database)
        points, snapshots = stored_rows(database)
        stored_cycles = len({ts for sid, ts in points if sid.startswith("polymarket:")})

        # The next start: not blocked by the lock file of the killed daemon, polls at once.
        restarted_at = datetime.now(UTC)
        final = ForkedDaemon(daemons, config, tmp_path / "daemon.final.log")
        try:
            polled = final.saw("polymarket: ok", timeout=30) and final.saw("yahoo: ok", timeout=30)
        finally:
            code = final.stop()
    after_restart = sqlite_checks(database)
    points, snapshots = stored_rows(database)
    point_dups, snap_dups, repeats = duplicates(points, snapshots)

    bars = recorded_bars()
    yahoo = Counter(ts for sid, ts in points if sid == f"yahoo:{SYMBOL}")
    missing_bars = len(bars - set(yahoo))
    fresh = {sid for sid, ts in points if sid.startswith("polymarket:") and ts > restarted_at}
    lost = max(0, acknowledged - stored_cycles) + missing_bars + (len(SLUGS) - len(fresh))
    in_sql = after_restart["point_duplicates"] + after_restart["snapshot_duplicates"]
    dups = point_dups + snap_dups + repeats + in_sql
    survived = (
        not refused and cycles >= MIN_CYCLES and polled and code == 0
        and after_kills["integrity"] == ["ok"] and after_restart["integrity"] == ["ok"]
        and not after_kills["foreign_keys"] and lost == 0 and dups == 0
    )
    fault_result(
        "crash", "SIGKILL during 50 polls", "daemon", survived=survived, lost=lost, duplicates=dups,
        note=(f"{kills} kills (seed {SEED}; "
              f"{', '.join(f'{n} {k} {w}' for (k, w), n in sorted(landed.items()))}), "
              f"{cycles} market poll cycles reached the server, {stored_cycles} stored, "
              f"{acknowledged} reported stored before a kill; "
              f"{len(points)} points, {len(snapshots)} snapshots"),
    )

    assert not refused, "a daemon stopped by itself before its kill:\n" + "\n---\n".join(refused)
    assert cycles >= MIN_CYCLES, f"only {cycles} poll cycles in {kills} kills"
    assert after_kills["integrity"] == ["ok"], after_kills
    assert not after_kills["foreign_keys"], after_kills
    assert after_kills["point_duplicates"] == after_kills["snapshot_duplicates"] == 0, after_kills
    assert polled, "the daemon after the last kill did not poll at once:\n" + final.log
    assert code == 0, final.log
    assert "another tracker daemon" not in final.log
    assert after_restart["integrity"] == ["ok"], after_restart
    assert in_sql == 0, after_restart
    assert (point_dups, snap_dups, repeats) == (0, 0, 0)
    # Every cycle a daemon logged as stored is still there after its kill.
    assert stored_cycles >= acknowledged > 0, (stored_cycles, acknowledged)
    # The next run filled the gap: every recorded bar once, and a new point per market.
    assert set(yahoo) == bars and set(yahoo.values()) == {1}
    assert fresh == {f"polymarket:{slug}" for slug in SLUGS.values()}


KILL_MID_MIGRATION = """
import os, signal, sys
from sqlalchemy import event
from db import engine as db_engine

engine = db_engine.make_engine(sys.argv[1])
created = []

@event.listens_for(engine, "after_cursor_execute")
def _after(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created.append(statement)
        if len(created) == 3:  # some tables made, the revision not yet recorded
            os.kill(os.getpid(), signal.SIGKILL)

db_engine.migrate(engine)
"""


def test_sigkill_in_the_middle_of_the_first_migration_leaves_a_database_that_opens(
    tmp_path, fault_result
):
    from db.engine import DatabaseError, current_revision, head_revision, open_database

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    killed = subprocess.run([sys.executable, "-c", KILL_MID_MIGRATION, url],
                            capture_output=True, text=True, timeout=60, check=False)
    assert killed.returncode == -9, killed.stderr  # it died where it was meant to
    try:
        engine = open_database(url)
    except DatabaseError as exc:
        opened, error = False, str(exc)
    else:
        opened, error = current_revision(engine) == head_revision(), ""
        engine.dispose()
    conn = sqlite3.connect(tmp_path / "tracker.db")
    integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    conn.close()
    fault_result("crash", "SIGKILL during the first migration", "database",
                 survived=opened and integrity == ["ok"], note=error)
    assert opened, error
    assert integrity == ["ok"]
