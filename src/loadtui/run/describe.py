"""A run's configuration in words, written once for every place that shows it.

``loadtui show``, the app's setup screen, ``loadtui compare`` (and the app's compare screen)
and the HTML report all say what a run was: its load, its requests, whether they stream, its
target, the mock's timing, its thresholds. Four copies of that drifted apart (compare named the
kinds ``chat`` where the run's labels said ``chat stream``, and called non-streaming kinds
streamed because ``stream`` defaults to True for every kind). Here the requests are described
as the engine sends them: streamed only where ``RequestSpec.streamed`` says so, named by the
label the run's per-request table uses.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from loadtui.model.conversation import ConversationSpec
from loadtui.model.durations import MAX_DURATION, format_duration
from loadtui.model.plan import LoadSpec, MockSpec, RequestSpec, RunConfig, ThresholdSpec
from loadtui.model.record import TargetInfo
from loadtui.model.requests import STREAMABLE
from loadtui.model.search import SearchSpec
from loadtui.model.trace import TraceSpec

__all__ = [
    "describe_conversation",
    "describe_load",
    "describe_mock",
    "describe_request",
    "describe_requests",
    "describe_search",
    "describe_streaming",
    "describe_target",
    "describe_threshold",
    "describe_thresholds",
    "describe_trace",
    "duration_text",
    "load_size",
]


def _think(load: LoadSpec) -> str:
    low, high = load.think_time
    if not high:
        return ""
    return f", think {low:g}s" if low == high else f", think {low:g}–{high:g}s"


def load_size(load: LoadSpec) -> str:
    """How much load, without its shape in time: ``3 users``, ``50 req/s poisson``,
    ``stages 0→10→100 users``, ``10 requests at once``."""
    if load.mode == "burst":
        return f"{load.burst_requests} requests at once"
    if load.mode == "stages":
        key, unit = ("rate", "req/s") if load.stages_are_rate else ("users", "users")
        steps = "→".join(f"{getattr(s, key) or 0:g}" for s in load.stages)
        return f"stages 0→{steps} {unit}"
    if load.mode == "open":
        return f"{load.rate or 0:g} req/s {load.arrival}"
    if load.mode == "trace":
        return "a trace's arrivals"
    return f"{load.users} user" + ("" if load.users == 1 else "s")


def duration_text(load: LoadSpec) -> str:
    """The planned length; ``—`` for a burst (it lasts as long as its requests)."""
    if load.mode == "trace" or load.requests is not None:  # the duration is a cap: the
        cap = load.total_duration  # trace's end, or the budget's last answer, ends the run
        return "until answered" + (
            "" if cap >= MAX_DURATION else f" (at most {format_duration(cap)})"
        )
    return "—" if load.mode == "burst" else format_duration(load.total_duration)


def describe_load(config: RunConfig) -> str:
    """The planned load in a line: ``closed loop: 3 users (spawn 1/s), think 0.5–1s, 8s``."""
    if config.search is not None:
        return describe_search(config.search)
    load = config.load
    budget = f"{load.requests:,} requests, " if load.requests is not None else ""
    length = budget + duration_text(load) + _warmup(load)
    if config.trace is not None:
        return f"{describe_trace(config.trace)}, max {load.max_in_flight} in flight, {length}"
    if load.mode == "closed":
        spawn = f" (spawn {load.spawn_rate:g}/s)" if load.spawn_rate else ""
        return f"closed loop: {load_size(load)}{spawn}{_think(load)}, {length}"
    if load.mode == "open":
        return f"open loop: {load_size(load)}, max {load.max_in_flight} in flight, {length}"
    if load.mode == "burst":
        return f"burst: {load_size(load)}"
    return f"{load_size(load)} over {length}{_think(load)}"


def _warmup(load: LoadSpec) -> str:
    """``, warm-up 10s left out of the figures`` when the run has one."""
    return (
        f", warm-up {format_duration(load.warmup)} left out of the figures" if load.warmup else ""
    )


def describe_trace(spec: TraceSpec, lines: int | None = None, span: float | None = None) -> str:
    """A trace replay in a line, its input lengths labelled for what they are (words standing
    for tokens: no tokenizer is used): ``trace replay: trace-example (300 arrivals over 26.5 s)
    at 2×, input length: words as tokens (512-word blocks)``."""
    size = "" if lines is None else f" ({lines:,} arrivals over {span or 0:.1f} s)"
    return (
        f"trace replay: {spec.file}{size} at {spec.speedup:g}×, input length: words as tokens "
        f"({spec.block_words}-word blocks)"
    )


def describe_search(spec: SearchSpec) -> str:
    """A capacity search in a line (its steps' loads are decided as it runs, so the planned
    load says nothing): ``capacity search (rate): from 1 req/s, ×2 per step, ceiling 200 req/s,
    target attainment 0.90``."""
    unit = "req/s" if spec.mode == "rate" else "users"
    ceiling = f"{spec.max_load:g} {unit}" if spec.max_load is not None else "none"
    return (
        f"capacity search ({spec.mode}): from {spec.start:g} {unit}, ×{spec.step_factor:g} "
        f"per step, ceiling {ceiling}, target attainment {spec.attainment:.2f}"
    )


def describe_request(spec: RequestSpec, *, tokens: bool = False) -> str:
    """One request of the mix as the run's per-request table names it (``chat stream``), its
    kind and streaming added when its own name hides them (``fast (chat stream)``)."""
    plain = spec.kind + (" stream" if spec.streamed else "")
    text = plain if spec.name in (None, plain) else f"{spec.name} ({plain})"
    text += f" ×{spec.weight}" if spec.weight != 1 else ""
    return text + (f" max_tokens {spec.max_tokens}" if tokens and spec.kind in STREAMABLE else "")


def describe_requests(config: RunConfig, sep: str = ", ", *, tokens: bool = False) -> str:
    """The mix, each request once, in order; overhead mode says each goes two ways."""
    text = sep.join(dict.fromkeys(describe_request(r, tokens=tokens) for r in config.requests))
    if config.conversation is not None:
        text += f", {describe_conversation(config.conversation)}"
    return text + (", each direct and through the proxy" if config.overhead.enabled else "")


def describe_conversation(spec: ConversationSpec) -> str:
    """Conversations in words: ``as 4-turn conversations (system prompt, 50-word user
    prefix)``, or the file they come from."""
    if spec.file is not None:
        what = f"as the conversations of {spec.file}"
    else:
        what = f"as {spec.turns_text}-turn conversations"
    extras = ["system prompt"] if spec.system else []
    if spec.user_prefix_words:
        extras.append(f"{spec.user_prefix_words}-word user prefix")
    return what + (f" ({', '.join(extras)})" if extras else "")


def describe_streaming(config: RunConfig) -> str:
    """``yes``, ``no`` or ``mixed``: whether the requests that can stream (chat, completion,
    messages, responses) are sent streamed (SSE). Health, models, embedding and batch requests never
    stream, whatever their ``stream`` says, so they do not make a run ``mixed``."""
    streamed = {r.streamed for r in config.requests if r.kind in STREAMABLE}
    return "mixed" if len(streamed) > 1 else ("yes" if streamed == {True} else "no")


def describe_threshold(metric: str, spec: ThresholdSpec) -> str:
    """``error_rate rate<0.01``, plus `` (abort_on_fail after 10s)`` when it can stop the run."""
    text = f"{metric} {spec.threshold}"
    if spec.abort_on_fail:
        after = f" after {format_duration(spec.delay_abort_eval)}" if spec.delay_abort_eval else ""
        text += f" (abort_on_fail{after})"
    return text


def describe_thresholds(config: RunConfig, sep: str = "; ") -> str:
    """Every threshold of the config, or ``none``."""
    items = [describe_threshold(m, s) for m, specs in config.thresholds.items() for s in specs]
    return sep.join(items) or "none"


def describe_target(target: TargetInfo) -> str:
    """Where the run sent its requests: ``the embedded mock`` or its URL as the run file kept
    it (storage redacts a key from it), any ``user:password@`` left out as well."""
    if target.embedded_mock:
        return "the embedded mock"
    if not target.url:
        return "—"
    parts = urlsplit(target.url)
    if parts.username is None and parts.password is None:
        return target.url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def describe_mock(target: TargetInfo, config: RunConfig) -> str:
    """The embedded mock's timing (two runs on it differ by this alone), ``—`` without one."""
    if not target.embedded_mock:
        return "—"
    mock: MockSpec = target.mock or config.mock
    faults = ", ".join(f"{k} {v:g}" for k, v in mock.faults.items())
    return (
        f"TTFT {mock.ttft * 1000:g} ms, ITL {mock.itl * 1000:g} ms, "
        f"latency {mock.latency * 1000:g} ms, {mock.tokens} tokens"
        + _describe_capacity(mock)
        + (f", faults: {faults}" if faults else "")
    )


def _describe_capacity(mock: MockSpec) -> str:
    """The mock's capacity model (docs/mock.md), ``""`` when it serves everything at once."""
    parts = [] if mock.slots is None else [f"{mock.slots} slot{'s' if mock.slots > 1 else ''}"]
    for label, rate in (
        ("prefill", mock.prefill_tps),
        ("decode", mock.decode_tps),
        ("shared decode", mock.shared_decode_tps),
    ):
        if rate is not None:
            parts.append(f"{label} {rate:g} tok/s")
    if mock.max_queue is not None:
        parts.append(f"max queue {mock.max_queue} ({mock.queue_full_status})")
    return "".join(f", {part}" for part in parts)
