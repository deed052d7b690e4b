"""The OpenAI Responses API (``POST /v1/responses``) in the mock, streamed and not.

The stream is the documented event sequence, each event named by an ``event:`` line whose
``type`` its JSON repeats, numbered by ``sequence_number`` from 0: ``response.created``,
``response.in_progress``, ``response.output_item.added``, ``response.content_part.added``, one
``response.output_text.delta`` per token, ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done``, then the terminal event —
``response.completed``, or ``response.incomplete`` (reason ``max_output_tokens``) when the
request's ``max_output_tokens`` cut the answer short — and no ``[DONE]`` line.

Timing, faults, the capacity model and the answer tag are the chat route's: deltas go out at
``ttft + k × itl`` from the arrival (or at the capacity model's pace), a stream fault strikes at
the middle delta. A ``stream_error`` is a ``response.failed`` event that ends the stream, as the
API ends a failed response (whole answers: a response object with ``status: "failed"``).
"""

from __future__ import annotations

import json
import time
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
from loadtui.mock.openai import whole_answer
from loadtui.mock.received import ANSWER_TAG
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = ["responses_routes"]

PATH = "/v1/responses"
_ITEM = "msg_mock"
_MALFORMED = b'event: response.output_text.delta\ndata: {"type": \n\n'


def _words(value: Any) -> int:
    """Input tokens as the mock counts them: words of the input text, or of each item's
    ``content`` (a string or a list of ``input_text`` parts)."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(
            _words(item.get("content") or item.get("text")) if isinstance(item, dict) else 0
            for item in value
        )
    return 0


def _checked_body(raw: bytes) -> JSONObject:
    """The request body, if it has what a Responses request needs (ValueError if not)."""
    body = json.loads(raw)
    if not isinstance(body, dict) or not isinstance(body.get("input"), (str, list)):
        raise ValueError("input is required: a string or a list of items")
    budget = body.get("max_output_tokens")
    if budget is not None and (type(budget) is not int or budget < 1):
        raise ValueError("max_output_tokens must be an integer >= 1")
    return body


class _Answer:
    """One answer's events, numbered in the order they are written."""

    def __init__(self, body: JSONObject, n: int, full: int, input_tokens: int) -> None:
        self.seq = 0
        self.n = n
        self.tag = ANSWER_TAG.get()
        budget_spent = n < full
        self.response: JSONObject = {
            "id": "resp_mock",
            "object": "response",
            "created_at": int(time.time()),
            "status": "in_progress",
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body.get("model"),
            "output": [],
            "usage": None,
        }
        self.end_status = "incomplete" if budget_spent else "completed"
        self.usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": n,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + n,
        }

    def event(self, kind: str, **fields: Any) -> bytes:
        obj = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return sse(obj, kind)

    def piece(self, k: int) -> str:
        return f"{self.tag}tok{k} " if k == 0 else f"tok{k} "

    def text(self) -> str:
        return "".join(self.piece(k) for k in range(self.n))

    def message(self, status: str, text: str | None) -> JSONObject:
        content = [] if text is None else [_part(text)]
        return {
            "id": _ITEM,
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def final(self) -> JSONObject:
        """The response object at its end (the whole answer, or the terminal event's)."""
        done = {**self.response, "status": self.end_status, "usage": self.usage}
        done["output"] = [self.message(self.end_status, self.text())]
        if self.end_status == "incomplete":
            done["incomplete_details"] = {"reason": "max_output_tokens"}
        return done

    def failed(self) -> JSONObject:
        error = {"code": "server_error", "message": "injected fault"}
        return {**self.response, "status": "failed", "error": error}

    def head(self) -> bytes:
        where = {"item_id": _ITEM, "output_index": 0, "content_index": 0}
        return (
            self.event("response.created", response=self.response)
            + self.event("response.in_progress", response=self.response)
            + self.event(
                "response.output_item.added", output_index=0, item=self.message("in_progress", None)
            )
            + self.event("response.content_part.added", **where, part=_part(""))
        )

    def delta(self, k: int) -> bytes:
        where = {"item_id": _ITEM, "output_index": 0, "content_index": 0}
        return self.event("response.output_text.delta", **where, delta=self.piece(k), logprobs=[])

    def tail(self) -> bytes:
        where = {"item_id": _ITEM, "output_index": 0, "content_index": 0}
        text = self.text()
        final = self.final()
        return (
            self.event("response.output_text.done", **where, text=text, logprobs=[])
            + self.event("response.content_part.done", **where, part=_part(text))
            + self.event("response.output_item.done", output_index=0, item=final["output"][0])
            + self.event(f"response.{self.end_status}", response=final)
        )


def _part(text: str) -> JSONObject:
    return {"type": "output_text", "text": text, "annotations": []}


async def _mid_stream(
    fault: str, request: web.Request, resp: web.StreamResponse, answer: _Answer
) -> bool:
    """A stream fault at the middle delta; True when it ended the stream."""
    if await stall_or_reset(fault, request):
        return True
    if fault == "malformed":
        await resp.write(_MALFORMED)
    elif fault == "stream_error":  # a failed response ends its stream
        await resp.write(answer.event("response.failed", response=answer.failed()))
        await resp.write_eof()
        return True
    return False


async def _stream(
    request: web.Request,
    settings: MockSpec,
    arrived: float,
    fault: str | None,
    answer: _Answer,
    input_tokens: int,
) -> web.StreamResponse:
    """The event stream: the head at once, each delta at its deadline, then the tail."""
    pace = PACE.get()
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    await resp.write(answer.head())
    for k in range(answer.n):
        if pace is None:
            await sleep_until(arrived + settings.ttft + k * settings.itl)
        else:
            await sleep_until(pace.first(settings.ttft, input_tokens) if k == 0 else pace.next())
        if (
            k == answer.n // 2
            and fault is not None
            and await _mid_stream(fault, request, resp, answer)
        ):
            return resp
        await resp.write(answer.delta(k))
    await resp.write(answer.tail())
    await resp.write_eof()
    return resp


class _Responses:
    """``POST /v1/responses``, sharing the mock's settings and its count of requests served."""

    def __init__(self, settings: MockSpec, served: Served) -> None:
        self.settings = settings
        self.served = served

    async def create(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        self.served[PATH] += 1
        try:
            body = _checked_body(await request.read())
        except ValueError as exc:
            error = openai_error(f"invalid request body: {exc}", "invalid_request_error")
            return web.json_response(error, status=400)
        settings = self.settings
        fault = pick_fault(settings.faults)
        early = await before_headers(fault, settings)
        if early is not None:
            return early
        budget = body.get("max_output_tokens")
        n = min(settings.tokens, budget) if budget else settings.tokens
        input_tokens = _words(body["input"]) + _words(body.get("instructions") or "")
        answer = _Answer(body, n, settings.tokens, input_tokens)
        if body.get("stream"):
            return await _stream(request, settings, arrived, fault, answer, input_tokens)
        return await whole_answer(
            request,
            settings,
            arrived,
            fault,
            answer.final(),
            answer.failed(),
            prompt_tokens=input_tokens,
            n=n,
        )


def responses_routes(settings: MockSpec, served: Served) -> list[Route]:
    return [("POST", PATH, _Responses(settings, served).create)]
