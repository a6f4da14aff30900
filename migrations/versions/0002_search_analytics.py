"""search analytics: per-query daily stats and the price history of tracked products

Adds ``search_query_stats`` (one row per day and tracked query: volume, zero results, cache
hits, trailing 7/30-day popularity) and ``tracked_product_prices`` (one row per day, product
and currency found by the tracked queries), both written by the ``search_analytics`` asset,
plus an index on ``listing_sightings.partition_date`` for the daily rollups.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('search_query_stats',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('stats_date', sa.Date(), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('vendors', sa.Integer(), nullable=False),
    sa.Column('successful_searches', sa.Integer(), nullable=False),
    sa.Column('zero_result_searches', sa.Integer(), nullable=False),
    sa.Column('listings_found', sa.Integer(), nullable=False),
    sa.Column('cache_hits', sa.Integer(), nullable=False),
    sa.Column('cache_hit_rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('avg_duration_ms', sa.Float(), nullable=True),
    sa.Column('searches_7d', sa.Integer(), nullable=False),
    sa.Column('searches_30d', sa.Integer(), nullable=False),
    sa.Column('zero_result_searches_7d', sa.Integer(), nullable=False),
    sa.Column('zero_result_searches_30d', sa.Integer(), nullable=False),
    sa.Column('popularity_rank_7d', sa.Integer(), nullable=False),
    sa.Column('popularity_rank_30d', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_query_stats')),
    sa.UniqueConstraint('stats_date', 'query', name=op.f('uq_search_query_stats_stats_date_query'))
    )
    op.create_index('ix_search_query_stats_query', 'search_query_stats', ['query'], unique=False)
    op.create_table('tracked_product_prices',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=False),
    sa.Column('stats_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('appearances', sa.Integer(), nullable=False),
    sa.Column('listings', sa.Integer(), nullable=False),
    sa.Column('vendors', sa.Integer(), nullable=False),
    sa.Column('best_position', sa.Integer(), nullable=True),
    sa.Column('queries', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('priced_listings', sa.Integer(), nullable=False),
    sa.Column('min_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('median_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_tracked_product_prices_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_product_prices')),
    sa.UniqueConstraint('product_id', 'stats_date', 'currency', name=op.f('uq_tracked_product_prices_product_id_stats_date_currency'))
    )
    op.create_index('ix_tracked_product_prices_stats_date', 'tracked_product_prices', ['stats_date'], unique=False)
    op.create_index('ix_listing_sightings_partition_date', 'listing_sightings', ['partition_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_listing_sightings_partition_date', table_name='listing_sightings')
    op.drop_index('ix_tracked_product_prices_stats_date', table_name='tracked_product_prices')
    op.drop_table('tracked_product_prices')
    op.drop_index('ix_search_query_stats_query', table_name='search_query_stats')
    op.drop_table('search_query_stats')
