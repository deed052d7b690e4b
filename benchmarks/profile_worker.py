"""Sample the worker process of a headless run with py-spy: where the worker's time goes.

    python benchmarks/profile_worker.py nonstream     # 64 users, non-streaming, zero-delay mock
    python benchmarks/profile_worker.py streams       # 1,000 streams, 50 ms x 50 chunks

The generator runs pinned to core 0 and the mock to core 1 (benchmarks/bench.py's helpers);
py-spy (``pip install py-spy``) records the worker — the loadtui process's child — for
``--seconds`` in its collapsed-stack form, and this prints the top frames by self time and by
total (inclusive) time as a share of samples, plus the worker's CPU µs per request (and per
chunk) over the same window, from /proc. Collapsed stacks go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import PY, _pin, start_mock
from mock_bench import _cpu_seconds

HERE = Path(__file__).resolve().parent
LOADS = {
    "nonstream": (("--latency", "0ms", "--ttft", "0ms", "--itl", "0ms"), 64, False),
    "streams": (("--ttft", "50ms", "--itl", "50ms", "--tokens", "50"), 1000, True),
}


def _worker_pid(parent: int, deadline: float) -> int:
    while time.monotonic() < deadline:
        kids = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        mine = Path(f"/proc/{parent}/cmdline").read_bytes()
        for kid in kids:
            cmd = Path(f"/proc/{kid}/cmdline").read_bytes()
            # spawned, or forked (prespawned: the parent's command line; --url, so no mock)
            if b"spawn_main" in cmd or cmd == mine:
                return int(kid)
        time.sleep(0.1)
    raise SystemExit("no worker process found")


def _frame(f: str) -> str:
    """``func (path:line)`` without the line: one entry per function."""
    return f.rsplit(":", 1)[0] + ")" if ":" in f else f


def _area(leaf: str) -> str:
    for key, name in (
        ("aiohttp/", "aiohttp"),
        ("multidict", "aiohttp"),
        ("yarl", "aiohttp"),
        ("hdrh", "hdrhistogram"),
        ("json/", "json"),
        ("loadtui/", "loadtui"),
        ("asyncio/", "event loop"),
        ("uvloop", "event loop"),
    ):
        if key in leaf:
            return name
    return "other"


def _top(stacks: Path, n: int) -> None:
    self_t: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    areas: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in stacks.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        c = int(count)
        samples += c
        parts = [_frame(f) for f in frames.split(";")]
        self_t[parts[-1]] += c
        areas[_area(parts[-1])] += c
        for f in set(parts):
            total[f] += c
    print(f"{samples} samples (on-CPU, holding the GIL)\n\nself time by area of the leaf frame:")
    for f, c in areas.most_common():
        print(f"  {100 * c / samples:5.1f} %  {f}")
    print("\nself time:")
    for f, c in self_t.most_common(n):
        print(f"  {100 * c / samples:5.1f} %  {f}")
    print("\ntotal (inclusive) time:")
    for f, c in total.most_common(n + 10):
        print(f"  {100 * c / samples:5.1f} %  {f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("load", choices=sorted(LOADS))
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--top", type=int, default=14)
    p.add_argument("--native", action="store_true")
    a = p.parse_args()
    mock_args, users, stream = LOADS[a.load]
    mock, url = start_mock(1, *mock_args)
    out = HERE / "results" / f"profile-{a.load}.txt"
    out.parent.mkdir(exist_ok=True)
    tmp = tempfile.mkdtemp()
    cmd = [PY, "-m", "loadtui", "--headless", "--preset", "baseline", "--url", url]
    cmd += ["--users", str(users), "--spawn-rate", str(users), "--think-time", "0"]
    cmd += ["--workers", "1", "--duration", f"{a.seconds + 6}s", "--max-tokens", "50"]
    cmd += ["--stream" if stream else "--no-stream", "--no-live", "--out", f"{tmp}/run.json"]
    env = {**os.environ, "LOADTUI_DATA_DIR": tmp}
    gen = subprocess.Popen(cmd, preexec_fn=_pin(0), env=env, stdout=subprocess.DEVNULL)
    try:
        worker = _worker_pid(gen.pid, time.monotonic() + 20)
        time.sleep(3)  # past the ramp
        spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
        cpu0, parent0 = _cpu_seconds(worker), _cpu_seconds(gen.pid)
        rec = [spy, "record", "--pid", str(worker), "-d", str(int(a.seconds)), "-f", "raw"]
        rec += ["-o", str(out), "-r", "200", "--gil", *(["--native"] if a.native else [])]
        subprocess.run(rec, check=True, capture_output=True)
        cpu, parent = _cpu_seconds(worker) - cpu0, _cpu_seconds(gen.pid) - parent0
        gen.wait()
    finally:
        gen.kill()
        mock.terminate()
        mock.wait()
    import json

    run = json.loads(Path(f"{tmp}/run.json").read_text())
    s = run["summary"]
    per_s = s["requests"] / s["duration_s"]
    print(f"worker CPU {cpu:.2f} s, parent (coordinator) CPU {parent:.2f} s over {a.seconds:.0f} s")
    print(f"run {per_s:,.0f} req/s")
    print(f"worker CPU per request ~{cpu / (per_s * a.seconds) * 1e6:.0f} µs", end="")
    if stream:
        chunks = s["output_tokens"] / s["duration_s"] * a.seconds
        print(f", per chunk ~{cpu / max(1, chunks) * 1e6:.1f} µs", end="")
    print(f"   (load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])})")
    _top(out, a.top)
    shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
