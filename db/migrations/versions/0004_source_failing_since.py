"""source_health.failing_since: when the current run of failures began

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_health") as batch:
        batch.add_column(sa.Column("failing_since", db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_health") as batch:
        batch.drop_column("failing_since")
