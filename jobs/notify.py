"""The daemon's notification sender: drains the outbox every SEND_EVERY and right after
each poll (tracker/service/notify.py sends each message once; only the leader runs it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.interval import IntervalTrigger

from tracker.service.notify import drain

if TYPE_CHECKING:
    from collections.abc import Callable

    from apscheduler.schedulers.base import BaseScheduler
    from sqlalchemy import Engine

    from tracker.config import Settings

log = logging.getLogger("tracker.notify")

SEND_EVERY = timedelta(seconds=30)  # the longest a message waits for a retry to be due, plus this


def send_job(settings: Settings, engine: Engine) -> None:
    """Drain the outbox once. Never raises: the next run should still happen."""
    if not settings.notify.urls:
        return
    try:
        done = drain(engine, settings)
    except Exception:
        log.exception("sending notifications failed")
        return
    if done.sent:
        log.info("notifications sent: %d", done.sent)


def schedule(scheduler: BaseScheduler, settings: Settings, engine: Engine,
             job: Callable[[Settings, Engine], None] = send_job) -> None:
    scheduler.add_job(
        job, IntervalTrigger(seconds=SEND_EVERY.total_seconds(), timezone=UTC),
        args=(settings, engine), id="notify", name="send notifications",
        max_instances=1, coalesce=True, misfire_grace_time=None,
        next_run_time=datetime.now(UTC),  # what a killed daemon left in the outbox: at once
        replace_existing=True,
    )
    log.info("scheduled notifications to %d target%s, checked every %s",
             len(settings.notify.urls), "s" if len(settings.notify.urls) > 1 else "", SEND_EVERY)
