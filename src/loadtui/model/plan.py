"""The fully resolved description of a run: target, request mix, load shape, thresholds.

A ``RunConfig`` is what a preset becomes after command-line overrides; it is written verbatim
(minus secrets) into every run file, and a replay rebuilds the same run from it. Validation
lives here, once, so a preset, an option and a replayed run file are checked the same way.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from loadtui.model.conversation import CONVERSATION_KINDS, ConversationSpec
from loadtui.model.durations import MAX_DURATION, format_duration, parse_duration, parse_range
from loadtui.model.requests import (
    MAX_KINDS,
    MAX_TOTAL_WEIGHT,
    CheckSpec,
    PromptSpec,
    RequestSpec,
)
from loadtui.model.search import SearchSpec
from loadtui.model.servermetrics import ServerMetricsSpec
from loadtui.model.shaping import (
    MAX_HEADERS,
    Headers,
    secret_header_values,
)
from loadtui.model.slo import SloTable
from loadtui.model.trace import TRACE_KINDS, TraceSpec
from loadtui.model.workflows import BatchSpec, OverheadSpec

__all__ = [
    "FAULTS",
    "MAX_RATE",
    "MAX_USERS",
    "BatchSpec",
    "CheckSpec",
    "EngineSpec",
    "LoadSpec",
    "MockSpec",
    "OverheadSpec",
    "PromptSpec",
    "RequestSpec",
    "RunConfig",
    "StageSpec",
    "TargetSpec",
    "ThresholdSpec",
    "fit_duration",
    "header_secrets",
    "scale_time",
]

Seconds = Annotated[float, BeforeValidator(parse_duration)]
SecondsRange = Annotated[tuple[float, float], BeforeValidator(parse_range)]

_STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)
# defer_build: a model's validator is built when it first validates, not at import. A worker
# and the embedded mock only unpickle the run's models (no validation): their processes skip
# the schema building (and pydantic's plugin lookup) of every model here, tens of ms of each
# one's start-up (docs/performance.md, "Start-up and exit"). The defaults below are factories
# for the same reason: an instance made at import would build its model there.

# Upper bounds (docs/presets.md lists them): far beyond what one machine can generate, low
# enough that a typo (``users = 100000000``) is an error now, not a hang or an overflow later.
MAX_USERS = 100_000
"""Virtual users, and requests in flight or in a burst."""
MAX_RATE = 1_000_000.0
"""Arrivals per second (and users started per second)."""
MAX_WORKERS = 256
MAX_BODY_CAP = 1024**3
"""Largest ``max_body_bytes`` / ``max_event_bytes`` (1 GiB): a run file cannot switch the cap off."""

FAULTS = (
    "http_400",
    "http_429",
    "http_500",
    "http_529",
    "reset",
    "malformed",
    "stream_error",
    "stall",
    "slow_headers",
)
"""Faults a chat, completion or messages request can be given on purpose, each producing one
error class in loadtui (``slow_headers`` delays the headers by ``MockSpec.slow_headers`` and
is an error only if that exceeds the client's timeout)."""


class TargetSpec(BaseModel):
    """Where load goes. The API key is deliberately not a field: it never enters a config."""

    model_config = _STRICT

    url: str | None = None
    """Base URL of an OpenAI-compatible API (``http://host:8000`` or ``.../v1``); None = embedded mock."""
    model: str = "mock-model"
    """Model name sent in each request body."""
    timeout: Seconds = 60.0
    """Total time allowed for one request, headers to last byte."""
    connect_timeout: Seconds = 10.0
    """Time allowed to open a connection."""
    auth: Literal["auto", "bearer", "x-api-key"] = "auto"
    """How the key is sent: auto = Bearer for OpenAI kinds, ``x-api-key`` for messages."""
    anthropic_version: str = "2023-06-01"
    """The ``anthropic-version`` header of messages requests."""
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=MAX_BODY_CAP)
    """Largest response body read (64 MiB); a longer one is the error ``too_large``."""
    max_event_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=MAX_BODY_CAP)
    """Largest SSE line or event (8 MiB); a longer one is the error ``too_large``."""
    # The request under full control (docs/workflows.md): every request of the run.
    headers: Headers = Field(default_factory=dict, max_length=MAX_HEADERS)
    """Extra headers on every request (``--header``); auth-like values are written as ``***``."""
    insecure: bool = False
    """Do not check the target's TLS certificate (``--insecure``)."""
    ca_cert: str | None = Field(default=None, max_length=4096)
    """A CA bundle (PEM) the target's certificate is checked against (``--ca-cert``)."""

    @model_validator(mode="after")
    def _check_url(self) -> TargetSpec:
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"url must be http(s)://host[:port][/path], got {self.url!r}")
            try:
                _ = parts.port
            except ValueError:
                raise ValueError(f"url has a bad port: {self.url!r}") from None
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ValueError("timeouts must be greater than 0")
        if self.insecure and self.ca_cert is not None:
            raise ValueError("insecure (no certificate check) and ca_cert contradict each other")
        return self


class StageSpec(BaseModel):
    """One stage of a ramp: reach ``users`` (or ``rate``) linearly over ``duration`` (k6 style)."""

    model_config = _STRICT

    duration: Seconds
    users: int | None = Field(default=None, ge=0, le=MAX_USERS)
    rate: float | None = Field(default=None, ge=0, le=MAX_RATE)

    @model_validator(mode="after")
    def _one_target(self) -> StageSpec:
        if (self.users is None) == (self.rate is None):
            raise ValueError("each stage needs exactly one of users or rate")
        if self.duration <= 0:
            raise ValueError("a stage duration must be greater than 0")
        return self


class LoadSpec(BaseModel):
    """The load shape."""

    model_config = _STRICT

    mode: Literal["closed", "open", "stages", "burst", "trace"] = "closed"
    """closed = virtual users; open = arrival rate; stages = ramps; burst = N at once;
    trace = arrivals at a trace file's times (``[trace]``), ``duration`` a cap."""
    users: int = Field(default=1, ge=1, le=MAX_USERS)
    """Virtual users (closed loop)."""
    spawn_rate: float = Field(default=0.0, ge=0, le=MAX_RATE)
    """Users started (or stopped) per second; 0 = all at once."""
    rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    """Arrivals per second (open loop)."""
    arrival: Literal["constant", "poisson"] = "constant"
    """Spacing of open-loop arrivals."""
    max_in_flight: int = Field(default=512, ge=1, le=MAX_USERS)
    """Cap on requests in flight in open loop; arrivals beyond it wait (and the wait is measured)."""
    think_time: SecondsRange = (0.0, 0.0)
    """Pause between a user's requests, drawn uniformly from the range."""
    duration: Seconds = 30.0
    """Length of the run (stages: the sum of the stages unless given)."""
    stages: tuple[StageSpec, ...] = Field(default=(), max_length=1000)
    burst_requests: int = Field(default=10, ge=1, le=MAX_USERS)
    """Requests fired at once in burst mode, after one pre-flight request."""
    graceful_stop: Seconds = 10.0
    """Time in-flight requests get to finish when the run ends."""
    warmup: Seconds = Field(default=0.0, ge=0)
    """The first seconds of the run, left out of the summary and the thresholds (kept in the
    series, marked): ``--warmup``, docs/workflows.md "Warm-up and a request budget"."""
    requests: int | None = Field(default=None, ge=1, le=1_000_000_000)
    """Stop after this many requests across all workers (``--requests``); None: no budget."""

    @model_validator(mode="before")
    @classmethod
    def _budget_alone(cls, data: Any) -> Any:
        """``requests`` without a ``duration`` (closed or open loop) runs until the budget is
        spent: the duration becomes the longest a run may last."""
        if not isinstance(data, dict) or data.get("requests") is None or "duration" in data:
            return data
        if data.get("mode", "closed") in ("closed", "open"):
            return {**data, "duration": MAX_DURATION}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> LoadSpec:
        if self.mode == "open" and self.rate is None:
            raise ValueError("open-loop mode needs a rate (requests per second)")
        if self.mode == "stages":
            if sum(s.duration for s in self.stages) > MAX_DURATION:
                raise ValueError("the stages add up to more than 30 days")
            if not self.stages:
                raise ValueError("stages mode needs at least one stage")
            kinds = {s.users is not None for s in self.stages}
            if len(kinds) != 1:
                raise ValueError("stages must all set users or all set rate, not a mix")
        if self.duration <= 0:
            raise ValueError("duration must be greater than 0")
        self._check_run_shape()
        return self

    def _check_run_shape(self) -> None:
        """``warmup`` and ``requests``: a warm-up that leaves nothing to measure, a budget a
        burst already has (``burst_requests``)."""
        if self.warmup and self.warmup >= self.total_duration:
            raise ValueError(
                f"warmup ({format_duration(self.warmup)}) must be shorter than the run "
                f"({format_duration(self.total_duration)}): nothing would be measured"
            )
        if self.warmup and self.mode == "burst":
            raise ValueError("warmup does not apply to a burst (all its requests start at once)")
        if self.requests is not None and self.mode == "burst":
            raise ValueError("requests does not apply to a burst (it sends burst_requests at once)")

    @property
    def stages_are_rate(self) -> bool:
        return bool(self.stages) and self.stages[0].rate is not None

    @property
    def open_loop(self) -> bool:
        """Arrivals on a schedule (a rate) rather than users waiting on responses."""
        if self.mode == "trace":
            return True
        return self.mode == "open" or (self.mode == "stages" and self.stages_are_rate)

    @property
    def total_duration(self) -> float:
        if self.mode == "stages":
            return sum(s.duration for s in self.stages)
        return self.duration


class MockSpec(BaseModel):
    """The mock upstream's behaviour: the embedded mock of a run without a target URL, and
    ``loadtui mock``. Its timing is the truth tests and benchmarks measure against."""

    model_config = _STRICT

    latency: Seconds = 0.05
    """Delay before a non-streaming answer."""
    ttft: Seconds = 0.05
    """Delay from a request's arrival to its first content chunk."""
    itl: Seconds = 0.01
    """Delay between content chunks."""
    tokens: int = Field(default=16, ge=1, le=100_000)
    """Content chunks per answer (capped by max_tokens)."""
    faults: dict[str, Annotated[float, Field(ge=0, le=1)]] = {}
    """Fault injection for chat, completion and messages requests: probability per kind (at
    most one fault a request), e.g. ``{reset = 0.05, http_429 = 0.1}``."""
    slow_headers: Seconds = 2.0
    """How long the ``slow_headers`` fault holds the response headers."""
    headers: dict[str, str] = {}
    """Extra response headers on every answer, e.g. ``{"X-Cache" = "HIT"}``."""
    embedding_dim: int = Field(default=8, ge=1, le=65_536)
    """Floats per embedding."""
    batch_phase: Seconds = 0.3
    """Time a batch spends in each of validating, in_progress and finalizing."""
    batch_line_errors: float = Field(default=0.0, ge=0, le=1)
    """Share of batch lines that fail (they go to the error file)."""
    record: int = Field(default=0, ge=0, le=1_000_000)
    """Keep the last ``record`` requests received in memory (``GET /mock/received``) and start
    each text answer with ``#n `` (n: the request's serial number); 0: off."""
    # The capacity model (mock/capacity.py, docs/mock.md): unset, the mock serves every
    # request at once with the fixed timing above.
    slots: int | None = Field(default=None, ge=1, le=100_000)
    """Sequences served at once; more requests wait in a FIFO queue (None: unlimited)."""
    prefill_tps: float | None = Field(default=None, gt=0)
    """Prompt tokens per second per slot: prompt tokens / prefill_tps is added to TTFT."""
    decode_tps: float | None = Field(default=None, gt=0)
    """Output tokens per second per slot; replaces ``itl`` (as 1 / decode_tps) when set."""
    shared_decode_tps: float | None = Field(default=None, gt=0)
    """Output tokens per second shared by all running streams, like continuous batching: each
    stream runs at min(decode_tps or 1/itl, shared_decode_tps / running)."""
    max_queue: int | None = Field(default=None, ge=0, le=1_000_000)
    """Requests waiting for a slot beyond this are refused at once (needs ``slots``)."""
    queue_full_status: Literal[429, 503] = 429
    """The status of a refusal when the queue is full (with ``Retry-After``)."""

    @model_validator(mode="after")
    def _check_faults(self) -> MockSpec:
        for kind in self.faults:
            if kind not in FAULTS:
                raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULTS)}")
        if sum(self.faults.values()) > 1.0:
            raise ValueError("fault probabilities add up to more than 1")
        if self.max_queue is not None and self.slots is None:
            raise ValueError("max_queue needs slots (without slots nothing ever waits)")
        if self.queue_full_status != 429 and self.max_queue is None:
            raise ValueError("queue_full_status needs max_queue (without it no request is refused)")
        return self


class ThresholdSpec(BaseModel):
    """One threshold of ``[thresholds]``, in k6's string form (``"p(95)<500"``) or its object
    form (``{threshold = "p(95)<500", abort_on_fail = true, delay_abort_eval = "10s"}``).

    A plain one is written back as its string, so run files without ``abort_on_fail`` look as
    they always did; the grammar is checked by ``RunConfig`` (``model/thresholds.py``)."""

    model_config = _STRICT

    threshold: str
    """The k6 expression: ``p(95)<500``, ``avg<=20``, ``rate<0.01``."""
    abort_on_fail: bool = Field(
        default=False, validation_alias=AliasChoices("abort_on_fail", "abortOnFail")
    )
    """Stop the run as soon as the live figures fail it (checked once a second)."""
    delay_abort_eval: Seconds = Field(
        default=0.0, ge=0, validation_alias=AliasChoices("delay_abort_eval", "delayAbortEval")
    )
    """How far into the run ``abort_on_fail`` starts being checked (the first seconds are noisy)."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"threshold": data} if isinstance(data, str) else data

    @model_serializer(mode="wrap")
    def _as_text(self, handler: SerializerFunctionWrapHandler) -> Any:
        if not self.abort_on_fail and not self.delay_abort_eval:
            return self.threshold
        return handler(self)


class EngineSpec(BaseModel):
    """Where the workers run: processes on this machine, or Ray actors on a cluster
    (``--backend``, ``--ray-address``; docs/ray.md)."""

    model_config = _STRICT

    backend: Literal["process", "ray"] = "process"
    """``process``: worker processes here; ``ray``: one Ray actor per worker."""
    ray_address: str | None = Field(default=None, max_length=500)
    """The Ray cluster to join (``auto``, ``HOST:6379``, ``ray://HOST:10001``); None starts a
    local Ray."""


def _one_chat() -> tuple[RequestSpec, ...]:
    return (RequestSpec(),)


class RunConfig(BaseModel):
    """Everything needed to run (and re-run) a load test, secrets excluded."""

    model_config = _STRICT

    preset: str | None = None
    description: str = ""
    target: TargetSpec = Field(default_factory=TargetSpec)
    load: LoadSpec = Field(default_factory=LoadSpec)
    requests: tuple[RequestSpec, ...] = Field(default_factory=_one_chat, max_length=MAX_KINDS)
    """The request mix: each user cycles through these in order, each ``weight`` times."""
    prompts: PromptSpec = Field(default_factory=PromptSpec)
    """Prompt data for chat, completion, messages and embedding requests."""
    batch: BatchSpec = Field(default_factory=BatchSpec)
    """The Batch API job of ``batch`` requests."""
    overhead: OverheadSpec = Field(default_factory=OverheadSpec)
    """Proxy-overhead mode: each request direct and through the proxy."""
    thresholds: dict[str, tuple[ThresholdSpec, ...]] = {}
    """k6-style thresholds by metric, e.g. ``{"ttft": ["p(95)<500"]}``; a metric may carry a
    label filter (``"latency{label:chat}"``) and an entry the object form (``ThresholdSpec``)."""
    workers: int = Field(default=0, ge=0, le=MAX_WORKERS)
    """Worker processes; 0 = automatic."""
    engine: EngineSpec = Field(default_factory=EngineSpec)
    """Where the workers run (``[engine]``)."""
    mock: MockSpec = Field(default_factory=MockSpec)
    """The embedded mock's timing (when ``target.url`` is not set)."""
    search: SearchSpec | None = None
    """A capacity search (``[search]``, ``--search``; docs/capacity.md), None for a plain run."""
    slo: SloTable = {}
    """Per-request SLOs by name (``model/slo.py``), e.g. ``{"ttft": "<500ms"}``; a preset's
    ``[slo]`` table, ``--slo`` options. Empty: no request is judged."""
    server_metrics: ServerMetricsSpec | None = None
    """The server's Prometheus endpoint scraped each second (``[server_metrics]``,
    ``--server-metrics``; docs/server-metrics.md); None: not scraped."""
    trace: TraceSpec | None = None
    """Trace replay (``[trace]``, ``--trace``; docs/workflows.md): set exactly when
    ``load.mode`` is ``trace``."""

    @model_validator(mode="after")
    def _check_search_budget(self) -> RunConfig:
        if self.search is not None and self.load.requests is not None:
            raise ValueError(
                "a capacity search runs its steps until it finds the knee: it cannot take a "
                "request budget (--requests / [load] requests)"
            )
        return self

    @model_validator(mode="after")
    def _check_trace(self) -> RunConfig:
        if self.trace is not None and self.search is not None:
            raise ValueError("a capacity search sets its own load: it cannot replay a trace")
        if (self.load.mode == "trace") != (self.trace is not None):
            raise ValueError(
                "a trace run needs both load mode 'trace' and a [trace] file (--trace FILE sets both)"
            )
        if self.trace is not None and (
            len(self.requests) != 1 or self.requests[0].kind not in TRACE_KINDS
        ):
            raise ValueError(
                f"a trace is replayed as one request kind, one of {', '.join(TRACE_KINDS)}"
            )
        return self

    conversation: ConversationSpec | None = None
    """Multi-turn conversations (``[conversation]``, ``--turns``; ``model/conversation.py``),
    None for single requests."""

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        if not self.requests:
            raise ValueError("requests must name at least one request")
        total = sum(r.weight for r in self.requests)
        if total > MAX_TOTAL_WEIGHT:
            raise ValueError(
                f"the weights of requests add up to {total:,}; at most {MAX_TOTAL_WEIGHT:,} "
                "(one round of the mix is built before the run)"
            )
        if self.overhead.enabled and any(r.kind == "batch" for r in self.requests):
            raise ValueError("overhead mode measures single requests, not batch jobs")
        from loadtui.model.threshold_grammar import SLO_METRICS, parse_threshold

        for metric, specs in self.thresholds.items():
            for spec in specs:
                if parse_threshold(metric, spec.threshold).name in SLO_METRICS and not self.slo:
                    raise ValueError(
                        f"threshold {metric} judges SLOs and the run has none "
                        "(--slo 'ttft<500ms' or a [slo] table)"
                    )
                if metric == "capacity" and self.search is None:
                    raise ValueError(
                        "threshold capacity judges a capacity search and this run is none "
                        "(--search rate|users, a [search] table, or --preset capacity)"
                    )
        return self

    @model_validator(mode="after")
    def _check_conversation(self) -> RunConfig:
        """A conversation is held by closed-loop users, in chat or Anthropic messages."""
        if self.conversation is None:
            return self
        if self.load.open_loop or self.load.mode == "burst":
            raise ValueError(
                "conversations need closed-loop users (each waits for its answer before the "
                f"next turn); this run is {_run_kind(self.load.mode)}: use --users, not --rate"
                if self.load.mode != "burst"
                else "conversations need closed-loop users; a burst sends single requests"
            )
        kinds = sorted({r.kind for r in self.requests} - set(CONVERSATION_KINDS))
        if kinds:
            raise ValueError(
                f"conversations are sent as chat or messages requests, and this mix has "
                f"{', '.join(kinds)} too (a chat preset: --preset multiturn)"
            )
        if self.overhead.enabled:
            raise ValueError("overhead mode sends request pairs, not conversations")
        return self

    def with_overrides(self, **changes: Any) -> RunConfig:
        """A new validated config with nested changes (``load={"users": 5}``) applied."""
        data = self.model_dump()
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
        return RunConfig.model_validate(data)


def _run_kind(mode: str) -> str:
    """A run's load mode in words: ``open-loop``, ``a trace replay``."""
    return "a trace replay" if mode == "trace" else f"{mode}-loop"


def scale_time(config: RunConfig, factor: float) -> RunConfig:
    """The load shape's clock sped up or slowed down (``--time-scale``): durations and stages
    are multiplied by ``factor`` and the spawn rate divided by it, so a ramp keeps its shape."""
    if factor <= 0:
        raise ValueError("time scale must be greater than 0")
    load = config.load.model_dump()
    if load["requests"] is None or load["duration"] < MAX_DURATION:  # open-ended stays so
        load["duration"] = load["duration"] * factor
    load["warmup"] = load["warmup"] * factor
    load["spawn_rate"] = load["spawn_rate"] / factor
    for stage in load["stages"]:
        stage["duration"] = stage["duration"] * factor
    return config.with_overrides(load=load)


def fit_duration(config: RunConfig, seconds: float) -> RunConfig:
    """Set the run's length; a staged shape is compressed or stretched to fit it."""
    if config.load.mode == "stages":
        scaled = scale_time(config, seconds / config.load.total_duration)
        return scaled.with_overrides(load={"warmup": config.load.warmup})  # a time, not a share
    return config.with_overrides(load={"duration": seconds})


def header_secrets(config: RunConfig) -> list[str]:
    """The values of the run's auth-like headers (``--header``, ``headers = {...}``): secrets
    like the API key, scrubbed from everything written or shown."""
    found = secret_header_values(config.target.headers)
    for r in config.requests:
        found += secret_header_values(r.headers)
    return list(dict.fromkeys(found))
