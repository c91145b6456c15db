"""The quick `tracker status --json` and `tracker series --json`: the same output as the
full CLI, and they step aside whenever what they cached could be out of date."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from db import queries
from db.engine import open_database
from tracker.quick import COMMANDS, quick_answer

OIL = "chamath-oil-45-before-65"
FED = "sacks-fed-cuts-75bp-by-june"
MINE = {"id": "mine", "who": "Me", "claim": "Gold above 1", "kind": "threshold"}
MY_REGISTRY = (
    '[[prediction]]\nid = "mine"\nwho = "Me"\nmade_on = 2026-01-02\ndeadline = 2026-12-31\n'
    'claim = "Gold above 1"\nkind = "threshold"\nseries = "yahoo:GC=F"\ndirection = "above"\ntarget = 1\n'
)


def tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed entry point, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "tracker.entry", *args], capture_output=True,
                          text=True, cwd=cwd, env=os.environ.copy(), check=False)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A config in its own folder, a database with snapshots, and a registry file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_CONFIG", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    (tmp_path / "mine.toml").write_text(MY_REGISTRY)
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n\n[registry]\nfiles = ["mine.toml"]\n'
    )
    add_snapshots(database(tmp_path))
    return tmp_path


def database(folder: Path) -> str:
    """The URL of the SQLite database the config in ``folder`` names."""
    return f"sqlite:///{folder / 't.db'}"


def add_snapshots(url: str) -> None:
    """Two snapshots of one prediction, one of another; a third prediction has none."""
    engine = open_database(url)
    at = datetime(2026, 11, 25, 19, 5, 7, 123456, tzinfo=UTC)
    queries.add_snapshots(engine, [
        {"prediction_id": OIL, "at": datetime(2026, 11, 24, tzinfo=UTC), "status": "open",
         "probability": 0.5, "value": 60.0, "value_at": None, "explanation": "older", "model": "m"},
        {"prediction_id": OIL, "at": at, "status": "off_track", "probability": 0.0812345,
         "value": 58.1, "value_at": datetime(2026, 11, 24, tzinfo=UTC), "explanation": "oil at 58.10",
         "model": "m"},
        {"prediction_id": FED, "at": at, "status": "wrong", "probability": None, "value": None,
         "value_at": None, "explanation": "ended", "model": None},
    ])
    engine.dispose()


def full_then_quick(command: str, folder: Path) -> str:
    """Run ``command --json`` through the full CLI (no cache yet), then answer it with the
    quick path from the cache that run left: the same bytes, which are returned."""
    full = tracker(command, "--json", cwd=folder)
    assert full.returncode == 0, full.stderr
    quick = quick_answer([command, "--json"])
    assert quick is not None, "the full run should have left a current cache"
    assert quick + "\n" == full.stdout
    return quick


def test_the_quick_answer_is_the_full_clis_answer(setup):
    quick = full_then_quick("status", setup)
    rows = {row["id"]: row for row in json.loads(quick)}
    assert rows[OIL]["status"] == "off_track" and rows[OIL]["explanation"] == "oil at 58.10"
    assert rows[OIL]["evaluated_at"] == "2026-11-25T19:05:07.123456+00:00"
    assert rows[FED]["probability"] is None
    assert rows["mine"] | MINE == rows["mine"] and rows["mine"]["status"] == "no_data"
    again = tracker("status", "--json", cwd=setup)  # through the entry point, quick this time
    assert (again.returncode, again.stdout, again.stderr) == (0, quick + "\n", "")


HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "click", "rich", "httpx")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_quick_answer_imports_nothing_heavy(setup, command):
    """Its whole point: no SQLAlchemy or pydantic (db/reads.py and db/__init__.py stay
    standard library only)."""
    add_series(database(setup))
    assert tracker(command, "--json", cwd=setup).returncode == 0
    script = ("import sys; from tracker.quick import quick_answer; "
              f"assert quick_answer([{command!r}, '--json']) is not None; "
              f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=setup, env=os.environ.copy(), check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_the_config_option_is_understood(setup):
    config = setup / "config.toml"
    os.rename(config, setup / "elsewhere.toml")
    assert tracker("--config", "elsewhere.toml", "status", "--json", cwd=setup).returncode == 0
    assert quick_answer(["--config", "elsewhere.toml", "status", "--json"]) is not None
    assert quick_answer(["--config=elsewhere.toml", "status", "--json"]) is not None
    assert quick_answer(["status", "--json"]) is None  # no ./config.toml: a different setup


@pytest.mark.parametrize("argv", [["status"], ["status", "--json", "-v"], ["scoreboard", "--json"],
                                  ["--json", "status"], ["--config"], []])
def test_other_command_lines_go_to_the_full_cli(setup, argv):
    assert tracker("status", "--json", cwd=setup).returncode == 0
    assert quick_answer(argv) is None


def test_a_changed_registry_file_is_seen_at_once(setup):
    assert tracker("status", "--json", cwd=setup).returncode == 0
    (setup / "mine.toml").write_text(MY_REGISTRY.replace("Gold above 1", "Gold above 2"))
    assert quick_answer(["status", "--json"]) is None
    shown = tracker("status", "--json", cwd=setup)
    assert any(row["claim"] == "Gold above 2" for row in json.loads(shown.stdout))
    assert json.loads(quick_answer(["status", "--json"])) == json.loads(shown.stdout)


def test_a_broken_registry_still_gets_the_full_clis_error(setup):
    assert tracker("status", "--json", cwd=setup).returncode == 0
    (setup / "mine.toml").write_text(MY_REGISTRY.replace('kind = "threshold"', 'kind = "guess"'))
    shown = tracker("status", "--json", cwd=setup)
    assert shown.returncode == 2 and shown.stdout == ""
    assert "unknown kind 'guess'" in shown.stderr and "Traceback" not in shown.stderr


def test_a_changed_config_or_database_override_is_seen(setup, monkeypatch):
    assert tracker("status", "--json", cwd=setup).returncode == 0
    with open(setup / "config.toml", "a") as config:
        config.write('\n[schedule]\nprices_every = "1h"\n')
    assert quick_answer(["status", "--json"]) is None
    assert tracker("status", "--json", cwd=setup).returncode == 0
    assert quick_answer(["status", "--json"]) is not None
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{setup / 'other.db'}")
    assert quick_answer(["status", "--json"]) is None


def test_a_database_behind_the_code_is_left_to_the_full_cli_to_migrate(setup):
    assert tracker("status", "--json", cwd=setup).returncode == 0
    with sqlite3.connect(setup / "t.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    assert quick_answer(["status", "--json"]) is None


def test_a_missing_database_or_cache_means_the_full_cli(setup, monkeypatch, tmp_path_factory):
    assert tracker("status", "--json", cwd=setup).returncode == 0
    cache = os.environ["XDG_CACHE_HOME"]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("empty")))
    assert quick_answer(["status", "--json"]) is None
    monkeypatch.setenv("XDG_CACHE_HOME", cache)
    assert quick_answer(["status", "--json"]) is not None
    (setup / "t.db").unlink()
    assert quick_answer(["status", "--json"]) is None


def test_postgresql_is_always_the_full_cli(setup, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert tracker("status", "--json", cwd=setup).returncode != 0  # unreachable: no cache
    assert quick_answer(["status", "--json"]) is None


def add_series(url: str, now: datetime | None = None) -> None:
    """A fresh series, a stale one, one with no points; a failing source, a working one,
    and one never polled (its series came from a backfill)."""
    engine = open_database(url)
    now = now or datetime.now(UTC)
    for series_id in ("yahoo:CL=F", "yahoo:OLD", "fred:EMPTY", "kalshi:NEVER-POLLED"):
        source, symbol = series_id.split(":")
        queries.upsert_series(engine, [{"id": series_id, "source": source, "symbol": symbol,
                                        "name": f"{symbol} name", "unit": "USD", "first_seen_at": now,
                                        "state": None, "resolved_value": None, "meta": None}])
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    queries.upsert_observations(engine, [
        *({"series_id": "yahoo:CL=F", "ts": day - timedelta(days=i), "value": 60.0 + i / 3,
           "high": None, "low": None, "fetched_at": now} for i in range(20)),
        *({"series_id": "yahoo:OLD", "ts": day - timedelta(days=30 + i), "value": 1.5,
           "high": 2.0, "low": 1.0, "fetched_at": now - timedelta(days=30)} for i in range(3)),
        *({"series_id": "kalshi:NEVER-POLLED", "ts": now - timedelta(hours=i), "value": 0.25,
           "high": None, "low": None, "fetched_at": now} for i in range(5)),
    ])
    queries.record_source_result(engine, "yahoo", now, None, [], None)
    queries.record_source_result(engine, "fred", now, "HTTP 500 from fred", ["EMPTY"], None)
    engine.dispose()


def test_the_quick_series_is_the_full_series(setup):
    add_series(database(setup))
    quick = full_then_quick("series", setup)
    rows = {row["id"]: row for row in json.loads(quick)}
    assert rows["yahoo:CL=F"]["points"] == 20 and not rows["yahoo:CL=F"]["stale"]
    assert rows["yahoo:OLD"]["stale"] and rows["yahoo:OLD"]["points"] == 3
    assert rows["fred:EMPTY"]["last_at"] is None and rows["fred:EMPTY"]["stale"]
    assert rows["fred:EMPTY"]["source_health"]["last_error"] == "HTTP 500 from fred"
    never = rows["kalshi:NEVER-POLLED"]
    assert never["source_health"] is None and never["last_value"] == 0.25 and not never["stale"]
    again = tracker("series", "--json", cwd=setup)
    assert (again.returncode, again.stdout) == (0, quick + "\n")


def test_the_quick_series_follows_the_poll_intervals_in_the_config(setup):
    add_series(database(setup))
    assert tracker("series", "--json", cwd=setup).returncode == 0
    with open(setup / "config.toml", "a") as config:
        config.write('\n[schedule]\nprices_every = "1h"\n')
    assert quick_answer(["series", "--json"]) is None
    assert tracker("series", "--json", cwd=setup).returncode == 0
    assert quick_answer(["series", "--json"]) is not None


@pytest.mark.postgres
def test_postgresql_prints_what_sqlite_prints(setup, postgres_url, monkeypatch):
    """The same rows in PostgreSQL, whose session speaks another time zone, give the full
    CLI the bytes SQLite gives it and the quick path: the reads build one row shape, with
    UTC timestamps, from either driver."""
    now = datetime.now(UTC)
    add_series(database(setup), now)
    on_sqlite = {command: full_then_quick(command, setup) for command in COMMANDS}
    add_snapshots(postgres_url)
    add_series(postgres_url, now)
    india = make_url(postgres_url).update_query_dict({"options": "-c TimeZone=Asia/Kolkata"})
    monkeypatch.setenv("TRACKER_DATABASE_URL", india.render_as_string(hide_password=False))
    for command in COMMANDS:
        shown = tracker(command, "--json", cwd=setup)
        assert (shown.returncode, shown.stdout) == (0, on_sqlite[command] + "\n"), shown.stderr
        assert quick_answer([command, "--json"]) is None  # PostgreSQL: never the quick path
