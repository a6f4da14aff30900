"""warehouse schema v1: catalogue, listings, scraping archive, rollups, users and alerts

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 09:06:54.613765+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy (a migration must not change when models.py does later).
TABLES_WITH_UPDATED_AT = ["vendors", "categories", "products", "listings", "vendor_performance",
                          "users", "saved_searches", "notifications", "vendor_sessions"]

SET_UPDATED_AT_FUNCTION = """
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.execute(SET_UPDATED_AT_FUNCTION)
    op.create_table('capture_bodies',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_capture_bodies'))
    )
    op.create_table('categories',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_categories_slug'))
    )
    op.create_index(op.f('ix_categories_parent_id'), 'categories', ['parent_id'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=20), server_default='user', nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('last_login', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('vendors',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('base_url', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('config', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('config_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendors')),
    sa.UniqueConstraint('name', name=op.f('uq_vendors_name'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('scopes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_index('ix_api_keys_user_id_active', 'api_keys', ['user_id'], unique=False, postgresql_where=sa.text('is_active'))
    op.create_table('products',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('product_key', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('brand', sa.String(length=200), nullable=True),
    sa.Column('product_code', sa.String(length=100), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('product_key', name=op.f('uq_products_product_key'))
    )
    op.create_index(op.f('ix_products_category_id'), 'products', ['category_id'], unique=False)
    op.create_index(op.f('ix_products_product_code'), 'products', ['product_code'], unique=False)
    op.create_table('saved_searches',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('criteria', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('notification_settings', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_searches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_searches_user_id_name'))
    )
    op.create_index('ix_saved_searches_active', 'saved_searches', ['id'], unique=False, postgresql_where=sa.text('is_active'))
    op.create_table('searches',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('partition_date', sa.Date(), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pages', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('items', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('requests', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('bytes', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('browser_seconds', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('cache_hit', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_searches_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_searches'))
    )
    op.create_index('ix_searches_query_created_at', 'searches', ['query', 'created_at'], unique=False)
    op.create_index('ix_searches_status_created_at', 'searches', ['status', 'created_at'], unique=False)
    op.create_index('ix_searches_vendor_id_partition_date', 'searches', ['vendor_id', 'partition_date'], unique=False)
    op.create_table('vendor_performance',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('total_searches', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('total_listings', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('new_listings', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('sold_listings', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('removed_listings', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('avg_duration_ms', sa.Float(), nullable=True),
    sa.Column('p95_duration_ms', sa.Float(), nullable=True),
    sa.Column('success_rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('error_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('cache_hits', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('requests', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('bytes', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('browser_seconds', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('compute_units', sa.Numeric(precision=12, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_performance_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_performance')),
    sa.UniqueConstraint('vendor_id', 'date', name=op.f('uq_vendor_performance_vendor_id_date'))
    )
    op.create_index('ix_vendor_performance_date', 'vendor_performance', ['date'], unique=False)
    op.create_table('vendor_sessions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=50), nullable=True),
    sa.Column('cookies_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('cookie_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_valid', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('invalid_reason', sa.Text(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_sessions_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_sessions'))
    )
    op.create_index('ix_vendor_sessions_valid', 'vendor_sessions', ['vendor_id'], unique=False, postgresql_where=sa.text('is_valid'))
    op.create_table('listings',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_kind', sa.String(length=16), server_default='priced', nullable=False),
    sa.Column('condition', sa.String(length=200), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('seller', sa.String(length=200), nullable=True),
    sa.Column('product_code', sa.String(length=100), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sold_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_sold', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_removed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('missed_scrapes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price IS NULL OR price >= 0', name=op.f('ck_listings_price_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_listings_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_listings_product_id_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_listings_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings')),
    sa.UniqueConstraint('vendor_id', 'external_id', name=op.f('uq_listings_vendor_id_external_id'))
    )
    op.create_index('ix_listings_active_vendor_id', 'listings', ['vendor_id', 'price'], unique=False, postgresql_where=sa.text('NOT is_sold AND NOT is_removed'))
    op.create_index(op.f('ix_listings_category_id'), 'listings', ['category_id'], unique=False)
    op.create_index(op.f('ix_listings_product_id'), 'listings', ['product_id'], unique=False)
    op.create_index('ix_listings_vendor_id_last_seen_at', 'listings', ['vendor_id', 'last_seen_at'], unique=False)
    op.create_table('price_snapshots',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=False),
    sa.Column('snapshot_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fmv_low', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('fmv_high', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('market_value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('quick_sale', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('patient_sale', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('min_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('max_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('avg_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('volume_confidence', sa.String(length=20), nullable=True),
    sa.Column('analyses', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_price_snapshots_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_snapshots')),
    sa.UniqueConstraint('product_id', 'snapshot_date', 'currency', name=op.f('uq_price_snapshots_product_id_snapshot_date_currency'))
    )
    op.create_index('ix_price_snapshots_snapshot_date', 'price_snapshots', ['snapshot_date'], unique=False)
    op.create_table('raw_captures',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('search_id', sa.BigInteger(), nullable=True),
    sa.Column('partition_date', sa.Date(), nullable=False),
    sa.Column('query', sa.Text(), nullable=True),
    sa.Column('page_number', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('status', sa.SmallInteger(), nullable=True),
    sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('fetch_mode', sa.String(length=16), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=True),
    sa.Column('bytes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('elapsed_ms', sa.Float(), nullable=True),
    sa.Column('browser_seconds', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['body_sha256'], ['capture_bodies.sha256'], name=op.f('fk_raw_captures_body_sha256_capture_bodies')),
    sa.ForeignKeyConstraint(['search_id'], ['searches.id'], name=op.f('fk_raw_captures_search_id_searches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_raw_captures_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_captures'))
    )
    op.create_index(op.f('ix_raw_captures_body_sha256'), 'raw_captures', ['body_sha256'], unique=False)
    op.create_index(op.f('ix_raw_captures_search_id'), 'raw_captures', ['search_id'], unique=False)
    op.create_index('ix_raw_captures_vendor_id_partition_date', 'raw_captures', ['vendor_id', 'partition_date'], unique=False)
    op.create_table('search_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('search_id', sa.BigInteger(), nullable=True),
    sa.Column('vendor_id', sa.Integer(), nullable=True),
    sa.Column('event_type', sa.String(length=50), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['search_id'], ['searches.id'], name=op.f('fk_search_events_search_id_searches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_search_events_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_events'))
    )
    op.create_index('ix_search_events_search_id_created_at', 'search_events', ['search_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_search_events_vendor_id'), 'search_events', ['vendor_id'], unique=False)
    op.create_table('alert_matches',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('saved_search_id', sa.BigInteger(), nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('price_at_match', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('last_notified_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('matched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_read', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_saved', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_alert_matches_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'], name=op.f('fk_alert_matches_saved_search_id_saved_searches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_matches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_matches')),
    sa.UniqueConstraint('saved_search_id', 'listing_id', name=op.f('uq_alert_matches_saved_search_id_listing_id'))
    )
    op.create_index(op.f('ix_alert_matches_listing_id'), 'alert_matches', ['listing_id'], unique=False)
    op.create_index(op.f('ix_alert_matches_user_id'), 'alert_matches', ['user_id'], unique=False)
    op.create_table('listing_attributes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_attributes_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_attributes')),
    sa.UniqueConstraint('listing_id', 'key', name=op.f('uq_listing_attributes_listing_id_key'))
    )
    op.create_index(op.f('ix_listing_attributes_key'), 'listing_attributes', ['key'], unique=False)
    op.create_table('listing_images',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_images_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_images')),
    sa.UniqueConstraint('listing_id', 'position', name=op.f('uq_listing_images_listing_id_position'))
    )
    op.create_table('listing_sightings',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('partition_date', sa.Date(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_kind', sa.String(length=16), nullable=False),
    sa.Column('is_sold', sa.Boolean(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price IS NULL OR price >= 0', name=op.f('ck_listing_sightings_price_not_negative')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_sightings_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_listing_sightings_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_sightings')),
    sa.UniqueConstraint('listing_id', 'partition_date', name=op.f('uq_listing_sightings_listing_id_partition_date'))
    )
    op.create_index('ix_listing_sightings_vendor_id_partition_date', 'listing_sightings', ['vendor_id', 'partition_date'], unique=False)
    op.create_table('price_observations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('observed_date', sa.Date(), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price IS NULL OR price >= 0', name=op.f('ck_price_observations_price_not_negative')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_price_observations_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_observations')),
    sa.UniqueConstraint('listing_id', 'observed_at', name=op.f('uq_price_observations_listing_id_observed_at'))
    )
    op.create_index('ix_price_observations_observed_date', 'price_observations', ['observed_date'], unique=False)
    op.create_table('search_results',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('search_id', sa.BigInteger(), nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('relevance_score', sa.Numeric(precision=4, scale=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_search_results_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['search_id'], ['searches.id'], name=op.f('fk_search_results_search_id_searches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_results')),
    sa.UniqueConstraint('search_id', 'position', name=op.f('uq_search_results_search_id_position'))
    )
    op.create_index(op.f('ix_search_results_listing_id'), 'search_results', ['listing_id'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('saved_search_id', sa.BigInteger(), nullable=True),
    sa.Column('alert_match_id', sa.BigInteger(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['alert_match_id'], ['alert_matches.id'], name=op.f('fk_notifications_alert_match_id_alert_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'], name=op.f('fk_notifications_saved_search_id_saved_searches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    op.create_index('ix_notifications_due', 'notifications', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index(op.f('ix_notifications_saved_search_id'), 'notifications', ['saved_search_id'], unique=False)
    op.create_index('ix_notifications_status_created_at', 'notifications', ['status', 'created_at'], unique=False)
    op.create_index(op.f('ix_notifications_user_id'), 'notifications', ['user_id'], unique=False)
    for table in TABLES_WITH_UPDATED_AT:
        op.execute(f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION set_updated_at()")


def downgrade() -> None:
    op.drop_index(op.f('ix_notifications_user_id'), table_name='notifications')
    op.drop_index('ix_notifications_status_created_at', table_name='notifications')
    op.drop_index(op.f('ix_notifications_saved_search_id'), table_name='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('notifications')
    op.drop_index(op.f('ix_search_results_listing_id'), table_name='search_results')
    op.drop_table('search_results')
    op.drop_index('ix_price_observations_observed_date', table_name='price_observations')
    op.drop_table('price_observations')
    op.drop_index('ix_listing_sightings_vendor_id_partition_date', table_name='listing_sightings')
    op.drop_table('listing_sightings')
    op.drop_table('listing_images')
    op.drop_index(op.f('ix_listing_attributes_key'), table_name='listing_attributes')
    op.drop_table('listing_attributes')
    op.drop_index(op.f('ix_alert_matches_user_id'), table_name='alert_matches')
    op.drop_index(op.f('ix_alert_matches_listing_id'), table_name='alert_matches')
    op.drop_table('alert_matches')
    op.drop_index(op.f('ix_search_events_vendor_id'), table_name='search_events')
    op.drop_index('ix_search_events_search_id_created_at', table_name='search_events')
    op.drop_table('search_events')
    op.drop_index('ix_raw_captures_vendor_id_partition_date', table_name='raw_captures')
    op.drop_index(op.f('ix_raw_captures_search_id'), table_name='raw_captures')
    op.drop_index(op.f('ix_raw_captures_body_sha256'), table_name='raw_captures')
    op.drop_table('raw_captures')
    op.drop_index('ix_price_snapshots_snapshot_date', table_name='price_snapshots')
    op.drop_table('price_snapshots')
    op.drop_index('ix_listings_vendor_id_last_seen_at', table_name='listings')
    op.drop_index(op.f('ix_listings_product_id'), table_name='listings')
    op.drop_index(op.f('ix_listings_category_id'), table_name='listings')
    op.drop_index('ix_listings_active_vendor_id', table_name='listings', postgresql_where=sa.text('NOT is_sold AND NOT is_removed'))
    op.drop_table('listings')
    op.drop_index('ix_vendor_sessions_valid', table_name='vendor_sessions', postgresql_where=sa.text('is_valid'))
    op.drop_table('vendor_sessions')
    op.drop_index('ix_vendor_performance_date', table_name='vendor_performance')
    op.drop_table('vendor_performance')
    op.drop_index('ix_searches_vendor_id_partition_date', table_name='searches')
    op.drop_index('ix_searches_status_created_at', table_name='searches')
    op.drop_index('ix_searches_query_created_at', table_name='searches')
    op.drop_table('searches')
    op.drop_index('ix_saved_searches_active', table_name='saved_searches', postgresql_where=sa.text('is_active'))
    op.drop_table('saved_searches')
    op.drop_index(op.f('ix_products_product_code'), table_name='products')
    op.drop_index(op.f('ix_products_category_id'), table_name='products')
    op.drop_table('products')
    op.drop_index('ix_api_keys_user_id_active', table_name='api_keys', postgresql_where=sa.text('is_active'))
    op.drop_table('api_keys')
    op.drop_table('vendors')
    op.drop_table('users')
    op.drop_index(op.f('ix_categories_parent_id'), table_name='categories')
    op.drop_table('categories')
    op.drop_table('capture_bodies')
    op.execute("DROP FUNCTION IF EXISTS set_updated_at()")
