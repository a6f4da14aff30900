"""history partitioned by month: sightings, price observations, search results, search events, captures

The tables that grow with time become declaratively RANGE-partitioned by month on their time
column, so a day's reads and writes touch one month's indexes and retention drops whole months
(``market-pulse prune``) instead of deleting rows:

============================  ================  ==========================================
table                         partition key     primary key / unique constraint
============================  ================  ==========================================
``listing_sightings``         ``partition_date``  (id, partition_date) / (listing_id, partition_date)
``price_observations``        ``observed_date``   (id, observed_date) / (listing_id, observed_at, observed_date)
``search_results``            ``partition_date``  (id, partition_date) / (search_id, position, partition_date)
``search_events``             ``created_at``      (id, created_at)
``raw_captures``              ``partition_date``  (id, partition_date)
============================  ================  ==========================================

PostgreSQL wants the partition key in every unique constraint. ``observed_date`` is the UTC day of
``observed_at``, so adding it changes nothing about what is unique; ``search_results`` gains the
day of its search (``partition_date``, copied from ``searches``). Foreign keys stay as they were
(from a partitioned table they hold since PostgreSQL 11).

Each table gets a ``<table>_default`` partition, so a row for a month nobody created is never
refused, and monthly partitions ``<table>_yYYYYmMM`` from the oldest row's month to three months
ahead. ``ensure_history_partitions(first_day, last_day)`` creates the missing months later (the
pipeline calls it before writing): it is SECURITY DEFINER (partitions are DDL, owned by the owner
role) but only for a caller who may insert into the tables, and it moves rows a DEFAULT partition
already holds for a month into that month's new partition. ``drop_history_partition(partition)``
detaches and drops one month (with the caller's rights: the owner role's).

``capture_bodies`` may now hold a body outside Postgres: ``archive_url`` points at the file (an
fsspec URL) and ``body`` is NULL; one of the two is always set.

The data is copied (table by table, in one transaction: the tables are locked meanwhile; plan the
upgrade with the pipeline stopped). The downgrade copies it back into plain tables; it refuses
while bodies are archived outside Postgres (restore them first: ``market-pulse prune --restore-bodies``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 05:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 3

COLUMNS = {
    'listing_sightings': ['id', 'listing_id', 'vendor_id', 'partition_date', 'seen_at', 'price', 'currency',
                          'price_kind', 'is_sold', 'title', 'created_at'],
    'price_observations': ['id', 'listing_id', 'observed_at', 'observed_date', 'price', 'currency', 'created_at'],
    'search_results': ['id', 'search_id', 'listing_id', 'position', 'page', 'relevance_score', 'created_at'],
    'search_events': ['id', 'search_id', 'vendor_id', 'event_type', 'data', 'created_at'],
    'raw_captures': ['id', 'vendor_id', 'search_id', 'partition_date', 'query', 'page_number', 'url', 'final_url',
                     'status', 'headers', 'content_type', 'fetch_mode', 'body_sha256', 'bytes', 'attempts',
                     'elapsed_ms', 'browser_seconds', 'error', 'fetched_at', 'created_at'],
}

KEYS = {'listing_sightings': 'partition_date', 'price_observations': 'observed_date',
        'search_results': 'partition_date', 'search_events': 'created_at', 'raw_captures': 'partition_date'}

FOREIGN_KEYS = {
    'listing_sightings': [('listing_id', 'listings', 'CASCADE'), ('vendor_id', 'vendors', 'CASCADE')],
    'price_observations': [('listing_id', 'listings', 'CASCADE')],
    'search_results': [('listing_id', 'listings', 'CASCADE'), ('search_id', 'searches', 'CASCADE')],
    'search_events': [('search_id', 'searches', 'CASCADE'), ('vendor_id', 'vendors', 'CASCADE')],
    'raw_captures': [('body_sha256', 'capture_bodies', None), ('search_id', 'searches', 'CASCADE'),
                     ('vendor_id', 'vendors', 'CASCADE')],
}

INDEXES = {
    'listing_sightings': [('ix_listing_sightings_vendor_id_partition_date', ['vendor_id', 'partition_date']),
                          ('ix_listing_sightings_partition_date', ['partition_date'])],
    'price_observations': [('ix_price_observations_observed_date', ['observed_date'])],
    'search_results': [('ix_search_results_listing_id', ['listing_id'])],
    'search_events': [('ix_search_events_search_id_created_at', ['search_id', 'created_at']),
                      ('ix_search_events_vendor_id', ['vendor_id'])],
    'raw_captures': [('ix_raw_captures_body_sha256', ['body_sha256']), ('ix_raw_captures_search_id', ['search_id']),
                     ('ix_raw_captures_vendor_id_partition_date', ['vendor_id', 'partition_date'])],
}

UNIQUE_PARTITIONED = {
    'listing_sightings': ['listing_id', 'partition_date'],
    'price_observations': ['listing_id', 'observed_at', 'observed_date'],
    'search_results': ['search_id', 'position', 'partition_date'],
}
UNIQUE_PLAIN = {
    'listing_sightings': ['listing_id', 'partition_date'],
    'price_observations': ['listing_id', 'observed_at'],
    'search_results': ['search_id', 'position'],
}

ENSURE_PARTITIONS = r"""
CREATE FUNCTION ensure_history_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET timezone = 'UTC' AS $fn$
-- Monthly partitions of the history tables for every month from first_day's to last_day's that has
-- none yet; rows a DEFAULT partition holds for such a month move into it. Returns how many it made.
DECLARE
    specs text[] := ARRAY[['listing_sightings', 'partition_date'], ['price_observations', 'observed_date'],
                          ['search_results', 'partition_date'], ['search_events', 'created_at'],
                          ['raw_captures', 'partition_date']];
    spec text[];
    month date;
    lo text;
    hi text;
    part text;
    crowded boolean;
    made integer := 0;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RAISE EXCEPTION 'ensure_history_partitions: need first_day <= last_day, got % and %', first_day, last_day
            USING ERRCODE = '22023';
    END IF;
    IF last_day - first_day > 3700 OR first_day < DATE '1990-01-01' OR last_day > DATE '2200-01-01' THEN
        RAISE EXCEPTION 'ensure_history_partitions: % to % is out of range (at most ten years at once)',
            first_day, last_day USING ERRCODE = '22023';
    END IF;
    -- One caller at a time: two workers must not both create the same month.
    PERFORM pg_advisory_xact_lock(hashtext('ensure_history_partitions'));
    FOREACH spec SLICE 1 IN ARRAY specs LOOP
        IF NOT has_table_privilege(session_user, spec[1], 'INSERT') THEN
            RAISE EXCEPTION 'permission denied: % may not write %', session_user, spec[1] USING ERRCODE = '42501';
        END IF;
        month := date_trunc('month', first_day)::date;
        WHILE month <= last_day LOOP
            part := format('%s_y%sm%s', spec[1], to_char(month, 'YYYY'), to_char(month, 'MM'));
            IF to_regclass(part) IS NULL THEN
                lo := month::text;
                hi := (month + interval '1 month')::date::text;
                IF spec[2] = 'created_at' THEN
                    lo := lo || ' 00:00:00+00';
                    hi := hi || ' 00:00:00+00';
                END IF;
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)',
                               spec[1] || '_default', spec[2], lo, spec[2], hi) INTO crowded;
                IF crowded THEN
                    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, spec[1]);
                    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) '
                                   'INSERT INTO %I SELECT * FROM moved',
                                   spec[1] || '_default', spec[2], lo, spec[2], hi, part);
                    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                                   spec[1], part, lo, hi);
                ELSE
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                                   part, spec[1], lo, hi);
                END IF;
                made := made + 1;
            END IF;
            month := (month + interval '1 month')::date;
        END LOOP;
    END LOOP;
    RETURN made;
END
$fn$
"""

DROP_PARTITION = r"""
CREATE FUNCTION drop_history_partition(part regclass) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
-- Detach one month partition of a history table and drop it: retention by whole months. Runs with
-- the caller's rights (DDL: the owner role); refuses anything but a month partition of those tables.
DECLARE
    parent regclass;
BEGIN
    SELECT i.inhparent INTO parent FROM pg_inherits i WHERE i.inhrelid = part;
    IF parent IS NULL OR parent::text NOT IN ('listing_sightings', 'price_observations', 'search_results',
                                              'search_events', 'raw_captures')
       OR part::text = parent::text || '_default' THEN
        RAISE EXCEPTION '% is not a month partition of a history table', part USING ERRCODE = '22023';
    END IF;
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, part);
    EXECUTE format('DROP TABLE %s', part);
END
$fn$
"""

OLDEST_DAY = """
SELECT least(current_date,
             (SELECT min(partition_date) FROM listing_sightings_unpartitioned),
             (SELECT min(observed_date) FROM price_observations_unpartitioned),
             (SELECT min(s.partition_date) FROM searches s
              WHERE EXISTS (SELECT 1 FROM search_results_unpartitioned r WHERE r.search_id = s.id)),
             (SELECT CAST(min(created_at) AT TIME ZONE 'UTC' AS date) FROM search_events_unpartitioned),
             (SELECT min(partition_date) FROM raw_captures_unpartitioned))
"""


def _set_identity(table: str) -> None:
    op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) "
               f"FROM {table}")


def _constraints(table: str, *, partitioned: bool) -> None:
    key = KEYS[table] if partitioned else None
    op.create_primary_key(f'pk_{table}', table, ['id', key] if key else ['id'])
    unique = (UNIQUE_PARTITIONED if partitioned else UNIQUE_PLAIN).get(table)
    if unique:
        op.create_unique_constraint(f"uq_{table}_{'_'.join(unique)}", table, unique)
    for column, referred, ondelete in FOREIGN_KEYS[table]:
        op.create_foreign_key(f'fk_{table}_{column}_{referred}', table, referred, [column],
                              ['sha256' if referred == 'capture_bodies' else 'id'], ondelete=ondelete)
    for name, columns in INDEXES[table]:
        op.create_index(name, table, columns)


def _set_aside(table: str, suffix: str) -> str:
    """Rename the table and its identity sequence, so the new table takes both names."""
    old = f'{table}_{suffix}'
    op.execute(f'ALTER TABLE {table} RENAME TO {old}')
    op.execute(f'ALTER SEQUENCE {table}_id_seq RENAME TO {old}_id_seq')
    return old


def upgrade() -> None:
    op.add_column('capture_bodies', sa.Column('archive_url', sa.Text(), nullable=True))
    op.alter_column('capture_bodies', 'body', existing_type=sa.LargeBinary(), nullable=True)
    op.create_check_constraint(op.f('ck_capture_bodies_body_or_archive'), 'capture_bodies',
                               'body IS NOT NULL OR archive_url IS NOT NULL')

    for table in COLUMNS:
        old = _set_aside(table, 'unpartitioned')
        extra = ', partition_date date NOT NULL' if table == 'search_results' else ''
        op.execute(f'CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                   f'INCLUDING IDENTITY{extra}) PARTITION BY RANGE ({KEYS[table]})')
        op.execute(f'CREATE TABLE {table}_default PARTITION OF {table} DEFAULT')

    op.execute(ENSURE_PARTITIONS)
    op.execute(DROP_PARTITION)
    oldest = op.get_bind().execute(sa.text(OLDEST_DAY)).scalar_one()
    op.execute(sa.text("SELECT ensure_history_partitions(CAST(:oldest AS date), "
                       f"CAST(date_trunc('month', current_date) + interval '{MONTHS_AHEAD} months' AS date))")
               .bindparams(oldest=oldest))

    for table, columns in COLUMNS.items():
        listed = ', '.join(columns)
        if table == 'search_results':
            op.execute(f"INSERT INTO search_results ({listed}, partition_date) "
                       f"SELECT {', '.join('r.' + c for c in columns)}, s.partition_date "
                       f"FROM search_results_unpartitioned r JOIN searches s ON s.id = r.search_id")
        else:
            op.execute(f'INSERT INTO {table} ({listed}) SELECT {listed} FROM {table}_unpartitioned')
        _set_identity(table)
        op.execute(f'DROP TABLE {table}_unpartitioned')
        _constraints(table, partitioned=True)
        op.execute(f'ANALYZE {table}')


def downgrade() -> None:
    archived = op.get_bind().execute(sa.text("SELECT count(*) FROM capture_bodies WHERE body IS NULL")).scalar_one()
    if archived:
        raise ValueError(f"{archived} response bodies are archived outside the database; bring them back with "
                         "`market-pulse prune --restore-bodies` before downgrading below 0011")

    for table, columns in COLUMNS.items():
        old = _set_aside(table, 'partitioned')
        op.execute(f'CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)')
        if table == 'search_results':
            op.execute('ALTER TABLE search_results DROP COLUMN partition_date')
        listed = ', '.join(columns)
        op.execute(f'INSERT INTO {table} ({listed}) SELECT {listed} FROM {old} ORDER BY id')
        _set_identity(table)
        op.execute(f'DROP TABLE {old} CASCADE')
        _constraints(table, partitioned=False)
    op.execute('DROP FUNCTION ensure_history_partitions(date, date)')
    op.execute('DROP FUNCTION drop_history_partition(regclass)')

    op.drop_constraint(op.f('ck_capture_bodies_body_or_archive'), 'capture_bodies', type_='check')
    op.alter_column('capture_bodies', 'body', existing_type=sa.LargeBinary(), nullable=False)
    op.drop_column('capture_bodies', 'archive_url')
