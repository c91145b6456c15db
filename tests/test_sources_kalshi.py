"""Kalshi parsing on recorded trade-api v2 responses (tests/fixtures/kalshi/SOURCES.md),
and a poll's requests against a loopback server replaying them."""

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.replay import FIXTURES, ReplayServer, Reply
from tracker.sources import kalshi
from tracker.sources.base import PayloadError
from tracker.sources.http import HttpClient
from tracker.sources.kalshi import parse_candlesticks, parse_market

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
OPEN_LIST = "markets_list_open_KXNCAAFTOTAL-26SEP18MIAWAKE.json"  # cursor ""
SETTLED_LIST = "markets_list_settled_KXNCAAFTOTAL_with_cursor.json"  # a real non-empty cursor
POPE = "KXNEWPOPE-70-PPAR"


def load(name):
    return json.loads((FIXTURES / "kalshi" / name).read_text())


def tickers_in(name):
    return [m["ticker"] for m in load(name)["markets"]]


def kalshi_markets(*files: str):
    """A ``/markets`` route answering as Kalshi's list does: ``{"cursor": "", "markets":
    [...]}`` holding the recorded market objects (from these files under
    tests/fixtures/kalshi, single-market or list answers) whose ticker was asked for."""
    pool = []
    for name in files:
        payload = load(name)
        pool += payload["markets"] if "markets" in payload else [payload["market"]]

    def answer(query: dict[str, list[str]]) -> Reply:
        wanted = set(",".join(query.get("tickers", [])).split(","))
        return Reply(json.dumps({"cursor": "", "markets": [m for m in pool if m["ticker"] in wanted]}).encode())

    return answer


def poll(server: ReplayServer, tickers: list[str], **client):
    """One Kalshi fetch of these tickers, as a poll cycle makes it."""
    settings = SimpleNamespace(sources=SimpleNamespace(kalshi=SimpleNamespace(base_url=server.url)))

    async def go():
        async with HttpClient(**{"retries": 0, "timeout": 5.0} | client) as http:
            return await kalshi.SOURCE.fetch(http, settings, dict.fromkeys(tickers), NOW)

    return asyncio.run(go())


def list_queries(server: ReplayServer) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(r).query) for r in server.requests if urlsplit(r).path == "/markets"]


def values(report) -> dict[str, float]:
    return {s.symbol: s.points[0].value for s in report.series}


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


# --- a poll: one list request for many tickers ----------------------------------------------


def test_a_poll_of_several_tickers_is_one_request_and_stores_each():
    tickers = tickers_in(OPEN_LIST)
    with ReplayServer() as server:
        server.add("/markets", Reply.file(f"kalshi/{OPEN_LIST}"))
        report = poll(server, tickers)
    assert len(server.requests) == 1
    [query] = list_queries(server)
    assert query["tickers"] == [",".join(tickers)]
    assert int(query["limit"][0]) >= len(tickers)
    assert not report.errors
    # The midpoints of the recorded yes bid/ask: 0.44/0.46, 0.15/0.16, 0.42/0.44.
    assert values(report) == pytest.approx(dict(zip(tickers, [0.45, 0.155, 0.43])))
    assert {s.meta["event_ticker"] for s in report.series} == {"KXNCAAFTOTAL-26SEP18MIAWAKE"}


def test_a_ticker_missing_from_the_list_gets_its_own_request_and_its_own_404():
    tickers = [*tickers_in(OPEN_LIST), POPE, "KX-NO-SUCH-MARKET"]
    with ReplayServer() as server:
        # The recorded list holds only the ladder's three markets: the others are absent,
        # as Kalshi leaves out unknown and archived tickers.
        server.add("/markets", Reply.file(f"kalshi/{OPEN_LIST}"))
        server.add(f"/markets/{POPE}", Reply.file(f"kalshi/market_open_{POPE}.json"))
        report = poll(server, tickers)
    assert sorted(r for r in server.requests if not r.startswith("/markets?")) == [
        "/markets/KX-NO-SUCH-MARKET", f"/markets/{POPE}"]
    assert len(list_queries(server)) == 1
    assert set(values(report)) == set(tickers) - {"KX-NO-SUCH-MARKET"}
    assert values(report)[POPE] == pytest.approx(0.049)
    assert report.errors == {"KX-NO-SUCH-MARKET": "no such market"}
    assert report.missing == {"KX-NO-SUCH-MARKET"}


def test_the_cursor_is_followed_until_the_last_page():
    """Page one is the recorded settled list, whose cursor is real; page two, served for
    that cursor, is the recorded open list (cursor ""). Both pages are real answers; their
    chaining is the test's."""
    settled, ladder = tickers_in(SETTLED_LIST), tickers_in(OPEN_LIST)
    cursor = load(SETTLED_LIST)["cursor"]
    with ReplayServer() as server:
        server.add("/markets", Reply.file(f"kalshi/{OPEN_LIST}"), cursor=cursor)
        server.add("/markets", Reply.file(f"kalshi/{SETTLED_LIST}"))
        report = poll(server, settled + ladder)
    first, second = list_queries(server)
    assert "cursor" not in first and second["cursor"] == [cursor]
    assert first["tickers"] == second["tickers"] == [",".join(settled + ladder)]
    assert len(server.requests) == 2 and not report.errors
    by_ticker = {s.symbol: s for s in report.series}
    assert [(by_ticker[t].state, by_ticker[t].resolved_value) for t in settled] == [
        ("resolved", 0.0), ("resolved", 1.0), ("resolved", 1.0)]
    assert all(by_ticker[t].state == "open" for t in ladder)


def test_a_cursor_is_not_followed_once_every_ticker_is_in_hand():
    with ReplayServer() as server:
        server.add("/markets", Reply.file(f"kalshi/{SETTLED_LIST}"))  # a cursor, 3 markets
        report = poll(server, tickers_in(SETTLED_LIST))
    assert len(server.requests) == 1 and len(report.series) == 3


def test_a_server_that_never_stops_sending_cursors_is_cut_off():
    missing = "KX-NO-SUCH-MARKET"
    with ReplayServer() as server:
        server.add("/markets", Reply.file(f"kalshi/{SETTLED_LIST}"))  # the same page, forever
        report = poll(server, [*tickers_in(SETTLED_LIST), missing])
    assert len(list_queries(server)) == kalshi.MAX_PAGES
    assert server.requests[-1] == f"/markets/{missing}"
    assert len(report.series) == 3 and set(report.errors) == {missing}


@pytest.mark.parametrize(
    "failure",
    [
        Reply(b"Internal Server Error", 500, "text/plain"),
        Reply((FIXTURES / "kalshi" / OPEN_LIST).read_bytes()[:900]),  # cut off mid-stream
        Reply(b"<!DOCTYPE html><html><body>Checking your browser</body></html>", 200, "text/html"),
    ],
    ids=["5xx after a retry", "truncated JSON", "HTML with 200"],
)
def test_a_failing_list_request_loses_no_ticker(failure):
    singles = {
        POPE: f"market_open_{POPE}.json",
        "KXESOCCERGAME-26OCT090639ADRIMIA-TIE": "market_yes_KXESOCCERGAME-26OCT090639ADRIMIA-TIE.json",
        "KXIDNSLSPREAD-26OCT09PKEMAU-PKE5": "market_no_KXIDNSLSPREAD-26OCT09PKEMAU-PKE5.json",
    }
    with ReplayServer() as server:
        server.add("/markets", failure)
        for ticker, fixture in singles.items():
            server.add(f"/markets/{ticker}", Reply.file(f"kalshi/{fixture}"))
        report = poll(server, [*singles, "KX-NO-SUCH-MARKET"], retries=1, backoff=0.01)
    # Every ticker fell back to its own request; each got its own answer.
    assert values(report) == pytest.approx({POPE: 0.049, "KXESOCCERGAME-26OCT090639ADRIMIA-TIE": 1.0,
                                            "KXIDNSLSPREAD-26OCT09PKEMAU-PKE5": 0.0})
    assert report.errors == {"KX-NO-SUCH-MARKET": "no such market"}
    assert report.missing == {"KX-NO-SUCH-MARKET"}
    assert len(list_queries(server)) == (2 if failure.status == 500 else 1)
    assert len(server.requests) - len(list_queries(server)) == 4


def test_a_rate_limited_list_is_not_followed_by_a_request_per_ticker():
    too_many = Reply(b'{"error": "too many requests"}', 429, headers={"Retry-After": "30"})
    with ReplayServer() as server:
        server.add("/markets", too_many)
        report = poll(server, tickers_in(OPEN_LIST))
    assert server.requests and all(urlsplit(r).path == "/markets" for r in server.requests)
    assert not report.series and set(report.errors) == set(tickers_in(OPEN_LIST))
    assert report.retry_after == 30


def test_a_lone_ticker_is_asked_for_on_its_own_path():
    with ReplayServer() as server:
        server.add(f"/markets/{POPE}", Reply.file(f"kalshi/market_open_{POPE}.json"))
        report = poll(server, [POPE])
    assert server.requests == [f"/markets/{POPE}"] and len(report.series) == 1


def test_many_tickers_go_in_batches(monkeypatch):
    monkeypatch.setattr(kalshi, "TICKERS_PER_REQUEST", 2)
    tickers = [*tickers_in(OPEN_LIST), *tickers_in(SETTLED_LIST)]
    with ReplayServer() as server:
        server.add("/markets", kalshi_markets(OPEN_LIST, SETTLED_LIST))
        report = poll(server, tickers)
    queries = list_queries(server)
    assert sorted(len(q["tickers"][0].split(",")) for q in queries) == [2, 2, 2]
    assert {int(q["limit"][0]) for q in queries} == {2}
    assert len(server.requests) == 3 and len(report.series) == 6
