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

CPU by process (``--by-process``, on with ``--profile``): every 0.5 s the seed command's process
tree and ``dev``'s are sampled and each process's CPU seconds kept, grouped by what it is (the seed
command's main process, its publish workers, Playwright's node driver, Chromium; the daemon, its run
workers, the code servers, the front door, the demo marketplace); PostgreSQL is its postmaster with
every backend, live or reaped. A process that ends between two samples loses at most 0.5 s of CPU.
``--profile DIR`` also runs the seed command through ``bench/seed_profile.py`` (its CPU by phase and
pyinstrument profiles of its main process and publish workers, in DIR).

Run: ``uv run python bench/first_start.py [--days 30] [--mode seed --mode runs] [--profile DIR]``.
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
import threading
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


def kind_of(cmdline: str, name: str) -> str:
    """What a process of the first start is, from its command line."""
    if "postgres" in name or "postgres:" in cmdline:
        return "postgres"
    for needle, kind in (("chrom", "chromium"), ("node", "node (playwright driver)"),
                         ("multiprocessing", "python workers"), ("demo.server", "demo marketplace"),
                         ("dagster-daemon", "dagster daemon"), ("execute_run", "dagster run workers"),
                         ("execute_step", "dagster run workers"), ("api grpc", "code servers"),
                         ("code-server", "code servers"), ("grpc", "code servers")):
        if needle in cmdline or needle in name:
            return kind
    return "other: " + (cmdline.split(" ")[1:2] or [name])[0][-40:] if cmdline else name


class CpuSampler:
    """CPU seconds per process of the trees under ``roots`` (sampled), grouped by kind."""

    def __init__(self, roots: dict[str, int], postmaster: list[psutil.Process]) -> None:
        self.roots, self.postmaster = roots, postmaster
        self.seen: dict[int, tuple[str, float]] = {}
        self.cmdlines: dict[int, str] = {}
        self.parents: dict[int, int] = {}
        self.base: dict[int, float] = {}
        self.stop = threading.Event()
        self.pg0 = self.postgres()
        self.sample(base=True)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def postgres(self) -> float:
        total = cpu_of(self.postmaster)
        for proc in self.postmaster:
            with contextlib.suppress(psutil.Error):
                for child in proc.children():
                    t = child.cpu_times()
                    total += t.user + t.system
        return total

    def sample(self, base: bool = False) -> None:
        for group, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc in procs:
                try:
                    t = proc.cpu_times()
                    cmdline = self.cmdlines.get(proc.pid) or " ".join(proc.cmdline())
                    kind = kind_of(cmdline, proc.name())
                except psutil.Error:
                    continue
                self.cmdlines[proc.pid] = cmdline
                self.parents.setdefault(proc.pid, proc.ppid())
                label = f"{group}: main process" if proc.pid == pid and group == "seed" else f"{group}: {kind}"
                if base:
                    self.base[proc.pid] = t.user + t.system
                self.seen[proc.pid] = (label, t.user + t.system)

    def loop(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()

    def finish(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        self.sample()
        out: dict[str, float] = {}
        for pid, (label, cpu) in self.seen.items():
            out[label] = out.get(label, 0.0) + cpu - self.base.get(pid, 0.0)
        out["postgres (postmaster and backends)"] = self.postgres() - self.pg0
        return dict(sorted(out.items()))

    def top(self, n: int = 12) -> list[tuple[float, int, str]]:
        """The ``n`` processes that used the most CPU: (seconds, pid, command line)."""
        used = [(cpu - self.base.get(pid, 0.0), pid, self.cmdlines.get(pid, "")) for pid, (_, cpu) in self.seen.items()]
        return sorted(used, reverse=True)[:n]


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


def one_mode(mode: str, days: int, by_process: bool = False, profile: Path | None = None) -> None:
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
            command = [EXE, "demo", "seed", "--days", str(days), *(["--runs"] if mode == "runs" else [])]
            if profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
                env["MP_SEED_PROFILE_DIR"] = str(profile)
                command = [sys.executable, str(ROOT / "bench" / "seed_profile.py"), *command[1:]]
            seed_proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
            sampler = (CpuSampler({"seed": seed_proc.pid, "dev": dev.pid},
                                  [p for p in watched if p.pid not in {c.pid for c in psutil.Process(dev.pid)
                                                                       .children(recursive=True)}])
                       if by_process or profile is not None else None)
            out, err = seed_proc.communicate()
            seed = subprocess.CompletedProcess(command, seed_proc.returncode, out, err)
            seconds = time.perf_counter() - t0
            split = sampler.finish() if sampler is not None else {}
            own1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu1 = cpu_of(watched)
            own = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
            last = (seed.stdout.strip().splitlines() or [""])[-1]
            print(f"{mode:5s} {days:3d} days: {seconds:6.1f} s wall, CPU {own:6.1f} s seed command + "
                  f"{cpu1 - cpu0:6.1f} s postgres and dev's services, exit {seed.returncode}, load at start "
                  f"{load[0]:.1f}; {last}", flush=True)
            if split:
                partitions = days * 5
                print(f"  CPU seconds by process ({partitions} partitions; per partition in brackets):")
                for label, cpu in split.items():
                    print(f"    {label:45s} {cpu:8.1f} s  ({cpu / partitions:5.2f} s)")
                print(f"    {'total':45s} {sum(split.values()):8.1f} s  ({sum(split.values()) / partitions:5.2f} s)")
                print("  the processes that used most:")
                for cpu, pid, cmdline in sampler.top() if sampler is not None else []:
                    parent = sampler.parents.get(pid, 0)
                    print(f"    {cpu:7.1f} s  {pid:7d}  {cmdline[:110]}  (parent {parent}: "
                          f"{sampler.cmdlines.get(parent, '?')[-90:]})")
                jobs = subprocess.run([EXE, "jobs", "--limit", "60"], env=env, cwd=ROOT, capture_output=True,
                                      text=True)
                print("  the runs Dagster has (market-pulse jobs):\n" + jobs.stdout[-6000:])
                print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
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
    parser.add_argument("--by-process", action="store_true", help="CPU seconds by process, sampled")
    parser.add_argument("--profile", type=Path, help="profile the seed command into this folder (seed mode)")
    opts = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for mode in opts.mode or ["seed", "runs"]:
        one_mode(mode, opts.days, opts.by_process, opts.profile)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
