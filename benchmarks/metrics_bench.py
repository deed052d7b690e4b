"""What ``--metrics-port`` costs: per publish and per scrape in the parent, and a run's throughput
with and without ``/metrics`` scraped every second.

1. Publish: ``run.exposition.exposition`` over a coordinator whose merged aggregate holds a long
   run's worth of samples (every histogram filled across thousands of HDR buckets, 3 labels,
   4 error classes) — the drive loop builds this once a second.
2. Scrape: ``GET /metrics`` of that text from the ``MetricsServer`` over loopback (client time).
3. Throughput: ``bench.py``'s loadtui run (baseline preset, non-streaming, 64 users, one
   worker, generator pinned to --gen-core, the mock to --server-core) without the endpoint and
   with it scraped once a second, alternated, median of --repeats each.

    python benchmarks/metrics_bench.py                    # about 3 minutes
    python benchmarks/metrics_bench.py --seconds 5 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from loadtui.engine.coordinator import Coordinator
from loadtui.metrics.stats import Recorder
from loadtui.model.plan import RunConfig
from loadtui.run.exposition import RunInfo, exposition
from loadtui.run.metrics_server import MetricsServer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import _pin, start_mock  # noqa: E402

PY = sys.executable


def _long_run(samples: int) -> Coordinator:
    """A coordinator (never started) whose totals hold ``samples`` requests spread wide."""
    coord = Coordinator(RunConfig(workers=1), "http://127.0.0.1:9")
    rng = random.Random(1)
    rec = Recorder()
    for i in range(samples):
        latency = rng.lognormvariate(5.5, 0.8)  # median ~250 ms, a long tail
        rec.requests += 1
        rec.hist["latency_ms"].record_ms(latency)
        rec.hist["ttft_ms"].record_ms(rng.lognormvariate(4.0, 0.7))
        rec.hist["itl_ms"].record_ms(rng.lognormvariate(2.5, 0.6))
        rec.hist["tpot_ms"].record_ms(rng.lognormvariate(2.6, 0.5))
        rec.label(("chat", "chat stream", "health")[i % 3]).record(latency, i % 50 != 0)
        if i % 50 == 0:
            rec.error(("http_429", "http_5xx", "timeout", "reset")[i % 4])
    coord.totals.add_snapshot(rec.drain(0, 1.0))
    return coord


def _micro(samples: int, rounds: int) -> dict[str, float]:
    coord = _long_run(samples)
    info = RunInfo("20261130-000000-baseline-0000", "baseline", "http://127.0.0.1:8000")
    publish: list[float] = []
    publish_cpu: list[float] = []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.thread_time()
        text = exposition(coord, info)
        publish.append((time.perf_counter() - t) * 1000)
        publish_cpu.append((time.thread_time() - c) * 1000)
    scrape: list[float] = []
    with MetricsServer("127.0.0.1", 0) as server, httpx.Client() as client:
        server.publish(text)
        for _ in range(rounds):
            t = time.perf_counter()
            client.get(server.url).raise_for_status()
            scrape.append((time.perf_counter() - t) * 1000)
    buckets = sum(1 for _ in filter(None, coord.totals.hist["latency_ms"]._h.counts))
    return {
        "samples": samples,
        "filled_latency_buckets": buckets,
        "body_bytes": len(text.encode()),
        "publish_ms_median": round(statistics.median(publish), 2),
        "publish_cpu_ms_median": round(statistics.median(publish_cpu), 2),
        "scrape_ms_median": round(statistics.median(scrape), 2),
    }


def _run(url: str, core: int, seconds: float, users: int, metrics: bool) -> tuple[float, float]:
    """One headless run's requests/s and CPU µs per request (the loadtui process and its
    workers, user + system: steadier than req/s on a shared machine, where the scheduler
    decides how much of the core the generator gets); with ``metrics``, /metrics is scraped
    every second."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [
            PY, "-m", "loadtui", "--headless", "--preset", "baseline", "--url", url,
            "--users", str(users), "--spawn-rate", "0", "--think-time", "0", "--workers", "1",
            "--duration", f"{seconds}s", "--max-tokens", "16", "--no-stream",
            "--out", str(out), "--no-live",
        ]  # fmt: skip
        if metrics:
            cmd += ["--metrics-port", "0"]
        env = {**os.environ, "LOADTUI_DATA_DIR": tmp}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_pin(core),
            env=env,
        )
        scrapes = _scrape_every_second(proc) if metrics else None
        proc.wait()
        if scrapes is not None:
            scrapes.join()
        if not out.exists():
            raise SystemExit("loadtui run failed")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary = json.loads(out.read_text())["summary"]
        return summary["rps"], cpu / summary["requests"] * 1e6


def _scrape_every_second(proc: subprocess.Popen[str]) -> threading.Thread:
    def scrape() -> None:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:
            found = re.search(r"serving (\S+/metrics)", line)
            if found:
                url = found.group(1)
                break
        while url and proc.poll() is None:
            try:
                httpx.get(url, timeout=5).raise_for_status()
            except httpx.HTTPError:
                break
            time.sleep(1.0)
        for _ in proc.stderr:  # drain, so the run never blocks on a full pipe
            pass

    thread = threading.Thread(target=scrape, daemon=True)
    thread.start()
    return thread


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--users", type=int, default=64)
    p.add_argument("--samples", type=int, default=1_000_000)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    args = p.parse_args()
    micro = _micro(args.samples, 50)
    print(json.dumps(micro, indent=2), flush=True)
    mock, url = start_mock(args.server_core)
    runs: dict[str, list[tuple[float, float]]] = {"without": [], "scraped": []}
    try:
        for _ in range(args.repeats):
            for name in runs:
                runs[name].append(
                    _run(url, args.gen_core, args.seconds, args.users, name != "without")
                )
                print(name, runs[name][-1], flush=True)
    finally:
        mock.terminate()
    result: dict[str, object] = {**micro}
    for k, v in runs.items():
        result[f"rps_{k}"] = [r for r, _ in v]
        result[f"cpu_us_per_request_{k}"] = [round(c, 1) for _, c in v]
        result[f"rps_{k}_median"] = statistics.median(r for r, _ in v)
        result[f"cpu_us_per_request_{k}_median"] = round(statistics.median(c for _, c in v), 1)
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
