"""tracker.logs: plain lines by default, JSON lines on request, one handler however often
it is configured, everything on stderr."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

import pytest

from tracker.logs import QUIET_LOGGERS, PlainFormatter, configure_logging

PLAIN_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000 (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<msg>.*)$"
)


@pytest.fixture(autouse=True)
def restore_logging():
    """Leave the root logger (and the quiet libraries) as the test found them."""
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


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_json_line_parses_and_has_the_keys(capsys):
    configure_logging(json_lines=True)
    logging.getLogger("tracker.test").info("polled %s: %d points", "fred", 12)
    out, err = capsys.readouterr()
    assert out == ""  # stdout is for command output
    [line] = lines(err)
    entry = json.loads(line)
    assert list(entry)[:4] == ["time", "level", "logger", "message"]
    assert entry["level"] == "INFO"
    assert entry["logger"] == "tracker.test"
    assert entry["message"] == "polled fred: 12 points"
    assert "exc" not in entry
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", entry["time"])
    when = datetime.fromisoformat(entry["time"])  # Python 3.11+ reads the Z
    assert when.utcoffset().total_seconds() == 0


def test_json_line_carries_the_traceback(capsys):
    configure_logging(json_lines=True)
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("tracker.daemon").exception("poll of %s failed", "markets")
    [line] = lines(capsys.readouterr().err)  # the traceback stays inside the one line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["message"] == "poll of markets failed"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in entry["exc"]


def test_json_extra_fields_are_merged_but_cannot_replace_the_standard_keys(capsys):
    configure_logging(json_lines=True)
    logging.getLogger("tracker.poll").warning(
        "source failed",
        extra={"fields": {"source": "kalshi", "when": datetime(2026, 1, 2), "level": "x",
                          "exc": "fake"}},
    )
    entry = json.loads(capsys.readouterr().err)
    assert entry["source"] == "kalshi"
    assert entry["when"] == "2026-01-02 00:00:00"  # not JSON by nature: written as text
    assert entry["level"] == "WARNING"
    assert "exc" not in entry


def test_plain_format_is_the_daemons_line(capsys):
    configure_logging()
    log = logging.getLogger("tracker.daemon")
    log.info("tracker daemon started: %d predictions", 47)
    log.debug("not shown at INFO")
    [line] = lines(capsys.readouterr().err)
    match = PLAIN_LINE.match(line)
    assert match, line
    assert match["level"] == "INFO"
    assert match["logger"] == "tracker.daemon"
    assert match["msg"] == "tracker daemon started: 47 predictions"


def test_plain_format_matches_the_documented_format_string():
    record = logging.LogRecord("tracker.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.created = 0.0
    record.msecs = 0.0
    assert PlainFormatter().format(record) == "1970-01-01T00:00:00+0000 WARNING tracker.x: hello you"


def test_plain_format_appends_the_traceback(capsys):
    configure_logging()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tracker.daemon").exception("poll failed")
    err = capsys.readouterr().err
    assert PLAIN_LINE.match(err.splitlines()[0])
    assert "ValueError: boom" in err


@pytest.mark.parametrize("json_lines", [False, True])
def test_calling_twice_gives_one_line_per_record(capsys, json_lines):
    configure_logging(json_lines=json_lines)
    configure_logging(json_lines=json_lines)
    logging.getLogger("tracker.test").info("once")
    assert len(lines(capsys.readouterr().err)) == 1


def test_reconfiguring_switches_the_format(capsys):
    configure_logging()
    configure_logging(json_lines=True)
    logging.getLogger("tracker.test").info("now JSON")
    [line] = lines(capsys.readouterr().err)
    assert json.loads(line)["message"] == "now JSON"


def test_noisy_libraries_stay_at_warning(capsys):
    configure_logging(level=logging.DEBUG)
    logging.getLogger("apscheduler.scheduler").info("Added job")
    logging.getLogger("httpx").info("HTTP Request: GET ...")
    logging.getLogger("alembic.runtime.plugins").info("setup plugin alembic.autogenerate.types")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0003 -> 0004")
    logging.getLogger("httpx").warning("kept")
    logging.getLogger("tracker.test").debug("our debug line")
    err = capsys.readouterr().err
    assert "Added job" not in err
    assert "HTTP Request" not in err
    assert "setup plugin" not in err
    assert "Running upgrade" in err
    assert "kept" in err
    assert "our debug line" in err
