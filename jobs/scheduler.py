"""The daemon: one poll job per schedule group, on an APScheduler 3 background scheduler,
while the main thread waits for signals.

Jobs have explicit ids, run in UTC, never overlap themselves (max_instances=1) and
coalesce missed runs into one. Every job runs once at start. Catch-up does not depend on
the scheduler's memory: each poll fetches from the last stored point.

- Leadership (jobs/leader.py): only the daemon holding the database's lock polls. On
  SQLite a second daemon is refused; on PostgreSQL it stands by and takes over.
- SIGTERM, SIGINT: no new job starts; the running one finishes, or is abandoned after
  ``STOP_GRACE`` (the database stays consistent: each write is one transaction); exit 0.
- SIGHUP: reload the config and the registry; a bad new config is refused with a log
  line and the old one keeps running.
- With ``[email] enabled``, the daily digest job (jobs/digest.py) runs here too, the
  digest built and sent in a child process.
- With ``[notify] urls``, the notification sender (jobs/notify.py) runs every 30 s and
  after each poll, on the leader only.
- With ``[web] serve``, the web view (jobs/web.py) is served from a thread of its own
  from the first time this daemon leads until it exits.
- With ``[metrics] port``, Prometheus metrics (jobs/metrics.py) are served from a thread
  of their own from the time this daemon leads or stands by until it exits.
- The SQLite file deleted or replaced under it: one error logged, exit 1 (a supervisor
  restarts it), before another job writes where the data would be lost.
- Under systemd (jobs/systemd.py): READY once it leads with its scheduler running, or
  once it stands by; STATUS says which; watchdog pings from the main loop only while the
  scheduler works (jobs/watchdog.py); STOPPING on SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from db.engine import DatabaseVanished, check_same_file, file_identity
from jobs import digest, notify
from jobs.leader import leader_for
from jobs.memory import return_free_memory
from jobs.metrics import DaemonMetrics
from jobs.systemd import Notifier
from jobs.watchdog import scheduler_alive
from jobs.web import DaemonWeb
from tracker.config import ConfigError
from tracker.registry import RegistryError
from tracker.service.poll import run_cycle, sources_in_group, used_sources, waits
from tracker.sources import GROUPS, SOURCES

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from tracker.config import Settings
    from tracker.registry import Registry
    from tracker.service.poll import SourceLine

    Reload = Callable[[], tuple[Settings, Registry]]  # raises on a bad config

log = logging.getLogger("tracker.daemon")

STOP_GRACE = 30.0  # seconds a running poll may take to finish after SIGTERM
STANDBY_RETRY_MAX = 15.0  # seconds between a standby's tries for the leader lock
TICK = 0.5  # seconds between the main loop's looks at signals, the file and the scheduler


def build_scheduler(settings: Settings, registry: Registry, engine: Engine, job=None,
                    scheduler: BackgroundScheduler | None = None) -> BackgroundScheduler:
    """A scheduler with one poll job per group the registry uses."""
    scheduler = scheduler or BackgroundScheduler(timezone=UTC)
    used = used_sources(registry)
    for group in GROUPS:
        if not sources_in_group(group) & used:
            continue
        interval = settings.schedule.interval(group)
        scheduler.add_job(
            job or poll_job,
            IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
            args=(settings, registry, engine, group),
            id=f"poll-{group}",
            name=f"poll {group}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late is better than never: the data catch up anyway
            next_run_time=datetime.now(UTC),  # poll once at start
            replace_existing=True,
        )
        log.info("scheduled poll-%s every %s", group, interval)
    return scheduler


def poll_job(settings: Settings, registry: Registry, engine: Engine, group: str,
             database_gone: Callable[[], bool] = lambda: False,
             observe: Callable[[SourceLine], None] | None = None) -> None:
    """One scheduled poll of a group. Never raises: a raising job would only log a
    traceback on every run, and the next run should still happen. ``observe``: told of
    each source polled (the metrics)."""
    try:
        run_cycle(settings, registry, engine, sources_in_group(group), observe=observe)
    except Exception:
        if not database_gone():  # a vanished file is logged once, by the daemon
            log.exception("poll of %s failed", group)
    finally:
        return_free_memory()


def announce_waits(engine: Engine, registry: Registry, now: datetime | None = None) -> None:
    """Log each source the daemon will not ask yet, and until when: a daemon restarted
    while a source backs off would otherwise say nothing about it until then."""
    for line in waits(engine, used_sources(registry), now or datetime.now(UTC)):
        log.info("%s", line)


class Daemon:
    """The daemon's life: lead, poll on schedule, reload on SIGHUP, stop on SIGTERM."""

    def __init__(self, settings: Settings, registry: Registry, engine: Engine,
                 reload: Reload | None = None, notifier: Notifier | None = None):
        self.settings, self.registry, self.engine = settings, registry, engine
        self.notifier = notifier or Notifier()
        self.scheduler: BackgroundScheduler | None = None
        self._reload_source = reload
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._lost = threading.Event()
        self._vanished: DatabaseVanished | None = None
        self._identity = file_identity(engine)  # the SQLite file it opened, to notice a swap
        self._idle = threading.Condition()
        self._running = 0
        self.web: DaemonWeb | None = None
        self.metrics: DaemonMetrics | None = None
        self._metrics_tried = False
        shortest = min(settings.schedule.interval(g).total_seconds() for g in GROUPS)
        self.leader = leader_for(engine, retry_seconds=min(STANDBY_RETRY_MAX, shortest / 2))

    # --- signals ---------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        def stop(signum, _frame):
            log.info("received %s: finishing the running poll, then exiting",
                     signal.Signals(signum).name)
            self._stop.set()

        def reload(_signum, _frame):
            self._reload.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    # --- jobs --------------------------------------------------------------------------------

    def _database_still_there(self) -> bool:
        try:
            check_same_file(self.engine, self._identity)
        except DatabaseVanished as exc:
            if self._vanished is None:
                self._vanished = exc
            self._stop.set()
            return False
        return True

    def _may_run(self) -> bool:
        """Whether a job may start: not stopping, the database in place, still leading."""
        if self._stop.is_set() or not self._database_still_there():
            return False
        if not self.leader.still_leading():
            self._lost.set()
            return False
        return True

    @contextmanager
    def _counted(self):
        """A running job, which a stop waits for."""
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _job(self, settings: Settings, registry: Registry, engine: Engine, group: str) -> None:
        if not self._may_run():
            return
        with self._counted():
            poll_job(settings, registry, engine, group,
                     database_gone=lambda: not self._database_still_there(),
                     observe=self.metrics.activity.observe if self.metrics else None)
            notify.send_job(settings, engine)  # what this poll found, without waiting

    def _send_job(self, settings: Settings, engine: Engine) -> None:
        if not self._may_run():
            return
        with self._counted():
            notify.send_job(settings, engine)

    def _schedule_all(self, scheduler: BackgroundScheduler) -> None:
        build_scheduler(self.settings, self.registry, self.engine, job=self._job,
                        scheduler=scheduler)
        if self.settings.email.enabled:
            digest.schedule(scheduler, self.settings, self.registry, self.engine)
        if self.settings.notify.urls:
            notify.schedule(scheduler, self.settings, self.engine, job=self._send_job)

    def _start_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(timezone=UTC)
        self._schedule_all(scheduler)
        scheduler.start()
        return scheduler

    def _apply_reload(self, scheduler: BackgroundScheduler) -> None:
        self._reload.clear()
        try:
            settings, registry = self._reload_source()
        except (ConfigError, RegistryError) as exc:  # a bad config never stops a daemon
            log.error("refused the new config, keeping the old one: %s", exc)
            return
        if settings.database.url != self.settings.database.url:
            log.warning("the database URL changed: that takes a restart; keeping %s",
                        self.engine.url.render_as_string(hide_password=True))
            settings = settings.model_copy(update={"database": self.settings.database})
        if self.web is not None:
            self.web.reload(settings, registry)
        elif settings.web.serve != self.settings.web.serve:
            log.warning("[web] serve changed: that takes a restart")
        if self.metrics is not None:
            self.metrics.reload(settings)
        elif settings.metrics.port != self.settings.metrics.port:
            log.warning("[metrics] port changed: that takes a restart")
        self.settings, self.registry = settings, registry
        scheduler.remove_all_jobs()
        self._schedule_all(scheduler)
        log.info("reloaded the config: %d predictions", len(registry))

    def _serve_metrics(self) -> None:
        """Start the metrics endpoint, once, when ``[metrics] port`` asks for it."""
        if self._metrics_tried or not self.settings.metrics.port:
            return
        self._metrics_tried = True  # a port in use is logged once, not at every takeover
        self.metrics = DaemonMetrics.start(self.settings, self.engine, lambda: self.registry,
                                           sorted(used_sources(self.registry) & set(SOURCES)))

    def _wait_for_running_poll(self) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=STOP_GRACE)

    # --- the main loop -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._lead_until_stopped()
        finally:
            if self.web is not None:
                self.web.stop()
            if self.metrics is not None:
                self.metrics.stop()
        if self._vanished is not None:
            raise self._vanished  # the CLI exits 1; the log has said why
        log.info("tracker daemon stopped")

    def _standing_by(self) -> None:
        """Called by the leader lock between tries: a standby is ready, and alive, and
        serves its metrics too."""
        self._serve_metrics()
        self.notifier.ready("standing by: another daemon leads on this database")
        self.notifier.watchdog()

    def _lead_until_stopped(self) -> None:
        database = self.engine.url.render_as_string(hide_password=True)
        while not self._stop.is_set():
            # On SQLite a second daemon is refused here, before it serves anything.
            if not self.leader.acquire(stop=self._stop, waiting=self._standing_by):
                self.notifier.stopping()
                break  # stopped while standing by
            self._serve_metrics()
            if self.metrics is not None:
                self.metrics.activity.leading(True)
            log.info("tracker daemon leading: %d predictions, database %s",
                     len(self.registry), database)
            if self.settings.web.serve and self.web is None:
                self.web = DaemonWeb.start(self.settings, self.registry, self.engine)
            announce_waits(self.engine, self.registry)
            self._lost.clear()
            self.scheduler = scheduler = self._start_scheduler()
            self.notifier.ready(f"leading: polling for {len(self.registry)} predictions")
            while not (self._stop.is_set() or self._lost.is_set()):
                if self._reload.is_set() and self._reload_source is not None:
                    self._apply_reload(scheduler)
                self._stop.wait(min(TICK, self.notifier.watchdog_interval or TICK))
                self._database_still_there()
                if scheduler_alive(scheduler, datetime.now(UTC)):
                    self.notifier.watchdog()
            if self._stop.is_set():
                self.notifier.stopping()
            scheduler.shutdown(wait=False)
            if self._vanished is not None:
                log.error("%s", self._vanished)
                self._vanished.logged = True
            finished = self._wait_for_running_poll()
            self.leader.release()
            if self.metrics is not None:
                self.metrics.activity.leading(False)
            if not finished:
                log.warning("the running poll did not finish in %.0f s: abandoned", STOP_GRACE)
                logging.shutdown()
                # Its thread cannot be interrupted; the data are consistent.
                os._exit(1 if self._vanished else 0)
            if self._lost.is_set() and not self._stop.is_set():
                log.warning("no longer leading: standing by")
                self.notifier.status("standing by: lost the leader lock")


def run_daemon(settings: Settings, registry: Registry, engine: Engine,
               reload: Reload | None = None) -> None:
    daemon = Daemon(settings, registry, engine, reload=reload)
    daemon.install_signal_handlers()
    daemon.run()
