"""Calibration: Brier and log scores and reliability tables, for people's calls at the price
on the day of the call and for tracker's own chances by model, against figures worked out
by hand from a few claims with known snapshots; then `tracker calibration` (text and
--json) and the /calibration page and /api/calibration over the same database."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db import queries
from db.engine import open_database
from tests.test_poll_end_to_end import tracker
from tracker.calibration import Forecast, figures, model_group
from tracker.config import load_settings
from tracker.registry import load_registry
from tracker.service.calibration import calibration_report
from tracker.service.made_on import definition_keys

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)

PREDICTIONS = """
[[prediction]]
id = "ann-market"
who = "Ann Example"
made_on = 2026-01-10
claim = "A market claim that came true"
kind = "market"
series = "polymarket:some-market"
side = "yes"

[[prediction]]
id = "ann-touch"
who = "Ann Example"
made_on = 2026-01-10
claim = "A touch that never came"
kind = "threshold"
series = "yahoo:AAA"
target = 500
direction = "above"

[[prediction]]
id = "bo-close"
who = "<b>Bo</b> Sample"
made_on = 2026-01-10
claim = "A close above a target that came true"
kind = "threshold"
series = "yahoo:BBB"
target = 50
direction = "above"
touch = false

[[prediction]]
id = "bo-void"
who = "<b>Bo</b> Sample"
made_on = 2026-01-10
claim = "A voided market"
kind = "market"
series = "polymarket:voided"
side = "yes"

[[prediction]]
id = "bo-open"
who = "<b>Bo</b> Sample"
made_on = 2026-01-10
claim = "A claim still open"
kind = "market"
series = "polymarket:still-open"
side = "yes"
"""

# The price on the day of each call (kept as an evaluation keeps it).
PRICES = {"ann-market": 0.8, "ann-touch": 0.3, "bo-close": 0.6, "bo-void": 0.5, "bo-open": 0.4}

# (claim, day after DAY0, status, probability, model)
SNAPSHOTS = [
    ("ann-market", 0, "on_track", 0.6, "market:polymarket"),
    ("ann-market", 2, "on_track", 0.9, "market:polymarket"),
    ("ann-market", 3, "right", 1.0, "market:polymarket"),
    ("ann-touch", 0, "off_track", 0.3, "lognormal-touch"),
    ("ann-touch", 1, "no_data", None, None),  # no chance: holds no forecast
    ("ann-touch", 2, "off_track", 0.2, "lognormal-touch"),
    ("ann-touch", 6, "wrong", 0.0, "lognormal-touch"),
    ("bo-close", 0, "on_track", 0.5, "lognormal-close"),
    ("bo-close", 4, "right", 1.0, "lognormal-close"),
    ("bo-void", 0, "on_track", 0.5, "market:polymarket"),
    ("bo-void", 1, "void", None, "market:polymarket"),
    ("bo-open", 0, "on_track", 0.4, "market:polymarket"),
]


def write_config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder / "tracker.db"}"\n\n'
                    f'[registry]\nbundled = false\n\n{PREDICTIONS}')
    return path


def fill(folder: Path, snapshots=SNAPSHOTS) -> Path:
    """A database holding the snapshots and the kept prices; its config's path."""
    config = write_config(folder)
    registry = load_registry(load_settings(str(config)))
    engine = open_database(f"sqlite:///{folder / 'tracker.db'}")
    keys = definition_keys(registry)
    queries.keep_made_on_prices(engine, [
        {"prediction_id": pid, "definition": keys[pid], "price": price, "evidence": None,
         "checked_at": DAY0} for pid, price in PRICES.items()])
    queries.add_snapshots(engine, [
        {"prediction_id": pid, "at": DAY0 + timedelta(days=day), "status": status,
         "probability": p, "value": None, "value_at": None, "explanation": "",
         "model": model, "inputs": None} for pid, day, status, p, model in snapshots])
    engine.dispose()
    return config


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    return fill(tmp_path_factory.mktemp("calibration"))


@pytest.fixture(scope="module")
def report(filled):
    settings = load_settings(str(filled))
    engine = open_database(settings.database.url)
    yield calibration_report(engine, load_registry(settings))
    engine.dispose()


def by(rows, key):
    return {row[key]: row for row in rows}


def test_scores_of_a_few_forecasts_by_hand():
    found = figures([Forecast("a", 0.8, 1), Forecast("b", 0.3, 0), Forecast("c", 0.3, 1)])
    assert found.brier == pytest.approx((0.04 + 0.09 + 0.49) / 3)
    assert found.log_score == pytest.approx((-math.log(0.8) - math.log(0.7) - math.log(0.3)) / 3)
    assert (found.forecasts, found.claims) == (3, 3)
    # 0.3 and 0.3 share the 30-40% bin, one of the two came true; 0.8 is alone in its bin.
    assert [(b.low, b.forecasts, b.mean_forecast, b.observed) for b in found.bins] == [
        (0.3, 2, pytest.approx(0.3), 0.5), (0.8, 1, pytest.approx(0.8), 1.0)]


def test_certain_forecasts_are_clipped_so_a_miss_scores_finitely():
    found = figures([Forecast("a", 1.0, 0)])
    assert found.log_score == pytest.approx(-math.log(0.01))
    assert found.brier == pytest.approx(0.99 ** 2)
    assert found.bins[0].low == 0.9  # a chance of 1 falls in the top bin


def test_no_forecasts_no_figures():
    found = figures([])
    assert (found.claims, found.brier, found.log_score, found.bins) == (0, None, None, ())


def test_models_are_grouped_by_the_claims_they_price():
    assert [model_group(m) for m in ("lognormal-touch", "lognormal-race", "normal-spread",
                                     "bootstrap-rank", "market:kalshi", "poisson-binomial",
                                     "any-of-lower-bound", "gdp-nowcast", None)] == [
        "touch", "race", "outperform", "rank", "market", "composite", "composite",
        "other", "other"]


def test_people_are_scored_at_the_price_on_the_day_of_their_resolved_calls(report):
    people = by(report["people"], "who")
    ann, bo, everyone = people["Ann Example"], people["<b>Bo</b> Sample"], people[None]
    # Ann: 0.8 came true, 0.3 did not. Bo: 0.6 came true; the void and the open call left out.
    assert ann["brier"] == pytest.approx((0.2 ** 2 + 0.3 ** 2) / 2)
    assert ann["log_score"] == pytest.approx((-math.log(0.8) - math.log(0.7)) / 2, abs=1e-6)
    assert ann["claims"] == 2
    assert bo["brier"] == pytest.approx(0.4 ** 2) and bo["claims"] == 1
    assert everyone["brier"] == pytest.approx((0.04 + 0.09 + 0.16) / 3, abs=1e-6)
    assert everyone["claims"] == 3


def test_trackers_chances_are_weighted_by_the_days_each_held(report):
    models = by(report["models"], "model")
    assert set(models) == {"market", "touch", "other", None}
    # market: 0.6 for 2 days, 0.9 for 1 day, and it came true.
    assert models["market"]["brier"] == pytest.approx((2 * 0.16 + 1 * 0.01) / 3, abs=1e-6)
    assert models["market"]["log_score"] == pytest.approx(
        (-2 * math.log(0.6) - math.log(0.9)) / 3, abs=1e-6)
    assert models["market"]["weight"] == pytest.approx(3)
    # touch: 0.3 for a day (until the no_data snapshot), 0.2 for 4 days; it did not happen.
    assert models["touch"]["brier"] == pytest.approx((0.09 + 4 * 0.04) / 5, abs=1e-6)
    assert models["touch"]["weight"] == pytest.approx(5)
    assert models["other"]["brier"] == pytest.approx(0.25)  # lognormal-close: 0.5, 4 days
    every = models[None]
    assert every["claims"] == 3 and every["weight"] == pytest.approx(12)
    assert every["brier"] == pytest.approx((0.25 + 0.33 + 1.0) / 12, abs=1e-6)
    assert [(b["from"], b["weight"], b["observed"]) for b in every["bins"]] == [
        (0.2, 4, 0), (0.3, 1, 0), (0.5, 4, 1), (0.6, 2, 1), (0.9, 1, 1)]


def test_the_command_prints_the_figures_and_what_they_rest_on(filled):
    done = tracker(filled, "calibration")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    ann = next(line for line in lines if line.startswith("Ann Example"))
    assert ann.split()[2:] == ["0.065", "0.290", "rests", "on", "2", "resolved", "claims"]
    assert any(line.startswith("<b>Bo</b> Sample") and line.endswith("rests on 1 resolved claim")
               for line in lines)
    touch = next(line for line in lines if line.startswith("touch "))
    assert touch.split() == ["touch", "0.050", "0.250", "5.0", "rests", "on", "1", "resolved",
                             "claim"]
    assert "Reliability of tracker's chances (rests on 3 resolved claims)" in done.stdout


def test_the_commands_json_is_the_report(filled, report):
    done = tracker(filled, "calibration", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(report))


def test_with_nothing_resolved_the_command_says_so(tmp_path):
    config = fill(tmp_path, snapshots=[s for s in SNAPSHOTS if s[2] not in ("right", "wrong")])
    done = tracker(config, "calibration")
    assert done.returncode == 0, done.stderr
    assert "No resolved call had a price on the day it was made yet." in done.stdout
    assert "No resolved claim had a chance from tracker before it resolved yet." in done.stdout


@pytest.fixture(scope="module")
def client(filled):
    from starlette.testclient import TestClient

    from tracker.web.app import create_app
    from tracker.web.data import Source

    settings = load_settings(str(filled))
    engine = open_database(settings.database.url)
    with TestClient(create_app(Source(engine, load_registry(settings), settings))) as client:
        yield client
    engine.dispose()


def test_the_page_shows_the_figures_a_reliability_diagram_and_no_script(client):
    from tests.test_web import assert_no_script_allowed

    response = client.get("/calibration")
    assert response.status_code == 200
    assert_no_script_allowed(response)
    page = response.text
    assert "<script" not in page and "<b>" not in page
    assert "&lt;b&gt;Bo&lt;/b&gt; Sample" in page  # a name with markup shows as text
    assert "Reliability of everyone&#39;s calls" in page
    assert page.count('<svg class="chart reliability"') == 2
    # One dot a bin: three bins of people's calls, five of tracker's chances.
    assert page.count('<circle class="bin"') == 3 + 5
    for n in ("rests on 1 resolved claim<", "rests on 2 resolved claims<",
              "rests on 3 resolved claims<"):
        assert n in page
    assert "<td>0.065</td><td>0.290</td>" in page  # Ann: as the command prints it
    assert '<a href="/calibration">Calibration</a>' in client.get("/").text


def test_the_api_answers_what_the_command_prints(client, filled):
    response = client.get("/api/calibration")
    assert response.status_code == 200
    assert response.text == tracker(filled, "calibration", "--json").stdout


def test_the_page_with_nothing_resolved_says_so(tmp_path):
    from starlette.testclient import TestClient

    from tracker.web.app import create_app
    from tracker.web.data import Source

    config = fill(tmp_path, snapshots=[s for s in SNAPSHOTS if s[2] not in ("right", "wrong")])
    settings = load_settings(str(config))
    engine = open_database(settings.database.url)
    with TestClient(create_app(Source(engine, load_registry(settings), settings))) as client:
        page = client.get("/calibration").text
    engine.dispose()
    assert "No resolved call had a price on the day it was made yet." in page
    assert "No resolved claim had a chance from tracker before it resolved yet." in page
    assert "<svg" not in page


def test_peoples_brier_is_the_scoreboards_price_brier(filled, report):
    board = json.loads(tracker(filled, "scoreboard", "--json").stdout)
    people = by(report["people"], "who")
    for row in board:
        assert people[row["who"]]["brier"] == pytest.approx(row["price_brier"], abs=1e-6)
        assert people[row["who"]]["claims"] == row["brier_n"]
