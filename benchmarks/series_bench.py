"""What closing one second of the series costs the parent (``Series.finalize_through``), with
the ITL and TPOT percentiles the points carry since issue 11 and without them.

Each second gets one snapshot per worker holding a streaming load's interval histograms
(latency, TTFT, ITL — seven gaps an answer — and TPOT, spread as a loaded target spreads them);
the same snapshots are closed three ways: as before (latency and TTFT only, each percentile a
separate ``Histogram.percentile`` walk — the code before ITL/TPOT were added, reproduced here),
now without the ITL/TPOT histograms (a run that streams nothing), and now. Medians of
--seconds closes each, ``perf_counter``; decoding snapshots is not timed (it happens as they
arrive, the same in all three).

    python benchmarks/series_bench.py                      # 1,000 answers/s, 4 workers
    python benchmarks/series_bench.py --rate 10000 --seconds 60
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from loadtui.metrics import series as series_module
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.series import Series
from loadtui.model.record import Percentiles
from loadtui.model.snapshot import WorkerSnapshot

STREAM_ONLY = ("itl_ms", "tpot_ms")


def _interval(rate: int, rnd: random.Random) -> dict[str, Histogram]:
    """One worker's second of a streaming load: ``rate`` answers."""
    hists = {name: Histogram() for name in ("latency_ms", "ttft_ms", "itl_ms", "tpot_ms")}
    for _ in range(rate):
        ttft = rnd.lognormvariate(5.0, 0.5)  # ~150 ms, a long tail
        gaps = [rnd.lognormvariate(2.5, 0.4) for _ in range(7)]  # ~12 ms
        hists["ttft_ms"].record_ms(ttft)
        for gap in gaps:
            hists["itl_ms"].record_ms(gap)
        hists["tpot_ms"].record_ms(sum(gaps) / 7)
        hists["latency_ms"].record_ms(ttft + sum(gaps))
    return hists


def _closes(seconds: int, workers: int, rate: int, with_stream: bool) -> list[float]:
    rnd = random.Random(7)
    series = Series()
    per_worker = max(1, rate // workers)
    times = []
    for s in range(seconds):
        for w in range(workers):
            decoded = _interval(per_worker, rnd)
            if not with_stream:
                decoded = {k: h for k, h in decoded.items() if k not in STREAM_ONLY}
            snap = WorkerSnapshot(worker=w, t=s + 1.0, counters={"requests": per_worker})
            series.add(snap, decoded)
        start = time.perf_counter()
        series.finalize_through(s)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rate", type=int, default=1000, help="answers per second, all workers")
    args = parser.parse_args()
    now = series_module._pcts
    cases = (
        ("before: latency + TTFT, 3 walks", False, _walks),
        ("now, nothing streamed", False, now),
        ("now: + ITL, TPOT", True, now),
    )
    for label, with_stream, pcts in cases:
        series_module._pcts = pcts  # type: ignore[assignment]
        times = _closes(args.seconds, args.workers, args.rate, with_stream)
        ms = [t * 1000 for t in times]
        print(f"{label:32} median {statistics.median(ms):.3f} ms, max {max(ms):.3f} ms")
    series_module._pcts = now


def _walks(h: Histogram) -> Percentiles:
    """The point's percentiles as they were read before: one walk of the counts each."""
    if not h.count:
        return Percentiles()
    return Percentiles(p50=h.percentile(50), p95=h.percentile(95), p99=h.percentile(99))


if __name__ == "__main__":
    main()
