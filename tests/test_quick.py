"""The lean path of the read commands (tracker/quick/): the same output as the full CLI,
text and JSON, byte for byte; nothing heavy imported; and it steps aside whenever what it
cached could be out of date."""

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
from jobs.leader import SQLiteLeader
from tracker.quick import lean_answer, quick_answer

OIL = "chamath-oil-45-before-65"
FED = "sacks-fed-cuts-75bp-by-june"
MINE = {"id": "mine", "who": "Me", "claim": "Gold above 1", "kind": "threshold"}
MY_REGISTRY = (
    '[[prediction]]\nid = "mine"\nwho = "Me"\nmade_on = 2026-01-02\ndeadline = 2026-12-31\n'
    'claim = "Gold above 1"\nkind = "threshold"\nseries = "yahoo:GC=F"\ndirection = "above"\ntarget = 1\n'
)


JSON_COMMANDS = ("status", "series")  # answered by the lean path before it was lean


def tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed entry point, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "tracker.entry", *args], capture_output=True,
                          text=True, cwd=cwd, env=os.environ.copy(), check=False)


def full_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The full CLI, never the lean path."""
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=os.environ.copy(), check=False)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A config in its own folder, a database with snapshots, and a registry file; a
    daemon leads on it (this process holds its lock), so `health` finds nothing wrong."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_CONFIG", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    (tmp_path / "mine.toml").write_text(MY_REGISTRY)
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n\n[registry]\nfiles = ["mine.toml"]\n'
    )
    add_snapshots(database(tmp_path))
    leader = SQLiteLeader(str(tmp_path / "t.db"))
    leader.acquire()
    yield tmp_path
    leader.release()


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


LEAN = [[*command, *json] for command in (["status"], ["series"], ["health"], ["scoreboard"],
                                          ["show", OIL], ["show", "mine"])
        for json in ([], ["--json"])] + [["check"]] + [
    ["status", "--wide"], ["status", "--who", "ME", "--open"],
    ["status", "--status=off_track,no_data", "--kind", "threshold", "--status", "wrong", "--json"],
    ["status", "--json", "--kind=market", "--wide", "--who=chamath"],
]
LEAN_DIGEST = [["digest"], ["digest", "--preview", "preview.html", "--text"]]


@pytest.mark.parametrize("argv", LEAN + LEAN_DIGEST, ids=" ".join)
def test_a_lean_answer_imports_nothing_heavy(setup, argv):
    """Its whole point: no SQLAlchemy, pydantic or rich (db/reads.py and db/__init__.py
    stay standard library only)."""
    add_series(database(setup))
    keep_made_on_prices(database(setup))
    assert tracker(*argv, cwd=setup).returncode == 0
    script = ("import sys; from tracker.quick import lean_answer; "
              f"assert lean_answer({argv!r}) is not None; "
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


OTHER_COMMAND_LINES = [
    ["status", "--json", "-v"], ["scoreboard", "--json", "x"], ["--json", "status"],
    ["--config"], [], ["check", "--online"], ["check", "--json"], ["status", "--help"],
    ["show"], ["show", "--json"], ["show", "a", "b"], ["poll"],
    ["digest", "--json"], ["digest", "--date", "2026-11-30"], ["digest", "--send"],
    ["digest", "--preview"], ["digest", "--text", "--text"],
    ["status", "--who"], ["status", "--who", "--json"], ["status", "--who", "me", "--who", "sacks"],
    ["status", "--open=yes"], ["status", "--status="], ["status", "--status", "ontrack"],
    ["status", "--kind", "level"], ["status", "--who", "nobody"],
]


def test_other_command_lines_go_to_the_full_cli(setup):
    """With every cache current, each of these is still the full CLI's to answer."""
    keep_made_on_prices(database(setup))
    for command in ("status", "scoreboard", "check", "digest"):
        assert tracker(command, cwd=setup).returncode == 0
    assert lean_answer(["digest"]) is not None  # the caches are there
    answered = [argv for argv in OTHER_COMMAND_LINES if lean_answer(argv) is not None]
    assert answered == []


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
    on_sqlite = {command: full_then_quick(command, setup) for command in JSON_COMMANDS}
    add_snapshots(postgres_url)
    add_series(postgres_url, now)
    india = make_url(postgres_url).update_query_dict({"options": "-c TimeZone=Asia/Kolkata"})
    monkeypatch.setenv("TRACKER_DATABASE_URL", india.render_as_string(hide_password=False))
    for command in JSON_COMMANDS:
        shown = tracker(command, "--json", cwd=setup)
        assert (shown.returncode, shown.stdout) == (0, on_sqlite[command] + "\n"), shown.stderr
        assert quick_answer([command, "--json"]) is None  # PostgreSQL: never the quick path


def keep_made_on_prices(url: str) -> None:
    """What every evaluation does: keep the price each prediction had on its made_on day."""
    from tracker.config import load_settings
    from tracker.registry import load_registry
    from tracker.service.made_on import keep_prices

    registry = load_registry(load_settings(None))
    engine = open_database(url)
    keep_prices(engine, registry, datetime.now(UTC))
    engine.dispose()


def add_trouble(url: str) -> None:
    """A source failing on one symbol of its own, another backing off after failures."""
    engine = open_database(url)
    now = datetime.now(UTC)
    queries.record_source_result(engine, "kalshi", now, None, {"NEVER-POLLED": "gone \x1b[2J"})
    queries.record_source_result(engine, "polymarket", now, "HTTP 503", [],
                                 now + timedelta(hours=1))
    engine.dispose()


@pytest.mark.parametrize("argv", LEAN, ids=" ".join)
def test_the_lean_answer_is_the_full_clis_byte_for_byte(setup, argv, monkeypatch):
    """Text and JSON, on a terminal 100 columns wide: what the full CLI prints, the lean
    path prints, through the entry point a user runs."""
    monkeypatch.setenv("COLUMNS", "100")
    url = database(setup)
    add_series(url)
    add_trouble(url)
    keep_made_on_prices(url)
    queries.set_resolution(engine := open_database(url), FED, "right", "by hand",
                           datetime.now(UTC))
    engine.dispose()
    full = full_cli(*argv, cwd=setup)  # leaves the lean path's cache
    assert full.returncode == 0 and full.stdout, full.stderr
    lean = lean_answer(argv)
    assert lean is not None, "the full run should have left a current cache"
    assert (lean.stdout, lean.stderr, lean.code) == (full.stdout, full.stderr, 0)
    again = tracker(*argv, cwd=setup)
    assert (again.returncode, again.stdout, again.stderr) == (0, full.stdout, full.stderr)


def test_the_text_tables_keep_untrusted_text_inert(setup, monkeypatch):
    """A failing symbol's message carries a terminal command: shown escaped, both ways."""
    add_series(database(setup))
    add_trouble(database(setup))
    full = full_cli("health", cwd=setup)
    assert "\x1b" not in full.stdout and "gone \\x1b[2J" in full.stdout
    assert lean_answer(["health"]).stdout == full.stdout


def test_a_scoreboard_without_a_kept_price_is_the_full_clis(setup):
    """A made_on price not kept yet is evaluated by the full CLI: the lean path declines."""
    assert tracker("scoreboard", cwd=setup).returncode == 0
    assert lean_answer(["scoreboard"]) is None
    keep_made_on_prices(database(setup))
    assert lean_answer(["scoreboard"]) is not None
    (setup / "mine.toml").write_text(MY_REGISTRY.replace("2026-01-02", "2026-01-03"))
    assert lean_answer(["scoreboard"]) is None  # another definition: its price is not kept


def test_a_digest_without_a_kept_price_is_the_full_clis(setup):
    """The digest shows each call's move since it was made: the same rule as scoreboard."""
    assert tracker("digest", cwd=setup).returncode == 0
    assert lean_answer(["digest"]) is None
    keep_made_on_prices(database(setup))
    assert lean_answer(["digest"]) is not None


def moved_since_yesterday(url: str) -> None:
    """Half-hourly odds of the oil call over the last three days, and yesterday's digest
    showing them 20 points lower: today's digest lists the call as a mover and charts it."""
    engine = open_database(url)
    now = datetime.now(UTC)
    queries.add_snapshots(engine, [
        {"prediction_id": OIL, "at": now - timedelta(minutes=30 * i), "status": "open",
         "probability": 0.6 + i / 1000, "value": 60.0, "value_at": None, "explanation": "oil",
         "model": "m"} for i in reversed(range(144))])  # stored oldest first
    queries.record_digest(engine, (now - timedelta(days=2)).date().isoformat(),
                          now - timedelta(days=1), "<id@x>", {OIL: {"status": "open",
                                                                     "probability": 0.4}})
    engine.dispose()


def without_build_time(text: str) -> str:
    """The digest says when it was built, to the minute: the one thing two runs a moment
    apart may not share. Inline charts end at that time too: compared by count."""
    import re

    text = re.sub(r"Built\s[^.]*\.", "Built (time).", text)
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,(chart)", text)


def test_the_lean_digest_is_the_full_clis(setup):
    """The same preview file and text, from the full CLI and from the lean path."""
    url = database(setup)
    add_series(url)
    add_trouble(url)
    moved_since_yesterday(url)
    keep_made_on_prices(url)
    full = full_cli("digest", "--preview", "full.html", "--text", cwd=setup)
    assert full.returncode == 0, full.stderr
    lean = lean_answer(["digest", "--preview", "lean.html", "--text"])
    assert lean is not None, "the full run should have left a current cache"
    assert lean.stdout.replace("lean.html", "full.html") == full.stdout
    assert "chamath" in full.stdout.lower() and "+20" in full.stdout  # the mover, listed
    html = (setup / "full.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # its chart, and the expected hits
    assert without_build_time((setup / "lean.html").read_text()) == without_build_time(html)


def test_a_preview_into_a_missing_folder_is_the_full_clis_error(setup):
    keep_made_on_prices(database(setup))
    assert tracker("digest", cwd=setup).returncode == 0
    assert lean_answer(["digest", "--preview", "nowhere/p.html"]) is None
    done = tracker("digest", "--preview", "nowhere/p.html", cwd=setup)
    assert done.returncode == 2 and "no folder 'nowhere'" in done.stderr


BROKEN = MY_REGISTRY.replace('kind = "threshold"', 'kind = "guess"')


def test_check_gives_the_full_clis_verdict_and_exit_status(setup):
    ok = full_cli("check", cwd=setup)
    assert ok.returncode == 0 and ok.stdout.startswith("ok: ")
    assert lean_answer(["check"]) == (ok.stdout, "", 0)
    (setup / "mine.toml").write_text(BROKEN)
    assert lean_answer(["check"]) is None  # the registry changed: the full CLI validates it
    bad = tracker("check", cwd=setup)
    assert bad.returncode == 2 and "unknown kind 'guess'" in bad.stderr
    assert (f"registry: bundled all_in_2026.toml,\n{' ' * 10}{setup / 'mine.toml'},\n"
            f"{' ' * 10}{setup / 'predictions.toml'} (none yet)\n") in bad.stdout
    assert lean_answer(["check"]) == (bad.stdout, bad.stderr, 2)
    again = tracker("check", cwd=setup)
    assert (again.returncode, again.stdout, again.stderr) == (2, bad.stdout, bad.stderr)


@pytest.mark.parametrize("argv", LEAN + LEAN_DIGEST, ids=" ".join)
def test_a_changed_registry_or_config_makes_the_lean_path_decline(setup, argv):
    add_series(database(setup))
    keep_made_on_prices(database(setup))
    assert tracker(*argv, cwd=setup).returncode == 0
    assert lean_answer(argv) is not None
    with open(setup / "config.toml", "a") as config:
        config.write("\n")
    assert lean_answer(argv) is None
    assert tracker(*argv, cwd=setup).returncode == 0
    assert lean_answer(argv) is not None
    registry = setup / "mine.toml"
    registry.write_text(registry.read_text() + "\n")
    reads_registry = argv[0] in ("status", "scoreboard", "check", "show", "digest", "health")
    assert (lean_answer(argv) is None) == reads_registry


def test_show_declines_when_a_series_name_it_quotes_changed(setup):
    """The rule quotes a market's question as stored: a new one is the full CLI's to say."""
    market, claim = "polymarket:billionaire-one-time-wealth-tax-on-california-ballot", "wealth-tax-makes-ballot"
    engine = open_database(database(setup))
    queries.upsert_series(engine, [{"id": market, "source": "polymarket", "symbol": "x",
                                    "name": "Old question", "unit": None,
                                    "first_seen_at": datetime.now(UTC), "state": "open",
                                    "resolved_value": None, "meta": None}])
    engine.dispose()
    assert "Old question" in tracker("show", claim, cwd=setup).stdout
    assert "Old question" in lean_answer(["show", claim]).stdout
    with sqlite3.connect(setup / "t.db") as db:
        db.execute("UPDATE series SET name = 'New question' WHERE id = ?", (market,))
    assert lean_answer(["show", claim]) is None
    shown = tracker("show", claim, cwd=setup)
    assert "New question" in shown.stdout
    assert lean_answer(["show", claim]).stdout == shown.stdout
