"""Wire protocols: how a ``RequestSpec`` becomes bytes, and how answers are read.

Each protocol turns a request spec into a ``Prepared`` request once, before the run (the hot
path only sends pre-built bytes), and classifies stream events and bodies. OpenAI facts (from the
openai SDK's recorded streams): TTFT starts at the first chunk with non-empty ``delta.content`` (or
a tool-call / refusal delta; ``text`` for /v1/completions), usage is optional on every chunk and
the last one wins, a ``{"error": ...}`` payload after a 200 is a stream error. Anthropic is in
``engine/anthropic.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Protocol

from loadtui.model.outcomes import ErrorClass, Tokens
from loadtui.model.plan import CheckSpec, RequestSpec, TargetSpec
from loadtui.model.requests import Prompt
from loadtui.model.workflows import BatchInput, BatchSpec

__all__ = [
    "CONTENT",
    "DONE",
    "IGNORE",
    "BatchJob",
    "ContentTemplate",
    "JSONObject",
    "OpenAIProtocol",
    "Prepared",
    "Prompt",
    "Reader",
    "Tokens",
    "chat_text",
    "chunk_template",
    "finish",
    "join_url",
    "json_object",
    "key_headers",
    "shaped_body",
    "shaped_headers",
    "status_class",
    "template_around",
    "token_count",
]


IGNORE, CONTENT, DONE = 0, 1, 2


class Reader(Protocol):
    """How a protocol reads answers (``OpenAIProtocol``, ``AnthropicProtocol``). Readers may
    raise on a shape the protocol does not have: the caller counts that as MALFORMED."""

    def stream_event(self, event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
        """One SSE event: CONTENT, DONE, IGNORE, or the ErrorClass it signals."""
        ...

    def body(self, kind: str, data: bytes, tokens: Tokens) -> ErrorClass | None:
        """A complete 2xx body: None, or the ErrorClass when it is not what was promised."""
        ...


JSONObject = dict[str, Any]
"""A JSON object as it is built for the wire or parsed from it: the one untyped shape here."""

BatchJob = tuple[BatchInput | None, BatchSpec]
"""A batch request's input file and settings (``Prepared.extra``)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: bool = False
    kind: str = "chat"
    label: str = "chat"
    """The per-request table's row this request counts in ("" = none: a single-kind run)."""
    protocol: Reader | None = None
    """Reads the answer (None for a batch job, which reads its own steps)."""
    checks: tuple[CheckSpec, ...] = ()
    accept: frozenset[int] = frozenset()
    """Statuses a ``status`` check accepts: not counted as errors."""
    extra: BatchJob | None = None
    """Kind-specific data (a batch job's input and settings)."""
    max_body: int = 64 * 1024 * 1024
    """Largest body read (``TargetSpec.max_body_bytes``)."""
    max_event: int = 8 * 1024 * 1024
    """Largest SSE line or event (``TargetSpec.max_event_bytes``)."""


def join_url(base: str, path: str, key: str | None = None) -> str:
    """``base`` may or may not end in ``/v1``; ``path`` is ``/v1/...`` or ``/health``. A
    query in ``base`` (``?api-version=…``, as Azure's endpoints take) goes after the joined
    path; a fragment is dropped (a client never sends one). A ``{key}`` in either is replaced
    by the API key — here, in memory, never in a file."""
    base, _, query = base.split("#", 1)[0].partition("?")
    base = base.rstrip("/")
    url = base + path[3:] if base.endswith("/v1") and path.startswith("/v1/") else base + path
    if query:
        url += ("&" if "?" in url else "?") + query
    return url.replace("{key}", key or "") if "{key}" in url else url


_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner ``json.loads`` ends in, with the same (default) settings."""
_JSON_SPACE = " \t\n\r"
"""What JSON allows around a value (``json.decoder.WHITESPACE``)."""


def json_object(data: bytes) -> JSONObject | None:
    """The JSON object in ``data``, or None when it is not one (the caller's MALFORMED).

    Exactly ``json.loads`` — the same C scanner on the same text, the same errors — without its
    wrappers for what an answer is (UTF-8 text starting with ``{``): ``json.loads`` of bytes
    first guesses the encoding in Python and matches whitespace twice, ~40 % of the parse of
    a small body (docs/performance.md, "loadtui's own work per request"). Anything else — a
    BOM, UTF-16/32, leading whitespace, not an object — takes ``json.loads`` itself."""
    if data[:1] == b"{" and data[1:2] != b"\x00":  # UTF-8: json.detect_encoding says so too
        try:
            text = data.decode("utf-8", "surrogatepass")
            obj, end = _SCAN(text, 0)
        except (ValueError, StopIteration):  # JSONDecodeError, UnicodeDecodeError
            return None
        if end != len(text) and text[end:].strip(_JSON_SPACE):
            return None  # "Extra data"
        return obj if isinstance(obj, dict) else None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def user_messages(spec: RequestSpec, prompt: Prompt | None) -> list[JSONObject]:
    """The messages of a chat request: a system message if the spec has one, then the prompt
    (or the prompt data's whole messages list)."""
    if isinstance(prompt, list):
        return prompt
    messages = [{"role": "system", "content": spec.system}] if spec.system else []
    return [*messages, {"role": "user", "content": prompt if prompt is not None else spec.prompt}]


def _text(prompt: Prompt | None, spec: RequestSpec) -> str:
    if prompt is None:
        return spec.prompt
    if isinstance(prompt, str):
        return prompt
    return "\n".join(str(m.get("content", "")) for m in prompt if isinstance(m, dict))


_PATHS = {
    "chat": "/v1/chat/completions",
    "completion": "/v1/completions",
    "embedding": "/v1/embeddings",
    "models": "/v1/models",
}


def token_count(value: object) -> int | None:
    """A usage count as sent: None when absent, else it must be an int ≥ 0 — anything else
    raises ``ValueError`` (the caller's MALFORMED) before it can reach a counter."""
    if value is None or (type(value) is int and value >= 0):
        return value
    raise ValueError(f"token count is not an int >= 0: {value!r:.40}")


def finish(prep: Prepared, spec: RequestSpec, protocol: Reader, target: TargetSpec) -> Prepared:
    """Attach what every protocol's prepared request carries: label, reader, checks, limits."""
    accept = frozenset(s for c in spec.checks if c.status for s in c.status)
    return Prepared(
        prep.method,
        prep.url,
        prep.headers,
        prep.body,
        prep.stream,
        prep.kind,
        spec.label,
        protocol,
        spec.checks,
        accept,
        prep.extra,
        target.max_body_bytes,
        target.max_event_bytes,
    )


def key_headers(headers: dict[str, str], target: TargetSpec, api_key: str | None) -> dict[str, str]:
    """``headers`` with the API key as the target takes it: ``x-api-key``, or a Bearer token
    (OpenAI's SDK's way, also the Responses API's)."""
    if api_key:
        if target.auth == "x-api-key":
            headers["x-api-key"] = api_key
        else:
            headers["Authorization"] = f"Bearer {api_key}"
    return headers


def shaped_headers(
    headers: dict[str, str], spec: RequestSpec, target: TargetSpec
) -> dict[str, str]:
    """``headers`` with the run's (``--header``) then the request's own over them; a name given
    in another case replaces ours (HTTP names are case-insensitive)."""
    for extra in (target.headers, spec.headers):
        for name, value in extra.items():
            low = name.lower()
            for ours in [k for k in headers if k.lower() == low]:
                del headers[ours]
            headers[name] = value
    return headers


def shaped_body(body: JSONObject, spec: RequestSpec) -> JSONObject:
    """``body`` with ``ignore_eos``/``min_tokens`` and then the request's ``body`` table merged
    last (the user's fields win, ``model`` included; ``stream`` is refused by the model)."""
    if spec.ignore_eos:
        body["ignore_eos"] = True
    if spec.min_tokens is not None:
        mt = spec.min_tokens
        body["min_tokens"] = spec.output_tokens if mt == "max_tokens" else mt
    body.update(spec.body)
    return body


class OpenAIProtocol:
    """OpenAI-compatible chat completions, completions, embeddings, /v1/models and /health."""

    name = "openai"

    def prepare(
        self,
        spec: RequestSpec,
        target: TargetSpec,
        base_url: str,
        api_key: str | None,
        prompt: Prompt | None = None,
    ) -> Prepared:
        headers = {"Accept": "text/event-stream" if spec.streamed else "application/json"}
        shaped_headers(key_headers(headers, target, api_key), spec, target)
        path = spec.path or _PATHS.get(spec.kind, "")
        if spec.kind == "health":
            root, _, query = base_url.split("#", 1)[0].partition("?")
            root = root.rstrip("/")
            root = root[:-3] if root.endswith("/v1") else root
            url = join_url(root + (f"?{query}" if query else ""), spec.path or "/health", api_key)
            return finish(Prepared("GET", url, headers, None, False, "health"), spec, self, target)
        if spec.kind == "models":
            url = join_url(base_url, path, api_key)
            return finish(Prepared("GET", url, headers, None, False, "models"), spec, self, target)
        body: JSONObject = {"model": target.model}
        if spec.kind == "chat":
            body["messages"] = user_messages(spec, prompt)
            body["max_tokens"] = spec.output_tokens
        elif spec.kind == "completion":
            body["prompt"] = _text(prompt, spec)
            body["max_tokens"] = spec.output_tokens
        else:  # embedding: the SDK's default wire format is base64
            body["input"] = _text(prompt, spec)
            body["encoding_format"] = "base64"
        if spec.streamed:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        headers["Content-Type"] = "application/json"
        prep = Prepared(
            "POST",
            join_url(base_url, path, api_key),
            headers,
            json.dumps(shaped_body(body, spec)).encode(),
            spec.streamed,
            spec.kind,
        )
        return finish(prep, spec, self, target)

    @staticmethod
    def stream_event(event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
        """Classify one SSE event: CONTENT, DONE, IGNORE, or the ErrorClass it signals."""
        if data[:6] == b"[DONE]":
            return DONE
        obj = json_object(data)
        if obj is None:
            return ErrorClass.MALFORMED
        if obj.get("error"):
            return ErrorClass.STREAM_ERROR
        usage = obj.get("usage")
        if usage:  # readers may raise on a wrong shape: the caller counts it as MALFORMED
            _chunk_usage(usage, tokens)
        for choice in obj.get("choices") or ():
            delta = choice.get("delta")
            if delta and (delta.get("content") or delta.get("tool_calls") or delta.get("refusal")):
                return CONTENT
            if choice.get("text"):  # /v1/completions chunks have the whole-answer shape
                return CONTENT
        return IGNORE

    @staticmethod
    def content_template(data: bytes) -> ContentTemplate | None:
        """Chunks shaped like this content chunk are read without a parse (``read_stream``)."""
        return chunk_template(data)

    @staticmethod
    def body(kind: str, data: bytes, tokens: Tokens) -> ErrorClass | None:
        """Check a complete 2xx body; returns an ErrorClass when it is not what was promised."""
        if kind == "health":
            return None
        obj = json_object(data)
        if obj is None:
            return ErrorClass.MALFORMED
        if obj.get("error"):
            return ErrorClass.STREAM_ERROR
        if kind in ("models", "embedding"):
            if not isinstance(obj.get("data"), list):
                return ErrorClass.MALFORMED
            usage = obj.get("usage")
            if kind == "embedding" and usage:
                tokens.input = token_count(usage.get("prompt_tokens"))
            return None
        choices = obj.get("choices")
        if type(choices) is not list:  # parsed JSON: a list is a list, never a subclass
            return ErrorClass.MALFORMED
        for choice in choices:  # a loop, not all(<generator>): a frame fewer per request
            if type(choice) is not dict:
                return ErrorClass.MALFORMED
        usage = obj.get("usage")
        if usage:
            tokens.output = token_count(usage.get("completion_tokens"))
            tokens.input = token_count(usage.get("prompt_tokens"))
        return None


class ContentTemplate:
    """The bytes around the text string of one stream chunk (OpenAI's ``delta.content``,
    Anthropic's ``text_delta``): a later chunk made of the same prefix, a non-empty JSON string
    and the same suffix is CONTENT without a JSON parse (docs/performance.md, "Where the
    worker's time goes (issue 15)").

    Servers send every content chunk of a stream with the same id, created, model, choice
    index, ``logprobs`` and ``finish_reason``; only the text changes. A chunk that matches is
    exactly the template's chunk with another text, so ``stream_event`` would have read it as
    CONTENT too, with no usage and no error (a template is made only from such a chunk); any
    other chunk — the first, a role or tool-call delta, the finish, the usage, an error, a
    malformed one — does not match and is parsed in full. Decoding the string (``scanstring``,
    C) keeps the JSON check on the part that changes: 0.7 µs instead of ~9 µs a chunk.

    OpenAI pads each chunk with a random ``obfuscation`` string (on by default): when the
    template's chunk has one, that string may differ too (``tail`` is then what follows it, and
    ``suffix`` runs from the text's end to the padding's opening quote) — the padding says
    nothing the run counts, and it is still checked to be a JSON string."""

    __slots__ = ("prefix", "start", "suffix", "tail")

    def __init__(self, prefix: str, suffix: str, tail: str | None = None) -> None:
        self.prefix = prefix
        self.start = len(prefix)
        self.suffix = suffix
        self.tail = tail

    def matches(self, data: bytes) -> bool:
        """True when ``data`` is this template's chunk with another non-empty text (and
        another padding, when it has one)."""
        try:
            text = data.decode()
            if not text.startswith(self.prefix):
                return False
            content, end = scanstring(text, self.start)
            if not content:
                return False
            if self.tail is None:
                return len(text) - end == len(self.suffix) and text.endswith(self.suffix)
            if not text.startswith(self.suffix, end):
                return False
            _, end = scanstring(text, end + len(self.suffix))
        except ValueError:  # not UTF-8, or not a JSON string there: the full parse decides
            return False
        return len(text) - end == len(self.tail) and text.endswith(self.tail)


def chunk_template(data: bytes) -> ContentTemplate | None:
    """The template of a chunk ``stream_event`` read as CONTENT, when it has the plain shape —
    one choice whose ``delta.content`` is its only ``"content"`` key, no usage, no error;
    else None (its stream is parsed chunk by chunk as before)."""
    try:
        text = data.decode()
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("error") or obj.get("usage"):
        return None
    choices = obj.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    delta = choices[0].get("delta")
    said = delta.get("content") if isinstance(delta, dict) else None
    template = template_around(text, _CONTENT, said)
    padding = obj.get("obfuscation")
    if template is None or padding is None:
        return template
    return _padded(template, text, padding)


def _padded(template: ContentTemplate, text: str, padding: object) -> ContentTemplate | None:
    """``template`` with its chunk's ``obfuscation`` string left free (None when the padding is
    not one string after the text, found once)."""
    head = len(text) - len(template.suffix)  # where the text's string ends
    found = _PADDING.search(text, head)
    if not isinstance(padding, str) or found is None or _PADDING.search(text, found.end()):
        return None
    try:
        value, end = scanstring(text, found.end())
    except ValueError:
        return None
    if value != padding:
        return None
    return ContentTemplate(template.prefix, text[head : found.end()], text[end:])


def template_around(text: str, key: re.Pattern[str], said: object) -> ContentTemplate | None:
    """The template of a parsed chunk whose text, ``said``, is a non-empty string that ``key``
    (a JSON key and its opening quote) finds once and only once in ``text``; else None."""
    if not isinstance(said, str) or not said:
        return None
    found = key.search(text)
    if found is None or key.search(text, found.end()) is not None:
        return None
    try:
        content, end = scanstring(text, found.end())
    except ValueError:
        return None
    return ContentTemplate(text[: found.end()], text[end:]) if content == said else None


def _chunk_usage(usage: JSONObject, tokens: Tokens) -> None:
    """A stream chunk's usage: any chunk may carry it, the last count given wins."""
    output = token_count(usage.get("completion_tokens"))
    prompt = token_count(usage.get("prompt_tokens"))
    tokens.output = tokens.output if output is None else output
    tokens.input = tokens.input if prompt is None else prompt


def status_class(status: int) -> ErrorClass | None:
    """The error class of an HTTP status (None below 400)."""
    if status < 400:
        return None
    if status == 429:
        return ErrorClass.HTTP_429
    if status == 529:
        return ErrorClass.HTTP_529
    if status < 500:
        return ErrorClass.HTTP_4XX
    return ErrorClass.HTTP_5XX


_CONTENT = re.compile(r'"content"\s*:\s*"')
"""A ``"content"`` key whose value is a string: in JSON an unescaped quote before it can only
open a key, never sit inside a string."""
_PADDING = re.compile(r'"obfuscation"\s*:\s*"')
"""OpenAI's per-chunk padding key, with its string's opening quote (as ``_CONTENT``)."""


def chat_text(data: bytes) -> str:
    """The answer text in one chat stream event (``delta.content``) or a whole chat body
    (``message.content``); "" when there is none. A conversation joins these into the turn's
    answer, which the next turn sends back as history.

    An event with one such key (a stream chunk's ``delta``) has its string decoded where it
    stands, not the whole event parsed a second time (the reader parsed it already): half the
    cost of a conversation's turn on a zero-delay server (docs/performance.md)."""
    text = data.decode("utf-8", "replace")
    key = _CONTENT.search(text)
    if key is not None and _CONTENT.search(text, key.end()) is None:
        try:
            content: str = scanstring(text, key.end())[0]
            return content
        except ValueError:  # not a JSON string after all: read the whole event below
            pass
    obj = json_object(data) if data[:1] == b"{" else None
    if obj is None:
        return ""
    parts: list[str] = []
    for choice in obj.get("choices") or ():
        if isinstance(choice, dict):
            said = choice.get("delta") or choice.get("message") or {}
            piece = said.get("content") if isinstance(said, dict) else None
            if isinstance(piece, str):
                parts.append(piece)
    return "".join(parts)
