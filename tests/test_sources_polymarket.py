"""Polymarket parsing on recorded Gamma and CLOB responses (tests/fixtures/polymarket/SOURCES.md)."""

import json
from datetime import UTC, datetime

import pytest

from tests.replay import FIXTURES
from tracker.sources.base import PayloadError
from tracker.sources.polymarket import parse_history, parse_markets, parse_search

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def load(name):
    return json.loads((FIXTURES / "polymarket" / name).read_text())


def one(name, slug):
    report = parse_markets(load(name), [slug], NOW)
    assert not report.errors, report.errors
    return report.series[0]


def test_open_market_reads_yes_price_from_json_inside_strings():
    xi = one("markets_open_xi.json", "xi-jinping-out-before-2027")
    assert xi.points[0].value == pytest.approx(0.0455)
    assert xi.points[0].ts == NOW
    assert (xi.state, xi.resolved_value) == ("open", None)
    assert xi.name == "Xi Jinping out before 2027?"
    # The Yes token, a 77-digit id, stays a string: backfill asks the CLOB for it.
    assert xi.meta["yes_token"] == (
        "32338220190071351435772801779725302244575775216413325951443816017994629993401"
    )
    assert xi.meta["end_date"] == "2026-12-31T00:00:00Z"


def test_several_slugs_in_one_answer_each_get_their_own_state():
    payload = load("markets_btc_open_leeds_proposed.json")
    slugs = ["will-bitcoin-hit-150k-by-june-30-2026", "epl-lee-bur-2026-05-01-lee"]
    report = parse_markets(payload, slugs, NOW)
    btc, leeds = report.series
    # The BTC market has no umaResolutionStatus and no day/week change keys at all.
    assert "umaResolutionStatus" not in payload[0] and "oneDayPriceChange" not in payload[0]
    assert (btc.state, btc.points[0].value) == ("open", pytest.approx(0.0135))
    # Proposed at 0.9995: not final, whatever the price says.
    assert (leeds.state, leeds.resolved_value) == ("proposed", None)
    assert leeds.points[0].value == pytest.approx(0.9995)


def test_a_disputed_market_is_not_final():
    warsh = one("markets_warsh_disputed.json", "will-trump-nominate-kevin-warsh-as-the-next-fed-chair")
    assert (warsh.state, warsh.resolved_value) == ("disputed", None)
    assert warsh.points[0].value == pytest.approx(0.9635)


def test_resolved_markets_name_the_winner_by_the_outcome_priced_one():
    slugs = [
        "will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia",
        "will-belete-molla-be-the-next-prime-minister-of-ethiopia",
    ]
    abiy, belete = parse_markets(load("markets_ethiopia_resolved.json"), slugs, NOW).series
    assert (abiy.state, abiy.resolved_value, abiy.points[0].value) == ("resolved", 1.0, 1.0)
    # Belete's bestBid is missing (zero): resolution comes from outcomePrices alone.
    assert (belete.state, belete.resolved_value, belete.points[0].value) == ("resolved", 0.0, 0.0)


def test_half_and_half_after_resolution_is_a_void():
    void = one("markets_void_derived.json", "will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia")
    assert (void.state, void.resolved_value) == ("void", None)


def test_legacy_amm_market_without_uma_fields_rounds_to_its_outcome():
    slug = "nba-will-the-mavericks-beat-the-grizzlies-by-more-than-5pt5-points-in-their-december-4-matchup"
    nba = one("markets_legacy_amm.json", slug)
    assert (nba.state, nba.resolved_value) == ("resolved", 0.0)


def test_outcomes_that_are_not_yes_no_are_an_error_for_that_slug_only():
    payload = load("markets_spain_argentina_spread.json") + load("markets_open_xi.json")
    slugs = ["fifwc-esp-arg-2026-07-19-spread-home-1pt5", "xi-jinping-out-before-2027"]
    report = parse_markets(payload, slugs, NOW)
    assert report.errors == {slugs[0]: "outcomes are Spain, Argentina, not Yes/No"}
    assert [s.symbol for s in report.series] == [slugs[1]]


def test_a_slug_gamma_did_not_return_is_named():
    report = parse_markets(load("markets_open_xi.json"), ["no-such-market"], NOW)
    assert report.errors == {"no-such-market": "no such market"}
    assert report.missing == {"no-such-market"}


def test_outcomes_are_matched_by_name_not_position():
    market = load("markets_open_xi.json")[0]
    market["outcomes"] = '["No", "Yes"]'  # the same prices, read the other way round
    report = parse_markets([market], [market["slug"]], NOW)
    assert report.series[0].points[0].value == pytest.approx(0.9545)


def test_native_arrays_are_accepted_as_well_as_json_strings():
    market = load("markets_open_xi.json")[0]
    market["outcomes"] = json.loads(market["outcomes"])
    market["outcomePrices"] = json.loads(market["outcomePrices"])
    report = parse_markets([market], [market["slug"]], NOW)
    assert report.series[0].points[0].value == pytest.approx(0.0455)


def test_an_object_where_gamma_sends_a_list_is_a_payload_error():
    with pytest.raises(PayloadError, match="JSON array"):
        parse_markets({"type": "not found error", "error": "id not found"}, ["x"], NOW)


def test_clob_history_is_hourly_points_at_irregular_seconds():
    points = parse_history(load("prices_history_abiy.json"))
    assert len(points) == 12
    assert points[0] == (datetime.fromtimestamp(1779465615, UTC), 0.9705)
    assert points[-1][1] == 0.9695


def test_empty_clob_history_is_no_points_not_an_error():
    assert parse_history(load("prices_history_empty.json")) == []


def test_search_lists_each_market_of_each_event():
    found = parse_search(load("public_search_ethiopia.json"))
    assert [f["slug"] for f in found] == [
        "will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia",
        "will-belete-molla-be-the-next-prime-minister-of-ethiopia",
    ]
    assert found[0]["question"] == "Will Abiy Ahmed be the next Prime Minister of Ethiopia?"
    assert found[0]["yes_price"] == 1.0
    assert found[0]["closed"] is True
    assert found[0]["end_date"] == "2026-06-02T03:59:00Z"
    assert found[0]["event"] == "next-prime-minister-of-ethiopia"
