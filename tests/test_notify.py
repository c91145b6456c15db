"""Push notifications: each event a message, once, to every target, through Apprise to
real HTTP receivers on loopback (its json:// and ntfy:// services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from db import queries
from tests.notify_receiver import Receiver
from tracker.config import ConfigError, settings_from_dict
from tracker.registry import load_registry
from tracker.service.evaluation import evaluate_all
from tracker.service.notify import drain, evaluation_write, outbox_problems, source_write

T = datetime(2026, 6, 1, tzinfo=UTC)
ODDS = "polymarket:odds"
MARKET = {"id": "yes-wins", "who": "Ann", "made_on": date(2026, 1, 10),
          "claim": "The market says yes", "kind": "market", "series": ODDS, "side": "yes"}
MANUAL = {"id": "by-hand", "who": "Bob", "made_on": date(2026, 1, 10),
          "claim": "Something no data can judge", "kind": "manual", "deadline": date(2026, 6, 30)}
PUBLIC = "https://tracker.example.org/pages"


def settings(urls, **notify):
    return settings_from_dict({
        "registry": {"bundled": False}, "prediction": [MARKET, MANUAL],
        "notify": {"urls": urls, **notify}, "web": {"public_url": PUBLIC},
    })


class World:
    """A database, a registry with a market claim and a manual one, and a clock."""

    def __init__(self, engine, urls, **notify):
        self.engine, self.settings = engine, settings(urls, **notify)
        self.registry = load_registry(self.settings)
        self.now = T
        queries.upsert_series(engine, [{"id": ODDS, "source": "polymarket", "symbol": "odds",
                                        "first_seen_at": T, "state": "open"}])

    def odds(self, value: float, minutes: int = 5) -> None:
        """The market trades at ``value``, ``minutes`` later; then a poll evaluates."""
        self.now += timedelta(minutes=minutes)
        queries.upsert_observations(self.engine, [{"series_id": ODDS, "ts": self.now, "value": value,
                                                   "high": None, "low": None, "fetched_at": self.now}],
                                    changes_only=True)
        self.evaluate()

    def evaluate(self):
        return evaluate_all(self.engine, self.registry, self.now + timedelta(seconds=1), self.settings)

    def send(self, after=timedelta(seconds=2), **options):
        self.now += after
        return drain(self.engine, self.settings, clock=lambda: self.now, **options)

    def outbox(self) -> list[tuple]:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT kind, title, body FROM outbox ORDER BY id")).all()


def titles(receiver: Receiver) -> list[str]:
    return [body["title"] for body in receiver.accepted]


def test_a_first_run_on_a_database_with_history_records_a_baseline_and_sends_nothing(engine):
    with Receiver() as target:
        quiet = World(engine, [])
        quiet.odds(0.5)
        quiet.odds(0.9)  # changes before notifications were configured
        world = World(engine, [target.json_url()])
        world.now = quiet.now
        world.odds(0.2)  # the first run with notifications: a baseline
        assert world.outbox() == []
        world.send()
        assert target.requests == []
        world.odds(0.6)  # from the baseline on, changes are messages
        world.send()
        assert titles(target) == ["Now on track: yes-wins"]


def test_a_move_is_sent_past_move_points_since_the_last_message_not_since_the_last_poll(engine):
    with Receiver() as target:
        world = World(engine, [target.json_url()], move_points=10)
        world.odds(0.50)  # baseline
        for value in (0.55, 0.58):  # 5 and 8 points: below the threshold
            world.odds(value)
        assert world.outbox() == []
        world.odds(0.60)  # 10 points from the baseline, 2 from the last poll
        world.odds(0.66)  # 6 points since that message: nothing
        world.odds(0.69)  # 9: nothing
        world.odds(0.70)  # 10 since the message at 60%
        world.send()
        assert titles(target) == ["Moved 50% -> 60%: yes-wins", "Moved 60% -> 70%: yes-wins"]
        body = target.accepted[0]["message"]
        assert body.splitlines() == [
            "yes-wins: The market says yes", "by Ann", "status: on track",
            "probability: 50% -> 60%", f"{PUBLIC}/p/yes-wins"]


def test_a_status_flip_names_the_claim_the_person_before_and_after(engine):
    with Receiver() as target:
        world = World(engine, [target.json_url()])
        world.odds(0.55)
        world.odds(0.45)  # on track -> off track, though only 10 points
        world.evaluate()  # evaluated again: no second message
        world.send()
        world.send(after=timedelta(minutes=5))
        assert titles(target) == ["Now off track: yes-wins"]
        assert target.accepted[0]["message"].splitlines()[1:4] == [
            "by Ann", "status: on track -> off track", "probability: 55% -> 45%"]


def test_a_resolution_is_one_message_and_a_due_manual_claim_asks_to_resolve_once(engine):
    with Receiver() as target:
        world = World(engine, [target.json_url()], events=["due", "resolved"])
        world.odds(0.5)  # baseline, before the manual claim's deadline (June 30)
        world.now = datetime(2026, 7, 2, tzinfo=UTC)
        world.evaluate()
        world.evaluate()
        world.send()
        assert titles(target) == ["Ready to resolve? by-hand"]
        assert "tracker resolve by-hand right|wrong" in target.accepted[0]["message"]
        queries.set_resolution(engine, "by-hand", "right", "it happened", world.now)
        world.evaluate()
        world.evaluate()
        world.send()
        assert titles(target)[1:] == ["Resolved right: by-hand"]
        assert "status: open -> right" in target.accepted[1]["message"]


def test_events_not_chosen_are_not_sent(engine):
    with Receiver() as target:
        world = World(engine, [target.json_url()], events=["resolved"])
        world.odds(0.55)
        world.odds(0.10)
        world.send()
        assert target.requests == []


def test_the_same_event_detected_twice_is_stored_once(engine):
    """Two processes that evaluate the same change at once (a `tracker poll` by hand
    beside the daemon) detect the same event from the same state: one message."""
    world = World(engine, ["json://127.0.0.1:9/never"])
    world.odds(0.55)
    queries.upsert_observations(engine, [{"series_id": ODDS, "ts": world.now + timedelta(minutes=1),
                                          "value": 0.2, "high": None, "low": None,
                                          "fetched_at": world.now}], changes_only=True)
    now = world.now + timedelta(minutes=2)
    results = evaluate_all(engine, world.registry, now, None)  # snapshots, without notifications
    row = [{"prediction_id": "yes-wins"}]
    first = evaluation_write(engine, world.registry, results, row, now, world.settings)
    second = evaluation_write(engine, world.registry, results, row, now, world.settings)
    queries.add_snapshots(engine, [], first)
    queries.add_snapshots(engine, [], second)
    assert [kind for kind, *_ in world.outbox()] == ["status"]


def test_a_source_failing_n_polls_in_a_row_is_one_message_and_its_recovery_another(engine):
    with Receiver() as target:
        world = World(engine, [target.json_url()], source_failing_after=3)

        def poll(error):
            world.now += timedelta(minutes=5)
            before = queries.source_health(engine).get("yahoo")
            queries.record_source_result(engine, "yahoo", world.now, error,
                                         notify=source_write(world.settings, "yahoo", before,
                                                             error, world.now))

        poll(None)
        poll("HTTP 503")
        poll("HTTP 503")
        assert world.outbox() == []
        for _ in range(4):
            poll("HTTP 503 from \x1b[2Jthe server")
        poll(None)
        poll(None)
        world.send()
        assert titles(target) == ["Source failing: yahoo", "Source working again: yahoo"]
        failing = target.accepted[0]["message"]
        assert "yahoo failed 3 polls in a row, since 2026-06-01 00:10 UTC" in failing
        assert "\x1b" not in failing and "\\x1b[2J" in failing
        assert "after 6 failed polls" in target.accepted[1]["message"]


def test_a_message_waiting_an_hour_is_reported_stuck(engine):
    world = World(engine, ["json://127.0.0.1:9/nobody"])
    world.odds(0.55)
    world.odds(0.30)
    assert outbox_problems(engine, world.now + timedelta(minutes=30)) == []
    assert outbox_problems(engine, world.now + timedelta(minutes=90, seconds=1)) == [
        "notifications stuck: 1 waiting, the oldest for 90 min"]


def test_ntfy_receives_the_topic_title_and_message(engine):
    with Receiver() as ntfy:
        world = World(engine, [ntfy.ntfy_url("my-topic")])
        world.odds(0.55)
        world.odds(0.30)
        world.send()
        [(_path, body)] = ntfy.requests
        assert body["topic"] == "my-topic" and body["title"] == "Now off track: yes-wins"
        assert "by Ann" in body["message"]


def test_a_secret_in_a_url_comes_from_the_environment_and_is_never_stored(engine, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "s3cret-token")
    with Receiver() as target:
        world = World(engine, [f"json://{{env:HOOK_TOKEN}}@127.0.0.1:{target.port}/hook"])
        world.odds(0.55)
        world.odds(0.30)
        world.send()
        assert titles(target) == ["Now off track: yes-wins"]
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT * FROM outbox_delivery")).all()
        assert "s3cret" not in repr(stored)
        assert stored[0].target_label == f"json://127.0.0.1:{target.port}"


@pytest.mark.parametrize(("notify", "message"), [
    ({"events": ["resolved", "moves"]}, "notify.events: unknown event 'moves'"),
    ({"urls": ["ntfy.sh/topic"]}, "notify.urls: bad notification URL"),
    ({"urls": ["json://{env:NOT A NAME}@host/x"]}, "write an environment variable as {env:NAME}"),
    ({"move_points": 0}, "notify.move_points:"),
    ({"source_failing_after": 0}, "notify.source_failing_after:"),
    ({"give_up_after": "forever"}, "notify.give_up_after: bad duration"),
    ({"url": []}, "notify.url: unknown key"),
])
def test_a_bad_notify_section_is_one_line_naming_the_key(notify, message):
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"notify": notify})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_defaults_send_every_event_from_ten_points():
    notify = settings_from_dict({}).notify
    assert (notify.urls, notify.move_points, notify.source_failing_after) == ([], 10, 3)
    assert notify.events == ["resolved", "status", "move", "source", "due"]


def test_a_claim_new_to_the_registry_starts_quietly(engine):
    with Receiver() as target:
        world = World(engine, [target.json_url()])
        world.odds(0.55)
        newcomer = {**MANUAL, "id": "newcomer", "claim": "Added later"}
        world.settings = settings_from_dict({
            "registry": {"bundled": False}, "prediction": [MARKET, MANUAL, newcomer],
            "notify": {"urls": [target.json_url()]}})
        world.registry = load_registry(world.settings)
        world.evaluate()  # its first snapshot: no "flip" from nothing
        queries.set_resolution(engine, "newcomer", "wrong", "", world.now)
        world.evaluate()
        world.send()
        assert titles(target) == ["Resolved wrong: newcomer"]


def test_configured_without_apprise_is_one_clear_line(monkeypatch):
    import sys

    from tracker.notify.targets import check

    monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise raises ImportError
    with pytest.raises(ConfigError) as caught:
        check(["ntfys://topic"])
    assert str(caught.value) == ("[notify] urls is set, but Apprise is not installed: "
                                 "pip install 'prediction-tracker[notify]'")
    check([])  # nothing configured: nothing needed


def test_a_target_taken_out_of_the_config_is_forgotten_with_what_waited_for_it(engine):
    with Receiver() as kept:
        world = World(engine, [kept.json_url(), "json://127.0.0.1:9/removed"])
        world.odds(0.55)
        world.odds(0.30)
        world.send()
        world.settings = settings(urls=[kept.json_url()])
        world.send(after=timedelta(hours=3))
        assert outbox_problems(engine, world.now) == []  # nothing stuck for the removed one
        assert titles(kept) == ["Now off track: yes-wins"]


def test_messages_waiting_show_in_the_metrics_as_health_counts_them(engine, sqlite_url, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    from tests.forked_cli import run_tracker

    world = World(engine, ["json://127.0.0.1:9/nobody"])
    world.odds(0.55)
    world.odds(0.30)  # a flip, waiting for a target that never answers
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n[registry]\nbundled = false\n'
                      '[notify]\nurls = ["json://127.0.0.1:9/nobody"]\n')
    done = run_tracker(["--config", str(config), "metrics"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pending = {sample.name: sample.value for family in text_string_to_metric_families(done.stdout)
               for sample in family.samples}["tracker_outbox_pending"]
    assert pending == 1 == len(world.outbox())
