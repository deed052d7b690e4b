"""What the mock's capacity model costs the mock: non-streaming chat completions/s served with
no capacity option (the default path), with the model on but never limiting (``--slots`` far
above the clients' concurrency), and — with ``--baseline-src`` — the default path of another
source tree (e.g. ``git archive`` of the commit before the model), interleaved round by round
so a noisy machine hurts every variant alike. The mock is pinned to one core, the raw aiohttp
client (benchmarks/raw_client.py) to the other; zero delays, so the mock's own work is the
ceiling. Besides requests/s it reports the mock's CPU time per request (from /proc, while the
client runs): on a shared, busy machine that figure moves much less than the rate does.

    python benchmarks/mock_bench.py --rounds 3 --seconds 5 [--baseline-src /tmp/base/src]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from pathlib import Path

from bench import PY, _pin, start_mock

HERE = Path(__file__).resolve().parent
ZERO = ("--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _served(
    args: argparse.Namespace, extra: tuple[str, ...], src: str | None
) -> tuple[float, float]:
    """One round: start the mock (from ``src`` when given), drive it; requests/s and the mock's
    CPU microseconds per request."""
    env_src = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = src
    try:
        mock, url = start_mock(args.server_core, *ZERO, *extra)
    finally:
        if src is not None:
            os.environ.pop("PYTHONPATH")
            if env_src is not None:
                os.environ["PYTHONPATH"] = env_src
    try:
        cpu = _cpu_seconds(mock.pid)
        client = [PY, str(HERE / "raw_client.py"), url + "/v1/chat/completions"]
        load = ["--concurrency", str(args.concurrency), "--seconds", str(args.seconds)]
        out = subprocess.run(
            [*client, "--client", "aiohttp-uvloop", *load],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=_pin(args.gen_core),
        )
        cpu = _cpu_seconds(mock.pid) - cpu
        result = json.loads(out.stdout)
        return float(result["rps"]), cpu / result["requests"] * 1e6
    finally:
        mock.terminate()
        mock.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    p.add_argument("--baseline-src", help="a src/ directory whose mock is the baseline")
    args = p.parse_args()
    variants: dict[str, tuple[tuple[str, ...], str | None]] = {
        "default": ((), None),
        "capacity model on (--slots 100000)": (("--slots", "100000"), None),
    }
    if args.baseline_src:
        variants["baseline default"] = ((), args.baseline_src)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (extra, src) in variants.items():
            results[name].append(_served(args, extra, src))
    for name, runs in results.items():
        rps = statistics.median(r for r, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        each = ", ".join(f"{r:,.0f}" for r, _ in runs)
        print(f"{name:36} {rps:8,.0f} req/s {cpu:6.0f} us CPU/request  (req/s: {each})")


if __name__ == "__main__":
    main()
