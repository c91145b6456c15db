"""Exactly one daemon polls a database.

SQLite: an exclusive lock on a file beside the database (``tracker.db.lock``). The
operating system releases it when the process dies, however it dies, so a lock can never
be left behind. A second daemon is refused with the holder's pid and host.

PostgreSQL: a session-level advisory lock, held on a connection of its own for the life
of the leader. Other daemons, on this machine or another, wait as hot standbys, trying
again every few seconds; the server releases the lock when the leader's session ends (a
crash, a kill, a lost network), and a standby takes over within one retry.

Who holds the lock, as ``tracker health`` asks without taking it: db/leaderlock.py.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from db.leaderlock import ADVISORY_KEY, lock_path

log = logging.getLogger("tracker.leader")

# `tracker health` probes the SQLite lock for an instant (db/leaderlock.py): a daemon
# starting just then tries again before it concludes another daemon holds it.
PROBE_RETRIES = 5
PROBE_WAIT = 0.05  # seconds between those tries


class AlreadyRunning(Exception):
    """Another daemon holds this SQLite database."""


def _holder_text() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class SQLiteLeader:
    def __init__(self, database_path: str):
        self.path = lock_path(database_path)
        self._file = None

    def acquire(self, stop=None, waiting=None) -> bool:
        """Lead now (True), or raise AlreadyRunning: on one SQLite file nobody stands by."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the daemon's life
        if not _lock_soon(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunning(
                f"another tracker daemon ({holder}) is polling this database; "
                f"lock file {self.path}"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(_holder_text())
        handle.flush()
        self._file = handle
        return True

    def still_leading(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None


def _lock_soon(handle) -> bool:
    """Take the exclusive lock, allowing for a health probe's instant (False: held)."""
    for attempt in range(PROBE_RETRIES):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt < PROBE_RETRIES - 1:
                time.sleep(PROBE_WAIT)
    return False


class PostgresLeader:
    def __init__(self, engine: Engine, retry_seconds: float):
        self.engine = engine
        self.retry_seconds = retry_seconds
        self._conn = None
        self._lock = threading.Lock()  # poll jobs of several groups check at once

    def _try(self) -> bool:
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
            conn.commit()
        except SQLAlchemyError:
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def acquire(self, stop=None, waiting=None) -> bool:
        """Wait until this daemon leads (True), or until ``stop`` is set (False).
        ``waiting()`` is called after each try that found another leader."""
        waiting_logged = False
        while True:
            try:
                if self._try():
                    if waiting_logged:
                        log.warning("the leader is gone: this daemon takes over polling")
                    return True
            except SQLAlchemyError as exc:  # a database hiccup: keep standing by
                log.error("could not reach the database for the leader lock: %s", exc)
            if not waiting_logged:
                log.info(
                    "another tracker daemon leads on this database: standing by, "
                    "checking every %.0f s", self.retry_seconds,
                )
                waiting_logged = True
            if waiting is not None:
                waiting()
            if stop is not None and stop.wait(self.retry_seconds):
                return False
            if stop is None:
                time.sleep(self.retry_seconds)

    def still_leading(self) -> bool:
        """False once the lock's session is gone (then another daemon may lead)."""
        with self._lock:
            if self._conn is None:
                return False
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except SQLAlchemyError:
                log.error("lost the connection that holds the leader lock: stepping down")
                self._close()
                return False

    def release(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                # Ending the session releases the advisory lock: invalidated, not
                # returned to the pool, where its session (and the lock) would live on.
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError as exc:  # already broken: the server drops the lock
                log.debug("closing the leader connection: %s", exc)
            self._conn = None


def leader_for(engine: Engine, retry_seconds: float):
    if engine.dialect.name == "sqlite":
        return SQLiteLeader(engine.url.database or "tracker.db")
    return PostgresLeader(engine, retry_seconds)

