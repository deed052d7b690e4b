"""Wire protocols: how a ``RequestSpec`` becomes bytes, and how answers are read.

Each protocol turns a request spec into a ``Prepared`` request once, before the run (the hot
path only sends pre-built bytes), and classifies stream events and bodies. Facts follow
../shared/protocols.md: TTFT starts at the first chunk with non-empty ``delta.content`` (or a
tool-call / refusal delta), usage is optional on every chunk and the last one wins, a
``{"error": ...}`` payload after a 200 is a stream error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from loadtui.model.outcomes import ErrorClass
from loadtui.model.plan import RequestSpec, TargetSpec

__all__ = ["CONTENT", "DONE", "IGNORE", "OpenAIProtocol", "Prepared", "Tokens"]

IGNORE, CONTENT, DONE = 0, 1, 2


@dataclass(slots=True)
class Tokens:
    """What a response said about tokens; ``output is None`` until the server reports usage."""

    output: int | None = None
    input: int | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: bool = False
    kind: str = "chat"


def join_url(base: str, path: str) -> str:
    """``base`` may or may not end in ``/v1``; ``path`` is ``/v1/...`` or ``/health``."""
    base = base.rstrip("/")
    if base.endswith("/v1") and path.startswith("/v1/"):
        return base + path[3:]
    return base + path


class OpenAIProtocol:
    """OpenAI-compatible chat completions, /v1/models and /health."""

    name = "openai"

    def prepare(
        self, spec: RequestSpec, target: TargetSpec, base_url: str, api_key: str | None
    ) -> Prepared:
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if spec.kind == "health":
            root = base_url.rstrip("/")
            root = root[:-3] if root.endswith("/v1") else root
            return Prepared("GET", root + "/health", headers, None, False, "health")
        if spec.kind == "models":
            return Prepared("GET", join_url(base_url, "/v1/models"), headers, None, False, "models")
        body: dict[str, Any] = {
            "model": target.model,
            "messages": [{"role": "user", "content": spec.prompt}],
            "max_tokens": spec.max_tokens,
        }
        if spec.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
            headers["Accept"] = "text/event-stream"
        headers["Content-Type"] = "application/json"
        return Prepared(
            "POST",
            join_url(base_url, "/v1/chat/completions"),
            headers,
            json.dumps(body).encode(),
            spec.stream,
            "chat",
        )

    @staticmethod
    def stream_event(event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
        """Classify one SSE event: CONTENT, DONE, IGNORE, or the ErrorClass it signals."""
        if data[:6] == b"[DONE]":
            return DONE
        try:
            obj = json.loads(data)
        except ValueError:
            return ErrorClass.MALFORMED
        if not isinstance(obj, dict):
            return ErrorClass.MALFORMED
        if obj.get("error"):
            return ErrorClass.STREAM_ERROR
        usage = obj.get("usage")
        if usage:
            tokens.output = usage.get("completion_tokens", tokens.output)
            tokens.input = usage.get("prompt_tokens", tokens.input)
        for choice in obj.get("choices") or ():
            delta = choice.get("delta")
            if delta and (delta.get("content") or delta.get("tool_calls") or delta.get("refusal")):
                return CONTENT
        return IGNORE

    @staticmethod
    def body(kind: str, data: bytes, tokens: Tokens) -> ErrorClass | None:
        """Check a complete 2xx body; returns an ErrorClass when it is not what was promised."""
        if kind == "health":
            return None
        try:
            obj = json.loads(data)
        except ValueError:
            return ErrorClass.MALFORMED
        if not isinstance(obj, dict):
            return ErrorClass.MALFORMED
        if obj.get("error"):
            return ErrorClass.STREAM_ERROR
        if kind == "models":
            return None if isinstance(obj.get("data"), list) else ErrorClass.MALFORMED
        if not isinstance(obj.get("choices"), list):
            return ErrorClass.MALFORMED
        usage = obj.get("usage")
        if usage:
            tokens.output = usage.get("completion_tokens")
            tokens.input = usage.get("prompt_tokens")
        return None


def status_class(status: int) -> ErrorClass | None:
    if status < 400:
        return None
    if status == 429:
        return ErrorClass.HTTP_429
    if status < 500:
        return ErrorClass.HTTP_4XX
    return ErrorClass.HTTP_5XX
