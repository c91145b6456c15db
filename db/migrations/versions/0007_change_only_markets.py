"""Market odds stored when they change: series.confirmed_at, series.resolution_confirmed_at

From this revision a market's odds are stored only when they differ from the newest
stored value, and the series keeps when a fetch last returned them (``confirmed_at``).
This revision compacts what earlier polls stored: in each market series, of every run
of equal consecutive values only the first point stays, which is where the odds changed
to that value. Every change is kept. Before compacting, each market series' newest
point's fetch time becomes its ``confirmed_at``, and afterwards its ``point_count`` is
counted again.

``resolution_confirmed_at`` starts NULL: a market already resolved is read once more by
the next poll, which confirms it, and then no longer asked for.

Downgrading drops the two columns; the compacted points stay as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The market sources as this revision knows them: a migration does not follow later code.
MARKETS = "('polymarket', 'kalshi')"


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would rebuild the series table.
    op.add_column("series", sa.Column("confirmed_at", db.types.UTCDateTime(), nullable=True))
    op.add_column("series", sa.Column("resolution_confirmed_at", db.types.UTCDateTime(),
                                      nullable=True))
    op.execute(
        "UPDATE series SET confirmed_at = (SELECT fetched_at FROM observation "
        "WHERE observation.series_id = series.id ORDER BY ts DESC LIMIT 1) "
        f"WHERE source IN {MARKETS}"
    )
    # A point whose value equals the one just before it in the same series adds nothing
    # (the odds held): it goes. Compared on the stored rows as they were before this
    # statement, so a run of any length keeps exactly its first point.
    op.execute(
        "DELETE FROM observation WHERE (series_id, ts) IN ("
        " SELECT series_id, ts FROM ("
        "  SELECT o.series_id, o.ts, o.value,"
        "   lag(o.value) OVER (PARTITION BY o.series_id ORDER BY o.ts) AS previous"
        "  FROM observation AS o"
        f"  WHERE o.series_id IN (SELECT id FROM series WHERE source IN {MARKETS})"
        " ) AS market_points WHERE previous = value)"
    )
    op.execute(
        "UPDATE series SET point_count = "
        "(SELECT count(*) FROM observation WHERE observation.series_id = series.id) "
        f"WHERE source IN {MARKETS}"
    )


def downgrade() -> None:
    # Not batch mode, as in 0005: SQLite 3.35 and later drop a plain column in place.
    op.drop_column("series", "resolution_confirmed_at")
    op.drop_column("series", "confirmed_at")
