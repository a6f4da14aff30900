"""money scale: amounts keep three decimals (KWD, BHD, OMR, JOD, TND, LYD)

Every money column goes from ``NUMERIC(14, 2)`` to ``NUMERIC(16, 3)``: a third decimal for the
three-decimal dinars and rials (a price of 12.345 KWD was stored as 12.35), and one more digit
before the point so that the parser's ceiling (a trillion) fits. Postgres rewrites each table
once (the scale changes); on a large warehouse run it in a quiet hour.

Downgrade rounds every amount to two decimals again (12.345 KWD becomes 12.35) and fails with
"numeric field overflow" if an amount of a trillion or more was stored since.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = {
    'listings': ('price',),
    'listing_sightings': ('price',),
    'price_observations': ('price',),
    'price_snapshots': ('fmv_low', 'fmv_high', 'market_value', 'quick_sale', 'patient_sale', 'min_price',
                        'max_price', 'avg_price'),
    'tracked_product_prices': ('min_price', 'median_price'),
    'alert_matches': ('price_at_match', 'last_notified_price'),
}


def _alter(precision: int, scale: int) -> None:
    """One ALTER TABLE per table, so each table is rewritten once whatever its number of columns."""
    for table, columns in MONEY_COLUMNS.items():
        changes = ', '.join(f'ALTER COLUMN {column} TYPE numeric({precision}, {scale}) USING round({column}, {scale})'
                            for column in columns)
        op.execute(f'ALTER TABLE {table} {changes}')


def upgrade() -> None:
    _alter(16, 3)


def downgrade() -> None:
    _alter(14, 2)
