"""``tracker status --json`` without the heavy stack, for scripts and shell prompts that
call it often.

The full CLI imports pydantic (config and registry validation) and SQLAlchemy before it
can print a row: about half a second. Yet the answer is the registry's fields for each
prediction plus its newest snapshot. So the full ``status`` command leaves a cache of
what it read from the registry (``remember``), keyed by everything that could change it:
the working folder, the config file, ``$TRACKER_DATABASE_URL``, the registry files and
the tracker version. The quick path (``quick_status``) answers only when that cache is
current and the database is SQLite at the expected schema revision, reading the
snapshots with the standard library; in every other case it returns None and the full
CLI runs, with its validation and its error messages. Only the standard library is
imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from db.revision import head_revision
from tracker import __version__
from tracker.configfile import DATABASE_URL_ENV, find_config
from tracker.jsonout import dumps
from tracker.status_view import prediction_summary, status_rows

CACHE_ENV = "XDG_CACHE_HOME"
LATEST_SNAPSHOTS = """
    SELECT s.prediction_id, s.status, s.probability, s.value, s.value_at, s.at, s.explanation
    FROM snapshot AS s
    JOIN (SELECT max(id) AS id FROM snapshot GROUP BY prediction_id) AS newest
      ON newest.id = s.id
"""


def quick_status(argv: list[str]) -> str | None:
    """The text ``tracker status --json`` prints, or None when it is not answered here."""
    explicit = _config_argument(argv)
    if explicit is False:
        return None
    try:
        config_path, _required = find_config(explicit)
        entry = json.loads(_cache_file(config_path).read_text(encoding="utf-8"))
        if entry["key"] != _key(config_path):
            return None
        if any(_stat(Path(name)) != stat for name, stat in entry["files"]):
            return None
        snapshots = _latest_snapshots(Path(entry["database"]))
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
        return None
    if snapshots is None:
        return None
    return dumps(status_rows(entry["predictions"], snapshots))


def remember(settings, registry) -> None:
    """Cache what the quick path needs from this (validated) config and registry. Best
    effort: a cache that cannot be written costs speed, nothing else."""
    from sqlalchemy.engine import make_url

    from db.engine import normalise_url
    from tracker.registry.loader import registry_files

    url = make_url(normalise_url(settings.database.url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.query:
        return
    files = ([settings.path] if settings.path else []) + registry_files(settings)
    try:
        target = _cache_file(settings.path)
        entry = {
            "key": _key(settings.path),
            "files": [[str(path), _stat(path)] for path in files],
            "database": str(Path(url.database).resolve()),
            "predictions": [prediction_summary(p) for p in registry],
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(partial, target)  # readers see the old cache or the new, never half
    except OSError:
        pass


def _config_argument(argv: list[str]) -> str | None | bool:
    """The --config value of a ``[--config PATH] status --json`` command line (None when
    not given); False for any other command line."""
    explicit = None
    if argv[:1] == ["--config"] and len(argv) >= 2:
        explicit, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--config="):
        explicit, argv = argv[0].split("=", 1)[1], argv[1:]
    if argv != ["status", "--json"] or explicit == "":
        return False
    return explicit


def _key(config_path: Path | None) -> dict:
    """What decides which registry and database a command sees, besides file contents."""
    return {
        "version": __version__,
        "cwd": os.getcwd(),
        "config": str(config_path) if config_path else None,
        "database_env": os.environ.get(DATABASE_URL_ENV),
    }


def _stat(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_mtime_ns, info.st_size]


def _cache_file(config_path: Path | None) -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path("~/.cache").expanduser())
    if not root.is_absolute():  # no home folder (a service user): no cache, not ./~
        raise OSError("no folder for the cache")
    where = f"{os.getcwd()}\0{config_path or ''}".encode()
    return root / "tracker" / f"status-{hashlib.sha256(where).hexdigest()[:16]}.json"


def _latest_snapshots(database: Path) -> dict[str, SimpleNamespace] | None:
    """The newest snapshot per prediction, or None when the database is not at the schema
    revision this code expects (the full CLI migrates it)."""
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision != head_revision():
            return None
        rows = connection.execute(LATEST_SNAPSHOTS).fetchall()
    finally:
        connection.close()
    return {
        prediction_id: SimpleNamespace(
            status=status, probability=probability, value=value,
            value_at=_utc(value_at), at=_utc(at), explanation=explanation,
        )
        for prediction_id, status, probability, value, value_at, at, explanation in rows
    }


def _utc(text: str | None) -> datetime | None:
    """SQLite holds timestamps as naive UTC text (db/types.py)."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)
