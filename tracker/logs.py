"""Logging for the daemon: plain lines for people, or JSON lines for log collectors.

Plain (the default), one line per record, times in UTC::

    2026-03-02T14:05:09+0000 INFO tracker.daemon: scheduled poll-markets every 0:05:00

JSON (``json_lines=True``), one object per line::

    {"time": "2026-03-02T14:05:09.123Z", "level": "INFO", "logger": "tracker.daemon",
     "message": "scheduled poll-markets every 0:05:00"}

plus ``exc`` (the formatted traceback) when the record carries exception info, and any
fields passed as ``log.info("...", extra={"fields": {"source": "fred", "points": 12}})``,
merged into the object. The four standard keys (and ``exc``) always win over an extra
field of the same name. Plain lines leave the extra fields out.

Messages quote untrusted text (a source's error, a market's title): a plain line shows
its control characters as escapes (tracker/textsafe.py), and a JSON line escapes DEL and
the C1 controls too, which JSON itself leaves raw.

Under systemd, whose journal reads stderr (``$JOURNAL_STREAM`` names that stream), each
plain line starts with its priority as sd-daemon(3) defines it: ``<3>`` error, ``<4>``
warning, ``<6>`` info, ``<7>`` debug (``<2>`` critical), so ``journalctl -p err`` shows the
errors alone. The journal strips the prefix. JSON lines carry their level already.

Everything goes to stderr (stdout is for command output such as ``--json``). Calling
``configure_logging`` again replaces tracker's handler instead of adding a second one.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from tracker.textsafe import visible

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PLAIN_DATEFMT = "%Y-%m-%dT%H:%M:%S%z"

# Libraries that are too talkative at INFO: APScheduler logs every job start and end,
# httpx every request, Alembic each of its plugins whenever the database is opened (its
# migration lines, "Running upgrade ...", stay). Their warnings and errors still come through.
QUIET_LOGGERS = ("apscheduler", "httpx", "alembic.runtime.plugins")

_STANDARD_KEYS = ("time", "level", "logger", "message", "exc")
# JSON escapes only C0 controls; with ensure_ascii=False, DEL and C1 (0x9b: CSI) stay raw.
_C1_ESCAPES = str.maketrans({code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)})


class PlainFormatter(logging.Formatter):
    """The daemon's historical line format, with the time always in UTC."""

    converter = time.gmtime  # %z then renders as +0000

    def __init__(self) -> None:
        super().__init__(fmt=PLAIN_FORMAT, datefmt=PLAIN_DATEFMT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return visible(super().formatMessage(record))  # one line, no terminal control

    def formatException(self, ei) -> str:
        lines = super().formatException(ei).splitlines()
        return "\n".join(visible(line) for line in lines)  # the message in it is untrusted


class JournalFormatter(PlainFormatter):
    """Plain lines, each prefixed with the record's syslog priority for the journal; a
    traceback's lines too, since the journal takes each line as an entry of its own."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{journal_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).split("\n"))


def journal_priority(level: int) -> int:
    for at_least, priority in ((logging.CRITICAL, 2), (logging.ERROR, 3),
                               (logging.WARNING, 4), (logging.INFO, 6)):
        if level >= at_least:
            return priority
    return 7


def stderr_is_journal() -> bool:
    """Whether stderr is the stream systemd connected to the journal: ``$JOURNAL_STREAM``
    is its ``device:inode``, the documented test (a command's stderr redirected elsewhere
    by hand inherits the variable but not the stream)."""
    try:
        device, inode = (int(part) for part in os.environ.get("JOURNAL_STREAM", "").split(":"))
        info = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):  # unset, malformed, no real stderr
        return False
    return (info.st_dev, info.st_ino) == (device, inode)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message[, exc][, extra fields]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({str(key): value for key, value in fields.items()})
        created = datetime.fromtimestamp(record.created, UTC)
        entry["time"] = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z"
        entry["level"] = record.levelname
        entry["logger"] = record.name
        entry["message"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        else:
            entry.pop("exc", None)  # an extra field may not pose as a traceback
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Standard keys first, in a fixed order, so lines read the same way every time.
        ordered = {key: entry.pop(key) for key in _STANDARD_KEYS if key in entry}
        ordered.update(entry)
        # default=str: a datetime, Path or Decimal in the fields must not lose the line.
        return json.dumps(ordered, ensure_ascii=False, default=str).translate(_C1_ESCAPES)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the moment of each record (as the logging
    module's own last-resort handler does), so a replaced or captured stderr is followed
    and a closed one is never held on to."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass  # always sys.stderr


def configure_logging(json_lines: bool = False, level: int | str = logging.INFO) -> logging.Handler:
    """Send log records at ``level`` and above to stderr, as plain lines (with the
    journal's priorities when stderr is the journal) or JSON lines.

    Idempotent: a second call replaces the handler a first call installed (so it can also
    switch formats), and never adds another. Handlers installed by others (pytest's
    capture, for one) are left alone. Returns the installed handler.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StderrHandler):
            root.removeHandler(handler)
    handler = _StderrHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(JournalFormatter() if stderr_is_journal() else PlainFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
