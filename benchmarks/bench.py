"""loadtui vs a raw aiohttp loop vs Locust FastHttpUser, and TTFT/ITL accuracy at 100 streams.

Every generator runs pinned to one core (--gen-core) against the same embedded mock pinned to
another (--server-core), over loopback only. Throughput is non-streaming chat completions at a
fixed concurrency with no think time; each figure is the median of --repeats runs. Accuracy
runs 100 concurrent streams (started over one second) against a mock whose truth is TTFT 200 ms and 20 ms between 50
chunks, and reports loadtui's measured value minus the truth.

    python benchmarks/bench.py                  # about 3 minutes on a 2-core machine
    python benchmarks/bench.py --seconds 5 --repeats 1

Results go to stdout as a Markdown table and to benchmarks/results/latest.json.
Needs the bench extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = {
    "aiohttp": "raw aiohttp (asyncio)",
    "aiohttp-uvloop": "raw aiohttp (uvloop)",
    "httpx": "httpx (default transport)",
    "httpx-aiohttp": "httpx (httpx-aiohttp transport)",
}
PY = sys.executable


def _pin(core: int):
    return lambda: os.sched_setaffinity(0, {core})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mock(core: int, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [PY, "-m", "loadtui", "mock", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_pin(core),
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"mock did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}"


def run_loadtui(
    url: str,
    core: int,
    concurrency: int,
    seconds: float,
    stream: bool,
    max_tokens: int,
    spawn_rate: float = 0,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
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
            str(concurrency),
            "--spawn-rate",
            str(spawn_rate),
            "--think-time",
            "0",
            "--workers",
            "1",
            "--duration",
            f"{seconds}s",
            "--max-tokens",
            str(max_tokens),
            "--stream" if stream else "--no-stream",
            "--out",
            str(out),
            "--no-live",
        ]
        env = {**os.environ, "LOADTUI_DATA_DIR": tmp}
        proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_pin(core), env=env)
        if not out.exists():
            raise SystemExit(f"loadtui run failed: {proc.stderr[-2000:]}")
        return json.loads(out.read_text())


def run_raw(url: str, core: int, concurrency: int, seconds: float, client: str) -> float | None:
    cmd = [
        PY,
        str(HERE / "raw_client.py"),
        url + "/v1/chat/completions",
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        "--client",
        client,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_pin(core))
    return json.loads(out.stdout)["rps"] if out.returncode == 0 else None


def run_locust(url: str, core: int, concurrency: int, seconds: float) -> float | None:
    exe = shutil.which("locust") or str(Path(PY).parent / "locust")
    if not Path(exe).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "l"
        subprocess.run(
            [
                exe,
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "-u",
                str(concurrency),
                "-r",
                str(concurrency),
                "-t",
                f"{int(seconds)}s",
                "--host",
                url,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            capture_output=True,
            text=True,
            preexec_fn=_pin(core),
        )
        with open(f"{prefix}_stats.csv") as fh:
            for row in csv.DictReader(fh):
                if row["Name"] == "Aggregated":
                    return float(row["Requests/s"])
    return None


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    p.add_argument("--streams", type=int, default=100)
    a = p.parse_args()

    results: dict[str, Any] = {
        "concurrency": a.concurrency,
        "seconds": a.seconds,
        "repeats": a.repeats,
    }
    # a zero-delay mock: throughput of the generators, not of the mock's timing
    mock, url = start_mock(a.server_core, "--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
    try:
        names = ["loadtui", *PEERS.values(), "locust FastHttpUser"]
        samples: dict[str, list[float]] = {name: [] for name in names}
        for i in range(a.repeats):
            print(f"throughput round {i + 1}/{a.repeats} ...", file=sys.stderr)
            run = run_loadtui(
                url, a.gen_core, a.concurrency, a.seconds, stream=False, max_tokens=16
            )
            samples["loadtui"].append(run["summary"]["rps"])
            for client, name in PEERS.items():
                rps = run_raw(url, a.gen_core, a.concurrency, a.seconds, client)
                if rps is not None:
                    samples[name].append(rps)
            locust = run_locust(url, a.gen_core, a.concurrency, a.seconds)
            if locust is not None:
                samples["locust FastHttpUser"].append(locust)
        results["throughput"] = {
            k: {"median_rps": statistics.median(v), "samples": v} for k, v in samples.items() if v
        }
    finally:
        mock.terminate()
        mock.wait()

    mock, url = start_mock(a.server_core, "--ttft", "200ms", "--itl", "20ms", "--tokens", "50")
    try:
        print("accuracy run ...", file=sys.stderr)
        # users start over one second (spawn rate = streams/s), as a real ramp would; all 100
        # connecting in the same millisecond measures the connect storm, not the generator
        run = run_loadtui(
            url,
            a.gen_core,
            a.streams,
            max(a.seconds, 15),
            stream=True,
            max_tokens=64,
            spawn_rate=a.streams,
        )
    finally:
        mock.terminate()
        mock.wait()
    m = run["summary"]["metrics"]
    results["accuracy"] = {
        "streams": a.streams,
        "requests": run["summary"]["requests"],
        "errors": run["summary"]["errors_total"],
        "ttft_p50_error_ms": round(m["ttft_ms"]["p50"] - 200.0, 3),
        "ttft_p99_error_ms": round(m["ttft_ms"]["p99"] - 200.0, 3),
        "itl_p50_error_ms": round(m["itl_ms"]["p50"] - 20.0, 3),
        "itl_p99_error_ms": round(m["itl_ms"]["p99"] - 20.0, 3),
        "generator_cpu_max": run["generator"]["cpu_percent_max"],
    }

    tp = results["throughput"]
    base = tp.get("locust FastHttpUser", {}).get("median_rps")
    print(
        f"\n| generator (1 core, {a.concurrency} concurrent, non-streaming) | req/s (median of {a.repeats}) | × Locust |"
    )
    print("|---|---:|---:|")
    for name, v in tp.items():
        ratio = f"{v['median_rps'] / base:.2f}" if base else "-"
        print(f"| {name} | {v['median_rps']:,.0f} | {ratio} |")
    acc = results["accuracy"]
    print(
        f"\n| {a.streams} streams, truth TTFT 200 ms / ITL 20 ms × 50 | measured − truth (ms) | target |"
    )
    print("|---|---:|---:|")
    print(f"| TTFT p50 | {acc['ttft_p50_error_ms']:+.2f} | ≤ 5 |")
    print(f"| TTFT p99 | {acc['ttft_p99_error_ms']:+.2f} | ≤ 30 |")
    print(f"| ITL p50 | {acc['itl_p50_error_ms']:+.2f} | ≤ 1 |")
    print(f"| ITL p99 | {acc['itl_p99_error_ms']:+.2f} | - |")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
