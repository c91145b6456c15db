"""`tracker poll` then `tracker status --json` as a user runs them, against a loopback
server replaying recorded Yahoo and FRED responses; one Yahoo symbol answers 404, which
is that symbol's problem (listed by `tracker health`), not a failing Yahoo."""

import json

from tests.forked_cli import run_tracker
from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import replay_config

PREDICTIONS = """
[[prediction]]
id = "bats-touches-4250"
who = "Tester"
made_on = 2026-08-01
claim = "BATS.L trades at 4250p or more this year"
kind = "threshold"
series = "yahoo:BATS.L"
target = 4250
direction = "above"
deadline = 2026-12-31

[[prediction]]
id = "bats-below-3000-by-september"
who = "Tester"
made_on = 2026-08-01
claim = "BATS.L falls below 3000p by 20 September"
kind = "threshold"
series = "yahoo:BATS.L"
target = 3000
direction = "below"
deadline = 2026-09-20

[[prediction]]
id = "nasdaq-9000-by-january"
who = "Tester"
made_on = 2019-12-16
claim = "The Nasdaq Composite closes above 9000 by the end of January 2020"
kind = "threshold"
series = "fred:NASDAQCOM"
target = 9000
direction = "above"
deadline = 2020-01-31

[[prediction]]
id = "amzn-to-1000"
who = "Tester"
made_on = 2026-08-01
claim = "Amazon trades at $1000"
kind = "threshold"
series = "yahoo:AMZN"
target = 1000
direction = "above"
deadline = 2026-12-31

[[prediction]]
id = "delisted-doubles"
who = "Tester"
made_on = 2026-08-01
claim = "A delisted symbol doubles"
kind = "threshold"
series = "yahoo:INVALID.BO"
target = 1000
direction = "above"
deadline = 2026-12-31
"""


def tracker(config, *args):
    """`tracker --config CONFIG ARGS`, the full CLI, in a process of its own (forked from
    one that imported the CLI once: tests/forked_cli.py)."""
    return run_tracker(["--config", str(config), *args])


def test_poll_stores_what_works_reports_what_failed_and_scores(tmp_path):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        server.add("/v8/finance/chart/AMZN", Reply.file("yahoo/AMZN_1d_range1d.json"))
        server.add(
            "/v8/finance/chart/INVALID.BO",
            Reply.file("yahoo/INVALID.BO_404_not_found.json", status=404),
        )
        server.add(
            "/graph/fredgraph.csv",
            Reply.file("fred/NASDAQCOM_DATE_dot_missing.csv"),
            id="NASDAQCOM",
        )
        config = replay_config(tmp_path, server.url, predictions=PREDICTIONS)
        polled = tracker(config, "poll")
        status = tracker(config, "status", "--json")
        series = tracker(config, "series", "--json")
        health = tracker(config, "health")
        health_json = tracker(config, "health", "--json")

    # Yahoo answered for its good symbols, so no source failed and the exit is 0; Yahoo's
    # line names the unknown symbol and Yahoo's reason.
    assert polled.returncode == 0, polled.stdout + polled.stderr
    lines = polled.stdout.splitlines()
    yahoo_line = next(line for line in lines if line.startswith("yahoo:"))
    assert yahoo_line.startswith("yahoo: ok, 21 points in 2 series; 1 symbol failed: INVALID.BO")
    assert "no such symbol" in yahoo_line and "No data found" in yahoo_line
    assert any(line.startswith("fred: ok") for line in lines), lines
    assert "Traceback" not in polled.stderr

    # Everything that did answer is stored: 20 BATS.L bars, 1 AMZN bar, 27 NASDAQCOM values.
    stored = {row["id"]: row for row in json.loads(series.stdout)}
    assert stored["yahoo:BATS.L"]["points"] == 20
    assert stored["yahoo:AMZN"]["points"] == 1
    assert stored["fred:NASDAQCOM"]["points"] == 27
    assert stored["yahoo:BATS.L"]["last_value"] == 4180.0
    assert stored["yahoo:BATS.L"]["source_health"]["consecutive_failures"] == 0

    # `tracker health`: Yahoo is not FAILING; the unknown symbol is listed as its problem.
    assert "FAILING" not in health.stdout
    assert "yahoo: ok, last success " in health.stdout
    assert ("  yahoo:INVALID.BO: no such symbol: Yahoo says Not Found: No data found, "
            "symbol may be delisted") in health.stdout.splitlines()
    yahoo = next(s for s in json.loads(health_json.stdout)["sources"] if s["source"] == "yahoo")
    assert (yahoo["ok"], yahoo["consecutive_failures"], yahoo["next_allowed_at"]) == (True, 0, None)
    assert yahoo["failing_symbols"] == ["INVALID.BO"]
    assert yahoo["symbol_errors"]["INVALID.BO"].startswith("no such symbol: Yahoo says Not Found")

    verdicts = {row["id"]: row for row in json.loads(status.stdout)}
    assert verdicts["bats-touches-4250"]["status"] == "right"
    assert verdicts["bats-below-3000-by-september"]["status"] == "wrong"
    assert verdicts["nasdaq-9000-by-january"]["status"] == "right"
    assert verdicts["nasdaq-9000-by-january"]["probability"] == 1.0
    assert verdicts["delisted-doubles"]["status"] == "no_data"


def test_poll_again_adds_no_duplicates(tmp_path):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        config = replay_config(tmp_path, server.url, symbols=["BATS.L"])
        first = tracker(config, "poll")
        second = tracker(config, "poll")
        series = tracker(config, "series", "--json")
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    (row,) = json.loads(series.stdout)
    assert row["points"] == 20
