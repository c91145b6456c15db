"""Where tracker's files are: which config file applies, and where the database lives by
default. Kept apart from the validation in tracker.config (pydantic), so the lean read
path (tracker/quick/) can ask without importing it: the standard library, and
platformdirs (small, pure Python) only when a default folder is needed.

The config file: ``--config PATH``, then ``$TRACKER_CONFIG``, then ``./config.toml`` if
there is one, then ``config.toml`` in the user's config folder (on Linux
``~/.config/tracker``, following the platform's conventions). The database, unless the
config or ``$TRACKER_DATABASE_URL`` names one: ``tracker.db`` in ``$STATE_DIRECTORY``
(what systemd sets for a unit with ``StateDirectory=``), else in the user's data folder
(on Linux ``~/.local/share/tracker``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

APP_NAME = "tracker"
DEFAULT_CONFIG_NAME = "config.toml"
DATABASE_FILE = "tracker.db"
CONFIG_ENV = "TRACKER_CONFIG"
DATABASE_URL_ENV = "TRACKER_DATABASE_URL"
STATE_DIRECTORY_ENV = "STATE_DIRECTORY"
# Where tracker kept its SQLite file by default before it had a data folder: relative to
# the working folder, so a command run elsewhere saw another (or no) database.
EARLIER_DEFAULT_DATABASE = Path("data") / DATABASE_FILE


def find_config(explicit: str | os.PathLike | None) -> tuple[Path | None, bool]:
    """Return (path, required). An explicit or $TRACKER_CONFIG path must exist; the
    others are read when present, and without either the defaults apply."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env), True
    for candidate in config_candidates():
        if candidate.exists():  # present but unreadable: an error to report, not to skip
            return candidate, False
    return None, False


def config_candidates() -> list[Path]:
    """The config files looked for when neither --config nor $TRACKER_CONFIG names one."""
    return [Path(DEFAULT_CONFIG_NAME), user_config_dir() / DEFAULT_CONFIG_NAME]


def user_config_dir() -> Path:
    """The user's config folder for tracker (it need not exist)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The folder of the default database (it need not exist): the service's state
    directory under systemd, else the user's data folder."""
    state = os.environ.get(STATE_DIRECTORY_ENV, "").split(":")[0]
    if state and Path(state).is_absolute():
        return Path(state)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_path() -> Path:
    """The SQLite file tracker uses when neither the config nor $TRACKER_DATABASE_URL
    names a database."""
    return data_dir() / DATABASE_FILE


def earlier_default_database() -> Path | None:
    """A database left where earlier versions kept it by default (``./data/tracker.db``),
    if there is one here and it is not the default database itself."""
    earlier = EARLIER_DEFAULT_DATABASE.absolute()
    if earlier.is_file() and earlier != default_database_path().absolute():
        return earlier
    return None


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
