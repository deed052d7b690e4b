"""Soak memory: does the parent (coordinator) or a worker grow over a long run?

A 2-hour soak must not end in an out-of-memory kill, so the parent's and each worker's resident
memory must be flat once the run has warmed up. This starts our mock on loopback, runs
``loadtui --headless`` against it for the given length, samples RSS from /proc every few
seconds, and prints whether each process stayed within 5 % of its post-warm-up level.

    python benchmarks/soak.py --duration 10m --rate 1          # 1 arrival/s
    python benchmarks/soak.py --duration 3m --users 10 --think-time 0.5-2s
    python benchmarks/soak.py --duration 2m --rate 2000 --workers 1

Linux only (reads /proc). Not a test: it takes as long as the run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
TOLERANCE = 0.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Worker processes of the run (spawned children, not multiprocessing's resource tracker)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            try:
                cmd = Path(f"/proc/{kid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmd:
                out.append(int(kid))
    return sorted(set(out))


def start_mock() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [PY, "-m", "loadtui", "mock", "--port", str(port), "--ttft", "50ms", "--itl", "10ms"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening" not in line:
        proc.kill()
        sys.exit(f"mock did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}/v1"


def verdict(name: str, samples: list[tuple[float, float]], warmup: float) -> bool:
    """Flat: after warm-up, no sample exceeds the first post-warm-up sample by > 5 %."""
    after = [(t, m) for t, m in samples if t >= warmup]
    if len(after) < 2:
        print(f"{name}: too few samples after warm-up")
        return False
    base = after[0][1]
    peak = max(m for _, m in after)
    last = after[-1][1]
    span = after[-1][0] - after[0][0]
    slope = (last - base) / span if span else 0.0
    flat = peak <= base * (1 + TOLERANCE)
    print(
        f"{name}: {base:.1f} MB at {after[0][0]:.0f}s → {last:.1f} MB at {after[-1][0]:.0f}s "
        f"(peak {peak:.1f}, {slope * 1000:+.1f} KB/s): {'FLAT' if flat else 'GROWS'}"
    )
    return flat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", default="3m", help="run length, as loadtui takes it")
    ap.add_argument("--rate", help="open-loop arrivals per second")
    ap.add_argument("--users", help="closed-loop users (default 10 when no --rate)")
    ap.add_argument("--think-time", default="0.5-2s")
    ap.add_argument("--workers", default="1")
    ap.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds ignored at the start")
    args = ap.parse_args()

    mock, url = start_mock()
    load = ["--rate", args.rate] if args.rate else ["--users", args.users or "10"]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "LOADTUI_DATA_DIR": data, "LOADTUI_CONFIG_DIR": data}
        cmd = [PY, "-m", "loadtui", "--headless", "--no-live", "--url", url, "--stream"]
        cmd += [*load, "--think-time", args.think_time, "--workers", args.workers]
        cmd += ["--duration", args.duration, "--out", str(Path(data) / "run.json")]
        print("$", " ".join(cmd[1:]))
        run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        parent: list[tuple[float, float]] = []
        workers: dict[int, list[tuple[float, float]]] = {}
        try:
            while run.poll() is None:
                t = time.monotonic() - t0
                if (m := rss_mb(run.pid)) is not None:
                    parent.append((t, m))
                for kid in children(run.pid):
                    if (k := rss_mb(kid)) is not None:
                        workers.setdefault(kid, []).append((t, k))
                line = f"{t:6.0f}s parent {parent[-1][1] if parent else 0:7.1f} MB"
                for kid, s in workers.items():
                    line += f"  worker {kid} {s[-1][1]:7.1f} MB"
                print(line, flush=True)
                time.sleep(args.every)
        finally:
            run.wait()
            mock.terminate()
            mock.wait(5)
        print(f"exit code {run.returncode}")
        saved = Path(data) / "run.json"
        if saved.exists():
            summary = json.loads(saved.read_text())["summary"]
            print(
                f"requests {summary['requests']} ({summary['rps']}/s), errors {summary['errors_total']}"
            )
    flat = verdict("parent", parent, args.warmup)
    for kid, s in workers.items():
        flat = verdict(f"worker {kid}", s[:-1], args.warmup) and flat  # last: shutting down
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
