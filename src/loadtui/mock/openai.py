"""OpenAI-compatible endpoints of the mock: chat completions, completions, embeddings, models.

Answers follow the openai SDK's recorded streams: a role-only first chunk, content chunks, a
finish chunk, a usage chunk with ``choices: []`` when ``include_usage`` is asked, then
``[DONE]``. Chunks go out at absolute deadlines from the request's arrival (``ttft + k * itl``),
so scheduling jitter never accumulates along a stream.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from loadtui.mock import web
from loadtui.mock.capacity import PACE
from loadtui.mock.faults import (
    Route,
    Served,
    before_headers,
    openai_error,
    pick_fault,
    sleep_until,
    sse,
    stall_or_reset,
)
from loadtui.mock.metrics import first_token
from loadtui.mock.received import ANSWER_TAG
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = ["MOCK_MODEL", "openai_routes", "stream_answer", "whole_answer"]

MOCK_MODEL = "mock-model"
_DONE = b"data: [DONE]\n\n"
_MID_STREAM_ERROR = sse(openai_error("injected mid-stream fault", "server_error"))


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v.get("content") if isinstance(v, dict) else v) for v in value)
    return 0


def _sized(
    settings: MockSpec, body: JSONObject, prompt_tokens: int
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
    prompt_tokens: int = 0,
) -> web.StreamResponse:
    """Send ``head``, ``n`` pieces at their deadlines, then ``tail``; a stream fault strikes at
    the middle piece. Under the capacity model the deadlines come from the request's pace."""
    pace = PACE.get()
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    await resp.write(head)
    for k in range(n):
        if pace is None:
            await sleep_until(arrived + settings.ttft + k * settings.itl)
        else:
            await sleep_until(pace.first(settings.ttft, prompt_tokens) if k == 0 else pace.next())
        if k == n // 2 and fault is not None:
            if await stall_or_reset(fault, request):
                return resp
            if fault == "malformed":
                await resp.write(malformed)
            elif fault == "stream_error":
                await resp.write(stream_error)
        await resp.write(piece(k))
        if k == 0:
            first_token()  # the server-side TTFT of GET /metrics
    await resp.write(tail)
    await resp.write_eof()
    return resp


def _usage_chunk(body: JSONObject, chunk: JSONObject, usage: dict[str, int]) -> bytes:
    """The extra ``choices: []`` chunk carrying usage, when the request asked for it."""
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        return sse({**chunk, "choices": [], "usage": usage})
    return b""


async def _json_body(request: web.Request, field: str) -> JSONObject | web.Response:
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
    answer: JSONObject,
    error_body: JSONObject | None = None,
    prompt_tokens: int = 0,
    n: int = 1,
) -> web.StreamResponse:
    """A non-streamed answer after ``latency``; body faults replace it (an error object with
    status 200 for ``stream_error``). Under the capacity model it also waits for its prefill
    and, with a decode rate, for its ``n`` tokens' decode."""
    pace = PACE.get()
    if pace is None:
        await sleep_until(arrived + settings.latency)
    else:
        await sleep_until(pace.first(settings.latency, prompt_tokens))
        for _ in range(n - 1 if pace.decodes() else 0):
            await sleep_until(pace.next())
    if await stall_or_reset(fault, request):
        return web.Response()
    if fault == "malformed":
        return web.Response(body=b"{not json", content_type="application/json")
    if fault == "stream_error":
        return web.json_response(error_body or openai_error("injected fault", "server_error"))
    return web.json_response(answer)


def _text(n: int) -> str:
    return " ".join(f"tok{i}" for i in range(n))


def _chat_delta(chunk: JSONObject, d: JSONObject, finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": d, "logprobs": None, "finish_reason": finish_reason}
    return sse({**chunk, "choices": [choice]})


def _completion_choice(text: str, finish_reason: str | None) -> JSONObject:
    return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}


def _embeddings(count: int, dim: int, packed: bool) -> list[JSONObject]:
    """``count`` copies of a fixed vector, as floats or (``encoding_format: base64``) packed."""
    vector = [round(0.001 * (i + 1), 6) for i in range(dim)]
    embedding: list[float] | str = vector
    if packed:
        embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return [{"object": "embedding", "index": i, "embedding": embedding} for i in range(count)]


Begun = tuple[float, JSONObject, str | None]
"""A request's arrival time, its checked body and its fault (None: answer normally)."""


class _OpenAI:
    """The endpoints, sharing the mock's settings and its count of requests served."""

    def __init__(self, settings: MockSpec, served: Served) -> None:
        self.settings = settings
        self.served = served

    def routes(self) -> list[Route]:
        return [
            ("GET", "/health", self.health),
            ("GET", "/v1/models", self.models),
            ("POST", "/v1/chat/completions", self.chat),
            ("POST", "/v1/completions", self.completions),
            ("POST", "/v1/embeddings", self.embeddings),
        ]

    async def begin(self, request: web.Request, path: str, field: str) -> Begun | web.Response:
        """Arrival time, the checked body and this request's fault — or the answer to send
        already (a bad body, a fault before the headers)."""
        arrived = time.perf_counter()
        self.served[path] += 1
        body = await _json_body(request, field)
        if isinstance(body, web.Response):
            return body
        fault = pick_fault(self.settings.faults)
        early = await before_headers(fault, self.settings)
        return early if early is not None else (arrived, body, fault)

    async def health(self, request: web.Request) -> web.Response:
        self.served["/health"] += 1
        return web.json_response({"status": "ok"})

    async def models(self, request: web.Request) -> web.Response:
        self.served["/v1/models"] += 1
        model = {"id": MOCK_MODEL, "object": "model", "created": 0, "owned_by": "loadtui"}
        return web.json_response({"object": "list", "data": [model]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        begun = await self.begin(request, "/v1/chat/completions", "messages")
        if isinstance(begun, web.Response):
            return begun
        arrived, body, fault = begun
        prompt = _words(body["messages"])
        n, finish, usage = _sized(self.settings, body, prompt)
        base = {"id": "chatcmpl-mock", "created": int(time.time()), "model": body.get("model")}
        tag = ANSWER_TAG.get()
        if not body.get("stream"):
            message = {"role": "assistant", "content": tag + _text(n)}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            answer = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            return await whole_answer(
                request, self.settings, arrived, fault, answer, prompt_tokens=prompt, n=n
            )
        chunk = {**base, "object": "chat.completion.chunk"}
        delta = partial(_chat_delta, chunk)
        tail = delta({}, finish) + _usage_chunk(body, chunk, usage)
        return await stream_answer(
            request,
            self.settings,
            arrived,
            fault,
            n,
            delta({"role": "assistant", "content": ""}),
            lambda k: delta({"content": f"{tag}tok{k} " if k == 0 else f"tok{k} "}),
            tail + _DONE,
            b'data: {"choices": [{"delta": \n\n',
            _MID_STREAM_ERROR,
            prompt,
        )

    async def completions(self, request: web.Request) -> web.StreamResponse:
        begun = await self.begin(request, "/v1/completions", "prompt")
        if isinstance(begun, web.Response):
            return begun
        arrived, body, fault = begun
        prompt = _words(body["prompt"])
        n, finish, usage = _sized(self.settings, body, prompt)
        base = {
            "id": "cmpl-mock",
            "object": "text_completion",
            "created": int(time.time()),
            "model": body.get("model"),
        }
        tag = ANSWER_TAG.get()
        if not body.get("stream"):
            answer = {
                **base,
                "choices": [_completion_choice(tag + _text(n), finish)],
                "usage": usage,
            }
            return await whole_answer(
                request, self.settings, arrived, fault, answer, prompt_tokens=prompt, n=n
            )
        tail = sse({**base, "choices": [_completion_choice("", finish)]})
        return await stream_answer(
            request,
            self.settings,
            arrived,
            fault,
            n,
            b"",
            lambda k: sse(
                {
                    **base,
                    "choices": [
                        _completion_choice(f"{tag}tok{k} " if k == 0 else f"tok{k} ", None)
                    ],
                }
            ),
            tail + _usage_chunk(body, base, usage) + _DONE,
            b'data: {"choices": [{"text": \n\n',
            _MID_STREAM_ERROR,
            prompt,
        )

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        begun = await self.begin(request, "/v1/embeddings", "input")
        if isinstance(begun, web.Response):
            return begun
        arrived, body, fault = begun
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        packed = body.get("encoding_format") == "base64"
        words = _words(inputs)
        answer = {
            "object": "list",
            "data": _embeddings(len(inputs), self.settings.embedding_dim, packed),
            "model": body.get("model"),
            "usage": {"prompt_tokens": words, "total_tokens": words},
        }
        return await whole_answer(request, self.settings, arrived, fault, answer)


def openai_routes(settings: MockSpec, served: Served) -> list[Route]:
    return _OpenAI(settings, served).routes()
