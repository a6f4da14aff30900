"""Parsing the domains' SQL files: what a process pays the first time it uses them.

Every Dagster step process (and the code server) reads a ``.sql`` file the first time it runs one
and keeps the parsed statements for the rest of the process. Measured here, over every file of
``pipelines/*/sql/`` and over the files one ``listings`` partition runs, in the same run:

- **SqlFiles**: ``pipelines.shared.sql.SqlFiles`` (one pass of sqlparse's lexer and statement
  splitter, comment tokens dropped);
- **split + format**: ``sqlparse.split`` and then ``sqlparse.format(strip_comments=True)`` per
  statement (the same result; ``format`` groups the tokens into a parse tree first);
- **str.split(";")**: the naive split, which a ``;`` inside a literal or a comment breaks: the
  lower bound.

Run: ``uv run python bench/sql_files.py [--rounds 7] [--record]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import sqlparse

from bench.rollups import record
from infra.settings import PROJECT_ROOT
from pipelines.shared.sql import SqlFiles

LISTINGS_STEP = ["lock_vendor_listings", "create_staging", "copy_staged_items", "copy_staged_positions",
                 "analyze_staging", "audit_staged_items", "audit_staged_searches", "audit_recent_searches",
                 "audit_recent_fields", "merge_listings", "replace_sightings", "derive_listing_state",
                 "derive_sold_removed", "replace_details", "partition_summary", "delete_parse_reports",
                 "insert_parse_report", "select_partition_preview"]


def with_format(code: str) -> list[str]:
    parts = (sqlparse.format(part, strip_comments=True).strip().rstrip(";").strip() for part in sqlparse.split(code))
    return [part for part in parts if part]


def naive(code: str) -> list[str]:
    return [part.strip() for part in code.split(";") if part.strip()]


def median_ms(files: list[Path], parse: Callable[[Path], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for file in files:
            parse(file)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    every = sorted((PROJECT_ROOT / "pipelines").glob("*/sql/*.sql"))
    listings = [PROJECT_ROOT / "pipelines" / "listings" / "sql" / f"{name}.sql" for name in LISTINGS_STEP]
    variants: dict[str, Callable[[Path], object]] = {
        "SqlFiles": lambda f: SqlFiles(f.parent).statements(f.stem),  # a new instance: nothing cached
        "split + format": lambda f: with_format(f.read_text()),
        'str.split(";")': lambda f: naive(f.read_text()),
    }
    lines = [f"first-use parse of SQL files, medians of {args.rounds} rounds"]
    for label, files in (("every domain file", every), ("one listings partition", listings)):
        size = sum(f.stat().st_size for f in files) / 1000
        ms = {name: median_ms(files, parse, args.rounds) for name, parse in variants.items()}
        lines.append(f"  {label} ({len(files)} files, {size:.0f} kB): "
                     + ", ".join(f"{name} {value:.1f} ms" for name, value in ms.items())
                     + f"; split + format / SqlFiles = {ms['split + format'] / ms['SqlFiles']:.1f}x")
    print("\n".join(lines))
    if args.record:
        record("Parsing the SQL files (bench/sql_files.py)", lines)


if __name__ == "__main__":
    main()
