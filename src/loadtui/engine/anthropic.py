"""Anthropic Messages: ``POST /v1/messages``, streaming and not (as the anthropic SDK sends it).

The key goes in ``x-api-key`` (or as a Bearer token with ``auth = "bearer"``), with
``anthropic-version``. In a stream, TTFT is the first ``content_block_delta`` carrying text (or
thinking) — ``message_start`` arrives early and is not a token; ``message_delta.usage`` is
cumulative, so the last one gives the output tokens; ``ping`` may come anywhere and unknown
events are ignored. An ``error`` event after a 200 is a stream error — or, for
``overloaded_error``, the same class as a 529 status.
"""

from __future__ import annotations

import json
import re

from loadtui.engine.protocols import (
    CONTENT,
    DONE,
    IGNORE,
    ContentTemplate,
    JSONObject,
    Prepared,
    Prompt,
    Tokens,
    finish,
    join_url,
    json_object,
    shaped_body,
    shaped_headers,
    template_around,
    token_count,
)
from loadtui.model.outcomes import ErrorClass
from loadtui.model.plan import RequestSpec, TargetSpec

__all__ = ["AnthropicProtocol", "messages_text"]

_TEXT_DELTAS = ("text_delta", "thinking_delta")
_TEXT = re.compile(r'"text"\s*:\s*"')
"""A ``"text"`` key and the quote opening its string value (a key: see protocols._CONTENT)."""


def _error_class(obj: JSONObject) -> ErrorClass:
    """An error after a 200: overloaded is the 529 class, anything else a stream error."""
    err = obj.get("error") or {}
    return ErrorClass.HTTP_529 if err.get("type") == "overloaded_error" else ErrorClass.STREAM_ERROR


def _input_tokens(usage: JSONObject) -> int:
    """Input tokens: fresh plus cache writes and reads (each validated by ``token_count``)."""
    return sum(
        token_count(usage.get(k)) or 0
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def _delta_usage(usage: JSONObject, tokens: Tokens) -> None:
    """``message_delta.usage`` is cumulative: the last one wins."""
    if usage.get("output_tokens") is not None:
        tokens.output = token_count(usage["output_tokens"])
    if usage.get("input_tokens") is not None:
        tokens.input = _input_tokens(usage)


class AnthropicProtocol:
    name = "anthropic"

    def prepare(
        self,
        spec: RequestSpec,
        target: TargetSpec,
        base_url: str,
        api_key: str | None,
        prompt: Prompt | None = None,
    ) -> Prepared:
        headers = {
            "Accept": "text/event-stream" if spec.streamed else "application/json",
            "Content-Type": "application/json",
            "anthropic-version": target.anthropic_version,
        }
        if api_key:
            if target.auth == "bearer":
                headers["Authorization"] = f"Bearer {api_key}"
            else:
                headers["x-api-key"] = api_key
        shaped_headers(headers, spec, target)
        if isinstance(prompt, list):  # Batch-format data: a system message becomes ``system``
            system = "\n".join(
                str(m.get("content"))
                for m in prompt
                if isinstance(m, dict) and m.get("role") == "system"
            )
            messages = [m for m in prompt if isinstance(m, dict) and m.get("role") != "system"]
        else:
            system = spec.system or ""
            messages = [{"role": "user", "content": prompt if prompt is not None else spec.prompt}]
        body: JSONObject = {
            "model": target.model,
            "max_tokens": spec.output_tokens,
            "messages": messages,
        }
        if system:
            body["system"] = system
        if spec.streamed:
            body["stream"] = True
        url = join_url(base_url, spec.path or "/v1/messages", api_key)
        data = json.dumps(shaped_body(body, spec)).encode()
        prep = Prepared("POST", url, headers, data, spec.streamed, "messages")
        return finish(prep, spec, self, target)

    @staticmethod
    def stream_event(event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
        obj = json_object(data)
        if obj is None:
            return ErrorClass.MALFORMED
        kind = obj.get("type") or event
        if kind == "content_block_delta":
            delta = obj.get("delta") or {}
            if delta.get("type") in _TEXT_DELTAS and (delta.get("text") or delta.get("thinking")):
                return CONTENT
            return IGNORE
        if kind == "message_start":
            usage = (obj.get("message") or {}).get("usage") or {}
            if usage:
                tokens.input = _input_tokens(usage)
            return IGNORE
        if kind == "message_delta":
            _delta_usage(obj.get("usage") or {}, tokens)
            return IGNORE
        if kind == "message_stop":
            return DONE
        if kind == "error":
            return _error_class(obj)
        return IGNORE  # ping, content_block_start/stop, and event types added later

    @staticmethod
    def content_template(data: bytes) -> ContentTemplate | None:
        """A ``text_delta`` event's shape: the next text deltas of its block are read without a
        parse (``client.read_stream``); a chunk of that shape is CONTENT, touches no usage."""
        try:
            text = data.decode()
            obj = json.loads(text)
        except ValueError:
            return None
        if not isinstance(obj, dict) or obj.get("type") != "content_block_delta":
            return None
        delta = obj.get("delta")
        if not isinstance(delta, dict) or delta.get("type") != "text_delta":
            return None
        return template_around(text, _TEXT, delta.get("text"))

    @staticmethod
    def body(kind: str, data: bytes, tokens: Tokens) -> ErrorClass | None:
        obj = json_object(data)
        if obj is None:
            return ErrorClass.MALFORMED
        if obj.get("type") == "error":
            return _error_class(obj)
        if not isinstance(obj.get("content"), list):
            return ErrorClass.MALFORMED
        usage = obj.get("usage") or {}
        if usage.get("output_tokens") is not None:
            tokens.output = token_count(usage["output_tokens"])
        if usage:
            tokens.input = _input_tokens(usage)
        return None


def messages_text(data: bytes) -> str:
    """The answer text in one Messages stream event (a ``text_delta``) or a whole Messages
    body (its ``text`` blocks); "" when there is none (a conversation's history)."""
    obj = json_object(data) if data[:1] == b"{" else None
    if obj is None:
        return ""
    delta = obj.get("delta")
    if isinstance(delta, dict):
        text = delta.get("text") if delta.get("type") == "text_delta" else None
        return text if isinstance(text, str) else ""
    blocks = obj.get("content")
    if not isinstance(blocks, list):
        return ""
    return "".join(
        b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)
    )
