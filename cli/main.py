"""``market-pulse``: the command line for running, inspecting and operating Market Pulse.

Each command or group lives in its own module; this one only registers them (one line each).
"""

from __future__ import annotations

import typer

from cli.accounts import keys_app, users_app
from cli.alerts import alerts_app, notifications
from cli.db import db_app
from cli.demo import demo_app
from cli.dev import dev, web_serve
from cli.errors import fail
from cli.jobs import jobs
from cli.operations import backup, health, restore
from cli.products import products_app
from cli.prune import prune
from cli.run import run
from cli.search import search
from cli.secrets import secrets_app
from cli.serve import serve, worker
from cli.sessions import sessions_app
from cli.vendors import vendors_app
from infra.settings import load_settings

app = typer.Typer(help="Market Pulse: price intelligence for online marketplaces.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


@app.callback()
def check_settings() -> None:
    """Market Pulse: price intelligence for online marketplaces."""
    try:
        load_settings()  # a malformed setting (e.g. NAME and NAME_FILE both set) is one line, for every command
    except ValueError as exc:
        raise fail(str(exc)) from None


# Commands, in the order `market-pulse --help` lists them.
app.command("health")(health)  # cli/operations.py
app.command("backup")(backup)
app.command("restore")(restore)
app.command("prune")(prune)  # cli/prune.py: retention and the body archive
app.command("jobs")(jobs)  # cli/jobs.py
app.command("notifications")(notifications)  # cli/alerts.py
app.command("serve")(serve)  # cli/serve.py: the processes of a deployment past one laptop
app.command("worker")(worker)
app.command("run")(run)  # cli/run.py
app.command("search")(search)  # cli/search.py: on-demand search with live progress
app.command("dev")(dev)  # cli/dev.py
app.command("web")(web_serve)

# Command groups, listed after the commands.
app.add_typer(db_app, name="db")  # cli/db.py
app.add_typer(secrets_app, name="secrets")  # cli/secrets.py
app.add_typer(demo_app, name="demo")  # cli/demo.py
app.add_typer(sessions_app, name="sessions")  # cli/sessions.py
app.add_typer(vendors_app, name="vendors")  # cli/vendors.py
app.add_typer(users_app, name="users")  # cli/accounts.py: people and their UI logins
app.add_typer(keys_app, name="keys")  # cli/accounts.py: API keys
app.add_typer(alerts_app, name="alerts")  # cli/alerts.py: saved searches and alerts
app.add_typer(products_app, name="products")  # cli/products.py


if __name__ == "__main__":
    app()
