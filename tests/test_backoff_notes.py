"""A source held off says so in the daemon's log: when it starts backing off, and when a
restarted daemon finds it still waiting, so the log never goes quiet without a reason."""

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta

from db import queries
from db.engine import open_database
from jobs.scheduler import announce_waits
from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, replay_config
from tests.test_daemon import start_daemon, wait_for
from tracker.config import load_settings
from tracker.registry import load_registry
from tracker.service.poll import run_cycle, waiting

T0 = datetime(2026, 11, 25, 5, 1, tzinfo=UTC)
SYMBOL, FIXTURE = YAHOO_CHART


def test_the_line_says_until_when_and_why():
    assert waiting("yahoo", T0 + timedelta(minutes=8), 3, T0) == (
        "yahoo: backing off until 05:09 UTC after 3 failures")
    assert waiting("yahoo", T0 + timedelta(seconds=30), 1, T0) == (
        "yahoo: backing off until 05:01 UTC after 1 failure")
    assert waiting("kalshi", T0 + timedelta(days=1), 0, T0) == (
        "kalshi: waiting until 2026-11-26 05:01 UTC, as its server asked (Retry-After)")
    assert waiting("yahoo", T0, 3, T0) is None  # may be asked now
    assert waiting("yahoo", None, 0, T0) is None


def test_a_source_that_fails_says_how_long_it_backs_off(tmp_path, caplog):
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply(b"upstream exploded", 500, "text/plain"))
        settings = load_settings(str(replay_config(tmp_path, server.url, symbols=[SYMBOL])))
        registry, engine = load_registry(settings), open_database(settings.database.url)
        caplog.set_level(logging.INFO, logger="tracker")
        for minutes in (0, 15, 30):
            run_cycle(settings, registry, engine, now=T0 + timedelta(minutes=minutes))
    notes = [r.getMessage() for r in caplog.records if "backing off" in r.getMessage()]
    assert notes == ["yahoo: backing off until 05:01 UTC after 1 failure",
                     "yahoo: backing off until 05:17 UTC after 2 failures",
                     "yahoo: backing off until 05:33 UTC after 3 failures"]


def test_a_restarted_daemon_says_what_it_waits_for(tmp_path):
    """The real process: its first lines name the source it will not ask yet."""
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = replay_config(tmp_path, server.url, symbols=[SYMBOL])
        engine = open_database(load_settings(str(config)).database.url)
        now = datetime.now(UTC)
        for _ in range(3):
            queries.record_source_result(engine, "yahoo", now, "HTTP 503 from yahoo", [],
                                         now + timedelta(hours=1))
        engine.dispose()
        daemon = start_daemon(config)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(daemon.stderr), daemon=True)
        reader.start()
        try:
            said = wait_for(lambda: any("backing off" in line for line in lines), timeout=30)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
        reader.join(timeout=5)
    assert said, "".join(lines)
    until = f"{now + timedelta(hours=1):%H:%M} UTC"
    assert any(line.rstrip().endswith(f"yahoo: backing off until {until} after 3 failures")
               for line in lines), "".join(lines)
    assert server.requests == []  # and it was not asked


def test_only_the_sources_in_use_are_announced(tmp_path, caplog):
    settings = load_settings(str(replay_config(tmp_path, "http://127.0.0.1:9",
                                               symbols=[SYMBOL])))
    engine = open_database(settings.database.url)
    for source in ("yahoo", "kalshi"):
        queries.record_source_result(engine, source, T0, "HTTP 503", [], T0 + timedelta(hours=1))
    caplog.set_level(logging.INFO, logger="tracker")
    announce_waits(engine, load_registry(settings), T0)
    assert [r.getMessage() for r in caplog.records] == [
        "yahoo: backing off until 06:01 UTC after 1 failure"]
