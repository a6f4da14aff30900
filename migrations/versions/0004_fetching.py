"""fetching: listing cache (detail pages with HTTP validators and a TTL)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 09:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('listing_cache',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.SmallInteger(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
              nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('validated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['body_sha256'], ['capture_bodies.sha256'],
                            name=op.f('fk_listing_cache_body_sha256_capture_bodies')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_listing_cache_vendor_id_vendors'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_cache')),
    sa.UniqueConstraint('vendor_id', 'url', name=op.f('uq_listing_cache_vendor_id_url'))
    )
    op.create_index(op.f('ix_listing_cache_body_sha256'), 'listing_cache', ['body_sha256'], unique=False)
    op.create_index('ix_listing_cache_expires_at', 'listing_cache', ['expires_at'], unique=False)
    op.create_index('ix_listing_cache_vendor_id_external_id', 'listing_cache', ['vendor_id', 'external_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_listing_cache_vendor_id_external_id', table_name='listing_cache')
    op.drop_index('ix_listing_cache_expires_at', table_name='listing_cache')
    op.drop_index(op.f('ix_listing_cache_body_sha256'), table_name='listing_cache')
    op.drop_table('listing_cache')
