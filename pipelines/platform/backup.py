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
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from sqlalchemy.engine import make_url

from infra.database import connect, server_version
from infra.embedded_postgres import binaries_dir
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


def restore(url: str, file: Path) -> Tool:
    """Replace the database at ``url`` with the contents of ``file`` (made by :func:`backup`).

    The database is dropped and created again, so nothing of the current state survives: a
    restore is a rollback to the moment of the backup.
    """
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    name = make_url(url).database
    if not name:
        raise BackupError(f"no database name in {redact(url)}")
    major = int(server_version(with_database(url, "postgres")).split(".")[0])
    tool = find_tool("pg_restore", major)
    listing = subprocess.run([str(tool.path), "--list", str(file)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{file} is not a pg_dump archive: {' '.join(listing.stderr.split())[:300]}")
    from infra.database import _ENGINES

    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()
    with connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    args, env = _libpq_env(url)
    _run([str(tool.path), *args, "-d", name, "--no-owner", "--exit-on-error", "--single-transaction", str(file)],
         env, f"pg_restore into {redact(url)}")
    return tool
