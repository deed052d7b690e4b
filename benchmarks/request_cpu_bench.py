"""CPU per non-streamed request of the worker's request path, against the bare aiohttp loop
(issue 15): ``client.execute`` (send, read, parse the usage, book into a ``Recorder``, drained
four times a second as a worker does) versus ``session.post`` + ``read`` with nothing recorded,
64 concurrent on uvloop, one process pinned to core 0, the mock (zero delays) on core 1.
CPU time (``time.process_time``) per request, not the rate: a shared machine moves it far less.
``--baseline-src DIR`` adds ``execute`` from another source tree; rounds alternate the variants.

    python benchmarks/request_cpu_bench.py --rounds 3 --requests 20000 [--baseline-src /tmp/base/src]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench import start_mock

CHILD = r"""
import asyncio, sys, time
import aiohttp, uvloop
from loadtui.engine.wire import Wire
from loadtui.engine.client import UserStatus, execute
from loadtui.engine.protocols import OpenAIProtocol
from loadtui.metrics.stats import Recorder
from loadtui.model.plan import TargetSpec
from loadtui.model.requests import RequestSpec

url, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
prep = OpenAIProtocol().prepare(RequestSpec(kind="chat", stream=False, max_tokens=16),
                                TargetSpec(model="mock-model"), url, None)

async def main():
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn, auto_decompress=False,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session, \
            Wire(timeout=60) as wire:
        rec = Recorder()
        left = 0
        async def user(uid):
            nonlocal left
            status = UserStatus(uid)
            while left > 0:
                left -= 1
                if mode == "raw":
                    async with session.post(prep.url, data=prep.body, headers=prep.headers) as r:
                        await r.read()
                else:
                    await execute(wire, prep, rec, status)
        async def drains():
            while True:
                await asyncio.sleep(0.25)
                rec.drain(0, 0.0)
        d = asyncio.ensure_future(drains())
        left = 2000
        await asyncio.gather(*(user(i) for i in range(64)))
        left = n
        t = time.process_time()
        await asyncio.gather(*(user(i) for i in range(64)))
        print((time.process_time() - t) / n * 1e6)
        d.cancel()

uvloop.run(main())
"""


def _once(url: str, n: int, mode: str, src: str | None) -> float:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    cmd = ["taskset", "-c", "0", sys.executable, "-c", CHILD, url, str(n), mode]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--baseline-src")
    a = p.parse_args()
    variants: dict[str, tuple[str, str | None]] = {
        "execute": ("loadtui", None),
        "raw aiohttp": ("raw", None),
    }
    if a.baseline_src:
        variants["execute, baseline"] = ("loadtui", a.baseline_src)
    got: dict[str, list[float]] = {k: [] for k in variants}
    mock, url = start_mock(1, "--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
    try:
        for _ in range(a.rounds):
            for name, (mode, src) in variants.items():
                got[name].append(_once(url + "/v1", a.requests, mode, src))
    finally:
        mock.terminate()
        mock.wait()
    raw = statistics.median(got["raw aiohttp"])
    for name, vals in got.items():
        each = ", ".join(f"{v:.0f}" for v in vals)
        med = statistics.median(vals)
        print(f"{name:18} {med:6.0f} µs CPU/request  ×raw {med / raw:.2f}  ({each})")
    print("load average", " ".join(Path("/proc/loadavg").read_text().split()[:3]))


if __name__ == "__main__":
    main()
