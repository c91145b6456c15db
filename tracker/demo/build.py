"""Build the demo database: the bundled registry's series over a sample year, stored and
evaluated week by week as the daemon would have done, so that every command has
statuses, odds with a history, a scoreboard and charts to show.

The database is built beside its final name and moved into place when complete: a
failed or interrupted build leaves the previous demo (or none), never half of one. It
never touches the user's own database.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from db.engine import WRITE, open_database
from tracker.demo.histories import SEED, DemoSeries, histories
from tracker.service.evaluation import evaluate_all
from tracker.service.poll import store
from tracker.sources.base import SeriesData, SourceReport

if TYPE_CHECKING:
    from collections.abc import Callable

    from tracker.config import Settings
    from tracker.registry import Registry

HISTORY_FROM = date(2025, 7, 1)  # generated paths start here: room for returns before 2026
YEAR_FROM = date(2026, 1, 1)  # the weekly polls and evaluations start here
STEP = timedelta(days=7)


@dataclass(frozen=True)
class DemoInfo:
    """What the demo says about itself (kept beside the database as JSON)."""

    built_at: datetime
    through: date
    seed: int
    origins: dict[str, str]  # series id -> where its points came from

    @property
    def recorded(self) -> list[str]:
        return sorted(sid for sid, origin in self.origins.items() if origin.startswith("recorded"))

    @property
    def generated(self) -> list[str]:
        return sorted(sid for sid, origin in self.origins.items() if not origin.startswith("recorded"))

    def as_dict(self) -> dict:
        return {"built_at": self.built_at.isoformat(), "through": self.through.isoformat(),
                "seed": self.seed, "origins": self.origins}

    @classmethod
    def from_dict(cls, data: dict) -> DemoInfo:
        return cls(datetime.fromisoformat(data["built_at"]), date.fromisoformat(data["through"]),
                   int(data["seed"]), {str(k): str(v) for k, v in data["origins"].items()})


def info_path(database: Path) -> Path:
    return database.with_suffix(".json")


def build_demo(database: Path, registry: Registry, settings: Settings, now: datetime,
               progress: Callable[[str], None] = lambda _line: None) -> DemoInfo:
    """Build the demo at ``database`` (replacing an earlier demo there) up to ``now``."""
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(f".{database.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    found = histories(registry.series_ids(), HISTORY_FROM, now.date(), SEED, _closes(registry))
    progress(f"{len(found)} series: {sum(s.recorded for s in found)} recorded, "
             f"{sum(not s.recorded for s in found)} generated")
    engine = open_database(f"sqlite:///{partial}", WRITE)
    try:
        stored_to: datetime | None = None
        for moment in _poll_times(now):
            for report in _reports(found, stored_to, moment):
                store(engine, report, moment)
            evaluate_all(engine, registry, moment, settings)
            stored_to = moment
        progress(f"stored and evaluated weekly from {YEAR_FROM} to {now:%Y-%m-%d}")
    except BaseException:
        engine.dispose()
        partial.unlink(missing_ok=True)
        raise
    engine.dispose()
    info = DemoInfo(now, now.date(), SEED, {s.series_id: s.origin for s in found})
    info_path(database).write_text(json.dumps(info.as_dict(), indent=1, sort_keys=True))
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(partial, database)
    return info


def read_info(database: Path) -> DemoInfo | None:
    """The demo's description, or None when there is no demo (or it cannot be read)."""
    try:
        return DemoInfo.from_dict(json.loads(info_path(database).read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _closes(registry: Registry) -> dict[str, date]:
    """Each market series' last deadline among the claims that read it."""
    closes: dict[str, date] = {}
    for prediction in registry:
        deadline = getattr(prediction, "deadline", None)
        for series_id in prediction.series_ids():
            if deadline and series_id.startswith(("polymarket:", "kalshi:")):
                closes[series_id] = max(deadline, closes.get(series_id, deadline))
    return closes


def _poll_times(now: datetime) -> list[datetime]:
    """A poll at noon UTC each week of the year so far, and one now."""
    moment = datetime.combine(YEAR_FROM, time(12), UTC)
    times = []
    while moment < now:
        times.append(moment)
        moment += STEP
    return [*times, now]


def _reports(found: list[DemoSeries], after: datetime | None, until: datetime) -> list[SourceReport]:
    """What each source's poll at ``until`` returns: the points since the last poll, and
    the newest one again, as a real source answers every poll (which is how tracker
    knows a monthly series was not forgotten)."""
    by_source: dict[str, list[SeriesData]] = defaultdict(list)
    for series in found:
        source = series.series_id.split(":", 1)[0]
        known = [p for p in series.data.points if p.ts <= until]
        if not known:
            continue  # nothing published yet
        points = [p for p in known if after is None or p.ts > after] or known[-1:]
        data = series.data
        settled = data.state == "resolved" and data.points[-1].ts <= until
        state, value = (data.state, data.resolved_value) if settled else (
            "open" if data.state else None, None)
        by_source[source].append(SeriesData(data.symbol, points, data.name, data.unit,
                                            state, value, data.meta))
    return [SourceReport(source, series) for source, series in sorted(by_source.items())]
