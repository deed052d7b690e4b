"""The Responses API reader against the chat reader: CPU per stream, and accuracy at N streams.

1. Reader cost: one 64-token answer of each kind, as the embedded mock streams it (chat with
   ``include_usage``; Responses with its 12 lifecycle events around the deltas), fed event by
   event through ``SSEParser`` and the protocol's ``stream_event`` — the worker's per-event work
   in ``read_stream`` minus the socket. Reported as µs per stream (median of --rounds).
2. Accuracy: alternating pairs of loadtui runs, chat then responses, each with --streams
   concurrent streams against a mock pinned to another core (truth TTFT 200 ms, 20 ms between
   50 tokens), as benchmarks/bench.py measures chat; measured − truth per kind.

    python benchmarks/responses_bench.py                 # ~2 minutes
    python benchmarks/responses_bench.py --pairs 1 --seconds 8
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from loadtui.engine.protocols import OpenAIProtocol
from loadtui.engine.responses import ResponsesProtocol
from loadtui.engine.sse import SSEParser
from loadtui.mock import MockProcess
from loadtui.model.outcomes import Tokens
from loadtui.model.plan import MockSpec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import PY, _pin, start_mock  # noqa: E402  (the shared bench's helpers)

PRESET = """
[load]
mode = "closed"
think_time = "0s"

[[requests]]
kind = "{kind}"
stream = true
max_tokens = 64
"""


def recorded_streams(tokens: int) -> dict[str, list[bytes]]:
    """One answer of each kind from a zero-delay mock, split into its events (one per read)."""
    settings = MockSpec(latency=0, ttft=0, itl=0, tokens=tokens)
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    chat["stream_options"] = {"include_usage": True}
    responses = {"model": "m", "input": "hi", "stream": True}
    with MockProcess(settings) as mock, httpx.Client(base_url=mock.url) as client:
        texts = {
            "chat": client.post("/v1/chat/completions", json=chat).content,
            "responses": client.post("/v1/responses", json=responses).content,
        }
    return {kind: [e + b"\n\n" for e in body.split(b"\n\n") if e] for kind, body in texts.items()}


def reader_cost(events: list[bytes], kind: str, rounds: int, loops: int) -> float:
    """Median CPU µs (process time: what a loaded machine does not inflate) to parse and
    classify one whole stream."""
    stream_event = (ResponsesProtocol if kind == "responses" else OpenAIProtocol).stream_event
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(loops):
            parser = SSEParser()
            tokens = Tokens()
            for chunk in events:
                for event, data in parser.feed(chunk):
                    stream_event(event, data, tokens)
        times.append((time.process_time() - start) / loops * 1e6)
    return statistics.median(times)


def run(url: str, kind: str, core: int, streams: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        preset = Path(tmp) / f"{kind}.toml"
        preset.write_text(PRESET.format(kind=kind))
        out = Path(tmp) / "run.json"
        cmd = [PY, "-m", "loadtui", "--headless", "--preset", str(preset), "--url", url]
        cmd += ["--users", str(streams), "--spawn-rate", str(streams), "--workers", "1"]
        cmd += ["--duration", f"{seconds}s", "--out", str(out), "--no-live"]
        env = {**os.environ, "LOADTUI_DATA_DIR": tmp}
        proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_pin(core), env=env)
        if not out.exists():
            raise SystemExit(f"loadtui run failed: {proc.stderr[-2000:]}")
        summary = json.loads(out.read_text())["summary"]
    m = summary["metrics"]
    return {
        "requests": summary["requests"],
        "errors": summary["errors_total"],
        "ttft_p50": m["ttft_ms"]["p50"] - 200.0,
        "ttft_p99": m["ttft_ms"]["p99"] - 200.0,
        "itl_p50": m["itl_ms"]["p50"] - 20.0,
        "rps": summary["rps"],
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    a = p.parse_args()

    streams = recorded_streams(64)
    print("| reader (64 tokens, event per read) | events | µs per stream | µs per token |")
    print("|---|---:|---:|---:|")
    for kind, events in streams.items():
        us = reader_cost(events, kind, a.rounds, 2000)
        print(f"| {kind} | {len(events)} | {us:.1f} | {us / 64:.2f} |")

    mock, url = start_mock(a.server_core, "--ttft", "200ms", "--itl", "20ms", "--tokens", "50")
    results: dict[str, list[dict[str, Any]]] = {"chat": [], "responses": []}
    try:
        for i in range(a.pairs):
            for kind in results:
                print(f"accuracy pair {i + 1}/{a.pairs}: {kind} ...", file=sys.stderr)
                results[kind].append(run(url, kind, a.gen_core, a.streams, a.seconds))
    finally:
        mock.terminate()
        mock.wait()
    print(f"\n| {a.streams} streams, measured − truth (ms), median of {a.pairs} | TTFT p50 "
          "| TTFT p99 | ITL p50 | req/s | errors |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for kind, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"| {kind} | {med['ttft_p50']:+.2f} | {med['ttft_p99']:+.2f} | "
            f"{med['itl_p50']:+.2f} | {med['rps']:.1f} | {med['errors']:.0f} |"
        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
