"""``tracker status --json`` and ``tracker series --json`` without the heavy stack, for
scripts and shell prompts that call them often.

The full CLI imports pydantic (config and registry validation) and SQLAlchemy before it
prints a row, which costs many times the query (docs/performance.md, read commands). Yet what these two commands need from the config and
the registry is small: the registry's fields for each prediction (status), the poll
interval of each source group (series). So each full run leaves a cache of that
(``remember_status``, ``remember_series``), keyed by everything that could change it:
the working folder, the config file, ``$TRACKER_DATABASE_URL``, a hash of the content of
each file read (an edit that keeps a file's size and time is still seen), the tracker
version and the cache's own format. The cache is the user's own: written 0600 in a 0700
folder, and a cache file another user owns or could have written is never read. The quick
path (``quick_answer``) answers only when that cache is current and the database is
SQLite at the expected schema revision. It then runs the full CLI's reads (db/reads.py:
the same SQL and the same row builders) through the standard library's sqlite3, and
builds the same rows (tracker/views). In every other case it returns None and the full
CLI runs, with its validation and its error messages. Only the standard library is
imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from db import reads
from db.revision import head_revision
from tracker import __version__
from tracker.configfile import DATABASE_URL_ENV, find_config, read_limited
from tracker.freshness import RECENT, stale_series
from tracker.jsonout import dumps
from tracker.sources import SOURCES, group_of
from tracker.views.series import series_rows
from tracker.views.status import status_rows, summaries

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.registry import Registry

CACHE_ENV = "XDG_CACHE_HOME"
CACHE_FORMAT = 3  # bumped when what is cached changes shape: an older cache is not read
COMMANDS = ("status", "series")


def quick_answer(argv: list[str]) -> str | None:
    """What ``[--config PATH] status|series --json`` prints, or None when it is not
    answered here (any other command line, no current cache, not SQLite at head)."""
    parsed = _command_line(argv)
    if parsed is None:
        return None
    command, explicit = parsed
    try:
        config_path, _required = find_config(explicit)
        entry = json.loads(_read_own(_cache_file(command, config_path)))
        if entry["key"] != _key(config_path):
            return None
        if any(_digest(Path(name)) != digest for name, digest in entry["files"]):
            return None
        connection = _open(Path(entry["database"]))
        if connection is None:
            return None
        try:
            rows = (_status(connection, entry) if command == "status"
                    else _series(connection, entry))
        finally:
            connection.close()
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
        return None
    return dumps(rows)


def remember_status(settings: Settings, registry: Registry) -> None:
    """Cache what a quick ``status --json`` needs: the registry's fields, in order."""
    from tracker.registry.loader import registry_files

    _remember("status", settings, registry_files(settings),
              {"predictions": summaries(registry)})


def remember_series(settings: Settings) -> None:
    """Cache what a quick ``series --json`` needs: each source group's poll interval."""
    intervals = {group: settings.schedule.interval(group).total_seconds()
                 for group in {group_of(source) for source in SOURCES}}
    _remember("series", settings, [], {"intervals": intervals})


def _remember(command: str, settings: Settings, files: list[Path], content: dict) -> None:
    """Best effort: a cache that cannot be written costs speed, nothing else."""
    from sqlalchemy.engine import make_url

    from db.engine import normalise_url

    url = make_url(normalise_url(settings.database.url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.query:
        return
    files = ([settings.path] if settings.path else []) + files
    try:
        entry = {
            "key": _key(settings.path),
            "files": [[str(path), _digest(path)] for path in files],
            "database": str(Path(url.database).resolve()),
        } | content
        _write_own(_cache_file(command, settings.path), json.dumps(entry))
    except OSError:
        pass


def _write_own(target: Path, text: str) -> None:
    """Write the cache file 0600 in a 0700 folder, atomically."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if target.parent.stat().st_uid == os.geteuid():
        target.parent.chmod(0o700)  # a folder made before this rule
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.unlink(missing_ok=True)
    # O_EXCL: never write through a file or link someone else left at this name.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, target)  # readers see the old cache or the new, never half


def _read_own(path: Path) -> str:
    """The cache file's text, if this user owns it and no one else may write it; a file
    planted in a shared cache folder would otherwise answer for the registry."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8") as file:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & 0o777 != 0o600:
            raise OSError("not this user's own cache file")
        return file.read()


def _command_line(argv: list[str]) -> tuple[str, str | None] | None:
    """(command, --config value or None) of a ``[--config PATH] status|series --json``
    command line; None for any other."""
    explicit = None
    if argv[:1] == ["--config"] and len(argv) >= 2:
        explicit, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--config="):
        explicit, argv = argv[0].split("=", 1)[1], argv[1:]
    if len(argv) != 2 or argv[0] not in COMMANDS or argv[1] != "--json" or explicit == "":
        return None
    return argv[0], explicit


def _key(config_path: Path | None) -> dict:
    """What decides which registry and database a command sees, besides file contents."""
    return {
        "version": __version__,
        "format": CACHE_FORMAT,
        "cwd": os.getcwd(),
        "config": str(config_path) if config_path else None,
        # Hashed: the URL may hold a password, which has no place in a cache file.
        "database_env": _hash(os.environ.get(DATABASE_URL_ENV, "").encode()),
    }


def _digest(path: Path) -> str:
    """A hash of the file's content (capped like the config reader's)."""
    return _hash(read_limited(path))


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cache_file(command: str, config_path: Path | None) -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path("~/.cache").expanduser())
    if not root.is_absolute():  # no home folder (a service user): no cache, not ./~
        raise OSError("no folder for the cache")
    where = f"{os.getcwd()}\0{config_path or ''}".encode()
    return root / "tracker" / f"{command}-{hashlib.sha256(where).hexdigest()[:16]}.json"


def _open(database: Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when the schema is not the revision this code
    expects (the full CLI migrates it)."""
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except BaseException:
        connection.close()
        raise
    if revision != head_revision():
        connection.close()
        return None
    return connection


def _status(connection: sqlite3.Connection, entry: dict) -> list[dict]:
    return status_rows(entry["predictions"], reads.latest_snapshots(connection.execute))


def _series(connection: sqlite3.Connection, entry: dict) -> list[dict]:
    intervals = entry["intervals"]
    overview = reads.series_overview(connection.execute)
    health = reads.source_health(connection.execute)
    newest = reads.newest_points(connection.execute, [row.id for row in overview], RECENT,
                                 per_statement=1)  # see reads.newest_points
    stale = stale_series(newest, datetime.now(UTC), health,
                         lambda source: timedelta(seconds=intervals[group_of(source)]),
                         reads.confirmations(connection.execute))
    return series_rows(overview, health, stale)
