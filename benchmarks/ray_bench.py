"""The same load with ``--backend process`` and ``--backend ray`` on this machine.

Alternating pairs (process then ray, then ray then process, ...) of one headless run each:
100 closed-loop streaming users, no think time, against loadtui's mock (truth: TTFT 200 ms,
20 ms between 50 chunks) pinned to --server-core, with the whole loadtui process tree — the
driver, its workers or its Ray actors, and for Ray the GCS, raylet and agents that a local
``ray.init()`` starts — pinned to --gen-core, over loopback only. For each run:

- **CPU per request**: user+system CPU of every process in the loadtui tree (from /proc) over a
  steady window (from --warmup seconds after the first request to 1 s before the end), divided
  by the requests the mock served in that window. Ray's idle daemons count: they are its cost.
- **TTFT error**: the run file's TTFT p50 and p99 minus the mock's 200 ms.
- **Start-up**: from launching ``loadtui`` to the mock's first request (Python's start-up,
  ``ray.init`` and the actors included).
- **Idle cost**: one more run of each backend with one user that thinks past the end: the CPU
  each part of the tree spends per second with (almost) no load — also by process: the driver,
  the workers or actors, and each of Ray's daemons (GCS, raylet, agents, monitor) — and from it
  the CPU per request above that fixed cost.
- **Memory**: RSS and PSS summed over the tree at the end of the window (PSS shares pages
  between the processes that map them, so it does not count Ray's shared libraries twice).

Then Ray's fixed costs: its installed size, ``ray.init()`` for a new local Ray and for joining
a running head (``ray start --head --block``, started and stopped by this script only).

    python benchmarks/ray_bench.py                  # 3 pairs of 20 s runs: ~4 minutes
    python benchmarks/ray_bench.py --short          # 1 pair of 8 s runs: a quick check
    python benchmarks/ray_bench.py --backends process   # without Ray installed
    python benchmarks/ray_bench.py --plain --streams 64  # non-streaming answers after 2 ms:
                                                    # hundreds of req/s, Ray's fixed cost shared

Results go to stdout as Markdown tables and to benchmarks/results/ray.json. Needs the ray
extra: pip install -e '.[ray]'. Every Ray this script starts lives in a temporary RAY_TMPDIR,
so it never joins (or stops) another Ray on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
TTFT_MS, ITL_MS, TOKENS = 200.0, 20.0, 50
TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _pin(core: int):
    return lambda: os.sched_setaffinity(0, {core})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PLAIN_LATENCY_MS = 2.0
"""--plain: the mock's delay before a non-streaming answer."""


def start_mock(core: int, plain: bool = False) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    timing = ["--ttft", f"{TTFT_MS:g}ms", "--itl", f"{ITL_MS:g}ms", "--tokens", str(TOKENS)]
    if plain:
        timing += ["--latency", f"{PLAIN_LATENCY_MS:g}ms"]
    proc = subprocess.Popen(
        [PY, "-m", "loadtui", "mock", "--port", str(port), *timing],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_pin(core),
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"mock did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}"


def served(url: str, reset: bool = False) -> int:
    req = urllib.request.Request(url + ("/mock/reset" if reset else "/mock/stats"))
    if reset:
        req.method = "POST"
    with urllib.request.urlopen(req, timeout=30) as answer:  # a starved mock is slow
        return int(json.load(answer)["served"])


# -- the process tree ------------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, i = [root], 0
    while i < len(found):
        found += children.get(found[i], [])
        i += 1
    return found


def cpu_by_pid(root: int) -> dict[int, float]:
    """User+system CPU seconds of each live process of the tree (fields 14 and 15)."""
    out = {}
    for pid in tree(root):
        if fields := _stat(pid):
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def role(pid: int, root: int) -> str:
    """``driver`` (loadtui: coordinator, drive loop), ``workers`` (worker processes or Ray
    actors: the request loops) or ``other`` (Ray's GCS, raylet and agents; a process pool's
    resource tracker)."""
    if pid == root:
        return "driver"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    if b"WorkerActor" in cmdline or b"spawn_main" in cmdline or _forked(pid, root):
        return "workers"
    return "other"


def _forked(pid: int, root: int) -> bool:
    """A worker loadtui forked (prespawned: docs/performance.md, "Start-up and exit") has its
    parent's command line; with ``--url`` no mock is forked beside it."""
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes() == Path(f"/proc/{root}/cmdline").read_bytes()
        )
    except OSError:
        return False


COMPONENTS = (
    ("WorkerActor", "actors"),
    ("spawn_main", "workers"),
    ("gcs_server", "gcs_server"),
    ("raylet", "raylet"),
    ("log_monitor", "log_monitor"),
    ("monitor.py", "autoscaler monitor"),
    ("DashboardAgent", "dashboard agent"),
    ("dashboard/agent", "dashboard agent"),
    ("RuntimeEnv", "runtime-env agent"),
    ("runtime_env", "runtime-env agent"),
    ("dashboard.py", "dashboard (minimal)"),
)
"""What a process of the tree is, by a word of its command line (Ray's daemons by name)."""


def component(pid: int, root: int) -> str:
    """The part of the tree ``pid`` is: the driver, worker processes, actors, or one of Ray's
    daemons (GCS, raylet, log monitor, agents, ...), for the idle cost by component."""
    if pid == root:
        return "driver"
    if _forked(pid, root):
        return "workers"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "other"
    return next((name for word, name in COMPONENTS if word in cmdline), "other")


def memory_mb(root: int) -> tuple[float, float]:
    """RSS and PSS of the tree, MB."""
    rss = pss = 0
    for pid in tree(root):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in rollup:
            name, _, value = line.partition(":")
            if name == "Rss":
                rss += int(value.split()[0])
            elif name == "Pss":
                pss += int(value.split()[0])
    return rss / 1024, pss / 1024


# -- one run ---------------------------------------------------------------------------------
def _command(url: str, backend: str, a: argparse.Namespace, out: Path, idle: bool) -> list[str]:
    cmd = [PY, "-m", "loadtui", "--headless", "--preset", "baseline", "--url", url]
    # idle: one user that sends one request and then thinks past the end of the run
    users, think = ("1", "600s") if idle else (str(a.streams), "0")
    cmd += ["--users", users, "--spawn-rate", users, "--think-time", think]
    # idle: the run outlasts the window by 3 s more, so no worker is draining or gone when the
    # window's CPU is read (a run's clock starts before its first request)
    seconds = a.seconds + 3 if idle else a.seconds
    cmd += ["--workers", str(a.workers), "--duration", f"{seconds:g}s"]
    cmd += ["--no-stream"] if a.plain else ["--stream"]
    cmd += ["--max-tokens", str(TOKENS), "--out", str(out), "--no-live"]
    return [*cmd, "--backend", backend] if backend != "process" else cmd


def _wait_first_request(proc: subprocess.Popen, url: str, launched: float) -> float:
    while served(url) == 0:
        if proc.poll() is not None:
            raise SystemExit(f"loadtui ended before any request (exit {proc.returncode})")
        if time.perf_counter() - launched > 120:
            proc.kill()
            raise SystemExit("no request within 120 s of launching loadtui")
        time.sleep(0.01)
    return time.perf_counter() - launched


def ray_env(tmp: str) -> dict[str, str]:
    """A Ray of this script's own: its temp dir (never joining, or stopping, a Ray that another
    program started here) and its token (Ray 2.59+ turns token authentication on for a local
    Ray and would otherwise write one into ~/.ray/auth_token)."""
    token = Path(tmp) / "auth_token"
    if not token.exists():
        token.write_text(secrets.token_hex(32))
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    return {**os.environ, "RAY_TMPDIR": tmp, **auth}


def run_one(url: str, backend: str, a: argparse.Namespace, idle: bool = False) -> dict[str, Any]:
    served(url, reset=True)
    with tempfile.TemporaryDirectory(prefix="rb-") as tmp:
        out = Path(tmp) / "run.json"
        env = {**ray_env(tmp), "LOADTUI_DATA_DIR": tmp}
        launched = time.perf_counter()
        proc = subprocess.Popen(
            _command(url, backend, a, out, idle),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_pin(a.gen_core),
        )
        startup = _wait_first_request(proc, url, launched)
        time.sleep(a.warmup)
        cpu0, n0, t0 = cpu_by_pid(proc.pid), served(url), time.perf_counter()
        # the window ends 1 s before the run does (its duration counts from about the first request)
        time.sleep(max(1.0, launched + startup + a.seconds - 1.0 - time.perf_counter()))
        cpu1, n1, t1 = cpu_by_pid(proc.pid), served(url), time.perf_counter()
        roles = {pid: role(pid, proc.pid) for pid in cpu1}
        parts = {pid: component(pid, proc.pid) for pid in cpu1}
        rss, pss = memory_mb(proc.pid)
        _, err = proc.communicate(timeout=120)
        if not out.exists():
            raise SystemExit(f"loadtui --backend {backend} failed: {err[-2000:]}")
        run = json.loads(out.read_text())
    by_role = dict.fromkeys(("driver", "workers", "other"), 0.0)
    for pid, seconds in cpu1.items():
        by_role[roles[pid]] += seconds - cpu0.get(pid, 0.0)
    cpu = sum(by_role.values())
    by_part: dict[str, float] = {}
    for pid, seconds in cpu1.items():
        by_part[parts[pid]] = by_part.get(parts[pid], 0.0) + seconds - cpu0.get(pid, 0.0)
    requests = max(n1 - n0, 1)
    m = run["summary"]["metrics"]
    return {
        "backend": backend,
        "startup_s": round(startup, 3),
        "window_s": round(t1 - t0, 2),
        "window_requests": n1 - n0,
        "cpu_s": round(cpu, 3),
        "cpu_per_request_us": round(cpu / requests * 1e6, 1),
        **{f"cpu_{k}_us": round(v / requests * 1e6, 1) for k, v in by_role.items()},
        **{f"cpu_{k}_ms_per_s": round(v / (t1 - t0) * 1e3, 2) for k, v in by_role.items()},
        "cpu_by_component_ms_per_s": {
            k: round(v / (t1 - t0) * 1e3, 2) for k, v in sorted(by_part.items())
        },
        "processes": len(cpu1),
        "rss_mb": round(rss, 1),
        "pss_mb": round(pss, 1),
        "requests": run["summary"]["requests"],
        "errors": run["summary"]["errors_total"],
        # --plain has no stream: its "TTFT" is the whole answer, nothing to hold to the truth
        "ttft_p50_error_ms": None if a.plain else _error(m, "ttft_ms", "p50", TTFT_MS),
        "ttft_p99_error_ms": None if a.plain else _error(m, "ttft_ms", "p99", TTFT_MS),
        "itl_p50_error_ms": None if a.plain else _error(m, "itl_ms", "p50", ITL_MS),
    }


def _error(metrics: dict[str, Any], name: str, pct: str, truth: float) -> float | None:
    """A streamed figure minus the mock's truth; None without streams (--plain)."""
    value = (metrics.get(name) or {}).get(pct)
    return None if value is None else round(value - truth, 3)


# -- Ray's fixed costs -----------------------------------------------------------------------
_INIT = """
import sys, time
import ray
t = time.perf_counter()
ray.init(address=sys.argv[1] or None, include_dashboard=False, num_cpus=None if sys.argv[1] else 2,
         log_to_driver=False)
print(time.perf_counter() - t)
ray.shutdown()
"""


def _init_seconds(address: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [PY, "-c", _INIT, address], capture_output=True, text=True, env=env, timeout=180
    )
    if out.returncode != 0:
        raise SystemExit(f"ray.init failed: {out.stderr[-2000:]}")
    return float(out.stdout.split()[-1])


_HEAD_OPTIONS = ("--include-dashboard", "false", "--block")


def _join_seconds(env: dict[str, str]) -> float:
    """``ray.init`` joining a head that is already running (started here, stopped by pid),
    both with the token of ``env``."""
    port = _free_port()
    ray_cli = str(Path(PY).parent / "ray")
    head = subprocess.Popen(
        [ray_cli, "start", "--head", "--port", str(port), "--num-cpus", "1", *_HEAD_OPTIONS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while True:  # the head answers once its GCS listens
            try:
                _init_seconds(f"127.0.0.1:{port}", env)  # returns once the head is up
                return _init_seconds(f"127.0.0.1:{port}", env)
            except SystemExit:
                if time.monotonic() > deadline or head.poll() is not None:
                    raise
                time.sleep(1)
    finally:
        head.terminate()  # --block: the head takes its own processes down with it
        head.wait(30)


def _installed_mb(dist: str) -> float:
    from importlib.metadata import distribution

    files = distribution(dist).files or []
    return sum(p.locate().stat().st_size for p in files if p.locate().exists()) / 1e6


def _closure(dist: str) -> set[str]:
    """``dist`` and everything it requires (no extras), as installed here."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: set[str] = set()
    todo = [dist]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        found.add(name)
        for text in reqs:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def _ray_adds_mb() -> float:
    """What installing Ray adds to loadtui's own dependencies, MB on disk."""
    return sum(_installed_mb(d) for d in _closure("ray") - _closure("loadtui"))


def ray_costs(repeats: int) -> dict[str, Any]:
    import ray

    with tempfile.TemporaryDirectory(prefix="rb-") as tmp:
        env = ray_env(tmp)
        inits = [_init_seconds("", env) for _ in range(repeats)]
        joins = [_join_seconds(env) for _ in range(repeats)]
    return {
        "ray_version": ray.__version__,
        "ray_installed_mb": round(_installed_mb("ray"), 1),
        "ray_with_new_dependencies_mb": round(_ray_adds_mb(), 1),
        "init_local_s": [round(s, 2) for s in inits],
        "init_join_s": [round(s, 2) for s in joins],
    }


# -- the report ------------------------------------------------------------------------------
def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if values else None


ROWS = [
    ("CPU per request (µs, whole tree)", "cpu_per_request_us", "{:,.0f}"),
    ("… in the driver (coordinator)", "cpu_driver_us", "{:,.0f}"),
    ("… in the workers or actors", "cpu_workers_us", "{:,.0f}"),
    ("… in the rest (Ray's GCS, raylet, agents)", "cpu_other_us", "{:,.0f}"),
    ("TTFT p50 − truth (ms)", "ttft_p50_error_ms", "{:+.2f}"),
    ("TTFT p99 − truth (ms)", "ttft_p99_error_ms", "{:+.2f}"),
    ("ITL p50 − truth (ms)", "itl_p50_error_ms", "{:+.2f}"),
    ("start-up: launch → first request (s)", "startup_s", "{:.2f}"),
    ("requests in the run", "requests", "{:,.0f}"),
    ("errors", "errors", "{:,.0f}"),
    ("processes in the tree", "processes", "{:.0f}"),
    ("memory of the tree, RSS / PSS (MB)", "rss_mb", "{:,.0f}"),
]


def report(
    by: dict[str, list[dict[str, Any]]], idle: dict[str, dict[str, Any]], a: argparse.Namespace
) -> None:
    names = list(by)
    print(
        f"\n| {a.streams} {'users, non-streaming' if a.plain else 'streams'}, {a.workers} workers, {a.seconds:g} s, medians of {a.pairs} | "
        + " | ".join(names)
        + " |"
    )
    print("|---|" + "---:|" * len(names))
    for label, key, fmt in ROWS:
        medians = [_median(by[n], key) for n in names]
        cells = ["—" if v is None else fmt.format(v) for v in medians]
        if key == "rss_mb":
            cells = [
                f"{c} / {_median(by[n], 'pss_mb'):,.0f}" for c, n in zip(cells, names, strict=True)
            ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if idle:
        print("\n| CPU with no load (ms per second) | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for key in ("driver", "workers", "other"):
            cells = [f"{idle[n][f'cpu_{key}_ms_per_s']:.1f}" for n in names]
            print(f"| {key} | " + " | ".join(cells) + " |")
        marginal = {
            n: statistics.median(
                (
                    r["cpu_s"]
                    - sum(idle[n][f"cpu_{k}_ms_per_s"] for k in ("driver", "workers", "other"))
                    / 1e3
                    * r["window_s"]
                )
                / r["window_requests"]
                * 1e6
                for r in by[n]
            )
            for n in names
        }
        parts = sorted({k for n in names for k in idle[n]["cpu_by_component_ms_per_s"]})
        print("\n| CPU with no load, by process (ms per second) | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for part in parts:
            cells = [idle[n]["cpu_by_component_ms_per_s"].get(part) for n in names]
            print(
                f"| {part} | " + " | ".join("—" if c is None else f"{c:.1f}" for c in cells) + " |"
            )
        print(
            "\nCPU per request above the idle cost (µs): "
            + ", ".join(f"{n} {v:,.0f}" for n, v in marginal.items())
        )
    if "process" in by and "ray" in by:
        ratios = [
            r["cpu_per_request_us"] / p["cpu_per_request_us"]
            for p, r in zip(by["process"], by["ray"], strict=True)
        ]
        print(
            f"\nCPU per request, ray ÷ process: median {statistics.median(ratios):.2f} "
            f"(pairs: {', '.join(f'{x:.2f}' for x in ratios)}; goal ≤ 1.10)"
        )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--warmup", type=float, default=4, help="seconds after the first request")
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    p.add_argument("--backends", default="process,ray")
    p.add_argument("--short", action="store_true", help="1 pair of 8 s runs, one ray.init each")
    p.add_argument("--no-costs", action="store_true", help="skip Ray's fixed costs")
    p.add_argument(
        "--plain", action="store_true", help="non-streaming answers after 2 ms (more req/s)"
    )
    a = p.parse_args()
    if a.short:
        a.pairs, a.seconds, a.warmup = 1, 8.0, 3.0
    backends = a.backends.split(",")

    results: dict[str, Any] = {"args": vars(a), "runs": [], "idle": {}}
    idle: dict[str, dict[str, Any]] = {}
    by: dict[str, list[dict[str, Any]]] = {b: [] for b in backends}
    mock, url = start_mock(a.server_core, a.plain)
    try:
        for i in range(a.pairs):
            for backend in backends if i % 2 == 0 else backends[::-1]:
                print(f"pair {i + 1}/{a.pairs}: {backend} ...", file=sys.stderr)
                run = run_one(url, backend, a)
                by[backend].append(run)
                results["runs"].append(run)
        for backend in backends:
            print(f"idle: {backend} ...", file=sys.stderr)
            idle[backend] = results["idle"][backend] = run_one(url, backend, a, idle=True)
    finally:
        mock.terminate()
        mock.wait()
    report(by, idle, a)
    if "ray" in backends and not a.no_costs:
        print("Ray's fixed costs ...", file=sys.stderr)
        costs = results["ray_costs"] = ray_costs(1 if a.short else 3)
        print(
            f"\nRay {costs['ray_version']}: installed {costs['ray_installed_mb']:,.0f} MB "
            f"({costs['ray_with_new_dependencies_mb']:,.0f} MB with the dependencies it adds); "
            f"ray.init() starting a local Ray {costs['init_local_s']} s, "
            f"joining a running head {costs['init_join_s']} s"
        )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ray.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
