"""``market-pulse health``: is everything a run needs reachable and up to date, and does each
component connect with no more rights than it needs?"""

from __future__ import annotations

from typing import Any

from infra import migrate
from infra.database import DatabaseUnavailable, DatabaseUrls, connect, resolve_urls, server_version
from infra.embedded_postgres import EmbeddedPostgresError
from infra.roles import PURPOSE_LABELS, inspect_role
from infra.settings import APP, DAGSTER, OWNER, READONLY, Settings, redact, user_of


def role_report(urls: DatabaseUrls) -> dict[str, Any]:
    """Which role each component connects as; the pipeline's and the read-only role's rights.

    ``ok`` is false when the pipeline's role (the one every run uses) is a superuser, owns the
    schema or its tables, may create objects in it, or may run programs or read files on the
    server: readiness fails then.
    """
    report: dict[str, Any] = {"ok": False}
    for purpose in (APP, READONLY, OWNER, DAGSTER):
        report[PURPOSE_LABELS[purpose]] = {"role": user_of(urls.of(purpose))}
    for purpose in (APP, READONLY):
        entry = report[PURPOSE_LABELS[purpose]]
        try:
            with connect(urls.of(purpose)) as conn:
                entry.update(inspect_role(conn).as_dict())
        except DatabaseUnavailable as exc:
            entry["error"] = str(exc)
    pipeline = report[PURPOSE_LABELS[APP]]
    problems = pipeline.get("problems", [])
    if "error" in pipeline:
        report["error"] = pipeline["error"]
    elif problems:
        report["error"] = (f"the pipeline connects as {pipeline['role']}, which {' and '.join(problems)}: give it "
                           "a role with DML rights only (`market-pulse db roles --sql`)")
    else:
        report["ok"] = True
    return report


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
        database["server_version"] = server_version(urls.app)
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
        server_version(urls.dagster)  # connects and runs a query
        storage["ok"] = True
    except DatabaseUnavailable as exc:
        storage["error"] = str(exc)

    if database["ok"]:
        report["roles"] = role_report(urls)

    failed = [name for name in ("database", "migrations", "dagster_storage") if not report[name]["ok"]]
    report["healthy"] = not failed
    if failed:
        # The first failure is the cause; later ones usually follow from it.
        report["error"] = report[failed[0]].get("error", f"{failed[0]} check failed")
    return report


def check_readiness(settings: Settings, *, max_scrape_age_hours: float | None = None) -> dict[str, Any]:
    """Health plus what a process manager needs before sending work: Dagster's daemon alive,
    and each vendor's last successful scrape with its age (too old fails when a limit is set)."""
    import datetime as dt

    from dagster import DagsterInstance

    from infra.database import engine_for
    from pipelines.scraping.store import last_successful_scrapes

    report = check_health(settings)
    report["ready"] = False
    if not report["healthy"]:
        return report
    urls = resolve_urls(settings, start=False)
    daemon: dict[str, Any] = {"ok": False}
    report["daemon"] = daemon
    try:
        with DagsterInstance.get() as instance:
            statuses = instance.get_daemon_statuses()
        daemon["daemons"] = {kind: status.healthy for kind, status in statuses.items()}
        daemon["ok"] = bool(statuses) and all(status.healthy for status in statuses.values())
        if not daemon["ok"]:
            daemon["error"] = "Dagster daemon is not running or not heartbeating (start `market-pulse dev`)"
    except Exception as exc:  # an instance that cannot load is a not-ready answer, not a crash
        daemon["error"] = f"cannot read Dagster daemon heartbeats: {exc}"
    now = dt.datetime.now(dt.UTC)
    with engine_for(urls.app).connect() as conn:
        rows = last_successful_scrapes(conn)
    vendors: dict[str, Any] = {}
    stale = []
    for row in rows:
        age = (now - row.last_success).total_seconds() / 3600 if row.last_success else None
        vendors[row.name] = {"last_success": row.last_success.isoformat() if row.last_success else None,
                             "age_hours": round(age, 2) if age is not None else None}
        if max_scrape_age_hours is not None and (age is None or age > max_scrape_age_hours):
            stale.append(row.name)
    report["vendors"] = vendors
    roles_ok = report["roles"]["ok"]
    report["ready"] = roles_ok and daemon["ok"] and not stale
    if not roles_ok:
        report["error"] = report["roles"]["error"]
    elif not daemon["ok"]:
        report["error"] = daemon["error"]
    elif stale:
        report["error"] = (f"no successful scrape within {max_scrape_age_hours:g} h for: {', '.join(stale)}")
    return report
