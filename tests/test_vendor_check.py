"""``market-pulse vendors check``: one page tried against a vendor file, nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cli.main import app
from cli.run import _selects_demo_vendor
from demo.catalogue import get_catalogue
from demo.server import running_demo
from infra.settings import PROJECT_ROOT, load_settings

VENDORS = PROJECT_ROOT / "vendors"


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as url:
        yield url


@pytest.fixture
def env(demo_url: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MARKET_PULSE_DEMO_URL", demo_url)
    monkeypatch.setenv("MARKET_PULSE_DATABASE_URL", database_url)
    return database_url


def _rows(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
    finally:
        engine.dispose()


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["vendors", "check", *args], env={"COLUMNS": "100"})
    return result.exit_code, result.output


def test_check_fetches_a_page_prints_its_listings_and_writes_nothing(env: str) -> None:
    before = _rows(env)
    code, output = check(str(VENDORS / "fynda.yaml"), "--query", "canon")
    assert code == 0, output
    assert "fynda: " in output and " is valid" in output
    assert "robots.txt: allowed by http://127.0.0.1:" in output
    assert "listings: 24 read, 0 skipped (24 found)" in output
    assert "pagination: page_number: next page http://127.0.0.1:" in output and "(has_next true)" in output
    today = dt.datetime.now(dt.UTC).date()  # no asof: the demo's today
    assert get_catalogue(42).search("fynda", "canon", today)[0].id in output
    assert _rows(env) == before, "vendors check wrote to the warehouse"


def test_a_page_robots_txt_disallows_is_not_fetched(env: str, tmp_path: Path) -> None:
    """fynda's JSON API is what a new user tries first; its robots.txt says no."""
    data = yaml.safe_load((VENDORS / "fynda.yaml").read_text())
    data["name"] = "fynda-api"
    data["search"]["url"] = "/api/search?q={query}&page={page}&asof={asof}"
    data["pagination"] = {"kind": "page_number", "has_next": {"json": "hasNextPage"}}
    data["extract"] = {"format": "json", "items": {"json": "hits"},
                       "fields": {"external_id": {"json": "id"}, "title": {"json": "heading"},
                                  "price": {"json": "price.formatted"}}}
    path = tmp_path / "fynda-api.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    code, output = check(str(path))
    assert code == 1
    assert "robots.txt: disallowed by http://127.0.0.1:" in output
    assert "warning: page not fetched: disallowed by robots.txt" in output


def test_a_saved_page_shows_skipped_items_unparsed_prices_and_unmapped_conditions(env: str, tmp_path: Path) -> None:
    data = yaml.safe_load((VENDORS / "toko.yaml").read_text())
    data["extract"]["fields"]["condition"]["map"] = {"Baru": "new"}  # "Bekas" left out
    path = tmp_path / "toko.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    page = PROJECT_ROOT / "tests" / "fixtures" / "pages" / "toko_search_p1.html"
    before = _rows(env)
    code, output = check(str(path), "--html", str(page))
    assert code == 0, output
    assert "robots.txt: not checked (saved page)" in output
    assert "listings: 3 read, 2 skipped (5 found)" in output
    assert "warning: unparsed price #3 (TG-000125): price: cannot parse 'Rp abc' (no amount found)" in output
    assert "warning: skipped listing #4 (TG-000126): title: missing" in output
    assert "warning: condition 'Bekas' is not in the vocabulary" in output
    assert "pagination: page_number: this is the last page" in output  # 5 < page_size 20
    assert _rows(env) == before


def test_an_invalid_file_prints_every_problem_and_fails(env: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text((VENDORS / "toko.yaml").read_text().replace("currency: IDR", "currency: IDX"))
    code, output = check(str(path))
    assert code == 1
    assert "currency: unknown currency code 'IDX' (not an ISO 4217 currency)" in output


def test_run_starts_the_demo_only_for_demo_vendors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    own = yaml.safe_load((VENDORS / "toko.yaml").read_text())
    own.update(name="myshop", base_url="https://shop.example/toko")
    (vendors / "myshop.yaml").write_text(yaml.safe_dump(own, allow_unicode=True))
    (vendors / "toko.yaml").write_text((VENDORS / "toko.yaml").read_text())
    monkeypatch.setenv("MARKET_PULSE_VENDORS_DIR", str(vendors))
    monkeypatch.setenv("MARKET_PULSE_DEMO_URL", "http://127.0.0.1:18766")
    settings = load_settings()
    assert _selects_demo_vendor(settings, ["myshop"]) is False
    assert _selects_demo_vendor(settings, ["myshop", "toko"]) is True
