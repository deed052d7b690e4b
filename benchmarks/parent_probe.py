"""A tracemalloc probe for the loadtui parent process, loaded only by benchmarks.

``benchmarks/memory_bench.py --trace-parent A,B[,C]`` puts a ``sitecustomize.py`` that imports
this module on the run's ``PYTHONPATH``. Workers inherit the path but are told apart by their
command line (``spawn_main``), so only the parent (``python -m loadtui``) is traced. A daemon
thread starts tracemalloc A seconds after the interpreter started, takes a snapshot at B (every
allocation made since A that is still alive: what the run holds more since A, plus whatever is
in flight at that instant) and, with C, another at C: the difference C − B is what grew in
between, with the in-flight part mostly cancelled. The top lines (and the top tracebacks) go to
``LOADTUI_PROBE_OUT``. Never imported by loadtui: nothing is traced without the flag.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import tracemalloc

_T0 = time.monotonic()


def _is_parent() -> bool:
    argv = getattr(sys, "orig_argv", sys.argv)
    return "loadtui" in argv and not any("spawn_main" in a for a in argv)


def _dump(out: list[str], title: str, stats: list, n: int) -> None:
    out.append(f"\n## {title}")
    total = sum(getattr(s, "size_diff", s.size) for s in stats)
    out.append(f"total {total / 1024:.1f} KB in {len(stats)} entries")
    for s in stats[:n]:
        size = getattr(s, "size_diff", s.size)
        count = getattr(s, "count_diff", s.count)
        out.append(f"{size / 1024:9.1f} KB {count:8d} blocks  {s.traceback.format()[-1].strip()}")
        if len(s.traceback) > 1:
            for line in s.traceback.format()[:-1][-12:]:
                out.append("        " + line.rstrip())


def _probe(at: list[float], path: str) -> None:
    time.sleep(max(0.0, at[0] - (time.monotonic() - _T0)))
    tracemalloc.start(12)
    snaps = []
    for t in at[1:]:
        time.sleep(max(0.0, t - (time.monotonic() - _T0)))
        snaps.append(tracemalloc.take_snapshot())
    keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
    out = [f"# tracemalloc in the loadtui parent (pid {os.getpid()}), points {at} s"]
    first = snaps[0].filter_traces(keep)
    _dump(
        out,
        f"alive at {at[1]:g} s, allocated since {at[0]:g} s (by line)",
        first.statistics("lineno"),
        30,
    )
    _dump(out, "the same by traceback", first.statistics("traceback"), 8)
    if len(snaps) > 1:
        last = snaps[1].filter_traces(keep)
        grew = last.compare_to(first, "lineno")
        _dump(out, f"grew between {at[1]:g} s and {at[2]:g} s (by line)", grew, 30)
        _dump(out, "the same by traceback", last.compare_to(first, "traceback"), 8)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    tracemalloc.stop()


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _types() -> dict[str, int]:
    import collections
    import gc

    return dict(collections.Counter(type(o).__name__ for o in gc.get_objects()))


def _blocks(every: float, path: str) -> None:
    """Every ``every`` s: obmalloc's allocated blocks, the objects the GC tracks and RSS — a
    count that grows is objects held; RSS growing with flat counts is fragmentation. The
    tracked objects' types at the first and the last line are compared at the end."""
    lines = ["t_s blocks gc_objects rss_kb"]
    first = None
    try:
        while True:
            time.sleep(every)
            import gc

            n = len(gc.get_objects())
            lines.append(f"{time.monotonic() - _T0:.0f} {sys.getallocatedblocks()} {n} {_rss_kb()}")
            sys._debugmallocstats()  # obmalloc's arenas and pools, to the parent's stderr
            if first is None:
                first = _types()
            last = _types()
            grew = sorted(((last.get(k, 0) - first.get(k, 0), k) for k in last), reverse=True)
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n\ntypes grown since the first line:\n")
                f.write("\n".join(f"{d:8d} {k}" for d, k in grew[:25] if d) + "\n")
    except Exception as exc:  # the interpreter is going away
        print("probe:", exc, file=sys.stderr)


def _trim(every: float) -> None:
    """glibc's ``malloc_trim(0)`` every ``every`` s: gives back the free pages of every malloc
    arena (not only the heap's top). RSS that stops growing with it was free memory malloc kept."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    while True:
        time.sleep(every)
        libc.malloc_trim(0)


def install() -> None:
    if not _is_parent():
        return
    if os.environ.get("LOADTUI_PROBE_NO_CHECKPOINTS"):  # an experiment: what do they cost?
        from loadtui.run.checkpoint import Checkpoints

        Checkpoints.due = lambda self: False  # type: ignore[method-assign]
    if trim := float(os.environ.get("LOADTUI_PROBE_TRIM_EVERY") or 0):  # an experiment
        threading.Thread(target=_trim, args=(trim,), name="trim", daemon=True).start()
    if every := float(os.environ.get("LOADTUI_PROBE_BLOCKS_EVERY") or 0):
        out = os.environ.get("LOADTUI_PROBE_OUT", "parent-probe.txt") + ".blocks"
        threading.Thread(target=_blocks, args=(every, out), name="blocks", daemon=True).start()
    spec = os.environ.get("LOADTUI_PROBE_AT")
    if not spec:
        return
    at = [float(x) for x in spec.split(",")]
    path = os.environ.get("LOADTUI_PROBE_OUT", "parent-probe.txt")
    threading.Thread(target=_probe, args=(at, path), name="probe", daemon=True).start()
