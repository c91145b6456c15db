"""Every source in the registry through the same replayed fetch and history, and the same
checks: the promises of the Source protocol (tracker/sources/base.py).

respx serves each source the recorded answers of tests/fixtures (see each SOURCES.md) at
its real URLs. CASES says, per source, which recorded answers stand for a known symbol,
an unknown one and a window of history. The tests run over SOURCES, not over CASES: a
new source fails here until it has a row, and then gets every check.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import import_module

import httpx
import pytest
import respx

from tests.replay import FIXTURES
from tracker.config import Settings, settings_from_dict
from tracker.sources import SOURCES, load_source
from tracker.sources.base import HistorySource, SeriesData, Source, SourceError, SourceReport
from tracker.sources.http import HttpClient

FRED_KEY_ENV = "TRACKER_CONTRACT_FRED_KEY"  # with a key, FRED answers JSON (the API)
SETTINGS = settings_from_dict({"sources": {"fred": {"api_key_env": FRED_KEY_ENV}}})
NOW = datetime(2026, 9, 27, 6, tzinfo=UTC)
SINCE = date(2026, 8, 1)

# What a server sends when the API behind it is down, or a wall stands in front of it.
NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
             b"</body>\r\n</html>\r\n")
CHALLENGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
             b"<body>Checking your browser</body></html>")


def recorded(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def answer(relative: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=recorded(relative),
                          headers={"Content-Type": "application/json"})


@dataclass(frozen=True)
class Case:
    known: str  # a symbol the recorded answers are for
    unknown: str  # a symbol the API answers does not exist
    serve: Callable[[respx.MockRouter, Settings], None]  # routes to the recorded answers
    # A window of history the recorded answers cover; None for a source without history.
    window: tuple[datetime, datetime] | None


def serve_yahoo(mock: respx.MockRouter, settings: Settings) -> None:
    chart = f"{settings.sources.yahoo.base_url}/v8/finance/chart"
    # 20 daily bars, 2026-08-28 to 2026-09-25, whatever the span asked for.
    mock.get(f"{chart}/BATS.L").mock(return_value=answer("yahoo/BATS.L_1d_period.json"))
    mock.get(f"{chart}/INVALID.BO").mock(
        return_value=answer("yahoo/INVALID.BO_404_not_found.json", 404))


def serve_fred(mock: respx.MockRouter, settings: Settings) -> None:
    observations = f"{settings.sources.fred.api_url}/fred/series/observations"
    # GDPC1 from its start: 1947Q1 to 1948Q1 in the recording.
    mock.get(observations, params={"series_id": "GDPC1"}).mock(
        return_value=answer("fred/GDPC1_api_observations.json"))
    mock.get(observations, params={"series_id": "NOSUCHSERIES"}).mock(
        return_value=answer("fred/series_does_not_exist_400.json", 400))


ETHIOPIA = json.loads(recorded("polymarket/markets_ethiopia_resolved.json"))


def serve_polymarket(mock: respx.MockRouter, settings: Settings) -> None:
    config = settings.sources.polymarket

    def gamma(request: httpx.Request) -> httpx.Response:
        # Gamma's array holds the markets whose slug was asked for, and nothing for a slug
        # it does not know.
        wanted = set(request.url.params.get_list("slug"))
        return httpx.Response(200, json=[m for m in ETHIOPIA if m["slug"] in wanted])

    mock.get(f"{config.gamma_url}/markets").mock(side_effect=gamma)
    # 12 hourly prices, 2026-05-22 16:00 to 2026-05-23 03:00.
    mock.get(f"{config.clob_url}/prices-history").mock(
        return_value=answer("polymarket/prices_history_abiy.json"))


POPE = json.loads(recorded("kalshi/market_open_KXNEWPOPE-70-PPAR.json"))["market"]


def serve_kalshi(mock: respx.MockRouter, settings: Settings) -> None:
    base = settings.sources.kalshi.base_url

    def listed(request: httpx.Request) -> httpx.Response:
        # The list's envelope around the recorded market, when its ticker was asked for
        # (tests/fixtures/kalshi/SOURCES.md): an unknown ticker is simply not listed.
        wanted = request.url.params.get("tickers", "").split(",")
        markets = [m for m in [POPE] if m["ticker"] in wanted]
        return httpx.Response(200, json={"cursor": "", "markets": markets})

    mock.get(f"{base}/markets").mock(side_effect=listed)
    mock.get(f"{base}/markets/KXNEWPOPE-70-PPAR").mock(
        return_value=answer("kalshi/market_open_KXNEWPOPE-70-PPAR.json"))
    mock.get(f"{base}/markets/KXNOSUCH-26").mock(return_value=httpx.Response(404))
    mock.get(f"{base}/events/KXNEWPOPE-70").mock(
        return_value=answer("kalshi/event_KXNEWPOPE-70.json"))
    # Recorded candles of another market (any will do): three hours of 2026-09-06.
    mock.get(f"{base}/series/KXNEWPOPE/markets/KXNEWPOPE-70-PPAR/candlesticks").mock(
        return_value=answer("kalshi/candles_live_KXFEDDECISION-26SEP-C26.json"))


def serve_edgar(mock: respx.MockRouter, settings: Settings) -> None:
    submissions = f"{settings.sources.edgar.base_url}/submissions"
    # Registration filings from 2026-03-30 to 2026-06-03.
    mock.get(f"{submissions}/CIK0001181412.json").mock(
        return_value=answer("edgar/submissions_CIK0001181412_spacex.json"))
    mock.get(f"{submissions}/CIK0000000042.json").mock(return_value=httpx.Response(404))


def days(first: str, last: str) -> tuple[datetime, datetime]:
    return (datetime.fromisoformat(first).replace(tzinfo=UTC),
            datetime.fromisoformat(last).replace(tzinfo=UTC))


# Windows narrower than what the recording holds, where the source keeps to its window
# itself; FRED answers exactly the days asked for, so its window is the recording's.
CASES: dict[str, Case] = {
    "yahoo": Case("BATS.L", "INVALID.BO", serve_yahoo, days("2026-09-01", "2026-09-15")),
    "fred": Case("GDPC1", "NOSUCHSERIES", serve_fred, days("1947-01-01", "1948-01-01")),
    "polymarket": Case(ETHIOPIA[0]["slug"], "no-such-market-slug", serve_polymarket,
                       days("2026-05-22", "2026-05-23")),
    "kalshi": Case("KXNEWPOPE-70-PPAR", "KXNOSUCH-26", serve_kalshi,
                   days("2026-09-06", "2026-09-07")),
    "edgar": Case("1181412", "42", serve_edgar, days("2026-05-01", "2026-06-02")),
}


@pytest.fixture(autouse=True)
def fred_key(monkeypatch):
    monkeypatch.setenv(FRED_KEY_ENV, "contract-test-key")


def case_of(name: str) -> Case:
    assert name in CASES, f"source {name!r} has no row in CASES: give it recorded answers"
    return CASES[name]


def replay(name: str, work, serve=None):
    """``work(source, http)`` against the recorded answers (or ``serve``'s routes); any
    request nobody routed fails the test."""
    case = case_of(name)

    async def go():
        async with HttpClient(retries=0, timeout=5.0) as http:
            return await work(load_source(name), http)

    with respx.mock(assert_all_called=False) as mock:
        (serve or case.serve)(mock, SETTINGS)
        return asyncio.run(go())


def fetch(name: str, symbols: list[str], serve=None) -> SourceReport:
    async def work(source, http):
        return await source.fetch(http, SETTINGS, dict.fromkeys(symbols, SINCE), NOW)

    return replay(name, work, serve)


def history(name: str, windows, serve=None) -> list[SeriesData]:
    async def work(source, http):
        read = source.history(http, SETTINGS, case_of(name).known, None, windows)
        return [series async for series in read]

    return replay(name, work, serve)


def html_everywhere(status: int, body: bytes):
    def serve(mock: respx.MockRouter, _settings: Settings) -> None:
        mock.route().mock(return_value=httpx.Response(
            status, content=body, headers={"Content-Type": "text/html"}))

    return serve


def assert_points(series: SeriesData) -> None:
    assert series.points, f"{series.symbol}: no points"
    for p in series.points:
        assert p.ts.utcoffset() == timedelta(0), p
        assert type(p.value) is float and math.isfinite(p.value), p
        assert p.high is None or type(p.high) is float, p
        assert p.low is None or type(p.low) is float, p
    assert [p.ts for p in series.points] == sorted(p.ts for p in series.points)


def one_line(message: str) -> bool:
    """A message for the user: one printable line, foreseen (not an unexpected exception),
    with no markup from the body echoed."""
    foreseen = "unexpected" not in message and "<" not in message
    return bool(message) and message.isprintable() and foreseen


def test_every_row_is_a_registered_source():
    assert set(CASES) <= set(SOURCES)


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_registry_loads_one_instance_that_satisfies_the_protocol(name):
    case = case_of(name)
    source = load_source(name)
    assert isinstance(source, Source) and source.name == name
    assert source is import_module(SOURCES[name].module).SOURCE
    assert isinstance(source, HistorySource) == (case.window is not None)


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_known_symbol_gives_utc_points_with_float_values(name):
    case = case_of(name)
    report = fetch(name, [case.known])
    assert report.source == name and report.errors == {}
    [series] = report.series
    assert series.symbol == case.known
    assert_points(series)


@pytest.mark.parametrize("name", list(SOURCES))
def test_an_unknown_symbol_is_reported_on_its_own(name):
    case = case_of(name)
    report = fetch(name, [case.known, case.unknown])
    assert [s.symbol for s in report.series] == [case.known]
    assert list(report.errors) == [case.unknown] and report.missing == {case.unknown}
    assert one_line(report.errors[case.unknown])


@pytest.mark.parametrize("page", [(502, NGINX_502), (200, CHALLENGE)], ids=["502", "200"])
@pytest.mark.parametrize("name", list(SOURCES))
def test_an_html_page_is_a_one_line_error_for_each_symbol(name, page):
    case = case_of(name)
    report = fetch(name, [case.known, case.unknown], html_everywhere(*page))
    assert report.series == [] and set(report.errors) == {case.known, case.unknown}
    assert all(one_line(message) for message in report.errors.values()), report.errors
    if case.window is not None:
        with pytest.raises(SourceError) as failed:
            history(name, [case.window], html_everywhere(*page))
        assert one_line(str(failed.value))


@pytest.mark.parametrize("name", list(SOURCES))
def test_history_gives_the_points_inside_its_window(name):
    case = case_of(name)
    if case.window is None:
        pytest.skip(f"{name} offers no history")
    start, end = case.window
    [series] = history(name, [case.window])
    assert series.symbol == case.known
    assert_points(series)
    assert all(start <= p.ts <= end for p in series.points), (case.window, series.points)
