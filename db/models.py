"""The tables. Timestamps are UTC; daily series are keyed by their trading date at 00:00 UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

# Named constraints, so Alembic's batch mode on SQLite can find and alter them later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class Series(SQLModel, table=True):
    """One stored time series, e.g. ``yahoo:HG=F``."""

    id: str = Field(primary_key=True, max_length=200)
    source: str = Field(max_length=40)
    symbol: str = Field(max_length=160)
    name: str | None = Field(default=None, max_length=300)
    unit: str | None = Field(default=None, max_length=40)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    # For markets: open | proposed | disputed | closed | resolved | void (None: not a market).
    state: str | None = Field(default=None, max_length=20)
    # The settled value of a resolved market: 1.0 yes won, 0.0 no won, else a scalar payout.
    resolved_value: float | None = None
    # Source details needed later (JSON), e.g. a Polymarket market's outcome token ids.
    meta: str | None = None
    # How many observations the series has: kept by db.queries.upsert_observations in the
    # transaction that stores them, so listing series never counts millions of rows.
    point_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Markets only: their odds are stored when they change (db.queries.upsert_observations
    # with changes_only), so the newest point says when the odds last moved, and this says
    # when a fetch last returned them, changed or not. NULL for prices and macro series,
    # whose every bar is stored, and for a market no poll has read yet.
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a second read in a row gave the market's final state (resolved with a value, or
    # void) and the same value: from then on the poll no longer asks for it. NULL while
    # the market is open, and after only one read of its final state.
    resolution_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Observation(SQLModel, table=True):
    """One point of a series. ``high``/``low`` are the bar's range where the source gives it."""

    __table_args__ = {"sqlite_with_rowid": False}

    series_id: str = Field(
        sa_column=Column(String(200), ForeignKey("series.id"), primary_key=True)
    )
    ts: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    value: float
    high: float | None = None
    low: float | None = None
    fetched_at: datetime = Field(sa_type=UTCDateTime)  # the latest fetch that returned it
    # When it was first stored: the arrivals show a series' release cadence. NULL for
    # points stored before migration 0006, read as fetched_at.
    first_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Snapshot(SQLModel, table=True):
    """A prediction's evaluated state at one time; stored when something changed."""

    __table_args__ = (
        Index("ix_snapshot_prediction_at", "prediction_id", "at"),
        # The newest snapshot of a prediction is its highest id: one probe of this index.
        Index("ix_snapshot_prediction_id", "prediction_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prediction_id: str = Field(max_length=120)
    at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=20)
    probability: float | None = None
    value: float | None = None
    value_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    explanation: str = ""
    model: str | None = Field(default=None, max_length=60)
    inputs: str | None = None  # JSON: what the model used, so models can be scored later


class SourceHealth(SQLModel, table=True):
    """How each source's last polls went; the CLI reads it from another process."""

    __tablename__ = "source_health"

    source: str = Field(primary_key=True, max_length=40)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # this run's first failure
    last_error: str | None = None
    failing_symbols: str | None = None  # JSON list
    next_allowed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Resolution(SQLModel, table=True):
    """A manual verdict; it overrides the automatic status."""

    prediction_id: str = Field(primary_key=True, max_length=120)
    outcome: str = Field(max_length=10)  # right | wrong | void
    note: str = ""
    resolved_at: datetime = Field(sa_type=UTCDateTime)


class DigestLog(SQLModel, table=True):
    """One row per local date whose digest the SMTP server accepted."""

    __tablename__ = "digest_log"

    digest_date: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD, local date
    sent_at: datetime = Field(sa_type=UTCDateTime)
    message_id: str | None = Field(default=None, max_length=300)
    values_json: str | None = None  # the values the email showed, for the next day's moves


class BackfillProgress(SQLModel, table=True):
    """How far `tracker backfill` got for a series, so an interrupted run resumes there.

    ``since`` is the start the run was asked for; ``done_until`` the end of the last
    window stored. A later run asking for the same or a later start skips what is done.
    """

    __tablename__ = "backfill_progress"

    series_id: str = Field(primary_key=True, max_length=200)
    since: datetime = Field(sa_type=UTCDateTime)
    done_until: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class MadeOnPrice(SQLModel, table=True):
    """The price a prediction had at the end of its made_on day, kept once the day is
    past (tracker/service/made_on.py): found once, read back by one indexed lookup.

    ``definition`` keys it to the registry entry it was evaluated for: an edited entry
    has another key, and is evaluated again. A row without a price says there was none
    then; ``evidence`` holds how many points each series it reads had in its window when
    that was found, so the evaluation is tried again once they change (a backfill)."""

    __tablename__ = "made_on_price"

    prediction_id: str = Field(primary_key=True, max_length=120)
    definition: str = Field(max_length=64)  # sha256, hex
    price: float | None = None
    evidence: str | None = None  # JSON: series id -> points in its window
    checked_at: datetime = Field(sa_type=UTCDateTime)


class Outbox(SQLModel, table=True):
    """One notification, written in the transaction that stored what caused it (a
    snapshot, a source's health), its text rendered then. ``dedupe_key`` names the event,
    so the same event detected twice is stored once."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=20)  # resolved | status | move | source | due
    prediction_id: str | None = Field(default=None, max_length=120)
    source: str | None = Field(default=None, max_length=40)
    title: str
    body: str
    dedupe_key: str = Field(max_length=300, unique=True)


class OutboxDelivery(SQLModel, table=True):
    """One notification to one target. ``target_key`` is a hash of the target's URL as
    configured (never the URL: it may hold a token); ``target_label`` its scheme and host.
    A sender claims a delivery by setting ``claimed_until`` in a conditional UPDATE, and
    sets ``sent_at`` once the target accepted it, or ``failed_at`` when it gives up."""

    __tablename__ = "outbox_delivery"
    __table_args__ = (Index("ix_outbox_delivery_pending", "sent_at", "failed_at", "next_try_at"),)

    outbox_id: int = Field(sa_column=Column(Integer, ForeignKey("outbox.id"), primary_key=True))
    target_key: str = Field(primary_key=True, max_length=64)
    target_label: str = Field(max_length=200)
    attempts: int = 0
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None


class NotifyState(SQLModel, table=True):
    """What notifications know of a claim: its status when last evaluated, its
    probability when the last message about it was written (the move rule measures from
    there), and the deadline whose "ready to resolve?" was written. ``version`` counts
    its changes: events are keyed by it, so two processes that detect the same change
    write one message."""

    __tablename__ = "notify_state"

    prediction_id: str = Field(primary_key=True, max_length=120)
    status: str = Field(max_length=20)
    probability: float | None = None
    due_announced: str | None = Field(default=None, max_length=10)  # YYYY-MM-DD
    version: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)
