"""What the mock can do wrong on purpose, and the timing helpers and route types every
endpoint shares.

Each fault maps to exactly one error class on loadtui's side, so a test (or a user checking
their dashboards) can produce every class on demand. Faults that happen before any byte is
sent (HTTP errors, slow headers) are handled here; those inside a body or stream are applied by
the endpoint, at the middle of the answer.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from loadtui.mock import web
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = [
    "Handler",
    "Route",
    "Served",
    "anthropic_error",
    "before_headers",
    "openai_error",
    "pick_fault",
    "sleep_until",
    "sse",
    "stall_or_reset",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler]
"""(method, path, handler): what each API family's ``*_routes`` gives the server to add."""
Served = Counter[str]
"""Requests served by path, shared by every endpoint (``GET /mock/stats``)."""


def openai_error(message: str, type_: str, code: str | None = None) -> JSONObject:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def anthropic_error(type_: str, message: str) -> JSONObject:
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_mock"}


def pick_fault(faults: dict[str, float]) -> str | None:
    if not faults:
        return None
    draw = random.random()
    for kind, rate in faults.items():
        if draw < rate:
            return kind
        draw -= rate
    return None


async def sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def sse(obj: JSONObject, event: str | None = None) -> bytes:
    """One SSE event (``event:`` line only when named, as Anthropic does)."""
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


async def before_headers(
    fault: str | None, settings: MockSpec, anthropic: bool = False
) -> web.Response | None:
    """Faults decided before the status line: an error response to send, or None to go on."""
    if fault == "slow_headers":
        await asyncio.sleep(settings.slow_headers)
        return None
    if fault is None or not fault.startswith("http_"):
        return None
    status = int(fault[5:])
    headers = {}
    if status == 429:
        headers = {"Retry-After": "1", "retry-after-ms": "1000"}
    if anthropic:
        kind = {
            400: "invalid_request_error",
            429: "rate_limit_error",
            500: "api_error",
            529: "overloaded_error",
        }[status]
        return web.json_response(
            anthropic_error(kind, "injected fault"), status=status, headers=headers
        )
    kind = {
        400: "invalid_request_error",
        429: "requests",
        500: "server_error",
        529: "overloaded",
    }[status]
    return web.json_response(
        openai_error("injected fault", kind, "rate_limit_exceeded" if status == 429 else None),
        status=status,
        headers=headers,
    )


async def stall_or_reset(fault: str | None, request: web.Request) -> bool:
    """Apply a ``reset`` or ``stall`` fault; True when the connection was aborted."""
    if fault == "reset":
        assert request.transport is not None
        request.transport.abort()
        return True
    if fault == "stall":
        await _hold_until_client_leaves(request)
        return True
    return False


async def _hold_until_client_leaves(request: web.Request, limit: float = 3600.0) -> None:
    """Send nothing more until the client gives up (its timeout). The server cancels the
    handler of a client that left; the poll also ends one whose transport is closing, so no
    stalled handler outlives its request; the server's shutdown cancels any still waiting."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.2)
