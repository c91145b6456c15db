"""The daily digest, exactly once a day.

The local date in the configured time zone is the key: the digest log records a date only
after the SMTP server accepted the message, so a crash or a refused send leaves the day
unsent and it is tried again. The daemon sends at ``send_at`` local time (DST-aware);
started after that hour it sends the day's digest at once if it is not sent yet; a failed
send is retried with backoff until the local day ends. The daemon builds and sends it in
a child process (``deliver_apart``), so the charts' libraries never stay in its memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from db import queries
from tracker.digest.content import local_day

if TYPE_CHECKING:
    from email.message import EmailMessage

    from tracker.config import Settings
    from tracker.digest.content import Digest
    from tracker.registry import Registry

log = logging.getLogger("tracker.digest")

RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(minutes=30)


@dataclass
class Delivery:
    day: date
    sent: bool
    message_id: str | None = None
    reason: str = ""  # why nothing was sent


def gather(settings: Settings, registry: Registry, engine: Engine, day: date,
           now: datetime | None = None, charts: bool = True) -> tuple[Digest, dict[str, bytes]]:
    """(digest, charts) for ``day``: the content and, unless ``charts`` is False, its
    charts; nothing rendered yet."""
    from tracker.digest.charts import charts_for
    from tracker.digest.content import build_digest
    from tracker.service.made_on import made_on_prices
    from tracker.sources import group_of

    priced = made_on_prices(engine, registry)  # keeps the prices it had to work out
    with queries.reading(engine) as run:
        digest = build_digest(
            run, registry, priced, series_ids=registry.series_ids(),
            interval_of=lambda source: settings.schedule.interval(group_of(source)),
            timezone=settings.email.timezone, day=day, now=now or datetime.now(UTC))
    return digest, charts_for(digest) if charts else {}


def compose(settings: Settings, registry: Registry, engine: Engine, day: date,
            now: datetime | None = None) -> tuple[Digest, EmailMessage, dict[str, bytes]]:
    """(digest, message, charts) for ``day``: the content, rendered, charts inline."""
    from tracker.digest.render import render_html, render_text, subject
    from tracker.digest.send import build_message

    now = now or datetime.now(UTC)
    digest, charts = gather(settings, registry, engine, day, now)
    cids = {pid: f"chart-{pid}@tracker" for pid in charts}
    message = build_message(
        settings.email.sender, list(settings.email.to), subject(digest),
        render_text(digest, settings.web.public_url),
        render_html(digest, cids, settings.web.public_url),
        {cids[pid]: png for pid, png in charts.items()}, now,
    )
    return digest, message, charts


def deliver(settings: Settings, registry: Registry, engine: Engine, day: date, force: bool = False,
            to: list[str] | None = None, now: datetime | None = None) -> Delivery:
    """Send ``day``'s digest unless it was sent already (``force`` sends again). With
    ``to``, a one-off copy to those addresses: sent whatever the log says, not logged.
    Raises SendError when the server cannot be reached or refuses."""
    from tracker.digest.send import send

    now = now or datetime.now(UTC)
    logged = queries.digest_sent(engine, day.isoformat())
    if logged is not None and not force and not to:
        return Delivery(day, False, logged.message_id,
                        f"the digest for {day} was sent at {logged.sent_at:%Y-%m-%d %H:%M} UTC "
                        "(--force sends it again)")
    digest, message, _charts = compose(settings, registry, engine, day, now)
    if to:
        del message["To"]
        message["To"] = ", ".join(to)
    message_id = send(settings.email, message, to=to)
    if not to:
        queries.record_digest(engine, day.isoformat(), now, message_id, digest.values())
    return Delivery(day, True, message_id)


def deliver_apart(settings: Settings, registry: Registry, engine: Engine, day: date,
                  now: datetime) -> Delivery:
    """``deliver`` in a child process of its own, for the daemon. Building the digest
    imports the templates and the chart drawing and holds every chart at once, for one
    digest a day: the child takes that memory away when it exits.
    Started fresh (spawn), not forked: the daemon's other threads may hold locks.
    Raises what ``deliver`` raised (SendError when the server refused)."""
    import multiprocessing

    url = engine.url.render_as_string(hide_password=False)
    with multiprocessing.get_context("spawn").Pool(1) as child:
        return child.apply(_deliver_in_child, (settings, registry, url, day, now))


def _deliver_in_child(settings: Settings, registry: Registry, url: str, day: date,
                      now: datetime) -> Delivery:
    from db.engine import WRITE, open_database

    engine = open_database(url, WRITE)
    try:
        return deliver(settings, registry, engine, day, now=now)
    finally:
        engine.dispose()


def send_time(day: date, settings: Settings) -> datetime:
    """The UTC instant of ``send_at`` on the local ``day`` (DST-aware)."""
    hour, minute = map(int, settings.email.send_at.split(":"))
    zone = ZoneInfo(settings.email.timezone)
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def end_of_day(day: date, settings: Settings) -> datetime:
    zone = ZoneInfo(settings.email.timezone)
    return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


def due(settings: Settings, engine: Engine, now: datetime) -> date | None:
    """The local date whose digest should go out now: today's, once ``send_at`` has
    passed and it is not in the log yet."""
    today = local_day(now, settings.email.timezone)
    if now < send_time(today, settings) or queries.digest_sent(engine, today.isoformat()):
        return None
    return today


class DigestJob:
    """What the daemon runs at ``send_at`` (and at start): send today's digest if due;
    on failure, try again with backoff (1 min doubling to 30 min) until the day ends."""

    def __init__(self, settings: Settings, registry: Registry, engine: Engine, scheduler):
        self.settings, self.registry, self.engine = settings, registry, engine
        self.scheduler = scheduler
        self.failures = 0

    def __call__(self) -> None:
        from tracker.digest.send import SendError

        now = datetime.now(UTC)
        day = due(self.settings, self.engine, now)
        if day is None:
            return
        try:
            delivery = deliver_apart(self.settings, self.registry, self.engine, day, now)
        except SendError as exc:
            self._retry(day, now, str(exc))
            return
        except Exception as exc:  # a bug must not stop tomorrow's digest; say what happened
            log.exception("building the digest for %s failed", day)
            self._retry(day, now, f"unexpected {type(exc).__name__}: {exc}")
            return
        self.failures = 0
        if delivery.sent:
            log.info("digest for %s sent (%s)", day, delivery.message_id)

    def _retry(self, day: date, now: datetime, reason: str) -> None:
        self.failures += 1
        wait = min(RETRY_FIRST * 2 ** (self.failures - 1), RETRY_MAX)
        when = now + wait
        if when >= end_of_day(day, self.settings):
            log.error("digest for %s not sent today: %s; giving up for this day", day, reason)
            self.failures = 0
            return
        log.error("digest for %s not sent: %s; trying again at %s UTC", day, reason,
                  f"{when:%H:%M:%S}")
        self.scheduler.add_job(self, "date", run_date=when, id="digest-retry",
                               replace_existing=True, misfire_grace_time=None)


def schedule(scheduler, settings: Settings, registry: Registry, engine: Engine) -> None:
    """The daily digest job at ``send_at`` in the configured zone; at once when the
    daemon starts after that hour and today's digest is not sent yet."""
    from apscheduler.triggers.cron import CronTrigger

    hour, minute = map(int, settings.email.send_at.split(":"))
    job = DigestJob(settings, registry, engine, scheduler)
    now = datetime.now(UTC)
    scheduler.add_job(
        job,
        CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.email.timezone)),
        id="digest", name="daily digest", max_instances=1, coalesce=True,
        misfire_grace_time=None, replace_existing=True,
    )
    if due(settings, engine, now) is not None:
        scheduler.add_job(job, "date", run_date=now, id="digest-retry", replace_existing=True,
                          misfire_grace_time=None)
    log.info("daily digest at %s %s", settings.email.send_at, settings.email.timezone)
