"""``market-pulse health``: is everything a run needs reachable and up to date?"""

from __future__ import annotations

from typing import Any

from resources import migrate
from resources.database import DatabaseUnavailable, connect, resolve_urls
from resources.embedded_postgres import EmbeddedPostgresError
from resources.settings import Settings, redact


def check_health(settings: Settings) -> dict[str, Any]:
    """A JSON-able report; ``healthy`` is true only when every check passed.

    Never starts anything: a health check that boots the server it is checking would lie.
    """
    report: dict[str, Any] = {"healthy": False, "embedded": settings.embedded}
    try:
        urls = resolve_urls(settings, start=False)
    except (DatabaseUnavailable, EmbeddedPostgresError, ValueError) as exc:
        report["database"] = {"ok": False, "error": str(exc)}
        report["error"] = str(exc)
        return report

    database: dict[str, Any] = {"ok": False, "url": redact(urls.app)}
    report["database"] = database
    try:
        with connect(urls.app) as conn:
            database["server_version"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        database["ok"] = True
    except DatabaseUnavailable as exc:
        database["error"] = str(exc)

    migrations: dict[str, Any] = {"ok": False, "head": migrate.head_revision()}
    report["migrations"] = migrations
    if database["ok"]:
        migrations["current"] = migrate.current_revision(urls.app)
        migrations["ok"] = migrations["current"] == migrations["head"]
        if not migrations["ok"]:
            migrations["error"] = "warehouse is not at the latest migration: run `market-pulse db migrate`"

    storage: dict[str, Any] = {"ok": False, "url": redact(urls.dagster)}
    report["dagster_storage"] = storage
    try:
        with connect(urls.dagster) as conn:
            conn.execute("SELECT 1")
        storage["ok"] = True
    except DatabaseUnavailable as exc:
        storage["error"] = str(exc)

    failed = [name for name in ("database", "migrations", "dagster_storage") if not report[name]["ok"]]
    report["healthy"] = not failed
    if failed:
        # The first failure is the cause; later ones usually follow from it.
        report["error"] = report[failed[0]].get("error", f"{failed[0]} check failed")
    return report
