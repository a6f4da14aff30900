"""Property-based fuzzing of every endpoint from the API's own OpenAPI schema (schemathesis): on a
real server with a real key, no input makes it answer 5xx, and every answer (status, content type,
headers, body) is the one the schema documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from pipelines.on_demand.launcher import BackgroundSearches
from pipelines.on_demand.search import SearchResources
from pipelines.scraping.resources import BrowserFetcherResource, HttpFetcherResource
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.resources import VendorRegistry
from tests.support.api_server import add_users_and_keys, api_server, seed_api_market
from tests.support.databases import SessionRoles

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(database_url: str, test_roles: SessionRoles,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    seed_api_market(database_url)
    keys = add_users_and_keys(database_url)
    # On-demand searches run for real, on a vendor folder without files: each request ends at once
    # (its vendors are unknown to the folder, or there are none) instead of crawling for every example.
    searches = BackgroundSearches(resources=lambda: SearchResources(
        warehouse=Warehouse(database_url=database_url),
        registry=VendorRegistry(directory=str(tmp_path_factory.mktemp("no-vendors"))),
        http=HttpFetcherResource(), browser=BrowserFetcherResource()))
    with api_server(database_url, test_roles, searches=searches) as (url, _):
        yield url, keys


@pytest.fixture(scope="module")
def api_schema(fuzz_server: tuple[str, dict[str, str]], secret_key_for_module: str) -> Any:
    url, _ = fuzz_server
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    schema.config.base_url = url
    return schema


@pytest.fixture(scope="module")
def secret_key_for_module() -> Iterator[str]:
    """Saved searches seal their targets: the server needs a key (set for the whole module)."""
    import os

    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    before = os.environ.get("MARKET_PULSE_SECRET_KEY")
    os.environ["MARKET_PULSE_SECRET_KEY"] = key
    yield key
    if before is None:
        os.environ.pop("MARKET_PULSE_SECRET_KEY", None)
    else:
        os.environ["MARKET_PULSE_SECRET_KEY"] = before


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, from the app itself (no server needed)."""
    from web.app import create_front_door
    from web.config import load_config

    spec = create_front_door(load_config({}), "postgresql+psycopg://nobody@127.0.0.1/none").pages.openapi()
    return [(method.upper(), path) for path, methods in spec["paths"].items() for method in methods]


# Every check runs but "positive data acceptance": a schema-valid request may still be refused with a
# 422 the schema cannot foresee (a cursor the server never issued, an Apprise URL Apprise rejects);
# that it is a Problem Details 422 naming the field is checked by the other checks and tests/test_http_api.py.
# Each operation drives its own Hypothesis run (schemathesis' lazy pytest loader does not work with
# this pytest, so the strategies are taken from the loaded schema by hand).
@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_every_endpoint_holds_to_its_schema(api_schema: Any, fuzz_server: tuple[str, dict[str, str]],
                                            method: str, path: str) -> None:
    _, keys = fuzz_server
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def holds(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {keys['ana_write']}"},
                               excluded_checks=[positive_data_acceptance])

    holds()
