"""`tracker markets search` against a replay of Gamma's /public-search."""

import json

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import replay_config
from tests.test_poll_end_to_end import tracker


def test_search_lists_slug_question_price_end_and_closed(tmp_path):
    with ReplayServer() as server:
        server.add("/public-search", Reply.file("polymarket/public_search_ethiopia.json"), q="ethiopia")
        config = replay_config(tmp_path, server.url, predictions="")
        table = tracker(config, "markets", "search", "ethiopia")
        as_json = tracker(config, "markets", "search", "ethiopia", "--json")

    assert table.returncode == 0, table.stderr
    assert "will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia" in table.stdout
    assert "2026-06-02" in table.stdout and "closed" in table.stdout
    rows = json.loads(as_json.stdout)
    assert [(r["slug"], r["yes_price"], r["closed"]) for r in rows] == [
        ("will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia", 1.0, True),
        ("will-belete-molla-be-the-next-prime-minister-of-ethiopia", 0.0, True),
    ]


def test_search_with_no_match_says_so(tmp_path):
    with ReplayServer() as server:
        server.add("/public-search", Reply(b'{"events": []}'))
        config = replay_config(tmp_path, server.url, predictions="")
        done = tracker(config, "markets", "search", "zzzz")
    assert done.returncode == 0
    assert done.stdout.strip() == "no Polymarket markets match 'zzzz'"


def test_search_failure_is_one_line_and_exit_1(tmp_path):
    with ReplayServer() as server:
        server.add("/public-search", Reply(b"<html>captive portal</html>", 200, "text/html"))
        config = replay_config(tmp_path, server.url, predictions="")
        done = tracker(config, "markets", "search", "oil")
    assert done.returncode == 1
    assert done.stderr.strip() == "tracker: Polymarket search failed: expected JSON from Gamma"


def test_search_for_nothing_is_bad_usage_and_asks_nobody(tmp_path):
    with ReplayServer() as server:
        config = replay_config(tmp_path, server.url, predictions="")
        for words in ("", "   "):
            done = tracker(config, "markets", "search", words)
            assert (done.returncode, done.stdout) == (2, "")
            assert done.stderr.count("\n") == 1 and "give some words to search for" in done.stderr
        assert server.requests == []
