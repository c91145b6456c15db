"""What one daemon does, counted as it happens: its polls, the points they stored, and
whether it leads. Lives as long as the daemon: counters start at zero when it starts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from tracker.service.poll import SourceLine

# A quick API answers in a fraction of a second; a slow one, retried, runs into the
# request deadline (a minute by default).
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class DaemonActivity:
    """The daemon's own metrics, in ``registry``. ``sources``: those the registry polls,
    shown at zero from the start, so that a rate over them is defined at once."""

    def __init__(self, registry: CollectorRegistry, sources: Iterable[str] = ()):
        self._duration = Histogram(
            "tracker_poll_duration_seconds",
            "How long polling a source took: its fetch and storing what it returned.",
            ["source"], buckets=DURATION_BUCKETS, registry=registry)
        self._polls = Counter(
            "tracker_polls_total",
            "Polls of a source, by result: ok (it answered; some symbols may have failed) "
            "or failed (every symbol failed). A source backing off is not polled.",
            ["source", "result"], registry=registry)
        self._points = Counter(
            "tracker_points_stored_total",
            "Points written to the database by polls: new ones, and ones fetched again "
            "(their value may have been revised); market odds only when they change.",
            ["source"], registry=registry)
        self._leader = Gauge(
            "tracker_daemon_leader",
            "1 while this daemon leads (it polls), 0 while it stands by.", registry=registry)
        for source in sources:
            self._duration.labels(source)
            self._points.labels(source)
            for result in ("ok", "failed"):
                self._polls.labels(source, result)

    def observe(self, line: SourceLine) -> None:
        """Count one source's poll (the poll cycle's observer)."""
        self._polls.labels(line.source, "failed" if line.failed else "ok").inc()
        self._points.labels(line.source).inc(line.stored)
        if line.seconds is not None:
            self._duration.labels(line.source).observe(line.seconds)

    def leading(self, yes: bool) -> None:
        self._leader.set(1 if yes else 0)
