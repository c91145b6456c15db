"""Storage faults, met as a user meets them: real `tracker` processes against a SQLite file
that is read-only, full, corrupt, written by a newer or an older tracker, or deleted
under the daemon; a digest preview into a missing folder; an SMTP password smtplib cannot
send. Each must end in one line on stderr (no traceback), the documented exit code (1 the
work failed, 2 something for the user to set right) and no stored data lost."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.forked_cli import run_tracker
from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, copy_database, replay_config
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import Daemon, fast_config

SYMBOL, CHART = YAHOO_CHART
READ_COMMANDS = (("status",), ("show", "watch-0"), ("series",), ("scoreboard",), ("health",),
                 ("digest", "--preview", "digest.html"))
WRITE_COMMANDS = (("poll",), ("backfill",), ("resolve", "watch-0", "void"))

# Root ignores file permissions: without the capabilities that let it, it meets them.
AS_A_USER = (["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
             if os.geteuid() == 0 else [])

# Runs the CLI with every SQLite connection limited to a size: SQLite then fails a write
# that would grow the file with SQLITE_FULL, "database or disk is full", as on a full disk.
FULL_DISK = """
import sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

PAGES = int(sys.argv.pop(1))

@event.listens_for(Engine, "connect")
def _no_room(dbapi_connection, _record):
    dbapi_connection.execute(f"PRAGMA max_page_count = {PAGES}")

sys.argv[0] = "tracker"
from tracker.cli import main
main()
"""


def tracker(config: Path, *args: str, prefix=(), start=("-m", "tracker.cli"), env=None):
    """`tracker --config CONFIG ARGS`, as a user runs it (``start``: how Python starts). The
    plain CLI runs in a process of its own forked from one that imported it (forked_cli)."""
    if not prefix and start == ("-m", "tracker.cli"):
        return run_tracker(["--config", str(config), *args], cwd=config.parent,
                           env={**os.environ, **(env or {})}, timeout=120)
    return subprocess.run(
        [*prefix, sys.executable, *start, "--config", str(config), *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=config.parent,
        env={**os.environ, **(env or {})},
    )


def one_line(proc) -> str:
    """The single line a failing command printed on stderr."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracker: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def note(text: str, folder: Path) -> str:
    """What a test records: the line said, without the test's temporary folder."""
    return text.strip().replace(str(folder), "TMP")


def said_one_line(proc, code: int) -> bool:
    lines = proc.stderr.strip().splitlines()
    return (proc.returncode == code and len(lines) == 1 and lines[0].startswith("tracker: ")
            and "Traceback" not in proc.stderr)


def storage_config(folder: Path, url: str) -> Path:
    """A config reading a Yahoo and a FRED series (460 days: more than a page of SQLite)
    from the replay server at ``url``, its database in ``folder``."""
    return replay_config(folder, url, symbols=[SYMBOL], fred_ids=["DFEDTARU"])


@pytest.fixture(scope="module")
def made_once(tmp_path_factory):
    """The replay server, and a database that real `tracker poll` and `tracker resolve`
    made through it: at the newest schema, holding a manual verdict. Made once for the
    module; each test gets a copy (see ``setup``)."""
    folder = tmp_path_factory.mktemp("made-once")
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(CHART))
        server.add("/graph/fredgraph.csv", Reply.file("fred/DFEDTARU_daily_2025-07_2026-10.csv"))
        config = storage_config(folder, server.url)
        env = {"XDG_CACHE_HOME": str(folder / "cache")}  # not the user's: no test's yet
        # Creates it, as it did before; FRED's history is left for a backfill to store.
        assert tracker(config, "poll", "--source", "yahoo", env=env).returncode == 0
        done = tracker(config, "resolve", "watch-0", "right", "--note", "kept", env=env)
        assert done.returncode == 0, done.stderr
        yield server, database(config)


@pytest.fixture
def setup(tmp_path, made_once):
    """A config reading from the replay server, and a copy of the database made once: the
    data that must never be lost, the test's own to break."""
    server, made = made_once
    config = storage_config(tmp_path, server.url)
    copy_database(made, tmp_path)
    yield config


def database(config: Path) -> Path:
    return config.parent / "tracker.db"


def verdicts(config: Path) -> list[tuple]:
    with sqlite3.connect(database(config)) as db:
        return db.execute("SELECT prediction_id, outcome, note FROM resolution").fetchall()


def revision(config: Path) -> str:
    with sqlite3.connect(database(config)) as db:
        return db.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def set_revision(config: Path, value: str) -> None:
    with sqlite3.connect(database(config)) as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (value,))


KEPT = [("watch-0", "right", "kept")]


@pytest.mark.skipif(AS_A_USER and not shutil.which("setpriv"), reason="root without setpriv")
@pytest.mark.parametrize("what", ["file", "folder"])
@pytest.mark.parametrize("command", [("poll",), ("resolve", "watch-0", "wrong")])
def test_a_read_only_database_is_one_line_and_exit_1(setup, fault_result, what, command):
    path = database(setup) if what == "file" else setup.parent
    mode = path.stat().st_mode
    path.chmod(0o444 if what == "file" else 0o555)
    try:
        done = tracker(setup, *command, prefix=AS_A_USER)
    finally:
        path.chmod(mode)
    fault_result("storage", f"read-only database {what}", command[0],
                 survived=said_one_line(done, 1) and verdicts(setup) == KEPT,
                 note=note(done.stderr, setup.parent))
    assert done.returncode == 1, done.stderr
    assert "read" in one_line(done) and "permissions" in done.stderr
    assert verdicts(setup) == KEPT


def test_a_full_disk_during_backfill_is_one_line_and_exit_1(setup, fault_result):
    with sqlite3.connect(database(setup)) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    # No room to grow: the history cannot be stored.
    done = tracker(setup, "backfill", "--since", "2024-01-01",
                   start=("-c", FULL_DISK, str(pages)))
    with sqlite3.connect(database(setup)) as db:
        intact = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fault_result("storage", "disk full (SQLITE_FULL)", "backfill",
                 survived=said_one_line(done, 1) and verdicts(setup) == KEPT and intact,
                 note=note(done.stderr, setup.parent))
    assert done.returncode == 1, done.stderr
    assert "disk is full" in one_line(done)
    assert verdicts(setup) == KEPT and intact


@pytest.mark.parametrize("command", [("status",), ("poll",), ("run",)])
def test_a_corrupt_database_is_one_line_and_left_as_it_was(setup, fault_result, command):
    garbage = os.urandom(8192)
    database(setup).write_bytes(garbage)
    done = tracker(setup, *command)
    untouched = database(setup).read_bytes() == garbage
    fault_result("storage", "corrupt database file (garbage bytes)", command[0],
                 survived=said_one_line(done, 1) and untouched, note=note(done.stderr, setup.parent))
    assert done.returncode == 1, done.stderr
    assert "damaged or not a tracker database" in one_line(done)
    assert untouched


@pytest.mark.parametrize("command", [("status",), ("poll",), ("migrate",), ("run",)])
def test_a_schema_from_a_newer_tracker_says_upgrade_tracker(setup, fault_result, command):
    set_revision(setup, "9999")
    done = tracker(setup, *command)
    kept = revision(setup) == "9999" and verdicts(setup) == KEPT
    fault_result("storage", "schema written by a newer tracker", command[0],
                 survived=said_one_line(done, 2) and kept, note=note(done.stderr, setup.parent))
    assert done.returncode == 2, done.stderr
    assert "upgrade tracker" in one_line(done)
    assert kept


def old_schema(config: Path) -> None:
    """The database as the previous tracker left it: migrated to the revision before the
    newest, with a verdict in it."""
    from alembic import command

    from db.engine import _alembic_config, make_engine
    from db.revision import known_revisions

    database(config).unlink()
    engine = make_engine(f"sqlite:///{database(config)}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), known_revisions()[-2])
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO resolution (prediction_id, outcome, note, resolved_at) "
                             "VALUES ('watch-0', 'right', 'kept', '2026-01-02 00:00:00.000000')")
    engine.dispose()


@pytest.mark.parametrize("command", READ_COMMANDS + WRITE_COMMANDS,
                         ids=lambda c: " ".join(c))
def test_only_migrate_upgrades_an_old_schema(setup, fault_result, command):
    from db.revision import known_revisions

    old_schema(setup)
    before = known_revisions()[-2]
    done = tracker(setup, *command)
    kept = revision(setup) == before and verdicts(setup) == KEPT
    fault_result("storage", "schema of an older tracker", " ".join(command),
                 survived=said_one_line(done, 2) and kept, note=note(done.stderr, setup.parent))
    assert done.returncode == 2, done.stderr
    assert "run `tracker migrate`" in one_line(done)
    assert kept  # not migrated behind a running leader's back


def test_tracker_migrate_says_from_which_revision_and_is_idempotent(setup):
    from db.revision import head_revision, known_revisions

    old_schema(setup)
    first = tracker(setup, "migrate")
    again = tracker(setup, "migrate")
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert first.stdout.strip() == (f"migrated the schema from revision {known_revisions()[-2]} "
                                    f"to {head_revision()}")
    assert again.stdout.strip() == f"the schema is up to date (revision {head_revision()})"
    assert revision(setup) == head_revision() and verdicts(setup) == KEPT


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_a_read_command_never_creates_a_database(tmp_path, fault_result, command):
    config = replay_config(tmp_path, "http://127.0.0.1:9", symbols=[SYMBOL])
    config.write_text(config.read_text().replace(
        f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'data' / 'tracker.db'}"))
    done = tracker(config, *command)
    created = (tmp_path / "data").exists()
    fault_result("storage", "read command on a database not created yet", command[0],
                 survived=said_one_line(done, 2) and not created, note=note(done.stderr, tmp_path))
    assert done.returncode == 2, done.stderr
    assert "create it with `tracker poll`" in one_line(done)
    assert not created


def test_a_preview_into_a_missing_folder_is_one_line_and_exit_2(setup, fault_result):
    done = tracker(setup, "digest", "--preview", str(setup.parent / "no" / "such" / "d.html"))
    fault_result("storage", "digest --preview into a missing folder", "digest",
                 survived=said_one_line(done, 2), note=note(done.stderr, setup.parent))
    assert done.returncode == 2, done.stderr
    assert "no folder" in one_line(done)


def test_a_non_ascii_smtp_password_is_one_line_and_exit_1(setup, fault_result):
    from aiosmtpd.controller import Controller

    from tests.test_digest_send import Authenticator, Recorder, _free_port

    recorder, port = Recorder(), _free_port()
    server = Controller(recorder, hostname="127.0.0.1", port=port,
                        authenticator=Authenticator("digest", "pässwörd"), auth_require_tls=False)
    server.start()
    try:
        with setup.open("a") as config:
            config.write(f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
                         'security = "none"\nusername_env = "TRACKER_TEST_SMTP_USER"\n'
                         'password_env = "TRACKER_TEST_SMTP_PASSWORD"\n')
        done = tracker(setup, "digest", "--send", env={
            "TRACKER_TEST_SMTP_USER": "digest", "TRACKER_TEST_SMTP_PASSWORD": "pässwörd"})
    finally:
        server.stop()
    fault_result("storage", "non-ASCII SMTP password", "digest --send",
                 survived=said_one_line(done, 1) and not recorder.envelopes,
                 note=note(done.stderr, setup.parent))
    assert done.returncode == 1, done.stderr
    assert "ASCII" in one_line(done) and "pässwörd" not in done.stderr
    assert recorder.envelopes == []


def _replace_with_an_empty_database(path: Path) -> None:
    other = path.with_name("other.db")
    sqlite3.connect(other).close()
    os.replace(other, path)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_the_daemon_stops_when_its_database_file_vanishes(tmp_path, fault_result, how):
    path = tmp_path / "tracker.db"
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(CHART))
        daemon = Daemon(fast_config(tmp_path, server.url, every="1s"))
        try:
            assert daemon.saw("yahoo: ok"), daemon.log
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            if how == "deleted":
                path.unlink()
            else:
                _replace_with_an_empty_database(path)
            exited = wait_for(lambda: daemon.proc.poll() is not None, timeout=10)
        finally:
            code = daemon.stop()
    errors = [line for line in daemon.lines if " ERROR " in line]
    if how == "deleted":
        untouched = not path.exists()
    else:
        untouched = path.stat().st_size == 0  # nothing was written into the stranger
    fault_result("storage", f"database file {how} under the daemon", "run",
                 survived=exited and code == 1 and len(errors) == 1 and untouched,
                 note=note((errors or ["(no error logged)"])[0].split(": ", 1)[-1], tmp_path))
    assert exited, daemon.log
    assert code == 1, daemon.log
    assert len(errors) == 1 and how in errors[0], daemon.log
    assert "Traceback" not in daemon.log
    assert untouched
