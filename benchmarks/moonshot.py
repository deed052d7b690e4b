"""Issue 15's table, one row per line: the performance moonshot in one command.

    python benchmarks/moonshot.py            # ~4 minutes: 3 rounds, 10 s throughput, 20 s streams
    python benchmarks/moonshot.py --short    # ~50 s for the three rows below on a quiet machine (+ memory/start-up)
    python benchmarks/moonshot.py --short --baseline-src /tmp/base/src   # old commit vs this one

Rows (the generator pinned to --gen-core with taskset-style affinity, the server to --server-core,
127.0.0.1 only; helpers from benchmarks/bench.py):

1. **throughput**: non-streaming chat completions, 64 users, one worker, no think time, against
   benchmarks/sse_upstream.py answering at once (``--upstream mock``: the zero-delay mock, which
   saturates its core near 5,700 answers a second here, below 2× Locust); loadtui, Locust FastHttpUser and the raw aiohttp loop on uvloop run *alternating* in each
   round (same minute), and the ratio to Locust is taken per round, then the median.
2. **500 streams/core**: TTFT 200 ms, 20 ms between 50 chunks. **3. 1,000 streams/core**: TTFT
   50 ms, 50 ms between 50 chunks (20,000 chunks/s). Users start over one second. For each:
   ``ideal = users / (ttft + (chunks - 1) * itl)`` requests/s (a closed-loop user with no think
   time and a zero-cost client completes one request every ttft + 49 gaps), *fraction of ideal* =
   the mean requests/s of the steady seconds (from the run's per-second series, after the ramp
   and one request's duration, the last second left out) / ideal; TTFT error = loadtui's TTFT
   p50 / p99 minus the server's truth. The server is benchmarks/sse_upstream.py (``--upstream
   lean``, ~15 µs of CPU a chunk) unless ``--upstream mock`` (loadtui's mock, ~45 µs a chunk:
   20,000 chunks/s is nearly its whole core). Its CPU per chunk and share of its core are printed
   beside each row: near 100 % the row measures the server, not the generator.
4. **memory** and **5. start-up**: ``benchmarks/memory_bench.py`` and ``benchmarks/startup_bench.py``
   with ``--short --json F`` when those files exist (skipped with a message when not).

Every loadtui run also gives the CPU of its whole process tree (parent + worker, from
``getrusage(RUSAGE_CHILDREN)``) per request and, streaming, per chunk: far less noisy than rates
on a shared machine. ``--baseline-src DIR`` adds the same loadtui runs from another source tree
(``git archive`` of an older commit), alternating with this one, for before/after pairs.

Prints the figures and writes benchmarks/results/moonshot.json. Needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import PY, _pin, run_loadtui, run_locust, run_raw, start_mock
from mock_bench import _cpu_seconds

HERE = Path(__file__).resolve().parent
ZERO = ("--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
STREAM_ROWS = {
    # name: (users, ttft s, itl s, chunks)
    "500 streams": (500, 0.2, 0.02, 50),
    "1000 streams": (1000, 0.05, 0.05, 50),
}


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextmanager
def _src(path: str | None) -> Iterator[None]:
    """Import loadtui from ``path`` (another source tree) in the processes started inside."""
    old = os.environ.get("PYTHONPATH")
    if path is not None:
        os.environ["PYTHONPATH"] = path
    try:
        yield
    finally:
        if path is not None:
            os.environ.pop("PYTHONPATH")
            if old is not None:
                os.environ["PYTHONPATH"] = old


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _loadtui(url: str, a: argparse.Namespace, src: str | None, **kw: Any) -> tuple[dict, float]:
    """One headless run (from ``src`` when given); its record and its tree's CPU seconds."""
    cpu = _children_cpu()
    with _src(src):
        run = run_loadtui(url, a.gen_core, **kw)
    return run, _children_cpu() - cpu


def throughput_row(a: argparse.Namespace) -> dict[str, Any]:
    # the lean upstream answers at once: the mock saturates its core near the prototype's rate
    lean = a.upstream == "lean"
    mock, url = start_upstream(a, 0.0, 0.0, 16) if lean else start_mock(a.server_core, *ZERO)
    names = ["loadtui", *(["loadtui baseline"] if a.baseline_src else []), "raw aiohttp uvloop"]
    names += ["raw aiohttp asyncio", "asyncio.Protocol prototype"]
    samples: dict[str, list[float]] = {n: [] for n in [*names, "locust", "cpu_us_per_req"]}
    samples["cpu_us_per_req baseline"] = []
    samples["mock_cpu_share under prototype"] = []
    ratios: dict[str, list[float]] = {n: [] for n in names}
    try:
        for i in range(a.rounds):
            print(f"throughput round {i + 1}/{a.rounds} {_loadavg()}", file=sys.stderr)
            kw = {"concurrency": 64, "seconds": a.seconds, "stream": False, "max_tokens": 16}
            got: dict[str, float | None] = {}
            for name, src in (("loadtui", None), ("loadtui baseline", a.baseline_src)):
                if name not in names:
                    continue
                run, cpu = _loadtui(url, a, src, **kw)
                got[name] = run["summary"]["rps"]
                key = "cpu_us_per_req" + (" baseline" if src else "")
                samples[key].append(cpu / max(1, run["summary"]["requests"]) * 1e6)
            got["raw aiohttp uvloop"] = run_raw(url, a.gen_core, 64, a.seconds, "aiohttp-uvloop")
            got["raw aiohttp asyncio"] = run_raw(url, a.gen_core, 64, a.seconds, "aiohttp")
            mock_cpu, wall = _cpu_seconds(mock.pid), time.perf_counter()
            got["asyncio.Protocol prototype"] = run_proto(url, a.gen_core, a.seconds)
            samples["mock_cpu_share under prototype"].append(
                (_cpu_seconds(mock.pid) - mock_cpu) / (time.perf_counter() - wall)
            )
            locust = run_locust(url, a.gen_core, 64, a.seconds)
            if locust:
                samples["locust"].append(locust)
            for name, rps in got.items():
                if rps is not None:
                    samples[name].append(rps)
                    if locust:
                        ratios[name].append(rps / locust)
    finally:
        mock.terminate()
        mock.wait()
    return {
        "rps_median": {k: statistics.median(v) for k, v in samples.items() if v},
        "x_locust_median": {k: statistics.median(v) for k, v in ratios.items() if v},
        "samples": samples,
        "x_locust_samples": ratios,
        "loadavg_after": _loadavg(),
        "upstream": a.upstream,
    }


def run_proto(url: str, core: int, seconds: float) -> float | None:
    """The minimal asyncio.Protocol client (benchmarks/proto_client.py): aiohttp's ceiling."""
    cmd = [PY, str(HERE / "proto_client.py"), url + "/v1/chat/completions"]
    cmd += ["--concurrency", "64", "--seconds", str(seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_pin(core))
    return json.loads(out.stdout)["rps"] if out.returncode == 0 else None


def _steady_rps(run: dict[str, Any], request_s: float) -> float:
    """Mean completions/s of the seconds after the ramp (1 s) and one request, last one out."""
    series = run.get("series") or []
    first = int(1.0 + request_s) + 1
    steady = [p["rps"] for p in series if first <= p["t"]][:-1]
    return statistics.mean(steady) if steady else float("nan")


def start_upstream(
    a: argparse.Namespace, ttft: float, itl: float, chunks: int
) -> tuple[subprocess.Popen, str]:
    """The streams rows' server: benchmarks/sse_upstream.py (``--upstream lean``, default: a few
    µs a chunk) or loadtui's own mock (``--upstream mock``: ~45 µs a chunk, near its core's
    limit at 20,000 chunks/s)."""
    if a.upstream == "mock":
        ms, gap = f"{ttft * 1000:g}ms", f"{itl * 1000:g}ms"
        return start_mock(a.server_core, "--ttft", ms, "--itl", gap, "--tokens", str(chunks))
    cmd = [PY, str(HERE / "sse_upstream.py"), "--ttft", str(ttft * 1000)]
    cmd += ["--itl", str(itl * 1000), "--tokens", str(chunks)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=_pin(a.server_core))
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"sse_upstream did not start: {line!r}")
    return proc, line.split("listening on ", 1)[1].strip()


def stream_row(a: argparse.Namespace, name: str) -> dict[str, Any]:
    users, ttft, itl, chunks = STREAM_ROWS[name]
    request_s = ttft + (chunks - 1) * itl
    ideal = users / request_s
    mock, url = start_upstream(a, ttft, itl, chunks)
    out: dict[str, Any] = {"users": users, "ideal_rps": ideal, "formula": "users/(ttft+49*itl)"}
    out["upstream"] = a.upstream
    try:
        variants = [("loadtui", None)]
        if a.baseline_src:
            variants.append(("loadtui baseline", a.baseline_src))
        for rnd in range(a.stream_rounds):
            for label, src in variants:
                print(f"{name} {label} round {rnd + 1} {_loadavg()}", file=sys.stderr)
                mock_cpu, wall = _cpu_seconds(mock.pid), time.perf_counter()
                kw = {"concurrency": users, "seconds": a.stream_seconds, "stream": True}
                run, cpu = _loadtui(url, a, src, max_tokens=chunks, spawn_rate=users, **kw)
                mock_cpu = _cpu_seconds(mock.pid) - mock_cpu
                mock_share = mock_cpu / (time.perf_counter() - wall)
                figures = _stream_figures(run, cpu, ideal, request_s, ttft, mock_share)
                # the mock's cost per chunk says whether one core serves this row's chunks/s
                figures["mock_cpu_us_per_chunk"] = round(
                    mock_cpu / max(1, run["summary"]["output_tokens"]) * 1e6, 2
                )
                out.setdefault(label, []).append(figures)
    finally:
        mock.terminate()
        mock.wait()
    return out


def _stream_figures(
    run: dict[str, Any], cpu: float, ideal: float, request_s: float, ttft: float, mock: float
) -> dict[str, Any]:
    s = run["summary"]
    m = s["metrics"]
    chunks = max(1, s["output_tokens"])
    return {
        "fraction_of_ideal": round(_steady_rps(run, request_s) / ideal, 4),
        "ttft_p50_error_ms": round(m["ttft_ms"]["p50"] - ttft * 1000, 2),
        "ttft_p99_error_ms": round(m["ttft_ms"]["p99"] - ttft * 1000, 2),
        "itl_p50_error_ms": round(m["itl_ms"]["p50"] - (request_s - ttft) / 49 * 1000, 2),
        "requests": s["requests"],
        "errors": s["errors_total"],
        "cpu_us_per_chunk": round(cpu / chunks * 1e6, 2),
        "generator_cpu_max": run["generator"]["cpu_percent_max"],
        "mock_cpu_share": round(mock, 3),
        "loadavg": _loadavg(),
    }


def external_row(script: str) -> dict[str, Any] | None:
    path = HERE / script
    if not path.exists():
        print(f"{script}: not in this tree, row skipped", file=sys.stderr)
        return None
    out = HERE / "results" / f"moonshot-{path.stem}.json"
    proc = subprocess.run([PY, str(path), "--short", "--json", str(out)], text=True)
    if proc.returncode != 0 or not out.exists():
        return {"failed": proc.returncode}
    return json.loads(out.read_text())


def report(results: dict[str, Any]) -> None:
    tp = results.get("throughput")
    if tp:
        print(
            "\n| non-streaming, 64 users, 1 worker | req/s (median) | × Locust (median of rounds) |"
        )
        print("|---|---:|---:|")
        for name, rps in tp["rps_median"].items():
            if name.startswith(("cpu", "mock")):
                print(f"{name}: {rps:.2f}")
                continue
            x = tp["x_locust_median"].get(name)
            print(
                f"| {name} | {rps:,.0f} | {'1.00' if name == 'locust' else f'{x:.2f}' if x else '-'} |"
            )
    for name in STREAM_ROWS:
        row = results.get(name)
        if not row:
            continue
        print(f"\n{name}: ideal {row['ideal_rps']:.1f} req/s = {row['formula']}")
        for label in ("loadtui", "loadtui baseline"):
            for fig in row.get(label, []):
                print(f"  {label}: {fig}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--short", action="store_true", help="one round, short runs (< 60 s)")
    p.add_argument("--rows", default="throughput,500,1000,memory,startup")
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    p.add_argument("--baseline-src", help="a src/ directory of an older loadtui, alternated")
    p.add_argument("--json", default=str(HERE / "results" / "moonshot.json"))
    p.add_argument(
        "--upstream",
        choices=("lean", "mock"),
        default="lean",
        help="every row's server: benchmarks/sse_upstream.py (default) or loadtui's mock",
    )
    a = p.parse_args()
    a.rounds, a.seconds = (1, 3.0) if a.short else (3, 10.0)
    a.stream_rounds, a.stream_seconds = (1, 8.0) if a.short else (1, 20.0)
    rows = set(a.rows.split(","))
    results: dict[str, Any] = {"loadavg_before": _loadavg(), "short": a.short}
    if "throughput" in rows:
        results["throughput"] = throughput_row(a)
    for name in STREAM_ROWS:
        if name.split()[0] in rows:
            results[name] = stream_row(a, name)
    if "memory" in rows:
        results["memory"] = external_row("memory_bench.py")
    if "startup" in rows:
        results["startup"] = external_row("startup_bench.py")
    results["loadavg_after"] = _loadavg()
    report(results)
    Path(a.json).parent.mkdir(exist_ok=True)
    Path(a.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
