"""Indexes that keep a listings write and a product's price history flat in the length of history

A listings partition re-derives sold/removed state only for the listings its day can change (those
last seen in the few complete scrapes before it, an index range on ``(vendor_id, last_seen_at)``,
which exists already), now that ``missed_scrapes`` stops counting at the vendor's removal
threshold. Its summary counts the day's sold and removed listings from partial indexes on
``sold_at`` and ``removed_at`` rather than reading the vendor's listings, and a partial index on
the removed listings' ``missed_scrapes`` tells whether their state was derived with another
threshold. The API's price history of a product reads only its listings last seen inside the
window, from ``(product_id, last_seen_at)``.

Rows written before this keep their unsaturated ``missed_scrapes`` until the vendor's next listings
write, which sees them (removed listings with a count above the threshold) and re-derives the
vendor's listings once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_listings_product_id_last_seen_at', 'listings', ['product_id', 'last_seen_at'], unique=False)
    op.create_index('ix_listings_sold_vendor_id_sold_at', 'listings', ['vendor_id', 'sold_at'], unique=False,
                    postgresql_where=sa.text('sold_at IS NOT NULL'))
    op.create_index('ix_listings_removed_vendor_id_removed_at', 'listings', ['vendor_id', 'removed_at'],
                    unique=False, postgresql_where=sa.text('removed_at IS NOT NULL'))
    op.create_index('ix_listings_removed_vendor_id_missed_scrapes', 'listings', ['vendor_id', 'missed_scrapes'],
                    unique=False, postgresql_where=sa.text('is_removed'))


def downgrade() -> None:
    op.drop_index('ix_listings_removed_vendor_id_missed_scrapes', table_name='listings')
    op.drop_index('ix_listings_removed_vendor_id_removed_at', table_name='listings')
    op.drop_index('ix_listings_sold_vendor_id_sold_at', table_name='listings')
    op.drop_index('ix_listings_product_id_last_seen_at', table_name='listings')
