"""The mock's capacity under ``wrk``: chat completions/s served, whole and streamed, and the
mock's CPU per request, for this tree and (``--baseline-src``) another, alternated round by
round so a busy minute hurts both alike.

The mock (``loadtui mock``) is pinned to one core and ``wrk`` (Debian's package; a C client
that costs far less per request than the mock) to the other. Three loads:

- ``whole``: non-streamed answers, zero delays, ``--connections`` clients: the mock's own work
  per request is the ceiling;
- ``stream``: streamed answers of 16 tokens, zero delays (17 chunked writes per answer);
- ``sse1000``: streamed answers at the mock's default timing (TTFT 50 ms, 10 ms apart), 1,000
  connections: the embedded mock's real job under a 1,000-user run.

    git archive 08388ef src | tar -x -C /tmp/base
    python benchmarks/mock_wrk_bench.py --rounds 3 --seconds 5 --baseline-src /tmp/base/src
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench import _pin, start_mock
from mock_bench import _cpu_seconds

ZERO = ("--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
LOADS = {
    "whole": (ZERO, False, None),
    "stream": (ZERO, True, None),
    "sse1000": ((), True, 1000),
}
_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "m", "stream": %s, "messages": [{"role": "user", "content": "hi"}]}'
"""


def _round(args: argparse.Namespace, load: str, src: str | None, lua: Path) -> tuple[float, float]:
    """One load against the mock of ``src`` (this tree when None): requests/s, CPU µs each."""
    extra, _, connections = LOADS[load]
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = src
    try:
        mock, url = start_mock(args.server_core, *extra)
    finally:
        os.environ.pop("PYTHONPATH", None)
        if saved is not None:
            os.environ["PYTHONPATH"] = saved
    try:
        cpu = _cpu_seconds(mock.pid)
        conns = str(connections or args.connections)
        cmd = ["wrk", "-t", "1", "-c", conns, "-d", f"{args.seconds}s", "--timeout", "10s"]
        out = subprocess.run(
            [*cmd, "-s", str(lua), url + "/v1/chat/completions"],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=_pin(args.client_core),
        ).stdout
        cpu = _cpu_seconds(mock.pid) - cpu
    finally:
        mock.kill()
        mock.wait()
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print(f"  {load}: {errors.group(0)}")
    return done / args.seconds, cpu / max(done, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--client-core", type=int, default=0)
    parser.add_argument("--baseline-src", help="another tree's src/ (PYTHONPATH)")
    parser.add_argument("--loads", default=",".join(LOADS))
    args = parser.parse_args()
    variants = {"this tree": None}
    if args.baseline_src:
        variants = {"baseline": args.baseline_src, **variants}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for load in args.loads.split(","):
            lua = Path(tmp) / f"{load}.lua"
            lua.write_text(_LUA % ("true" if LOADS[load][1] else "false"))
            for _ in range(args.rounds):
                for name, src in variants.items():
                    results.setdefault((load, name), []).append(_round(args, load, src, lua))
    print(f"medians of {args.rounds} rounds of {args.seconds} s, load average {os.getloadavg()}")
    print(f"{'load':8} {'variant':10} {'req/s':>9} {'mock CPU/request':>17}")
    for (load, name), rows in results.items():
        rate = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        print(f"{load:8} {name:10} {rate:9.0f} {cpu:14.0f} µs")


if __name__ == "__main__":
    main()
