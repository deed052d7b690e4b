"""What the mock received: the last N requests, kept in memory for tests and for a person
checking what a run really sends (``loadtui mock --record N``, ``GET /mock/received``).

Tests of the request a user shapes — extra body fields, headers, a conversation's growing
history, a trace's prompts and arrival times — need the server's view, not the client's. The
recorder is a middleware outside every other (a request the capacity gate refuses is still
recorded), and off unless asked for: the default mock does no more work per request.

Each recorded request gets a serial number ``n`` (from 1), and the mock's text answers to it
begin with ``#n `` (``ANSWER_TAG``), so an answer that comes back inside a later request — a
conversation's history — names the request it answered.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from loadtui.mock import web
from loadtui.mock.web import Middleware

__all__ = ["ANSWER_TAG", "Received", "record_gate"]

TEXT_LIMIT = 64 * 1024
"""The most of a body that is not JSON kept as text."""

ANSWER_TAG: ContextVar[str] = ContextVar("loadtui_mock_answer_tag", default="")
"""``#n `` for a recorded request (its text answer starts with it), "" when not recording."""


class Received:
    """The last ``limit`` requests, oldest first."""

    def __init__(self, limit: int) -> None:
        self.items: deque[dict[str, Any]] = deque(maxlen=limit)
        self.count = 0

    async def add(self, request: web.Request) -> int:
        """Record ``request`` (reading its body, which the request keeps for the handler)."""
        self.count += 1
        raw = await request.read()
        body: Any = None
        text: str | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                text = raw[:TEXT_LIMIT].decode("utf-8", "replace")
        self.items.append(
            {
                "n": self.count,
                "t": time.perf_counter(),
                "wall": time.time(),
                "method": request.method,
                "path": request.path_qs,
                "headers": dict(request.headers),
                "body": body,
                "text": text,
            }
        )
        return self.count

    def clear(self) -> None:
        self.items.clear()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def record_gate(received: Received) -> Middleware:
    """The middleware that records every request but the mock's own ``/mock/*`` routes and
    ``/metrics`` scrapes (``--server-metrics``: a watcher, not the load)."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/mock/") or request.path == "/metrics":
            return await handler(request)
        n = await received.add(request)
        token = ANSWER_TAG.set(f"#{n} ")
        try:
            return await handler(request)
        finally:
            ANSWER_TAG.reset(token)

    return record
