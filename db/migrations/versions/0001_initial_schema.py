"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_log',
    sa.Column('digest_date', sa.String(length=10), nullable=False),
    sa.Column('sent_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('values_json', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('digest_date', name=op.f('pk_digest_log'))
    )
    op.create_table('resolution',
    sa.Column('prediction_id', sa.String(length=120), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(), nullable=False),
    sa.Column('resolved_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('prediction_id', name=op.f('pk_resolution'))
    )
    op.create_table('series',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('symbol', sa.String(length=160), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('first_seen_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series'))
    )
    op.create_table('snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prediction_id', sa.String(length=120), nullable=False),
    sa.Column('at', db.types.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('value_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('explanation', sa.String(), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=True),
    sa.Column('inputs', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshot'))
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_prediction_at', ['prediction_id', 'at'], unique=False)

    op.create_table('source_health',
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('last_attempt_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('failing_symbols', sa.String(), nullable=True),
    sa.Column('next_allowed_at', db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_source_health'))
    )
    op.create_table('observation',
    sa.Column('series_id', sa.String(length=200), nullable=False),
    sa.Column('ts', db.types.UTCDateTime(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('fetched_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_observation_series_id_series')),
    sa.PrimaryKeyConstraint('series_id', 'ts', name=op.f('pk_observation')),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('observation')
    op.drop_table('source_health')
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_prediction_at')

    op.drop_table('snapshot')
    op.drop_table('series')
    op.drop_table('resolution')
    op.drop_table('digest_log')
