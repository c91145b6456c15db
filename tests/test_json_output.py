"""`--json` on the commands that report work done: `check`, `poll` and `backfill` print
JSON alone on stdout, keep their exit status, and say what their text says."""

import json

from tests.forked_cli import run_tracker
from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import replay_config


def tracker(config, *args):
    return run_tracker(["--config", str(config), *args])


def test_check_json_gives_the_verdict_and_every_problem(tmp_path):
    good = replay_config(tmp_path, "http://127.0.0.1:9", symbols=["BATS.L"])
    done = tracker(good, "check", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "config": str(good), "predictions": 1,
                                       "series": 1, "problems": []}

    good.write_text(good.read_text().replace('kind = "threshold"', 'kind = "guess"'))
    bad = tracker(good, "check", "--json")
    assert (bad.returncode, bad.stderr) == (2, "")
    found = json.loads(bad.stdout)
    assert found["ok"] is False and found["predictions"] == 0
    assert ["kind: unknown kind 'guess'" in problem for problem in found["problems"]] == [True]


def test_check_online_json_lists_the_links_that_fail(tmp_path):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/INVALID.BO",
                   Reply.file("yahoo/INVALID.BO_404_not_found.json", status=404))
        config = replay_config(tmp_path, server.url, symbols=["INVALID.BO"])
        done = tracker(config, "check", "--online", "--json")
    assert done.returncode == 1, done.stderr
    (link,) = json.loads(done.stdout)["links"]
    assert link["where"] == "yahoo:INVALID.BO" and "no such symbol" in link["what"]


def test_poll_json_gives_each_source_its_counts_and_grouped_errors(tmp_path):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        server.add("/v8/finance/chart/INVALID.BO",
                   Reply.file("yahoo/INVALID.BO_404_not_found.json", status=404))
        server.add("/graph/fredgraph.csv", Reply(b"upstream exploded", 500, "text/plain"),
                   id="NASDAQCOM")
        config = replay_config(tmp_path, server.url, symbols=["BATS.L", "INVALID.BO"],
                               fred_ids=["NASDAQCOM"])
        done = tracker(config, "poll", "--json")
    assert done.returncode == 1  # FRED failed; Yahoo's answer is stored all the same
    found = json.loads(done.stdout)
    fred, yahoo = found["sources"]
    assert found["ok"] is False
    assert (yahoo["source"], yahoo["ok"], yahoo["series"], yahoo["points"]) == ("yahoo", True, 1, 20)
    assert list(yahoo["errors"]) == ["INVALID.BO"]
    assert yahoo["causes"][0]["symbols"] == ["INVALID.BO"]
    assert (fred["ok"], fred["series"], fred["backing_off_until"]) == (False, 0, None)
    assert fred["causes"][0]["cause"].startswith("HTTP 500 from 127.0.0.1")


def test_backfill_json_has_a_row_per_series_and_no_progress(tmp_path):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
        server.add("/graph/fredgraph.csv", Reply(b"upstream exploded", 500, "text/plain"),
                   id="NASDAQCOM")
        config = replay_config(tmp_path, server.url, symbols=["BATS.L"], fred_ids=["NASDAQCOM"])
        done = tracker(config, "backfill", "--since", "2026-06-01", "--json")
    assert done.returncode == 1
    found = json.loads(done.stdout)  # the JSON, and nothing else
    assert found["ok"] is False
    rows = {row["id"]: row for row in found["series"]}
    assert rows["yahoo:BATS.L"]["points"] == 20 and rows["yahoo:BATS.L"]["error"] is None
    assert rows["yahoo:BATS.L"]["since"].startswith("2026-06-01")
    assert rows["fred:NASDAQCOM"]["error"].startswith("HTTP 500")
