"""The leader lock as others see it: who holds it, if anyone (``leader_present``).

The daemon (jobs/leader.py) takes it. On SQLite it holds an exclusive ``flock`` on
``<database>.lock`` for as long as it polls, with its pid and host written in the file;
on PostgreSQL, a session-level advisory lock on ``ADVISORY_KEY``. ``tracker health`` asks
here whether some daemon holds it; so does the lean path (tracker/quick/), hence only the
standard library at import (SQLAlchemy for PostgreSQL, when asked).
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sqlalchemy import Engine

# An arbitrary constant naming tracker's lock among the server's advisory locks.
ADVISORY_KEY = 0x7472_6B72  # "trkr"


class Holder(NamedTuple):
    """The daemon that leads on a database: who, and since when (None: unknown)."""

    text: str
    since: datetime | None


def lock_path(database_path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(database_path)}.lock")


def lock_holder(database_path: str | os.PathLike) -> Holder | None:
    """The daemon holding the database's lock, or None when none does.

    Probes with a shared, non-blocking lock, released at once: a daemon starting at that
    instant retries (jobs/leader.py). Never creates the lock file: no file, no daemon."""
    path = lock_path(database_path)
    try:
        handle = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            # The daemon writes its pid and host when it takes the lock: the file's time
            # is when it started leading.
            since = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
            return Holder(handle.read(200).strip() or "a daemon", since)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


# The advisory lock as pg_locks shows a bigint key: its high and low 32 bits.
_HOLDER_SQL = """
    SELECT l.pid, a.client_addr, a.backend_start
    FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::bigint = :high AND l.objid::bigint = :low
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def leader_present(engine: Engine) -> Holder | None:
    """The daemon leading on this database, or None when no daemon holds the lock."""
    if engine.dialect.name == "sqlite":
        return lock_holder(engine.url.database or "tracker.db")
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(text(_HOLDER_SQL), {"high": ADVISORY_KEY >> 32,
                                               "low": ADVISORY_KEY & 0xFFFF_FFFF}).first()
    if row is None:
        return None
    pid, address, since = row
    return Holder(f"server session {pid}" + (f" from {address}" if address else ""), since)
