"""Test hosts: a network namespace per worker, joined to the host by a veth pair.

``isolated_host(name, ports)`` makes a namespace with its own loopback and a veth pair
(``10.213.N.1`` on the host, ``10.213.N.2`` inside; no other route: nothing in it reaches
anything but the host's end), and two relays (``tests.support.tcp_relay``) so that the given
127.0.0.1 ports of the host answer on 127.0.0.1 inside the namespace too. A process started
with :meth:`TestHost.command` then sees the same URLs as the host, over a real network hop.

Without the rights to make namespaces (not root, no ``ip``) it yields a host that runs
commands as plain processes on this machine (``isolated`` is False); tests say which they got.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from infra.settings import PROJECT_ROOT

SUBNET = "10.213"


@dataclass
class NetHost:
    name: str
    isolated: bool
    address: str | None = None
    relays: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as run on this host (inside its namespace when isolated)."""
        return ["ip", "netns", "exec", self.name, *argv] if self.isolated else list(argv)


def netns_available() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _ip(*args: str, netns: str | None = None) -> None:
    command = ["ip", "netns", "exec", netns, "ip", *args] if netns else ["ip", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=20)


def _relay(argv: list[str], mappings: list[str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([*argv, sys.executable, "-m", "tests.support.tcp_relay", *mappings], cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if line != "ready":
        process.kill()
        raise RuntimeError(f"relay {mappings} did not start: {line!r}")
    return process


@contextmanager
def isolated_host(name: str, index: int, ports: Sequence[int]) -> Iterator[NetHost]:
    """A namespace ``name`` (index 1..250 picks its /30) whose 127.0.0.1:``ports`` reach the host's."""
    if not netns_available():
        yield NetHost(name=name, isolated=False)
        return
    host_end, inner_end = f"{name[:10]}h", f"{name[:10]}n"
    host_ip, inner_ip = f"{SUBNET}.{index}.1", f"{SUBNET}.{index}.2"
    with ExitStack() as cleanup:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", host_end], capture_output=True, check=False)
        cleanup.callback(subprocess.run, ["ip", "netns", "del", name], capture_output=True, check=False)
        cleanup.callback(subprocess.run, ["ip", "link", "del", host_end], capture_output=True, check=False)
        try:
            _ip("netns", "add", name)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", inner_end)
            _ip("link", "set", inner_end, "netns", name)
            _ip("addr", "add", f"{host_ip}/30", "dev", host_end)
            _ip("link", "set", host_end, "up")
            _ip("addr", "add", f"{inner_ip}/30", "dev", inner_end, netns=name)
            _ip("link", "set", inner_end, "up", netns=name)
            _ip("link", "set", "lo", "up", netns=name)
        except subprocess.CalledProcessError:  # root, but no network namespaces here (a container)
            yield NetHost(name=name, isolated=False)
            return
        host = NetHost(name=name, isolated=True, address=inner_ip)
        # host end of the veth -> the host's loopback services; namespace loopback -> host end
        outer = _relay([], [f"{host_ip}:{port}=127.0.0.1:{port}" for port in ports])
        inner = _relay(["ip", "netns", "exec", name], [f"127.0.0.1:{port}={host_ip}:{port}" for port in ports])
        host.relays += [outer, inner]
        for relay in (outer, inner):
            cleanup.callback(_stop, relay)
        yield host


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)
