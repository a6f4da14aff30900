"""A Market Pulse stack for the UI suite, started as `make run` starts it.

`market-pulse dev` runs in its own process group on a free port, with a fresh MARKET_PULSE_HOME
(a temporary folder) and the demo marketplace on a free port (``MARKET_PULSE_DEMO_URL``). The
databases are those of `make run`: the embedded PostgreSQL server under that home (stopped with
`market-pulse db down` afterwards), or, when ``$MARKET_PULSE_TEST_DATABASE_URL`` names a server
(CI's PostgreSQL 15 pass), two databases of our own there (dropped afterwards). The embedded
server deliberately lives outside pytest's shared temporary root: every pytest session that starts
resets /tmp/pytest-of-<user> to mode 0700, which cuts a running server's service user off from a
data folder under it when several sessions run at once.

The first admin logs in with the one-time password `dev` prints (and chooses a new one), then a
viewer and an operator are added with `market-pulse users add`; browser tabs log in through the
front door's login page.

There is no background history seed: one day of one vendor is scraped with ``market-pulse run``
before the browser opens, which is all the steps need.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.settings import PROJECT_ROOT, with_database, with_driver
from tests.support.dagster_ui import DevServer, free_port, running_dev_server
from tests.support.databases import SessionRoles
from tests.support.ui_browser import ARTIFACTS

PREFERRED_VENDOR = "toko"
TODAY = dt.datetime.now(dt.UTC).date()
# Every day the suite touches is older than the rollups' automation look-back (2 days), so the
# always-on `rollup_automation` sensor launches nothing on its own while the steps run.
SEEDED_DAY = TODAY - dt.timedelta(days=9)
"""Scraped headless before the browser opens (a rollup backfill window ends on it)."""
UI_DAY = TODAY - dt.timedelta(days=8)
"""Materialised from the launch dialog."""


ROLES = ("viewer", "operator")
"""Users made for the suite with `market-pulse users add --role ROLE` (the first admin exists already)."""


@dataclass(frozen=True)
class UiStack:
    server: DevServer
    env: dict[str, str]
    vendor: str
    passwords: dict[str, str]
    """User name (= role for the suite's users, and "admin") → password."""

    def login(self, user: str) -> tuple[str, str]:
        return user, self.passwords[user]

    @property
    def url(self) -> str:
        return self.server.url

    def cli(self, *args: str, log: str, timeout: float = 300) -> None:
        """Run ``market-pulse ARGS`` against this stack; its output goes to test-artifacts/ui/LOG."""
        path = ARTIFACTS / log
        with open(path, "wb") as out:
            done = subprocess.run([sys.executable, "-m", "cli", *args], cwd=PROJECT_ROOT, env=self.env,
                                  stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        assert done.returncode == 0, f"market-pulse {' '.join(args)} failed:\n{path.read_text()[-3000:]}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.server.log.read_text(errors="replace")[-chars:]


@contextmanager
def started_ui_stack(drop_database: Callable[[str, str], None]) -> Iterator[UiStack]:
    """The stack, seeded with ``SEEDED_DAY`` of one vendor; torn down (databases included) afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="market-pulse-ui-"))  # a first `make run`: nothing there yet
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    if os.environ.get("MARKET_PULSE_CHROMIUM"):
        env["MARKET_PULSE_CHROMIUM"] = os.environ["MARKET_PULSE_CHROMIUM"]
    env["MARKET_PULSE_HOME"] = str(home)
    env["MARKET_PULSE_DEMO_URL"] = f"http://127.0.0.1:{free_port()}"
    configured = os.environ.get("MARKET_PULSE_TEST_DATABASE_URL")
    server_url = with_database(with_driver(configured, "psycopg"), "postgres") if configured else None
    roles = SessionRoles.create(server_url, f"mpt_ui_{os.getpid()}") if server_url else None
    if roles is not None:  # one role per component, as `market-pulse db roles --sql` makes them
        env.update(roles.stack(f"mpt_ui_{os.getpid()}"))
    try:
        with running_dev_server(env, ARTIFACTS / "dev.log", seed_days=0) as server:
            server.wait_until_loaded()
            vendors = server.partition_keys("listings")["vendor"]
            vendor = PREFERRED_VENDOR if PREFERRED_VENDOR in vendors else vendors[0]
            stack = UiStack(server=server, env=env, vendor=vendor, passwords={"admin": server.admin_password})
            for role in ROLES:
                stack.passwords[role] = secrets.token_urlsafe(18)
                secret = home / f"{role}.password"
                secret.write_text(stack.passwords[role] + "\n")
                stack.cli("users", "add", role, "--email", f"{role}@example.com", "--role", role,
                          "--password-file", str(secret), log=f"users-add-{role}.log")
            stack.cli("run", "--date", SEEDED_DAY.isoformat(), "--vendor", vendor, log="seed.log")
            yield stack
    finally:
        if server_url and roles is not None:
            for url in (env["MARKET_PULSE_DATABASE_URL"], env["MARKET_PULSE_DAGSTER_DATABASE_URL"]):
                drop_database(server_url, url)
            roles.drop()
        else:
            subprocess.run([sys.executable, "-m", "cli", "db", "down"], cwd=PROJECT_ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
        shutil.rmtree(home, ignore_errors=True)
