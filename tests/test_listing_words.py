"""What `tracker status` and `tracker show` say about a claim, as a user reads them: a part
of a composite says whose part it is, a "no" market shows the price of "no", a market is
named by its question, quoted, and an open manual claim says it awaits a verdict."""

import json

import pytest

from tests.replay import ReplayServer
from tests.sources_fixtures import composite, copy_database, gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker
from tracker.config import settings_from_dict
from tracker.registry import load_registry
from tracker.registry.labels import label
from tracker.views.status import side_price

XI = "polymarket:xi-jinping-out-before-2027"  # recorded open at a yes price of 0.0455
QUESTION = "\u201cXi Jinping out before 2027?\u201d"
PREDICTIONS = (
    market("xi-stays", XI, side="no") + "scored = false\n\n"
    + market("xi-goes", XI, side="yes")
    + composite("xi-stays-all-year", "all_of", ["xi-stays"])
    + """
[[prediction]]
id = "hunch"
who = "Bea"
made_on = 2026-09-10
claim = "Something no data can judge"
kind = "manual"
reason = "a judgement call"
"""
)


@pytest.fixture(scope="module")
def polled_once(tmp_path_factory):
    """The database a real `tracker poll` made from the recorded market."""
    folder = tmp_path_factory.mktemp("polled")
    with ReplayServer() as server:
        server.add("/markets", gamma_markets("markets_open_xi.json"))
        config = replay_config(folder, server.url, predictions=PREDICTIONS)
        assert tracker(config, "poll").returncode == 0
    return folder / "tracker.db"


@pytest.fixture
def polled(tmp_path, monkeypatch, polled_once):
    """A config and a copy of that database (its server gone, as it was once the poll had
    run), read on a wide terminal: no cell wraps."""
    monkeypatch.setenv("COLUMNS", "220")
    config = replay_config(tmp_path, "http://127.0.0.1:9", predictions=PREDICTIONS)
    copy_database(polled_once, tmp_path)
    return config


def table_row(table: str, pid: str) -> str:
    """The lines of the status table's row for ``pid`` (its claim is its id here)."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if f"│ {pid} " in line)
    next_row = ("│ Tester", "│ Bea", "└")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(next_row))
    return "\n".join(lines[start:end])


def test_a_no_market_shows_the_price_of_no_and_names_its_side(polled):
    table = tracker(polled, "status", "--wide").stdout
    assert "no 95%" in table_row(table, "xi-stays")
    assert "yes 5%" in table_row(table, "xi-goes")
    assert "0.0455" not in table
    rows = {row["id"]: row for row in json.loads(tracker(polled, "status", "--json").stdout)}
    # The machine output keeps the market's yes price as the value, and says the side.
    assert (rows["xi-stays"]["value"], rows["xi-stays"]["side"]) == (0.0455, "no")
    assert rows["xi-stays"]["probability"] == pytest.approx(1 - 0.0455)
    assert rows["hunch"]["side"] is None

    shown = tracker(polled, "show", "xi-stays").stdout
    assert f"{XI} ({QUESTION}): no 95% (yes 5%) at " in shown
    assert "Status: on_track  probability 95%" in shown
    series = json.loads(tracker(polled, "show", "xi-stays", "--json").stdout)["series"]
    assert (series[0]["last_value"], series[0]["side"]) == (0.0455, "no")


def test_a_part_of_a_composite_says_whose_part_it_is(polled):
    table = tracker(polled, "status", "--wide").stdout
    assert "part of xi-stays-all-year" in table_row(table, "xi-stays")
    assert "part of" not in table_row(table, "xi-goes")
    rows = {row["id"]: row for row in json.loads(tracker(polled, "status", "--json").stdout)}
    assert rows["xi-stays"]["part_of"] == ["xi-stays-all-year"]
    assert rows["xi-stays-all-year"]["part_of"] == []

    shown = tracker(polled, "show", "xi-stays").stdout
    assert "Part of xi-stays-all-year: not scored on its own." in shown
    assert json.loads(tracker(polled, "show", "xi-stays", "--json").stdout)["part_of"] == [
        "xi-stays-all-year"]


def test_a_market_is_named_by_its_question_quoted(polled):
    rows = {row["id"]: row for row in json.loads(tracker(polled, "status", "--json").stdout)}
    assert rows["xi-goes"]["explanation"] == f"{QUESTION}: market gives yes 5%"
    shown = tracker(polled, "show", "xi-goes").stdout
    assert f"Rule: Right if the market {QUESTION} ({XI}) resolves YES." in shown


def test_an_open_manual_claim_awaits_a_manual_resolution(polled):
    rows = {row["id"]: row for row in json.loads(tracker(polled, "status", "--json").stdout)}
    assert rows["hunch"]["status"] == "open"
    assert rows["hunch"]["explanation"] == (
        "awaits a manual resolution (tracker resolve): a judgement call")


def test_untrusted_text_in_the_status_table_is_not_markup(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    evil = market("evil", XI).replace('claim = "evil"', 'claim = "[bold red]loud[/] [link=x]y"')
    config = replay_config(tmp_path, "http://127.0.0.1:9", predictions=evil)
    assert tracker(config, "migrate").returncode == 0
    table = tracker(config, "status", "--wide").stdout
    assert "[bold red]loud[/] [link=x]y" in table


# ---- the pieces behind them ------------------------------------------------------------

def test_the_registry_maps_each_unscored_part_to_its_composites():
    registry = load_registry(settings_from_dict({"registry": {"bundled": True}}))
    assert registry.part_of["spacex-ipo-2026"] == ["jason-two-big-private-companies-ipo"]
    assert "jason-two-big-private-companies-ipo" not in registry.part_of
    assert all(not registry.get(pid).scored for pid in registry.part_of)


def test_labels_quote_a_markets_question_and_fall_back_to_the_label():
    assert label(XI, "Xi Jinping out before 2027?") == QUESTION
    assert label("kalshi:KXFED-26", "Fed cuts?") == "\u201cFed cuts?\u201d"
    assert label(XI) == XI  # no question stored yet
    assert label("yahoo:CL=F", "Crude Oil Jan 26") == "WTI crude"


def test_side_price_is_the_price_of_the_side_claimed():
    assert side_price(0.14, "yes") == 0.14
    assert side_price(0.14, "no") == pytest.approx(0.86)
    assert side_price(None, "no") is None


def test_a_markets_name_in_the_series_table_is_not_markup(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from db import queries
    from db.engine import open_database
    from tests.test_db import T0
    from tracker.cli import cli

    monkeypatch.setenv("COLUMNS", "220")
    engine = open_database(f"sqlite:///{tmp_path / 't.db'}")
    queries.upsert_series(engine, [{"id": XI, "source": "polymarket", "symbol": XI[11:],
                                    "name": "[bold red]Xi[/] out?", "unit": None,
                                    "first_seen_at": T0}])
    engine.dispose()
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')
    shown = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), "series"])
    assert shown.exit_code == 0, shown.output
    assert "[bold red]Xi[/] out?" in shown.stdout
