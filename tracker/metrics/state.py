"""The metrics read from the database at each scrape: each source's health, and each
claim's status and probability as `tracker status` shows them."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from db import reads
from db.queries import reading
from tracker.redact import redact
from tracker.verdicts import SETTLED
from tracker.views.status import STATUSES, status_rows, summaries

if TYPE_CHECKING:
    from datetime import datetime

    from prometheus_client import Metric
    from sqlalchemy import Engine

    from db.reads import SnapshotRow, SourceHealthRow
    from tracker.registry import Registry

log = logging.getLogger("tracker.metrics")

DATABASE_UP = "1 when the database could be read for these metrics, else 0."


class StateCollector(Collector):
    """The database's state as metrics, read when they are collected.

    ``registry``: the predictions now (a daemon's changes on reload). ``outbox_pending``:
    how many notifications wait to be sent; without it, no outbox metric. ``strict``: a
    database error is raised (a command fails with it) rather than reported as
    ``tracker_database_up 0`` (a scrape, which should still answer)."""

    def __init__(self, engine: Engine, registry: Callable[[], Registry],
                 outbox_pending: Callable[[], int] | None = None, strict: bool = False):
        self._engine, self._registry = engine, registry
        self._outbox_pending, self._strict = outbox_pending, strict
        self._failing = False  # logged once when reads start failing, once when they recover

    def collect(self) -> Iterator[Metric]:
        try:
            with reading(self._engine) as run:
                health, snapshots = reads.source_health(run), reads.latest_snapshots(run)
            pending = self._outbox_pending() if self._outbox_pending is not None else None
        except SQLAlchemyError as exc:
            if self._strict:
                raise
            if not self._failing:
                log.error("metrics: cannot read the database: %s",
                          redact(str(exc).splitlines()[0]))
                self._failing = True
            yield GaugeMetricFamily("tracker_database_up", DATABASE_UP, value=0)
            return
        if self._failing:
            log.info("metrics: the database can be read again")
            self._failing = False
        yield GaugeMetricFamily("tracker_database_up", DATABASE_UP, value=1)
        yield from source_metrics(health.values())
        yield from claim_metrics(self._registry(), snapshots)
        if pending is not None:
            yield GaugeMetricFamily("tracker_outbox_pending",
                                    "Notifications waiting to be sent.", value=pending)


def source_metrics(health: Iterable[SourceHealthRow]) -> Iterator[Metric]:
    """Each polled source's health, as `tracker health` reads it."""
    last_success = GaugeMetricFamily(
        "tracker_source_last_success_timestamp_seconds",
        "When the source last answered a poll, as a Unix time; 0: never.", labels=["source"])
    failures = GaugeMetricFamily(
        "tracker_source_consecutive_failures",
        "Polls in a row in which every symbol of the source failed; 0 while it works.",
        labels=["source"])
    backoff = GaugeMetricFamily(
        "tracker_source_backoff_until_timestamp_seconds",
        "Until when the source is not asked (backing off after failures, or its server's "
        "Retry-After), as a Unix time; 0: it may be asked at its next poll.",
        labels=["source"])
    for row in sorted(health, key=lambda row: row.source):
        last_success.add_metric([row.source], _unix(row.last_success_at))
        failures.add_metric([row.source], row.consecutive_failures)
        backoff.add_metric([row.source], _unix(row.next_allowed_at))
    yield from (last_success, failures, backoff)


def claim_metrics(registry: Registry, snapshots: dict[str, SnapshotRow]) -> Iterator[Metric]:
    """How many claims have each status, and each open claim's probability: the rows
    `tracker status` lists."""
    rows = status_rows(summaries(registry), snapshots)
    counts = Counter(row["status"] for row in rows)
    claims = GaugeMetricFamily("tracker_claims", "Claims in the registry, by status.",
                               labels=["status"])
    for status in STATUSES:
        claims.add_metric([status], counts[status])
    probability = GaugeMetricFamily(
        "tracker_claim_probability",
        "An open claim's probability of coming true, 0 to 1, from its newest evaluation.",
        labels=["id", "who"])
    for row in rows:
        if row["status"] not in SETTLED and row["probability"] is not None:
            probability.add_metric([row["id"], row["who"]], row["probability"])
    yield from (claims, probability)


def _unix(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0
