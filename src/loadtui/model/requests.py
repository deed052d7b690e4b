"""What a virtual user sends: request kinds, a weighted mix, checks on answers, prompt data.

Load tests against gateways are request mixes (some streamed, some not, some with a system
message, a health probe) with assertions on each answer (a JSON field, a cache header, the
statuses that are acceptable). A preset declares them here; the engine prepares every variant
once, before the run, so the hot path only picks pre-built bytes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from loadtui.model.durations import parse_duration
from loadtui.model.shaping import (
    MAX_BODY_FIELDS,
    MAX_HEADERS,
    MAX_OUTPUT_TOKENS,
    Headers,
    OutputLength,
    check_json,
    output_length,
)

__all__ = [
    "KINDS",
    "MAX_KINDS",
    "MAX_TOTAL_WEIGHT",
    "STREAMABLE",
    "CheckSpec",
    "Prompt",
    "PromptSpec",
    "RequestSpec",
    "SyntheticPrompts",
    "count_unit",
]

_STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)
# Bounds that keep a typo from running for ever or filling memory (docs/presets.md lists them).
MAX_WEIGHT = 1000
"""A request's share of the mix: each round of the mix holds sum(weights) requests."""
MAX_KINDS = 100
"""Request kinds in a mix."""
MAX_TOTAL_WEIGHT = 10_000
"""Requests in one round of the mix: building the round costs kinds × total weight steps at
start-up (100 × 10,000 is a fraction of a second; 1,000 × 1,000,000 was minutes)."""
MAX_PROMPTS = 100_000
MAX_PROMPT_WORDS = 100_000
Seconds = Annotated[float, BeforeValidator(parse_duration)]
_BAD_PATH_CHAR = re.compile(r"[\\\s\x00-\x1f\x7f]")
"""In a request path: a backslash (some clients read it as /), whitespace, control characters."""

Prompt = str | list[dict[str, Any]]
"""One prompt: text, or a whole messages list (from Batch-format prompt data)."""

KINDS = ("chat", "completion", "embedding", "messages", "models", "health", "batch", "responses")
STREAMABLE = ("chat", "completion", "messages", "responses")


class CheckSpec(BaseModel):
    """One assertion on an answer; passes and failures are counted per check, never raised.

    Exactly one of ``json_field`` (a dotted path that must be present in the JSON body, or in
    some event of a stream), ``header`` (present, or equal to ``equals``) or ``status`` (the
    answer's status is one of these — and such a status is then not counted as an error).
    """

    model_config = _STRICT

    name: str | None = None
    json_field: str | None = None
    header: str | None = None
    equals: str | None = None
    status: tuple[Annotated[int, Field(ge=100, le=599)], ...] | None = None

    @model_validator(mode="after")
    def _one(self) -> CheckSpec:
        given = [x is not None for x in (self.json_field, self.header, self.status)]
        if sum(given) != 1:
            raise ValueError("a check needs exactly one of json_field, header or status")
        if self.equals is not None and self.header is None:
            raise ValueError("equals goes with header")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.json_field:
            return f"json {self.json_field}"
        if self.header:
            return f"header {self.header}" + (f" = {self.equals}" if self.equals else "")
        return "status in " + ",".join(str(s) for s in self.status or ())


_BODIED = ("chat", "completion", "messages", "embedding", "responses")
_BODY_OWNED = frozenset({"stream", "stream_options"})
"""Body fields set from ``stream =``: the client reads the answer as that says."""


class RequestSpec(BaseModel):
    """One kind of request a virtual user sends."""

    model_config = _STRICT

    kind: Literal[
        "chat", "completion", "embedding", "messages", "models", "health", "batch", "responses"
    ] = "chat"
    """chat = /v1/chat/completions; completion = /v1/completions; embedding = /v1/embeddings;
    messages = Anthropic /v1/messages; models = GET /v1/models; health = GET /health;
    batch = one OpenAI Batch API job (upload, create, poll, download, check);
    responses = the OpenAI Responses API, POST /v1/responses."""
    name: str | None = None
    """Label in the per-request table (default: the kind, plus " stream" when streamed)."""
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT)
    """Share of this request in the mix: weights 3, 3, 2, 1 send 9 requests per round."""
    prompt: str = "Write a haiku about load testing."
    """The user message (chat, messages), prompt (completion) or input (embedding, responses)."""
    system: str | None = None
    """A system message (chat: a system-role message; messages: the ``system`` field;
    responses: ``instructions``)."""
    max_tokens: Annotated[
        Annotated[int, Field(ge=1, le=MAX_OUTPUT_TOKENS)] | OutputLength,
        BeforeValidator(output_length),
    ] = 64
    """``max_tokens`` in the request body (responses: ``max_output_tokens``): a number, or a distribution
    (``{distribution = "uniform", min = 32, max = 512, seed = 1}``) sampled once per prepared
    variant before the run (``OutputLength``)."""
    stream: bool = True
    """Stream the answer (SSE) — TTFT, ITL and TPOT exist only for streamed requests."""
    path: str | None = None
    """Path under the base URL instead of the standard one; ``{key}`` is replaced by the API
    key at send time (never stored), e.g. ``/ak/{key}/v1/messages``."""
    checks: tuple[CheckSpec, ...] = Field(default=(), max_length=100)
    # The request under full control (docs/workflows.md, "The request under full control").
    body: dict[str, Any] = Field(default_factory=dict, max_length=MAX_BODY_FIELDS)
    """JSON fields merged into the body last (``[requests.body]``): temperature, tools,
    response_format, even model override ours; ``stream`` follows ``stream =``."""
    headers: Headers = Field(default_factory=dict, max_length=MAX_HEADERS)
    """Extra request headers; values of auth-like ones are written as ``***``."""
    ignore_eos: bool = False
    """Send vLLM's ``ignore_eos: true`` (generate up to max_tokens); not for messages."""
    min_tokens: int | Literal["max_tokens"] | None = None
    """Send ``min_tokens`` (vLLM, SGLang): a number, or ``"max_tokens"`` for each variant's
    own max_tokens (with ignore_eos: an exact output length); not for messages."""

    @field_validator("body")
    @classmethod
    def _check_body(cls, body: dict[str, Any]) -> dict[str, Any]:
        for key in _BODY_OWNED & body.keys():
            raise ValueError(f"body cannot set {key!r}: it follows the request's stream = ...")
        return check_json(body)

    @model_validator(mode="after")
    def _check_lengths(self) -> RequestSpec:
        if self.kind not in _BODIED and (self.body or self.ignore_eos or self.min_tokens):
            raise ValueError(
                f"a {self.kind} request has no JSON body: body, ignore_eos and "
                "min_tokens do not apply"
            )
        if self.kind in ("messages", "embedding", "responses") and (
            self.ignore_eos or self.min_tokens is not None
        ):
            raise ValueError(
                f"ignore_eos and min_tokens are vLLM/SGLang extensions of chat and completion "
                f"requests; a {self.kind} request cannot take them (the Anthropic Messages and "
                "OpenAI Responses APIs have no such field)"
            )
        if isinstance(self.min_tokens, int):
            mt = self.max_tokens
            most = mt if isinstance(mt, int) else mt.max
            if not 0 <= self.min_tokens <= most:
                raise ValueError(
                    f"min_tokens must be 0..max_tokens ({most}), got {self.min_tokens}"
                )
        return self

    @model_validator(mode="after")
    def _check_path(self) -> RequestSpec:
        # join_url appends the path to the base URL: "@evil.example/..." or ".evil.example/..."
        # would change the host the key goes to, so only an absolute path is accepted.
        if self.path is not None and (
            not self.path.startswith("/") or _BAD_PATH_CHAR.search(self.path)
        ):
            raise ValueError(
                f"path must start with / and hold no spaces, backslashes or control "
                f"characters, got {self.path[:80]!r}"
            )
        return self

    @property
    def streamed(self) -> bool:
        return self.stream and self.kind in STREAMABLE

    @property
    def output_tokens(self) -> int:
        """``max_tokens`` as one number: the fixed one, or the distribution's first draw."""
        mt = self.max_tokens
        return mt if isinstance(mt, int) else mt.draw(1)[0]

    @property
    def label(self) -> str:
        return self.name or (self.kind + (" stream" if self.streamed else ""))


class SyntheticPrompts(BaseModel):
    """Generated prompts whose lengths (in words) follow a distribution; seeded, so a replay
    sends the same prompts."""

    model_config = _STRICT

    count: int = Field(default=100, ge=1, le=MAX_PROMPTS)
    distribution: Literal["uniform", "normal", "lognormal"] = "uniform"
    min_words: int = Field(default=10, ge=1, le=MAX_PROMPT_WORDS)
    max_words: int = Field(default=200, ge=1, le=MAX_PROMPT_WORDS)
    mean_words: float | None = Field(default=None, gt=0, le=MAX_PROMPT_WORDS)
    """Centre of normal/lognormal (default: the middle of min..max)."""
    seed: int = Field(default=1, ge=0, lt=2**63)

    @model_validator(mode="after")
    def _range(self) -> SyntheticPrompts:
        if self.min_words > self.max_words:
            raise ValueError("min_words is larger than max_words")
        if self.count * self.max_words > MAX_PROMPT_WORDS * 100:
            raise ValueError(
                f"count × max_words can be at most {MAX_PROMPT_WORDS * 100:,} words "
                "(the prompts are generated in memory before the run)"
            )
        return self


class PromptSpec(BaseModel):
    """Where prompts come from: a JSONL file, generated ones, or (neither) each request's own."""

    model_config = _STRICT

    file: str | None = None
    """JSONL: Batch API lines (``{"custom_id", "body": {"messages": [...]}}``) or
    ``{"prompt": "..."}`` lines; a bundled set by name (``prompts-example``) or a path
    (relative to the current directory)."""
    synthetic: SyntheticPrompts | None = None

    @model_validator(mode="after")
    def _one(self) -> PromptSpec:
        if self.file is not None and self.synthetic is not None:
            raise ValueError("prompts: give a file or synthetic, not both")
        return self


def count_unit(kinds: set[str | None]) -> str:
    """What a run's request count counts: a Batch job is one, however many HTTP calls it makes,
    so a run with jobs says ``jobs`` (or ``requests + jobs`` in a mix). The console and the app
    both label their counts with this."""
    if kinds == {"batch"}:
        return "jobs"
    return "requests + jobs" if "batch" in kinds else "requests"
