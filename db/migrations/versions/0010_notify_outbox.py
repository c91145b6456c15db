"""outbox, outbox_delivery, notify_state: push notifications, exactly once

An event is written to the outbox in the transaction that stored its cause, with one
delivery row per target; the daemon's sender claims each delivery before sending it.
notify_state keeps, per claim, what the event rules compare with.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("prediction_id", sa.String(length=120), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_table(
        "outbox_delivery",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("target_key", sa.String(length=64), nullable=False),
        sa.Column("target_label", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_until", db.types.UTCDateTime(), nullable=True),
        sa.Column("sent_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("failed_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"],
                                name=op.f("fk_outbox_delivery_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("outbox_id", "target_key", name=op.f("pk_outbox_delivery")),
    )
    op.create_index("ix_outbox_delivery_pending", "outbox_delivery",
                    ["sent_at", "failed_at", "next_try_at"])
    op.create_table(
        "notify_state",
        sa.Column("prediction_id", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("due_announced", sa.String(length=10), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_notify_state")),
    )


def downgrade() -> None:
    op.drop_table("notify_state")
    op.drop_index("ix_outbox_delivery_pending", table_name="outbox_delivery")
    op.drop_table("outbox_delivery")
    op.drop_table("outbox")
