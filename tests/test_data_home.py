"""One data home: whichever folder tracker runs from, it reads the same config and the same
database, says which files those are, and a read command never creates a database.

Every test runs in a home of its own (conftest: HOME and the XDG folders), like a user on
a fresh machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.forked_cli import run_tracker
from tracker.quick import lean_answer

READ_COMMANDS = [["status"], ["status", "--json"], ["show", "chamath-oil-45-before-65"],
                 ["series"], ["health"], ["scoreboard"], ["digest", "--text"],
                 ["digest", "--preview", "digest.html"]]


@pytest.fixture
def home(tmp_path, monkeypatch) -> dict[str, Path]:
    """The test's home (conftest), a folder to work in, and where tracker's files go."""
    for name in ("TRACKER_CONFIG", "TRACKER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    return {"work": work,
            "config": Path(os.environ["XDG_CONFIG_HOME"]) / "tracker",
            "data": Path(os.environ["XDG_DATA_HOME"]) / "tracker"}


def tracker(*args, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """`tracker ARGS` as the installed command runs it: the lean path first."""
    return run_tracker(list(args), cwd=cwd, main="tracker.entry", **kwargs)


def unwrapped(text: str) -> list[str]:
    """Lines with their continuations (indented under the values) joined on."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(" " * 10) and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_before_any_database_says_where_and_what_to_run(home, command):
    done = tracker(*command, cwd=home["work"])
    database = home["data"] / "tracker.db"
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (f"tracker: no database at {database} yet: create it with "
                           "`tracker poll` (one poll now) or `tracker run` (the daemon); to "
                           "look around first, `tracker demo` builds a sample year to read\n")
    assert not home["data"].exists()  # nothing created, not even the folder
    assert tree(home["work"]) == []  # and no ./data in the working folder


def test_a_write_command_creates_it_and_every_folder_then_sees_the_same(home, tmp_path):
    done = tracker("migrate", cwd=home["work"])
    assert done.returncode == 0, done.stderr
    assert (home["data"] / "tracker.db").is_file()
    assert tree(home["work"]) == []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = tracker("status", "--json", cwd=home["work"])
    second = tracker("status", "--json", cwd=elsewhere)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout and '"id": "chamath-oil-45-before-65"' in first.stdout


def test_a_read_answered_from_the_cache_never_recreates_a_deleted_database(home):
    assert tracker("migrate", cwd=home["work"]).returncode == 0
    assert tracker("status", cwd=home["work"]).returncode == 0  # leaves the lean path's cache
    (home["data"] / "tracker.db").unlink()
    done = tracker("status", cwd=home["work"])
    assert done.returncode == 2 and "no database at" in done.stderr
    assert tree(home["data"]) == []


def test_the_config_in_the_user_folder_is_read_from_anywhere(home):
    home["config"].mkdir(parents=True)
    (home["config"] / "config.toml").write_text(
        '[database]\nurl = "sqlite:///db/mine.db"\n\n[registry]\nbundled = false\n'
        'files = ["mine.toml"]\n')
    (home["config"] / "mine.toml").write_text(
        '[[prediction]]\nid = "mine"\nwho = "Me"\nmade_on = 2026-01-02\nclaim = "Gold above 1"\n'
        'kind = "threshold"\nseries = "yahoo:GC=F"\ndirection = "above"\ntarget = 1\n')
    done = tracker("check", cwd=home["work"])
    assert done.returncode == 0, done.stderr
    assert unwrapped(done.stdout) == [
        "ok: 1 predictions reading 1 series",
        f"config:   {home['config'] / 'config.toml'}",
        (f"registry: {home['config'] / 'mine.toml'}, "
         f"{home['config'] / 'predictions.toml'} (none yet)"),
        # A relative SQLite path is read from the config file's folder.
        f"database: {home['config'] / 'db' / 'mine.db'} ([database] url)"]
    assert tracker("migrate", cwd=home["work"]).returncode == 0
    assert (home["config"] / "db" / "mine.db").is_file()


def test_check_says_which_files_are_in_use_without_a_config(home):
    done = tracker("check", cwd=home["work"])
    assert done.returncode == 0, done.stderr
    indent = " " * 10
    assert done.stdout.splitlines()[1:] == [
        "config:   none, the defaults apply; looked for:",
        f"{indent}{home['work'] / 'config.toml'}",
        f"{indent}{home['config'] / 'config.toml'}",
        # The test's home is deep: the two files do not fit on one line of 80 columns.
        "registry: bundled all_in_2026.toml,",
        f"{indent}{home['config'] / 'predictions.toml'} (none yet)",
        f"database: {home['data'] / 'tracker.db'} (the default)",
    ]


def test_check_puts_files_on_one_line_where_they_fit():
    # A folder with a short name: the user's own registry file goes beside the config.
    folder = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    try:
        (folder / "config.toml").write_text('[database]\nurl = "sqlite:///t.db"\n')
        done = tracker("--config", "config.toml", "check", cwd=folder)
    finally:
        shutil.rmtree(folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        f"config:   {folder / 'config.toml'}",
        f"registry: bundled all_in_2026.toml, {folder / 'predictions.toml'} (none yet)",
        f"database: {folder / 't.db'} ([database] url)"]


def test_check_names_the_variable_that_chose_the_database(home):
    url = "postgresql+psycopg://tracker:secret@db.example.com/tracker"
    done = tracker("check", cwd=home["work"], env=os.environ | {"TRACKER_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    assert ("database: postgresql+psycopg://tracker:***@db.example.com/tracker "
            "($TRACKER_DATABASE_URL)\n") in done.stdout
    assert "secret" not in done.stdout


def test_the_lean_check_follows_the_data_folder(home, monkeypatch, tmp_path):
    """The cached answer of `check` names the database: another data folder is another
    answer, never the cached one."""
    monkeypatch.chdir(home["work"])
    full = tracker("check", cwd=home["work"])
    assert lean_answer(["check"]) == (full.stdout, "", 0)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "other"))
    assert lean_answer(["check"]) is None
    moved = tracker("check", cwd=home["work"])
    assert f"database: {tmp_path / 'other' / 'tracker' / 'tracker.db'} (the default)" in moved.stdout
    assert lean_answer(["check"]) == (moved.stdout, "", 0)


def test_under_systemd_the_database_is_in_the_state_directory(home, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    env = os.environ | {"STATE_DIRECTORY": str(state)}
    assert tracker("migrate", cwd=home["work"], env=env).returncode == 0
    assert tree(state) == ["tracker.db"]
    assert not home["data"].exists()
    done = tracker("status", "--json", cwd=home["work"], env=env)
    assert done.returncode == 0, done.stderr


def test_a_database_where_earlier_versions_kept_it_is_never_replaced(home):
    """Earlier versions kept the default database in ./data: tracker does not start a new,
    empty one elsewhere as if the data had gone, and says how to keep them."""
    (home["work"] / "data").mkdir()
    earlier = home["work"] / "data" / "tracker.db"
    assert tracker("migrate", cwd=home["work"],
                   env=os.environ | {"TRACKER_DATABASE_URL": f"sqlite:///{earlier}"}).returncode == 0
    for command in (["status"], ["poll"], ["migrate"]):
        done = tracker(*command, cwd=home["work"])
        assert done.returncode == 2, command
        assert done.stderr == (
            f"tracker: no database at {home['data'] / 'tracker.db'}, but one at {earlier}, "
            "where earlier versions of tracker kept it: move it there (with tracker stopped), "
            f'or set [database] url = "sqlite:///{earlier}" in the config\n')
    assert not home["data"].exists()


def test_help_says_where_config_and_data_are_looked_for(home):
    done = tracker("--help", cwd=home["work"])
    assert done.returncode == 0
    assert done.stdout.endswith(
        "Config: --config PATH, else $TRACKER_CONFIG, else ./config.toml if present,\n"
        f"  else {home['config'] / 'config.toml'}\n"
        f"Database: {home['data'] / 'tracker.db'}\n"
        "  unless $TRACKER_DATABASE_URL or the config's [database] url names another.\n"
        "`tracker check` shows the files in use.\n")


def test_python_dash_m_tracker_is_the_tracker_command(home):
    """`python -m tracker` goes through the command's entry point, the lean path included:
    a read answered from the cache imports no click."""
    assert tracker("migrate", cwd=home["work"]).returncode == 0
    assert tracker("status", "--json", cwd=home["work"]).returncode == 0  # leaves the cache
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "tracker", "status", "--json"],
                          capture_output=True, text=True, cwd=home["work"], check=False)
    assert done.returncode == 0, done.stderr
    assert '"id": "chamath-oil-45-before-65"' in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "tracker.quick.answers" in imported and "click" not in imported
    version = subprocess.run([sys.executable, "-m", "tracker", "--version"], capture_output=True,
                             text=True, cwd=home["work"], check=False)
    assert (version.returncode, version.stdout) == (0, "tracker, version 0.1.0\n")
