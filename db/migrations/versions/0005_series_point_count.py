"""series.point_count: each series' number of observations, kept by the writes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(
            sa.Column("point_count", sa.Integer(), nullable=False, server_default="0")
        )
    # The points stored so far; from now on db.queries.upsert_observations keeps it.
    op.execute(
        "UPDATE series SET point_count = "
        "(SELECT count(*) FROM observation WHERE observation.series_id = series.id)"
    )


def downgrade() -> None:
    # Not batch mode: on SQLite that rebuilds the table, and dropping the old series table
    # fails while observations refer to it (foreign_keys=ON). SQLite 3.35 and later drop
    # a plain column in place.
    op.drop_column("series", "point_count")
