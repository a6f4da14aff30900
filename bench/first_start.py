"""First start: how long until the demo history is all there, rollups included.

For each mode, on a fresh ``MARKET_PULSE_HOME`` (embedded PostgreSQL created by the first command,
not timed): ``market-pulse dev --seed-days 0`` is started (front door, Dagster daemon, shared code
servers, as ``make run`` starts them), and once the UI answers, ``market-pulse demo seed --days N``
is timed until it returns, which is when the rollups' backfill has been run by the daemon.

Modes: ``runs`` (``--runs``: a Dagster run per (day, vendor) partition, what the first start did
before) and ``seed`` (the default: ``pipelines.platform.history_seed``, each vendor's days through
one session, partitions reported without a run each). Besides wall time, CPU seconds are summed over
the seed command's processes, the embedded PostgreSQL server and the Dagster daemon with its run
workers (deltas over the timed part), so the comparison holds on a loaded machine.

Run: ``uv run python bench/first_start.py [--days 30] [--mode seed --mode runs]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
EXE = str(ROOT / ".venv" / "bin" / "market-pulse")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_of(procs: list[psutil.Process]) -> float:
    """CPU seconds (own and reaped children's) of ``procs``."""
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return total


def server_and_services(home: str, dev: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The embedded server's postmaster (its exited backends are in its children's times) and the
    processes ``dev`` started (daemon, front door, code servers), not other users' processes."""
    postmaster = [p for p in psutil.process_iter(["cmdline"])
                  if f"{home}/postgres" in " ".join(p.info["cmdline"] or [])]
    return [*postmaster, *psutil.Process(dev.pid).children(recursive=True)]


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:  # any answer (the front door asks for a login) means it is up
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def one_mode(mode: str, days: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mp-first-start-") as home:
        env = {**os.environ, "MARKET_PULSE_HOME": home,
               "MARKET_PULSE_DEMO_URL": f"http://127.0.0.1:{free_port()}",
               "MARKET_PULSE_CODE_SERVER_PORT": str(free_port())}
        for name in ("DAGSTER_HOME", "MARKET_PULSE_DATABASE_URL", "MARKET_PULSE_OWNER_DATABASE_URL"):
            env.pop(name, None)
        subprocess.run([EXE, "db", "up"], env=env, cwd=ROOT, check=True, capture_output=True)
        port = free_port()
        dev = subprocess.Popen([EXE, "dev", "--port", str(port), "--seed-days", "0"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_http(f"http://127.0.0.1:{port}/", 300)
            load = os.getloadavg()
            watched = server_and_services(home, dev)
            cpu0 = cpu_of(watched)
            own0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            seed = subprocess.run([EXE, "demo", "seed", "--days", str(days), *(["--runs"] if mode == "runs" else [])],
                                  env=env, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            own1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu1 = cpu_of(watched)
            own = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
            last = (seed.stdout.strip().splitlines() or [""])[-1]
            print(f"{mode:5s} {days:3d} days: {seconds:6.1f} s wall, CPU {own:6.1f} s seed command + "
                  f"{cpu1 - cpu0:6.1f} s postgres and dev's services, exit {seed.returncode}, load at start "
                  f"{load[0]:.1f}; {last}", flush=True)
            if seed.returncode != 0:
                print(seed.stderr[-2000:], file=sys.stderr)
        finally:
            children = psutil.Process(dev.pid).children(recursive=True)  # services run in their own sessions
            os.killpg(dev.pid, signal.SIGINT)
            try:
                dev.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(dev.pid, signal.SIGKILL)
            for child in children:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            subprocess.run([EXE, "db", "down"], env=env, cwd=ROOT, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--mode", action="append", choices=["seed", "runs"], help="default: seed, then runs")
    opts = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for mode in opts.mode or ["seed", "runs"]:
        one_mode(mode, opts.days)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
