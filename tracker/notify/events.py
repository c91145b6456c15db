"""Which notifications a change is worth, decided from what was known before and what is
known now: pure, no I/O.

Per claim, the state (``db.models.NotifyState``) holds its status when last evaluated and
its probability when the last message about it was written. A move is measured from
that probability, so a claim drifting one point a day is reported once it has moved
``move_points`` in all, and never again for each small step. Each event's key names the
state it was detected from (its ``version``), so detecting it twice stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

RESOLVED = frozenset({"right", "wrong", "void"})
PRICED = frozenset({"on_track", "off_track"})  # open, with a probability that can move


@dataclass(frozen=True)
class Rules:
    events: frozenset[str]
    move_points: float
    source_failing_after: int


@dataclass(frozen=True)
class Event:
    kind: str  # resolved | status | move | due | source
    key: str  # the outbox's dedupe key
    prediction_id: str | None = None
    source: str | None = None
    status_before: str | None = None
    status_after: str | None = None
    probability_before: float | None = None
    probability_after: float | None = None
    deadline: date | None = None
    failures: int = 0
    error: str | None = None
    failing_since: datetime | None = None


def baseline(prediction_id: str, status: str, probability: float | None,
             now: datetime) -> dict[str, Any]:
    """The state of a claim notifications have not seen yet: recorded, not announced."""
    return {"prediction_id": prediction_id, "status": status, "probability": probability,
            "due_announced": None, "version": 0, "updated_at": now}


def claim_events(state: dict[str, Any], status: str, probability: float | None,
                 rules: Rules, now: datetime) -> tuple[list[Event], dict[str, Any]]:
    """The events of a claim newly evaluated as ``status`` and ``probability``, and its
    new state (the same dict when nothing changed)."""
    pid, version = state["prediction_id"], state["version"]
    before_status, before_p = state["status"], state["probability"]
    new = dict(state)
    events: list[Event] = []
    if status != before_status:
        new["status"] = status
        kind = "resolved" if status in RESOLVED and before_status not in RESOLVED else "status"
        if kind in rules.events:
            events.append(Event(kind, f"{kind}:{pid}:{version}", pid,
                                status_before=before_status, status_after=status,
                                probability_before=before_p, probability_after=probability))
            new["probability"] = probability
    elif _moved(before_p, probability, rules.move_points) and status in PRICED \
            and "move" in rules.events:
        events.append(Event("move", f"move:{pid}:{version}", pid, status_before=before_status,
                            status_after=status, probability_before=before_p,
                            probability_after=probability))
        new["probability"] = probability
    if new["probability"] is None and probability is not None:
        new["probability"] = probability  # the first probability: the baseline for moves
    return events, _bumped(state, new, now)


def _moved(before: float | None, after: float | None, points: float) -> bool:
    if before is None or after is None:
        return False
    # Rounded: 0.5 - 0.4 is 0.0999..., which must count as the 10 points it is.
    return round(abs(after - before) * 100, 6) >= points


def due_event(state: dict[str, Any], deadline: date, status: str, rules: Rules,
              now: datetime) -> tuple[list[Event], dict[str, Any]]:
    """"Ready to resolve?" once for a manual claim still open after its deadline."""
    if ("due" not in rules.events or status != "open" or deadline >= now.date()
            or state.get("due_announced") == deadline.isoformat()):
        return [], state
    pid = state["prediction_id"]
    new = {**state, "due_announced": deadline.isoformat()}
    event = Event("due", f"due:{pid}:{deadline.isoformat()}", pid, status_before=status,
                  status_after=status, deadline=deadline)
    return [event], _bumped(state, new, now)


def _bumped(state: dict[str, Any], new: dict[str, Any], now: datetime) -> dict[str, Any]:
    if new == state:
        return state
    return {**new, "version": state["version"] + 1, "updated_at": now}


def source_events(source: str, failures_before: int, failing_since: datetime | None,
                  error: str | None, now: datetime, rules: Rules) -> list[Event]:
    """A source failing for the ``source_failing_after``-th poll in a row, or working
    again after that: keyed by when its run of failures began."""
    if "source" not in rules.events:
        return []
    threshold = rules.source_failing_after
    if error is not None:
        since = failing_since or now
        if failures_before + 1 != threshold:
            return []
        return [Event("source", f"source:{source}:failing:{since.isoformat()}", source=source,
                      status_before="ok", status_after="failing", failures=threshold,
                      error=error, failing_since=since)]
    if failures_before < threshold:
        return []
    since_text = failing_since.isoformat() if failing_since else "unknown"
    return [Event("source", f"source:{source}:recovered:{since_text}", source=source,
                  status_before="failing", status_after="ok", failures=failures_before,
                  failing_since=failing_since)]
