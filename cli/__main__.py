"""`python -m cli` runs the `market-pulse` command (how tests and child processes start it)."""

from cli.main import app

app()
