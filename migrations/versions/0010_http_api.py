"""HTTP API: usage per API key and day, its daily rollup per user, and a trigram index on titles

``api_key_usage`` counts what each key did each day (requests, searches started, pages fetched,
compute units: 1 CU = one minute of server time, as for the vendors); the ``api_usage`` rollup
sums it per user and day into ``api_usage_daily``. ``listings?q=`` and ``comps?q=`` look for words
anywhere in a title: a ``pg_trgm`` GIN index answers ``ILIKE '%…%'`` without a scan (pg_trgm is a
trusted extension: the database owner may create it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 05:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key_usage',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('api_key_id', sa.BigInteger(), nullable=False),
    sa.Column('usage_date', sa.Date(), nullable=False),
    sa.Column('requests', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('searches', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('pages', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('compute_units', sa.Numeric(precision=12, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_usage_api_key_id_api_keys'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key_usage')),
    sa.UniqueConstraint('api_key_id', 'usage_date', name=op.f('uq_api_key_usage_api_key_id_usage_date'))
    )
    op.create_index(op.f('ix_api_key_usage_usage_date'), 'api_key_usage', ['usage_date'], unique=False)
    op.create_table('api_usage_daily',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('usage_date', sa.Date(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('keys', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('compute_units', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_usage_daily_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_usage_daily')),
    sa.UniqueConstraint('usage_date', 'user_id', name=op.f('uq_api_usage_daily_usage_date_user_id'))
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index('ix_listings_title_trgm', 'listings', ['title'], unique=False, postgresql_using='gin',
                    postgresql_ops={'title': 'gin_trgm_ops'})
    # Keyset pages of listings, newest first: (last_seen_at, id).
    op.create_index('ix_listings_last_seen_at_id', 'listings', ['last_seen_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_listings_last_seen_at_id', table_name='listings')
    op.drop_index('ix_listings_title_trgm', table_name='listings', postgresql_using='gin')
    op.drop_table('api_usage_daily')
    op.drop_index(op.f('ix_api_key_usage_usage_date'), table_name='api_key_usage')
    op.drop_table('api_key_usage')
