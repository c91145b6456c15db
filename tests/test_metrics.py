"""Prometheus metrics as a user reads them: the daemon's /metrics endpoint (`[metrics]
port`) and `tracker metrics [--textfile PATH]`, parsed with prometheus-client's own
parser and checked against what `tracker status`, `series` and `health` say, after polls
of a loopback server replaying recorded responses."""

import json
import socket
from collections import Counter
from datetime import datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import gamma_markets, replay_config
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import Daemon
from tests.test_daemon_web import free_port
from tests.test_poll_end_to_end import tracker
from tracker.views.status import STATUSES

XI = "polymarket:xi-jinping-out-before-2027"
ABIY = "polymarket:will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia"
# A name with the characters the text format escapes in a label value: the parser must
# read it back as written.
SEER = 'Ann "the \\ seer"'
PREDICTIONS = f"""
[[prediction]]
id = "xi-out"
who = '{SEER}'
made_on = 2026-01-10
claim = "Xi is out before 2027"
kind = "market"
series = "{XI}"
side = "yes"

[[prediction]]
id = "abiy-pm"
who = "Tester"
made_on = 2026-01-10
claim = "Abiy is the next prime minister"
kind = "market"
series = "{ABIY}"
side = "yes"

[[prediction]]
id = "gut-feel"
who = "Tester"
made_on = 2026-01-10
claim = "A claim only a person can judge"
kind = "manual"

[[prediction]]
id = "bats-5000"
who = "Tester"
made_on = 2026-08-01
claim = "BATS.L trades at 5000p"
kind = "threshold"
series = "yahoo:BATS.L"
target = 5000
direction = "above"
deadline = 2026-12-31

[[prediction]]
id = "nasdaq-9000"
who = "Tester"
made_on = 2019-12-16
claim = "The Nasdaq closes above 9000"
kind = "threshold"
series = "fred:NASDAQCOM"
target = 9000
direction = "above"
deadline = 2020-01-31
"""


def replies(server, fred_fails=False):
    """Polymarket: Xi's market open, Abiy's resolved; Yahoo: BATS.L's bars; FRED: the
    NASDAQCOM CSV, or a 500 (FRED then fails outright and backs off)."""
    server.add("/markets", gamma_markets("markets_open_xi.json", "markets_ethiopia_resolved.json"))
    server.add("/v8/finance/chart/BATS.L", Reply.file("yahoo/BATS.L_1d_period.json"))
    fred = (Reply(b"busy", status=500) if fred_fails
            else Reply.file("fred/NASDAQCOM_DATE_dot_missing.csv"))
    server.add("/graph/fredgraph.csv", fred, id="NASDAQCOM")


def parse(text):
    """Every sample: {(name, ((label, value), ...)): value}."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def named(samples, name):
    """{labels: value} of one metric's samples."""
    return {labels: v for (n, labels), v in samples.items() if n == name}


def unix(text):
    return datetime.fromisoformat(text).timestamp()


def expected_claims(status_rows):
    """What the metrics should say of the claims, from `tracker status --json`."""
    counts = Counter(row["status"] for row in status_rows)
    probabilities = {(("id", row["id"]), ("who", row["who"])): row["probability"]
                     for row in status_rows
                     if row["status"] not in ("right", "wrong", "void")
                     and row["probability"] is not None}
    return {(("status", s),): float(counts[s]) for s in STATUSES}, probabilities


# ---- `tracker metrics`: the database's state, on stdout or in a textfile ---------------


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    """A poll in which FRED fails outright; then what status, series, health and metrics
    say."""
    tmp_path = tmp_path_factory.mktemp("metrics")
    with ReplayServer() as server:
        replies(server, fred_fails=True)
        config = replay_config(tmp_path, server.url, predictions=PREDICTIONS)
        poll = tracker(config, "poll")
    status = json.loads(tracker(config, "status", "--json").stdout)
    health = {s["source"]: s for s in json.loads(tracker(config, "health", "--json").stdout)["sources"]}
    metrics = tracker(config, "metrics")
    return {"config": config, "poll": poll, "status": status, "health": health,
            "metrics": metrics, "folder": tmp_path}


def test_each_open_claims_probability_and_the_count_per_status_match_tracker_status(polled):
    assert polled["poll"].returncode == 1, polled["poll"].stdout  # FRED failed
    assert polled["metrics"].returncode == 0, polled["metrics"].stderr
    samples = parse(polled["metrics"].stdout)
    counts, probabilities = expected_claims(polled["status"])
    assert named(samples, "tracker_claims") == counts
    assert named(samples, "tracker_claim_probability") == probabilities
    # Xi's market is open with a price; Abiy's resolved, the manual claim has no
    # probability, BATS.L's series is stale: only Xi's has a gauge, under its person.
    assert list(probabilities) == [(("id", "xi-out"), ("who", SEER))]
    assert value(samples, "tracker_claims", status="right") == 1


def test_each_sources_health_matches_tracker_health(polled):
    samples = parse(polled["metrics"].stdout)
    health = polled["health"]
    assert set(health) == {"fred", "polymarket", "yahoo"}
    for source, row in health.items():
        last_success = unix(row["last_success_at"]) if row["last_success_at"] else 0.0
        backoff = unix(row["next_allowed_at"]) if row["next_allowed_at"] else 0.0
        assert value(samples, "tracker_source_last_success_timestamp_seconds",
                     source=source) == pytest.approx(last_success, abs=1e-6)
        assert value(samples, "tracker_source_consecutive_failures",
                     source=source) == row["consecutive_failures"]
        assert value(samples, "tracker_source_backoff_until_timestamp_seconds",
                     source=source) == pytest.approx(backoff, abs=1e-6)
    # FRED never answered and backs off; the others answered and may be asked again.
    assert value(samples, "tracker_source_last_success_timestamp_seconds", source="fred") == 0
    assert value(samples, "tracker_source_consecutive_failures", source="fred") == 1
    assert value(samples, "tracker_source_backoff_until_timestamp_seconds", source="fred") > \
        value(samples, "tracker_source_last_success_timestamp_seconds", source="yahoo")
    assert value(samples, "tracker_database_up") == 1


def test_the_textfile_holds_the_same_figures_and_is_replaced_whole(polled, tmp_path):
    folder = tmp_path / "textfile"
    folder.mkdir()
    path = folder / "tracker.prom"
    first = tracker(polled["config"], "metrics", "--textfile", str(path))
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    assert parse(path.read_text()) == parse(polled["metrics"].stdout)
    written = path.stat().st_ino
    again = tracker(polled["config"], "metrics", "--textfile", str(path))
    assert again.returncode == 0, again.stderr
    # Written beside it and renamed over it: node_exporter reads the old file or the new
    # one, never half of one, and nothing else is left in the folder.
    assert path.stat().st_ino != written
    assert [p.name for p in folder.iterdir()] == ["tracker.prom"]
    assert parse(path.read_text()) == parse(polled["metrics"].stdout)


def test_a_textfile_that_cannot_be_written_is_one_line_and_exit_1(polled, tmp_path):
    path = tmp_path / "no-such-folder" / "tracker.prom"
    done = tracker(polled["config"], "metrics", "--textfile", str(path))
    assert done.returncode == 1
    assert done.stderr == f"tracker: {path}: cannot write: No such file or directory\n"
    assert done.stdout == ""


def test_a_textfile_path_that_is_a_folder_is_a_usage_error(polled, tmp_path):
    done = tracker(polled["config"], "metrics", "--textfile", str(tmp_path))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "is a directory" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_scrape_that_cannot_read_the_database_says_so_once_and_the_command_fails(
        tmp_path, caplog):
    from prometheus_client import CollectorRegistry, generate_latest
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import open_database
    from tracker.config import settings_from_dict
    from tracker.metrics.state import StateCollector
    from tracker.registry import load_registry

    caplog.set_level("INFO", logger="tracker.metrics")
    settings = settings_from_dict({"registry": {"bundled": False}})
    engine = open_database(f"sqlite:///{tmp_path / 'tracker.db'}")
    scrape, command = CollectorRegistry(), CollectorRegistry()
    scrape.register(StateCollector(engine, lambda: load_registry(settings)))
    command.register(StateCollector(engine, lambda: load_registry(settings), strict=True))
    assert value(parse(generate_latest(scrape).decode()), "tracker_database_up") == 1
    with engine.begin() as conn:  # a table gone: every read of it fails
        conn.execute(text("ALTER TABLE source_health RENAME TO elsewhere"))
    for _ in range(3):
        assert parse(generate_latest(scrape).decode()) == {("tracker_database_up", ()): 0}
    errors = [r.getMessage() for r in caplog.records if r.name == "tracker.metrics"]
    assert len(errors) == 1 and errors[0].startswith("metrics: cannot read the database: ")
    with pytest.raises(SQLAlchemyError):
        generate_latest(command)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE elsewhere RENAME TO source_health"))
    assert value(parse(generate_latest(scrape).decode()), "tracker_database_up") == 1
    assert [r.getMessage() for r in caplog.records if r.name == "tracker.metrics"][1:] == [
        "metrics: the database can be read again"]


# ---- what a daemon counts as it polls ------------------------------------------------------


def test_each_poll_is_counted_by_result_with_the_points_it_stored(tmp_path):
    from prometheus_client import CollectorRegistry, generate_latest

    from db.engine import open_database
    from tracker.config import load_settings
    from tracker.metrics.activity import DaemonActivity
    from tracker.registry import load_registry
    from tracker.service.poll import run_cycle

    metrics = CollectorRegistry()
    activity = DaemonActivity(metrics, ["fred", "polymarket", "yahoo"])
    with ReplayServer() as server:
        replies(server, fred_fails=True)
        settings = load_settings(replay_config(tmp_path, server.url, predictions=PREDICTIONS))
        engine = open_database(settings.database.url)
        run_cycle(settings, load_registry(settings), engine, observe=activity.observe)
        run_cycle(settings, load_registry(settings), engine, observe=activity.observe)
    samples = parse(generate_latest(metrics).decode())
    # FRED failed, then backed off (not polled: not counted). Yahoo answered twice: the
    # replay sends its 20 bars whatever dates are asked for, and each is written again
    # (a bar fetched again may have been revised). The markets' odds had not changed, so
    # the second poll wrote nothing for them.
    assert named(samples, "tracker_polls_total") == {
        (("result", "failed"), ("source", "fred")): 1, (("result", "ok"), ("source", "fred")): 0,
        (("result", "failed"), ("source", "polymarket")): 0,
        (("result", "ok"), ("source", "polymarket")): 2,
        (("result", "failed"), ("source", "yahoo")): 0, (("result", "ok"), ("source", "yahoo")): 2,
    }
    assert named(samples, "tracker_points_stored_total") == {
        (("source", "fred"),): 0, (("source", "polymarket"),): 2, (("source", "yahoo"),): 40}
    assert value(samples, "tracker_poll_duration_seconds_count", source="yahoo") == 2
    assert value(samples, "tracker_poll_duration_seconds_count", source="fred") == 1


# ---- the daemon's /metrics ---------------------------------------------------------------


def scrape(port):
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    except httpx.TransportError:
        return None
    assert answer.status_code == 200
    return parse(answer.text)


def metrics_config(tmp_path, url, port, database=None):
    config = replay_config(tmp_path, url, predictions=PREDICTIONS)
    text = config.read_text()
    if database:
        text = text.replace(f'url = "sqlite:///{tmp_path / "tracker.db"}"', f'url = "{database}"')
    config.write_text(text + f"\n[metrics]\nport = {port}\n")
    return config


def polled_all(samples):
    """Every source has been polled once and the claims evaluated since."""
    return samples is not None and all(
        value(samples, "tracker_polls_total", source=s, result="ok") == 1
        for s in ("fred", "polymarket", "yahoo")
    ) and named(samples, "tracker_claim_probability")


def test_the_daemon_serves_its_polls_and_the_state_at_metrics(tmp_path):
    port = free_port()
    with ReplayServer() as server:
        replies(server)
        config = metrics_config(tmp_path, server.url, port)
        daemon = Daemon(config)
        try:
            assert wait_for(lambda: polled_all(scrape(port))), daemon.log
            samples = scrape(port)
            status = json.loads(tracker(config, "status", "--json").stdout)
            series = {row["id"]: row for row in json.loads(tracker(config, "series", "--json").stdout)}
            health = {s["source"]: s for s in
                      json.loads(tracker(config, "health", "--json").stdout)["sources"]}
        finally:
            assert daemon.stop() == 0, daemon.log
    assert f"serving metrics on http://127.0.0.1:{port}/metrics" in daemon.log
    assert "Traceback" not in daemon.log
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the port is still open"

    assert value(samples, "tracker_daemon_leader") == 1
    for source in ("fred", "polymarket", "yahoo"):
        assert value(samples, "tracker_polls_total", source=source, result="failed") == 0
        assert value(samples, "tracker_poll_duration_seconds_count", source=source) == 1
        assert value(samples, "tracker_poll_duration_seconds_sum", source=source) > 0
        assert value(samples, "tracker_source_last_success_timestamp_seconds", source=source) \
            == pytest.approx(unix(health[source]["last_success_at"]), abs=1e-6)
    # One poll stored every point each series holds.
    assert value(samples, "tracker_points_stored_total", source="yahoo") == \
        series["yahoo:BATS.L"]["points"] == 20
    assert value(samples, "tracker_points_stored_total", source="fred") == \
        series["fred:NASDAQCOM"]["points"]
    assert value(samples, "tracker_points_stored_total", source="polymarket") == \
        series[XI]["points"] + series[ABIY]["points"]
    counts, probabilities = expected_claims(status)
    assert named(samples, "tracker_claims") == counts
    assert named(samples, "tracker_claim_probability") == probabilities


def test_a_metrics_port_in_use_is_one_line_and_the_daemon_still_polls(tmp_path):
    with socket.socket() as taken, ReplayServer() as server:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        replies(server)
        daemon = Daemon(metrics_config(tmp_path, server.url, port))
        try:
            assert daemon.saw("yahoo: ok"), daemon.log
        finally:
            assert daemon.stop() == 0, daemon.log
    refusals = [line for line in daemon.lines if "serving metrics" in line]
    assert len(refusals) == 1, daemon.log
    assert refusals[0].endswith(f"ERROR tracker.daemon: not serving metrics: cannot listen on "
                                f"127.0.0.1:{port}: Address already in use; polling goes on")
    assert "Traceback" not in daemon.log


def test_a_postgres_standby_serves_metrics_and_says_it_does_not_lead(tmp_path, postgres_url):
    leader_port, standby_port = free_port(), free_port()
    with ReplayServer() as server:
        replies(server)
        leader_dir, standby_dir = tmp_path / "a", tmp_path / "b"
        leader_dir.mkdir()
        standby_dir.mkdir()
        leader = Daemon(metrics_config(leader_dir, server.url, leader_port, postgres_url))
        standby = None
        try:
            assert wait_for(lambda: polled_all(scrape(leader_port))), leader.log
            standby = Daemon(metrics_config(standby_dir, server.url, standby_port, postgres_url))
            assert standby.saw("standing by"), standby.log
            assert wait_for(lambda: scrape(standby_port) is not None), standby.log
            led, stood_by = scrape(leader_port), scrape(standby_port)
        finally:
            if standby is not None:  # first, or it would take over from the leader
                assert standby.stop() == 0, standby.log
            assert leader.stop() == 0, leader.log
    assert value(led, "tracker_daemon_leader") == 1
    assert value(stood_by, "tracker_daemon_leader") == 0
    # The standby polled nothing itself, and reads the same state from the database.
    assert value(stood_by, "tracker_polls_total", source="yahoo", result="ok") == 0
    state = ("tracker_claims", "tracker_claim_probability",
             "tracker_source_last_success_timestamp_seconds")
    for name in state:
        assert named(stood_by, name) == named(led, name), name
