"""The lean path's cache: what each read command needs from the config and the registry,
as plain JSON, left by the full CLI's last run of it.

Each entry is keyed by everything that could change it: the working folder, the config
file, ``$TRACKER_DATABASE_URL``, the user's config and data folders, a hash of the content of each file read (an edit that
keeps a file's size and time is still seen), the tracker version and the cache's own
format. The cache is the user's own: written 0600 in a 0700 folder, and a cache file
another user owns or could have written is never read. Only the standard library (and
platformdirs, which names the user's folders) is imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from db.revision import head_revision
from tracker import __version__
from tracker.configfile import (
    DATABASE_URL_ENV,
    default_database_path,
    read_limited,
    user_config_dir,
)

CACHE_ENV = "XDG_CACHE_HOME"
CACHE_FORMAT = 6  # bumped when what is cached changes shape: an older cache is not read


def load(name: str, config_path: Path | None) -> dict | None:
    """The cache entry ``name``, when it is current: None when its key or a file it was
    made from changed. Raises OSError when there is none, or it is not this user's."""
    entry = json.loads(read_own(cache_file(name, config_path)))
    if entry["key"] != key(config_path):
        return None
    if any(digest(Path(file)) != hashed for file, hashed in entry["files"]):
        return None
    return entry


def store(name: str, config_path: Path | None, files: list[Path], content: dict,
          database: Path | None = None) -> None:
    """Keep ``content`` as the entry ``name``, with the hashes of ``files`` and the
    config. Best effort: a cache that cannot be written costs speed, nothing else."""
    files = ([config_path] if config_path else []) + files
    try:
        entry = {
            "key": key(config_path),
            "files": [[str(path), digest(path)] for path in files],
            "database": str(database) if database else None,
        } | content
        write_own(cache_file(name, config_path), json.dumps(entry))
    except OSError:
        pass


def write_own(target: Path, text: str) -> None:
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


def read_own(path: Path) -> str:
    """The cache file's text, if this user owns it and no one else may write it; a file
    planted in a shared cache folder would otherwise answer for the registry."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8") as file:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & 0o777 != 0o600:
            raise OSError("not this user's own cache file")
        return file.read()


def key(config_path: Path | None) -> dict:
    """What decides which registry and database a command sees, besides file contents."""
    return {
        "version": __version__,
        "format": CACHE_FORMAT,
        "cwd": os.getcwd(),
        "config": str(config_path) if config_path else None,
        # Hashed: the URL may hold a password, which has no place in a cache file.
        "database_env": _hash(os.environ.get(DATABASE_URL_ENV, "").encode()),
        # Where a config is looked for and the database kept when none is named.
        "homes": [str(user_config_dir()), str(default_database_path())],
    }


def digest(path: Path) -> str:
    """A hash of the file's content (capped like the config reader's); "absent" for a
    file that does not exist, such as the user's own registry file before it is written,
    so the entry is stale once it appears."""
    try:
        return _hash(read_limited(path))
    except FileNotFoundError:
        return "absent"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_file(name: str, config_path: Path | None) -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path("~/.cache").expanduser())
    if not root.is_absolute():  # no home folder (a service user): no cache, not ./~
        raise OSError("no folder for the cache")
    where = f"{os.getcwd()}\0{config_path or ''}".encode()
    return root / "tracker" / f"{name}-{hashlib.sha256(where).hexdigest()[:16]}.json"


def open_database(database: Path) -> sqlite3.Connection | None:
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
