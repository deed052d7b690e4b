"""What ``--record-requests`` costs: the same non-streaming load with and without it.

bench.py's throughput setup: one worker pinned to --gen-core, the zero-delay mock pinned to
--server-core, 64 users with no think time (about 10,000 req/s on a quiet core). Runs
alternate in pairs (with first in odd pairs, without first in even ones), so drift of the
machine hits both sides; the cost is 1 − median(with) / median(without), and each pair's
ratio is printed too, with the worker's CPU µs per request (the run file's mean CPU × duration /
requests): on a shared machine throughput swings with the neighbours, CPU per request less. The recorded file's line count is checked against the run's requests.

    python benchmarks/record_requests_bench.py                   # 5 pairs of 10 s
    python benchmarks/record_requests_bench.py --pairs 3 --seconds 5

Results go to stdout and to benchmarks/results/record_requests.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import HERE, PY, _pin, start_mock


def run_once(url: str, core: int, users: int, seconds: float, record: bool) -> tuple[float, float]:
    """One headless run: its req/s and its worker's CPU µs per request (and, recording, a
    check that every request has a line)."""
    with tempfile.TemporaryDirectory() as tmp:
        out, lines = Path(tmp) / "run.json", Path(tmp) / "requests.jsonl"
        cmd = [
            PY,
            "-m",
            "loadtui",
            "--headless",
            "--preset",
            "baseline",
            "--url",
            url,
            "--users",
            str(users),
            "--spawn-rate",
            "0",
            "--think-time",
            "0",
            "--workers",
            "1",
            "--duration",
            f"{seconds}s",
            "--max-tokens",
            "16",
            "--no-stream",
            "--out",
            str(out),
            "--no-live",
        ]
        if record:
            cmd += ["--record-requests", str(lines)]
        env = {**os.environ, "LOADTUI_DATA_DIR": tmp}
        proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_pin(core), env=env)
        if not out.exists():
            raise SystemExit(f"loadtui run failed: {proc.stderr[-2000:]}")
        run = json.loads(out.read_text())
        summary = run["summary"]
        if record:
            with open(lines, "rb") as fh:
                count = sum(1 for _ in fh)
            if count != summary["requests"]:
                raise SystemExit(f"{count} lines for {summary['requests']} requests")
        cpu_s = run["generator"]["cpu_percent_mean"] / 100 * summary["duration_s"]
        return float(summary["rps"]), 1e6 * cpu_s / max(1, summary["requests"])


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--users", type=int, default=64)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    a = p.parse_args()
    mock, url = start_mock(a.server_core, "--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
    without: list[float] = []
    with_: list[float] = []
    cpu: dict[bool, list[float]] = {True: [], False: []}
    try:
        for i in range(a.pairs):
            order = (True, False) if i % 2 == 0 else (False, True)
            pair: dict[bool, float] = {}
            for record in order:
                pair[record], per_request = run_once(url, a.gen_core, a.users, a.seconds, record)
                cpu[record].append(per_request)
            with_.append(pair[True])
            without.append(pair[False])
            print(
                f"pair {i + 1}/{a.pairs}: without {pair[False]:,.0f} req/s, "
                f"with {pair[True]:,.0f} req/s, ratio {pair[True] / pair[False]:.3f}",
                file=sys.stderr,
            )
    finally:
        mock.terminate()
        mock.wait()
    ratio = statistics.median(with_) / statistics.median(without)
    results: dict[str, Any] = {
        "seconds": a.seconds,
        "users": a.users,
        "without_rps": without,
        "with_rps": with_,
        "pair_ratios": [w / o for w, o in zip(with_, without, strict=True)],
        "median_without": statistics.median(without),
        "median_with": statistics.median(with_),
        "cost_percent": round(100 * (1 - ratio), 2),
        "cpu_us_per_request_without": statistics.median(cpu[False]),
        "cpu_us_per_request_with": statistics.median(cpu[True]),
    }
    print(
        f"median without {results['median_without']:,.0f} req/s, with "
        f"{results['median_with']:,.0f} req/s: cost {results['cost_percent']} %; worker CPU "
        f"{results['cpu_us_per_request_without']:.1f} → "
        f"{results['cpu_us_per_request_with']:.1f} µs per request"
    )
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    (folder / "record_requests.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
