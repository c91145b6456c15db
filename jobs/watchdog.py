"""Whether the daemon's scheduler still works: the condition for each ping to systemd's
watchdog (jobs/systemd.py). A dead or hung scheduler stops the pings, and systemd
restarts the daemon once ``WatchdogSec=`` passes without one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

# A job may be this late before the scheduler counts as hung: it wakes at each run time,
# so even a busy machine dispatches within seconds. A job still running at its next run
# time does not make it late (that run is skipped and the next one set).
STUCK_AFTER = timedelta(seconds=60)


def scheduler_alive(scheduler: BackgroundScheduler, now: datetime,
                    stuck_after: timedelta | None = None) -> bool:
    """Running, its thread alive, and no job left waiting far past its run time (by
    more than ``stuck_after``, STUCK_AFTER unless given)."""
    thread = getattr(scheduler, "_thread", None)  # APScheduler 3's dispatching thread
    if not scheduler.running or thread is None or not thread.is_alive():
        return False
    late = stuck_after or STUCK_AFTER
    return all(job.next_run_time is None or now - job.next_run_time <= late
               for job in scheduler.get_jobs())
