"""made_on_price: the price on the day a claim was made, kept once found

The scoreboard and the digest compare each claim with the price it had at the end of its
made_on day. That price is evaluated once, from the points up to that day, and kept here,
instead of every series' history being read and the registry evaluated again on each
read. Rows are filled by the next evaluation (`tracker poll`, the daemon).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "made_on_price",
        sa.Column("prediction_id", sa.String(length=120), nullable=False),
        sa.Column("definition", sa.String(length=64), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("evidence", sa.String(), nullable=True),
        sa.Column("checked_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_made_on_price")),
    )


def downgrade() -> None:
    op.drop_table("made_on_price")
