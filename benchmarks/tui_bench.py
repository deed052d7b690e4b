"""Does the open app cost measurement accuracy? TTFT with the Textual app drawing vs headless.

The same load — 100 concurrent streams (closed loop, no think time) against a mock with a fixed
TTFT — runs alternately headless and in the interactive app under tmux (120×40, redrawing
percentiles, sparklines and 100 per-user rows), with the whole loadtui process tree pinned to
one core (--gen-core) and the mock to another (--server-core). Reported: TTFT p50/p99 of each
run and the median difference app − headless. The issue's bar: p50 within 1 ms.

    python benchmarks/tui_bench.py                   # about 2 minutes
    python benchmarks/tui_bench.py --seconds 10 --repeats 1

Results go to stdout as a Markdown table and to benchmarks/results/tui-latest.json.
Needs tmux (Debian package tmux) and the test extra.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import HERE, PY, start_mock

LOADTUI = str(Path(PY).parent / "loadtui")


def _load_args(url: str, users: int, seconds: float, out: Path) -> list[str]:
    return [
        "--preset",
        "streaming",
        "--url",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--think-time",
        "0",
        "--duration",
        f"{seconds:g}s",
        "--workers",
        "1",
        "--out",
        str(out),
    ]


def _figures(out: Path, mode: str) -> dict[str, Any]:
    run = json.loads(out.read_text())
    s = run["summary"]
    ttft = s["metrics"]["ttft_ms"]
    return {
        "mode": mode,
        "status": run["status"],
        "requests": s["requests"],
        "errors": s["errors_total"],
        "ttft_p50": ttft["p50"],
        "ttft_p99": ttft["p99"],
        "itl_p50": s["metrics"]["itl_ms"]["p50"],
        "cpu_max": run["generator"]["cpu_percent_max"],
        "saturated_s": run["generator"]["saturated_seconds"],
    }


def run_headless(url: str, core: int, users: int, seconds: float, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = ["taskset", "-c", str(core), LOADTUI, "--headless", "--no-live"]
        subprocess.run(
            [*cmd, *_load_args(url, users, seconds, out)],
            check=True,
            capture_output=True,
            env=env,
            timeout=seconds + 120,
        )
        return _figures(out, "headless")


def run_app(url: str, core: int, users: int, seconds: float, env: dict[str, str]) -> dict:
    """The app under tmux: started with --start, quit with ctrl+q once the run file exists."""
    sock = f"loadtui-bench-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        args = " ".join(_load_args(url, users, seconds, out))
        envs = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith("LOADTUI_"))
        command = f"env {envs} TERM=xterm-256color taskset -c {core} {LOADTUI} --start {args}"
        tmux = ["tmux", "-L", sock]
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", command], check=True
        )
        try:
            deadline = time.monotonic() + seconds + 120
            while not out.exists():
                if time.monotonic() > deadline:
                    pane = subprocess.run(
                        [*tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
                    ).stdout
                    raise SystemExit(f"the app never saved its run; the screen:\n{pane}")
                time.sleep(0.5)
            time.sleep(1.0)
            subprocess.run([*tmux, "send-keys", "-t", "b", "C-q"], check=True)
            time.sleep(1.0)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
        return _figures(out, "app")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--ttft", default="0.2", help="the mock's fixed TTFT in seconds")
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    a = p.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install tmux")
    ttft = f"{float(a.ttft) * 1000:g}ms"  # the mock's bare numbers are ms; ours is seconds
    mock, url = start_mock(a.server_core, "--ttft", ttft, "--itl", "20ms", "--tokens", "20")
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as dirs:
            env = {
                **os.environ,
                "LOADTUI_DATA_DIR": f"{dirs}/data",
                "LOADTUI_CONFIG_DIR": f"{dirs}/config",
            }
            for i in range(a.repeats):  # alternate, so drift in the machine hits both alike
                for runner in (run_headless, run_app):
                    row = runner(url, a.gen_core, a.users, a.seconds, env)
                    row["repeat"] = i + 1
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        mock.terminate()
    head = [r for r in rows if r["mode"] == "headless"]
    app = [r for r in rows if r["mode"] == "app"]
    med = {
        key: (statistics.median(r[key] for r in head), statistics.median(r[key] for r in app))
        for key in ("ttft_p50", "ttft_p99", "itl_p50", "requests", "cpu_max")
    }
    print(
        f"\n{a.users} streams, mock TTFT {float(a.ttft) * 1000:g} ms, {a.seconds:g} s × {a.repeats}"
    )
    print("| figure (median) | headless | app under tmux | app − headless |")
    print("|---|---:|---:|---:|")
    for key, (h, t) in med.items():
        print(f"| {key} | {h:,.2f} | {t:,.2f} | {t - h:+,.2f} |")
    result = {"args": vars(a), "runs": rows, "median": med}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "tui-latest.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
