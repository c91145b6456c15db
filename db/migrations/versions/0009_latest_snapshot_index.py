"""snapshot (prediction_id, id) index: each claim's newest snapshot in one probe

`tracker status`, the scoreboard, the digest and every evaluation read the newest
snapshot of each prediction. Keyed by (prediction_id, at) alone, that read visited every
snapshot ever stored; with this index it is one index probe per prediction.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_snapshot_prediction_id", "snapshot", ["prediction_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_snapshot_prediction_id", table_name="snapshot")
