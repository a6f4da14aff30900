"""Running the front door: the first admin, then uvicorn on the given address."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import uvicorn

from infra.database import engine_for
from web.accounts import FirstAdmin, ensure_admin
from web.api_v1.searches import SearchLauncher
from web.app import create_front_door
from web.config import FrontDoorConfig, read_admin_password


def ensure_first_admin(config: FrontDoorConfig, database_url: str) -> FirstAdmin | None:
    """Create the first admin when there is none (password from MARKET_PULSE_ADMIN_PASSWORD_FILE, or a
    one-time password to print once)."""
    with engine_for(database_url).begin() as conn:
        return ensure_admin(conn, read_admin_password(config))


def announce_first_admin(created: FirstAdmin | None, url: str) -> None:
    """Print the one-time password, once: it is not stored anywhere in clear."""
    if created is None:
        return
    if created.one_time_password is None:
        print(f"first start: created the admin user '{created.username}' with the password from "
              "MARKET_PULSE_ADMIN_PASSWORD_FILE", file=sys.stderr, flush=True)
        return
    line = "=" * 78
    print(f"\n{line}\nfirst start: log in at {url}/login as '{created.username}' with the one-time password\n\n"
          f"    {created.one_time_password}\n\n"
          f"It is shown only now; you choose your own password at the first login.\n{line}\n",
          file=sys.stderr, flush=True)


def serve(config: FrontDoorConfig, database_url: str, host: str, port: int,
          workspace_files: Sequence[str] | None, readonly_url: str | None = None,
          searches: SearchLauncher | None = None) -> None:
    config.check_bind(host)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("market_pulse.web").setLevel(logging.INFO)
    app = create_front_door(config, database_url, workspace_files, readonly_url, searches)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False,
                proxy_headers=bool(config.trusted_proxies), forwarded_allow_ips=config.trusted_proxies or None,
                timeout_graceful_shutdown=5)
