"""The OpenAI Responses API: ``POST /v1/responses``, streaming and not.

Newer OpenAI clients and agent frameworks call the Responses API rather than chat completions,
and servers (vLLM, OpenAI, gateways) answer it with a stream of named events, not chat chunks:
``response.created`` … ``response.output_text.delta`` (text in ``delta``) …
``response.completed`` (the whole response with ``usage``), and no ``[DONE]`` line.

TTFT is the first ``response.output_text.delta`` with a non-empty ``delta`` — or a refusal or
function-call-arguments delta, as the chat reader counts refusals and tool calls; reasoning
deltas are not content (the chat reader does not count ``reasoning_content`` either). Usage comes
from the terminal event's ``response.usage`` (``input_tokens``, ``output_tokens``).

The terminal event decides how the request ended: ``response.completed`` is done;
``response.incomplete`` whose reason is ``max_output_tokens`` is done too — the budget the
request set was spent, as chat's ``finish_reason: "length"`` — while any other reason (a content
filter) is a ``stream_error``, as are ``response.failed`` and an ``error`` event. A stream that
closes without a terminal event was cut short (``reset``).

The hot path: every event has an ``event:`` line naming its type, so the reader JSON-decodes
only the deltas it counts and the terminal events; the rest (created, in_progress, item and part
added/done, ``output_text.done`` with the whole text again) are ignored by name, undecoded. A
server that does not name its events has each one decoded and read by its ``type``.
"""

from __future__ import annotations

import json

from loadtui.engine.protocols import (
    CONTENT,
    DONE,
    IGNORE,
    JSONObject,
    Prepared,
    Prompt,
    Tokens,
    finish,
    join_url,
    json_object,
    key_headers,
    shaped_body,
    shaped_headers,
    token_count,
)
from loadtui.model.outcomes import ErrorClass
from loadtui.model.plan import RequestSpec, TargetSpec

__all__ = ["ResponsesProtocol"]

_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.function_call_arguments.delta",
    }
)
"""Events whose non-empty ``delta`` is content: TTFT's end, ITL's steps."""
_ENDS = frozenset({"response.completed", "response.incomplete", "response.failed", "error"})
"""Events that end a response (the only others the reader decodes)."""
_BUDGET_SPENT = "max_output_tokens"
"""The ``incomplete_details.reason`` that is a normal end: the request's own budget."""


def _delta(obj: JSONObject) -> int:
    """A delta event: CONTENT when it carries text (a delta that is not a string is a wrong
    shape: the caller counts it MALFORMED)."""
    delta = obj.get("delta")
    if type(delta) is str:
        return CONTENT if delta else IGNORE
    if delta is None:
        return IGNORE
    raise ValueError(f"delta is not a string: {delta!r:.40}")


def _usage(response: JSONObject, tokens: Tokens) -> None:
    """A response's ``usage`` (absent or null until the end; the names differ from chat's)."""
    usage = response.get("usage")
    if usage:
        output = token_count(usage.get("output_tokens"))
        prompt = token_count(usage.get("input_tokens"))
        tokens.output = tokens.output if output is None else output
        tokens.input = tokens.input if prompt is None else prompt


def _ended(response: JSONObject) -> ErrorClass | None:
    """How a response object ended: None when it completed or spent its output budget."""
    status = response.get("status")
    if status in ("completed", None):
        return None
    if status == "incomplete":
        details = response.get("incomplete_details") or {}
        return None if details.get("reason") == _BUDGET_SPENT else ErrorClass.STREAM_ERROR
    return ErrorClass.STREAM_ERROR  # failed, cancelled — or queued/in_progress: not an answer


def _response(obj: JSONObject) -> JSONObject:
    """The ``response`` object a terminal event carries (a wrong shape raises)."""
    response = obj.get("response")
    if not isinstance(response, dict):
        raise ValueError(f"{obj.get('type')} without a response object")
    return response


def _decoded(event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
    """An event the reader must look into: a terminal one, or any event of a server that does
    not name its events."""
    obj = json_object(data)
    if obj is None:
        return ErrorClass.MALFORMED
    kind = obj.get("type") or event
    if kind in _DELTAS:
        return _delta(obj)
    if kind == "response.completed" or kind == "response.incomplete":
        response = _response(obj)
        _usage(response, tokens)
        error = _ended(response)
        return DONE if error is None else error
    if kind == "response.failed" or kind == "error" or (kind is None and obj.get("error")):
        return ErrorClass.STREAM_ERROR
    return IGNORE


def _input(spec: RequestSpec, prompt: Prompt | None) -> str | list[JSONObject]:
    """The request's ``input``: the prompt text, or a whole messages list from prompt data."""
    if isinstance(prompt, list):
        return prompt
    return prompt if prompt is not None else spec.prompt


class ResponsesProtocol:
    """``POST /v1/responses`` as the openai SDK sends it (key as a Bearer token)."""

    name = "responses"

    def prepare(
        self,
        spec: RequestSpec,
        target: TargetSpec,
        base_url: str,
        api_key: str | None,
        prompt: Prompt | None = None,
    ) -> Prepared:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        key_headers(headers, target, api_key)
        # store: false — OpenAI keeps every response 30 days unless told not to, and a load
        # test would fill the account's stored responses with thousands of them
        body: JSONObject = {
            "model": target.model,
            "input": _input(spec, prompt),
            "max_output_tokens": spec.output_tokens,
            "store": False,
        }
        if spec.system and not isinstance(prompt, list):  # a messages list has its own
            body["instructions"] = spec.system
        if spec.streamed:
            body["stream"] = True
            headers["Accept"] = "text/event-stream"
        shaped_headers(headers, spec, target)
        url = join_url(base_url, spec.path or "/v1/responses", api_key)
        data = json.dumps(shaped_body(body, spec)).encode()
        prep = Prepared("POST", url, headers, data, spec.streamed, "responses")
        return finish(prep, spec, self, target)

    @staticmethod
    def stream_event(event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
        """Classify one SSE event: CONTENT, DONE, IGNORE, or the ErrorClass it signals."""
        if event in _DELTAS:  # the common case, decoded here: one call less per token
            obj = json_object(data)
            return ErrorClass.MALFORMED if obj is None else _delta(obj)
        if event is None or event in _ENDS:
            return _decoded(event, data, tokens)
        return IGNORE  # named events the figures do not need (and types added later)

    @staticmethod
    def body(kind: str, data: bytes, tokens: Tokens) -> ErrorClass | None:
        """A whole (non-streamed) answer: a response object whose ``output`` is a list."""
        obj = json_object(data)
        if obj is None:
            return ErrorClass.MALFORMED
        if obj.get("error"):
            return ErrorClass.STREAM_ERROR
        if not isinstance(obj.get("output"), list):
            return ErrorClass.MALFORMED
        _usage(obj, tokens)
        return _ended(obj)
