"""Notifications exactly once, each case a fault record (docs/reliability.md): a daemon
SIGKILLed between writing a message and sending it sends it after its restart, once;
two daemons on PostgreSQL, a leader and a standby, send it once across a leader change;
senders racing for one delivery send it once; a sender that died holding a claim.
Real `tracker run` processes, and receivers on loopback."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from db import outbox
from db.engine import open_database
from tests.forked_cli import run_tracker
from tests.notify_receiver import Receiver
from tests.replay import ReplayServer, Reply
from tests.test_daemon import wait_for
from tests.test_daemon_reliability import FIXTURE, SYMBOL, Daemon, fast_config
from tests.test_notify import World, titles
from tracker.config import settings_from_dict
from tracker.service.notify import LEASE, drain, outbox_problems

# `tracker run` that dies by SIGKILL when it is about to claim its first delivery: after
# the message was committed with its snapshot, before anything was sent.
KILLED_BEFORE_SENDING = """
import os, signal, sys
import db.outbox
db.outbox.claim = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
sys.argv[0] = "tracker"
from tracker.cli import main
main()
"""


def notifying_config(folder, server, receiver, database=None):
    """A daemon's config: one Yahoo symbol every 2 s, a far-off threshold on it, messages
    to ``receiver``."""
    config = fast_config(folder, server.url, database=database)
    config.write_text(config.read_text() + f'\n[notify]\nurls = ["{receiver.json_url()}"]\n')
    return config


def reach_the_target(config) -> None:
    """The threshold is now 1: the next evaluation finds it touched, a resolution."""
    config.write_text(config.read_text().replace("target = 1e12", "target = 1.0"))


def deliveries(url: str) -> list[tuple]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT attempts, sent_at IS NOT NULL, failed_at IS NOT NULL"
                                     " FROM outbox_delivery")).all()
    finally:
        engine.dispose()


def test_a_daemon_killed_after_writing_a_message_sends_it_after_restart_once(tmp_path,
                                                                           fault_result):
    with ReplayServer() as server, Receiver() as receiver:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        config = notifying_config(tmp_path, server, receiver)
        polled = run_tracker(["--config", config, "poll"])  # the baseline: nothing to send
        assert polled.returncode == 0, polled.stderr
        reach_the_target(config)

        killed = Daemon(config, start=("-c", KILLED_BEFORE_SENDING))
        try:
            killed.proc.wait(timeout=60)
        finally:
            killed.stop(signal.SIGKILL)
        assert killed.proc.returncode == -signal.SIGKILL, killed.log
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
        assert deliveries(url) == [(0, False, False)]  # written, not sent
        assert receiver.requests == []

        started = time.monotonic()
        daemon = Daemon(config)
        try:
            assert wait_for(lambda: receiver.accepted, timeout=60), daemon.log
            sent_after = time.monotonic() - started
            assert daemon.saw("yahoo: ok", timeout=60), daemon.log
            time.sleep(0.5)  # a second send would come now, right after the poll
        finally:
            assert daemon.stop() == 0, daemon.log
    fault_result("notifications", "SIGKILL after a message was written, before it was sent",
                 "daemon", survived=len(receiver.accepted) == 1, lost=1 - len(receiver.accepted),
                 duplicates=max(0, len(receiver.accepted) - 1),
                 note=(f"{len(receiver.accepted)} message for 1 event; sent {sent_after:.1f} s "
                       "after the restart (start-up and first poll included)"))
    assert [body["title"] for body in receiver.accepted] == ["Resolved right: watch-0"]
    assert len(receiver.requests) == 1
    assert deliveries(url) == [(1, True, False)]


def test_two_daemons_on_postgres_send_once_across_a_leader_change(tmp_path, postgres_url,
                                                                  fault_result):
    with ReplayServer() as server, Receiver() as receiver:
        server.add(f"/v8/finance/chart/{SYMBOL}", Reply.file(FIXTURE))
        first_dir, second_dir = tmp_path / "a", tmp_path / "b"
        first_dir.mkdir()
        second_dir.mkdir()
        first_config = notifying_config(first_dir, server, receiver, database=postgres_url)
        second_config = notifying_config(second_dir, server, receiver, database=postgres_url)
        polled = run_tracker(["--config", first_config, "poll"])
        assert polled.returncode == 0, polled.stderr
        reach_the_target(first_config)
        reach_the_target(second_config)

        leader = Daemon(first_config)
        standby = None
        try:
            assert leader.saw("tracker daemon leading", timeout=60), leader.log
            standby = Daemon(second_config)
            assert standby.saw("standing by", timeout=60), standby.log
            assert wait_for(lambda: receiver.accepted, timeout=60), leader.log
            leader.proc.kill()  # no goodbye: the standby takes over
            leader.proc.wait(timeout=10)
            assert standby.saw("takes over polling", timeout=60), standby.log
            assert standby.saw("yahoo: ok", timeout=60), standby.log
            assert standby.saw("scheduled notifications", timeout=60), standby.log
            time.sleep(1.0)  # its notification job and its poll's have run
        finally:
            leader.stop()
            if standby is not None:
                assert standby.stop() == 0, standby.log
    fault_result("notifications", "the leader SIGKILLed after it sent; the standby takes over",
                 "postgresql", survived=len(receiver.requests) == 1,
                 lost=1 - len(receiver.accepted), duplicates=max(0, len(receiver.requests) - 1),
                 note=f"{len(receiver.requests)} message for 1 event across 2 daemons")
    assert [body["title"] for body in receiver.accepted] == ["Resolved right: watch-0"]
    assert len(receiver.requests) == 1
    assert deliveries(postgres_url) == [(1, True, False)]


def test_senders_racing_for_one_delivery_send_it_once(any_engine, fault_result):
    """Several senders drain at once (a poll's, the scheduled job's, a leader's and a
    standby's at a change): the conditional UPDATE lets one of them claim it."""
    with Receiver() as receiver:
        settings = settings_from_dict({"notify": {"urls": [receiver.json_url()]}})
        now = datetime.now(UTC)
        with any_engine.begin() as conn:
            outbox.write(conn, outbox.NotifyWrite(
                [{"created_at": now, "kind": "status", "prediction_id": "p", "source": None,
                  "title": "t", "body": "b", "dedupe_key": "status:p:0"}], (),
                [outbox.Target(*_target(receiver))]))
        start = threading.Barrier(4)
        sent = []

        def sender():
            start.wait()
            sent.append(drain(any_engine, settings).sent)

        threads = [threading.Thread(target=sender) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    fault_result("notifications", "4 senders draining one delivery at once",
                 any_engine.dialect.name, survived=len(receiver.requests) == 1,
                 duplicates=max(0, len(receiver.requests) - 1),
                 note=f"{len(receiver.requests)} request; messages each sender sent: {sorted(sent)}")
    assert sorted(sent) == [0, 0, 0, 1]
    assert len(receiver.requests) == 1


def _target(receiver):
    from tracker.notify.targets import target_of

    return target_of(receiver.json_url())


def test_a_claim_held_by_a_sender_that_died_waits_out_its_lease(engine, fault_result):
    """Killed after it claimed (it may have sent): no other sender sends it before the
    lease ends; after, it is sent again (the at-least-once window docs/reliability.md
    describes)."""
    with Receiver() as receiver:
        settings = settings_from_dict({"notify": {"urls": [receiver.json_url()]}})
        now = datetime(2026, 6, 1, tzinfo=UTC)
        with engine.begin() as conn:
            outbox.write(conn, outbox.NotifyWrite(
                [{"created_at": now, "kind": "status", "prediction_id": "p", "source": None,
                  "title": "t", "body": "b", "dedupe_key": "status:p:0"}], (),
                [outbox.Target(*_target(receiver))]))
        [delivery] = outbox.due(engine, [_target(receiver).key], now)
        assert outbox.claim(engine, delivery, now, LEASE)  # then it died, maybe after sending
        within = drain(engine, settings, clock=lambda: now + LEASE - timedelta(seconds=1)).sent
        after = drain(engine, settings, clock=lambda: now + LEASE).sent
    fault_result("notifications", "a sender dead while it held a claim", "sqlite",
                 survived=(within, after) == (0, 1),
                 note=(f"not sent again within the {LEASE.seconds // 60}-minute lease; sent "
                       "once after it (a second copy, had the dead sender's reached the target)"))
    assert (within, after) == (0, 1)
    assert len(receiver.requests) == 1


def test_a_receiver_answering_500_then_200_gets_the_message_once_after_a_backoff(engine,
                                                                                fault_result):
    with Receiver(statuses=[500]) as target:
        world = World(engine, [target.json_url()])
        world.odds(0.55)
        world.odds(0.30)
        done = world.send(backoff_first=timedelta(seconds=30))
        assert (done.sent, done.retrying) == (0, 1)
        assert world.send(after=timedelta(seconds=10)).sent == 0  # not due yet: not asked
        assert len(target.requests) == 1
        assert world.send(after=timedelta(seconds=25)).sent == 1
        assert world.send(after=timedelta(minutes=5)).sent == 0
        fault_result("notifications", "a target answering 500, then 200", "json://",
                     survived=titles(target) == ["Now off track: yes-wins"],
                     duplicates=max(0, len(target.accepted) - 1),
                     note=(f"{len(target.requests)} requests, {len(target.accepted)} accepted; "
                           "tried again after the 30 s backoff, not before"))
        assert len(target.requests) == 2 and titles(target) == ["Now off track: yes-wins"]


def test_one_target_failing_while_the_other_is_served_and_health_names_it(engine, fault_result):
    with Receiver() as good, Receiver(default=500) as bad:
        world = World(engine, [good.json_url(), bad.ntfy_url("alerts")], max_attempts=2)
        world.odds(0.55)
        world.odds(0.30)
        world.odds(0.80)
        world.send()
        assert titles(good) == ["Now off track: yes-wins", "Now on track: yes-wins"]
        assert len(bad.requests) == 1  # a target that failed is not asked again in that drain
        world.send(after=timedelta(hours=2))
        world.send(after=timedelta(hours=2))
        assert len(good.requests) == 2  # never sent twice
        assert [body["topic"] for _path, body in bad.requests] == ["alerts"] * 3
        fault_result("notifications", "one target always answering 500 beside one that works",
                     "ntfy:// and json://", survived=len(good.requests) == 2,
                     lost=2 - len(good.accepted), duplicates=max(0, len(good.requests) - 2),
                     note=(f"the working target got {len(good.accepted)} of 2 messages, once "
                           f"each; the failing one was asked {len(bad.requests)} times and gave "
                           "up its first message after max_attempts = 2"))
        # Its first message given up after 2 tries; its second tried once, still waiting.
        given_up = (f"notify target ntfy://127.0.0.1:{bad.port}: 1 message given up since it "
                    "last accepted one")
        assert outbox_problems(engine, world.now) == [
            given_up, "notifications stuck: 1 waiting, the oldest for 240 min"]

