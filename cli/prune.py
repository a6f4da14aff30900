"""``market-pulse prune``: retention for the history tables and the archived response bodies.

History is partitioned by month (migration 0011), so retention drops whole months: a partition
is detached and dropped, no row-by-row DELETE, no bloat left behind. Bodies past an age can move
out of Postgres to a folder or an object store and still be re-parsed from there.

Dry run by default: it prints what it would drop or move; ``--yes`` does it. Dropping partitions is
DDL, so it runs as the owner role (``MARKET_PULSE_OWNER_DATABASE_URL``, or the embedded server's).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import ProgrammingError

from infra.database import DatabaseUnavailable, engine_for, resolve_urls
from infra.embedded_postgres import EmbeddedPostgresError
from infra.settings import load_settings
from pipelines.history.ages import cutoff
from pipelines.history.store import drop_partition, partitions_before
from pipelines.on_demand.store import requests_before
from pipelines.scraping.body_archive import offload_bodies, pending_offload, remove_archived, restore_bodies
from pipelines.scraping.store import delete_orphan_bodies

EXPECTED = (DatabaseUnavailable, EmbeddedPostgresError, ValueError, OSError)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _prune_partitions(engine: Engine, before: dt.date, apply: bool) -> None:
    with engine.connect() as conn:
        old = partitions_before(conn, before)
    verb = "dropping" if apply else "would drop"
    typer.echo(f"{verb} {len(old)} month partition(s) with every day before {before.isoformat()}")
    for p in old:
        assert p.lower_day is not None and p.upper_day is not None
        typer.echo(f"  {p.name:<34} {p.lower_day.isoformat()} .. {p.upper_day.isoformat()}  "
                   f"~{p.rows_estimate:,} rows  {_size(p.bytes)}")
        if apply:
            with engine.begin() as conn:  # one month at a time: each lock is held for one detach
                drop_partition(conn, p)
    with engine.begin() as conn:
        requests = requests_before(conn, before, delete=apply)
    typer.echo(f"{'deleted' if apply else 'would delete'} {requests} on-demand search request(s) made before "
               f"{before.isoformat()}, with their timelines")
    if apply and any(p.table == "raw_captures" for p in old):
        with engine.begin() as conn:
            gone = delete_orphan_bodies(conn)
        files = remove_archived([r.archive_url for r in gone if r.archive_url])
        typer.echo(f"  {len(gone)} response bodies no capture refers to any more deleted ({files} archived files)")


def prune(
    older_than: Annotated[str | None, typer.Option(
        "--older-than", help="Drop the month partitions of history older than this (e.g. 18mo, 2y, 400d).")] = None,
    offload_bodies_older_than: Annotated[str | None, typer.Option(
        "--offload-bodies-older-than", envvar="MARKET_PULSE_OFFLOAD_BODIES_AFTER", show_envvar=True,
        help="Move response bodies first stored before this age (e.g. 90d) out of Postgres to the archive.")] = None,
    archive_url: Annotated[str | None, typer.Option(
        "--archive-url", help="fsspec URL or folder for moved bodies (default: MARKET_PULSE_ARCHIVE_URL, "
        "else $MARKET_PULSE_HOME/archive).")] = None,
    restore_bodies_: Annotated[bool, typer.Option(
        "--restore-bodies", help="Bring every moved body back into Postgres (before a downgrade below 0011).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do it (without it: a dry run that prints what it would do).")]
    = False,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="The owner role's warehouse URL (default: configured).", show_envvar=False)] = None,
) -> None:
    """Retention: drop whole months of history older than --older-than, move old response bodies
    out of Postgres (--offload-bodies-older-than), or bring them back (--restore-bodies)."""
    if not (older_than or offload_bodies_older_than or restore_bodies_):
        raise _fail("nothing to do: give --older-than, --offload-bodies-older-than or --restore-bodies")
    try:
        settings = load_settings()
        today = dt.datetime.now(dt.UTC).date()
        partition_cutoff = cutoff(older_than, today) if older_than else None
        body_cutoff = cutoff(offload_bodies_older_than, today) if offload_bodies_older_than else None
        engine = engine_for(database_url or resolve_urls(settings).owner)
        archive = archive_url or settings.archive_url
        if partition_cutoff is not None:
            _prune_partitions(engine, partition_cutoff, yes)
        if body_cutoff is not None:
            before = dt.datetime.combine(body_cutoff, dt.time(), tzinfo=dt.UTC)
            if yes:
                moved = offload_bodies(engine, before=before, archive=archive)
                typer.echo(f"moved {moved.bodies} response bodies ({_size(moved.bytes)}) stored before "
                           f"{body_cutoff.isoformat()} to {archive}")
            else:
                pending = pending_offload(engine, before)
                typer.echo(f"would move {pending.bodies} response bodies ({_size(pending.bytes)}) stored before "
                           f"{body_cutoff.isoformat()} to {archive}")
        if restore_bodies_:
            if yes:
                typer.echo(f"restored {restore_bodies(engine)} response bodies into the database")
            else:
                typer.echo("would restore every response body kept outside the database")
    except EXPECTED as exc:
        raise _fail(str(exc)) from None
    except ProgrammingError as exc:
        if "must be owner" not in str(exc) and "permission denied" not in str(exc):
            raise
        raise _fail("dropping partitions is DDL: run as the owner role (MARKET_PULSE_OWNER_DATABASE_URL "
                    "or --database-url with the owner's URL)") from None
    if not yes:
        typer.echo("dry run: nothing changed; add --yes to do it")
