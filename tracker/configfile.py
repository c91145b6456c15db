"""Which config file applies: ``--config PATH``, then ``$TRACKER_CONFIG``, then
``./config.toml``. Kept apart from the validation in tracker.config (pydantic), so the
quick ``tracker status --json`` path can ask without importing it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEFAULT_CONFIG_NAME = "config.toml"
CONFIG_ENV = "TRACKER_CONFIG"
DATABASE_URL_ENV = "TRACKER_DATABASE_URL"


def find_config(explicit: str | os.PathLike | None) -> tuple[Path | None, bool]:
    """Return (path, required). An explicit or $TRACKER_CONFIG path must exist."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env), True
    default = Path(DEFAULT_CONFIG_NAME)
    return (default if default.exists() else None), False


# Config and registry files are a few kilobytes: a cap keeps a mistaken path (/dev/zero,
# a log file) from being read until memory runs out.
MAX_FILE_BYTES = 5 * 1024 * 1024


class UnreadableFile(OSError):
    """The file is not one to read as config or registry (an OSError, so that callers who
    only need "could not read" catch it with the rest); the message says why."""


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. Raises UnreadableFile when
    it is not a regular file or is too large, another OSError when it cannot be read."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFile("not a regular file")
        data = file.read(limit + 1)  # one byte more tells "too large" from "just fits"
    if len(data) > limit:
        raise UnreadableFile(f"larger than {limit // (1024 * 1024)} MB")
    return data
