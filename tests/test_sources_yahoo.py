"""Yahoo chart v8 parsing on recorded responses (tests/fixtures/yahoo/SOURCES.md)."""

import asyncio
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import httpx
import pytest
import respx

from tests.replay import FIXTURES, ReplayServer, Reply
from tracker.sources import yahoo
from tracker.sources.base import NotFound, PayloadError
from tracker.sources.http import HttpClient
from tracker.sources.yahoo import parse_chart


def load(name):
    return json.loads((FIXTURES / "yahoo" / name).read_text())


def dates(series):
    return [p.ts.date() for p in series.points]


def test_daily_bars_are_keyed_by_the_exchange_trading_date():
    series = parse_chart(load("BATS.L_1d_period.json"), "BATS.L")
    # Bars are stamped 08:00 London (07:00 UTC): the date is London's, stored at 00:00 UTC.
    assert len(series.points) == 20
    assert series.points[0].ts == datetime(2026, 8, 28, tzinfo=UTC)
    assert series.points[-1].ts == datetime(2026, 9, 25, tzinfo=UTC)
    assert series.points[-1].value == 4180.0
    assert series.points[0].high == pytest.approx(4222.4150390625)
    assert series.points[0].low == 4126.0
    assert series.unit == "GBp"  # pence, not pounds: the unit travels with the series
    # The company's name as it writes it, not Yahoo's cut short name.
    assert series.name == "British American Tobacco p.l.c."


def test_new_york_session_start_stays_on_its_own_day():
    series = parse_chart(load("AMZN_1d_range1d.json"), "AMZN")
    # 13:30 UTC on 2026-09-25 is 09:30 in New York: one bar, that day.
    assert dates(series) == [date(2026, 9, 25)]
    assert series.points[0].value == pytest.approx(249.6699981689453)
    assert series.name == "Amazon.com, Inc."


def test_null_bar_is_dropped_and_the_live_bar_keeps_its_date():
    series = parse_chart(load("600497.SS_1d_null_bar_live_bar.json"), "600497.SS")
    # 9 timestamps, the first all-null: 8 points, none of them invented.
    assert len(series.points) == 8
    assert date(2017, 11, 15) not in dates(series)
    # The live bar is stamped 15:00:03 Shanghai, not the 09:30 session start: still 27 Nov.
    assert dates(series)[-1] == date(2017, 11, 27)
    assert series.points[-1].value == pytest.approx(6.510000228881836)


def test_two_bars_on_one_trading_date_keep_the_later_one():
    payload = load("600497.SS_1d_null_bar_live_bar.json")
    result = payload["chart"]["result"][0]
    # Yahoo can repeat today as a separate live bar: append one more bar on 27 Nov.
    result["timestamp"].append(1511766003 + 600)
    for column in result["indicators"]["quote"][0].values():
        column.append(column[-1])
    result["indicators"]["quote"][0]["close"][-1] = 6.6
    series = parse_chart(payload, "600497.SS")
    assert dates(series).count(date(2017, 11, 27)) == 1
    assert series.points[-1].value == 6.6


def test_empty_window_is_no_points_not_an_error():
    series = parse_chart(load("APPL_empty_window_null_currency.json"), "APPL")
    assert series.points == []
    assert series.unit is None


def test_not_found_body_names_yahoos_reason():
    with pytest.raises(NotFound, match="no such symbol: .*No data found, symbol may be delisted"):
        parse_chart(load("INVALID.BO_404_not_found.json"), "INVALID.BO")


def test_payload_without_a_result_is_a_payload_error():
    payload = load("BATS.L_1d_period.json")
    del payload["chart"]["result"]
    with pytest.raises(PayloadError):
        parse_chart(payload, "BATS.L")


def test_misaligned_arrays_are_refused_rather_than_guessed():
    payload = load("BATS.L_1d_period.json")
    payload["chart"]["result"][0]["indicators"]["quote"][0]["close"].pop()
    with pytest.raises(PayloadError, match="20 timestamps but 19 closes"):
        parse_chart(payload, "BATS.L")


def test_a_total_return_series_reads_the_adjusted_closes():
    payload = load("BATS.L_1d_period.json")
    adjusted = payload["chart"]["result"][0]["indicators"]["adjclose"][0]["adjclose"]
    series = parse_chart(payload, "BATS.L#total", total_return=True)
    assert [p.value for p in series.points] == [pytest.approx(v) for v in adjusted]
    # Highs and lows are of the unadjusted prices: a total return has none.
    assert all(p.high is None and p.low is None for p in series.points)
    assert series.symbol == "BATS.L#total"


@respx.mock
def test_a_total_return_series_asks_yahoo_for_the_plain_ticker():
    from tracker.config import settings_from_dict

    settings = settings_from_dict({})
    chart = respx.get(f"{settings.sources.yahoo.base_url}/v8/finance/chart/BATS.L").mock(
        return_value=httpx.Response(200, content=(FIXTURES / "yahoo" / "BATS.L_1d_period.json").read_bytes()))

    async def go():
        async with HttpClient() as http:
            return await yahoo.SOURCE.fetch(http, settings, {"BATS.L#total": date(2026, 9, 1)},
                                            datetime(2026, 9, 26, tzinfo=UTC))

    report = asyncio.run(go())
    assert chart.called and not report.errors
    [series] = report.series
    assert series.symbol == "BATS.L#total" and series.points[0].high is None


def fetch(server, symbols):
    """One Yahoo fetch of these symbols, as a poll cycle makes it."""
    settings = SimpleNamespace(sources=SimpleNamespace(yahoo=SimpleNamespace(base_url=server.url)))

    async def go():
        async with HttpClient(retries=0, timeout=5.0) as http:
            return await yahoo.SOURCE.fetch(http, settings, dict.fromkeys(symbols, date(2026, 8, 1)),
                                            datetime(2026, 9, 26, tzinfo=UTC))

    return asyncio.run(go())


def test_a_404_with_yahoos_not_found_body_marks_that_symbol_missing():
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        server.add("/v8/finance/chart/INVALID.BO",
                   Reply.file("yahoo/INVALID.BO_404_not_found.json", status=404))
        # Any other path answers a bare 404: not Yahoo saying the symbol is unknown.
        report = fetch(server, ["BATS.L", "INVALID.BO", "NOT.ROUTED"])
    assert [s.symbol for s in report.series] == ["BATS.L"]
    assert report.missing == {"INVALID.BO"}
    assert report.errors["INVALID.BO"].startswith("no such symbol: Yahoo says Not Found")
    assert report.errors["NOT.ROUTED"] == f"HTTP 404 from {server.url.removeprefix('http://')}"
