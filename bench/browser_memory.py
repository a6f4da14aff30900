"""Memory of a browser vendor's run: PSS of the whole process tree of ``market-pulse run``.

Runs ``market-pulse run --vendor mercado --date DAY`` (the JavaScript-rendered demo shop, every
page through headless Chromium) and, for comparison, the same for ``toko`` (an HTTP shop), each
as its own process on a fresh ``MARKET_PULSE_HOME`` (embedded PostgreSQL, which ``pg_ctl`` starts
outside the tree, so the database is not counted). The demo marketplace runs in a separate
process for the same reason. Every 100 ms the bench sums ``Pss`` of ``/proc/<pid>/smaps_rollup``
over the command and all its descendants (Chromium's browser, zygotes, renderers, utility
processes); it reports the peak and the number of processes at that peak.

PSS (proportional set size) charges each shared page to the processes sharing it in equal parts,
so the sum over a tree is what the tree costs the machine; RSS would count Chromium's shared
libraries once per process.

Run: ``uv run python bench/browser_memory.py [--vendor mercado --vendor toko] [--rounds 2]``.
The first command on a fresh home creates the database (initdb, migrations) and is not measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.server import running_demo  # noqa: E402

DAY = dt.date(2026, 6, 1)


def tree_pss_kib(root: psutil.Process) -> list[tuple[int, str]]:
    """(Pss in KiB, short command line) of ``root`` and each descendant (gone ones skipped)."""
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    out = []
    for proc in procs:
        try:
            with open(f"/proc/{proc.pid}/smaps_rollup") as fh:
                pss = next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
            out.append((pss, _label(proc)))
        except (FileNotFoundError, ProcessLookupError, PermissionError, StopIteration, psutil.Error):
            continue
    return out


def _label(proc: psutil.Process) -> str:
    """The executable's name and, for Chromium's children, their ``--type``."""
    cmd = proc.cmdline()
    name = Path(cmd[0]).name if cmd else proc.name()
    kind = next((a.split("=", 1)[1] for a in cmd if a.startswith("--type=")), "")
    kind += next((":" + a.split("=", 1)[1] for a in cmd if a.startswith("--utility-sub-type=")), "")
    return f"{name} {kind}".strip()


def measured_run(args: list[str], env: dict[str, str]) -> tuple[list[tuple[int, str]], float, int]:
    """Run the command; (the processes at the peak of summed PSS, seconds, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak: list[tuple[int, str]] = []
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read() if proc.stdout else b""), daemon=True)
    reader.start()
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        now = tree_pss_kib(root)
        if sum(p for p, _ in now) > sum(p for p, _ in peak):
            peak = now
        time.sleep(0.1)
    reader.join()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(b"".join(output).decode(errors="replace")[-3000:])
    return peak, seconds, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", action="append", help="vendors to measure (default: mercado, toko)")
    parser.add_argument("--rounds", type=int, default=2, help="measured runs per vendor (peak of each shown)")
    parser.add_argument("--detail", action="store_true", help="PSS of each process at the peak")
    opts = parser.parse_args()
    vendors = opts.vendor or ["mercado", "toko"]
    exe = str(ROOT / ".venv" / "bin" / "market-pulse")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with running_demo(port=0, subprocess_mode=True) as demo_url, tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "MARKET_PULSE_HOME": home, "MARKET_PULSE_DEMO_URL": demo_url}
        env.pop("DAGSTER_HOME", None)
        for var in ("MARKET_PULSE_DATABASE_URL", "MARKET_PULSE_OWNER_DATABASE_URL"):
            env.pop(var, None)
        # set-up run: creates the embedded server, the databases and Dagster's home (not measured)
        subprocess.run([exe, "run", "--vendor", "toko", "--date", (DAY - dt.timedelta(days=1)).isoformat()],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        try:
            for vendor in vendors:
                for n in range(opts.rounds):
                    day = DAY + dt.timedelta(days=n)
                    peak, seconds, code = measured_run(
                        [exe, "run", "--vendor", vendor, "--date", day.isoformat()], env)
                    status = "ok" if code == 0 else f"FAILED (exit {code})"
                    mib = sum(p for p, _ in peak) / 1024
                    print(f"{vendor:8s} {day}: peak PSS {mib:6.0f} MiB over {len(peak):2d} processes, "
                          f"{seconds:5.1f} s, {status}")
                    if opts.detail:
                        for pss, label in sorted(peak, reverse=True):
                            print(f"    {pss / 1024:6.1f} MiB  {label}")
        finally:
            subprocess.run([exe, "db", "down"], env=env, cwd=ROOT, capture_output=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
