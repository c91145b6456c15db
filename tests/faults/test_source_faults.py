"""Every source against every way an API fails, served by a real HTTP server on loopback.

One poll cycle reads four sources (Yahoo, FRED, Polymarket, Kalshi). Three answer with
their recorded responses; the fourth answers with the fault. In every case the cycle
completes, the three others store every point they store on a clean run, the faulty
source stores nothing wrong (no point it did not send, nothing non-finite, nothing
duplicated), and its health records the error.

Faulty payloads are the recorded ones, damaged the way real APIs damage them: truncated
JSON, renamed fields, nulls, empty results, an HTML bot wall with status 200.
"""

from __future__ import annotations

import json
import math
import socket
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from db import queries
from db.engine import open_database
from tests.replay import FIXTURES, ReplayServer, Reply
from tests.sources_fixtures import gamma_markets, market
from tracker.config import load_settings
from tracker.registry import load_registry
from tracker.service.poll import run_cycle

NOW = datetime(2026, 9, 26, 12, tzinfo=UTC)
YAHOO, FRED = "BATS.L", "NASDAQCOM"
SLUG, TICKER = "xi-jinping-out-before-2027", "KXNEWPOPE-70-PPAR"
SERIES = {"yahoo": f"yahoo:{YAHOO}", "fred": f"fred:{FRED}",
          "polymarket": f"polymarket:{SLUG}", "kalshi": f"kalshi:{TICKER}"}
PATHS = {"yahoo": f"/v8/finance/chart/{YAHOO}", "fred": "/graph/fredgraph.csv",
         "polymarket": "/markets", "kalshi": f"/markets/{TICKER}"}
HTML_WALL = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"


def raw(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def healthy(source: str):
    return {
        "yahoo": Reply.file("yahoo/BATS.L_1d_period.json"),
        "fred": Reply.file("fred/NASDAQCOM_DATE_dot_missing.csv"),
        "polymarket": gamma_markets("markets_open_xi.json"),
        "kalshi": Reply.file(f"kalshi/market_open_{TICKER}.json"),
    }[source]


def _json(relative: str, change) -> Reply:
    payload = json.loads(raw(relative))
    return Reply(json.dumps(change(payload)).encode())


def _drift(source: str) -> Reply:
    """A field renamed, as when an API ships a new version without notice."""
    if source == "yahoo":
        def rename(p):
            p["chart"]["result"][0]["timestamps"] = p["chart"]["result"][0].pop("timestamp")
            return p
        return _json("yahoo/BATS.L_1d_period.json", rename)
    if source == "fred":
        text_ = raw("fred/NASDAQCOM_DATE_dot_missing.csv").decode().replace("DATE", "PERIOD", 1)
        return Reply(text_.encode(), content_type="text/csv")
    if source == "polymarket":
        def rename(markets):
            markets[0]["outcome_prices"] = markets[0].pop("outcomePrices")
            return markets
        return _json("polymarket/markets_open_xi.json", rename)

    def old_schema(p):  # Kalshi's integer-cent names, which the API no longer sends
        m = p["market"]
        for name in ("yes_bid", "yes_ask", "last_price"):
            m[name] = round(float(m.pop(f"{name}_dollars")) * 100)
        return p
    return _json(f"kalshi/market_open_{TICKER}.json", old_schema)


def _nulls(source: str) -> Reply:
    if source == "yahoo":
        def null_closes(p):
            quote = p["chart"]["result"][0]["indicators"]["quote"][0]
            for key in ("open", "high", "low", "close", "volume"):
                quote[key] = [None] * len(quote[key])
            return p
        return _json("yahoo/BATS.L_1d_period.json", null_closes)
    if source == "fred":
        lines = raw("fred/NASDAQCOM_DATE_dot_missing.csv").decode().splitlines()
        body = "\n".join([lines[0]] + [f"{line.split(',')[0]},." for line in lines[1:]])
        return Reply(body.encode(), content_type="text/csv")
    if source == "polymarket":
        def null_prices(markets):
            markets[0]["outcomePrices"] = None
            return markets
        return _json("polymarket/markets_open_xi.json", null_prices)

    def null_quotes(p):
        for name in ("yes_bid_dollars", "yes_ask_dollars", "last_price_dollars"):
            p["market"][name] = None
        return p
    return _json(f"kalshi/market_open_{TICKER}.json", null_quotes)


def _empty(source: str) -> Reply:
    return {
        "yahoo": Reply.file("yahoo/APPL_empty_window_null_currency.json"),
        "fred": Reply(b"observation_date,NASDAQCOM\n", content_type="text/csv"),
        "polymarket": Reply(b"[]"),
        "kalshi": Reply(b"{}"),
    }[source]


def _malformed(source: str) -> Reply:
    if source == "fred":
        return Reply(b"\x00\x1f\x8b garbage, not a CSV at all", content_type="text/csv")
    body = raw({"yahoo": "yahoo/BATS.L_1d_period.json", "polymarket": "polymarket/markets_open_xi.json",
                "kalshi": f"kalshi/market_open_{TICKER}.json"}[source])
    return Reply(body[: len(body) // 2])  # cut off mid-stream


FAULTS = {
    "timeout": lambda source: Reply(b"{}", delay=2.5),
    "connection refused": None,  # the source's URL points at a closed port
    "HTTP 500": lambda source: Reply(b"Internal Server Error", 500, "text/plain"),
    "429 with Retry-After": lambda source: Reply(b"Too Many Requests", 429, "text/plain",
                                                 headers={"Retry-After": "120"}),
    "malformed body": _malformed,
    "schema drift": _drift,
    "empty data": _empty,
    "HTML page with 200": lambda source: Reply(HTML_WALL, 200, "text/html"),
    "null values": _nulls,
    "body over the size cap": lambda source: Reply(b"[" + b"0," * 700_000 + b"0]"),
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path, urls: dict[str, str], http: dict[str, str] | None = None):
    """The four sources at ``urls``; ``http`` adds or overrides [http] keys (TOML values)."""
    keys = {"retries": "0", "timeout": '"1s"', "max_response_mb": "1"} | (http or {})
    predictions = (
        f'[[prediction]]\nid = "p-yahoo"\nwho = "T"\nmade_on = 2026-08-01\nclaim = "c"\n'
        f'kind = "threshold"\nseries = "{SERIES["yahoo"]}"\ntarget = 1e9\ndirection = "above"\n\n'
        f'[[prediction]]\nid = "p-fred"\nwho = "T"\nmade_on = 2019-12-16\nclaim = "c"\n'
        f'kind = "threshold"\nseries = "{SERIES["fred"]}"\ntarget = 1e9\ndirection = "above"\n'
        f'deadline = 2030-12-31\n\n'
        + market("p-polymarket", SERIES["polymarket"]) + market("p-kalshi", SERIES["kalshi"])
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n\n[registry]\nbundled = false\n\n'
        '[http]\n' + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"
        f'[sources.yahoo]\nbase_url = "{urls["yahoo"]}"\n\n'
        f'[sources.fred]\nbase_url = "{urls["fred"]}"\napi_url = "{urls["fred"]}"\n'
        'api_key_env = "TRACKER_TEST_NO_SUCH_KEY"\n\n'
        f'[sources.polymarket]\ngamma_url = "{urls["polymarket"]}"\nclob_url = "{urls["polymarket"]}"\n\n'
        f'[sources.kalshi]\nbase_url = "{urls["kalshi"]}"\n\n' + predictions
    )
    settings = load_settings(str(config))
    return settings, load_registry(settings), open_database(settings.database.url)


def stored(engine) -> dict[str, list[tuple]]:
    return {sid: [(r.ts, r.value) for r in queries.series_points(engine, sid)] for sid in SERIES.values()}


def duplicates(engine) -> int:
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM observation")).scalar()
        distinct = conn.execute(text(
            "SELECT count(*) FROM (SELECT DISTINCT series_id, ts FROM observation) AS d")).scalar()
    return total - distinct


def poll_once(tmp_path, faulty: str | None = None, fault: str | None = None):
    return poll_with(tmp_path, {faulty: FAULTS[fault]} if faulty else {})


def poll_with(tmp_path, faults: dict, http: dict[str, str] | None = None):
    """One cycle against the loopback server: each source in ``faults`` gets its fault
    (a function of the source giving the reply, or None for a closed port), the others
    their recorded answers."""
    with ReplayServer() as server:
        urls = dict.fromkeys(SERIES, server.url)
        for source in SERIES:
            if source not in faults:
                server.add(PATHS[source], healthy(source))
        for source, make in faults.items():
            if make is None:
                urls[source] = f"http://127.0.0.1:{closed_port()}"
            else:
                server.add(PATHS[source], make(source))
        settings, registry, engine = write_config(tmp_path, urls, http)
        result = run_cycle(settings, registry, engine, now=NOW)
    return result, engine


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """What a run with no fault stores: the yardstick for lost points."""
    result, engine = poll_once(tmp_path_factory.mktemp("clean"))
    assert result.ok, [str(line) for line in result.lines]
    points = stored(engine)
    assert all(points.values()), points
    return points


@pytest.mark.parametrize("source", list(SERIES))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_faulty_source_never_costs_the_others_or_stores_anything_wrong(
    tmp_path, clean_run, fault, source, fault_result
):
    result, engine = poll_once(tmp_path, source, fault)
    after = stored(engine)

    # The cycle completed and says which source failed.
    line = next(line for line in result.lines if line.source == source)
    assert not line.ok, str(line)
    # The others stored exactly what a clean run stores.
    lost = sum(len(set(clean_run[s]) - set(after[s])) for src, s in SERIES.items() if src != source)
    # The faulty source stored nothing it did not send: only points of the clean answer,
    # every value finite.
    wrong = [p for p in after[SERIES[source]]
             if p not in clean_run[SERIES[source]] or not math.isfinite(p[1])]
    dupes = duplicates(engine)
    health = queries.source_health(engine)[source]
    survived = lost == 0 and not wrong and dupes == 0 and health.consecutive_failures == 1
    fault_result("sources", fault, source, survived=survived, lost=lost, duplicates=dupes,
                 note=(health.last_error or "")[:120])

    assert lost == 0
    assert wrong == []
    assert dupes == 0
    assert health.consecutive_failures == 1 and health.last_error
    if fault == "429 with Retry-After":
        # The server's wait is kept, so the daemon holds off this source.
        assert (health.next_allowed_at - NOW).total_seconds() >= 119
    # Every prediction was still evaluated.
    assert set(queries.latest_snapshots(engine)) == {f"p-{s}" for s in SERIES}
