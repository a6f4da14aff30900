"""``market-pulse products``: show how listings were matched, and correct it.

Decisions are stored (``product_decisions``) and win over every rule on every re-match, so a
correction survives re-materialising ``product_matches`` and changes to the rules.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import Engine

from cli.errors import fail
from infra.database import DatabaseUnavailable, engine_for, resolve_urls
from infra.embedded_postgres import EmbeddedPostgresError
from infra.settings import load_settings
from pipelines.products.store import DecisionError, merge_products, product_report, split_listings

products_app = typer.Typer(help="Products: how listings were matched; merge or split them by hand.",
                           no_args_is_help=True)

EXPECTED = (DecisionError, DatabaseUnavailable, EmbeddedPostgresError, ValueError)

DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="Warehouse URL (default: configured).",
                                                    envvar="MARKET_PULSE_DATABASE_URL", show_envvar=False)]
NoteOption = Annotated[str | None, typer.Option(help="Why (kept with the decision).")]


def _engine(database_url: str | None) -> Engine:
    return engine_for(database_url or resolve_urls(load_settings()).app)


@products_app.command("show")
def show_command(product: Annotated[str, typer.Argument(help="Product id or key.")],
                 database_url: DatabaseOption = None) -> None:
    """PRODUCT and its listings: vendor, price, how each was matched (method, score), decisions."""
    try:
        with _engine(database_url).connect() as conn:
            p, listings = product_report(conn, product)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"product {p.id}  {p.product_key}\n  name: {p.name}\n  brand: {p.brand or '-'}  category: "
               f"{p.category or '-'}  code: {p.product_code or '-'}  gtins: {', '.join(p.attributes.get('gtins', []))}")
    typer.echo(f"  {len(listings)} listing(s)")
    for r in listings:
        score = f"{r.match_score:.2f}" if r.match_score is not None else "-"
        price = f"{r.price} {r.currency}" if r.price is not None else "-"
        decision = f"  [{r.decision}]" if r.decision else ""
        typer.echo(f"  {r.id:>8}  {r.vendor:<12} {r.match_method or '-':<7} {score:>5}  {price:>14}  "
                   f"{r.title}{decision}")


@products_app.command("merge")
def merge_command(target: Annotated[str, typer.Argument(help="Product id or key that stays.")],
                  sources: Annotated[list[str], typer.Argument(help="Product ids or keys whose listings move.")],
                  note: NoteOption = None, database_url: DatabaseOption = None) -> None:
    """Put every listing of SOURCES on TARGET, and keep them there on every re-match."""
    try:
        with _engine(database_url).begin() as conn:
            moved = merge_products(conn, target, sources, note)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{moved} listing(s) now on {target} (decision stored)")


@products_app.command("split")
def split_command(listings: Annotated[list[int], typer.Argument(help="Listing ids that are another product.")],
                  note: NoteOption = None, database_url: DatabaseOption = None) -> None:
    """Make LISTINGS a product of their own, kept apart on every re-match."""
    try:
        with _engine(database_url).begin() as conn:
            key = split_listings(conn, listings, note)
    except EXPECTED as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{len(listings)} listing(s) now on {key} (decision stored)")
