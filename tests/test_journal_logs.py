"""Under systemd, log lines carry the journal's priorities (`<3>` error ... `<7>` debug), so
`journalctl -p err` shows the errors alone; in a terminal, in a file, and as JSON they do
not."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from tests.replay import ReplayServer, Reply
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import SYMBOL, fast_config
from tracker.logs import QUIET_LOGGERS, configure_logging


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def stream_id(path) -> str:
    info = os.stat(path)
    return f"{info.st_dev}:{info.st_ino}"


def log_everything(tmp_path, monkeypatch, journal_stream=None, json_lines=False) -> list[str]:
    """What the four levels and a traceback write to a real file standing for stderr."""
    path = tmp_path / "stderr"
    with open(path, "w", encoding="utf-8") as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)
        if journal_stream is None:
            monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        else:
            monkeypatch.setenv("JOURNAL_STREAM", journal_stream(path))
        configure_logging(json_lines=json_lines, level=logging.DEBUG)
        log = logging.getLogger("tracker.test")
        log.error("an error")
        log.warning("a warning")
        log.info("news")
        log.debug("detail")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
    return path.read_text(encoding="utf-8").splitlines()


def test_each_line_starts_with_its_priority_when_stderr_is_the_journal(tmp_path, monkeypatch):
    lines = log_everything(tmp_path, monkeypatch, journal_stream=stream_id)
    assert [line[:3] for line in lines[:4]] == ["<3>", "<4>", "<6>", "<7>"]
    assert lines[0].endswith(" ERROR tracker.test: an error")
    traceback = lines[4:]
    assert len(traceback) > 2 and all(line.startswith("<3>") for line in traceback)
    assert traceback[-1] == "<3>ValueError: boom"


@pytest.mark.parametrize("journal_stream", [
    None,  # a terminal, a file, Docker
    lambda path: "1:2",  # started by systemd, then stderr redirected elsewhere
    lambda path: "not-a-stream",
])
def test_no_prefix_when_stderr_is_not_the_journal(tmp_path, monkeypatch, journal_stream):
    lines = log_everything(tmp_path, monkeypatch, journal_stream=journal_stream)
    assert lines[0].split(" ", 1)[1] == "ERROR tracker.test: an error"
    assert not any(line.startswith("<") for line in lines)


def test_json_lines_have_no_prefix_under_the_journal_either(tmp_path, monkeypatch):
    lines = log_everything(tmp_path, monkeypatch, journal_stream=stream_id, json_lines=True)
    assert all(line.startswith("{") for line in lines)


def test_a_daemon_under_the_journal_marks_a_failing_source_as_an_error(tmp_path):
    """`tracker run` with stderr on a file that $JOURNAL_STREAM names, as systemd starts it."""
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply(b"down", 500, "text/plain"))
        config = fast_config(tmp_path, server.url, every="1h")
        path = tmp_path / "journal"
        with open(path, "w", encoding="utf-8") as stderr:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "tracker.cli", "--config", str(config), "run"],
                stdout=subprocess.DEVNULL, stderr=stderr,
                env={**os.environ, "JOURNAL_STREAM": stream_id(path)})
            try:
                assert wait_for(lambda: "yahoo: FAILED" in path.read_text(), 60), path.read_text()
                time.sleep(0.2)  # the line's end
            finally:
                daemon.terminate()
                daemon.wait(timeout=40)
    lines = path.read_text(encoding="utf-8").splitlines()
    errors = [line for line in lines if line.startswith("<3>")]
    assert errors and all("ERROR" in line for line in errors)
    assert any("yahoo: FAILED" in line for line in errors)
    assert any(line.startswith("<6>") and "tracker daemon leading" in line for line in lines)
    assert all(line[:3] in ("<3>", "<4>", "<6>") for line in lines), lines
