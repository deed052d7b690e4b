"""Anthropic Messages (``POST /v1/messages``) in the mock, streaming and not.

The stream follows the anthropic SDK's own recorded fixture: message_start,
content_block_start, a ping, text deltas, content_block_stop, message_delta with cumulative
usage, message_stop. The key is accepted as ``x-api-key`` or a Bearer token, and also inside
the path (``/ak/{key}/v1/messages``), as some gateways do; ``anthropic-version`` is required.
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

from loadtui.mock import web
from loadtui.mock.faults import (
    Route,
    Served,
    anthropic_error,
    before_headers,
    pick_fault,
    sse,
)
from loadtui.mock.openai import stream_answer, whole_answer
from loadtui.mock.received import ANSWER_TAG
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = ["anthropic_routes"]


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        total = 0
        for item in value:
            if isinstance(item, dict):
                total += _words(item.get("content") or item.get("text"))
        return total
    return 0


_MALFORMED = b'event: content_block_delta\ndata: {"type": \n\n'
_MID_STREAM_ERROR = sse(anthropic_error("api_error", "injected mid-stream fault"), "error")


def _checked_body(raw: bytes) -> JSONObject:
    """The request body, if it has the fields a Messages request needs (ValueError if not)."""
    body = json.loads(raw)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ValueError("messages must be a list")
    if not isinstance(body.get("max_tokens"), int):
        raise ValueError("max_tokens is required")
    return body


def _invalid(message: str) -> web.Response:
    return web.json_response(anthropic_error("invalid_request_error", message), status=400)


def _head(message: JSONObject, input_tokens: int) -> bytes:
    """message_start (no content yet, one output token so far), content_block_start, a ping."""
    usage = {"input_tokens": input_tokens, "output_tokens": 1}
    start = {**message, "content": [], "stop_reason": None, "usage": usage}
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    return (
        sse({"type": "message_start", "message": start}, "message_start")
        + sse(block, "content_block_start")
        + sse({"type": "ping"}, "ping")
    )


def _piece(k: int, tag: str = "") -> bytes:
    delta = {"type": "text_delta", "text": f"{tag}tok{k} " if k == 0 else f"tok{k} "}
    return sse({"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta")


def _tail(stop: str, n: int) -> bytes:
    """content_block_stop, message_delta with the cumulative usage, message_stop."""
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": n},
    }
    return (
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        + sse(delta, "message_delta")
        + sse({"type": "message_stop"}, "message_stop")
    )


class _Messages:
    """``POST /v1/messages``, sharing the mock's settings and its count of requests served."""

    def __init__(self, settings: MockSpec, served: Served) -> None:
        self.settings = settings
        self.served = served

    async def messages(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        self.served["/v1/messages"] += 1
        if not request.headers.get("anthropic-version"):
            return _invalid("anthropic-version header is required")
        try:
            body = _checked_body(await request.read())
        except ValueError as exc:
            return _invalid(f"invalid request body: {exc}")
        fault = pick_fault(self.settings.faults)
        early = await before_headers(fault, self.settings, anthropic=True)
        if early is not None:
            return early
        n = min(self.settings.tokens, body["max_tokens"])
        stop = "max_tokens" if n < self.settings.tokens else "end_turn"
        input_tokens = _words(body["messages"]) + _words(body.get("system") or "")
        message = {
            "id": "msg_mock",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "stop_sequence": None,
        }
        if not body.get("stream"):
            text = ANSWER_TAG.get() + " ".join(f"tok{i}" for i in range(n))
            answer = {
                **message,
                "content": [{"type": "text", "text": text}],
                "stop_reason": stop,
                "usage": {"input_tokens": input_tokens, "output_tokens": n},
            }
            error = anthropic_error("api_error", "injected fault")
            return await whole_answer(
                request,
                self.settings,
                arrived,
                fault,
                answer,
                error,
                prompt_tokens=input_tokens,
                n=n,
            )
        head, tail = _head(message, input_tokens), _tail(stop, n)
        return await stream_answer(
            request,
            self.settings,
            arrived,
            fault,
            n,
            head,
            partial(_piece, tag=ANSWER_TAG.get()),
            tail,
            _MALFORMED,
            _MID_STREAM_ERROR,
            input_tokens,
        )


def anthropic_routes(settings: MockSpec, served: Served) -> list[Route]:
    handler = _Messages(settings, served).messages
    return [
        ("POST", "/v1/messages", handler),
        ("POST", "/ak/{key}/v1/messages", handler),
    ]
