"""History partitioned by month: the migration keeps every row (up and down), months are made
ahead (rows a DEFAULT partition caught move into them), prune drops whole old months as the owner,
and response bodies moved out of Postgres are still re-parsed from the archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from typer.testing import CliRunner

from cli.main import app
from demo.server import running_demo
from infra import migrate
from infra.settings import OWNER
from pipelines.history.ages import add_months, cutoff
from pipelines.history.store import HISTORY_TABLES, ensure_history_partitions, history_partitions
from pipelines.scraping.body_archive import offload_bodies, restore_bodies
from tests.support.databases import SessionRoles, warehouse_name
from tests.support.pipeline import ScrapingPipeline, failure_message
from tests.support.warehouse_dump import dump

TODAY = dt.datetime.now(dt.UTC).date()

ROWS = {
    "listing_sightings": "SELECT listing_id, partition_date, seen_at, price, title FROM listing_sightings",
    "price_observations": "SELECT listing_id, observed_at, observed_date, price FROM price_observations",
    "search_results": "SELECT search_id, listing_id, position, page FROM search_results",
    "search_events": "SELECT search_id, event_type, data::text, created_at FROM search_events",
    "raw_captures": "SELECT search_id, partition_date, url, body_sha256 FROM raw_captures",
    "capture_bodies": "SELECT sha256, body FROM capture_bodies",
}


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {table: sorted(tuple(r) for r in conn.execute(text(query))) for table, query in ROWS.items()}


def _seed(engine: Engine, days: list[dt.date]) -> None:
    """A listing sighted, priced, found and fetched on each of ``days`` (one vendor)."""
    with engine.begin() as conn:
        vendor = conn.execute(text("INSERT INTO vendors (name, display_name, base_url, currency) "
                                   "VALUES ('shop', 'Shop', 'http://127.0.0.1', 'EUR') RETURNING id")).scalar_one()
        listing = conn.execute(text(
            "INSERT INTO listings (vendor_id, external_id, title, currency, first_seen_at, last_seen_at) "
            "VALUES (:v, 'a', 'Lamp', 'EUR', now(), now()) RETURNING id"), {"v": vendor}).scalar_one()
        for n, day in enumerate(days):
            seen = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
            search = conn.execute(text(
                "INSERT INTO searches (vendor_id, partition_date, query, status) "
                "VALUES (:v, :d, 'lamp', 'success') RETURNING id"), {"v": vendor, "d": day}).scalar_one()
            conn.execute(text(
                "INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, "
                "price_kind, is_sold, title) VALUES (:l, :v, :d, :t, :p, 'EUR', 'priced', false, 'Lamp')"),
                {"l": listing, "v": vendor, "d": day, "t": seen, "p": 10 + n})
            conn.execute(text(
                "INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency) "
                "VALUES (:l, :t, :d, :p, 'EUR')"), {"l": listing, "t": seen, "d": day, "p": 10 + n})
            sha = f"{n:064x}"
            conn.execute(text("INSERT INTO capture_bodies (sha256, encoding, size, body) "
                              "VALUES (:s, 'zlib', 1, :b)"), {"s": sha, "b": bytes([n])})
            conn.execute(text(
                "INSERT INTO raw_captures (vendor_id, search_id, partition_date, page_number, url, fetch_mode, "
                "body_sha256, fetched_at) VALUES (:v, :s, :d, 1, :u, 'http', :sha, :t)"),
                {"v": vendor, "s": search, "d": day, "u": f"http://127.0.0.1/p{n}", "sha": sha, "t": seen})
            conn.execute(text("INSERT INTO search_events (search_id, vendor_id, event_type, data, created_at) "
                              "VALUES (:s, :v, 'page_fetched', '{\"page\": 1}', :t)"),
                         {"s": search, "v": vendor, "t": seen})
            _insert_result(conn, search, listing, day)


def _insert_result(conn, search: int, listing: int, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    has_day = conn.execute(text("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                                "'search_results' AND column_name = 'partition_date'")).scalar_one()
    if has_day:
        conn.execute(text("INSERT INTO search_results (search_id, listing_id, position, partition_date) "
                          "VALUES (:s, :l, 1, :d)"), {"s": search, "l": listing, "d": day})
    else:
        conn.execute(text("INSERT INTO search_results (search_id, listing_id, position) VALUES (:s, :l, 1)"),
                     {"s": search, "l": listing})


def _kinds(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT relname, relkind::text FROM pg_class WHERE relname = ANY(:t)"),
                                 {"t": list(HISTORY_TABLES)}).all())


def test_migration_partitions_history_and_downgrades_with_every_row(empty_database_url: str) -> None:
    days = [dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2025, 7, 15), TODAY]
    migrate.upgrade(empty_database_url, "0009")
    engine = create_engine(empty_database_url)
    try:
        _seed(engine, days)
        before = _snapshot(engine)
        migrate.upgrade(empty_database_url)
        assert set(_kinds(engine).values()) == {"p"}
        assert _snapshot(engine) == before
        with engine.connect() as conn:
            homes = conn.execute(text("SELECT partition_date, tableoid::regclass::text FROM listing_sightings")).all()
            results = conn.execute(text("SELECT partition_date, tableoid::regclass::text FROM search_results")).all()
            events = conn.execute(text("SELECT created_at, tableoid::regclass::text FROM search_events")).all()
        assert {(d, f"listing_sightings_y{d:%Y}m{d:%m}") for d in days} == set(homes)
        assert {(d, f"search_results_y{d:%Y}m{d:%m}") for d in days} == set(results)
        assert all(home == f"search_events_y{t:%Y}m{t:%m}" for t, home in events)

        # Keys and foreign keys still hold on the partitioned tables.
        refused = [
            "INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, currency, price_kind, "
            "is_sold, title) SELECT listing_id, vendor_id, partition_date, seen_at, currency, price_kind, is_sold, "
            "title FROM listing_sightings LIMIT 1",
            "INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, currency, price_kind, "
            "is_sold, title) SELECT 999999, vendor_id, partition_date, seen_at, currency, price_kind, is_sold, "
            "title FROM listing_sightings LIMIT 1",
            "INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency) "
            "SELECT listing_id, observed_at, observed_date, 1, currency FROM price_observations LIMIT 1",
            "INSERT INTO raw_captures (vendor_id, partition_date, page_number, url, fetch_mode, body_sha256, "
            "fetched_at) SELECT vendor_id, partition_date, 1, 'u', 'http', 'nope', now() FROM raw_captures LIMIT 1",
        ]
        for statement in refused:
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.begin() as conn:  # deleting a listing still cascades into every month
            conn.execute(text("INSERT INTO listings (vendor_id, external_id, title, currency, first_seen_at, "
                              "last_seen_at) SELECT vendor_id, 'b', 't', 'EUR', now(), now() FROM listings"))
            conn.execute(text("INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, "
                              "currency, price_kind, is_sold, title) SELECT l.id, l.vendor_id, DATE '2024-02-02', "
                              "now(), 'EUR', 'priced', false, 't' FROM listings l WHERE external_id = 'b'"))
            conn.execute(text("DELETE FROM listings WHERE external_id = 'b'"))
            assert conn.execute(text("SELECT count(*) FROM listing_sightings")).scalar_one() == len(days)

        migrate.downgrade(empty_database_url, "0009")
        assert set(_kinds(engine).values()) == {"r"}
        assert _snapshot(engine) == before
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'listing_sightings_%'"
                                     " AND relkind = 'r'")).scalar_one() == 0
        migrate.upgrade(empty_database_url)
        assert _snapshot(engine) == before
    finally:
        engine.dispose()


def test_downgrade_refuses_while_bodies_live_outside(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO capture_bodies (sha256, encoding, size, archive_url) "
                          "VALUES ('ab', 'zlib', 1, 'file:///nowhere/ab.zlib')"))
    engine.dispose()
    with pytest.raises(ValueError, match="--restore-bodies"):
        migrate.downgrade(empty_database_url, "0009")
    # Each migration is its own transaction: the later ones went down, the partitioned one stayed.
    assert migrate.current_revision(empty_database_url) == "0011"


def test_months_are_made_ahead_and_rows_caught_by_default_move_in(fresh_database: str) -> None:
    """As the pipeline's role (no DDL rights of its own): a day with no month lands in DEFAULT,
    making its month moves it there; making them again is a no-op."""
    engine = create_engine(fresh_database)
    far = dt.date(2031, 5, 10)
    try:
        _seed(engine, [far])
        with engine.connect() as conn:
            assert conn.execute(text("SELECT tableoid::regclass::text FROM listing_sightings")).scalar_one() \
                == "listing_sightings_default"
        with engine.begin() as conn:
            made = ensure_history_partitions(conn, far, today=far, months_ahead=2)
        assert made == 3 * len(HISTORY_TABLES)  # May, June, July 2031
        with engine.begin() as conn:
            assert ensure_history_partitions(conn, far, today=far, months_ahead=2) == 0
            homes = {t: conn.execute(text(f"SELECT tableoid::regclass::text FROM {t}")).scalar_one()
                     for t in ("listing_sightings", "price_observations", "search_results", "raw_captures",
                               "search_events")}
            for table in HISTORY_TABLES:
                assert conn.execute(text(f"SELECT count(*) FROM {table}_default")).scalar_one() == 0
        assert homes == {t: f"{t}_y2031m05" for t in homes}
        with engine.connect() as conn:
            names = {p.name for p in history_partitions(conn)}
        assert {f"{t}_y2031m{m:02d}" for t in HISTORY_TABLES for m in (5, 6, 7)} <= names
        assert "listing_sightings_y2031m08" not in names

        # Dropping is DDL: the pipeline's role may not.
        with pytest.raises(ProgrammingError, match="must be owner"), engine.begin() as conn:
            conn.execute(text("SELECT drop_history_partition('listing_sightings_y2031m07')"))
        # Nor may anyone drop a table that is not a history month through it.
        with pytest.raises(DBAPIError, match="not a month partition"), engine.begin() as conn:
            conn.execute(text("SELECT drop_history_partition('listing_sightings_default')"))
    finally:
        engine.dispose()


def test_ages() -> None:
    assert cutoff("18mo", dt.date(2026, 11, 27)) == dt.date(2025, 5, 27)
    assert cutoff("2y", dt.date(2024, 2, 29)) == dt.date(2022, 2, 28)
    assert cutoff("90d", dt.date(2026, 3, 1)) == dt.date(2025, 12, 1)
    assert cutoff("2w", dt.date(2026, 3, 1)) == dt.date(2026, 2, 15)
    assert add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    for bad in ("18", "0d", "-3mo", "soon", "3 months"):
        with pytest.raises(ValueError, match="expected a positive number"):
            cutoff(bad, dt.date(2026, 1, 1))


def test_prune_drops_whole_months_older_than_the_cutoff(fresh_database: str, test_roles: SessionRoles) -> None:
    owner = test_roles.url(warehouse_name(fresh_database), OWNER)
    old, edge, recent = add_months(TODAY, -30), add_months(TODAY, -18), TODAY
    engine = create_engine(fresh_database)
    try:
        _seed(engine, [old, edge, recent])
        with engine.begin() as conn:
            for day in (old, edge):  # what raw_captures does before writing a backfilled day
                ensure_history_partitions(conn, day)
            for day in (old, recent):  # an on-demand search then and now, each with its timeline
                request_id = conn.execute(text(
                    "INSERT INTO search_requests (query, query_key, status, created_at) "
                    "VALUES ('iphone', 'iphone', 'done', :day) RETURNING id"), {"day": day}).scalar_one()
                conn.execute(text("INSERT INTO search_request_events (request_id, event_type) VALUES (:id, 'done')"),
                             {"id": request_id})
        before = _snapshot(engine)
        runner = CliRunner()

        dry = runner.invoke(app, ["prune", "--older-than", "18mo", "--database-url", owner])
        assert dry.exit_code == 0, dry.output
        assert f"listing_sightings_y{old:%Y}m{old:%m}" in dry.output and "dry run" in dry.output
        assert f"listing_sightings_y{edge:%Y}m{edge:%m}" not in dry.output  # partly newer than the cutoff: kept
        assert "would delete 1 on-demand search request(s)" in dry.output
        assert _snapshot(engine) == before

        refused = runner.invoke(app, ["prune", "--older-than", "18mo", "--yes", "--database-url", fresh_database])
        assert refused.exit_code == 1 and "owner role" in refused.output
        assert _snapshot(engine) == before

        done = runner.invoke(app, ["prune", "--older-than", "18mo", "--yes", "--database-url", owner])
        assert done.exit_code == 0, done.output
        after = _snapshot(engine)
        with engine.connect() as conn:
            names = {p.name for p in history_partitions(conn)}
            days = set(conn.execute(text("SELECT partition_date FROM listing_sightings")).scalars())
            capture_days = set(conn.execute(text("SELECT partition_date FROM raw_captures")).scalars())
        assert days == capture_days == {edge, recent}
        assert not any(n.endswith(f"_y{old:%Y}m{old:%m}") for n in names)
        assert all(n in names for n in (f"{t}_y{edge:%Y}m{edge:%m}" for t in HISTORY_TABLES))
        assert len(after["capture_bodies"]) == 2  # the pruned month's body went with its captures
        assert len(after["search_events"]) == 2 and len(after["price_observations"]) == 2
        with engine.connect() as conn:
            requests = conn.execute(text("SELECT created_at::date FROM search_requests")).scalars().all()
            timelines = conn.execute(text("SELECT count(*) FROM search_request_events")).scalar_one()
        assert requests == [recent] and timelines == 1
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


def test_bodies_moved_out_are_reparsed_from_the_archive(database_url: str, demo_url: str, tmp_path: Path,
                                                        test_roles: SessionRoles) -> None:
    """Offload every body to a folder, re-materialise the listings partition: the same rows."""
    # The dump names rows by natural keys, read from the catalog as the tables' owner.
    owner = create_engine(test_roles.url(warehouse_name(database_url), OWNER))
    pipeline = ScrapingPipeline(database_url, demo_url)
    assert pipeline.sync_vendors().success
    day = dt.date(2026, 10, 1)
    result = pipeline.run(day, "toko")
    assert result.success, failure_message(result)
    engine = pipeline.warehouse.engine
    with engine.connect() as conn:  # raw_captures made the day's month before writing: nothing in DEFAULT
        homes = {table: set(conn.execute(text(f"SELECT DISTINCT tableoid::regclass::text FROM {table}")).scalars())
                 for table in ("raw_captures", "listing_sightings", "search_results")}
    assert homes == {t: {f"{t}_y2026m10"} for t in homes}
    published = {t: rows for t, rows in dump(owner).items() if t != "capture_bodies"}
    assert len(published["listing_sightings"]) > 10

    archive = tmp_path / "archive"
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    moved = offload_bodies(engine, before=future, archive=str(archive), batch=7)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FILTER (WHERE body IS NOT NULL), count(*), "
                                 "count(*) FILTER (WHERE archive_url IS NOT NULL) FROM capture_bodies "
                                 "WHERE NOT EXISTS (SELECT 1 FROM listing_cache c WHERE c.body_sha256 = sha256)"
                                 )).one()
    assert moved.bodies == held[1] == held[2] > 0 and held[0] == 0
    assert len(list(archive.rglob("*.zlib"))) == moved.bodies
    assert offload_bodies(engine, before=future, archive=str(archive)).bodies == 0  # nothing left to move

    with engine.begin() as conn:  # forget the published partition, then parse it again from the archive
        conn.execute(text("DELETE FROM listing_sightings"))
        conn.execute(text("DELETE FROM listings"))
    reparsed = pipeline.run(day, "toko", assets=[pipeline.listings])
    assert reparsed.success, failure_message(reparsed)
    again = {t: rows for t, rows in dump(owner).items() if t != "capture_bodies"}
    owner.dispose()
    differing = [t for t in published if published[t] != again[t] and t != "search_events"]
    assert differing == [], {t: (published[t][:2], again[t][:2], len(published[t]), len(again[t])) for t in differing}

    assert restore_bodies(engine) == moved.bodies
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM capture_bodies WHERE body IS NULL")).scalar_one() == 0
