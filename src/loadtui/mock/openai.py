"""OpenAI-compatible endpoints of the mock: chat completions, completions, embeddings, models.

Answers follow ../shared/protocols.md: a role-only first chunk, content chunks, a finish chunk,
a usage chunk with ``choices: []`` when ``include_usage`` is asked, then ``[DONE]``. Chunks go
out at absolute deadlines from the request's arrival (``ttft + k * itl``), so scheduling jitter
never accumulates along a stream.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from loadtui.mock.faults import (
    before_headers,
    openai_error,
    pick_fault,
    sleep_until,
    sse,
    stall_or_reset,
)
from loadtui.model.plan import MockSpec

__all__ = ["MOCK_MODEL", "openai_routes", "stream_answer", "whole_answer"]

MOCK_MODEL = "mock-model"
Handler = Callable[[web.Request], Any]


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v.get("content") if isinstance(v, dict) else v) for v in value)
    return 0


def _sized(
    settings: MockSpec, body: dict[str, Any], prompt_tokens: int
) -> tuple[int, str, dict[str, int]]:
    """Tokens in the answer (capped by ``max_tokens``), its finish_reason and its usage."""
    n = settings.tokens
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int) and 0 < max_tokens < n:
        n = max_tokens
    finish = "length" if n < settings.tokens else "stop"
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": n,
        "total_tokens": prompt_tokens + n,
    }
    return n, finish, usage


async def stream_answer(
    request: web.Request,
    settings: MockSpec,
    arrived: float,
    fault: str | None,
    n: int,
    head: bytes,
    piece: Callable[[int], bytes],
    tail: bytes,
    malformed: bytes,
    stream_error: bytes,
) -> web.StreamResponse:
    """Send ``head``, ``n`` pieces at their deadlines, then ``tail``; a stream fault strikes at
    the middle piece."""
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    await resp.write(head)
    for k in range(n):
        await sleep_until(arrived + settings.ttft + k * settings.itl)
        if k == n // 2 and fault is not None:
            if await stall_or_reset(fault, request):
                return resp
            if fault == "malformed":
                await resp.write(malformed)
            elif fault == "stream_error":
                await resp.write(stream_error)
        await resp.write(piece(k))
    await resp.write(tail)
    await resp.write_eof()
    return resp


def _usage_chunk(body: dict[str, Any], chunk: dict[str, Any], usage: dict[str, int]) -> bytes:
    """The extra ``choices: []`` chunk carrying usage, when the request asked for it."""
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        return sse({**chunk, "choices": [], "usage": usage})
    return b""


async def _json_body(request: web.Request, field: str) -> dict[str, Any] | web.Response:
    try:
        body = json.loads(await request.read())
        if not isinstance(body, dict) or field not in body:
            raise ValueError(f"{field} is required")
    except ValueError as exc:
        return web.json_response(
            openai_error(f"invalid request body: {exc}", "invalid_request_error"), status=400
        )
    return body


async def whole_answer(
    request: web.Request,
    settings: MockSpec,
    arrived: float,
    fault: str | None,
    answer: dict[str, Any],
    error_body: dict[str, Any] | None = None,
) -> web.StreamResponse:
    """A non-streamed answer after ``latency``; body faults replace it (an error object with
    status 200 for ``stream_error``)."""
    await sleep_until(arrived + settings.latency)
    if await stall_or_reset(fault, request):
        return web.Response()
    if fault == "malformed":
        return web.Response(body=b"{not json", content_type="application/json")
    if fault == "stream_error":
        return web.json_response(error_body or openai_error("injected fault", "server_error"))
    return web.json_response(answer)


def openai_routes(settings: MockSpec, served: Any) -> list[tuple[str, str, Handler]]:
    async def begin(
        request: web.Request, path: str, field: str
    ) -> tuple[float, dict[str, Any], str | None] | web.StreamResponse:
        """Arrival time, the checked body and this request's fault — or the answer to send
        already (a bad body, a fault before the headers)."""
        arrived = time.perf_counter()
        served[path] += 1
        body = await _json_body(request, field)
        if isinstance(body, web.Response):
            return body
        fault = pick_fault(settings.faults)
        early = await before_headers(fault, settings)
        return early if early is not None else (arrived, body, fault)

    async def health(request: web.Request) -> web.Response:
        served["/health"] += 1
        return web.json_response({"status": "ok"})

    async def models(request: web.Request) -> web.Response:
        served["/v1/models"] += 1
        model = {"id": MOCK_MODEL, "object": "model", "created": 0, "owned_by": "loadtui"}
        return web.json_response({"object": "list", "data": [model]})

    async def chat(request: web.Request) -> web.StreamResponse:
        begun = await begin(request, "/v1/chat/completions", "messages")
        if isinstance(begun, web.StreamResponse):
            return begun
        arrived, body, fault = begun
        n, finish, usage = _sized(settings, body, _words(body["messages"]))
        base = {"id": "chatcmpl-mock", "created": int(time.time()), "model": body.get("model")}
        if not body.get("stream"):
            message = {"role": "assistant", "content": " ".join(f"tok{i}" for i in range(n))}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            answer = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            return await whole_answer(request, settings, arrived, fault, answer)
        chunk = {**base, "object": "chat.completion.chunk"}

        def delta(d: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": d, "logprobs": None, "finish_reason": finish_reason}
            return sse({**chunk, "choices": [choice]})

        tail = delta({}, finish) + _usage_chunk(body, chunk, usage)
        return await stream_answer(
            request,
            settings,
            arrived,
            fault,
            n,
            delta({"role": "assistant", "content": ""}),
            lambda k: delta({"content": f"tok{k} "}),
            tail + b"data: [DONE]\n\n",
            b'data: {"choices": [{"delta": \n\n',
            sse(openai_error("injected mid-stream fault", "server_error")),
        )

    async def completions(request: web.Request) -> web.StreamResponse:
        begun = await begin(request, "/v1/completions", "prompt")
        if isinstance(begun, web.StreamResponse):
            return begun
        arrived, body, fault = begun
        n, finish, usage = _sized(settings, body, _words(body["prompt"]))
        base = {
            "id": "cmpl-mock",
            "object": "text_completion",
            "created": int(time.time()),
            "model": body.get("model"),
        }

        def choice(text: str, finish_reason: str | None) -> dict[str, Any]:
            return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}

        if not body.get("stream"):
            text = " ".join(f"tok{i}" for i in range(n))
            answer = {**base, "choices": [choice(text, finish)], "usage": usage}
            return await whole_answer(request, settings, arrived, fault, answer)
        tail = sse({**base, "choices": [choice("", finish)]}) + _usage_chunk(body, base, usage)
        return await stream_answer(
            request,
            settings,
            arrived,
            fault,
            n,
            b"",
            lambda k: sse({**base, "choices": [choice(f"tok{k} ", None)]}),
            tail + b"data: [DONE]\n\n",
            b'data: {"choices": [{"text": \n\n',
            sse(openai_error("injected mid-stream fault", "server_error")),
        )

    async def embeddings(request: web.Request) -> web.Response:
        begun = await begin(request, "/v1/embeddings", "input")
        if isinstance(begun, web.StreamResponse):
            return begun
        arrived, body, fault = begun
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vector = [round(0.001 * (i + 1), 6) for i in range(settings.embedding_dim)]
        if body.get("encoding_format") == "base64":
            packed = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data = [
                {"object": "embedding", "index": i, "embedding": packed} for i in range(len(inputs))
            ]
        else:
            data = [
                {"object": "embedding", "index": i, "embedding": vector} for i in range(len(inputs))
            ]
        words = _words(inputs)
        answer = {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": words, "total_tokens": words},
        }
        return await whole_answer(request, settings, arrived, fault, answer)

    return [
        ("GET", "/health", health),
        ("GET", "/v1/models", models),
        ("POST", "/v1/chat/completions", chat),
        ("POST", "/v1/completions", completions),
        ("POST", "/v1/embeddings", embeddings),
    ]
