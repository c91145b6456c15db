"""Under systemd (`Type=notify`, `WatchdogSec=`): the daemon says READY once its scheduler
runs (or once it stands by), pings the watchdog only while the scheduler works, and says
STOPPING on SIGTERM. Real datagram sockets; a real `tracker run` where a child can show
it, the daemon in a thread where the scheduler must die."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from db.engine import open_database
from jobs.scheduler import Daemon
from jobs.systemd import Notifier
from jobs.watchdog import scheduler_alive
from tests.replay import ReplayServer, Reply
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import FIXTURE, SYMBOL, fast_config
from tests.test_daemon_reliability import Daemon as DaemonProcess
from tracker.config import load_settings
from tracker.registry import load_registry


class Listener:
    """systemd's end: a datagram socket that keeps each message with when it came."""

    def __init__(self, address: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._done.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def close(self):
        self._done.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def texts(self) -> list[str]:
        return [text for _, text in self.messages]

    def pings(self) -> list[float]:
        return [at for at, text in self.messages if text == "WATCHDOG=1"]


@pytest.fixture
def listener(tmp_path):
    heard = Listener(str(tmp_path / "notify"))
    yield heard
    heard.close()


# ---- the protocol ----------------------------------------------------------------------------

def test_messages_reach_a_path_socket_and_an_abstract_one(tmp_path, listener):
    Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify")}).ready("leading")
    abstract = Listener(f"@tracker-test-{os.getpid()}-{id(tmp_path)}")
    try:
        Notifier({"NOTIFY_SOCKET": f"@tracker-test-{os.getpid()}-{id(tmp_path)}"}).stopping()
        assert wait_for(lambda: abstract.texts() == ["STOPPING=1\nSTATUS=stopping"], 5)
    finally:
        abstract.close()
    assert wait_for(lambda: listener.texts() == ["READY=1\nSTATUS=leading"], 5)


def test_pings_come_every_half_timeout_and_only_for_the_watched_process(tmp_path, listener):
    now = [0.0]
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "10000000"}
    notifier = Notifier(env, clock=lambda: now[0])
    assert notifier.watchdog_interval == 5.0
    for now[0] in (0.0, 1.0, 4.9, 5.0, 9.9, 10.0):
        notifier.watchdog()
    assert wait_for(lambda: len(listener.pings()) == 3, 5)  # at 0, 5 and 10
    assert Notifier(env | {"WATCHDOG_PID": str(os.getpid() + 1)}).watchdog_interval is None
    assert Notifier(env | {"WATCHDOG_PID": str(os.getpid())}).watchdog_interval == 5.0
    assert Notifier({"WATCHDOG_USEC": "10000000"}).watchdog_interval == 5.0
    Notifier({"WATCHDOG_USEC": "10000000"}).watchdog()  # no socket: nothing, no error
    Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")}).ready("x")  # no error either


# ---- the watchdog's condition ----------------------------------------------------------------

def test_a_scheduler_that_is_stopped_or_leaves_a_job_far_behind_is_not_alive():
    scheduler = BackgroundScheduler(timezone=UTC)
    now = datetime.now(UTC)
    scheduler.add_job(print, "interval", minutes=5, next_run_time=now - timedelta(minutes=2))
    assert not scheduler_alive(scheduler, now)  # not started
    scheduler.start(paused=True)  # its thread runs, but dispatches nothing: hung
    try:
        assert scheduler._thread.is_alive()
        assert scheduler_alive(scheduler, now - timedelta(minutes=1, seconds=30))
        assert not scheduler_alive(scheduler, now)  # 2 minutes late
        assert scheduler_alive(scheduler, now, stuck_after=timedelta(minutes=3))
        scheduler.resume()  # dispatches the late job and sets its next run
        assert wait_for(lambda: scheduler_alive(scheduler, datetime.now(UTC)), 5)
    finally:
        scheduler.shutdown(wait=False)
    assert not scheduler_alive(scheduler, datetime.now(UTC))


# ---- a real daemon -----------------------------------------------------------------------------

def test_a_daemon_says_ready_once_scheduled_pings_and_says_stopping(tmp_path, listener):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = fast_config(tmp_path, server.url, every="1h")
        daemon = DaemonProcess(config, env={"NOTIFY_SOCKET": str(tmp_path / "notify"),
                                            "WATCHDOG_USEC": "600000"})
        try:
            assert wait_for(lambda: listener.texts(), 60), daemon.log
            ready = listener.texts()[0]
            assert ready == "READY=1\nSTATUS=leading: polling for 1 predictions"
            assert any("scheduled poll-prices" in line for line in daemon.lines)
            assert wait_for(lambda: len(listener.pings()) >= 3, 10), listener.texts()
            gaps = [b - a for a, b in zip(listener.pings(), listener.pings()[1:], strict=False)]
            assert all(0.25 < gap < 1.5 for gap in gaps), gaps  # every 0.3 s, on 0.5 s ticks
        finally:
            assert daemon.stop() == 0, daemon.log
    assert wait_for(lambda: "STOPPING=1\nSTATUS=stopping" in listener.texts(), 5)


@pytest.mark.postgres
def test_a_standby_is_ready_and_alive_while_it_stands_by(tmp_path, listener, postgres_url):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        leader = DaemonProcess(fast_config(tmp_path / "a", server.url, database=postgres_url))
        standby = None
        try:
            assert leader.saw("tracker daemon leading", timeout=60), leader.log
            standby = DaemonProcess(
                fast_config(tmp_path / "b", server.url, database=postgres_url),
                env={"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "2000000"})
            assert standby.saw("standing by", timeout=60), standby.log
            assert wait_for(lambda: len(listener.pings()) >= 2, 10), listener.texts()
            assert listener.texts()[0] == (
                "READY=1\nSTATUS=standing by: another daemon leads on this database")
        finally:
            leader.stop()
            if standby is not None:
                assert standby.stop() == 0, standby.log


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_pings_stop_when_the_scheduler_thread_dies(tmp_path, listener):
    """The daemon in a thread of this process, so its scheduler can be killed: the pings
    stop within one tick of the main loop, and systemd restarts it after WatchdogSec."""
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        settings = load_settings(str(fast_config(tmp_path, server.url, every="1h")))
        engine = open_database(settings.database.url)
        notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"),
                             "WATCHDOG_USEC": "200000"})  # a ping every 0.1 s
        daemon = Daemon(settings, load_registry(settings), engine, notifier=notifier)
        runner = threading.Thread(target=daemon.run, daemon=True)
        runner.start()
        try:
            assert wait_for(lambda: len(listener.pings()) >= 3, 60), listener.texts()
            scheduler = daemon.scheduler

            def die():
                raise RuntimeError("the scheduler's thread dies")

            scheduler._process_jobs = die
            scheduler.wakeup()
            scheduler._thread.join(timeout=5)
            died_at = time.monotonic()
            time.sleep(1.5)  # three watchdog intervals, in which a live daemon pings ~3 times
            assert scheduler.running and not scheduler._thread.is_alive()
            last = listener.pings()[-1]
            assert last - died_at < 0.6  # at most the main loop's tick after the death
        finally:
            daemon._stop.set()
            runner.join(timeout=40)
            engine.dispose()
