"""The parent's CPU on the generator's core: what the coordinator costs while load runs.

Issue 15: the coordinator (the ``loadtui`` process: drive loop, snapshot merging, the series,
frames, checkpoints) shares the generator's core with the worker, so every millisecond it
spends is one the worker did not get. This runs ``loadtui --headless --no-live`` pinned to
core 0 against benchmarks/sse_upstream.py on core 1 and reads the parent's CPU time alone
(``/proc/PID/stat``, user + system) over a steady window of the load:

    python benchmarks/parent_cpu.py                     # both loads, 2 rounds, 20 s windows
    python benchmarks/parent_cpu.py --short             # one round, 8 s windows (< 60 s)
    python benchmarks/parent_cpu.py --baseline-src /tmp/base/src   # before/after, alternating
    python benchmarks/parent_cpu.py --load streams --profile       # py-spy on the parent
    python benchmarks/parent_cpu.py --checkpoints       # one checkpoint's CPU at 5 min … 2 h

Loads: ``nonstream`` (64 closed-loop users, no think time, non-streamed answers at once) and
``streams`` (1,000 streams, TTFT 50 ms, 50 chunks 50 ms apart: 20,000 chunks/s). With
``--baseline-src`` the same loads run from another source tree (``git archive`` of an older
commit), alternating with this one in each round (same minute). Prints the parent's CPU as a
share of one core and in µs per request, and writes JSON (benchmarks/results/parent_cpu.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import PY, _pin  # noqa: E402
from memory_bench import cpu_s  # noqa: E402
from profile_worker import _top  # noqa: E402

LOADS = {  # upstream's args, users, streamed
    "nonstream": ((), 64, False),
    "streams": (("--ttft", "50", "--itl", "50", "--tokens", "50"), 1000, True),
}


def _upstream(extra: tuple[str, ...]) -> tuple[subprocess.Popen[str], str]:
    cmd = [PY, str(HERE / "sse_upstream.py"), "--port", "0", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=_pin(1))
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"sse_upstream did not start: {line!r}")
    return proc, line.split("listening on ", 1)[1].strip()


def one(a: argparse.Namespace, load: str, src: str | None, profile: Path | None) -> dict[str, Any]:
    """One run: the parent's CPU over ``a.window`` seconds after ``a.settle`` s of load."""
    extra, users, stream = LOADS[load]
    up, url = _upstream(extra)
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "LOADTUI_DATA_DIR": tmp, "LOADTUI_CONFIG_DIR": tmp}
    if src:
        env["PYTHONPATH"] = src
    cmd = [PY, "-m", "loadtui", "--headless", "--no-live", "--preset", "baseline"]
    cmd += ["--url", url + "/v1", "--users", str(users), "--spawn-rate", str(users)]
    cmd += ["--think-time", "0", "--workers", "1", "--max-tokens", "50"]
    cmd += ["--duration", f"{a.settle + a.window + 2:g}s", "--stream" if stream else "--no-stream"]
    cmd += ["--out", f"{tmp}/run.json"]
    gen = subprocess.Popen(cmd, preexec_fn=_pin(0), env=env, stdout=subprocess.DEVNULL)
    try:
        time.sleep(a.settle)
        cpu0, t0 = cpu_s(gen.pid) or 0.0, time.monotonic()
        if profile is not None:
            spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
            rec = [spy, "record", "--pid", str(gen.pid), "-d", str(int(a.window)), "-f", "raw"]
            rec += ["-o", str(profile), "-r", "250", "--gil"]
            subprocess.run(rec, check=True, capture_output=True)
        else:
            time.sleep(a.window)
        cpu, span = (cpu_s(gen.pid) or 0.0) - cpu0, time.monotonic() - t0
        gen.wait()
        s = json.loads(Path(f"{tmp}/run.json").read_text())["summary"]
    finally:
        gen.kill()
        up.terminate()
        up.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    rps = s["requests"] / s["duration_s"]
    return {
        "parent_cpu_pct": round(100 * cpu / span, 2),
        "parent_us_per_request": round(1e6 * cpu / span / rps, 2) if rps else None,
        "rps": round(rps, 1),
    }


def checkpoint_row(sizes: tuple[int, ...] = (300, 1800, 7200)) -> dict[str, Any]:
    """In this process: the CPU of one checkpoint's write (``save_run``, to a temp file) of a
    run with N seconds of series, encoding the whole series (before) and with the points of
    the earlier checkpoints kept as text (``SeriesText``: 5 new points, a checkpoint 5 s on).
    A checkpoint runs every 5 s (more when it takes long) on a thread of the parent."""
    from dataclasses import replace

    from loadtui.storage.runfile import load_record, save_run
    from loadtui.storage.seriestext import SeriesText

    rec = load_record(HERE.parent / "tests" / "data" / "run-mix.json")
    p = rec.series[-1]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.json"
        for n in sizes:
            series = tuple(replace(p, t=i, rps=1000 + i) for i in range(n))
            run, text = replace(rec, series=series), SeriesText()
            save_run(replace(run, series=series[:-5]), path, remember=False, series_text=text)
            costs = {}
            for name, kept in (("whole", None), ("kept", text), ("whole", None)):
                c0 = time.process_time()
                save_run(run, path, remember=False, series_text=kept)
                costs[name] = round(1000 * (time.process_time() - c0), 2)
            out[str(n)] = costs
            print(
                f"checkpoint at {n:5d} s of series: whole {costs['whole']:7.1f} ms CPU,"
                f" points kept {costs['kept']:5.1f} ms",
                flush=True,
            )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load", choices=["both", *LOADS], default="both")
    p.add_argument("--short", action="store_true", help="one round, 8 s windows")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--window", type=float, default=20.0)
    p.add_argument("--settle", type=float, default=4.0, help="seconds of load before the window")
    p.add_argument("--baseline-src", help="a source tree to alternate with (before/after)")
    p.add_argument("--profile", action="store_true", help="py-spy the parent (this tree's run)")
    p.add_argument("--checkpoints", action="store_true", help="only a checkpoint's CPU (in here)")
    p.add_argument("--json", default=str(HERE / "results" / "parent_cpu.json"))
    a = p.parse_args()
    if a.short:
        a.rounds, a.window = 1, 8.0
    loads = list(LOADS) if a.load == "both" else [a.load]
    (HERE / "results").mkdir(exist_ok=True)
    if a.checkpoints:
        Path(a.json).write_text(json.dumps({"checkpoint_ms": checkpoint_row()}, indent=2) + "\n")
        return
    variants = [("now", None)] + ([("baseline", a.baseline_src)] if a.baseline_src else [])
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for load in loads:
        for r in range(a.rounds):
            for name, src in variants if r % 2 == 0 else variants[::-1]:
                prof = HERE / "results" / f"parent-{load}.txt" if a.profile and not src else None
                got = one(a, load, src, prof)
                got["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                print(f"{load:9} {name:8} round {r + 1}: {got}", flush=True)
                raw.setdefault(load, {}).setdefault(name, []).append(got)
                if prof is not None:
                    _top(prof, 25)
    out: dict[str, Any] = {"raw": raw, "median": {}, "checkpoint_ms": checkpoint_row()}
    for load, by in raw.items():
        for name, runs in by.items():
            med = {k: statistics.median(r[k] for r in runs) for k in ("parent_cpu_pct", "rps")}
            med["parent_us_per_request"] = statistics.median(
                r["parent_us_per_request"] or 0.0 for r in runs
            )
            out["median"][f"{load} {name}"] = med
            print(
                f"{load:9} {name:8} median: parent CPU {med['parent_cpu_pct']:.1f} % of a core,"
                f" {med['parent_us_per_request']:.1f} µs a request, {med['rps']:,.0f} req/s"
            )
    Path(a.json).parent.mkdir(exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
