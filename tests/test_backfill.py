"""`tracker backfill` against a replay server: windows, resume after an interruption,
no duplicates, one line per series when not on a terminal."""

import itertools
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from tests.forked_cli import run_tracker
from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import gamma_markets, market, replay_config

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=366)  # Yahoo's history_window


def tracker(config, *args):
    """The full CLI in a process of its own, forked (tests/forked_cli.py)."""
    return run_tracker(["--config", str(config), *args])


def period1(start):
    return str(int(start.timestamp()))


def bats_routes(server, second_window):
    """Three yearly windows from 2024-01-01: empty, ``second_window``, the recorded bars;
    any later window (a rerun's catch-up) gets the recorded bars again."""
    chart = "/v8/finance/chart/BATS.L"
    server.add(chart, Reply.file("yahoo/APPL_empty_window_null_currency.json"), period1=period1(SINCE))
    server.add(chart, second_window, period1=period1(SINCE + YEAR))
    server.add(chart, Reply.file("yahoo/BATS.L_1d_period.json"))


def points(config):
    rows = json.loads(tracker(config, "series", "--json").stdout)
    return {row["id"]: row["points"] for row in rows}


def test_backfill_reads_every_window_and_says_so_per_series(tmp_path):
    with ReplayServer() as server:
        bats_routes(server, Reply.file("yahoo/APPL_empty_window_null_currency.json"))
        server.add("/graph/fredgraph.csv", Reply.file("fred/NASDAQCOM_DATE_dot_missing.csv"),
                   id="NASDAQCOM")
        config = replay_config(tmp_path, server.url, symbols=["BATS.L"], fred_ids=["NASDAQCOM"])
        done = tracker(config, "backfill", "--since", "2024-01-01")
        chart_requests = [r for r in server.requests if r.startswith("/v8/finance/chart/")]
        fred_requests = [r for r in server.requests if r.startswith("/graph/")]

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(chart_requests) == 3  # a year per request
    assert len(fred_requests) == 1  # a whole FRED series per request
    assert "cosd=2024-01-01" in fred_requests[0]
    assert done.stdout.splitlines() == [
        "fred:NASDAQCOM: ok, 27 points since 2024-01-01",
        "yahoo:BATS.L: ok, 20 points since 2024-01-01",
    ]
    assert points(config) == {"yahoo:BATS.L": 20, "fred:NASDAQCOM": 27}


def test_interrupted_backfill_resumes_at_the_first_missing_window(tmp_path):
    with ReplayServer() as server:
        bats_routes(server, Reply(b"upstream exploded", 500, "text/plain"))
        config = replay_config(tmp_path, server.url, symbols=["BATS.L"])
        first = tracker(config, "backfill", "--since", "2024-01-01")
        asked_first = list(server.requests)

    assert first.returncode == 1
    assert "yahoo:BATS.L: FAILED after 0 points: HTTP 500" in first.stdout

    with ReplayServer() as server:
        bats_routes(server, Reply.file("yahoo/APPL_empty_window_null_currency.json"))
        config = replay_config(tmp_path, server.url, symbols=["BATS.L"])
        second = tracker(config, "backfill", "--since", "2024-01-01")
        third = tracker(config, "backfill", "--since", "2024-01-01")
        asked_second = list(server.requests)

    assert second.returncode == 0 and third.returncode == 0, second.stdout + third.stdout
    assert len(asked_first) == 2  # window 1 stored, window 2 failed
    # The rerun starts at window 2: window 1 is not asked again.
    assert f"period1={period1(SINCE)}&" not in asked_second[0]
    assert f"period1={period1(SINCE + YEAR)}&" in asked_second[0]
    assert len(asked_second) == 3  # windows 2 and 3, then the third run's short catch-up
    assert points(config) == {"yahoo:BATS.L": 20}  # the same bars twice: no duplicate


def test_unknown_source_is_bad_usage(tmp_path):
    config = replay_config(tmp_path, "http://127.0.0.1:9", symbols=["BATS.L"])
    done = tracker(config, "backfill", "--source", "stooq")
    assert done.returncode == 2
    assert "unknown source 'stooq'" in done.stderr


MARKETS = market(
    "abiy-pm", "polymarket:will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia", made_on="2026-05-20"
) + market("parolin-pope", "kalshi:KXNEWPOPE-70-PPAR", made_on="2026-05-20")
ABIY_YES_TOKEN = "94134253597648057047877517813082069606962886792971715730299111686696678669356"
MARKETS_SINCE = datetime(2026, 5, 20, tzinfo=UTC)


def test_market_history_comes_in_clob_windows_and_kalshi_candle_tiers(tmp_path):
    with ReplayServer() as server:
        server.add("/markets", gamma_markets("markets_ethiopia_resolved.json"))
        server.add("/prices-history", Reply.file("polymarket/prices_history_abiy.json"),
                   startTs=period1(MARKETS_SINCE))
        server.add("/prices-history", Reply.file("polymarket/prices_history_empty.json"))
        server.add("/markets/KXNEWPOPE-70-PPAR", Reply.file("kalshi/market_open_KXNEWPOPE-70-PPAR.json"))
        server.add("/events/KXNEWPOPE-70", Reply.file("kalshi/event_KXNEWPOPE-70.json"))
        # The live tier is not routed, so it answers 404 as for an archived market; the
        # historical tier then serves recorded candles (of another market: any will do).
        server.add("/historical/markets/KXNEWPOPE-70-PPAR/candlesticks",
                   Reply.file("kalshi/candles_historical_KXFEDDECISION-26JUL-H26.json"))
        config = replay_config(tmp_path, server.url, predictions=MARKETS)
        done = tracker(config, "backfill", "--since", "2026-05-20")
        clob = [parse_qs(urlsplit(r).query) for r in server.requests if r.startswith("/prices-history")]
        candles = [r for r in server.requests if "candlesticks" in r]

    assert done.returncode == 0, done.stdout + done.stderr
    # Every CLOB call asks for the Yes token, hourly, over at most 14 days, back to back.
    assert {q["market"][0] for q in clob} == {ABIY_YES_TOKEN}
    assert {q["fidelity"][0] for q in clob} == {"60"}
    spans = [(int(q["startTs"][0]), int(q["endTs"][0])) for q in clob]
    assert all(end - start <= 14 * 86400 for start, end in spans)
    assert spans[0][0] == int(MARKETS_SINCE.timestamp())
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert len(clob) >= 13  # 2026-05-20 to today in two-week steps
    # Kalshi: the live tier first, then the historical one.
    assert candles[0].startswith("/series/KXNEWPOPE/markets/KXNEWPOPE-70-PPAR/candlesticks?")
    assert candles[1].startswith("/historical/markets/KXNEWPOPE-70-PPAR/candlesticks?")
    assert done.stdout.splitlines() == [
        "kalshi:KXNEWPOPE-70-PPAR: ok, 3 points since 2026-05-20",
        "polymarket:will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia: ok, 12 points since 2026-05-20",
    ]
