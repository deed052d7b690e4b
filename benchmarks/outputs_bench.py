"""Outputs on a long run: do show, compare, report and export stay fast on a 1-hour run file?

A 1-hour run file holds 3,600 per-second points, its controls and the exact histograms. This
makes one from a real short run against the embedded mock (its summary, histograms and config
are real; its series is stretched to an hour with varying figures and a live control every
5 minutes), then times each output command as a user runs it (a new process each time, so the
figures include Python's start-up), best of ``--repeat``:

    python benchmarks/outputs_bench.py            # prints a table; goal: each under 2 s
    python benchmarks/outputs_bench.py --short    # one try each (~20 s)

Results (and the load average before and after) also go to benchmarks/results/outputs.json.

Only loopback is a target. Figures: docs/performance.md, "Outputs on a 1-hour run".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOADTUI = [sys.executable, "-m", "loadtui"]
GOAL_S = 2.0


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOADTUI, *args], env=env, capture_output=True, text=True, check=False)


def _point(t: int, base: dict) -> dict:
    """Second ``t`` of the stretched run: a slow wave on the load and on the latencies."""
    wave = 1.0 + 0.5 * math.sin(t / 300.0)
    point = dict(base)
    point.update(t=t, users=int(20 * wave), rps=int(50 * wave), arrivals=int(50 * wave))
    for key in ("latency_ms", "ttft_ms"):
        p = base.get(key) or {}
        point[key] = {q: (v * wave if v is not None else None) for q, v in p.items()}
    return point


def make_hour_run(folder: Path, env: dict[str, str]) -> Path:
    """A real 3 s smoke run, its series stretched to 3,600 points, saved as a new file."""
    short = folder / "short.json"
    done = _run(["--headless", "--preset", "smoke", "--duration", "3s", "--out", str(short)], env)
    if not short.exists():
        sys.exit(f"the short run failed: {done.stderr.strip()[-400:]}")
    run = json.loads(short.read_text())
    base = run["series"][len(run["series"]) // 2]
    run["series"] = [_point(t, base) for t in range(3600)]
    run["controls"] = [
        {"at": float(t), "action": "users", "value": 10 + (t // 300) % 5 * 5, "source": "live"}
        for t in range(300, 3600, 300)
    ]
    run["summary"]["duration_s"] = 3600.0
    run["id"] = run["id"] + "-hour"
    hour = folder / "hour.json"
    hour.write_text(json.dumps(run, indent=2))
    return hour


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--short", action="store_true", help="one try per command (under 60 s)")
    args = ap.parse_args()
    if args.short:
        args.repeat = 1
    results: dict[str, object] = {"goal_s": GOAL_S, "repeat": args.repeat, "best_s": {}}
    results["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "LOADTUI_DATA_DIR": str(folder / "data")}
        env["LOADTUI_CONFIG_DIR"] = str(folder / "config")
        hour = make_hour_run(folder, env)
        print(f"1-hour run file: {hour.stat().st_size / 1e6:.1f} MB, 3,600 points")
        commands = {
            "show": ["show", str(hour)],
            "show --json": ["show", str(hour), "--json"],
            "compare": ["compare", str(hour), str(hour)],
            "report": ["report", str(hour), "-o", str(folder / "r.html")],
            "export csv": ["export", str(hour), "--format", "csv", "-o", str(folder / "x")],
            "export junit": ["export", str(hour), "--format", "junit", "-o", str(folder / "j.xml")],
            "export summary-json": [
                "export",
                str(hour),
                "--format",
                "summary-json",
                "-o",
                str(folder / "s.json"),
            ],
        }
        print(f"{'command':22} {'best s':>7}  goal < {GOAL_S:g} s")
        for name, argv in commands.items():
            best = math.inf
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                done = _run(argv, env)
                best = min(best, time.perf_counter() - t0)
                if done.returncode not in (0, 1):
                    sys.exit(f"{name} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
            print(f"{name:22} {best:7.2f}  {'ok' if best < GOAL_S else 'SLOW'}")
            results["best_s"][name] = round(best, 3)  # type: ignore[index]
        results["file_mb"] = round(hour.stat().st_size / 1e6, 2)
    results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print("load average before / after: {} / {}".format(*(results[k] for k in _LOADAVG)))
    folder = Path(__file__).parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / "outputs.json").write_text(json.dumps(results, indent=2) + "\n")


_LOADAVG = ("loadavg_before", "loadavg_after")


if __name__ == "__main__":
    main()
