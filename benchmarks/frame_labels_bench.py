"""What per-label ITL and TPOT cost a live frame and a worker's drain, with 20 streamed labels.

A live frame summarises the run's merged figures (``Aggregate.summary``, most of a frame's
cost; the console builds 4 frames a second, the app 2). Since labels keep ITL and TPOT, the
whole summary summarises four histograms per label, each a scan of all 23,552 buckets; a live
frame now takes ``live=`` (``LabelStats.live_summary``: latency and TTFT whole, ITL's count and
p50, no TPOT). This times, in alternating pairs on one aggregate filled as a multi-turn run's
(20 ``turn k`` labels, every one streamed):

- ``whole``: ``summary(d)``, every label in full, what every frame did before (and what the
  saved run and the last frame still do);
- ``live``: ``summary(d, live={})``, what a live frame does now;
- ``none``: the same aggregate without labels, a run of one label (the reference).

and a worker's drain (``Recorder.drain``) with the 20 labels streamed or not: a streamed label
encodes two more histograms (ITL, TPOT) per drain, 4 drains a second. Figures are CPU time
(``time.process_time``) per call, medians over the pairs; pin with ``taskset -c 1``. Results
go to stdout and to benchmarks/results/frame_labels.json.

    taskset -c 1 python benchmarks/frame_labels_bench.py            # ~25 s
    taskset -c 1 python benchmarks/frame_labels_bench.py --short    # ~8 s

Before/after: run it alternately on an older tree (``git archive <commit> src | tar -x -C
/tmp/old``, then ``PYTHONPATH=/tmp/old/src``); its ``whole`` is what its frames did.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import loadtui
from loadtui.metrics.stats import Aggregate, Recorder, decode_histograms

LABELS = [f"turn {k}" for k in range(20)]


def _recorder(samples: int, streamed: bool, rng: random.Random) -> Recorder:
    """A worker's interval: every label with ``samples`` requests (and 50 gaps each)."""
    rec = Recorder()
    for name in LABELS:
        stats = rec.label(name)
        for _ in range(samples):
            latency = rng.lognormvariate(7.5, 0.6)  # multi-second answers
            stats.record(latency, True, rng.lognormvariate(5.0, 0.5))
            rec.hist["latency_ms"].record_ms(latency)
            if streamed:
                itl = rec.itl_of(name)
                for _ in range(50):
                    itl.record_ms(rng.lognormvariate(3.0, 0.4))
                stats.tpot.record_ms(rng.lognormvariate(3.0, 0.3))
    rec.requests = samples * len(LABELS)
    return rec


def _filled(samples: int) -> Aggregate:
    rng = random.Random(1)
    agg = Aggregate()
    for _ in range(4):  # four snapshots' worth, as a coordinator merges them
        snap = _recorder(samples, True, rng).drain(0, 1.0)
        agg.add_decoded(snap, decode_histograms(snap))
    return agg


def _cpu_ms(fn: Callable[[], object], repeats: int) -> float:
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) * 1000.0 / repeats


def _pairs(fns: dict[str, Callable[[], object]], pairs: int, repeats: int) -> dict[str, float]:
    """Median CPU ms per call of each, measured in turn, ``pairs`` times (A, B, C, A, B, C…)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(pairs):
        for name, fn in fns.items():
            times[name].append(_cpu_ms(fn, repeats))
    return {name: round(statistics.median(t), 3) for name, t in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--short", action="store_true", help="fewer pairs (~8 s)")
    p.add_argument(
        "--json", type=Path, default=Path(__file__).parent / "results" / "frame_labels.json"
    )
    args = p.parse_args()
    pairs, repeats = (5, 3) if args.short else (15, 5)
    agg = _filled(samples=200)
    bare = Aggregate()
    bare.merge(agg)
    bare.labels.clear()
    d = 60.0
    fns: dict[str, Callable[[], object]] = {
        "whole": lambda: agg.summary(d),
        "live": lambda: agg.summary(d, live={}),
        "none": lambda: bare.summary(d),
    }
    if "live" not in inspect.signature(Aggregate.summary).parameters:
        del fns["live"]  # a tree from before live frames (PYTHONPATH=<old tree>/src)
    frame = _pairs(fns, pairs, repeats)
    # a drain's cost alone: build each interval outside the timing
    rng = random.Random(3)
    drain: dict[str, list[float]] = {"streamed": [], "not streamed": []}
    for _ in range(pairs * repeats):
        for streamed, key in ((True, "streamed"), (False, "not streamed")):
            rec = _recorder(5, streamed, rng)
            start = time.process_time()
            rec.drain(0, 1.0)
            drain[key].append((time.process_time() - start) * 1000.0)
    drains = {f"drain {k}": round(statistics.median(v), 3) for k, v in drain.items()}
    extra = (drains["drain streamed"] - drains["drain not streamed"]) / len(LABELS) / 2
    out = {
        "labels": len(LABELS),
        "frame_summary_cpu_ms": frame,
        "drain_cpu_ms": drains,
        "extra_encode_us_per_streamed_label_histogram": round(extra * 1000.0, 1),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "cpus": sorted(os.sched_getaffinity(0)),
        "loadtui": str(Path(loadtui.__file__).parent),
    }
    print(json.dumps(out, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
