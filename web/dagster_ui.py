"""Dagster's own webserver, mounted in the front door's process, with per-request permissions.

Dagster's webserver is a Starlette app built on a ``WorkspaceProcessContext``; every GraphQL
request asks that context for a request context, and the request context's ``read_only`` flag is
what ``dagster-webserver --read-only`` sets for everybody. Here it is set per request from the
principal the front door authenticated: viewers get Dagster's read-only UI (launch buttons and
switches disabled, permission-checked mutations refused by Dagster itself), operators and admins the
full one. Mounting in process rather than proxying to a separate webserver means no Dagster
webserver listens on any port, so there is nothing to reach around the front door.

These are Dagster's internal classes (``dagster._core``); Dagster is pinned to 1.13.x and the front
door's tests fail if their contract changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dagster import DagsterInstance
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster_webserver.app import create_app_from_workspace_process_context
from dagster_webserver.version import __version__ as webserver_version
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from web.accounts import role_at_least

PRINCIPAL_SCOPE_KEY = "market_pulse.principal"
"""Where the front door puts the authenticated :class:`web.sessions.Principal` in the ASGI scope."""

# dagster-webserver's defaults for a long-running server's storage connections.
DB_STATEMENT_TIMEOUT_MS = 15_000
DB_POOL_RECYCLE_S = 3600
DB_POOL_MAX_OVERFLOW = 20


def may_operate(source: Any) -> bool:
    """True only for a connection the front door authenticated as operator or admin."""
    if not isinstance(source, HTTPConnection):
        return False
    principal = source.scope.get(PRINCIPAL_SCOPE_KEY)
    return principal is not None and role_at_least(principal.role, "operator")


class RoleAwareWorkspace(WorkspaceProcessContext):
    """A workspace whose request contexts are read-only unless the request comes from an operator."""

    def create_request_context(self, source: object | None = None) -> WorkspaceRequestContext:
        return WorkspaceRequestContext(
            instance=self.instance,
            current_workspace=self.get_current_workspace(),
            process_context=self,
            version=self.version,
            source=source,
            read_only=not may_operate(source),
        )


@contextmanager
def dagster_webserver_app(workspace_files: Sequence[str]) -> Iterator[Starlette]:
    """Dagster's webserver ASGI app on ``$DAGSTER_HOME``'s instance and the given workspace files;
    code locations are loaded on entry and released on exit."""
    instance = DagsterInstance.get()
    instance.optimize_for_webserver(DB_STATEMENT_TIMEOUT_MS, DB_POOL_RECYCLE_S, DB_POOL_MAX_OVERFLOW)
    with instance, RoleAwareWorkspace(instance, WorkspaceFileTarget(paths=list(workspace_files)),
                                      version=webserver_version, code_server_log_level="warning") as workspace:
        yield create_app_from_workspace_process_context(workspace)
