"""observation.first_seen_at: when each point was first stored

Staleness learns a series' release cadence from when its points arrived (a daily series
published weekly, monthly data weeks after the month), and fetched_at moves on every
re-fetch. Points stored before this revision keep NULL; reads fall back to fetched_at.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would rebuild the observation table, every row of it.
    op.add_column("observation", sa.Column("first_seen_at", db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("observation", "first_seen_at")
