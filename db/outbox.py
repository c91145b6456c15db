"""The notification outbox: events written with what caused them, and their deliveries
claimed, marked sent or given up.

Writing: ``write_events`` runs on the connection of the caller's transaction (the one
storing snapshots, or a source's health), so an event exists exactly when its cause was
stored. An event whose ``dedupe_key`` is already stored is skipped, deliveries and all.

Sending: a sender ``claim``s one delivery with a conditional UPDATE (only one sender's
UPDATE matches), commits, sends, then ``mark_sent`` or ``mark_failed``. A claim holds for
``lease``: a sender that dies mid-send leaves it to be retried once the lease has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, and_, or_, select, update

from db.models import NotifyState, Outbox, OutboxDelivery

_OUTBOX = Outbox.__table__
_DELIVERY = OutboxDelivery.__table__
_STATE = NotifyState.__table__


class Target(NamedTuple):
    """A notification target as stored: a hash of its URL, and its scheme and host."""

    key: str
    label: str


class NotifyWrite(NamedTuple):
    """What an evaluation or a poll writes for notifications, with its own rows."""

    events: Sequence[dict[str, Any]] = ()  # outbox rows, without id
    states: Sequence[dict[str, Any]] = ()  # notify_state rows, whole
    targets: Sequence[Target] = ()


def _insert(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def write(conn, notify: NotifyWrite | None) -> int:
    """Store the states and the events with a delivery per target, on ``conn`` (the
    caller's transaction). Returns how many events were new."""
    if notify is None:
        return 0
    if notify.states:
        stmt = _insert(conn, _STATE)
        columns = [c.name for c in _STATE.c if c.name != "prediction_id"]
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["prediction_id"], set_={c: stmt.excluded[c] for c in columns}),
            list(notify.states))
    new = 0
    for event in notify.events:
        stmt = _insert(conn, _OUTBOX).values(event).on_conflict_do_nothing(
            index_elements=["dedupe_key"]).returning(_OUTBOX.c.id)
        outbox_id = conn.execute(stmt).scalar()
        if outbox_id is None:
            continue  # detected before: stored once
        new += 1
        if notify.targets:
            conn.execute(_DELIVERY.insert(), [
                {"outbox_id": outbox_id, "target_key": t.key, "target_label": t.label,
                 "attempts": 0} for t in notify.targets])
    return new


def states(engine: Engine, prediction_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The notify_state rows of these predictions, by id."""
    ids = list(prediction_ids)
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            rows = conn.execute(select(_STATE).where(
                _STATE.c.prediction_id.in_(ids[start:start + 500]))).mappings()
            found |= {row["prediction_id"]: dict(row) for row in rows}
    return found


def has_states(engine: Engine) -> bool:
    """Whether notifications have a baseline yet (False on their first run)."""
    with engine.connect() as conn:
        return conn.execute(select(_STATE.c.prediction_id).limit(1)).first() is not None


# --- sending ---------------------------------------------------------------------------------


class Delivery(NamedTuple):
    outbox_id: int
    target_key: str
    attempts: int  # before this one
    created_at: datetime
    title: str
    body: str


def due(engine: Engine, target_keys: Sequence[str], now: datetime, limit: int = 100) -> list[Delivery]:
    """Deliveries to these targets that are neither sent nor given up, whose next try is
    due and that no sender holds, oldest first."""
    if not target_keys:
        return []
    query = (
        select(_DELIVERY.c.outbox_id, _DELIVERY.c.target_key, _DELIVERY.c.attempts,
               _OUTBOX.c.created_at, _OUTBOX.c.title, _OUTBOX.c.body)
        .join(_OUTBOX, _OUTBOX.c.id == _DELIVERY.c.outbox_id)
        .where(_DELIVERY.c.sent_at.is_(None), _DELIVERY.c.failed_at.is_(None),
               _DELIVERY.c.target_key.in_(list(target_keys)),
               or_(_DELIVERY.c.next_try_at.is_(None), _DELIVERY.c.next_try_at <= now),
               or_(_DELIVERY.c.claimed_until.is_(None), _DELIVERY.c.claimed_until <= now))
        .order_by(_DELIVERY.c.outbox_id).limit(limit)
    )
    with engine.connect() as conn:
        return [Delivery._make(row) for row in conn.execute(query)]


def forget_other_targets(engine: Engine, target_keys: Sequence[str]) -> int:
    """Delete the deliveries of targets no longer configured: what waited for them will
    not be sent, and `tracker health` no longer reports them."""
    with engine.begin() as conn:
        return conn.execute(_DELIVERY.delete().where(
            _DELIVERY.c.target_key.not_in(list(target_keys)))).rowcount


def _this(delivery: Delivery):
    return and_(_DELIVERY.c.outbox_id == delivery.outbox_id,
                _DELIVERY.c.target_key == delivery.target_key)


def claim(engine: Engine, delivery: Delivery, now: datetime, lease: timedelta) -> bool:
    """Take this delivery for one try, counted now; False when another sender has it, or
    it was sent or given up meanwhile. Committed before the caller sends."""
    stmt = (update(_DELIVERY)
            .where(_this(delivery), _DELIVERY.c.sent_at.is_(None), _DELIVERY.c.failed_at.is_(None),
                   or_(_DELIVERY.c.claimed_until.is_(None), _DELIVERY.c.claimed_until <= now))
            .values(claimed_until=now + lease, attempts=_DELIVERY.c.attempts + 1))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def mark_sent(engine: Engine, delivery: Delivery, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(_DELIVERY).where(_this(delivery))
                     .values(sent_at=at, claimed_until=None, last_error=None))


def mark_failed(engine: Engine, delivery: Delivery, error: str, next_try_at: datetime | None,
                at: datetime) -> None:
    """A try failed: try again at ``next_try_at``, or (None) give up now."""
    values: dict[str, Any] = {"claimed_until": None, "last_error": error[:2000],
                              "next_try_at": next_try_at}
    if next_try_at is None:
        values["failed_at"] = at
    with engine.begin() as conn:
        conn.execute(update(_DELIVERY).where(_this(delivery)).values(values))
