"""The mock's ``GET /metrics``: what an inference server says about itself, named as vLLM
names it, so ``--server-metrics`` can be tried, tested and shown offline.

Requests running and waiting come from the capacity model when it is set (its slots and its
queue: docs/mock.md), else running is the generation requests in flight and none wait. The
server-side TTFT is measured as vLLM measures it, from the request's arrival (before any wait
for a slot) to its first token written — for streamed answers, which have a first token. The
KV-cache usage is the share of slots taken (a slot holds its sequence's cache), reported only
with ``slots``. A middleware outside the capacity gate counts — from the first scrape on, so a
mock nobody scrapes does no more work per request — and the endpoint formats the text.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from loadtui.mock import web
from loadtui.mock.capacity import Capacity
from loadtui.mock.web import Middleware

__all__ = ["TTFT_BUCKETS", "ServerStats", "first_token", "metrics_gate"]

TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
    0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
"""vLLM's bucket bounds for ``vllm:time_to_first_token_seconds`` (seconds)."""

_GENERATION = ("/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/responses")

MODEL_LABEL = 'model_name="mock-model"'


class ServerStats:
    """The counts ``/metrics`` reports: requests in flight, finished, and the TTFT histogram."""

    def __init__(self, capacity: Capacity | None) -> None:
        self.capacity = capacity
        self.on = False
        """Counting begins with the first ``GET /metrics``: a mock nobody scrapes pays one
        attribute check per request (measured: ~4 µs a request when counting)."""
        self.in_flight = 0
        self.finished = 0
        self.ttft_counts = [0] * (len(TTFT_BUCKETS) + 1)  # the last: above every bound
        self.ttft_sum = 0.0

    def observe_ttft(self, seconds: float) -> None:
        self.ttft_counts[bisect_left(TTFT_BUCKETS, seconds)] += 1
        self.ttft_sum += seconds

    def exposition(self) -> str:
        """The Prometheus text of the counts now."""
        cap = self.capacity
        running = cap.running if cap else self.in_flight
        waiting = cap.queued if cap else 0
        lines = [
            "# HELP vllm:num_requests_running Number of requests in model execution batches.",
            "# TYPE vllm:num_requests_running gauge",
            f"vllm:num_requests_running{{{MODEL_LABEL}}} {running}",
            "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
            "# TYPE vllm:num_requests_waiting gauge",
            f"vllm:num_requests_waiting{{{MODEL_LABEL}}} {waiting}",
        ]
        if cap is not None and cap.settings.slots:
            lines += [
                "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
                "# TYPE vllm:kv_cache_usage_perc gauge",
                f"vllm:kv_cache_usage_perc{{{MODEL_LABEL}}} {cap.running / cap.settings.slots}",
            ]
        lines += [
            "# HELP vllm:request_success_total Count of successfully processed requests.",
            "# TYPE vllm:request_success_total counter",
            f'vllm:request_success_total{{finished_reason="stop",{MODEL_LABEL}}} '
            f"{float(self.finished)}",
            *self._ttft_lines(),
        ]
        return "\n".join(lines) + "\n"

    def _ttft_lines(self) -> list[str]:
        name = "vllm:time_to_first_token_seconds"
        lines = [f"# HELP {name} Histogram of time to first token in seconds."]
        lines.append(f"# TYPE {name} histogram")
        total = 0
        for bound, count in zip((*TTFT_BUCKETS, "+Inf"), self.ttft_counts, strict=True):
            total += count
            lines.append(f'{name}_bucket{{le="{bound}",{MODEL_LABEL}}} {float(total)}')
        lines.append(f"{name}_count{{{MODEL_LABEL}}} {float(total)}")
        lines.append(f"{name}_sum{{{MODEL_LABEL}}} {self.ttft_sum}")
        return lines


class _Arrival:
    """One generation request: when it arrived, and whether its first token went out."""

    __slots__ = ("at", "seen", "stats")

    def __init__(self, stats: ServerStats) -> None:
        self.stats = stats
        self.at = time.perf_counter()
        self.seen = False


_ARRIVAL: ContextVar[_Arrival | None] = ContextVar("loadtui_mock_arrival", default=None)
"""The request being answered (the handlers run inside the gate, in its context)."""


def first_token() -> None:
    """Call when a streamed answer's first token is written: books its server-side TTFT."""
    arrival = _ARRIVAL.get()
    if arrival is not None and not arrival.seen:
        arrival.seen = True
        arrival.stats.observe_ttft(time.perf_counter() - arrival.at)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def metrics_gate(stats: ServerStats) -> Middleware:
    """The middleware that counts generation requests in flight and finished, and marks each
    one's arrival for ``first_token``; outside the capacity gate, so a wait for a slot is in
    the TTFT as it is in vLLM's."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not stats.on or request.method != "POST" or not request.path.endswith(_GENERATION):
            return await handler(request)
        stats.in_flight += 1
        token = _ARRIVAL.set(_Arrival(stats))
        try:
            response = await handler(request)
            if response.status < 400:
                stats.finished += 1
            return response
        finally:
            _ARRIVAL.reset(token)
            stats.in_flight -= 1

    return count


def metrics_route(stats: ServerStats) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def metrics(request: web.Request) -> web.Response:
        stats.on = True
        return web.Response(
            text=stats.exposition(), content_type="text/plain", charset="utf-8",
            headers={"X-Prometheus-Format": "0.0.4"},
        )  # fmt: skip

    return metrics
