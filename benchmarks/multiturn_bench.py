"""What multi-turn conversations cost the worker, and that single requests pay nothing for them.

In-process, as ``record_requests_bench.py --segments`` does it (on a shared machine whole runs
swing by ±50 % with the neighbours, far more than what is measured): 64 users with no think
time in one process pinned to --gen-core send streamed chat requests through the worker's own
request path (``client.execute``) to the zero-delay mock pinned to --server-core (16 tokens an
answer). Seconds come in pairs, one second for each side (which first: at random), so adjacent
seconds see the same neighbours; each side's figure is the median over the pairs of its
req/s ratio to the other side, and CPU µs per request.

Sides:

- ``--compare conversation`` (default): single requests vs 4-turn conversations (each turn
  built from its history at send time, its whole answer collected and its text joined).
- ``--against PATH/client.py``: single requests through this checkout's ``client.execute`` vs
  the one in PATH (another checkout's ``src/loadtui/engine/client.py``, e.g. the commit before
  conversations): the cost of the collecting switch to runs that do not use it.

    python benchmarks/multiturn_bench.py --segments 40
    git archive f7c14a3 src | tar -x -C /tmp/base
    python benchmarks/multiturn_bench.py --segments 40 --against /tmp/base/src/loadtui/engine/client.py

Results go to stdout and benchmarks/results/multiturn.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import HERE, start_mock

from loadtui.engine.client import UserStatus, execute
from loadtui.engine.context import WorkerContext, WorkerSpec
from loadtui.engine.conversation import Conversations
from loadtui.engine.wire import Wire
from loadtui.model.plan import RunConfig
from loadtui.runtime import aio

Send = Callable[[Wire, int, UserStatus], Awaitable[Any]]


def _sides(ctx: WorkerContext, against: str | None) -> tuple[Send, Send, str, str]:
    """(side A, side B, their names): how one user sends one request on each side."""
    prep = ctx.mix.first
    rec = ctx.rec

    async def single(session: Wire, uid: int, status: UserStatus) -> Any:
        return await execute(session, prep, rec, status)

    if against is not None:
        found = importlib.util.spec_from_file_location("loadtui_other_client", against)
        assert found is not None and found.loader is not None
        other = importlib.util.module_from_spec(found)
        found.loader.exec_module(other)

        async def theirs(session: Wire, uid: int, status: UserStatus) -> Any:
            return await other.execute(session, prep, rec, status)

        return theirs, single, f"single ({against})", "single (this checkout)"
    spec = RunConfig(conversation={"turns": 4}).conversation
    assert spec is not None
    talks = Conversations(spec, ctx.mix, None)

    async def talk(session: Wire, uid: int, status: UserStatus) -> Any:
        held, turn = talks.next_request(uid)
        answer: list[bytes] = []
        ok = await execute(session, turn, rec, status, None, None, answer)
        held.answered(turn, answer if ok else None)

    return single, talk, "single requests", "4-turn conversations"


async def _segments(url: str, users: int, count: int, against: str | None) -> dict[str, Any]:
    config = RunConfig(
        requests=[{"kind": "chat", "stream": True, "max_tokens": 16}],
        load={"mode": "closed", "users": users, "think_time": 0},
    )
    ctx = WorkerContext(WorkerSpec(0, 1, config, url), lambda where, exc: None)
    side_a, side_b, name_a, name_b = _sides(ctx, against)
    now = [side_a]
    done = [0]
    async with Wire() as session:

        async def user(uid: int) -> None:
            status = UserStatus(uid)
            while True:
                await now[0](session, uid, status)
                done[0] += 1

        async def reporter() -> None:
            while True:
                await asyncio.sleep(0.25)
                ctx.rec.drain(0, 0.0)

        tasks = [asyncio.ensure_future(user(u)) for u in range(users)]
        tasks.append(asyncio.ensure_future(reporter()))
        await asyncio.sleep(2.0)  # warm up: connections open
        order = random.Random(7)
        plan = []
        for _ in range(count // 2):
            first = order.random() < 0.5
            plan += [first, not first]
        got = []
        for is_b in plan:
            now[0] = side_b if is_b else side_a
            start, cpu, before = time.perf_counter(), time.process_time(), done[0]
            await asyncio.sleep(1.0)
            n = max(1, done[0] - before)
            got.append(
                (is_b, n / (time.perf_counter() - start), 1e6 * (time.process_time() - cpu) / n)
            )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    pairs = [(got[i], got[i + 1]) for i in range(0, len(got) - 1, 2)]
    ratios = [(x[1] / y[1]) if x[0] else (y[1] / x[1]) for x, y in pairs]  # B / A
    cpu_a = statistics.median(us for b, _, us in got if not b)
    cpu_b = statistics.median(us for b, _, us in got if b)
    return {
        "a": name_a,
        "b": name_b,
        "users": users,
        "median_rps_a": round(statistics.median(r for b, r, _ in got if not b)),
        "median_rps_b": round(statistics.median(r for b, r, _ in got if b)),
        "median_ratio_b_to_a": round(statistics.median(ratios), 4),
        "pair_ratios": [round(r, 4) for r in ratios],
        "cpu_us_per_request_a": round(cpu_a, 1),
        "cpu_us_per_request_b": round(cpu_b, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--segments", type=int, default=40, help="one-second segments (pairs × 2)")
    p.add_argument("--users", type=int, default=64)
    p.add_argument("--gen-core", type=int, default=0)
    p.add_argument("--server-core", type=int, default=1)
    p.add_argument("--against", metavar="CLIENT_PY", help="another checkout's engine/client.py")
    a = p.parse_args()
    os.sched_setaffinity(0, {a.gen_core})
    mock, url = start_mock(
        a.server_core, "--latency", "0ms", "--ttft", "0ms", "--itl", "0ms", "--tokens", "16"
    )
    try:
        results = aio.run(_segments(url, a.users, a.segments, a.against))
    finally:
        mock.terminate()
        mock.wait()
    print(
        f"{results['a']}: {results['median_rps_a']:,} req/s, "
        f"{results['cpu_us_per_request_a']} µs CPU/request; {results['b']}: "
        f"{results['median_rps_b']:,} req/s, {results['cpu_us_per_request_b']} µs CPU/request; "
        f"median pair ratio B/A {results['median_ratio_b_to_a']:.3f}"
    )
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    name = "multiturn_against.json" if a.against else "multiturn.json"
    (folder / name).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
