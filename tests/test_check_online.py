"""`tracker check --online` against a loopback server replaying recorded answers
(tests/fixtures/*/SOURCES.md): Gamma's empty answer for an unknown slug, Kalshi's 404 for
an unknown ticker, FRED's 400 "The series does not exist.", Yahoo's 404 and empty window."""

import socket
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker
from tests.test_sources_kalshi import kalshi_markets
from tracker.cli import cli

XI = "polymarket:xi-jinping-out-before-2027"
NO_SLUG = "polymarket:anduril-industries-ipo-before-2027"
POPE = "kalshi:KXNEWPOPE-70-PPAR"
POPE_MARKET = "kalshi/market_open_KXNEWPOPE-70-PPAR.json"
NO_TICKER = "kalshi:KXANDURILIPO-27"
GDPC1 = "fred:GDPC1"
NO_SERIES = "fred:JOLTS"  # an id FRED answers "does not exist" for (SOURCES.md)
GOOD = [XI, POPE, GDPC1]
MISSING = [NO_SLUG, NO_TICKER, NO_SERIES]
# The recorded GDPC1 answer ends with 1948Q1: as of February 1948 it is recent. Markets
# carry no history to judge, so the date does not matter to them.
WHEN_GDPC1_WAS_RECENT = datetime(1948, 2, 1, tzinfo=UTC)


def threshold(pid: str, series: str) -> str:
    return (
        f'[[prediction]]\nid = "{pid}"\nwho = "Tester"\nmade_on = 2026-01-10\nclaim = "{pid}"\n'
        f'kind = "threshold"\nseries = "{series}"\ntarget = 1e12\ndirection = "above"\n'
        'deadline = 2030-12-31\n\n'
    )


def registry(series_ids: list[str]) -> str:
    """A prediction per link: a market for the market sources, else a threshold."""
    def table(i: int, sid: str) -> str:
        is_market = sid.split(":")[0] in ("polymarket", "kalshi")
        return market(f"p{i}", sid) if is_market else threshold(f"p{i}", sid)

    return "".join(table(i, sid) for i, sid in enumerate(series_ids))


def markets_and_fred(server: ReplayServer) -> None:
    """Routes for the good links and the recorded answers for the missing ones."""
    gamma = gamma_markets("markets_open_xi.json")  # an unknown slug is left out: []
    kalshi = kalshi_markets(POPE_MARKET.split("/")[1])
    # Gamma and Kalshi both answer /markets: Kalshi's ``tickers`` query tells them apart.
    server.add("/markets", lambda query: kalshi(query) if "tickers" in query else gamma(query))
    server.add(f"/markets/{POPE.split(':')[1]}", Reply.file(POPE_MARKET))  # a lone ticker
    # Kalshi's 404 for an unknown ticker: only the status is recorded (kalshi/SOURCES.md).
    server.add(f"/markets/{NO_TICKER.split(':')[1]}", Reply(b"", 404))
    observations = "/fred/series/observations"
    server.add(observations, Reply.file("fred/GDPC1_api_observations.json"), series_id="GDPC1")
    server.add(observations, Reply.file("fred/series_does_not_exist_400.json", status=400),
               series_id="JOLTS")


@pytest.fixture
def check(tmp_path, monkeypatch):
    """``check(server_url, series_ids, when)``: `tracker check --online` on a registry
    linking these series, with FRED read through its keyed API, judged at ``when``; every
    source at the server, or Yahoo at ``yahoo_url``."""
    monkeypatch.setenv("TRACKER_TEST_FRED_KEY", "a-test-key")

    def run(url: str, series_ids: list[str], when: datetime, yahoo_url: str | None = None):
        config = replay_config(tmp_path, url, predictions=registry(series_ids))
        text = config.read_text().replace("TRACKER_TEST_NO_SUCH_KEY", "TRACKER_TEST_FRED_KEY")
        if yahoo_url:
            text = text.replace(f'[sources.yahoo]\nbase_url = "{url}"',
                                f'[sources.yahoo]\nbase_url = "{yahoo_url}"')
        config.write_text(text)
        monkeypatch.setattr("tracker.service.links.now", lambda: when)
        return CliRunner().invoke(cli, ["--config", str(config), "check", "--online"])

    return run


def online_lines(result) -> list[str]:
    """What --online adds, after the "ok:" line and the three lines of files in use."""
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["config:", "registry:", "database:"]
    return lines[4:]


def test_every_missing_link_is_a_line_and_the_exit_is_1(check):
    with ReplayServer() as server:
        markets_and_fred(server)
        result = check(server.url, GOOD + MISSING, WHEN_GDPC1_WAS_RECENT)
        asked = list(server.requests)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok: ") and lines[0].endswith("6 predictions reading 6 series")
    assert online_lines(result) == [
        f"{NO_SERIES}: no such series",
        f"{NO_TICKER}: no such market",
        f"{NO_SLUG}: no such market",
        "online: 3 problems with links",
    ]
    # FRED was asked through its keyed API, once per id.
    assert sum(r.startswith("/fred/series/observations?") for r in asked) == 2


def test_all_links_good_exits_0(check):
    with ReplayServer() as server:
        markets_and_fred(server)
        result = check(server.url, GOOD, WHEN_GDPC1_WAS_RECENT)
    assert result.exit_code == 0, result.output
    assert online_lines(result) == ["online: all 3 series exist and have recent data"]


def test_a_link_without_recent_data_names_its_last_date(check):
    when = datetime(2026, 11, 25, 12, tzinfo=UTC)
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        # A mistyped symbol: Yahoo answers 200 with an empty window (yahoo/SOURCES.md).
        server.add("/v8/finance/chart/APPL",
                   Reply.file("yahoo/APPL_empty_window_null_currency.json"))
        server.add("/v8/finance/chart/INVALID.BO",
                   Reply.file("yahoo/INVALID.BO_404_not_found.json", status=404))
        result = check(server.url, ["yahoo:BATS.L", "yahoo:APPL", "yahoo:INVALID.BO"], when)
    assert result.exit_code == 1, result.output
    assert online_lines(result) == [
        "yahoo:APPL: no data since 2026-07-28",  # nothing in the 120 days asked for
        "yahoo:BATS.L: no data since 2026-09-25",  # its newest bar, two months old
        ("yahoo:INVALID.BO: no such symbol: Yahoo says Not Found: "
         "No data found, symbol may be delisted"),
        "online: 3 problems with links",
    ]


def test_an_unreachable_source_is_one_line_not_one_per_link(check):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{free.getsockname()[1]}"  # nothing listens there now
    with ReplayServer() as server:
        markets_and_fred(server)
        result = check(server.url, [XI, "yahoo:BATS.L", "yahoo:AMZN"], WHEN_GDPC1_WAS_RECENT,
                       yahoo_url=closed)
    assert result.exit_code == 1, result.output
    lines = online_lines(result)
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"yahoo: cannot check its 2 links: cannot reach {closed[7:]}")
    assert lines[1] == "online: 1 problem with links"


def test_symbols_and_messages_are_printed_as_plain_text(check):
    """A symbol is printed as written (no markup read into it) and on one line."""
    odd = "yahoo:[red]X\\u001b[2J"  # TOML's escape: the symbol holds a real ESC
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        result = check(server.url, ["yahoo:BATS.L", odd], datetime(2026, 9, 26, tzinfo=UTC))
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stdout
    assert online_lines(result)[0].startswith("yahoo:[red]X [2J: HTTP 404 from 127.0.0.1:")


def test_a_bad_argument_is_one_line_and_exit_2(tmp_path):
    done = tracker(replay_config(tmp_path, "http://127.0.0.1:9"), "check", "--onlin")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "--onlin" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
