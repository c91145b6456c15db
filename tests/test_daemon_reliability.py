"""A daemon to trust: one leader per database, SIGHUP reloads, failover on PostgreSQL.
Real `tracker run` processes against a replay server."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, replay_config
from tests.test_daemon import wait_for

SYMBOL, FIXTURE = YAHOO_CHART


class Daemon:
    """A `tracker run` subprocess whose log lines are collected as they come."""

    def __init__(self, config, env=None, args=(), start=("-m", "tracker.cli")):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, *start, "--config", str(config), "run", *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env={**os.environ, **(env or {})},
        )
        import threading

        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def saw(self, text, timeout=20.0):
        return wait_for(lambda: any(text in line for line in self.lines), timeout)

    def stop(self, signum=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout=40)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(timeout=5)
        return self.proc.returncode

    @property
    def log(self):
        return "\n".join(self.lines)


def fast_config(tmp_path, url, every="2s", database=None):
    config = replay_config(tmp_path, url, symbols=[SYMBOL])
    text = config.read_text()
    if database:
        text = text.replace(f'url = "sqlite:///{tmp_path / "tracker.db"}"', f'url = "{database}"')
    config.write_text(text + f'\n[schedule]\nprices_every = "{every}"\n')
    return config


def test_a_second_daemon_on_one_sqlite_file_is_refused_naming_the_first(tmp_path):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = fast_config(tmp_path, server.url)
        first = Daemon(config)
        try:
            assert first.saw("yahoo: ok"), first.log
            second = subprocess.run(
                [sys.executable, "-m", "tracker.cli", "--config", str(config), "run"],
                capture_output=True, text=True, timeout=30, check=False,
            )
            assert second.returncode == 2
            assert f"pid {first.proc.pid}" in second.stderr
            assert second.stderr.strip().splitlines()[-1].startswith("tracker: another tracker daemon")
            assert first.proc.poll() is None  # the first keeps polling
        finally:
            assert first.stop() == 0, first.log


def test_sighup_reloads_a_good_config_and_refuses_a_bad_one(tmp_path):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        server.add("/graph/fredgraph.csv", Reply.file("fred/NASDAQCOM_DATE_dot_missing.csv"))
        config = fast_config(tmp_path, server.url, every="1h")
        daemon = Daemon(config)
        try:
            assert daemon.saw("yahoo: ok"), daemon.log
            good = config.read_text() + (
                '\n[[prediction]]\nid = "nasdaq"\nwho = "T"\nmade_on = 2020-01-01\n'
                'claim = "c"\nkind = "threshold"\nseries = "fred:NASDAQCOM"\ntarget = 1e9\n'
                'direction = "above"\ndeadline = 2030-12-31\n'
            )
            config.write_text(good)
            daemon.proc.send_signal(signal.SIGHUP)
            assert daemon.saw("reloaded the config: 2 predictions"), daemon.log
            assert daemon.saw("fred: ok"), daemon.log  # the new group polls at once

            config.write_text(good + "\n[pollling]\nevery = '1m'\n")
            daemon.proc.send_signal(signal.SIGHUP)
            assert daemon.saw("refused the new config, keeping the old one"), daemon.log
            assert "pollling" in daemon.log  # the line names what is wrong
            time.sleep(0.5)
            assert daemon.proc.poll() is None  # still running on the old config
        finally:
            assert daemon.stop() == 0, daemon.log
    assert "Traceback" not in daemon.log


def test_a_standby_takes_over_when_the_postgres_leader_dies(tmp_path, postgres_url):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        leader_dir, standby_dir = tmp_path / "a", tmp_path / "b"
        leader_dir.mkdir()
        standby_dir.mkdir()
        leader = Daemon(fast_config(leader_dir, server.url, database=postgres_url))
        standby = None
        try:
            assert leader.saw("tracker daemon leading"), leader.log
            standby = Daemon(fast_config(standby_dir, server.url, database=postgres_url))
            assert standby.saw("standing by"), standby.log
            assert not any("leading" in line for line in standby.lines)

            leader.proc.kill()  # no goodbye: the server drops its session and its lock
            leader.proc.wait(timeout=10)
            killed_at = time.monotonic()
            assert standby.saw("takes over polling", timeout=15), standby.log
            # Within one poll interval (2 s) plus the time the server needs to notice.
            assert time.monotonic() - killed_at < 10
            assert standby.saw("yahoo: ok"), standby.log
        finally:
            leader.stop()
            if standby is not None:
                assert standby.stop() == 0, standby.log


# `tracker run` with a shorter grace after SIGTERM than its 30 s (STOP_GRACE, which the
# deployment files' stop timeouts are checked against): the same code, seconds sooner.
WITH_GRACE = """
import sys
import jobs.scheduler
jobs.scheduler.STOP_GRACE = float(sys.argv.pop(1))
sys.argv[0] = "tracker"
from tracker.cli import main
main()
"""


@pytest.mark.long
def test_a_poll_that_will_not_finish_is_abandoned_after_the_grace_with_json_logs(tmp_path):
    grace = 3
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE, delay=45.0))
        config = fast_config(tmp_path, server.url, every="1h")
        config.write_text(config.read_text().replace('timeout = "10s"', 'timeout = "60s"'))
        daemon = Daemon(config, args=["--log-json"], start=("-c", WITH_GRACE, str(grace)))
        try:
            assert wait_for(lambda: server.requests), daemon.log
            asked_at = time.monotonic()
            daemon.proc.send_signal(signal.SIGTERM)
            code = daemon.stop()
            waited = time.monotonic() - asked_at
        finally:
            daemon.stop(signal.SIGKILL)
    assert code == 0, daemon.log
    assert grace - 1 < waited < grace + 10
    records = [json.loads(line) for line in daemon.lines]  # every line is one JSON object
    assert any(f"did not finish in {grace} s: abandoned" in r["message"] for r in records)
    assert {"time", "level", "logger", "message"} <= set(records[0])
