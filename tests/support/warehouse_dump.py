"""The warehouse's contents in a form two warehouses can be compared by: every table, every row.

Two runs of the same partitions (on Celery workers, in one process) must leave the same data.
They cannot leave the same *ids* (rows are numbered in the order concurrent steps commit) nor the
same wall-clock readings, so the dump

* leaves out every surrogate key (``id``) and replaces each foreign key by the natural key of the
  row it points to (a listing is its vendor's name and its external id, a search its vendor, day
  and query, a product its product key, ...), recursively;
* leaves out the columns in :data:`VOLATILE`: when a row was written (``created_at``,
  ``updated_at``), when and how fast a page was fetched (``fetched_at``, ``elapsed_ms``, the
  server's ``Date`` header, a search's start, end and duration, the per-page ``elapsed_ms`` in
  its events) and the rollups computed from those durations; and which listing of a product
  arrived first (its founder's name and keys), which follows the order partitions were published;

and compares everything else exactly: archived response bodies byte for byte, every price,
title, position, flag, date and count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

VOLATILE: dict[str, set[str]] = {
    "*": {"created_at", "updated_at"},
    "raw_captures": {"fetched_at", "elapsed_ms"},
    "searches": {"started_at", "completed_at", "duration_ms", "browser_seconds"},
    "vendor_performance": {"avg_duration_ms", "p95_duration_ms", "browser_seconds", "compute_units"},
    "search_query_stats": {"avg_duration_ms"},
    "listing_cache": {"fetched_at", "validated_at", "expires_at"},
    "vendor_sessions": {"uploaded_at", "last_used_at"},
    # Product identity is incremental: the first listing of a product to arrive founds it (its name,
    # its anchor in ``attributes``, the blocking keys taken from its title; ``match_method`` 'new'),
    # later ones join it. Runs that publish the same partitions in another order (parallel workers
    # against one process) agree on which listings share a product (each listing's product is still
    # compared, by ``product_key``), not on which of them arrived first.
    "listings": {"match_method", "match_score"},
    "products": {"name", "attributes"},
}
"""Columns that legitimately differ between two runs of the same partitions (besides ``id``)."""

ARRIVAL_ORDER_TABLES = {"product_keys"}
"""Tables derived from which listing founded each product (see ``VOLATILE``): left out."""

JSON_VOLATILE_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("raw_captures", "headers"): ("date",),
    ("search_events", "data"): ("elapsed_ms",),
    ("listing_cache", "headers"): ("date",),
}
"""Keys dropped from JSON columns: the server's clock, and a page's fetch time."""

NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "vendors": ("name",),
    "categories": ("slug",),
    "products": ("product_key",),
    "listings": ("vendor_id", "external_id"),
    "searches": ("vendor_id", "partition_date", "query"),
    "users": ("username",),
    "api_keys": ("key_prefix",),
    "saved_searches": ("user_id", "name"),
    "alert_matches": ("saved_search_id", "listing_id", "rule"),
    "notifications": ("dedupe_key",),
    "capture_bodies": ("sha256",),
    "search_requests": ("query_key", "created_at"),
}
"""How a row is named when another row points to it (columns may themselves be foreign keys)."""

SKIPPED_TABLES = {"alembic_version"}


def _foreign_keys(engine: Engine) -> dict[tuple[str, str], str]:
    """(table, column) → referenced table, for single-column foreign keys of the public schema."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
        SELECT tc.table_name, kcu.column_name, ccu.table_name
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
        JOIN information_schema.constraint_column_usage ccu
          ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'
    """)).all()
    return {(table, column): target for table, column, target in rows}


def _columns(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("""
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = table_name AND c.relispartition)
        ORDER BY table_name, ordinal_position
    """)).all()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _reference(fks: dict[tuple[str, str], str], table: str, column: str, alias: str, depth: int = 0) -> str:
    """SQL naming the row ``alias.column`` points to (its natural key), or the value itself."""
    target = fks.get((table, column))
    if target is None:
        return f'{alias}."{column}"'
    key = NATURAL_KEYS.get(target)
    if key is None:
        raise ValueError(f"{table}.{column} points to {target}, which has no natural key in NATURAL_KEYS")
    if key == ("sha256",):
        return f'{alias}."{column}"'
    inner = f"r{depth}"
    parts = ", ".join(_reference(fks, target, part, inner, depth + 1) for part in key)
    return f'(SELECT jsonb_build_array({parts})::text FROM "{target}" {inner} WHERE {inner}.id = {alias}."{column}")'


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (sorted), with ids, foreign keys and volatile columns handled as above."""
    fks = _foreign_keys(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table, columns in _columns(engine).items():
            if table in SKIPPED_TABLES or table in ARRIVAL_ORDER_TABLES:
                continue
            volatile = VOLATILE["*"] | VOLATILE.get(table, set()) | {"id"}
            expressions = []
            for column in columns:
                if column in volatile:
                    continue
                expression = _reference(fks, table, column, "t")
                for key in JSON_VOLATILE_KEYS.get((table, column), ()):
                    expression = f"({expression} - '{key}')"
                expressions.append(f"({expression})::text")
            rows = conn.execute(text(f'SELECT {", ".join(expressions)} FROM "{table}" t')).all()
            out[table] = sorted((tuple(row) for row in rows),
                                key=lambda row: tuple("" if v is None else v for v in row))
    return out


def differences(left: dict[str, list[tuple[Any, ...]]], right: dict[str, list[tuple[Any, ...]]],
                limit: int = 5) -> list[str]:
    """Human-readable differences (a few rows per table), empty when the warehouses are equal."""
    problems = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table, []), right.get(table, [])
        if a == b:
            continue
        only_a = [row for row in a if row not in b][:limit]
        only_b = [row for row in b if row not in a][:limit]
        problems.append(f"{table}: {len(a)} vs {len(b)} rows; only left {only_a}; only right {only_b}")
    return problems
