"""Trace replay against an open-loop rate run of the same arrivals: accuracy and throughput.

Both runs send the same arrivals — a constant gap, one worker pinned to --gen-core, the
embedded mock pinned to --server-core, loopback only — once as ``--rate R`` (requests
pre-built before the run) and once as a Mooncake-format trace at the same times (each request
built by the worker just before its time: the cost this measures). Accuracy: 100 streams' worth
of arrivals against a mock whose truth is TTFT 200 ms and 20 ms × 50 chunks, TTFT measured −
truth and the send lag (actual − intended send time). Cost: a zero-delay mock at --rate
arrivals a second, the generator's CPU and send lag. Each pair runs in both orders, each run
against a fresh mock.

    python benchmarks/trace_bench.py                # about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import PY, _pin, start_mock


def _run(url: str, core: int, tmp: Path, name: str, *load: str) -> dict[str, Any]:
    out = tmp / f"{name}.json"
    cmd = [
        PY, "-m", "loadtui", "--headless", "--preset", "smoke", "--url", url, "--workers", "1",
        "--stream", "--max-tokens", "64", "--max-in-flight", "5000", "--out", str(out),
        "--no-live", *load,
    ]  # fmt: skip
    env = {**os.environ, "LOADTUI_DATA_DIR": str(tmp)}
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_pin(core), env=env)
    if not out.exists():
        raise SystemExit(f"{name} run failed: {proc.stderr[-2000:]}")
    return json.loads(out.read_text())


def _trace(path: Path, rate: float, seconds: float) -> None:
    n = int(rate * seconds)
    path.write_text(
        "".join(
            json.dumps({"timestamp": i * 1000.0 / rate, "input_length": 8, "output_length": 64,
                        "hash_ids": [i % 4]}) + "\n"
            for i in range(n)
        )
    )  # fmt: skip


def _figures(run: dict[str, Any], truth_ttft: float | None) -> dict[str, Any]:
    s = run["summary"]
    m = s["metrics"]
    out = {
        "requests": s["requests"],
        "errors": s["errors_total"],
        "late": s["late"],
        "dropped": s["dropped"],
        "arrivals_per_s": run["generator"].get("achieved_rate"),
        "send_lag_p50_ms": m["send_lag_ms"]["p50"],
        "send_lag_p99_ms": m["send_lag_ms"]["p99"],
        "cpu_max": run["generator"]["cpu_percent_max"],
        "cpu_mean": run["generator"]["cpu_percent_mean"],
    }
    if truth_ttft is not None:
        out["ttft_p50_error_ms"] = round(m["ttft_ms"]["p50"] - truth_ttft, 2)
        out["ttft_p99_error_ms"] = round(m["ttft_ms"]["p99"] - truth_ttft, 2)
    return out


def _pair(core: int, mock_core: int, mock: tuple[str, ...], rate: float, seconds: float,
          truth: float | None) -> dict[str, Any]:  # fmt: skip
    """Rate run and trace run, each against a mock of its own (a mock that served one run
    carries its closing connections into the next), in both orders."""
    out: dict[str, list[dict[str, Any]]] = {"rate": [], "trace": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        trace = tmp / "trace.jsonl"
        _trace(trace, rate, seconds)
        load = {
            "rate": ("--rate", str(rate), "--duration", f"{seconds}s"),
            "trace": ("--trace", str(trace)),
        }
        for order in (("rate", "trace"), ("trace", "rate")):
            for name in order:
                proc, url = start_mock(mock_core, *mock)
                try:
                    out[name].append(_figures(_run(url, core, tmp, name, *load[name]), truth))
                finally:
                    proc.terminate()
                    proc.wait()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    p.add_argument("--rate", type=float, default=400)
    a = p.parse_args()
    truth = ("--ttft", "200ms", "--itl", "20ms", "--tokens", "50")
    zero = ("--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
    results = {  # 100 streams of 1.2 s each: 83 arrivals a second keep 100 in flight
        "accuracy": _pair(a.gen_core, a.server_core, truth, 83.0, a.seconds, 200.0),
        "throughput": _pair(a.gen_core, a.server_core, zero, a.rate, a.seconds, None),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
