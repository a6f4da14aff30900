"""``market-pulse search``: the HTTP API's on-demand search from the command line, with live progress."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import typer

from cli.errors import fail
from cli.run import _selects_demo_vendor, headless_runner, pick_vendors
from infra.settings import load_settings


def search(
    query: Annotated[str, typer.Argument(help="What to search the shops for, e.g. \"iphone 15\".")],
    vendor: Annotated[list[str] | None, typer.Option("--vendor", help="Only this vendor (repeatable; default: "
                                                     "every vendor).")] = None,
    max_age: Annotated[int, typer.Option("--max-age", min=0, help="Minutes: show an identical search this recent "
                                         "instead of searching again (0: always search now).")] = 0,
    show: Annotated[int, typer.Option("--show", min=0, help="Listings to print per vendor.")] = 5,
) -> None:
    """Search the shops now: each vendor's pages are fetched with its politeness rules, archived and
    published into today's partitions (as the day's scrape would), and shown as they come."""
    from pipelines.on_demand import store
    from pipelines.on_demand.query import clean_query, query_key, vendor_set
    from pipelines.on_demand.search import SearchResources, run_search
    from pipelines.platform.demo_service import demo_available
    from pipelines.platform.runner import built_resources

    if not query.strip():
        raise fail("the query is empty")
    runner = headless_runner()
    vendors = vendor_set(pick_vendors(runner, vendor) if vendor else [])
    settings = load_settings()
    needs_demo = _selects_demo_vendor(settings, vendors or runner.vendors)
    printer = _Printer(show)
    with built_resources(runner.definitions, runner.instance) as built, \
            demo_available(settings.demo_url) if needs_demo else contextlib.nullcontext(False) as started:
        if started:
            typer.echo(f"started the demo marketplace at {settings.demo_url} for this search", err=True)
        resources = SearchResources.of(built, runner.instance)
        with resources.warehouse.begin() as conn:
            earlier = store.fresh_request(conn, query_key=query_key(query), vendors=vendors, max_age_minutes=max_age,
                                          user_id=None)
            if earlier is None:
                request_id = store.create_request(conn, query=clean_query(query), query_key=query_key(query),
                                                  vendors=vendors)
        if earlier is not None:
            typer.echo(f"an identical search (#{earlier}) is younger than {max_age} min: its results", err=True)
            with resources.warehouse.connect() as conn:
                for event in store.events_after(conn, earlier, 0, limit=10_000):
                    printer(event.event_type, event.vendor, event.data)
            return
        typer.echo(f"search #{request_id}: {clean_query(query)!r}", err=True)
        summary = run_search(resources, request_id, listener=printer)
    if summary.status == "failed":
        raise fail("every vendor failed: " + "; ".join(summary.errors))


class _Printer:
    """One line per event as it comes; a vendor's first listings under its results."""

    def __init__(self, show: int) -> None:
        self.show = show

    def __call__(self, event_type: str, vendor: str | None, data: dict[str, Any]) -> None:
        if event_type == "started":
            typer.echo(f"{vendor}: searching ({data['partition']})")
        elif event_type == "page":
            problem = f": {data['error']}" if data.get("error") else ""
            typer.echo(f"{vendor}: page {data['page']}, {data['items']} listings{problem}")
        elif event_type == "results":
            typer.echo(f"{vendor}: {data['count']} results from {data['pages']} page(s) in {data['seconds']} s"
                       + (" (pages from the search cache)" if data.get("cache_hit") else ""))
            for item in data["listings"][:self.show]:
                price = f"{item['price']} {item['currency']}" if item["price"] is not None else "no price"
                typer.echo(f"    {price:>16}  {item['title']}  (listing {item['id']})")
        elif event_type == "error":
            typer.echo(f"{vendor}: error: {data['message']}")
        elif event_type == "done":
            typer.echo(f"done ({data['status']}): {data['results']} results from {data['pages']} page(s)"
                       + (f", {data['failed']} of {data['vendors']} vendors failed" if data.get("failed") else ""))
