"""The digest goes out once a day at send_at local time: `tracker digest` as a user runs
it, and the daemon's job, against a real SMTP server on loopback (aiosmtpd)."""

import email
import socket
from datetime import UTC, date, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from apscheduler.schedulers.background import BackgroundScheduler

from db import queries
from db.engine import open_database
from jobs.digest import DigestJob, due, schedule, send_time
from tests.replay import ReplayServer
from tests.sources_fixtures import copy_database, gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker
from tracker.config import load_settings
from tracker.registry import load_registry


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def digest_config(tmp_path, url, port, timezone="America/Los_Angeles", send_at="07:00"):
    config = replay_config(tmp_path, url, predictions=market("xi-out", "polymarket:xi-jinping-out-before-2027"))
    config.write_text(config.read_text() + (
        f'\n[email]\nenabled = true\nto = ["reader@example.com"]\nfrom = "tracker@example.com"\n'
        f'send_at = "{send_at}"\ntimezone = "{timezone}"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {port}\nsecurity = "none"\n'
    ))
    return config


@pytest.fixture(scope="module")
def polled_once(tmp_path_factory):
    """The database a real `tracker poll` made from the recorded market."""
    folder = tmp_path_factory.mktemp("polled")
    with ReplayServer() as server:
        server.add("/markets", gamma_markets("markets_open_xi.json"))
        config = digest_config(folder, server.url, port=25)  # polling sends no mail
        assert tracker(config, "poll").returncode == 0
    return folder / "tracker.db"


@pytest.fixture
def polled(tmp_path, inbox, polled_once):
    """A config sending to the test's inbox, and a copy of that database (its server gone,
    as it was once the poll had run)."""
    config = digest_config(tmp_path, "http://127.0.0.1:9", inbox.port)
    copy_database(polled_once, tmp_path)
    return config


def test_send_twice_the_same_day_sends_once_unless_forced(polled, inbox):
    first = tracker(polled, "digest", "--send", "--date", "2026-11-25")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("digest for 2026-11-25 sent to reader@example.com")
    again = tracker(polled, "digest", "--send", "--date", "2026-11-25")
    assert again.returncode == 0
    assert "was sent at" in again.stdout and "--force" in again.stdout
    assert len(inbox.messages) == 1
    forced = tracker(polled, "digest", "--send", "--date", "2026-11-25", "--force")
    assert forced.returncode == 0 and len(inbox.messages) == 2
    # A one-off copy elsewhere goes out whatever the log says, to that address only.
    copy = tracker(polled, "digest", "--send", "--date", "2026-11-25", "--to", "friend@example.com")
    assert copy.returncode == 0 and inbox.messages[-1]["To"] == "friend@example.com"

    message = inbox.messages[0]
    assert message["To"] == "reader@example.com" and message["From"] == "tracker@example.com"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


class Refusing:
    """An SMTP server that answers the message with ``reply``."""

    def __init__(self, reply):
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):
        return self.reply


@pytest.mark.parametrize("reply", [None, "451 4.3.0 Try again later", "554 5.7.1 Rejected"])
def test_a_failed_send_is_one_line_exit_1_and_the_day_stays_unsent(polled, reply):
    """Nobody listening, a "later" reply and a final one read alike: the reason on one
    line, exit 1, and the day left unsent for the next try."""
    controller = None
    if reply is None:
        port, said = free_port(), "refused the connection"
    else:
        controller = Controller(Refusing(reply), hostname="127.0.0.1", port=free_port())
        controller.start()
        port, said = controller.port, f"said {reply}"
    text = polled.read_text()
    old_port = text.split("smtp_port = ")[1].split("\n")[0]
    polled.write_text(text.replace(f"smtp_port = {old_port}", f"smtp_port = {port}"))
    try:
        done = tracker(polled, "digest", "--send", "--date", "2026-11-25")
    finally:
        if controller is not None:
            controller.stop()
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"tracker: digest for 2026-11-25 not sent: SMTP server 127.0.0.1:{port} {said}\n"
    engine = open_database(load_settings(str(polled)).database.url)
    assert queries.digest_sent(engine, "2026-11-25") is None


def test_preview_and_text(polled, tmp_path):
    out = tmp_path / "digest.html"
    done = tracker(polled, "digest", "--preview", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "Xi Jinping" in html
    text = tracker(polled, "digest", "--text")
    assert text.returncode == 0 and "Xi Jinping" in text.stdout


def test_the_preview_leaves_the_database_closed(polled, tmp_path):
    """The command frees its objects in bulk at exit, after closing the database: SQLite
    folds its log back into the file as the last connection closes."""
    done = tracker(polled, "digest", "--preview", str(tmp_path / "digest.html"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.glob("tracker.db*")) == ["tracker.db"]


def settings_for(tmp_path, timezone, send_at="07:00"):
    config = digest_config(tmp_path, "http://127.0.0.1:9", 25, timezone, send_at)
    settings = load_settings(str(config))
    return settings, load_registry(settings), open_database(settings.database.url)


def test_send_time_follows_the_zone_across_the_date_line_and_dst(tmp_path):
    tokyo, _, engine = settings_for(tmp_path, "Asia/Tokyo")
    # 07:00 in Tokyo on the 25th is 22:00 UTC on the 24th.
    assert send_time(date(2026, 11, 25), tokyo) == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    assert due(tokyo, engine, datetime(2026, 11, 24, 21, 59, tzinfo=UTC)) is None
    assert due(tokyo, engine, datetime(2026, 11, 24, 22, 0, tzinfo=UTC)) == date(2026, 11, 25)
    queries.record_digest(engine, "2026-11-25", datetime(2026, 11, 24, 22, tzinfo=UTC), "<m>", {})
    assert due(tokyo, engine, datetime(2026, 11, 24, 23, 0, tzinfo=UTC)) is None

    la, registry, _ = settings_for(tmp_path, "America/Los_Angeles")
    # Daylight saving ends on 1 November 2026: 07:00 moves from 14:00 to 15:00 UTC.
    assert send_time(date(2026, 10, 31), la) == datetime(2026, 10, 31, 14, 0, tzinfo=UTC)
    assert send_time(date(2026, 11, 2), la) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule(scheduler, la, registry, engine)
    trigger = scheduler.get_job("digest").trigger
    fires = trigger.get_next_fire_time(None, datetime(2026, 10, 31, 14, 30, tzinfo=UTC))
    assert fires == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # 07:00 PST on the 1st


def test_the_daemon_job_retries_until_the_server_takes_it_then_sends_once(tmp_path, inbox):
    with ReplayServer() as server:
        server.add("/markets", gamma_markets("markets_open_xi.json"))
        config = digest_config(tmp_path, server.url, free_port(), "UTC", "00:00")
        assert tracker(config, "poll").returncode == 0
    settings = load_settings(str(config))
    registry, engine = load_registry(settings), open_database(settings.database.url)
    scheduler = BackgroundScheduler(timezone=UTC)
    job = DigestJob(settings, registry, engine, scheduler)

    job()  # nothing listens on that port
    retry = scheduler.get_job("digest-retry")
    assert retry is not None
    assert retry.trigger.run_date - datetime.now(UTC) < timedelta(minutes=1, seconds=5)
    today = datetime.now(UTC).date().isoformat()
    assert queries.digest_sent(engine, today) is None

    job.settings = settings.model_copy(
        update={"email": settings.email.model_copy(update={"smtp_port": inbox.port})})
    job()
    job()  # already sent today: nothing more
    assert len(inbox.messages) == 1
    assert queries.digest_sent(engine, today) is not None


def test_a_daemon_started_after_send_at_sends_the_days_digest_at_once(tmp_path):
    utc, registry, engine = settings_for(tmp_path, "UTC", "00:00")
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule(scheduler, utc, registry, engine)
    assert scheduler.get_job("digest-retry") is not None  # due now: today's is not sent
    queries.record_digest(engine, datetime.now(UTC).date().isoformat(), datetime.now(UTC), "<m>", {})
    later = BackgroundScheduler(timezone=UTC)
    schedule(later, utc, registry, engine)
    assert later.get_job("digest-retry") is None  # sent already: wait for tomorrow


def test_digest_json_is_the_content_or_what_was_sent(polled, inbox):
    import json

    built = tracker(polled, "digest", "--date", "2026-11-25", "--json")
    assert built.returncode == 0, built.stderr
    content = json.loads(built.stdout)
    assert content["day"] == "2026-11-25" and content["timezone"] == "America/Los_Angeles"
    (line,) = content["open"]
    assert (line["id"], line["status"]) == ("xi-out", "off_track")
    assert content["failing"] == [] and inbox.messages == []

    sent = tracker(polled, "digest", "--send", "--date", "2026-11-25", "--json")
    assert sent.returncode == 0, sent.stderr
    said = json.loads(sent.stdout)
    assert (said["sent"], said["to"], said["reason"]) == (True, ["reader@example.com"], None)
    assert said["message_id"] == inbox.messages[0]["Message-ID"]
    again = json.loads(tracker(polled, "digest", "--send", "--date", "2026-11-25", "--json").stdout)
    assert again["sent"] is False and "was sent at" in again["reason"]

    both = tracker(polled, "digest", "--json", "--text")
    assert both.returncode == 2 and both.stderr.count("\n") == 1
