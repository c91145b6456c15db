"""Push notifications, exactly once: detect events where their causes are stored, and
drain the outbox to each target.

Detecting: ``evaluation_write`` (for the snapshots an evaluation stores) and
``source_write`` (for a poll's source health) return the outbox rows and notify_state
rows that db/queries.py writes in the same transaction as their cause. The first time,
with no notify_state at all, every claim's state is recorded as a baseline and nothing is
sent; a claim new to the registry gets its baseline the same way.

Sending: ``drain`` claims each due delivery (a conditional UPDATE, committed), sends it,
and marks it sent as soon as the target accepted it. A failed try waits longer each time
(``backoff``); a delivery is given up after ``[notify] max_attempts`` tries or
``give_up_after``. A target that fails is not tried again in the same drain, so one dead
target costs one timeout a drain, and the other targets are served. A target taken out of
``[notify] urls`` is forgotten, with what waited for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from db import outbox
from db.outbox import NotifyWrite
from tracker.config import parse_duration
from tracker.notify import problems, targets
from tracker.notify.events import Rules, baseline, claim_events, due_event, source_events
from tracker.notify.messages import render

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tracker.config import Settings
    from tracker.evaluate import Evaluation
    from tracker.notify.events import Event
    from tracker.registry import Registry

log = logging.getLogger("tracker.notify")

LEASE = timedelta(minutes=2)  # longer than any one send (targets.TIMEOUT_SECONDS, twice)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)

Send = Callable[[str, str, str], "str | None"]  # (url, title, body) -> error or None


def rules_of(settings: Settings | None) -> Rules | None:
    """The event rules, or None when no target is configured (nothing is detected)."""
    if settings is None or not settings.notify.urls:
        return None
    n = settings.notify
    return Rules(frozenset(n.events), n.move_points, n.source_failing_after)


# --- detecting -------------------------------------------------------------------------------


def evaluation_write(engine: Engine, registry: Registry, results: dict[str, Evaluation],
                     new_rows: list[dict[str, Any]], now: datetime,
                     settings: Settings | None) -> NotifyWrite | None:
    """The notifications (and state) for an evaluation that stores ``new_rows``: reads the
    state of the changed claims (and of manual claims past their deadline) only."""
    rules = rules_of(settings)
    if rules is None:
        return None
    today = now.date()
    due = {p.id for p in registry
           if p.kind == "manual" and p.deadline < today and results[p.id].status.value == "open"
           } if "due" in rules.events else set()
    if not outbox.has_states(engine):
        states = [_baseline(p.id, results[p.id], p, now) for p in registry]
        log.info("notifications: recorded the state of %d claims; messages start with the "
                 "next change", len(states))
        return NotifyWrite(states=states)
    changed = {row["prediction_id"] for row in new_rows}
    if not changed | due:
        return None
    predictions = {p.id: p for p in registry}
    known = outbox.states(engine, changed | due)
    events: list[Event] = []
    new_states = []
    for pid in sorted(changed | due):
        result, prediction = results[pid], predictions[pid]
        state = known.get(pid)
        if state is None:  # new to the registry: its first snapshot is no change
            new_states.append(_baseline(pid, result, prediction, now))
            continue
        found, new = claim_events(state, result.status.value, result.probability, rules, now)
        if prediction.kind == "manual":
            more, new = due_event(new, prediction.deadline, result.status.value, rules, now)
            found += more
        events += found
        if new is not state:
            new_states.append(new)
    return NotifyWrite(_outbox_rows(events, predictions, settings, now), new_states,
                       targets.targets_of(settings.notify.urls))


def _baseline(pid: str, result: Evaluation, prediction, now: datetime) -> dict[str, Any]:
    state = baseline(pid, result.status.value, result.probability, now)
    if prediction.kind == "manual" and prediction.deadline < now.date():
        state["due_announced"] = prediction.deadline.isoformat()  # already due: no flood
    return state


def source_write(settings: Settings | None, source: str, before, error: str | None,
                 now: datetime) -> NotifyWrite | None:
    """The notifications of one source's poll result; ``before``: its health row as it
    was (None for its first poll)."""
    rules = rules_of(settings)
    if rules is None:
        return None
    failures = before.consecutive_failures if before is not None else 0
    since = before.failing_since if before is not None else None
    events = source_events(source, failures, since, error, now, rules)
    if not events:
        return None
    return NotifyWrite(_outbox_rows(events, {}, settings, now), (),
                       targets.targets_of(settings.notify.urls))


def _outbox_rows(events: list[Event], predictions: dict, settings: Settings,
                 now: datetime) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        title, body = render(event, predictions.get(event.prediction_id), settings.web.public_url)
        rows.append({"created_at": now, "kind": event.kind, "prediction_id": event.prediction_id,
                     "source": event.source, "title": title, "body": body,
                     "dedupe_key": event.key})
    return rows


# --- sending ---------------------------------------------------------------------------------


@dataclass
class Drained:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0


def backoff(attempts: int, first: timedelta = BACKOFF_FIRST) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling, at most BACKOFF_MAX."""
    return min(first * 2 ** min(attempts - 1, 20), BACKOFF_MAX)


def drain(engine: Engine, settings: Settings, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
          send: Send = targets.send, backoff_first: timedelta = BACKOFF_FIRST) -> Drained:
    """Send every due delivery to the configured targets, each once."""
    urls = {targets.target_of(url).key: url for url in settings.notify.urls}
    done = Drained()
    if not urls:
        return done
    if forgotten := outbox.forget_other_targets(engine, list(urls)):
        log.info("dropped %d notification deliveries to targets no longer in [notify] urls",
                 forgotten)
    give_up_after = parse_duration(settings.notify.give_up_after)
    failing: set[str] = set()
    for delivery in outbox.due(engine, list(urls), clock()):
        if delivery.target_key in failing or not outbox.claim(engine, delivery, clock(), LEASE):
            continue
        error = send(urls[delivery.target_key], delivery.title, delivery.body)
        at = clock()
        if error is None:
            outbox.mark_sent(engine, delivery, at)
            done.sent += 1
            continue
        failing.add(delivery.target_key)
        attempts = delivery.attempts + 1
        label = targets.target_of(urls[delivery.target_key]).label
        if attempts >= settings.notify.max_attempts or at - delivery.created_at >= give_up_after:
            outbox.mark_failed(engine, delivery, error, None, at)
            done.given_up += 1
            log.error("notification %d to %s given up after %d tries: %s",
                      delivery.outbox_id, label, attempts, error)
        else:
            wait = backoff(attempts, backoff_first)
            outbox.mark_failed(engine, delivery, error, at + wait, at)
            done.retrying += 1
            log.warning("notification %d to %s failed (try %d), trying again in %s: %s",
                        delivery.outbox_id, label, attempts, wait, error)
    return done


def send_test(settings: Settings, send: Send = targets.send) -> list[tuple[str, str | None]]:
    """One message to every target: (its scheme and host, None or the error)."""
    title = "tracker: test message"
    body = "This target receives tracker's notifications."
    return [(targets.target_of(url).label, send(url, title, body)) for url in settings.notify.urls]


# --- health ----------------------------------------------------------------------------------


def outbox_problems(engine: Engine, now: datetime) -> list[str]:
    """What is wrong with notifications, a line each: a target that gave up messages since
    it last accepted one, messages waiting longer than an hour."""
    from db import queries, reads

    with queries.reading(engine) as run:
        summary = reads.outbox_summary(run)
    return problems.outbox_problems(summary, now)


def outbox_pending(engine: Engine) -> int:
    """Messages waiting for a target: one per message and target not yet sent or given up."""
    from db import queries, reads

    with queries.reading(engine) as run:
        return reads.outbox_summary(run).pending
