"""The mock as a server with finite capacity: slots, a FIFO queue, prefill and decode rates.

A real inference server runs a fixed number of sequences at once; more requests wait, and the
wait shows up in their TTFT; beyond a bounded queue it refuses them (429 or 503). Modelling
that lets a capacity search (and a person learning one) be rehearsed offline against a knee
that can be computed by hand (docs/mock.md). The model is only built when a capacity option is
set: the default mock keeps its fixed timing and pays nothing for this module.

A request holds its slot from admission until its last byte is written (the gate wraps the
handler and finishes the response itself). A client that leaves while queued leaves the queue:
the server cancels the handler of a client that left; the queued request also polls its
connection (a client half-closed, a transport closing).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from loadtui.mock import web
from loadtui.mock.faults import anthropic_error, openai_error
from loadtui.mock.web import Middleware
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = ["PACE", "Capacity", "Pace", "capacity_gate", "models_capacity"]

_GONE_POLL = 0.05
"""How often a queued request checks whether its client is still there (seconds)."""


def models_capacity(settings: MockSpec) -> bool:
    """True when any capacity option is set (else the mock keeps its fixed timing)."""
    return any(
        value is not None
        for value in (
            settings.slots,
            settings.prefill_tps,
            settings.decode_tps,
            settings.shared_decode_tps,
        )
    )


class Capacity:
    """The mock's slots and its queue of requests waiting for one, in arrival order."""

    def __init__(self, settings: MockSpec) -> None:
        self.settings = settings
        self.running = 0
        self.refused = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        return len(self._waiting)

    def _free(self) -> bool:
        slots = self.settings.slots
        return slots is None or self.running < slots

    async def admit(self, request: web.Request) -> bool:
        """Take a slot, waiting in line for one; False when the queue is full (refused) or the
        client left while waiting (nothing to answer)."""
        if not self._waiting and self._free():
            self.running += 1
            return True
        limit = self.settings.max_queue
        if limit is not None and len(self._waiting) >= limit:
            self.refused += 1
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            return await self._wait_turn(turn, request)
        except asyncio.CancelledError:  # the server is shutting down: leave no trace
            if turn.done():
                self.release()
            else:
                self._waiting.remove(turn)
            raise

    async def _wait_turn(self, turn: asyncio.Future[None], request: web.Request) -> bool:
        while True:
            done, _ = await asyncio.wait((turn,), timeout=_GONE_POLL)
            if done:
                return True  # release() handed its slot over: running already counts it
            transport = request.transport
            if transport is None or transport.is_closing():
                self._waiting.remove(turn)
                return False

    def release(self) -> None:
        """Hand the slot to the first in line, or free it."""
        if self._waiting:
            self._waiting.popleft().set_result(None)
        else:
            self.running -= 1

    def gap(self) -> float:
        """Seconds between two tokens of a stream right now: the per-slot rate (``decode_tps``,
        else ``itl``), slowed when the shared budget split among running streams is lower."""
        settings = self.settings
        own = 1.0 / settings.decode_tps if settings.decode_tps else settings.itl
        if settings.shared_decode_tps is None:
            return own
        return max(own, self.running / settings.shared_decode_tps)

    def prefill(self, prompt_tokens: int) -> float:
        """Seconds the prompt takes before the first token (none without ``prefill_tps``)."""
        rate = self.settings.prefill_tps
        return prompt_tokens / rate if rate else 0.0

    def stats(self) -> JSONObject:
        """The model's settings (what the mock was started with) and its live counts."""
        settings = self.settings
        return {
            "slots": settings.slots,
            "prefill_tps": settings.prefill_tps,
            "decode_tps": settings.decode_tps,
            "shared_decode_tps": settings.shared_decode_tps,
            "max_queue": settings.max_queue,
            "queue_full_status": settings.queue_full_status,
            "running": self.running,
            "queued": self.queued,
            "refused": self.refused,
        }


class Pace:
    """When each token of one admitted request goes out: after its prefill and first-token
    delay, then one gap per token — a gap read when the previous token left, so a shared
    budget slows a stream as soon as more streams run."""

    def __init__(self, capacity: Capacity, start: float) -> None:
        self.capacity = capacity
        self.start = start
        self._at = start

    def first(self, delay: float, prompt_tokens: int) -> float:
        self._at = self.start + self.capacity.prefill(prompt_tokens) + delay
        return self._at

    def next(self) -> float:
        self._at += self.capacity.gap()
        return self._at

    def decodes(self) -> bool:
        """True when a decode rate is set, so a whole answer also takes its tokens' time."""
        settings = self.capacity.settings
        return settings.decode_tps is not None or settings.shared_decode_tps is not None


PACE: ContextVar[Pace | None] = ContextVar("loadtui_mock_pace", default=None)
"""Where the gate leaves an admitted request's pace for the endpoint: the handler runs inside
the gate, in its context. A context variable rather than a key on the request because the
default mock reads it for every answer: ``.get()`` costs ~80 ns where a missing request key
costs ~2 µs (a KeyError inside). The gate resets it, as one connection's requests share a
task."""

_GATED = ("/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/responses")


def _refusal(settings: MockSpec, anthropic: bool) -> web.Response:
    """The queue-full answer, shaped like the mock's other faults, with a Retry-After."""
    status = settings.queue_full_status
    headers = {"Retry-After": "1"}
    if anthropic:
        kind = "rate_limit_error" if status == 429 else "overloaded_error"
        body = anthropic_error(kind, "mock queue is full")
    else:
        limited = status == 429
        body = openai_error(
            "mock queue is full",
            "requests" if limited else "server_error",
            "rate_limit_exceeded" if limited else None,
        )
    return web.json_response(body, status=status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def capacity_gate(capacity: Capacity) -> Middleware:
    """The middleware that admits generation requests to a slot (or refuses them) and frees
    the slot once the answer's last byte is written."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or not request.path.endswith(_GATED):
            return await handler(request)
        if not await capacity.admit(request):
            return _refusal(capacity.settings, request.path.endswith("/v1/messages"))
        token = PACE.set(Pace(capacity, time.perf_counter()))
        try:
            response = await handler(request)
            if not response.prepared:  # a whole answer: write it while the slot is held
                await response.prepare(request)
                await response.write_eof()
            return response
        finally:
            PACE.reset(token)
            capacity.release()

    return gate
