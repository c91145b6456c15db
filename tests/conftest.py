"""Shared fixtures: temporary SQLite databases, and real PostgreSQL when one is reachable.

PostgreSQL tests read $TRACKER_TEST_POSTGRES_URL (default: the CI server at
127.0.0.1:5432, database test, user postgres) and skip with the reason when it cannot be
reached (fail instead when $TRACKER_REQUIRE_POSTGRES is set, as CI does). Each test gets
a database of its own, dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.engine import open_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The tests start hundreds of tracker processes. Where the environment forbids compiled
# bytecode, each of them would compile the project from source again: for this run they
# keep it in a private folder outside the tree (the workers inherit the setting).
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    _pycache = tempfile.mkdtemp(prefix="tracker-tests-pycache-")
    os.environ["PYTHONPYCACHEPREFIX"] = _pycache
    atexit.register(shutil.rmtree, _pycache, ignore_errors=True)

pytest_plugins = ["tests.fault_record"]  # the fault_result fixture and the run's record


@pytest.fixture(autouse=True)
def _cache_home(tmp_path_factory, monkeypatch):
    """A home of the test's own, never the real one: every read command leaves a cache
    for its lean path (tracker/quick/) there, a config in the user's config folder would
    be read, and the default database lives in the user's data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)  # set when run under systemd


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture
def engine(sqlite_url):
    engine = open_database(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url():
    admin_url = os.environ.get("TRACKER_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 -- any failure to connect means: no server here
        if os.environ.get("TRACKER_REQUIRE_POSTGRES"):
            pytest.fail(f"TRACKER_REQUIRE_POSTGRES is set but {admin_url} is unreachable: {exc}")
        pytest.skip(f"no PostgreSQL at {admin_url} ({type(exc).__name__}); set TRACKER_TEST_POSTGRES_URL")
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request, sqlite_url):
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = open_database(url)
    yield engine
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``long`` go first. The workers share the suite out in order and
    take over each other's remaining tests when idle, but no one can take over a test in
    progress: one that starts last makes everyone wait for it."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # a stable sort


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker more than the machine has cores. Many tests spend much of
    their time waiting on a daemon, a child process or a browser; the extra worker
    keeps the cores busy meanwhile (docs/performance.md, the test suite)."""
    return (os.cpu_count() or 1) + 1
