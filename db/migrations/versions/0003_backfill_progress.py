"""backfill_progress: where an interrupted backfill resumes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_progress",
        sa.Column("series_id", sa.String(length=200), nullable=False),
        sa.Column("since", db.types.UTCDateTime(), nullable=False),
        sa.Column("done_until", db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", name=op.f("pk_backfill_progress")),
    )


def downgrade() -> None:
    op.drop_table("backfill_progress")
