"""`tracker run` as a real process: polls at start, logs a line per source, and on
SIGTERM or SIGINT lets the running poll finish and exits 0."""

import signal
import subprocess
import sys
import time

import pytest

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, replay_config


def start_daemon(config):
    return subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--config", str(config), "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_polls_at_start_and_stops_cleanly(tmp_path, signum):
    with ReplayServer() as server:
        symbol, fixture = YAHOO_CHART
        server.add(f"/v8/finance/chart/{symbol}", Reply.file(fixture))
        config = replay_config(tmp_path, server.url, symbols=[symbol])
        daemon = start_daemon(config)
        try:
            assert wait_for(lambda: server.requests), "the daemon never polled"
            time.sleep(1.0)  # let the cycle store and log
            daemon.send_signal(signum)
            _, stderr = daemon.communicate(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    assert daemon.returncode == 0, stderr
    assert "yahoo: ok" in stderr
    assert "tracker daemon stopped" in stderr
    assert "Traceback" not in stderr


def test_sigterm_during_a_poll_lets_it_finish(tmp_path):
    with ReplayServer() as server:
        symbol, fixture = YAHOO_CHART
        server.add(f"/v8/finance/chart/{symbol}", Reply.file(fixture, delay=2.0))
        config = replay_config(tmp_path, server.url, symbols=[symbol])
        daemon = start_daemon(config)
        try:
            assert wait_for(lambda: server.requests), "the daemon never polled"
            daemon.send_signal(signal.SIGTERM)  # the response is still 2 s away
            _, stderr = daemon.communicate(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    assert daemon.returncode == 0, stderr
    assert "yahoo: ok" in stderr  # the poll completed and was stored
    from db import queries
    from db.engine import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert queries.series_points(engine, f"yahoo:{symbol}")
