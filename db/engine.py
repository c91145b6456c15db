"""Engine creation for SQLite and PostgreSQL, the schema check on open, and migration.

SQLite gets WAL (readers never block the writer), busy_timeout (writers wait instead of
failing with 'database is locked'), synchronous=NORMAL (safe in WAL, much faster) and
foreign keys, on every connection; a new file is created in WAL mode already, so that
processes opening it together never race to switch it. Its connections open the file with
``mode=rw``: once a database is open, a deleted file is an error, never a new empty one
written in its place.

Who may change the schema (``open_database``'s ``access``): only the daemon and
``tracker migrate`` upgrade it (``UPGRADE``), so a standby of another version can never
migrate under a running leader. Other writers (``WRITE``: poll, backfill, resolve) create
a brand-new database at the newest revision, where there is nothing to upgrade, but
refuse an older schema; read commands (``READ``) never create or change anything. A
schema newer than this code is refused by all three.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from db.revision import MIGRATIONS, head_revision, known_revisions
from tracker.redact import redact

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A PostgreSQL advisory lock key held while migrating ("trkm"; the leader's is "trkr").
MIGRATION_LOCK_KEY = 0x7472_6B6D


UPGRADE, WRITE, READ = "upgrade", "write", "read"


class DatabaseError(Exception):
    """The database cannot be opened, migrated or written; the message is for the user.
    ``logged``: the daemon has logged it already, so the CLI need not say it again."""

    logged = False


class SchemaError(DatabaseError):
    """No database yet, or a schema this command may not use as it is: something for
    the user to do (create it, run `tracker migrate`, upgrade tracker), not a failure."""


class DatabaseVanished(DatabaseError):
    """The SQLite file was deleted or replaced while it was open."""


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


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    url_obj = make_url(normalise_url(url))
    if url_obj.get_backend_name() != "sqlite" or url_obj.database in (None, "", ":memory:"):
        return None
    return Path(url_obj.database).absolute()


def make_engine(url: str) -> Engine:
    """Create an engine; for a SQLite file, create its folder and the file first."""
    url_obj = make_url(normalise_url(url))
    path = sqlite_file(url)
    if path is not None:
        _create_private(path)  # creates the file if it is missing, and only here
        uri = f"{path.as_uri()}?mode=rw"  # later connections never create it again
        engine = create_engine(url_obj, creator=lambda: sqlite3.connect(
            uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False))
    elif url_obj.get_backend_name() == "sqlite":
        engine = create_engine(url_obj, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    else:
        return create_engine(url_obj, pool_pre_ping=True)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _create_private(path: Path) -> None:
    """Create a new SQLite database readable by its owner only (SQLite gives its -wal and
    -shm files the same mode), already in WAL mode; an existing file is left as it is.

    The file appears under its name only once it is a WAL database: it is written under a
    temporary name and linked into place. SQLite switches a file to WAL with a write that
    does not wait out the busy timeout, so processes opening a new empty file together
    (the daemon, a standby, readers) would race to switch it, and all but one could fail
    with 'database is locked'. Opening a file that is WAL already changes nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".new")  # mode 0600
    except OSError as exc:  # say which file could not be created, not the temporary's name
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()  # the last connection removes the -wal and -shm files
        try:
            os.link(temporary, path)  # never replaces a file another process made first
        except FileExistsError:
            pass
        except OSError:  # a filesystem without hard links: an empty file, switched on open
            _create_empty(path)
    finally:
        os.unlink(temporary)


def _create_empty(path: Path) -> None:
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


def open_database(url: str, access: str = UPGRADE) -> Engine:
    """Create the engine and check (or bring) its schema as ``access`` allows, turning
    driver errors into one readable line."""
    try:
        path = sqlite_file(url)
        if access == READ and path is not None and not path.exists():
            raise missing_database(path)
        engine = make_engine(url)
        _prepare_schema(engine, access, redacted_url(url))
    except (DBAPIError, ArgumentError, ValueError, sqlite3.Error, OSError) as exc:
        # ValueError: a URL SQLAlchemy cannot parse (a port that is not a number); OSError:
        # a SQLite file that cannot be created.
        raise storage_error(exc, url) from None
    return engine


# What a person runs to get a database, as a read command's message lists them.
CREATE_COMMANDS = ["`tracker poll` (one poll now)", "`tracker run` (the daemon)"]


def _create_with() -> str:
    *others, final = CREATE_COMMANDS
    return f"create it with {', '.join(others)} or {final}" if others else f"create it with {final}"


def missing_database(path: Path) -> SchemaError:
    """What a read command says when the SQLite file is not there: it never creates one."""
    return SchemaError(f"no database at {path} yet: {_create_with()}; to look around "
                       "first, `tracker demo` builds a sample year to read")


def _prepare_schema(engine: Engine, access: str, where: str) -> None:
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is not None and current not in known_revisions():
        raise SchemaError(f"the database {where} has schema revision {current}, newer than "
                          f"this tracker knows (up to {head}): upgrade tracker")
    if access == UPGRADE or (access == WRITE and current is None):
        migrate(engine)  # a brand-new database has no data, and no leader to race
    elif current is None:
        raise SchemaError(f"the database {where} has no tracker schema yet: {_create_with()}")
    else:
        raise SchemaError(f"the database {where} has schema revision {current}, older than "
                          f"this tracker's {head}: run `tracker migrate` (the daemon, "
                          "`tracker run`, migrates it too)")


def upgrade_database(url: str) -> tuple[str | None, str]:
    """`tracker migrate`: bring the schema to the newest revision; (before, after)."""
    try:
        engine = make_engine(url)
        before = current_revision(engine)
        _prepare_schema(engine, UPGRADE, redacted_url(url))
        engine.dispose()
    except (DBAPIError, ArgumentError, ValueError, sqlite3.Error, OSError) as exc:
        # ValueError: a URL SQLAlchemy cannot parse (a port that is not a number); OSError:
        # a SQLite file that cannot be created.
        raise storage_error(exc, url) from None
    return before, head_revision()


def storage_error(exc: Exception, url: str) -> DatabaseError:
    """A driver's error as one line naming the database, with what to do about it."""
    reason = redact(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
    where = redacted_url(url)
    if "readonly" in reason or "read-only" in reason or isinstance(exc, PermissionError):
        return DatabaseError(f"cannot write to the database {where}: {reason} "
                             "(check the permissions of the file and its folder)")
    if "disk is full" in reason or "No space left" in reason:
        return DatabaseError(f"cannot write to the database {where}: {reason} (free some space)")
    if "not a database" in reason or "malformed" in reason:
        return DatabaseError(f"the database {where} is damaged or not a tracker database: "
                             f"{reason} (restore it from a backup, or point tracker elsewhere)")
    return DatabaseError(f"cannot open database {where}: {reason}")


def file_identity(engine: Engine) -> tuple[int, int] | None:
    """(device, inode) of a SQLite engine's file; None for PostgreSQL or in memory."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        return None
    info = os.stat(path)
    return info.st_dev, info.st_ino


def check_same_file(engine: Engine, identity: tuple[int, int] | None) -> None:
    """Raise DatabaseVanished unless the engine's file is still the one first opened:
    writing on would go to a deleted file, or to another, and be lost."""
    if identity is None:
        return
    try:
        now = file_identity(engine)
    except FileNotFoundError:
        now = None
    if now != identity:
        how = "deleted" if now is None else "replaced by another file"
        raise DatabaseVanished(
            f"the database file {engine.url.database} was {how} while tracker had it open: "
            "stopping so that nothing more is written where it would be lost")


def redacted_url(url: str) -> str:
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"
