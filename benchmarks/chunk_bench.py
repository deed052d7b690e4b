"""CPU per streamed chunk of loadtui's own reading (SSE parse, classify, ITL record, book),
without aiohttp: ``client.read_stream`` + ``client.book`` over in-memory mock-shaped streams of
50 chunks (one read per chunk, as a server pacing tokens sends them). ``--baseline-src DIR``
runs the same in another source tree too, alternating rounds, for before/after pairs.

    python benchmarks/chunk_bench.py --rounds 5 --baseline-src /tmp/base/src

Prints CPU µs per chunk per round (``time.process_time``) and the median of each; the ratio of
medians is the figure (a shared machine moves both alike within a round).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import asyncio, json, sys, time
from loadtui.engine.client import read_stream, book
from loadtui.engine.protocols import OpenAIProtocol
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import Outcome
from loadtui.model.plan import TargetSpec
from loadtui.model.requests import RequestSpec

prep = OpenAIProtocol().prepare(RequestSpec(kind="chat", stream=True), TargetSpec(model="m"),
                                "http://127.0.0.1:1", None)
head = '{"id":"chatcmpl-mock","created":1796114761,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":'
tail = ',"logprobs":null,"finish_reason":null}]}'
reads = [("data: " + head + '{"role":"assistant","content":""}' + tail + "\n\n").encode()]
reads += [("data: " + head + '{"content":"tok%d "}' % i + tail + "\n\n").encode() for i in range(50)]
reads += [("data: " + head + '{}' + ',"logprobs":null,"finish_reason":"stop"}]}' + "\n\n").encode(),
          b'data: {"id":"chatcmpl-mock","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":50}}\n\ndata: [DONE]\n\n']

async def stream():
    for r in reads:
        yield r

async def main(n):
    rec = Recorder()
    itl = rec.hist["itl_ms"]
    for _ in range(n):
        out = Outcome(prep.label, time.perf_counter())
        await read_stream(stream(), prep, out, itl)
        out.end = time.perf_counter()
        book(rec, None, out)
        if rec.requests % 250 == 0:
            rec.drain(0, 0.0)

n = int(sys.argv[1])
asyncio.run(main(50))
t = time.process_time()
asyncio.run(main(n))
print((time.process_time() - t) / (n * 50) * 1e6)
"""


def _once(streams: int, src: str | None) -> float:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    cmd = ["taskset", "-c", "0", sys.executable, "-c", CHILD, str(streams)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--streams", type=int, default=2000)
    p.add_argument("--baseline-src")
    a = p.parse_args()
    variants = {"this tree": None}
    if a.baseline_src:
        variants["baseline"] = a.baseline_src
    got: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(a.rounds):
        for name, src in variants.items():
            got[name].append(_once(a.streams, src))
    load = Path("/proc/loadavg").read_text().split()[:3]
    for name, vals in got.items():
        each = ", ".join(f"{v:.2f}" for v in vals)
        print(f"{name:10} {statistics.median(vals):6.2f} µs CPU/chunk  ({each})")
    if a.baseline_src:
        ratio = statistics.median(got["this tree"]) / statistics.median(got["baseline"])
        print(f"this tree / baseline: {ratio:.2f}   (load average {' '.join(load)})")


if __name__ == "__main__":
    main()
