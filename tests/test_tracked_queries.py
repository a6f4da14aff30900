"""Saved searches' queries join the queries a vendor's scrape runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from demo.server import running_demo
from pipelines.scraping.tracked_queries import tracked_queries
from tests.support.pipeline import ScrapingPipeline, failure_message


def test_merge_keeps_order_and_drops_duplicates() -> None:
    saved = {"toko": ["Pixel  7", "IPHONE"], None: ["canon eos", "pixel 7"], "chapin": ["xbox"]}
    assert tracked_queries("toko", ["iphone", "playstation"], saved) == ["iphone", "playstation", "Pixel 7",
                                                                          "canon eos"]
    assert tracked_queries("mercado", ["iphone"], {}) == ["iphone"]


def test_a_saved_search_query_is_scraped(fresh_database: str) -> None:
    with running_demo() as url:
        pipeline = ScrapingPipeline(fresh_database, url)
        pipeline.sync_vendors()
        with pipeline.warehouse.begin() as conn:
            user = conn.execute(text("INSERT INTO users (username, email) VALUES ('u', 'u@example.invalid') "
                                     "RETURNING id")).scalar_one()
            conn.execute(text("INSERT INTO saved_searches (user_id, name, query, criteria) "
                              "VALUES (:u, 'xbox', 'xbox series', CAST(:c AS jsonb))"),
                         {"u": user, "c": '{"vendors": ["toko"]}'})
        result = pipeline.run(dt.date(2026, 7, 1), "toko")
    assert result.success, failure_message(result)
    with pipeline.warehouse.connect() as conn:
        queries = set(conn.execute(text("SELECT query FROM searches")).scalars())
    assert queries == {"iphone", "samsung galaxy", "playstation", "xbox series"}
