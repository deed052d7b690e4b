"""The cost of ``abort_on_fail``: one judgement of the abortable thresholds on live figures.

The drive loop judges them once a second of run time, only in a run that has some: a summary of
the merged histograms (``Aggregate.summary``) and the thresholds over it, on the coordinator's
thread. This times that judgement on an aggregate filled as a long busy run would be (every
histogram and four labels holding spread-out samples), with two whole-run and two per-label
thresholds, none failing (so every one is judged), beside the whole summary a live frame makes.
A histogram's summary scans its non-empty buckets, so the cost grows with the spread of the
values (``--sigma``), not with their number.

    python benchmarks/abort_check.py            # a few seconds
    python benchmarks/abort_check.py --samples 1000000 --repeats 50
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from types import SimpleNamespace
from typing import Any

from loadtui.metrics.stats import HISTOGRAMS, Aggregate, LabelStats
from loadtui.model.plan import RunConfig
from loadtui.run.abort import AbortWatch

LABELS = ("chat", "chat stream", "chat + system", "health")


def _filled(samples: int, sigma: float = 0.5) -> Aggregate:
    rng = random.Random(1)
    agg = Aggregate()
    for name in HISTOGRAMS:
        h = agg.hist[name]
        for _ in range(samples):
            h.record_ms(rng.lognormvariate(5.0, sigma))
    for label in LABELS:
        stats = agg.labels[label] = LabelStats()
        for _ in range(samples // len(LABELS)):
            stats.record(rng.lognormvariate(6.0, sigma), True, rng.lognormvariate(4.0, sigma))
    agg.counters.update(requests=samples, ok=samples)
    return agg


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--samples", type=int, default=200_000, help="samples per histogram")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument(
        "--sigma",
        type=float,
        default=0.5,
        help="spread of the log-normal samples: the wider, the more histogram buckets to scan",
    )
    args = p.parse_args()
    config = RunConfig.model_validate(
        {
            "requests": [
                {"name": "chat", "kind": "chat"},
                {"name": "chat stream", "kind": "chat", "stream": True},
                {"name": "chat + system", "kind": "chat", "stream": True},
                {"kind": "health"},
            ],
            "thresholds": {
                m: [{"threshold": e, "abort_on_fail": True}]
                for m, e in (
                    ("latency", "p(95)<1000000000"),
                    ("ttft", "p(99)<1000000000"),
                    ("latency{label:chat}", "p(95)<1000000000"),
                    ("error_rate{label:health}", "rate<0.5"),
                )
            },
        }
    )
    agg = _filled(args.samples, args.sigma)
    coord: Any = SimpleNamespace(totals=agg, elapsed=0.0)
    watch = AbortWatch(config)
    took = []
    for i in range(args.repeats):
        coord.elapsed = float(i + 1)  # due every time: once a second of run time
        start = time.perf_counter()
        assert watch.check(coord) is None
        took.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    agg.summary(float(args.repeats))
    whole = (time.perf_counter() - start) * 1000
    print(
        f"whole Aggregate.summary (what a live frame pays): {whole:.1f} ms; "
        f"abort_on_fail judgement: median {statistics.median(took):.2f} ms, "
        f"max {max(took):.2f} ms over {args.repeats} ({args.samples:,} samples a histogram, sigma {args.sigma:g})"
    )


if __name__ == "__main__":
    main()
