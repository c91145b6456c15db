"""Source health over many cycles: log once on failure and on recovery, back off a source
that fails outright, turn its predictions to no_data once stale, and fill gaps after
downtime exactly."""

import json
import logging
from datetime import UTC, datetime, timedelta

from db import queries
from db.engine import open_database
from tests.replay import FIXTURES, ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker
from tracker.config import load_settings
from tracker.registry import load_registry
from tracker.service.poll import run_cycle
from tracker.sources.yahoo import OVERLAP, parse_chart

SYMBOL, FIXTURE = YAHOO_CHART
XI = "polymarket:xi-jinping-out-before-2027"
T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


class Switch:
    """A route whose answer the test changes between cycles."""

    def __init__(self, reply):
        self.reply = reply

    def __call__(self, query):
        return self.reply(query) if callable(self.reply) else self.reply


def setup(tmp_path, url, predictions):
    config = replay_config(tmp_path, url, predictions=predictions)
    settings = load_settings(str(config))
    return settings, load_registry(settings), open_database(settings.database.url)


def cli_json(tmp_path, *args):
    done = tracker(tmp_path / "config.toml", *args, "--json")
    # No daemon leads on these databases: health's verdict is a failure, the rest is read.
    assert done.returncode == (1 if args[0] == "health" else 0), done.stderr
    return json.loads(done.stdout)


def status_of(engine, pid):
    return queries.latest_snapshots(engine)[pid]


def test_failure_logs_once_backs_off_goes_stale_and_recovers(tmp_path, caplog):
    gamma = Switch(gamma_markets("markets_open_xi.json"))
    with ReplayServer() as server:
        server.add("/markets", gamma)
        server.add("/prices-history", Reply.file("polymarket/prices_history_empty.json"))
        settings, registry, engine = setup(tmp_path, server.url, market("xi", XI))
        caplog.set_level(logging.DEBUG, logger="tracker")

        run_cycle(settings, registry, engine, now=T0)
        assert status_of(engine, "xi").status == "off_track"

        gamma.reply = Reply(b"upstream exploded", 500, "text/plain")
        asked = len(server.requests)
        for minutes in (5, 10, 15, 20):  # every 5 minutes, the markets interval
            run_cycle(settings, registry, engine, now=T0 + timedelta(minutes=minutes))
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "polymarket: FAILED" in errors[0].getMessage()

        health = queries.source_health(engine)["polymarket"]
        assert health.consecutive_failures == 4
        assert health.failing_since == T0 + timedelta(minutes=5)
        assert health.next_allowed_at > T0 + timedelta(minutes=20)
        # Not refreshed for three intervals while its source was asked: stale, no_data.
        xi = status_of(engine, "xi")
        assert xi.status == "no_data" and "stale" in xi.explanation
        assert len(server.requests) - asked == 4  # a 4-minute backoff never skipped a 5-minute poll

        # What `tracker health` and `tracker series` tell the user meanwhile.
        (source,) = cli_json(tmp_path, "health")["sources"]
        assert (source["source"], source["ok"], source["consecutive_failures"]) == ("polymarket", False, 4)
        assert source["failing_since"].startswith("2026-11-25T12:05")
        assert "HTTP 500" in source["last_error"]
        assert cli_json(tmp_path, "health")["stale_series"] == [XI]
        assert [row["stale"] for row in cli_json(tmp_path, "series")] == [True]

        # Backing off: a poll inside the backoff window does not ask at all.
        asked = len(server.requests)
        result = run_cycle(settings, registry, engine, now=T0 + timedelta(minutes=20, seconds=30))
        assert len(server.requests) == asked
        assert "backing off" in str(result.lines[0])

        gamma.reply = gamma_markets("markets_open_xi.json")
        caplog.clear()
        run_cycle(settings, registry, engine, now=T0 + timedelta(minutes=40))
        recovered = [r.getMessage() for r in caplog.records if "recovered" in r.getMessage()]
        assert recovered == ["polymarket: recovered after 4 failed polls"]
        # Back, it fills the outage from the CLOB's history (empty here).
        assert server.requests[-1].startswith("/prices-history?market=")
        assert status_of(engine, "xi").status == "off_track"
        health = queries.source_health(engine)["polymarket"]
        assert (health.consecutive_failures, health.failing_since) == (0, None)


def test_a_restart_after_a_gap_fetches_exactly_the_missing_bars(tmp_path):
    bars = parse_chart(json.loads((FIXTURES / FIXTURE).read_text()), SYMBOL).points
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = replay_config(tmp_path, server.url, symbols=[SYMBOL])
        settings = load_settings(str(config))
        registry, engine = load_registry(settings), open_database(settings.database.url)
        # The daemon ran until the 8th bar, then the laptop slept.
        queries.upsert_series(engine, [{"id": f"yahoo:{SYMBOL}", "source": "yahoo",
                                        "symbol": SYMBOL, "first_seen_at": T0}])
        queries.upsert_observations(engine, [
            {"series_id": f"yahoo:{SYMBOL}", "ts": p.ts, "value": p.value, "high": p.high,
             "low": p.low, "fetched_at": T0} for p in bars[:8]
        ])
        run_cycle(settings, registry, engine, now=datetime(2026, 9, 26, tzinfo=UTC))

    # Asked from the last stored bar (less Yahoo's revision overlap), not from the start.
    assert f"period1={int((bars[7].ts - OVERLAP).timestamp())}" in server.requests[0]
    stored = queries.series_points(engine, f"yahoo:{SYMBOL}")
    assert [row.ts for row in stored] == [p.ts for p in bars]  # every bar once, in order


def test_a_market_gap_is_filled_from_the_clob_history(tmp_path):
    slug = "will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia"
    with ReplayServer() as server:
        server.add("/markets", gamma_markets("markets_ethiopia_resolved.json"))
        server.add("/prices-history", Reply.file("polymarket/prices_history_abiy.json"))
        settings, registry, engine = setup(tmp_path, server.url, market("abiy", f"polymarket:{slug}"))
        # Last polled at 12:00 on 22 May; the daemon comes back at 04:00 the next day.
        before_gap = datetime(2026, 5, 22, 12, tzinfo=UTC)
        back = datetime(2026, 5, 23, 4, tzinfo=UTC)
        queries.upsert_series(engine, [{"id": f"polymarket:{slug}", "source": "polymarket",
                                        "symbol": slug, "first_seen_at": before_gap}])
        queries.upsert_observations(engine, [{"series_id": f"polymarket:{slug}", "ts": before_gap,
                                              "value": 0.97, "fetched_at": before_gap}])
        run_cycle(settings, registry, engine, now=back)
        history_asks = [r for r in server.requests if r.startswith("/prices-history")]

    assert len(history_asks) == 1 and f"startTs={int(before_gap.timestamp())}" in history_asks[0]
    stored = [(row.ts.strftime("%d %H:%M"), row.value)
              for row in queries.series_points(engine, f"polymarket:{slug}")]
    # The point before the gap, each change among the 12 hourly CLOB points inside it
    # (the last nine repeat 0.9695: stored once), and this poll's price, resolved at 1.
    assert stored == [("22 12:00", 0.97), ("22 16:00", 0.9705), ("22 17:00", 0.97),
                      ("22 18:00", 0.9695), ("23 04:00", 1.0)]


def test_a_symbol_that_does_not_exist_is_its_own_problem_not_its_sources(tmp_path, caplog):
    """Yahoo answers for BATS.L and says INVALID.BO does not exist (its recorded 404): the
    source works, is polled on schedule, and the symbol is kept with its message. Only when
    every symbol fails is Yahoo failing, and only then does it back off."""
    bats = Switch(Reply.file(FIXTURE))
    with ReplayServer() as server:
        server.add(f"/v8/finance/chart/{SYMBOL}", bats)
        server.add("/v8/finance/chart/INVALID.BO",
                   Reply.file("yahoo/INVALID.BO_404_not_found.json", status=404))
        config = replay_config(tmp_path, server.url, symbols=[SYMBOL, "INVALID.BO"])
        settings = load_settings(str(config))
        registry, engine = load_registry(settings), open_database(settings.database.url)
        caplog.set_level(logging.INFO, logger="tracker")

        for minutes in (0, 15):
            result = run_cycle(settings, registry, engine, now=T0 + timedelta(minutes=minutes))
            assert result.ok, [str(line) for line in result.lines]
        health = queries.source_health(engine)["yahoo"]
        assert (health.consecutive_failures, health.last_error, health.next_allowed_at) == (0, None, None)
        assert list(queries.symbol_errors(health)) == ["INVALID.BO"]
        # A warning when the symbol starts failing, not on every poll.
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "1 symbol failed: INVALID.BO: no such symbol" in warnings[0]

        bats.reply = Reply(b"upstream exploded", 500, "text/plain")
        result = run_cycle(settings, registry, engine, now=T0 + timedelta(minutes=30))
        assert not result.ok and "yahoo: FAILED" in str(result.lines[0])
        health = queries.source_health(engine)["yahoo"]
        assert health.consecutive_failures == 1
        assert health.next_allowed_at > T0 + timedelta(minutes=30)
        assert set(queries.symbol_errors(health)) == {SYMBOL, "INVALID.BO"}
