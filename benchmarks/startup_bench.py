"""Start-up and exit time of loadtui (issue 15's start-up row), from launch to exit.

Launches, alternated (A, B, A, B ...) so a busy minute hurts both alike:

  A. ``loadtui --help``                                        wall time
  B. ``loadtui --headless --preset smoke --duration 1s``       wall time, and from its
     phase stamps (``LOADTUI_DEBUG_TIMING=1``, docs/performance.md): the first request the
     embedded mock received, and the time from the end of the load to the process's exit.

How the moments are taken: just before each launch this script reads ``time.monotonic()`` and
passes it as ``LOADTUI_TIMING_ORIGIN``, so every stamp loadtui and its child processes print
counts from the launch itself (interpreter start-up included) on the system-wide monotonic
clock (Linux). "First request" is the embedded mock's stamp of the first request it received
(stamped in the mock's process, where it arrives); "load ended" is the session's stamp as the
load stops; the exit is when ``wait()`` returns here. The stamps are a few lines on stderr; the
mock's first-request stamp is a middleware present only with the debug log on.

CPU time is the launch's whole process tree (its children are reaped, so ``RUSAGE_CHILDREN``
holds them): far less noisy than wall time on a shared machine. The figures are medians; the
load average is read before and after.

    python benchmarks/startup_bench.py                  # 7 launches of each, ~30 s
    python benchmarks/startup_bench.py --short          # 3 of each, ~15 s
    python benchmarks/startup_bench.py --json out.json  # the figures as JSON too
    python benchmarks/startup_bench.py --taskset 0      # every process pinned to core 0
    python benchmarks/startup_bench.py --baseline DIR   # and, alternated, the loadtui in DIR

``--baseline DIR`` compares two versions in the same minutes: DIR holds another loadtui's
sources (``DIR/loadtui/__init__.py``; e.g. ``git archive main src presets themes | tar -x -C /tmp/base`` and
``--baseline /tmp/base/src``), run by the same console script and venv through ``PYTHONPATH``;
each round launches the baseline's pair, then this tree's.

Also prints the 12 slowest imports (self time) of ``import loadtui.cli`` (``-X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PY = sys.executable
LOADTUI = str(Path(PY).with_name("loadtui"))  # the console script, as a user runs it
SMOKE = ["--headless", "--preset", "smoke", "--duration", "1s"]
STAMP = re.compile(r"^loadtui timing:\s+([\d.]+) s  (.*?)  \[pid (\d+)(?:, cpu ([\d.]+) s)?\]$")
"""A phase stamp: seconds from launch, the phase, the process, its CPU so far (newer stamps)."""


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _launch(argv: list[str], env: dict[str, str], pin: str | None) -> dict[str, Any]:
    """One launch: wall seconds, CPU seconds of its process tree, its stamps, its exit code."""
    cmd = ["taskset", "-c", pin, *argv] if pin else argv
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    origin = time.monotonic()
    env = {**env, "LOADTUI_TIMING_ORIGIN": repr(origin)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - origin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stamps: list[tuple[float, str]] = []
    cpus: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if m := STAMP.match(line):
            stamps.append((float(m.group(1)), m.group(2)))
            if m.group(4) is not None:
                cpus[m.group(2)] = float(m.group(4))
    if proc.returncode not in (0,):
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return {"wall": wall, "cpu": cpu, "stamps": stamps, "stamp_cpus": cpus}


def _compiled_once(env: dict[str, str], folder: str) -> None:
    """An installed loadtui runs from compiled bytecode. Where the environment forbids writing
    it (``PYTHONDONTWRITEBYTECODE``, to keep ``__pycache__`` out of a checkout) every launch —
    and every child — would compile loadtui's sources again, some 0.25 s of CPU each: the
    compiled files go to a temporary folder instead (``PYTHONPYCACHEPREFIX``), never the tree."""
    if env.pop("PYTHONDONTWRITEBYTECODE", None) and not env.get("PYTHONPYCACHEPREFIX"):
        env["PYTHONPYCACHEPREFIX"] = os.path.join(folder, "pyc")


def _first(stamps: list[tuple[float, str]], prefix: str) -> float | None:
    return next((t for t, what in stamps if what.startswith(prefix)), None)


def _smoke_figures(run: dict[str, Any]) -> dict[str, Any]:
    stamps = run["stamps"]
    first = _first(stamps, "server process: first request")
    ended = _first(stamps, "session: load ended")
    return {
        "wall": run["wall"],
        "cpu": run["cpu"],
        "first_request": first,
        "exit_after_load": None if ended is None else run["wall"] - ended,
        "phases": {what: t for t, what in stamps},
        "phase_cpus": run["stamp_cpus"],
    }


def _median(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.median(got), 3) if got else None


def importtime_top(env: dict[str, str], n: int = 12) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of the slowest imports of ``import loadtui.cli``."""
    out = subprocess.run(
        [PY, "-X", "importtime", "-c", "import loadtui.cli"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, total, name = line[len("import time:") :].split("|")
        rows.append((name.strip(), int(own), int(total)))
    total_us = next((t for name, _, t in rows if name == "loadtui.cli"), 0)
    top = sorted(rows, key=lambda r: -r[1])[:n]
    return [("(import loadtui.cli, cumulative)", 0, total_us), *top]


def _one_round(env: dict[str, str], pin: str | None) -> tuple[float, dict[str, Any]]:
    """One timed pair of one side: (``--help`` wall, the smoke run's figures)."""
    help_wall = _launch([LOADTUI, "--help"], env, pin)["wall"]
    return help_wall, _smoke_figures(_launch([LOADTUI, *SMOKE], env, pin))


def _phase_name(what: str) -> str:
    """Workers' phases as one (``worker 3: ready`` → ``worker N: ready``)."""
    return re.sub(r"\d+", "N", what) if "worker" in what else what


def _figures(helps: list[float], smokes: list[dict[str, Any]]) -> dict[str, Any]:
    phases: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for s in smokes:
        for what, t in s["phases"].items():
            phases.setdefault(_phase_name(what), []).append(t)
        for what, c in s["phase_cpus"].items():
            cpus.setdefault(_phase_name(what), []).append(c)
    return {
        "help_wall_s": _median(helps),
        "smoke_wall_s": _median([s["wall"] for s in smokes]),
        "smoke_cpu_s": _median([s["cpu"] for s in smokes]),
        "first_request_s": _median([s["first_request"] for s in smokes]),
        "exit_after_load_s": _median([s["exit_after_load"] for s in smokes]),
        "phases_s": {what: _median(list(ts)) for what, ts in phases.items()},
        "phases_cpu_s": {what: _median(list(cs)) for what, cs in cpus.items()},
        "samples": {
            "help_wall_s": [round(h, 3) for h in helps],
            "smoke_wall_s": [round(s["wall"], 3) for s in smokes],
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=7, help="launches of each (default 7)")
    p.add_argument("--short", action="store_true", help="3 launches of each (< 60 s)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    p.add_argument("--taskset", metavar="CPUS", help="pin every process (taskset -c CPUS)")
    p.add_argument(
        "--baseline", type=Path, metavar="DIR", help="also the loadtui sources in DIR, alternated"
    )
    args = p.parse_args()
    runs = 3 if args.short else args.runs
    if args.taskset and not shutil.which("taskset"):
        sys.exit("--taskset needs the taskset command")
    data = tempfile.mkdtemp(prefix="loadtui-startup-")
    env = {**os.environ, "LOADTUI_DATA_DIR": data, "LOADTUI_CONFIG_DIR": data}
    env["LOADTUI_DEBUG_TIMING"] = "1"
    _compiled_once(env, data)
    sides = {"this tree": env}
    if args.baseline is not None:
        if not (args.baseline / "loadtui" / "__init__.py").is_file():
            sys.exit(f"--baseline {args.baseline}: no loadtui package there")
        base = {**env, "PYTHONPATH": str(args.baseline.resolve())}
        sides = {"baseline": base, "this tree": env}
    load_before = _loadavg()
    for side_env in sides.values():  # not counted: warm the page cache and the bytecode
        _launch([LOADTUI, "--help"], side_env, args.taskset)
        _launch([LOADTUI, *SMOKE], side_env, args.taskset)
    got: dict[str, tuple[list[float], list[dict[str, Any]]]] = {n: ([], []) for n in sides}
    try:
        for _ in range(runs):
            for name, side_env in sides.items():
                help_wall, smoke = _one_round(side_env, args.taskset)
                got[name][0].append(help_wall)
                got[name][1].append(smoke)
        top = importtime_top(env)  # the compiled files are still there
    finally:
        shutil.rmtree(data, ignore_errors=True)
    figures: dict[str, Any] = {
        "runs": runs,
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
        "taskset": args.taskset,
        **_figures(*got["this tree"]),
        "importtime_top_us": top,
    }
    if args.baseline is not None:
        figures["baseline"] = {"path": str(args.baseline), **_figures(*got["baseline"])}
    _print(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _print(f: dict[str, Any]) -> None:
    print(
        f"launches: {f['runs']} of each; load average {f['loadavg_before']} → {f['loadavg_after']}"
    )
    print(f"loadtui --help                     wall {f['help_wall_s']} s")
    print(
        f"smoke --duration 1s                wall {f['smoke_wall_s']} s, CPU {f['smoke_cpu_s']} s"
    )
    print(f"  launch → first request (mock)    {f['first_request_s']} s")
    print(f"  end of load → exit               {f['exit_after_load_s']} s")
    print("phases (median seconds from launch; the CPU its process had used by then):")
    for what, t in sorted(f["phases_s"].items(), key=lambda kv: kv[1] or 0):
        cpu = f["phases_cpu_s"].get(what)
        print(f"  {t:7.3f}  {what}" + ("" if cpu is None else f"  (cpu {cpu:.3f})"))
    if "baseline" in f:
        b = f["baseline"]
        print(f"baseline {b['path']} (alternated with the above):")
        print(f"  loadtui --help                   wall {b['help_wall_s']} s")
        print(f"  smoke wall {b['smoke_wall_s']} s, CPU {b['smoke_cpu_s']} s")
        print(f"  launch → first request (mock)    {b['first_request_s']} s")
        print(f"  end of load → exit               {b['exit_after_load_s']} s")
    print("slowest imports of `import loadtui.cli` (self µs, cumulative µs):")
    for name, own, total in f["importtime_top_us"]:
        print(f"  {own:8} {total:8}  {name}")


if __name__ == "__main__":
    main()
