"""Each person's expected hits over time: at each moment, the calls resolved right by
then plus the chances of those still open then, by the scoreboard's rules
(tracker/scoreboard.py): only scored predictions count, a void or wrong call adds
nothing, and a call without a chance is not an expected miss: it adds nothing either.

A claim's state at a moment is its newest snapshot at or before it (snapshots are stored
when something changes, so a state holds until the next), except that a verdict given
by hand counts from the moment it was given. Pure: states in, lines out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, Protocol

from tracker.verdicts import HIT_OR_MISS, SETTLED

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

# The longest step that fits: a span sampled in fewer than MIN_STEPS steps takes the next
# shorter one, so a line has from 8 to about 56 moments whatever its span.
STEPS = (timedelta(weeks=1), timedelta(days=1), timedelta(hours=6), timedelta(hours=1))
MIN_STEPS = 8


class Call(Protocol):
    """What is read of a prediction (a registry entry, or the digest's ``Listed``)."""

    id: str
    who: str
    scored: bool


class State(NamedTuple):
    """What a claim stood at from ``at`` on (a snapshot, or a verdict given by hand)."""

    at: datetime
    status: str
    probability: float | None


@dataclass
class HitsLine:
    """One person's expected hits at each of the sample moments, and what they rest on
    at the last: their scored claims, and how many of those are resolved right or wrong."""

    who: str
    claims: int = 0
    resolved: int = 0
    values: list[float] = field(default_factory=list)

    @property
    def now(self) -> float:
        return self.values[-1] if self.values else 0.0


def round_step(values: Iterable[float]) -> float:
    """A chart's tick step for these counts: the first round number (0.25, 0.5, 1, 2,
    2.5, 5, 10, ...) four of which reach the highest (at least 1)."""
    top = max([1.0, *values])
    return next(step for step in ROUND_STEPS if 4 * step >= top)


ROUND_STEPS = (0.25, 0.5, *(m * 10 ** e for e in range(7) for m in (1, 2, 2.5, 5)))


def worth(status: str, probability: float | None) -> float:
    """A call's share of its person's expected hits: 1 right, 0 wrong or void, its
    chance while open, and nothing when it has none."""
    if status in SETTLED:
        return 1.0 if status == "right" else 0.0
    return probability or 0.0


def sample_times(first: datetime, end: datetime) -> list[datetime]:
    """The moments a line is drawn through: ``first`` (no earlier than 1 January of
    ``end``'s year: the chart is of the year), then each week from 1 January (each day,
    six hours or hour while the span is too short for weeks to show its shape), then
    ``end``. Fixed steps from a fixed start, so a moment sampled once is sampled again."""
    year_start = datetime(end.year, 1, 1, tzinfo=end.tzinfo or UTC)
    first = max(first, year_start)
    if first >= end:
        return [end]
    span = end - first
    step = next(step for step in STEPS if span >= step * MIN_STEPS or step == STEPS[-1])
    k = (first - year_start) // step + 1
    between = []
    while year_start + step * k < end:
        between.append(year_start + step * k)
        k += 1
    return [first, *between, end]


def expected_hits_over_time(predictions: Iterable[Call],
                            states: Mapping[str, Sequence[State]],
                            verdicts: Mapping[str, State],
                            times: Sequence[datetime]) -> dict[str, HitsLine]:
    """Each person's line through ``times`` (oldest first). ``states``: each claim's
    states, oldest first, including at least the one in force at each of ``times`` (the
    others change nothing); ``verdicts``: a claim's verdict given by hand, in force from
    its ``at`` on. People by name."""
    lines: dict[str, HitsLine] = {}
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(times))
    for prediction in predictions:
        if not prediction.scored:
            continue
        line = lines.setdefault(prediction.who, HitsLine(prediction.who))
        line.claims += 1
        totals = sums[prediction.who]
        history, verdict = states.get(prediction.id, ()), verdicts.get(prediction.id)
        newest, i = None, 0
        for at, moment in enumerate(times):
            if verdict is not None and moment >= verdict.at:
                newest = verdict
            else:
                while i < len(history) and history[i].at <= moment:
                    newest, i = history[i], i + 1
            if newest is not None:
                totals[at] += worth(newest.status, newest.probability)
        line.resolved += newest is not None and newest.status in HIT_OR_MISS
    for who, line in lines.items():
        line.values = sums[who]
    return dict(sorted(lines.items()))


@dataclass
class HitsChart:
    """Everyone's expected hits through the same ``times`` (oldest first), people by name."""

    times: list[datetime]
    lines: list[HitsLine]
