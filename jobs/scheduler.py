"""The daemon: an APScheduler 3 BlockingScheduler with one poll job per schedule group.

Jobs have explicit ids, run in UTC, never overlap themselves (max_instances=1) and
coalesce missed runs into one. Every job runs once at start. Catch-up does not depend on
the scheduler's memory: each poll fetches from the last stored point. On SIGTERM or
SIGINT the running job finishes, then the process exits 0.
"""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs.poll import run_cycle, sources_in_group
from tracker.sources import GROUPS

log = logging.getLogger("tracker.daemon")


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
    # APScheduler logs every job start and end at INFO; our own lines say what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def poll_job(settings, registry, engine, group: str) -> None:
    """One scheduled poll of a group. Never raises: a raising job would only log a traceback
    on every run, and the next run should still happen."""
    try:
        run_cycle(settings, registry, engine, sources_in_group(group))
    except Exception:
        log.exception("poll of %s failed", group)


def build_scheduler(settings, registry, engine) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=UTC)
    used_sources = {series_id.split(":", 1)[0] for series_id in registry.series_ids()}
    for group in GROUPS:
        if not sources_in_group(group) & used_sources:
            continue
        interval = settings.schedule.interval(group)
        scheduler.add_job(
            poll_job,
            IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
            args=(settings, registry, engine, group),
            id=f"poll-{group}",
            name=f"poll {group}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late is better than never: the data catch up anyway
            next_run_time=datetime.now(UTC),  # poll once at start
        )
        log.info("scheduled poll-%s every %s", group, interval)
    return scheduler


def run_daemon(settings, registry, engine) -> None:
    configure_logging()
    scheduler = build_scheduler(settings, registry, engine)

    def stop(signum, _frame):
        log.info("received %s: finishing the running job, then exiting", signal.Signals(signum).name)
        # wait=True: lets the running job finish; then start() below returns.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    database = engine.url.render_as_string(hide_password=True)
    log.info("tracker daemon started: %d predictions, database %s", len(registry), database)
    scheduler.start()
    log.info("tracker daemon stopped")
