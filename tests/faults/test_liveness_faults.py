"""Liveness: a daemon that dies, hangs or stops getting data must be seen. Under systemd
its watchdog pings stop (systemd then restarts it after `WatchdogSec=`); anywhere,
`tracker health` exits 1 with a PROBLEM line. Each figure is measured: from the fault to
the last ping, or to the first failing `tracker health`."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from db.engine import open_database
from jobs import watchdog
from jobs.scheduler import Daemon
from jobs.systemd import Notifier
from tests.replay import ReplayServer, Reply
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import FIXTURE, SYMBOL, fast_config
from tests.test_daemon_reliability import Daemon as DaemonProcess
from tests.test_systemd import Listener
from tracker.config import load_settings
from tracker.registry import load_registry

AREA = "liveness"
WATCHED = {"WATCHDOG_USEC": "200000"}  # a ping every 0.1 s, or every tick of the main loop


def health(config) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker.entry", "--config", str(config),
                           "health", "--quiet"], capture_output=True, text=True, check=False)


class InProcessDaemon:
    """The daemon in a thread of this process, so that its scheduler can be broken."""

    def __init__(self, tmp_path, url, every):
        self.settings = load_settings(str(fast_config(tmp_path, url, every=every)))
        self.engine = open_database(self.settings.database.url)
        self.listener = Listener(str(tmp_path / "notify"))
        notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), **WATCHED})
        self.daemon = Daemon(self.settings, load_registry(self.settings), self.engine,
                             notifier=notifier)
        self.thread = threading.Thread(target=self.daemon.run, daemon=True)
        self.thread.start()

    def close(self):
        self.daemon._stop.set()
        self.thread.join(timeout=40)
        self.engine.dispose()
        self.listener.close()

    def silence_after(self, broken_at: float, wait: float) -> float:
        """Seconds from the fault to the last ping, ``wait`` seconds later."""
        time.sleep(wait)
        return self.listener.pings()[-1] - broken_at


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_scheduler_thread_that_dies_stops_the_pings(tmp_path, fault_result):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        running = InProcessDaemon(tmp_path, server.url, every="1h")
        try:
            assert wait_for(lambda: len(running.listener.pings()) >= 3, 60)
            scheduler = running.daemon.scheduler

            def die():
                raise RuntimeError("the scheduler's thread dies")

            scheduler._process_jobs = die
            scheduler.wakeup()
            scheduler._thread.join(timeout=5)
            silence = running.silence_after(time.monotonic(), wait=2.0)
        finally:
            running.close()
    fault_result(AREA, "scheduler thread dies", "systemd watchdog", survived=silence < 0.6,
                 note=f"last watchdog ping {max(silence, 0):.2f} s after the thread died "
                      "(pings every 0.1 s before); systemd restarts the daemon WatchdogSec "
                      "after the last ping")


def test_a_scheduler_that_hangs_stops_the_pings_once_a_job_is_late(tmp_path, fault_result,
                                                                   monkeypatch):
    monkeypatch.setattr(watchdog, "STUCK_AFTER", timedelta(seconds=1))  # 60 s in production
    release = threading.Event()
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        running = InProcessDaemon(tmp_path, server.url, every="2s")
        try:
            assert wait_for(lambda: len(running.listener.pings()) >= 3, 60)
            scheduler = running.daemon.scheduler
            scheduler._process_jobs = lambda: release.wait() and None  # dispatches no more
            scheduler.wakeup()
            hung_at = time.monotonic()
            silence = running.silence_after(hung_at, wait=5.0)
            alive = scheduler._thread.is_alive()
        finally:
            release.set()
            running.close()
    # The next run was due within 2 s of the hang; late by 1 s, the pings stop.
    fault_result(AREA, "scheduler hangs (thread alive, nothing dispatched)", "systemd watchdog",
                 survived=alive and silence < 3.6,
                 note=f"last watchdog ping {silence:.2f} s after the hang: the next run "
                      "(every 2 s) plus STUCK_AFTER (1 s here, 60 s in production)")


def test_a_daemon_killed_fails_health_at_once(tmp_path, fault_result):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = fast_config(tmp_path, server.url, every="1h")
        daemon = DaemonProcess(config)
        try:
            assert daemon.saw("yahoo: ok", timeout=60), daemon.log
            before = health(config)
            daemon.proc.send_signal(signal.SIGKILL)
            daemon.proc.wait(timeout=10)
            killed_at = time.monotonic()
            after = health(config)
            took = time.monotonic() - killed_at
        finally:
            daemon.stop()
    fault_result(AREA, "daemon killed (SIGKILL)", "tracker health",
                 survived=(before.returncode, after.returncode) == (0, 1),
                 note=f"exit {before.returncode} before, {after.returncode} on the first check "
                      f"after ({took:.1f} s, the command's own run): "
                      f"{after.stdout.strip()}")


def test_a_group_whose_polls_keep_failing_fails_health_after_three_intervals(tmp_path,
                                                                           fault_result):
    chart = {"reply": Reply.file(FIXTURE)}
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", lambda query: chart["reply"])
        config = fast_config(tmp_path, server.url, every="2s")
        daemon = DaemonProcess(config)
        try:
            assert daemon.saw("yahoo: ok", timeout=60), daemon.log
            chart["reply"] = Reply(b"down", 500, "text/plain")
            broken_at = time.monotonic()
            assert daemon.saw("yahoo: FAILED", timeout=30), daemon.log
            first = None
            while time.monotonic() - broken_at < 30:
                checked = health(config)
                if checked.returncode == 1:
                    first = time.monotonic() - broken_at
                    break
        finally:
            assert daemon.stop() == 0, daemon.log
    fault_result(AREA, "every source of a group fails", "tracker health",
                 survived=first is not None and 4 <= first < 12,
                 note=(f"health exit 1 {first:.1f} s after the source broke (three 2 s "
                       f"intervals after its last success): {checked.stdout.strip()}"
                       if first else "health never failed"))
