"""`tracker resolve`, `show` and `scoreboard` as a user runs them, after a poll of
recorded market and price responses."""

import json

import pytest

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import copy_database, gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker

PREDICTIONS = (
    market("xi-out", "polymarket:xi-jinping-out-before-2027")
    + market("abiy-pm", "polymarket:will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia")
    + market("belete-pm", "polymarket:will-belete-molla-be-the-next-prime-minister-of-ethiopia")
    + """
[[prediction]]
id = "bats-4300"
who = "Bea"
made_on = 2026-09-10
claim = "BATS.L touches 4300p by the end of 2026"
kind = "threshold"
series = "yahoo:BATS.L"
target = 4300
direction = "above"

[[prediction]]
id = "bea-hunch"
who = "Bea"
made_on = 2026-09-10
claim = "Something no data can judge"
kind = "manual"
proxy = "yahoo:BATS.L"
reason = "a judgement call"
"""
)


@pytest.fixture(scope="module")
def polled_once(tmp_path_factory):
    """The database a real `tracker poll` made from the recorded markets and chart."""
    folder = tmp_path_factory.mktemp("polled")
    with ReplayServer() as server:
        server.add("/markets", gamma_markets("markets_open_xi.json", "markets_ethiopia_resolved.json"))
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        config = replay_config(folder, server.url, predictions=PREDICTIONS)
        assert tracker(config, "poll").returncode == 0
    return folder / "tracker.db"


@pytest.fixture
def polled(tmp_path, polled_once):
    """A config and a copy of that database, the test's own to change (its server gone,
    as it was once the poll had run)."""
    config = replay_config(tmp_path, "http://127.0.0.1:9", predictions=PREDICTIONS)
    copy_database(polled_once, tmp_path)
    return config


def status_of(config, pid):
    rows = json.loads(tracker(config, "status", "--json").stdout)
    return next(row for row in rows if row["id"] == pid)


def test_a_manual_verdict_overrides_the_data_and_undo_restores_it(polled):
    done = tracker(polled, "resolve", "xi-out", "right", "--note", "Xi stepped down")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("xi-out: right: resolved right by hand on ")
    row = status_of(polled, "xi-out")
    assert (row["status"], row["probability"]) == ("right", 1.0)
    assert "Xi stepped down" in row["explanation"]

    undone = tracker(polled, "resolve", "xi-out", "--undo")
    assert undone.returncode == 0, undone.stderr
    assert status_of(polled, "xi-out")["status"] == "off_track"  # the market's 4.55% again


def test_manual_predictions_stay_open_until_resolved(polled):
    assert status_of(polled, "bea-hunch")["status"] == "open"
    assert "a judgement call" in status_of(polled, "bea-hunch")["explanation"]
    tracker(polled, "resolve", "bea-hunch", "wrong")
    assert status_of(polled, "bea-hunch")["status"] == "wrong"


@pytest.mark.parametrize(
    "args, message",
    [
        (["resolve", "no-such-id", "right"], "tracker: no prediction 'no-such-id'"),
        (["resolve", "xi-out"], "tracker: give an outcome (right, wrong or void) or --undo"),
        (["resolve", "xi-out", "maybe"], "tracker: Invalid value for '[right|wrong|void]': 'maybe' is not one of"),
        (["resolve", "xi-out", "--undo"], "tracker: xi-out has no manual verdict to undo"),
        (["show", "no-such-id"], "tracker: no prediction 'no-such-id'"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(polled, args, message):
    done = tracker(polled, *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr


def test_show_gives_rule_inputs_history_and_a_chart(polled):
    tracker(polled, "resolve", "abiy-pm", "void", "--note", "recount")
    tracker(polled, "resolve", "abiy-pm", "--undo")
    shown = tracker(polled, "show", "abiy-pm")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert max(map(len, text.splitlines())) <= 80  # prose wrapped to the width (a pipe's: 80)
    # The market's question as Polymarket asks it, quoted, then its id.
    words = " ".join(text.split())
    assert ("Rule: Right if the market \u201cWill Abiy Ahmed be the next Prime Minister of "
            "Ethiopia?\u201d (polymarket:will-abiy-ahmed") in words and "resolves YES" in words
    assert "Status: right  probability 100%" in text
    assert "market resolved" in text  # the input series and its state
    # Right, then void by hand, then right again: three status changes and a drawn history.
    history = [line for line in text.split("Status history:")[1].splitlines()
               if line.startswith("  20")]  # a change's first line starts with its time
    assert [line.split()[3] for line in history[:3]] == ["right", "void", "right"]
    assert "Probability history:" in text and "█" in text

    as_json = json.loads(tracker(polled, "show", "abiy-pm", "--json").stdout)
    assert as_json["status"] == "right" and len(as_json["history"]) == 3


def test_scoreboard_counts_per_person_with_the_price_on_made_on(polled):
    rows = {r["who"]: r for r in json.loads(tracker(polled, "scoreboard", "--json").stdout)}
    tester, bea = rows["Tester"], rows["Bea"]
    assert (tester["right"], tester["wrong"], tester["open"]) == (1, 1, 1)
    assert tester["expected_hits"] == pytest.approx(1 + 0.0455)
    # Bea's threshold was priced from the BATS.L bars up to 2026-09-10, her made_on day.
    assert bea["boldness_n"] == 1 and 0.0 < bea["boldness"] < 1.0
    # Expected hit rate: one hit plus the open 4.55%, of three calls.
    assert tester["expected_hit_rate"] == pytest.approx((1 + 0.0455) / 3)
    assert tester["expected_hit_rate_n"] == 3
    table = tracker(polled, "scoreboard")
    assert table.returncode == 0 and "Tester" in table.stdout and "35% (n=3)" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


def test_scoreboard_shows_verdicts_by_hand_apart_and_leaves_unpriced_calls_out(polled):
    before = {r["who"]: r for r in json.loads(tracker(polled, "scoreboard", "--json").stdout)}
    # Bea's manual claim awaits its verdict and her threshold's series is stale: neither
    # has a chance, so neither counts as an expected miss. She has no rate yet.
    assert before["Bea"]["unpriced"] == 2 and before["Bea"]["expected_hit_rate"] is None

    tracker(polled, "resolve", "bea-hunch", "right", "--note", "it happened")
    tracker(polled, "resolve", "xi-out", "wrong")
    rows = {r["who"]: r for r in json.loads(tracker(polled, "scoreboard", "--json").stdout)}
    bea, tester = rows["Bea"], rows["Tester"]
    assert (bea["right_by_hand"], bea["wrong_by_hand"], bea["unpriced"]) == (1, 0, 1)
    assert (bea["expected_hit_rate"], bea["expected_hit_rate_n"]) == (1.0, 1)
    assert (bea["right_by_data"], bea["wrong_by_data"]) == (0, 0)
    assert (tester["right_by_data"], tester["wrong_by_data"]) == (1, 1)  # the markets settled
    assert (tester["right_by_hand"], tester["wrong_by_hand"]) == (0, 1)  # xi-out, by hand
    table = tracker(polled, "scoreboard").stdout
    tester_row = next(line for line in table.splitlines() if line.startswith("Tester"))
    assert tester_row.split()[3:5] == ["1/1", "0/1"]  # data R/W, then hand R/W


def test_resolve_json_says_the_verdict_and_the_status_it_gives(polled):
    done = tracker(polled, "resolve", "xi-out", "right", "--note", "Xi stepped down", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["manual"] == {"outcome": "right", "note": "Xi stepped down"}
    assert (found["id"], found["status"], found["probability"]) == ("xi-out", "right", 1.0)
    assert "Xi stepped down" in found["explanation"]
    undone = json.loads(tracker(polled, "resolve", "xi-out", "--undo", "--json").stdout)
    assert (undone["manual"], undone["status"]) == (None, "off_track")
