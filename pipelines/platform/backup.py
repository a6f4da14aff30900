"""``market-pulse backup`` / ``restore``: the warehouse to one file and back, with pg_dump/pg_restore.

The binaries are chosen to match the server: the embedded package ships PostgreSQL 18's; for
another server we prefer a client of the same major version (``/usr/lib/postgresql/N/bin``),
then any newer one. A newer pg_dump reads older servers, but its archives may carry settings an
older server does not know, so an exact match is preferred.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from infra import migrate
from infra.database import DatabaseUrls, connect, server_version
from infra.embedded_postgres import binaries_dir
from infra.roles import RoleError, RoleNames, adopt, apply, schema_steps, warehouse_database_steps
from infra.settings import redact, with_database


class BackupError(RuntimeError):
    """A backup or restore failed; the message is one readable paragraph."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int


def _major(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def find_tool(name: str, server_major: int) -> Tool:
    """The ``pg_dump``/``pg_restore`` best suited to a server of ``server_major``."""
    candidates = [binaries_dir() / name, *map(Path, sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")))]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    tools = [Tool(path, major) for path in candidates if path.exists()
             for major in [_major(path)] if major is not None and major >= server_major]
    if not tools:
        raise BackupError(f"no {name} of PostgreSQL {server_major} or newer found; install the client tools")
    return min(tools, key=lambda tool: (tool.major != server_major, tool.major))


def _libpq_env(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the client tools; the password goes through the environment."""
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    if parsed.username:
        args += ["-U", parsed.username]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:800]
        raise BackupError(f"{what} failed: {detail}")


def backup(url: str, file: Path) -> Tool:
    """Dump the database at ``url`` to ``file`` (custom format, compressed), readable by this user
    only (mode 0600): a backup holds everything the warehouse holds."""
    major = int(server_version(url).split(".")[0])
    tool = find_tool("pg_dump", major)
    args, env = _libpq_env(url)
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # pg_dump keeps the mode
    _run([str(tool.path), *args, "-d", make_url(url).database or "", "-Fc", "--no-owner", "-f", str(partial)],
         env, f"pg_dump of {redact(url)}")
    partial.replace(file)  # a crash mid-dump never leaves a truncated file under the real name
    return tool


RESTORE_SUFFIX = "_restoring"
REPLACED_SUFFIX = "_replaced"


def restore(url: str, file: Path, roles: RoleNames | None = None) -> Tool:
    """Replace the database at ``url`` with the contents of ``file`` (made by :func:`backup`).

    The file is restored into a new database next to the warehouse, checked there (a Market
    Pulse warehouse at a revision this code knows, brought up to the current schema and
    matching the models exactly), and only then swapped in under the warehouse's name; the old
    database is dropped last. A truncated, damaged or foreign file fails before the swap and
    leaves the warehouse as it was. A restore is a rollback to the moment of the backup: what
    was written since is gone.

    ``roles``: the deployment's roles, given when ``url``'s role is not the schema owner (a DBA
    restoring as a role that may create databases): before the swap, everything restored or
    migrated is handed to ``roles.owner`` and the app and read-only roles get their rights again,
    as ``db roles --sql`` sets them up, whatever the backup itself carried (a backup made before
    the roles existed carries none).
    """
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    name = make_url(url).database
    if not name:
        raise BackupError(f"no database name in {redact(url)}")
    server = with_database(url, "postgres")
    major = int(server_version(server).split(".")[0])
    tool = find_tool("pg_restore", major)
    listing = subprocess.run([str(tool.path), "--list", str(file)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{file} is not a pg_dump archive, or is truncated or damaged: "
                          f"{' '.join(listing.stderr.split())[:300]}")

    staging = _side_name(name, RESTORE_SUFFIX)
    staging_url = with_database(url, staging)
    try:
        with connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(staging)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(staging)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BackupError(
            f"{make_url(url).username or 'this role'} may not create the database the backup is restored into "
            f"({' '.join(str(exc).split())}): set MARKET_PULSE_OWNER_DATABASE_URL to a role that may "
            "create databases; nothing was changed") from None
    try:
        args, env = _libpq_env(url)
        _run([str(tool.path), *args, "-d", staging, "--no-owner", "--exit-on-error", "--single-transaction",
              str(file)], env, f"pg_restore of {file} (truncated or damaged?)")
        _verify(staging_url, file)
        if roles is not None:
            adopt(server, staging, roles.owner)
            apply(server, [*warehouse_database_steps(roles, staging), *schema_steps(roles, staging)])
    except BaseException:
        _forget_engine(staging_url)
        with connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(staging)))
        raise
    _forget_engine(staging_url)
    _swap(server, name, staging)
    return tool


def _side_name(name: str, suffix: str) -> str:
    """A database name next to ``name`` (Postgres names are at most 63 bytes)."""
    return name[: 63 - len(suffix)] + suffix


def _forget_engine(url: str) -> None:
    from infra.database import _ENGINES

    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def _verify(url: str, file: Path) -> None:
    """The restored database is a Market Pulse warehouse this code can run on, or BackupError."""
    with connect(url) as conn:
        found = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
        revisions = [r for (r,) in conn.execute("SELECT version_num FROM alembic_version")] if found and found[0] \
            else None
    if revisions is None:
        raise BackupError(f"{file} is not a Market Pulse warehouse backup (no alembic_version table)")
    if len(revisions) != 1 or not migrate.is_known_revision(revisions[0]):
        raise BackupError(f"{file} is not a warehouse this version knows: its schema revision is "
                          f"{', '.join(revisions) or 'missing'} (known: {', '.join(migrate.known_revisions())})")
    try:
        migrate.upgrade(url)
        migrate.check(url)
    except Exception as exc:
        detail = " ".join(str(exc).split())[:300]
        raise BackupError(f"{file} does not match this version's warehouse schema: {detail}") from None


def _swap(server: str, name: str, staging: str) -> None:
    """Rename the verified database into place, in one transaction, with no one connected to
    the old one; then drop the old one. If the renames fail, the warehouse stays as it was."""
    replaced = _side_name(name, REPLACED_SUFFIX)
    ident = sql.Identifier
    _forget_engine(with_database(server, name))
    with connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(ident(staging), ident(name)))
            return  # nothing to replace (a first install restored from a backup)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident(replaced)))
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident(name)))
        try:
            _disconnect_everyone(conn, name)
            with conn.transaction():
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(ident(name), ident(replaced)))
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(ident(staging), ident(name)))
        except BaseException:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(ident(name)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident(staging)))
            raise
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident(replaced)))


def _disconnect_everyone(conn: Any, name: str, timeout_s: float = 10.0) -> None:
    """End every session on ``name`` (new ones are already refused) and wait until they are gone."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()[0]
        if not left:
            return
        if time.monotonic() > deadline:
            raise BackupError(f"{left} sessions on {name} did not end within {timeout_s:.0f}s; nothing was replaced")
        time.sleep(0.05)


def deployment_roles(urls: DatabaseUrls) -> RoleNames | None:
    """The roles a configured server's warehouse runs with: the owner of the warehouse database as
    it is now, and the users of the app, read-only and Dagster URLs; ``None`` for a deployment
    that uses one role for several purposes (nothing to hand over then)."""
    with connect(urls.owner) as conn:
        row = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                           ).fetchone()
    owner = row[0] if row else make_url(urls.owner).username
    try:
        return RoleNames(owner=owner or "", app=make_url(urls.app).username or "",
                         readonly=make_url(urls.readonly).username or "", dagster=make_url(urls.dagster).username or "")
    except RoleError:
        return None
