"""On-demand searches: a request to search some vendors now, its live timeline, and its searches

``search_requests`` is one ``POST /api/v1/searches`` (or ``market-pulse search``): a query, the
vendors asked for (empty: every vendor), who asked, and how it went. ``search_request_events`` is
its timeline as the Server-Sent Events stream replays it (vendor started / page / results / error /
done), in ``id`` order. The vendors' searches it ran are ordinary rows of ``searches`` in the day's
partition, marked with ``request_id``: a scheduled scrape of the same partition replaces only its
own queries and leaves them in place, so what an on-demand search archived stays in the partition
and is parsed again whenever the day is.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('search_requests',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('api_key_id', sa.BigInteger(), nullable=True),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('query_key', sa.Text(), nullable=False),
    sa.Column('vendors', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pages', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('results', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_search_requests_user_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_search_requests_api_key_id_api_keys'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_requests')),
    sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f('ck_search_requests_status_known')),
    )
    op.create_index('ix_search_requests_query_key_created_at', 'search_requests', ['query_key', 'created_at'],
                    unique=False)
    op.create_index(op.f('ix_search_requests_user_id'), 'search_requests', ['user_id'], unique=False)
    op.create_table('search_request_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('vendor', sa.Text(), nullable=True),
    sa.Column('event_type', sa.String(length=20), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['search_requests.id'],
                            name=op.f('fk_search_request_events_request_id_search_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_request_events')),
    )
    op.create_index('ix_search_request_events_request_id_id', 'search_request_events', ['request_id', 'id'],
                    unique=False)
    op.add_column('searches', sa.Column('request_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_searches_request_id_search_requests'), 'searches', 'search_requests',
                          ['request_id'], ['id'], ondelete='SET NULL')
    op.create_index(op.f('ix_searches_request_id'), 'searches', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_searches_request_id'), table_name='searches')
    op.drop_constraint(op.f('fk_searches_request_id_search_requests'), 'searches', type_='foreignkey')
    op.drop_column('searches', 'request_id')
    op.drop_index('ix_search_request_events_request_id_id', table_name='search_request_events')
    op.drop_table('search_request_events')
    op.drop_index(op.f('ix_search_requests_user_id'), table_name='search_requests')
    op.drop_index('ix_search_requests_query_key_created_at', table_name='search_requests')
    op.drop_table('search_requests')
