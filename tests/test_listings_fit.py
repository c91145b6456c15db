"""`series`, `scoreboard` and `health` as people read them: within 80 columns, with every
series id, series name and person's name whole; FRED series named; values in their
units; and no "stale series: none" when nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from db.reads import SeriesOverviewRow, SourceHealthRow
from tracker.registry.labels import LABELS
from tracker.scoreboard import PersonScore
from tracker.views.health import health_report, health_text
from tracker.views.scoreboard import scoreboard_text
from tracker.views.series import series_rows, series_text
from tracker.views.table import width_of

NOW = datetime(2026, 11, 30, 14, 58, tzinfo=UTC)
DAY = datetime(2026, 11, 27, tzinfo=UTC)
SLUG = "polymarket:billionaire-one-time-wealth-tax-on-california-ballot"
QUESTION = "Will the billionaire one-time wealth tax qualify for the California ballot?"
OVERVIEW = [
    SeriesOverviewRow("fred:PAYEMS", "fred", "PAYEMS", None, None, 400, DAY, 164_600.0, None),
    SeriesOverviewRow("fred:SFXRHTSA", "fred", "SFXRHTSA", None, None, 300, DAY, 412.25, None),
    SeriesOverviewRow(SLUG, "polymarket", SLUG.split(":")[1], QUESTION, "probability", 366,
                      DAY, 0.2183, NOW),
    SeriesOverviewRow("yahoo:CL=F", "yahoo", "CL=F", "Crude Oil Jan 26", "USD", 20, DAY, 58.1,
                      None),
]
HEALTH = {source: SourceHealthRow(source, NOW, NOW, 0, None, None, None, None)
          for source in ("fred", "polymarket", "yahoo")}


def shown_series(width: int = 80) -> str:
    rows = series_rows(OVERVIEW, HEALTH, {}, LABELS)
    return series_text(rows, HEALTH, width=width)


def test_fred_series_are_named_by_the_registry_and_markets_by_their_question():
    rows = {row["id"]: row for row in series_rows(OVERVIEW, HEALTH, {}, LABELS)}
    assert rows["fred:PAYEMS"]["label"] == "Nonfarm payrolls"
    assert rows["fred:PAYEMS"]["name"] is None  # what the source gave: FRED gives no name
    assert rows["yahoo:CL=F"]["label"] == "WTI crude"
    assert rows[SLUG]["label"] == QUESTION
    words = " ".join(shown_series().split())
    assert "Nonfarm payrolls" in words and "Case-Shiller San Francisco, high tier" in words


def test_series_fit_80_columns_with_ids_and_names_whole():
    text = shown_series()
    lines = text.splitlines()
    assert all(width_of(line) <= 80 for line in lines)
    assert SLUG in lines  # too long for its column: a line of its own, whole
    assert QUESTION in " ".join(line.split("  ")[0] for line in lines)  # wrapped at spaces
    for series_id in ("fred:PAYEMS", "fred:SFXRHTSA", "yahoo:CL=F"):
        assert any(line.startswith(series_id + " ") for line in lines)


def test_series_values_print_in_their_units():
    text = shown_series()
    assert "164,600" in text and "$58.10" in text and "22%" in text
    assert "e+05" not in text and "0.2183" not in text


def test_a_wide_terminal_keeps_a_market_on_one_line():
    lines = shown_series(200).splitlines()
    assert any(line.startswith(SLUG + " ") and line.rstrip().endswith("ok") for line in lines)


def person(who, right=0, wrong=0, open_=0, briers=()):
    return PersonScore(who, right=right, wrong=wrong, open=open_, unpriced=open_ // 2,
                       expected_hits=right + open_ / 3, briers=list(briers),
                       price_briers=[0.01 for _ in briers])


def test_the_scoreboard_fits_80_columns_with_names_whole():
    rows = [person("Chamath Palihapitiya", 0, 2, 11, [1.0] * 12),
            person("Jason Calacanis", 1, 0, 8), person("David Sacks", 0, 2, 10, [1.0])]
    text = scoreboard_text(rows, width=80)
    lines = text.splitlines()
    assert all(width_of(line) <= 80 for line in lines)
    for name in ("Chamath Palihapitiya", "Jason Calacanis", "David Sacks"):
        assert any(line.startswith(name + " ") for line in lines)
    assert "(n=12)" in text


def test_health_says_when_nothing_is_stored_yet():
    found = health_report(HEALTH, {})
    text = health_text(found, NOW)
    assert "stale series: none" not in text
    assert "no series stored yet: `tracker poll` fetches them" in text
    assert found["series_stored"] == 0
    stored = health_text(health_report(HEALTH, {"fred:PAYEMS": False}), NOW)
    assert "stale series: none" in stored and "no series stored" not in stored
