"""product identity: how each listing was matched, people's decisions, the blocking index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('listings', sa.Column('match_method', sa.String(length=16), nullable=True))
    op.add_column('listings', sa.Column('match_score', sa.Float(), nullable=True))
    op.add_column('listings', sa.Column('match_signature', sa.String(length=32), nullable=True))
    op.create_table('product_decisions',
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('product_key', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("action IN ('merge', 'split')", name=op.f('ck_product_decisions_action_known')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_product_decisions_listing_id_listings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_product_decisions'))
    )
    op.create_index(op.f('ix_product_decisions_product_key'), 'product_decisions', ['product_key'], unique=False)
    op.create_table('product_keys',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_keys_product_id_products'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'product_id', name=op.f('pk_product_keys'))
    )
    op.create_index(op.f('ix_product_keys_product_id'), 'product_keys', ['product_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_product_keys_product_id'), table_name='product_keys')
    op.drop_table('product_keys')
    op.drop_index(op.f('ix_product_decisions_product_key'), table_name='product_decisions')
    op.drop_table('product_decisions')
    op.drop_column('listings', 'match_signature')
    op.drop_column('listings', 'match_score')
    op.drop_column('listings', 'match_method')
