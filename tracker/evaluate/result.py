"""What an evaluation produces, and what it reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tracker import units
from tracker.freshness import last_seen
from tracker.points import Point

if TYPE_CHECKING:
    from tracker.freshness import Confirmed


class Status(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    ON_TRACK = "on_track"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    OPEN = "open"
    VOID = "void"


@dataclass(frozen=True)
class SeriesInput:
    """One series as an evaluator sees it: points in time order, and freshness."""

    series_id: str
    points: list[Point]
    stale: bool = False
    label: str | None = None  # a name for people ("WTI crude"); the id otherwise
    unit: str | None = None  # tracker.units: how its values print (None: from its id)
    state: str | None = None  # markets: open, proposed, disputed, closed, resolved, void
    resolved_value: float | None = None  # markets: 1.0 yes won, 0.0 no won, else scalar
    # Markets a poll has read: when it last confirmed the odds, which are stored only when
    # they change (``db.reads.Confirmation``); None for other series.
    confirmation: Confirmed | None = None

    @property
    def name(self) -> str:
        return self.label or self.series_id

    @property
    def last_seen(self) -> datetime | None:
        """When the newest value was last seen: a market's last confirmation of it, else
        the newest point's time."""
        confirmed = self.confirmation.confirmed_at if self.confirmation else None
        return last_seen(self.points[-1].ts if self.points else None, confirmed)

    def show(self, value: float) -> str:
        """A value of this series in its unit: $58.10, 3.75%, 6,845.5."""
        return units.show(value, self.unit or units.unit_of(self.series_id))

    @cached_property
    def daily_closes(self) -> dict[date, float]:
        """Each date's positive close, the last positive point of the date: worked out
        once per evaluation, however many relative claims line this series up."""
        return {p.ts.date(): p.value for p in self.points if p.value > 0}

    def between(self, first: date, last: date) -> list[Point]:
        return [p for p in self.points if first <= p.ts.date() <= last]


@dataclass(frozen=True)
class Evaluation:
    status: Status
    explanation: str
    probability: float | None = None
    value: float | None = None
    value_at: datetime | None = None
    model: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


def years_until_end_of(day: date, now: datetime) -> float:
    """Calendar years from ``now`` to the end of ``day`` (UTC), never negative."""
    end = datetime.combine(day + timedelta(days=1), time(), UTC)
    return max(0.0, (end - now).total_seconds() / (365.25 * 86400))


def pct(p: float) -> str:
    return f"{100 * p:.0f}%"
