"""Memory at a million requests: the loadtui process tree's size over a long, fast run.

Issue 15's memory row: 1.24 M non-streaming requests must keep the whole loadtui process tree
(the parent and its workers; not the upstream) at or under 150 MB, growing less than 5 % after
warm-up. This starts an upstream on its own core — benchmarks/sse_upstream.py, which answers a
non-streamed request at once for ~15 µs of CPU (``--upstream mock``: loadtui's zero-delay mock,
which saturates its core first) — runs ``loadtui --headless --requests N`` on another (closed
loop, no think time: the highest rate it reaches) until N requests are answered, samples the
proportional set size (PSS, from /proc/<pid>/smaps_rollup; RSS and private memory beside it)
and the CPU time of every process in the tree once a second and prints the level at the
warm-up's end, at the end of the load, the peak, the growth after warm-up, the requests made,
each process's share and the parent's CPU per second of load and per request.

    python benchmarks/memory_bench.py                       # 1.24 M requests, 64 users, 1 worker
    python benchmarks/memory_bench.py --short --json F      # 40 s of load, for a quick check
    python benchmarks/memory_bench.py --requests 300000 --workers 2
    python benchmarks/memory_bench.py --env MALLOC_ARENA_MAX=2
    python benchmarks/memory_bench.py --short --trace-parent 15,35   # tracemalloc in the parent

PSS divides shared pages (the interpreter, libraries) among the processes that map them, so
the tree's PSS is what it really costs the machine; RSS counts shared pages once per process.
PSS also moves when other processes map the same libraries, so growth is judged on PSS and on
private memory (which does not). ``--trace-parent A,B`` loads a ``sitecustomize`` probe
(benchmarks/parent_probe.py) into the loadtui parent alone: tracemalloc starts at A s and the
allocations made between A and B that are still alive at B are printed by line — what the
parent holds more per second of run (nothing is traced, nor loaded, without the flag). Figures
and findings: docs/performance.md, "Memory at a million requests (issue 15)". Linux only
(reads /proc). Not a test: it takes as long as the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import PY, _pin, start_mock  # noqa: E402  (the shared bench's helpers)
from soak import rss_mb  # noqa: E402

GOAL_MB = 150.0
GOAL_GROWTH = 0.05
FULL_REQUESTS = 1_240_000
"""The issue's row: 1.24 M non-streaming requests."""
CAP_S = 1800.0
"""The longest a ``--requests`` run may go (a slow machine): the run ends at whichever first."""


def pss_uss_mb(pid: int) -> tuple[float, float] | None:
    """Proportional and unique (private) set size of ``pid`` in MB, or None once it is gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    kb = {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in rollup[1:])}
    if "Pss" not in kb:
        return None
    return kb["Pss"] / 1024.0, (kb["Private_Clean"] + kb["Private_Dirty"]) / 1024.0


def tree(pid: int) -> list[int]:
    """Every descendant of ``pid`` (workers, multiprocessing's resource tracker), any depth."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return sorted(set(out))


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def role(pid: int, root: int) -> str:
    if pid == root:
        return "parent"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "gone"
    return "resource_tracker" if b"resource_tracker" in cmd else "worker"


@dataclass
class Sample:
    t: float
    pss: dict[str, float] = field(default_factory=dict)
    """PSS in MB by process (``parent``, ``worker 1234``, ``resource_tracker``)."""
    rss: dict[str, float] = field(default_factory=dict)
    uss: dict[str, float] = field(default_factory=dict)
    """Private memory: what the process alone holds. Unlike PSS it does not move when other
    processes on the machine map or unmap the same libraries, so growth is read from it too."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds (user + system) each process has used so far."""

    @property
    def tree_pss(self) -> float:
        return sum(self.pss.values())

    @property
    def tree_rss(self) -> float:
        return sum(self.rss.values())

    @property
    def tree_uss(self) -> float:
        return sum(self.uss.values())

    @property
    def workers(self) -> int:
        return sum(1 for k in self.pss if k.startswith("worker"))


def sample(root: int, t: float) -> Sample:
    s = Sample(t)
    for pid in [root, *tree(root)]:
        name = role(pid, root)
        if name == "worker":
            name = f"worker {pid}"
        sizes, rss, cpu = pss_uss_mb(pid), rss_mb(pid), cpu_s(pid)
        if sizes is not None and rss is not None and cpu is not None:
            s.pss[name], s.uss[name] = sizes
            s.rss[name], s.cpu[name] = rss, cpu
    return s


def _command(args: argparse.Namespace, url: str, out: Path) -> list[str]:
    cmd = [PY, "-m", "loadtui", "--headless", "--no-live", "--preset", "baseline"]
    cmd += ["--url", url, "--no-stream", "--users", str(args.users), "--spawn-rate", "0"]
    cmd += ["--think-time", "0", "--workers", str(args.workers)]
    if args.requests:  # until N are answered, or the cap on a machine too slow for them
        cmd += ["--requests", str(args.requests), "--duration", f"{CAP_S:g}s"]
    else:
        cmd += ["--duration", f"{args.duration:g}s"]
    return [*cmd, "--out", str(out)]


def _env(args: argparse.Namespace, data: str) -> dict[str, str]:
    env = {**os.environ, "LOADTUI_DATA_DIR": data, "LOADTUI_CONFIG_DIR": data}
    env.update(dict(kv.split("=", 1) for kv in args.env))
    paths = [args.src] if args.src else []
    if args.trace_parent or args.no_checkpoints or args.blocks or args.trim:  # the probe
        (Path(data) / "probe").mkdir()
        (Path(data) / "probe" / "sitecustomize.py").write_text(
            f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
            "import parent_probe; parent_probe.install()\n"
        )
        paths.append(str(Path(data) / "probe"))
        env["LOADTUI_PROBE_AT"] = args.trace_parent or ""
        env["LOADTUI_PROBE_NO_CHECKPOINTS"] = "1" if args.no_checkpoints else ""
        env["LOADTUI_PROBE_BLOCKS_EVERY"] = str(args.blocks or "")
        env["LOADTUI_PROBE_TRIM_EVERY"] = str(args.trim or "")
        env["LOADTUI_PROBE_OUT"] = str(Path(args.probe_out).resolve())
    if paths:
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run(args: argparse.Namespace, url: str) -> tuple[list[Sample], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as data:
        out = Path(data) / "run.json"
        env = _env(args, data)
        cmd = _command(args, url, out)
        print("$", " ".join(cmd[2:]), " ".join(args.env), flush=True)
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, preexec_fn=_pin(args.gen_core)
        )
        t0 = time.monotonic()
        samples: list[Sample] = []
        try:
            while proc.poll() is None:
                s = sample(proc.pid, time.monotonic() - t0)
                if s.pss:
                    samples.append(s)
                    if args.verbose or int(s.t) % 10 == 0:
                        print(f"{s.t:6.1f}s tree PSS {s.tree_pss:6.1f} MB  {_split(s)}", flush=True)
                time.sleep(max(0.0, args.every - (time.monotonic() - t0 - s.t)))
        finally:
            proc.wait()
        if not out.exists():
            raise SystemExit(f"loadtui run failed (exit code {proc.returncode})")
        if args.keep:
            Path(args.keep).write_bytes(out.read_bytes())
        return samples, json.loads(out.read_text())["summary"]


def _split(s: Sample) -> str:
    return "  ".join(f"{k} {v:.1f}" for k, v in sorted(s.pss.items()))


def figures(samples: list[Sample], summary: dict[str, Any], warmup: float) -> dict[str, Any]:
    """The level at the warm-up's end and at the end of the load (the last sample with every
    worker alive: the drain and the save come after), the peak over the whole run, growth."""
    most = max(s.workers for s in samples)
    loaded = [s for s in samples if s.workers == most]
    warm = next((s for s in loaded if s.t >= warmup), loaded[-1])
    end = loaded[-1]
    peak = max(samples, key=lambda s: s.tree_pss)
    growth = (end.tree_pss - warm.tree_pss) / warm.tree_pss
    growth_uss = (end.tree_uss - warm.tree_uss) / warm.tree_uss
    span = max(1e-9, end.t - warm.t)
    parent_cpu = (end.cpu.get("parent", 0.0) - warm.cpu.get("parent", 0.0)) / span
    rps = summary["requests"] / max(1e-9, summary["duration_s"])
    return {
        "requests": summary["requests"],
        "rps": summary["rps"],
        "errors": summary["errors_total"],
        "warm_t": round(warm.t, 1),
        "warm_pss_mb": round(warm.tree_pss, 1),
        "end_t": round(end.t, 1),
        "end_pss_mb": round(end.tree_pss, 1),
        "peak_pss_mb": round(peak.tree_pss, 1),
        "peak_t": round(peak.t, 1),
        "warm_rss_mb": round(warm.tree_rss, 1),
        "end_rss_mb": round(end.tree_rss, 1),
        "peak_rss_mb": round(max(s.tree_rss for s in samples), 1),
        "warm_uss_mb": round(warm.tree_uss, 1),
        "end_uss_mb": round(end.tree_uss, 1),
        "growth_after_warmup_pct": round(100 * growth, 2),
        "uss_growth_after_warmup_pct": round(100 * growth_uss, 2),
        "split_warm_uss_mb": {k: round(v, 1) for k, v in warm.uss.items()},
        "split_end_uss_mb": {k: round(v, 1) for k, v in end.uss.items()},
        "split_warm_pss_mb": {k: round(v, 1) for k, v in warm.pss.items()},
        "split_end_pss_mb": {k: round(v, 1) for k, v in end.pss.items()},
        "split_peak_pss_mb": {k: round(v, 1) for k, v in peak.pss.items()},
        "parent_pss_growth_kb_per_s": round(
            1024 * (end.pss.get("parent", 0) - warm.pss.get("parent", 0)) / span, 2
        ),
        "parent_uss_growth_kb_per_s": round(
            1024 * (end.uss.get("parent", 0) - warm.uss.get("parent", 0)) / span, 2
        ),
        "parent_cpu_pct": round(100 * parent_cpu, 2),
        "parent_cpu_us_per_request": round(1e6 * parent_cpu / rps, 2) if rps else None,
        "cpu_s_end": {k: round(v, 2) for k, v in end.cpu.items()},
        "goal_level_met": peak.tree_pss <= GOAL_MB,
        "goal_growth_met": growth < GOAL_GROWTH and growth_uss < GOAL_GROWTH,
    }


def start_upstream(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    """The upstream on its own core: benchmarks/sse_upstream.py (~15 µs a non-streamed answer)
    or loadtui's zero-delay mock (saturates its core near 5,700 answers a second here)."""
    if args.upstream == "mock":
        return start_mock(args.server_core, "--latency", "0ms", "--ttft", "0ms", "--itl", "0ms")
    cmd = [PY, str(HERE / "sse_upstream.py"), "--port", "0"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, preexec_fn=_pin(args.server_core)
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"sse_upstream did not start: {line!r}")
    return proc, line.split("listening on ", 1)[1].strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--requests",
        type=int,
        default=None,
        help=f"run until N requests are answered ({FULL_REQUESTS:,}; 0: --duration instead)",
    )
    ap.add_argument("--duration", type=float, default=150.0, help="seconds of load, --requests 0")
    ap.add_argument("--short", action="store_true", help="40 s of load, no request count")
    ap.add_argument("--upstream", choices=("lean", "mock"), default="lean")
    ap.add_argument("--src", help="run loadtui from this source tree (before/after pairs)")
    ap.add_argument("--trace-parent", metavar="A,B[,C]", help="tracemalloc in the parent")
    ap.add_argument(
        "--no-checkpoints", action="store_true", help="an experiment: the parent writes none"
    )
    ap.add_argument(
        "--blocks", type=float, metavar="S", help="the parent's object counts every S s (probe)"
    )
    ap.add_argument(
        "--trim", type=float, metavar="S", help="an experiment: malloc_trim(0) in the parent"
    )
    ap.add_argument("--keep", metavar="FILE", help="copy the run file here")
    ap.add_argument("--probe-out", default="parent-probe.txt", help="where the probe writes")
    ap.add_argument("--users", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--warmup", type=float, default=20.0, help="seconds from launch (20)")
    ap.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    ap.add_argument("--gen-core", type=int, default=0)
    ap.add_argument("--server-core", type=int, default=1)
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for loadtui")
    ap.add_argument("--json", help="write the figures and the samples here")
    ap.add_argument("--verbose", action="store_true", help="print every sample")
    args = ap.parse_args()
    if args.short:
        args.duration, args.requests = 40.0, 0
    elif args.requests is None:
        args.requests = FULL_REQUESTS
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    mock, url = start_upstream(args)
    try:
        samples, summary = run(args, url + "/v1")
    finally:
        mock.terminate()
        mock.wait(5)
    result = figures(samples, summary, args.warmup)
    result.update(
        duration_s=args.duration,
        requests_asked=args.requests or None,
        upstream=args.upstream,
        src=args.src,
        users=args.users,
        workers=args.workers,
        env=args.env,
        loadavg_before=" ".join(load_before),
        loadavg_after=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
    )
    print(json.dumps({k: v for k, v in result.items()}, indent=2))
    ok = result["goal_level_met"] and result["goal_growth_met"]
    print(
        f"tree PSS {result['warm_pss_mb']} MB at {result['warm_t']} s -> {result['end_pss_mb']} MB"
        f" at {result['end_t']} s ({result['growth_after_warmup_pct']:+.1f} %), peak"
        f" {result['peak_pss_mb']} MB; private {result['warm_uss_mb']} -> {result['end_uss_mb']} MB"
        f" ({result['uss_growth_after_warmup_pct']:+.1f} %); {result['requests']:,} requests ({result['rps']}/s):"
        f" goal (<= {GOAL_MB:g} MB, < 5 % growth) {'MET' if ok else 'NOT MET'}"
    )
    print(
        f"parent: CPU {result['parent_cpu_pct']} % of a core during the load"
        f" ({result['parent_cpu_us_per_request']} µs a request), private memory"
        f" {result['parent_uss_growth_kb_per_s']:+} KB/s after warm-up"
    )
    if args.json:
        result["samples"] = [asdict(s) for s in samples]
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
