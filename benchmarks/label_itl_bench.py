"""What per-label ITL costs a streaming run.

In a run with several labels ``read_stream`` records a stream's ITL gaps into its label's
histogram (``Recorder.itl_of``), and ``Recorder.drain`` adds each label's histogram to the
run's ITL four times a second (``fold_label_itl``); a one-label run records into the run's
histogram as before. Two measures, on one pinned core:

* ``segments``: the worker's own request path (``client.execute``: send, read the SSE stream,
  book; the recorder drained every 0.25 s as the reporter does) in one process, 64 users
  alternating two streamed labels against the zero-delay mock (``--tokens`` events an answer),
  with per-label ITL on in one second of each pair of seconds (which one: at random) and off in
  the other (``Recorder.itl_of`` swapped for the run's histogram, as before per-label ITL):
  adjacent seconds see the same neighbours on a shared machine. CPU µs per streamed event
  (process CPU / requests / tokens) with and without; the cost is the median of the pairs'
  ratios.
* ``micro``: CPU ns per ``Histogram.record_ms`` (what recording each gap twice would add per
  event) and CPU µs per ``Histogram.merge`` of a label's interval (what the fold adds per label
  per drain).

    python benchmarks/label_itl_bench.py            # 40 segments (~50 s)
    python benchmarks/label_itl_bench.py --short    # 20 segments (~30 s)

Results go to stdout and to benchmarks/results/label_itl.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time

from bench import HERE, start_mock

from loadtui.engine.client import UserStatus, execute
from loadtui.engine.context import WorkerContext, WorkerSpec
from loadtui.engine.wire import Wire
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Recorder
from loadtui.model.plan import RunConfig
from loadtui.runtime import aio

_ITL_OF = Recorder.itl_of


def _run_histogram_only(self: Recorder, name: str) -> Histogram:
    return self.hist["itl_ms"]  # before per-label ITL: the run's histogram alone


def _set_per_label(on: bool) -> None:
    Recorder.itl_of = _ITL_OF if on else _run_histogram_only  # type: ignore[method-assign]


async def _segments(url: str, users: int, count: int, tokens: int) -> list[tuple[bool, float]]:
    """(per-label ITL on, CPU µs per streamed event) of each one-second segment."""
    config = RunConfig(
        requests=[
            {"kind": "chat", "name": name, "stream": True, "max_tokens": tokens}
            for name in ("a", "b")
        ],
        load={"mode": "closed", "users": users, "think_time": 0},
    )
    ctx = WorkerContext(WorkerSpec(0, 1, config, url), lambda where, exc: None)
    done = [0]
    async with Wire() as session:

        async def user(uid: int) -> None:
            status = UserStatus(uid)
            i = uid
            while True:
                (prep,) = ctx.mix.next_round(i)
                i += 1
                await execute(session, prep, ctx.rec, status)
                done[0] += 1

        async def reporter() -> None:
            while True:
                await asyncio.sleep(0.25)
                ctx.rec.drain(0, 0.0)

        tasks = [asyncio.ensure_future(user(u)) for u in range(users)]
        tasks.append(asyncio.ensure_future(reporter()))
        await asyncio.sleep(2.0)  # warm up: connections open
        order = random.Random(11)
        plan: list[bool] = []
        for _ in range(count // 2):
            first = order.random() < 0.5
            plan += [first, not first]
        out = []
        for on in plan:
            _set_per_label(on)
            cpu, before = time.process_time(), done[0]
            await asyncio.sleep(1.0)
            n = max(1, done[0] - before)
            out.append((on, 1e6 * (time.process_time() - cpu) / n / tokens))
        _set_per_label(True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return out


def micro(pairs: int = 5, calls: int = 200_000) -> dict[str, float]:
    """CPU ns per ``record_ms`` call and CPU µs per ``merge`` of a label's interval (a few
    hundred gaps) into the run's histogram."""
    run, label = Histogram(), Histogram()
    for i in range(500):
        label.record_ms(5.0 + i * 0.05)
    records, merges = [], []
    for _ in range(pairs):
        cpu = time.process_time()
        for i in range(calls):
            run.record_ms(10.0 + (i & 63) * 0.1)
        records.append(1e9 * (time.process_time() - cpu) / calls)
        cpu = time.process_time()
        for _ in range(1000):
            run.merge(label)
        merges.append(1e6 * (time.process_time() - cpu) / 1000)
    return {
        "record_ns": round(statistics.median(records), 1),
        "merge_us": round(statistics.median(merges), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--segments", type=int, default=40)
    p.add_argument("--short", action="store_true", help="20 segments, fewer micro calls")
    p.add_argument("--users", type=int, default=64)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    a = p.parse_args()
    count = 20 if a.short else a.segments
    os.sched_setaffinity(0, {a.gen_core})
    load_before = os.getloadavg()[0]
    per_call = micro(3 if a.short else 5)
    mock, url = start_mock(
        a.server_core,
        "--latency",
        "0ms",
        "--ttft",
        "0ms",
        "--itl",
        "0ms",
        "--tokens",
        str(a.tokens),
    )
    try:
        got = aio.run(_segments(url, a.users, count, a.tokens))
    finally:
        mock.terminate()
        mock.wait()
    pairs = [(got[i], got[i + 1]) for i in range(0, len(got) - 1, 2)]
    ratios = [(x[1] / y[1]) if x[0] else (y[1] / x[1]) for x, y in pairs]
    on = statistics.median(us for flag, us in got if flag)
    off = statistics.median(us for flag, us in got if not flag)
    results = {
        "users": a.users,
        "tokens": a.tokens,
        "segments": count,
        "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_us_per_event_without": round(off, 3),
        "cpu_us_per_event_with": round(on, 3),
        "pair_ratios": [round(r, 4) for r in ratios],
        "cost_percent": round(100 * (statistics.median(ratios) - 1), 2),
        "record_ms_ns": per_call["record_ns"],
        "merge_us": per_call["merge_us"],
    }
    print(
        f"per streamed event: {off:.2f} µs CPU without per-label ITL, {on:.2f} µs with; median "
        f"pair ratio {statistics.median(ratios):.3f} (cost {results['cost_percent']:+.2f} %); "
        f"record_ms {per_call['record_ns']:.0f} ns, merge {per_call['merge_us']:.1f} µs; "
        f"load average {results['loadavg_1min']}"
    )
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    (folder / "label_itl.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
