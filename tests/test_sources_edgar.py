"""SEC EDGAR parsing on a recorded submissions payload (tests/fixtures/edgar/SOURCES.md),
and the fetch's request: the path, the zero-padded CIK and the User-Agent SEC asks for."""

import asyncio
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import httpx
import pytest

from tests.replay import FIXTURES
from tracker.config import ConfigError, settings_from_dict
from tracker.sources import SOURCES, group_of
from tracker.sources.base import PayloadError
from tracker.sources.edgar import SOURCE, parse_submissions, registration_filings
from tracker.sources.http import HttpClient

SPACEX = "submissions_CIK0001181412_spacex.json"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def load(name=SPACEX):
    return json.loads((FIXTURES / "edgar" / name).read_text())


def by_day(series):
    return {p.ts.date(): p.value for p in series.points}


def test_registration_filings_are_read_from_the_parallel_arrays():
    name, found = registration_filings(load(), "1181412")
    assert name == "SPACE EXPLORATION TECHNOLOGIES CORP"
    assert found == [
        (date(2026, 6, 3), "S-1/A"), (date(2026, 6, 1), "S-1/A"), (date(2026, 5, 20), "S-1"),
        (date(2026, 5, 7), "DRS/A"), (date(2026, 3, 30), "DRS"),
    ]


def test_a_point_per_filing_day_and_one_for_the_day_of_the_fetch():
    series = parse_submissions(load(), "1181412", date(2026, 11, 30))
    assert (series.symbol, series.unit) == ("1181412", "filings")
    assert by_day(series) == {
        date(2026, 3, 30): 1.0, date(2026, 5, 7): 1.0, date(2026, 5, 20): 1.0,
        date(2026, 6, 1): 1.0, date(2026, 6, 3): 1.0, date(2026, 11, 30): 0.0,
    }
    assert all(p.ts.tzinfo is UTC and p.ts.hour == 0 for p in series.points)
    assert [p.ts for p in series.points] == sorted(p.ts for p in series.points)


def test_forms_that_are_not_registration_statements_are_left_out():
    # The payload also holds a 424B4 prospectus, a DRSLTR letter, Form D and REGDEX notices.
    series = parse_submissions(load(), "1181412", date(2026, 11, 30))
    assert date(2026, 6, 12) not in by_day(series)  # 424B4
    assert not any(d.year < 2026 for d in by_day(series))  # Form D 2009-2022, REGDEX


def test_the_fetch_day_holds_the_count_when_something_was_filed_that_day():
    series = parse_submissions(load(), "1181412", date(2026, 5, 20))
    assert by_day(series)[date(2026, 5, 20)] == 1.0
    assert len(series.points) == 5


def test_a_leading_zero_cik_is_the_same_filer():
    assert parse_submissions(load(), "0001181412", date(2026, 11, 30)).name


def test_a_payload_for_another_filer_is_refused():
    with pytest.raises(PayloadError, match="not 320193"):
        parse_submissions(load(), "320193", date(2026, 11, 30))


def test_lists_of_different_lengths_are_refused():
    payload = load()
    payload["filings"]["recent"]["form"].pop()
    with pytest.raises(PayloadError, match="differ in length"):
        parse_submissions(payload, "1181412", date(2026, 11, 30))


@pytest.mark.parametrize("payload", [[], {"cik": "1181412"}, {"cik": "1181412", "filings": {}},
                                     {"cik": "1181412", "filings": {"recent": {"form": []}}}])
def test_a_payload_without_recent_filings_is_refused(payload):
    with pytest.raises(PayloadError):
        parse_submissions(payload, "1181412", date(2026, 11, 30))


def test_a_bad_filing_date_is_refused():
    payload = load()
    recent = payload["filings"]["recent"]
    recent["filingDate"][recent["form"].index("S-1")] = "20 May 2026"
    with pytest.raises(PayloadError, match="bad filingDate"):
        parse_submissions(payload, "1181412", date(2026, 11, 30))


def test_the_name_is_kept_as_one_line_of_plain_text():
    payload = load() | {"name": "  ACME <b>CORP</b>\n\tINC  "}
    assert parse_submissions(payload, "1181412", date(2026, 11, 30)).name == "ACME <b>CORP</b> INC"


def test_edgar_is_polled_with_the_macro_group():
    assert "edgar" in SOURCES and group_of("edgar") == "macro"


def test_config_defaults_and_a_user_agent_must_be_one_line():
    edgar = settings_from_dict({}).sources.edgar
    assert edgar.base_url == "https://data.sec.gov"
    assert "@" in edgar.user_agent and "user_agent" in edgar.user_agent
    mine = settings_from_dict({"sources": {"edgar": {"user_agent": "Jane Doe jane@example.com"}}})
    assert mine.sources.edgar.user_agent == "Jane Doe jane@example.com"
    for bad in ("", "Jane\r\nX-Injected: 1", "Jané jane@example.com"):
        with pytest.raises(ConfigError, match="sources.edgar.user_agent"):
            settings_from_dict({"sources": {"edgar": {"user_agent": bad}}})


def poll(handler, symbols, base="https://edgar.test"):
    settings = SimpleNamespace(sources=SimpleNamespace(edgar=SimpleNamespace(
        base_url=base, user_agent="Jane Doe jane@example.com")))

    async def go():
        async with HttpClient(retries=0, timeout=5.0, transport=httpx.MockTransport(handler)) as http:
            return await SOURCE.fetch(http, settings, symbols, NOW)

    return asyncio.run(go())


def test_the_fetch_asks_for_the_padded_cik_and_names_itself():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, content=(FIXTURES / "edgar" / SPACEX).read_bytes())

    report = poll(handler, {"1181412": date(2023, 1, 1)})
    assert report.errors == {}
    [series] = report.series
    assert series.name == "SPACE EXPLORATION TECHNOLOGIES CORP"
    assert by_day(series)[NOW.date()] == 0.0
    [request] = seen
    assert request.url == "https://edgar.test/submissions/CIK0001181412.json"
    assert request.headers["User-Agent"] == "Jane Doe jane@example.com"


def test_an_unknown_cik_and_a_refusal_are_said_plainly():
    def handler(request):
        return httpx.Response(404 if "0000000042" in request.url.path else 403, text="no")

    report = poll(handler, {"42": date(2026, 1, 1), "7": date(2026, 1, 1)})
    assert report.errors["42"] == "no such filer: EDGAR has no CIK 42"
    assert report.missing == {"42"}  # a link that does not exist, not a failing source
    assert "user_agent" in report.errors["7"]


def test_a_symbol_that_is_not_a_cik_is_never_requested():
    def handler(request):
        raise AssertionError(f"requested {request.url}")

    report = poll(handler, {"SPCX": date(2026, 1, 1)})
    assert "not a CIK" in report.errors["SPCX"]


def test_history_keeps_the_filings_in_the_window():
    def handler(request):
        return httpx.Response(200, content=(FIXTURES / "edgar" / SPACEX).read_bytes())

    settings = SimpleNamespace(sources=SimpleNamespace(edgar=SimpleNamespace(
        base_url="https://edgar.test", user_agent="Jane Doe jane@example.com")))

    async def go():
        async with HttpClient(retries=0, transport=httpx.MockTransport(handler)) as http:
            window = (datetime(2026, 5, 1, tzinfo=UTC), NOW)
            return [s async for s in SOURCE.history(http, settings, "1181412", None, [window])]

    [series] = asyncio.run(go())
    assert list(by_day(series)) == [date(2026, 5, 7), date(2026, 5, 20), date(2026, 6, 1),
                                    date(2026, 6, 3), NOW.date()]
