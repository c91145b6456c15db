"""`tracker health` exits 1 when something is wrong: no daemon holds the leader lock, or a
source group in use has not polled successfully for three of its intervals (with grace
for a daemon that just started). The lean path and the full CLI give the same verdict,
bytes and exit status."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from db import queries
from db.engine import open_database
from db.leaderlock import leader_present, lock_holder, lock_path
from jobs.leader import PostgresLeader, SQLiteLeader
from tests.replay import ReplayServer, Reply
from tests.test_daemon_reliability import FIXTURE, SYMBOL, fast_config
from tests.test_daemon_reliability import Daemon as DaemonProcess
from tests.test_quick import full_cli, tracker
from tracker.quick import lean_answer
from tracker.views.health import problems

GOLD = ('[[prediction]]\nid = "gold"\nwho = "Me"\nmade_on = 2026-01-02\ndeadline = 2099-12-31\n'
        'claim = "Gold above 1"\nkind = "threshold"\nseries = "yahoo:GC=F"\n'
        'direction = "above"\ntarget = 1\n')
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A config reading one Yahoo series (prices, every 15 minutes), its own registry only."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_CONFIG", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    (tmp_path / "mine.toml").write_text(GOLD)
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n\n'
        '[registry]\nbundled = false\nfiles = ["mine.toml"]\n')
    open_database(f"sqlite:///{tmp_path / 't.db'}").dispose()
    return tmp_path


@pytest.fixture
def leading(folder):
    """A daemon leading on the database: this process holds its lock."""
    leader = SQLiteLeader(str(folder / "t.db"))
    leader.acquire()
    yield leader
    leader.release()


def polled(folder, source, *, ago, failed=False):
    engine = open_database(f"sqlite:///{folder / 't.db'}")
    at = datetime.now(UTC) - ago
    queries.record_source_result(engine, source, at, "HTTP 500" if failed else None, [], None)
    engine.dispose()


def both_paths(*argv):
    """The full CLI's (code, stdout), checked against the lean path's from its cache."""
    full = full_cli(*argv, cwd=os.getcwd())
    assert full.stderr == ""
    lean = lean_answer(list(argv))
    assert lean is not None, "the full run should have left a current cache"
    assert (lean.code, lean.stdout) == (full.returncode, full.stdout)
    return full.returncode, full.stdout


def test_no_daemon_is_a_problem_on_both_paths(folder):
    polled(folder, "yahoo", ago=timedelta(minutes=1))
    code, text = both_paths("health")
    assert code == 1
    assert text.endswith("leader: none\nPROBLEM: no daemon holds the leader lock on this database\n")
    code, out = both_paths("health", "--json")
    found = json.loads(out)
    assert (code, found["ok"], found["leader"]) == (1, False, None)
    assert found["problems"] == ["no daemon holds the leader lock on this database"]
    assert both_paths("health", "--quiet") == (
        1, "PROBLEM: no daemon holds the leader lock on this database\n")
    assert tracker("health", "--quiet", cwd=folder).returncode == 1  # the entry point's code


def test_a_leading_daemon_with_recent_polls_is_healthy(leading, folder):
    polled(folder, "yahoo", ago=timedelta(minutes=20))  # under 3 x 15 min
    code, text = both_paths("health")
    assert code == 0 and "PROBLEM" not in text
    assert f"leader: pid {os.getpid()} on " in text
    assert both_paths("health", "--quiet") == (0, "")
    found = json.loads(both_paths("health", "--json")[1])
    assert found["ok"] is True and found["problems"] == []
    assert found["leader"]["holder"].startswith(f"pid {os.getpid()} ")


def test_a_forged_lock_file_shows_as_text(leading, folder):
    """Anyone who can write beside the database can write in the lock file."""
    polled(folder, "yahoo", ago=timedelta(minutes=1))
    leading._file.seek(0)
    leading._file.truncate()
    leading._file.write("pid 1\x1b[2J\x1b]0;owned\x07 on host")
    leading._file.flush()
    code, text = both_paths("health")
    assert code == 0 and "\x1b" not in text
    assert "leader: pid 1\\x1b[2J\\x1b]0;owned\\x07 on host, since " in text


def test_a_group_not_polled_for_three_intervals_is_a_problem(leading, folder):
    polled(folder, "yahoo", ago=timedelta(minutes=50))
    polled(folder, "polymarket", ago=timedelta(days=3))  # not in the registry: not counted
    code, text = both_paths("health", "--quiet")
    assert code == 1
    assert text.startswith("PROBLEM: no successful poll of prices (yahoo) since ")
    assert text.endswith(", longer than 3 intervals: 45 min\n") and text.count("\n") == 1


@pytest.mark.parametrize(("first_failure", "code"), [(timedelta(minutes=40), 0),
                                                  (timedelta(minutes=50), 1)])
def test_a_source_that_never_succeeded_gets_three_intervals_from_its_first_failure(
        leading, folder, first_failure, code):
    polled(folder, "yahoo", ago=first_failure, failed=True)
    polled(folder, "yahoo", ago=timedelta(minutes=1), failed=True)  # still failing since then
    found, text = both_paths("health", "--quiet")
    assert found == code
    assert ("prices (yahoo) never polled successfully since " in text) == bool(code)


def test_a_daemon_that_never_polled_is_a_problem_after_three_intervals(leading, folder):
    """No poll recorded at all: the clock starts when the daemon took the lock."""
    assert both_paths("health", "--quiet") == (0, "")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    os.utime(lock_path(folder / "t.db"), (an_hour_ago, an_hour_ago))
    code, text = both_paths("health", "--quiet")
    assert code == 1 and "prices (yahoo) never polled successfully" in text


def test_a_database_behind_a_symbolic_link_finds_its_daemon_on_both_paths(tmp_path, monkeypatch):
    """The daemon names its lock file after the database's path as configured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_CONFIG", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "mine.toml").write_text(GOLD)
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "link" / "t.db"}"\n\n'
        '[registry]\nbundled = false\nfiles = ["mine.toml"]\n')
    engine = open_database(f"sqlite:///{tmp_path / 'link' / 't.db'}")
    queries.record_source_result(engine, "yahoo", datetime.now(UTC), None, [], None)
    engine.dispose()
    leader = SQLiteLeader(str(tmp_path / "link" / "t.db"))
    leader.acquire()
    try:
        assert both_paths("health", "--quiet") == (0, "")
    finally:
        leader.release()


def test_health_passes_while_a_real_daemon_polls_and_fails_once_it_stops(tmp_path):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = fast_config(tmp_path, server.url, every="1h")
        daemon = DaemonProcess(config)
        try:
            assert daemon.saw("yahoo: ok", timeout=60), daemon.log
            healthy = tracker("--config", str(config), "health", "--quiet", cwd=tmp_path)
        finally:
            assert daemon.stop() == 0, daemon.log
        stopped = tracker("--config", str(config), "health", "--quiet", cwd=tmp_path)
    assert (healthy.returncode, healthy.stdout, healthy.stderr) == (0, "", "")
    assert (stopped.returncode, stopped.stdout) == (
        1, "PROBLEM: no daemon holds the leader lock on this database\n")


# ---- the verdict alone ----------------------------------------------------------------------

class Row:
    def __init__(self, success=None, failing=None):
        self.last_success_at, self.failing_since = success, failing


def every(group):
    return {"markets": timedelta(minutes=5), "prices": timedelta(minutes=15),
            "macro": timedelta(hours=6)}[group]


def test_only_groups_the_registry_uses_count_and_a_group_is_judged_by_its_newest_success():
    from db.leaderlock import Holder

    leader = Holder("pid 1 on h", NOW - timedelta(days=1))
    health = {"polymarket": Row(success=NOW - timedelta(minutes=2)),
              "kalshi": Row(failing=NOW - timedelta(days=1)),
              "fred": Row(success=NOW - timedelta(days=2))}
    assert problems(health, {"polymarket", "kalshi"}, every, leader, NOW) == []
    assert problems(health, {"kalshi"}, every, leader, NOW) == [
        ("markets (kalshi) never polled successfully since 2026-11-29 12:00 UTC, "
        "longer than 3 intervals: 15 min")]
    assert problems(health, {"fred", "polymarket"}, every, leader, NOW) == [
        ("no successful poll of macro (fred) since 2026-11-28 12:00 UTC, longer than 3 "
        "intervals: 18 h")]
    assert problems({}, {"yahoo"}, every, None, NOW) == [
        "no daemon holds the leader lock on this database"]  # nothing known of the polls


# ---- the lock probe ---------------------------------------------------------------------------

def test_the_probe_never_creates_the_lock_file_and_a_starting_daemon_outwaits_it(tmp_path):
    database = tmp_path / "t.db"
    assert lock_holder(database) is None and not lock_path(database).exists()
    lock_path(database).write_text("")
    probe = open(lock_path(database))  # noqa: SIM115 - a health probe's instant, prolonged
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    threading.Timer(0.08, probe.close).start()
    daemon = SQLiteLeader(str(database))
    assert daemon.acquire()  # would have been refused as "another daemon" without its retries
    assert lock_holder(database).text == f"pid {os.getpid()} on {os.uname().nodename}"
    daemon.release()
    assert lock_holder(database) is None


@pytest.mark.postgres
def test_the_leader_on_postgresql_is_seen_in_pg_locks(postgres_url):
    engine = open_database(postgres_url)
    try:
        assert leader_present(engine) is None
        daemon = PostgresLeader(engine, retry_seconds=0.1)
        assert daemon.acquire()
        holder = leader_present(engine)
        assert holder is not None and holder.text.startswith("server session ")
        assert holder.since is not None and holder.since <= datetime.now(UTC)
        daemon.release()
        assert leader_present(engine) is None
    finally:
        engine.dispose()
