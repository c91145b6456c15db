"""Kalshi parsing on recorded trade-api v2 responses (tests/fixtures/kalshi/SOURCES.md)."""

import json
from datetime import UTC, datetime

import pytest

from tests.replay import FIXTURES
from tracker.sources.base import PayloadError
from tracker.sources.kalshi import parse_candlesticks, parse_market

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def load(name):
    return json.loads((FIXTURES / "kalshi" / name).read_text())


def test_open_market_is_the_midpoint_of_its_dollar_quotes():
    market = parse_market(load("market_open_KXNEWPOPE-70-PPAR.json"), "KXNEWPOPE-70-PPAR", NOW)
    # yes_bid_dollars "0.0400", yes_ask_dollars "0.0580": sub-penny quotes, as strings.
    assert market.points[0].value == pytest.approx(0.049)
    assert (market.state, market.resolved_value) == ("open", None)
    assert market.name == "Who will the next Pope be?"
    assert market.meta == {"event_ticker": "KXNEWPOPE-70"}


@pytest.mark.parametrize(
    ("fixture", "value"),
    [
        ("market_yes_KXESOCCERGAME-26OCT090639ADRIMIA-TIE.json", 1.0),
        ("market_no_KXIDNSLSPREAD-26OCT09PKEMAU-PKE5.json", 0.0),
    ],
)
def test_finalized_market_settles_on_its_result_not_its_collapsed_quotes(fixture, value):
    market = parse_market(load(fixture), "T", NOW)
    assert (market.state, market.resolved_value, market.points[0].value) == ("resolved", value, value)


def test_scalar_result_settles_at_its_settlement_value():
    market = parse_market(load("market_scalar_KXESOCCERGAME-26OCT091657FROSPEDR-TIE.json"), "T", NOW)
    assert (market.state, market.resolved_value) == ("resolved", pytest.approx(0.33))


def test_the_old_integer_cent_schema_is_refused_by_name():
    payload = {"market": {"ticker": "T", "status": "active", "result": "", "yes_bid": 4, "yes_ask": 6}}
    with pytest.raises(PayloadError, match="integer-cent"):
        parse_market(payload, "T", NOW)


def test_an_error_body_is_a_payload_error():
    with pytest.raises(PayloadError, match="market"):
        parse_market({"error": {"code": "not_found", "message": "not found"}}, "T", NOW)


def test_quiet_live_candles_carry_the_last_trade():
    points = parse_candlesticks(load("candles_live_KXFEDDECISION-26SEP-C26.json"))
    # No trade and no bid (0.0000): the last trade before the hour, previous_dollars.
    assert [p.value for p in points] == [0.01, 0.01, 0.01]
    assert points[0].ts == datetime.fromtimestamp(1788674400, UTC)


def test_historical_candles_read_unsuffixed_names_and_null_closes():
    points = parse_candlesticks(load("candles_historical_KXFEDDECISION-26JUL-H26.json"))
    assert [p.ts for p in points] == [
        datetime.fromtimestamp(ts, UTC) for ts in (1784444400, 1784469600, 1784476800)
    ]
    # The middle bar's close is null: its previous trade stands in.
    assert [p.value for p in points] == [0.01, 0.01, 0.01]


def test_a_candle_without_a_time_is_a_payload_error():
    with pytest.raises(PayloadError, match="end_period_ts"):
        parse_candlesticks({"candlesticks": [{"price": {"close_dollars": "0.5"}}]})
