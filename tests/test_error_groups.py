"""One unreachable host is one line, wherever errors show: `poll`, `series`, `health`,
the daemon's log and the digest. The whole detail stays in `health --verbose`."""

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from db import queries
from db.engine import open_database
from jobs.digest import gather
from tests.sources_fixtures import replay_config
from tests.test_poll_end_to_end import tracker
from tracker.config import load_settings
from tracker.digest.render import render_html, render_text
from tracker.errorgroups import Cause, cause_lines, cause_of, group_errors, in_one_line
from tracker.registry import load_registry
from tracker.service.poll import run_cycle

YAHOO = "https://query2.finance.yahoo.com"
# What httpx raises when getaddrinfo cannot resolve the host (glibc's words).
DNS_FAILURE = "[Errno -2] Name or service not known"
SYMBOLS = ["^GSPC", "^IXIC", "^N225", "^FTSE", "HG=F", "CL=F", "GC=F", "SI=F", "BZ=F",
           "BTC-USD", "ETH-USD", "AMZN", "NVDA", "AAPL", "TSLA", "BATS.L", "DX-Y.NYB"]
GROUPED = "yahoo: cannot resolve query2.finance.yahoo.com (17 series)"
T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def unresolvable(tmp_path, caplog):
    """A poll of 17 Yahoo series whose host does not resolve, and what it logged."""
    config = replay_config(tmp_path, YAHOO, symbols=SYMBOLS)
    settings = load_settings(str(config))
    registry, engine = load_registry(settings), open_database(settings.database.url)
    queries.upsert_series(engine, [{"id": f"yahoo:{s}", "source": "yahoo", "symbol": s,
                                    "first_seen_at": T0} for s in SYMBOLS])
    queries.upsert_observations(engine, [{"series_id": f"yahoo:{s}", "ts": T0, "value": 1.0,
                                          "fetched_at": T0} for s in SYMBOLS])
    caplog.set_level(logging.INFO, logger="tracker")
    with respx.mock:
        respx.route(host="query2.finance.yahoo.com").mock(
            side_effect=httpx.ConnectError(DNS_FAILURE))
        result = run_cycle(settings, registry, engine, now=T0 + timedelta(hours=1))
    logged = [(r.levelno, r.getMessage()) for r in caplog.records]
    yield config, settings, registry, engine, result, logged
    engine.dispose()


def test_a_poll_says_it_once(unresolvable):
    *_, result, logged = unresolvable
    (line,) = result.lines
    assert str(line) == f"yahoo: FAILED: {GROUPED.removeprefix('yahoo: ')}"
    assert [message for level, message in logged if level == logging.ERROR] == [str(line)]


def test_series_and_health_say_it_once_and_verbose_says_it_all(unresolvable):
    config, *_ = unresolvable
    health = tracker(config, "health")
    assert health.returncode == 1, health.stderr  # no daemon leads here: the verdict fails
    assert f"  {GROUPED}\n" in health.stdout
    assert DNS_FAILURE not in health.stdout
    assert health.stdout.splitlines()[1:2] == [f"  {GROUPED}"]

    verbose = tracker(config, "health", "--verbose").stdout
    for symbol in SYMBOLS:
        assert (f"  yahoo:{symbol}: cannot reach query2.finance.yahoo.com: {DNS_FAILURE}\n"
                in verbose)

    data = json.loads(tracker(config, "health", "--json").stdout)
    (source,) = data["sources"]
    assert source["causes"] == [{"cause": "cannot resolve query2.finance.yahoo.com",
                                 "symbols": sorted(SYMBOLS)}]
    assert source["last_error"].count(DNS_FAILURE) == 17  # stored whole, as before

    series = tracker(config, "series").stdout
    assert series.splitlines()[-1] == ("yahoo: failing, 1 poll in a row (last ok: never): "
                                       "cannot resolve query2.finance.yahoo.com (17 series)")
    assert "cannot reach" not in series  # each row says failing; the line under says why


def test_the_digest_says_it_once(unresolvable):
    _, settings, registry, engine, *_ = unresolvable
    digest, _charts = gather(settings, registry, engine, T0.date(), T0, charts=False)
    text, html = render_text(digest), render_html(digest, {})
    assert "cannot resolve query2.finance.yahoo.com (17 series)" in text
    assert "cannot resolve query2.finance.yahoo.com (17 series)" in html
    assert DNS_FAILURE not in text and DNS_FAILURE not in html
    (failing,) = digest.as_dict()["failing"]  # `tracker digest --json`
    assert failing["causes"] == ["cannot resolve query2.finance.yahoo.com (17 series)"]


# ---- the grouping itself ----------------------------------------------------------------

@pytest.mark.parametrize("said", [
    "[Errno -2] Name or service not known",  # glibc
    "[Errno -3] Temporary failure in name resolution",  # glibc, no resolver reachable
    "[Errno -5] No address associated with hostname",
    "[Errno 8] nodename nor servname provided, or not known",  # macOS
    "[Errno -2] Name does not resolve",  # musl (Alpine)
    "[Errno 11001] getaddrinfo failed",  # Windows
])
def test_every_resolver_failure_reads_cannot_resolve(said):
    assert cause_of(f"cannot reach fred.stlouisfed.org: {said}") == (
        "cannot resolve fred.stlouisfed.org")


def test_other_causes_keep_their_words_on_one_short_line():
    assert cause_of("cannot reach localhost:9: [Errno 111] Connection refused") == (
        "cannot reach localhost:9: [Errno 111] Connection refused")
    assert cause_of("Yahoo says\nNo data found") == "Yahoo says No data found"
    page = "HTTP 500 from example.org: " + "<div>oops</div>" * 100
    assert len(cause_of(page)) == 160 and cause_of(page).endswith("…")


def test_causes_group_their_series_the_most_widespread_first():
    errors = dict.fromkeys(["A", "B", "C", "D"], "timed out talking to h")
    errors |= {"X": "Yahoo says No data found", "Y": "Yahoo says No data found"}
    errors["Z"] = "HTTP 404 from h"
    causes = group_errors(errors)
    assert causes == [Cause("timed out talking to h", ("A", "B", "C", "D")),
                      Cause("Yahoo says No data found", ("X", "Y")),
                      Cause("HTTP 404 from h", ("Z",))]
    assert in_one_line(causes) == ("timed out talking to h (4 series); "
                                   "Yahoo says No data found (X, Y); Z: HTTP 404 from h")
    assert cause_lines("yahoo", causes)[1:] == ["yahoo: Yahoo says No data found (X, Y)",
                                                "yahoo:Z: HTTP 404 from h"]
    assert group_errors({}, "HTTP 503 from h") == [Cause("HTTP 503 from h", ())]
    assert group_errors({}, None) == []


def test_a_poll_line_with_several_causes_gives_each_its_own_line():
    from tracker.service.poll import SourceLine

    errors = dict.fromkeys(SYMBOLS[:15], f"cannot reach query2.finance.yahoo.com: {DNS_FAILURE}")
    errors |= {"FOO": "Yahoo says No data found", "BAR": "Yahoo says No data found"}
    line = SourceLine("yahoo", errors=errors)
    assert line.shown() == ["yahoo: FAILED",
                            "  yahoo: cannot resolve query2.finance.yahoo.com (15 series)",
                            "  yahoo: Yahoo says No data found (BAR, FOO)"]
    assert str(line) == ("yahoo: FAILED: cannot resolve query2.finance.yahoo.com (15 series); "
                         "Yahoo says No data found (BAR, FOO)")  # the log's one line
    working = SourceLine("yahoo", series=3, points=60, errors={"FOO": "Yahoo says No data found"})
    assert working.shown() == [
        "yahoo: ok, 60 points in 3 series; 1 symbol failed: FOO: Yahoo says No data found"]
