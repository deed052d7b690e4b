"""Trace replay in a worker: prompts synthesised from a trace's lines, sent at the trace's times.

A worker holds only its own lines of the trace (line i goes to worker i mod N). Each request is
built just before the wait for its time — so memory holds one prompt at a time whatever the
trace's length, and the building costs nothing on time unless it outlasts the gap — then handed
to the open-loop one-shots (``arrivals.py``) with its intended time, so latency is measured from
that time, a request sent more than ``LATE_MS`` after it is counted ``late`` and one that finds
the backlog full ``dropped``, as at a rate. A pause stops the trace's clock; it goes on where it
was on resume.

Prompts are made of words, a word standing for a token (no tokenizer is at hand offline): a
Mooncake line's ``input_length`` words, cut into ``hash_ids`` blocks of ``block_words``; a block's
text depends only on its hash id, so lines that share a prefix block in the trace share that text
on the wire and a server's prefix cache sees what the trace's did. The last block is cut to the
remaining length; words beyond the blocks are the line's own.
"""

from __future__ import annotations

import asyncio
import random
from bisect import bisect_left
from dataclasses import replace
from functools import lru_cache
from time import perf_counter

from loadtui.engine.arrivals import Arrivals
from loadtui.engine.mix import protocol_of
from loadtui.engine.protocols import Prepared
from loadtui.model.plan import RunConfig
from loadtui.model.shaping import OutputLength, draw_lengths
from loadtui.model.trace import TraceEntry

__all__ = [
    "TraceSchedule",
    "block_text",
    "line_tokens",
    "replay",
    "synthesise",
    "trace_request",
]

_STEP = 0.05
"""The replay sleeps in steps this long at most, so a pause or a stop takes effect at once."""

# Short, common English words: one token each in the usual tokenizers, so a word is a fair
# stand-in for a token.
_WORDS = """
the of and to in is was it for on as with be by at this had not are but from or have an
they which one you were her all she there would their we him been has when who will more
no if out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also
did many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long
get here between both life being under never day same another know while last might us
great old year off come since against go came right used take three small large house home
hand part place end found high keep light line name point sea side song stone tree turn
water wind word
"""
_VOCAB = tuple(_WORDS.split())


@lru_cache(maxsize=4096)
def block_text(hash_id: int, words: int) -> str:
    """The text of block ``hash_id``, its first ``words`` words: the same on every worker and in
    every run (seeded by the id alone), so a shorter cut is a prefix of a longer one."""
    return " ".join(random.Random(hash_id).choices(_VOCAB, k=words))


def synthesise(entry: TraceEntry, block_words: int, line: int) -> str:
    """A prompt of ``entry.input_length`` words made of its blocks (``line``: the line's place
    in the trace, which seeds any words past the blocks)."""
    left = entry.input_length
    parts = []
    for h in entry.hash_ids:
        if left <= 0:
            break
        n = min(block_words, left)
        parts.append(block_text(h, n))
        left -= n
    if left > 0:
        parts.append(" ".join(random.Random(f"line {line}").choices(_VOCAB, k=left)))
    return " ".join(parts)


def trace_request(
    config: RunConfig, base_url: str, api_key: str | None, entry: TraceEntry, line: int
) -> Prepared:
    """The request of one trace line: the run's one request kind, its prompt and max_tokens."""
    assert config.trace is not None
    spec = config.requests[0]
    if entry.max_tokens:
        spec = spec.model_copy(update={"max_tokens": entry.max_tokens})
    elif isinstance(mt := spec.max_tokens, OutputLength):
        spec = spec.model_copy(update={"max_tokens": line_tokens(mt, line)})
    prompt = entry.prompt
    if prompt is None:
        prompt = synthesise(entry, config.trace.block_words, line)
    prep = protocol_of(spec.kind).prepare(spec, config.target, base_url, api_key, prompt)
    # one kind of request: per-label rows would repeat the totals (as the mix does)
    return prep if spec.name else replace(prep, label="")


def line_tokens(length: OutputLength, line: int) -> int:
    """Line ``line``'s own draw of a ``max_tokens`` distribution: seeded by the distribution's
    seed and the line, so a replay sends the same, whatever the number of workers."""
    seed = length.seed * 1_000_003 + line
    return draw_lengths(length.distribution, length.min, length.max, length.mean, seed, 1)[0]


async def replay(
    arrivals: Arrivals, entries: tuple[TraceEntry, ...], first: int, step: int
) -> None:
    """Send this worker's lines at their times (line ``first + k * step`` of the trace is
    ``entries[k]``); a pause holds the trace's clock."""
    ctx = arrivals.ctx
    config = ctx.spec.config
    assert config.trace is not None
    speedup = config.trace.speedup
    await ctx.until_start()
    assert ctx.t0 is not None
    origin = ctx.t0
    for k, entry in enumerate(entries):
        if ctx.budget is not None and ctx.budget.spent:
            return  # this worker's share of --requests is sent: its lines are the trace's first N
        prep = trace_request(config, ctx.spec.base_url, ctx.spec.api_key, entry, first + k * step)
        due = origin + entry.at / speedup
        await asyncio.sleep(0)  # behind schedule, still let the loop breathe between arrivals
        while (delay := due - perf_counter()) > 0 or not ctx.running.is_set():
            if not ctx.running.is_set():
                held = perf_counter()
                await ctx.running.wait()
                origin += perf_counter() - held
                due = origin + entry.at / speedup
                continue
            await asyncio.sleep(min(delay, _STEP))
        arrivals.admit((prep,), due)


class TraceSchedule:
    """The coordinator's view of a trace: arrivals intended in each second of the run (the
    series' target rate) and when the last one is due, with pauses holding its clock."""

    def __init__(self, entries: tuple[TraceEntry, ...], speedup: float) -> None:
        self.times = [e.at / speedup for e in entries]
        self.count = len(entries)
        self.pauses: list[tuple[float, float | None]] = []
        """(the trace's time when it paused, seconds held — None while still paused)."""
        self._paused_at = 0.0

    @property
    def held(self) -> float:
        """Seconds the trace's clock stood still (finished pauses)."""
        return sum(length or 0.0 for _, length in self.pauses)

    def end(self, now: float) -> float:
        """Run time of the last arrival, pauses so far included (one going on until ``now``)."""
        going = now - self._paused_at if self.pauses and self.pauses[-1][1] is None else 0.0
        return (self.times[-1] if self.times else 0.0) + self.held + going

    def pause(self, now: float) -> None:
        if not self.pauses or self.pauses[-1][1] is not None:
            self.pauses.append((now - self.held, None))
            self._paused_at = now

    def resume(self, now: float) -> None:
        if self.pauses and self.pauses[-1][1] is None:
            self.pauses[-1] = (self.pauses[-1][0], now - self._paused_at)

    def rates(self, sent: int, load_time: float) -> tuple[float, float]:
        """(intended, achieved) arrivals per second over the trace's span (at least 1 s, at
        most the load's time): a run's mean rates, comparable with each other. A replay cut
        short (``--duration``, ``--requests``, a stop) intended only the lines due by then."""
        cut = min(self.end(load_time), load_time)
        due = self.count if cut >= self.end(load_time) else self._due(float("-inf"), cut + 1e-9)
        span = max(1.0, cut)
        return round(due / span, 3), round(sent / span, 3)

    def intended(self, second: int) -> float:
        """Arrivals the trace puts in run second ``second``."""
        return float(self._due(second, second + 1))

    def _due(self, start_s: float, end_s: float) -> int:
        """Lines due in run time [start_s, end_s): each line's time moved later by the pauses
        before it; a line past a pause still going on is not due yet."""
        total, shift, start = 0, 0.0, float("-inf")
        for point, length in [*self.pauses, (float("inf"), 0.0)]:
            lo, hi = max(start, start_s - shift), min(point, end_s - shift)
            if hi > lo:
                total += bisect_left(self.times, hi) - bisect_left(self.times, lo)
            if length is None:
                break
            shift, start = shift + length, point
        return total
