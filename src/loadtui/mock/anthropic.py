"""Anthropic Messages (``POST /v1/messages``) in the mock, streaming and not.

The stream follows the SDK's own fixture (../shared/protocols.md §2): message_start,
content_block_start, a ping, text deltas, content_block_stop, message_delta with cumulative
usage, message_stop. The key is accepted as ``x-api-key`` or a Bearer token, and also inside
the path (``/ak/{key}/v1/messages``), as some gateways do; ``anthropic-version`` is required.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from loadtui.mock.faults import (
    anthropic_error,
    before_headers,
    pick_fault,
    sse,
)
from loadtui.mock.openai import stream_answer, whole_answer
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


def anthropic_routes(settings: MockSpec, served: Any) -> list[tuple[str, str, Any]]:
    async def messages(request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        served["/v1/messages"] += 1
        if not request.headers.get("anthropic-version"):
            return web.json_response(
                anthropic_error("invalid_request_error", "anthropic-version header is required"),
                status=400,
            )
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError("messages must be a list")
            if not isinstance(body.get("max_tokens"), int):
                raise ValueError("max_tokens is required")
        except ValueError as exc:
            return web.json_response(
                anthropic_error("invalid_request_error", f"invalid request body: {exc}"), status=400
            )
        fault = pick_fault(settings.faults)
        early = await before_headers(fault, settings, anthropic=True)
        if early is not None:
            return early
        n = min(settings.tokens, body["max_tokens"])
        stop = "max_tokens" if n < settings.tokens else "end_turn"
        input_tokens = _words(body["messages"]) + _words(body.get("system") or "")
        message = {
            "id": "msg_mock",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "stop_sequence": None,
        }
        if not body.get("stream"):
            text = " ".join(f"tok{i}" for i in range(n))
            answer = {
                **message,
                "content": [{"type": "text", "text": text}],
                "stop_reason": stop,
                "usage": {"input_tokens": input_tokens, "output_tokens": n},
            }
            error = anthropic_error("api_error", "injected fault")
            return await whole_answer(request, settings, arrived, fault, answer, error)
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        head = (
            sse({"type": "message_start", "message": start}, "message_start")
            + sse(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
                "content_block_start",
            )
            + sse({"type": "ping"}, "ping")
        )

        def piece(k: int) -> bytes:
            delta = {"type": "text_delta", "text": f"tok{k} "}
            return sse(
                {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
            )

        tail = (
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            + sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": n},
                },
                "message_delta",
            )
            + sse({"type": "message_stop"}, "message_stop")
        )
        return await stream_answer(
            request,
            settings,
            arrived,
            fault,
            n,
            head,
            piece,
            tail,
            b'event: content_block_delta\ndata: {"type": \n\n',
            sse(anthropic_error("api_error", "injected mid-stream fault"), "error"),
        )

    return [
        ("POST", "/v1/messages", messages),
        ("POST", "/ak/{key}/v1/messages", messages),
    ]
