"""loadtui's own CPU per request and per snapshot, without sockets (issue 15, the throughput
row): what the worker spends on a request besides the transport.

Each measurement runs in a fresh process pinned to core 0 (``taskset -c 0``), CPU time
(``time.process_time``), so a shared machine moves them far less than a rate:

- ``steps``: the per-request work outside the transport, composed as ``execute`` does it, with
  no event loop: ``client.start`` (the ``Outcome``), the headers' time and status, the body's
  protocol read (``OpenAIProtocol.body``: the JSON parse for usage), ``client.book`` (the
  ``Recorder``'s histograms, status counts, the user's ``UserStatus``), the request-log check,
  and the reporter's snapshot (64 users' rows, drained, pickled as the pipe sends it) every
  2,000 requests (four times a second at 8,000 req/s). Stable across the transport's rewrite.
- ``users``: the closed-loop user's loop as a worker runs it (``Users._run`` → ``ctx.perform``
  → ``client.execute``, 64 users on one asyncio loop), the transport faked at ``client.send``
  by an answer already in memory (one ``await asyncio.sleep(0)`` a request, as a real one yields
  at least once); ``floor`` is that fake alone, so ``users − floor`` is loadtui's own work.
  In a tree with loadtui's own client (``engine/wire.py``) the fake is its ``Wire.exchange``
  seam (one loop pass, then the whole answer), else aiohttp's at ``client.send``.
- ``body``, ``book``, ``record``: one step alone, µs per call — the body's protocol read, a
  successful non-streamed request's ``book``, one ``Histogram.record_ms``.
- ``snapshot@N``: one reporter snapshot (drain, N users' rows, pickled) after 2,000 requests,
  at 64 and 1,000 users, in µs per snapshot (``--requests`` / 1,000 snapshots, at least 10).

``--baseline-src DIR`` runs the same in another source tree (``git archive REV src | tar -x``),
rounds alternating, for before/after pairs, and then an in-process A/B of single steps
(``json_object``, ``OpenAIProtocol.body``, ``book``, ``Histogram.record_ms`` and ``encode``: the
baseline's module files loaded beside this tree's, alternating), the steadier figure on a
shared machine.

    python benchmarks/book_bench.py --short        # ~30 s at load 6; twice that with a baseline
    python benchmarks/book_bench.py --rounds 5 --baseline-src /tmp/base/src

Prints µs per request (per snapshot) per round and the medians; writes
``benchmarks/results/book.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_BODY = r"""
BODY = json.dumps({
    "id": "chatcmpl-ref", "object": "chat.completion", "created": 1796114761,
    "model": "mock-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "tok " * 16},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 8, "completion_tokens": 16, "total_tokens": 24},
}, separators=(",", ":")).encode()
"""
"""The answer both child scripts parse (``#BODY#`` in each is replaced by it)."""

CHILD = r"""
import asyncio, json, pickle, random, sys, time
from time import perf_counter
import loadtui.engine.client as client
from loadtui.engine.client import UserStatus, book, start
from loadtui.engine.context import WorkerContext
from loadtui.engine.reporter import Reporter
from loadtui.engine.spec import WorkerSpec
from loadtui.engine.users import Users
from loadtui.model.plan import RunConfig

SNAP_EVERY = 2000
#BODY#


_rng = random.Random(15)
# (headers after the send, body after the headers) in seconds: what the histograms record is
# spread as a real run's (~1-60 ms), not all in the first microseconds' buckets
TIMES = [(0.0005 + _rng.random() * 0.002, _rng.lognormvariate(-4.0, 0.8)) for _ in range(1024)]


def context(users, requests=None):
    load = {"users": users, "think_time": (0.0, 0.0)}
    if requests:
        load["requests"] = requests
    config = RunConfig(target={"model": "mock-model"}, load=load,
                       requests=({"kind": "chat", "stream": False, "max_tokens": 16},))
    ctx = WorkerContext(WorkerSpec(0, 1, config, "http://127.0.0.1:1/v1"), lambda w, e: None)
    return ctx


def steps(n):
    ctx = context(64)
    users = Users(ctx, (0.0, 0.0))
    statuses = [UserStatus(i) for i in range(64)]
    for s in statuses:
        users.status[s.uid] = s
    rep = Reporter(ctx, users, lambda snap: None)
    ctx.t0 = perf_counter()
    rec, log = ctx.rec, ctx.log
    prep = next(iter(ctx.mix.next_round(0)))
    reader, kind = prep.protocol, prep.kind
    def run(n):
        for i in range(n):
            user = statuses[i & 63]
            out = start(prep, user, None)
            first, whole = TIMES[i & 1023]
            out.headers_at = perf_counter() + first  # (perf_counter read as execute does)
            out.status = 200
            user.state = 2
            out.error = None
            out.end = perf_counter() + first + whole
            out.nbytes = len(BODY)
            out.error = reader.body(kind, BODY, out.tokens)
            book(rec, user, out)
            if log is not None:
                log.add(out, user.uid)
            if i % SNAP_EVERY == 0:
                pickle.dumps(rep.snapshot(1.0, 50.0), pickle.HIGHEST_PROTOCOL)
    run(5000)
    t = time.process_time()
    run(n)
    return (time.process_time() - t) / n * 1e6


class Content:
    __slots__ = ()
    def iter_any(self):
        return _body()

async def _body():
    yield BODY

class Answer:
    status = 200
    content_length = len(BODY)
    content = Content()
    headers = None
    async def __aenter__(self):
        await asyncio.sleep(0)
        return self
    async def __aexit__(self, *exc):
        return None

ANSWER = Answer()


class Conn:
    # the answer of loadtui's own client (engine/wire.py), faked: head and body at once
    status = 200
    head_at = end_at = 0.0
    async def body(self, limit):
        return BODY
    def headers(self):
        return Answer.headers


class Wire:
    # engine/wire.Wire's seam, faked: one loop pass a request, like an answer's read
    conn = Conn()
    async def exchange(self, prep):
        await asyncio.sleep(0)
        self.conn.head_at = self.conn.end_at = perf_counter()
        return self.conn
    def release(self, conn):
        pass


def users_loop(n, floor):
    from multidict import CIMultiDict, CIMultiDictProxy
    Answer.headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
    wired = "send" not in client.execute.__code__.co_names  # loadtui's own client's tree
    client.send = lambda session, prep: ANSWER
    async def fake_floor(left):
        wire = Wire()
        async def user():
            nonlocal left
            while left > 0:
                left -= 1
                if wired:
                    conn = await wire.exchange(None)
                    await conn.body(0)
                    wire.release(conn)
                    continue
                async with ANSWER as r:
                    async for _ in r.content.iter_any():
                        pass
        await asyncio.gather(*(user() for _ in range(64)))
    async def run(count):
        ctx = context(64, count)
        ctx.session = ctx.wire = Wire()
        users = Users(ctx, (0.0, 0.0))
        rep = Reporter(ctx, users, lambda snap: None)
        ctx.start(perf_counter())
        users.resize(64, range(64))
        async def snaps():
            while users.status:
                await asyncio.sleep(0)
                if ctx.rec.requests >= SNAP_EVERY:
                    pickle.dumps(rep.snapshot(1.0, 50.0), pickle.HIGHEST_PROTOCOL)
        await asyncio.gather(snaps(), *users.tasks.values())
    go = (lambda c: fake_floor(c)) if floor else run
    asyncio.run(go(5000))
    t = time.process_time()
    asyncio.run(go(n))
    return (time.process_time() - t) / n * 1e6


def snapshot(users_n, rounds=40):
    ctx = context(users_n)
    users = Users(ctx, (0.0, 0.0))
    statuses = [UserStatus(i) for i in range(users_n)]
    for s in statuses:
        users.status[s.uid] = s
    rep = Reporter(ctx, users, lambda snap: None)
    ctx.t0 = perf_counter()
    prep = next(iter(ctx.mix.next_round(0)))
    spent = 0.0
    for r in range(rounds + 2):
        for i in range(SNAP_EVERY):
            user = statuses[i % users_n]
            out = start(prep, user, None)
            first, whole = TIMES[i & 1023]
            out.headers_at = out.sent + first
            out.end = out.sent + first + whole
            out.status = 200
            out.error = prep.protocol.body(prep.kind, BODY, out.tokens)
            book(ctx.rec, user, out)
        t = time.process_time()
        pickle.dumps(rep.snapshot(1.0, 50.0), pickle.HIGHEST_PROTOCOL)
        if r >= 2:
            spent += time.process_time() - t
    return spent / rounds * 1e6


def part(what, n):
    # one step alone, µs per call: the body's read, book, one histogram record
    ctx = context(64)
    prep = next(iter(ctx.mix.next_round(0)))
    user, rec, reader, kind = UserStatus(0), ctx.rec, prep.protocol, prep.kind
    out = start(prep, user, None)
    out.headers_at = perf_counter()
    out.end = out.headers_at + 0.002
    out.status = 200
    out.error = reader.body(kind, BODY, out.tokens)
    h = rec.hist["latency_ms"]
    def run(n):
        if what == "body":
            for _ in range(n):
                reader.body(kind, BODY, out.tokens)
        elif what == "book":
            for _ in range(n):
                book(rec, user, out)
        else:
            record = h.record_ms
            for i in range(n):
                record(0.5 + (i & 1023) * 0.25)
    run(n // 4)
    rec.drain(0, 0.0)
    t = time.process_time()
    run(n)
    return (time.process_time() - t) / n * 1e6


what, n = sys.argv[1], int(sys.argv[2])
if what in ("body", "book", "record"):
    v = part(what, n)
elif what == "steps":
    v = steps(n)
elif what in ("users", "floor"):
    v = users_loop(n, what == "floor")
else:
    v = snapshot(int(what.split("@")[1]), max(10, n // 1000))
print("null" if v is None else v)
""".replace("#BODY#", _BODY)

AB_CHILD = r"""
import importlib.util, json, random, statistics, sys, time
from time import perf_counter


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


base, rounds = sys.argv[1], int(sys.argv[2])
import loadtui.engine.client as newc
import loadtui.engine.protocols as newp
import loadtui.metrics.histogram as newh
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import Outcome
from loadtui.model.plan import TargetSpec
from loadtui.model.requests import RequestSpec
oldp = load("base_protocols", base + "/loadtui/engine/protocols.py")
oldc = load("base_client", base + "/loadtui/engine/client.py")
oldh = load("base_histogram", base + "/loadtui/metrics/histogram.py")
#BODY#
rng = random.Random(15)
VALUES = [rng.lognormvariate(3.0, 0.8) for _ in range(2000)]
rec = Recorder()
user = newc.UserStatus(0)
out = Outcome("", 1.0, end=1.02, headers_at=1.001, status=200)
newp.OpenAIProtocol.body("chat", BODY, out.tokens)


def per_call(fn, n):
    t = time.process_time()
    fn(n)
    return (time.process_time() - t) / n * 1e6


def parses(j):
    def run(n):
        for _ in range(n):
            j(BODY)
    return run


def bodies(body):
    def run(n):
        tokens = out.tokens
        for _ in range(n):
            body("chat", BODY, tokens)
    return run


def books(book):
    def run(n):
        for _ in range(n):
            book(rec, user, out)
        rec.drain(0, 0.0)
    return run


def records(cls):
    def run(n):
        record = cls().record_ms
        for i in range(n):
            record(VALUES[i % 2000])
    return run


def encodes(cls):
    h = cls()
    for v in VALUES:
        h.record_ms(v)
    def run(n):
        for _ in range(n):
            h.encode()
    return run


steps = {
    "json_object": (parses(newp.json_object), parses(oldp.json_object), 20000),
    "OpenAIProtocol.body": (bodies(newp.OpenAIProtocol.body), bodies(oldp.OpenAIProtocol.body), 20000),
    "book": (books(newc.book), books(oldc.book), 20000),
    "Histogram.record_ms": (records(newh.Histogram), records(oldh.Histogram), 40000),
    "Histogram.encode (2,000 values)": (encodes(newh.Histogram), encodes(oldh.Histogram), 200),
}
got = {name: {"this tree": [], "baseline": []} for name in steps}
for _ in range(rounds):
    for name, (new, old, n) in steps.items():
        got[name]["this tree"].append(per_call(new, n))
        got[name]["baseline"].append(per_call(old, n))
print(json.dumps(got))
""".replace("#BODY#", _BODY)
"""The in-process A/B (``--baseline-src``): the old and the new function loaded side by side in
one process (the baseline's module files under other names), alternating call for call-batch,
so both see the same seconds of a shared machine."""

MEASURES = ("steps", "users", "floor", "body", "book", "record", "snapshot@64", "snapshot@1000")


def _once(what: str, n: int, src: str | None) -> float | None:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    cmd = ["taskset", "-c", "0", sys.executable, "-c", CHILD, what, str(n)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        print(f"{what} ({src or 'this tree'}) failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    text = out.stdout.strip()
    return None if text == "null" else float(text)


def _inprocess(src: str, rounds: int, result: dict[str, dict[str, float | list[float]]]) -> None:
    """The in-process A/B of single steps, µs per call, min and median of ``rounds``."""
    cmd = ["taskset", "-c", "0", sys.executable, "-c", AB_CHILD, src, str(rounds)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"in-process A/B failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return
    print("in-process A/B (µs per call: min / median of", rounds, "alternating rounds)")
    for name, by_tree in json.loads(out.stdout).items():
        new, old = by_tree["this tree"], by_tree["baseline"]
        result["ab " + name] = {
            "this tree": min(new),
            "baseline": min(old),
            "this tree rounds": new,
            "baseline rounds": old,
        }
        print(
            f"  {name:32} {min(old):8.2f} / {statistics.median(old):8.2f} -> "
            f"{min(new):8.2f} / {statistics.median(new):8.2f}  ({min(new) / min(old):.2f})"
        )


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=40000)
    p.add_argument("--short", action="store_true", help="2 rounds of 20,000 requests")
    p.add_argument("--baseline-src")
    p.add_argument("--json", default=str(Path(__file__).parent / "results" / "book.json"))
    a = p.parse_args()
    if a.short:
        a.rounds, a.requests = 2, 20000
    trees: dict[str, str | None] = {"this tree": None}
    if a.baseline_src:
        trees["baseline"] = a.baseline_src
    got: dict[str, dict[str, list[float]]] = {m: {t: [] for t in trees} for m in MEASURES}
    loads = [_loadavg()]
    for _ in range(a.rounds):
        for what in MEASURES:
            for tree, src in trees.items():  # alternating: each pair in the same seconds
                if what == "floor" and tree != "this tree":
                    continue
                v = _once(what, a.requests, src)
                if v is not None:
                    got[what][tree].append(v)
        loads.append(_loadavg())
    result: dict[str, dict[str, float | list[float]]] = {}
    for what, by_tree in got.items():
        unit = "µs/snapshot" if what.startswith("snapshot") else "µs/request"
        for tree, vals in by_tree.items():
            if not vals:
                continue
            med = statistics.median(vals)
            result.setdefault(what, {})[tree] = med
            result[what][tree + " min"] = min(vals)
            result[what][tree + " rounds"] = vals
            each = ", ".join(f"{v:.2f}" for v in vals)
            print(f"{what:14} {tree:10} {med:8.2f} {unit} median, {min(vals):.2f} min  ({each})")
        base = result.get(what, {}).get("baseline")
        mine = result.get(what, {}).get("this tree")
        if isinstance(base, float) and isinstance(mine, float) and base:
            print(f"{what:14} after/before {mine / base:.2f}")
    if a.baseline_src:
        _inprocess(a.baseline_src, a.rounds * 3, result)
    users, floor = result.get("users", {}).get("this tree"), result.get("floor", {})
    if isinstance(users, float) and isinstance(floor.get("this tree"), float):
        print(f"users − floor (loadtui's own, this tree): {users - floor['this tree']:.1f} µs")
    print("load average", " / ".join(loads))
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": result, "loadavg": loads}, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
