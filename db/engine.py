"""Engine creation for SQLite and PostgreSQL, and schema migration on open.

SQLite gets WAL (readers never block the writer), busy_timeout (writers wait instead of
failing with 'database is locked'), synchronous=NORMAL (safe in WAL, much faster) and
foreign keys, on every connection.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from db.revision import MIGRATIONS, head_revision
from tracker.redact import redact

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A PostgreSQL advisory lock key held while migrating ("trkm"; the leader's is "trkr").
MIGRATION_LOCK_KEY = 0x7472_6B6D


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message is for the user."""


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// and postgres:// URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; for a SQLite file, create its folder first."""
    url_obj = make_url(normalise_url(url))
    if url_obj.get_backend_name() == "sqlite":
        database = url_obj.database
        if database and database != ":memory:":
            _create_private(Path(database))
        engine = create_engine(
            url_obj, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(url_obj, pool_pre_ping=True)


def _create_private(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (SQLite gives its -wal and
    -shm files the same mode); an existing file is left as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op (one query) when already there."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command

    # Processes opening a new database at once (the daemon, a standby, the CLI) take turns:
    # the first migrates, the others wait for its commit and then find nothing to do.
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so CREATE and
            # ALTER would each commit alone: a process killed mid-migration would leave
            # tables without their alembic_version row, and no later open would work
            # ("table ... already exists"). One explicit transaction makes the upgrade all
            # or nothing; IMMEDIATE takes the write lock first, so the others wait for it.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            # DDL is transactional here, but two upgrades at once collide in the catalog
            # (duplicate key in pg_type): a lock until this transaction ends serialises them.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        command.upgrade(_alembic_config(connection), "head")


def open_database(url: str) -> Engine:
    """Create the engine and migrate, turning driver errors into one readable line."""

    try:
        engine = make_engine(url)
        migrate(engine)
    except (OperationalError, ArgumentError, ValueError) as exc:
        # ValueError: a URL SQLAlchemy cannot parse, such as a port that is not a number.
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        raise DatabaseError(f"cannot open database {redact(url)}: {redact(reason)}") from None
    return engine
