"""The SQLite leader lock as a file: where it is and who holds it.

The daemon (jobs/leader.py) holds an exclusive ``flock`` on ``<database>.lock`` for as long
as it polls, with its pid and host written in the file. ``tracker health`` asks here
whether some daemon holds it; so does the lean path (tracker/quick/), hence the standard
library only.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple


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
