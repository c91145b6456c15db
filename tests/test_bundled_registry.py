"""The whole bundled registry: it loads, passes `tracker check`, and every prediction
evaluates without an exception on a database filled from recorded responses.

Every Yahoo symbol is answered with the recorded BATS.L bars, every FRED id with the
recorded NASDAQCOM CSV, every Polymarket slug with the recorded Xi Jinping market
(its slug set to the one asked for), and every EDGAR CIK with SpaceX's recorded
submissions (its cik set to the one asked for): the point is that each kind copes with real
payloads end to end, not that the numbers are the real ones."""

import json
from collections import Counter

import pytest

from tests.replay import FIXTURES, ReplayServer
from tests.sources_fixtures import replay_config, serve_registry
from tests.test_poll_end_to_end import tracker
from tracker.config import settings_from_dict
from tracker.registry import load_registry

HOSTS = {"Chamath Palihapitiya", "David Sacks", "David Friedberg", "Jason Calacanis"}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bundled")
    registry = load_registry(settings_from_dict({}))
    with ReplayServer() as server:
        serve_registry(server, registry)
        config = replay_config(tmp_path, server.url, predictions="")
        text = config.read_text().replace("[registry]\nbundled = false", "[registry]\nbundled = true")
        config.write_text(text)
        poll = tracker(config, "poll")
        status = json.loads(tracker(config, "status", "--json").stdout)
        scoreboard = json.loads(tracker(config, "scoreboard", "--json").stdout)
        check = tracker(config, "check")
    return registry, poll, status, scoreboard, check


def test_every_seed_prediction_is_registered_and_checks(bundled):
    registry, _, _, _, check = bundled
    assert check.returncode == 0, check.stderr
    scored = [p for p in registry if p.scored]
    assert len(scored) >= 44
    assert {p.who for p in scored} == HOSTS
    kinds = Counter(p.kind for p in registry)
    for kind in ("threshold", "race", "market", "outperform", "rank", "estimate", "manual",
                 "filing", "at_least", "all_of", "any_of"):
        assert kinds[kind] >= 1, kind
    # A claim with no market data is manual, and says why.
    assert all(p.reason for p in registry if p.kind == "manual")


def test_the_readme_lists_every_scored_prediction(bundled):
    registry = bundled[0]
    readme = (FIXTURES.parent.parent / "README.md").read_text()
    missing = [p.id for p in registry if p.scored and f"`{p.id}`" not in readme]
    assert missing == []


def test_every_prediction_gets_a_status_without_an_evaluation_failure(bundled):
    registry, poll, status, _, _ = bundled
    assert poll.returncode == 0, poll.stdout + poll.stderr
    assert "Traceback" not in poll.stderr
    assert {row["id"] for row in status} == {p.id for p in registry}
    for row in status:
        assert row["status"] in {"right", "wrong", "on_track", "off_track", "no_data", "open", "void"}
        assert not row["explanation"].startswith("evaluation failed"), row
    assert {row["status"] for row in status if row["kind"] == "manual"} == {"open"}


def test_the_scoreboard_ranks_the_four_hosts(bundled):
    _, _, _, scoreboard, _ = bundled
    assert {row["who"] for row in scoreboard} == HOSTS
    # Best expected hit rate first, whoever made the most claims; no rate yet ranks last.
    rates = [row["expected_hit_rate"] for row in scoreboard]
    known = [rate for rate in rates if rate is not None]
    assert rates[:len(known)] == sorted(known, reverse=True)


def test_parts_of_a_composite_are_marked_with_their_composite(bundled):
    _, _, status, _, _ = bundled
    rows = {row["id"]: row for row in status}
    assert rows["spacex-ipo-2026"]["part_of"] == ["jason-two-big-private-companies-ipo"]
    assert rows["jason-two-big-private-companies-ipo"]["part_of"] == []
    assert rows["wealth-tax-does-not-pass"]["part_of"] == ["chamath-wealth-tax-on-ballot-but-fails"]
