"""One code server per code location, shared by the front door's webserver and the daemon.

This is what ``dagster dev`` does (its ``ProxyServerManager``): the code servers run as
``dagster code-server start`` processes, restarted if they die, and a temporary workspace file
points every other process at them, so code is loaded once and "Reload definitions" in the UI
reloads it for the daemon too. Sockets live in a private (0700) temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from dagster import DagsterInstance
from dagster._cli.proxy_server_manager import ProxyServerManager
from dagster._core.workspace.load_target import WorkspaceFileTarget


@contextmanager
def shared_code_servers(workspace_file: Path, log_level: str = "warning") -> Iterator[Path]:
    """Start the code servers of ``workspace_file``; yield a workspace file that points at them."""
    with DagsterInstance.get() as instance, ProxyServerManager(
            instance=instance, workspace_load_target=WorkspaceFileTarget(paths=[str(workspace_file)]),
            code_server_log_level=log_level) as servers, tempfile.TemporaryDirectory(prefix="market-pulse-") as folder:
        shared = Path(folder) / "workspace.yaml"
        shared.write_text(yaml.safe_dump({"load_from": list(servers.get_code_server_specs())}))
        yield shared
