"""``market-pulse vendors check``: try a vendor file on one search page, writing nothing."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra.settings import load_settings
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.loading import load_vendor_file

if TYPE_CHECKING:
    from rich.table import Table

    from pipelines.scraping.vendor_check import VendorCheck

vendors_app = typer.Typer(help="Vendor files: try one before the pipeline runs it.", no_args_is_help=True)


@vendors_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The vendor file, e.g. vendors/myshop.yaml.", exists=True,
                                         dir_okay=False)],
    query: Annotated[str | None, typer.Option("--query", help="Search for this (default: the file's first "
                                              "query).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Read this saved page instead of fetching one "
                                              "(its links resolve against the search URL).", exists=True,
                                              dir_okay=False)] = None,
) -> None:
    """Validate FILE, fetch one search page (or read a saved one) and show what it extracts.

    The page is fetched as a scheduled scrape would fetch it (robots.txt, rate limit, user agent,
    browser for JS shops). Nothing is written to the warehouse. Exits 1 when the file is invalid
    or the page gives no listings.
    """
    from rich.console import Console

    from pipelines.platform.demo_service import demo_available, is_demo_vendor
    from pipelines.scraping.vendor_check import check_vendor
    from pipelines.vendors.resources import DEMO_DEFAULT_URL, rebase

    try:
        vendor = load_vendor_file(file)
    except VendorConfigError as exc:
        for line in exc.errors:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    demo_url = load_settings().demo_url
    if demo_url != DEMO_DEFAULT_URL:
        vendor = rebase(vendor, DEMO_DEFAULT_URL, demo_url)
    needs_demo = html is None and is_demo_vendor(vendor, demo_url)
    with demo_available(demo_url) if needs_demo else contextlib.nullcontext(False) as started:
        if started:
            typer.echo(f"started the demo marketplace at {demo_url} for this check", err=True)
        report = check_vendor(vendor, query=query, saved_page=html)
    console = Console(width=max(Console().width, 80))
    console.print(f"[bold]{vendor.name}[/bold]: {file} is valid")
    status = f" (HTTP {report.status})" if report.status is not None else ""
    console.print(f"page: {report.url} [{report.source}{status}]", markup=False, soft_wrap=True)
    console.print(f"robots.txt: {report.robots}", markup=False)
    if report.extraction is not None:
        page = report.extraction
        console.print(f"listings: {len(page.items)} read, {len(page.failures)} skipped "
                      f"({page.item_count_seen} found)")
        console.print(f"pagination: {report.pagination}", markup=False, soft_wrap=True)
        if page.items:
            console.print(_table(report))
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {_escape(warning)}")
    if not report.ok:
        raise typer.Exit(1)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _table(report: VendorCheck) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True, collapse_padding=True, padding=(0, 1))
    columns: tuple[tuple[str, dict], ...] = (
        ("#", {"justify": "right", "min_width": 2}), ("id", {"min_width": 9}), ("title", {"ratio": 1, "min_width": 12}),
        ("price", {"justify": "right", "min_width": 12}), ("condition", {"min_width": 9}), ("sold", {"min_width": 4}),
        ("img", {"justify": "right", "min_width": 3}), ("attr", {"justify": "right", "min_width": 4}))
    for column, options in columns:
        table.add_column(column, overflow="ellipsis", no_wrap=True, **options)
    for item in report.items:
        price = "on request" if item.price is None else f"{item.price} {item.currency}"
        condition = item.condition or (f"? {item.unmapped_condition}" if item.unmapped_condition else "")
        table.add_row(str(item.position), item.external_id, item.title, price, condition,
                      "yes" if item.sold else "", str(len(item.images)), str(len(item.attributes)))
    return table
