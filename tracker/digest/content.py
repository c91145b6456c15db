"""What a digest says, gathered from the database: a plain data structure the templates
and charts read. Movement is measured against the values the previous digest sent
showed (stored in the digest log), so "moved" means "moved since you last read it"; the
digest says which date that was. A move is listed only past MOVE_THRESHOLD."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from db import reads
from tracker.chart import column_ends
from tracker.errorgroups import group_errors
from tracker.freshness import RECENT, stale_series
from tracker.registry.labels import label
from tracker.scoreboard import PersonScore, score
from tracker.service.hits import expected_hits
from tracker.verdicts import SETTLED

if TYPE_CHECKING:
    from db.reads import Run
    from tracker.hits import HitsChart

MOVE_THRESHOLD = 0.05  # 5 points of probability
CHART_DAYS = 30
# The charts a digest draws at most: the biggest changes; the rest are listed without one.
# A chart is an attachment of the email, and a day when every market moves is no reason
# for a message of many megabytes.
MAX_CHARTS = 20
CHART_SLICES = 150  # a chart is read thinned to four points a slice: one a pixel (charts.py)
# The key of the expected-hits chart among the charts (the others are keyed by prediction
# id, which never starts with "_").
HITS_CHART = "_expected-hits"


class Listed(NamedTuple):
    """What the digest reads of a prediction (a registry entry has these too)."""

    id: str
    who: str
    claim: str
    scored: bool


@dataclass
class Line:
    """One prediction as the digest shows it."""

    id: str
    who: str
    claim: str
    status: str
    probability: float | None
    explanation: str
    previous_status: str | None = None  # in the last digest sent
    change_since_last: float | None = None  # probability now minus in the last digest
    change_day: float | None = None  # probability now minus 24 hours ago
    change_since_made: float | None = None  # probability now minus the price on made_on
    # For its chart, thinned to what it draws: read for the lines the digest charts.
    history: list[tuple[datetime, float]] = field(default_factory=list)


@dataclass
class SourceProblem:
    source: str
    failing_since: datetime | None
    consecutive_failures: int
    last_error: str | None
    errors: dict[str, str] = field(default_factory=dict)  # failing symbol -> its message

    @property
    def causes(self) -> list[str]:
        """Why it fails, a phrase per cause: 'cannot resolve HOST (17 series)'."""
        return [cause.phrase() for cause in group_errors(self.errors, self.last_error)]


@dataclass
class Digest:
    day: date  # the local date it is for
    timezone: str
    generated_at: datetime
    previous_day: date | None  # the digest movement is measured against
    scoreboard: list[PersonScore]
    resolved: list[Line]  # newly right, wrong or void since the last digest
    flips: list[Line]  # other status changes (on track <-> off track, to or from no data)
    movers: list[Line]  # open, moved at least MOVE_THRESHOLD since the last digest
    open: list[Line]  # every open prediction
    failing: list[SourceProblem]
    stale_series: list[str]
    series_names: dict[str, str] = field(default_factory=dict)  # id -> label, quoted question
    hits: HitsChart | None = None  # everyone's expected hits over the year; None: no snapshot yet

    @property
    def charted(self) -> list[Line]:
        """The predictions that moved, each drawn once (resolved first, then flips, then
        movers, the biggest moves first), at most MAX_CHARTS."""
        seen, out = set(), []
        for line in self.resolved + self.flips + self.movers:
            if line.id not in seen and len(line.history) >= 2:
                seen.add(line.id)
                out.append(line)
        return out[:MAX_CHARTS]

    def as_dict(self) -> dict:
        """Everything the digest says, as plain data (``tracker digest --json``)."""
        def lines(group: list[Line]) -> list[dict]:
            return [asdict(line) for line in group]

        return {
            "day": self.day, "timezone": self.timezone, "generated_at": self.generated_at,
            "previous_day": self.previous_day,
            "scoreboard": [person.as_dict() for person in self.scoreboard],
            "resolved": lines(self.resolved), "flips": lines(self.flips),
            "movers": lines(self.movers), "open": lines(self.open),
            "failing": [asdict(problem) | {"causes": problem.causes} for problem in self.failing],
            "stale_series": self.stale_series, "series_names": self.series_names,
        }

    def values(self) -> dict[str, dict]:
        """What this digest showed, stored so tomorrow's can say what moved."""
        every = {line.id: line for line in self.open + self.resolved + self.flips}
        return {pid: {"status": line.status, "probability": line.probability}
                for pid, line in every.items()}


def local_day(now: datetime, timezone: str) -> date:
    """The date at ``now`` in ``timezone``: the day a digest is for."""
    return now.astimezone(ZoneInfo(timezone)).date()


def _chart_histories(run: Run, prediction_ids: list[str], latest: dict,
                     now: datetime) -> dict[str, list[tuple[datetime, float]]]:
    """Each prediction's probability over the last CHART_DAYS (to its newest snapshot,
    should that be later than ``now``), thinned to CHART_SLICES slices of time."""
    chart_from = now - timedelta(days=CHART_DAYS)
    end = max([now, *(latest[pid].at for pid in prediction_ids)])
    edges = [chart_from, *column_ends(chart_from, end, CHART_SLICES)]
    thinned = reads.thinned_snapshots(run, prediction_ids, "probability", edges)
    return {pid: [(row.at, row.probability) for row in rows] for pid, rows in thinned.items()}


def build_digest(run: Run, predictions: Iterable[Listed], priced: Mapping[str, float], *,
                 series_ids: Iterable[str], interval_of: Callable[[str], timedelta],
                 timezone: str, day: date, now: datetime | None = None,
                 per_statement: int = reads.NEWEST_CHUNK) -> Digest:
    """The digest for the local ``day``, read through ``run`` (db/reads.py). ``priced``:
    each scored prediction's price on the day it was made (tracker/service/made_on.py);
    ``series_ids``: the registry's series, judged for staleness with ``interval_of`` (a
    source's poll interval); ``per_statement``: see ``reads.newest_points``."""
    now = now or datetime.now(UTC)
    predictions = list(predictions)
    latest = reads.latest_snapshots(run)
    previous = reads.last_digest_before(run, day.isoformat())
    shown_before = json.loads(previous.values_json) if previous and previous.values_json else {}
    day_ago = reads.values_at(run, [p.id for p in predictions if p.id in latest], "probability",
                              now - timedelta(days=1))
    lines = []
    for prediction in predictions:
        snap = latest.get(prediction.id)
        if snap is None:
            continue
        before = shown_before.get(prediction.id, {})
        p = snap.probability
        line = Line(
            id=prediction.id, who=prediction.who, claim=prediction.claim, status=snap.status,
            probability=p, explanation=snap.explanation,
            previous_status=before.get("status"),
        )
        if p is not None:
            if before.get("probability") is not None:
                line.change_since_last = p - before["probability"]
            if prediction.id in day_ago:
                line.change_day = p - day_ago[prediction.id]
            if prediction.id in priced:
                line.change_since_made = p - priced[prediction.id]
        lines.append((prediction, line))

    resolved, flips, movers, still_open = [], [], [], []
    for prediction, line in lines:
        if not prediction.scored:
            continue  # parts show through their composite
        changed = line.previous_status is not None and line.previous_status != line.status
        if line.status in SETTLED:
            if changed:
                resolved.append(line)
            continue
        still_open.append(line)
        if changed:
            flips.append(line)
        if line.change_since_last is not None and abs(line.change_since_last) >= MOVE_THRESHOLD:
            movers.append(line)
    movers.sort(key=lambda line: -abs(line.change_since_last))
    drawn = {line.id: line for line in resolved + flips + movers}
    drawn = dict(list(drawn.items())[:MAX_CHARTS])  # the only ones charted
    for pid, history in _chart_histories(run, list(drawn), latest, now).items():
        drawn[pid].history = history

    scores = score(predictions, {pid: (s.status, s.probability, s.model)
                                 for pid, s in latest.items()}, priced)
    health = reads.source_health(run)
    failing = [SourceProblem(name, h.failing_since, h.consecutive_failures, h.last_error,
                             reads.symbol_errors(h))
               for name, h in sorted(health.items()) if h.consecutive_failures]
    # Read once: staleness judges by these points, and a series without any is not listed.
    newest = reads.newest_points(run, series_ids, RECENT, per_statement)
    judged = stale_series(newest, now, health, interval_of, reads.confirmations(run))
    stale = sorted(sid for sid, is_old in judged.items() if is_old and newest[sid])
    names = {sid: label(sid, row.name) for sid, row in reads.series_by_id(run, stale).items()}
    hits = expected_hits(run, predictions)
    return Digest(
        day=day, timezone=timezone, generated_at=now,
        previous_day=date.fromisoformat(previous.digest_date) if previous else None,
        scoreboard=scores, resolved=resolved, flips=flips, movers=movers, open=still_open,
        failing=failing, stale_series=stale, series_names=names, hits=hits,
    )
