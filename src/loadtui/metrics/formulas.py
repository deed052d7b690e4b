"""Every metric's formula, written once. docs/metrics.md quotes this file.

All times are ``time.perf_counter()`` seconds taken in the worker process where the bytes
arrived; results are milliseconds.
"""

from __future__ import annotations

__all__ = [
    "e2e_ms",
    "error_rate",
    "goodput_per_s",
    "itl_ms",
    "output_tokens_per_s",
    "overhead_ms",
    "pass_rate",
    "slo_attainment",
    "tpot_ms",
    "ttft_ms",
]


def e2e_ms(start: float, last_byte: float) -> float:
    """End-to-end latency: from ``start`` (the actual send time, or the intended send time in
    open loop) to the arrival of the response's last byte."""
    return (last_byte - start) * 1000.0


def ttft_ms(sent: float, first_content: float) -> float:
    """Time to first token: from the actual send to the arrival of the first chunk that carries
    content (OpenAI: non-empty ``delta.content``, a tool-call or refusal delta; Anthropic: the
    first text delta). Role-only chunks and ``message_start`` do not count."""
    return (first_content - sent) * 1000.0


def itl_ms(previous_content: float, content: float) -> float:
    """Inter-token latency: the gap between the arrivals of two consecutive content chunks.
    Chunks that arrive in the same read share a timestamp, so their gap is 0."""
    return (content - previous_content) * 1000.0


def tpot_ms(e2e: float, ttft: float, output_tokens: int) -> float | None:
    """Time per output token after the first: ``(E2E − TTFT) / (output tokens − 1)``; None when
    there are fewer than two output tokens."""
    if output_tokens < 2:
        return None
    return (e2e - ttft) / (output_tokens - 1)


def output_tokens_per_s(output_tokens: int, seconds: float) -> float:
    """Output token throughput over a wall-clock span."""
    return output_tokens / seconds if seconds > 0 else 0.0


def error_rate(errors: int, requests: int) -> float:
    """Failed requests / completed requests (cancelled requests are in neither)."""
    return errors / requests if requests else 0.0


def overhead_ms(proxied: float, direct: float) -> float:
    """Proxy overhead at one percentile: the proxied requests' percentile minus the direct
    requests' percentile (a difference of percentiles, not a percentile of differences — the
    two halves of a pair are different requests, interleaved so both see the same conditions)."""
    return proxied - direct


def pass_rate(passed: int, failed: int) -> float:
    """Checks that passed / checks evaluated (1.0 when none were evaluated)."""
    total = passed + failed
    return passed / total if total else 1.0


def slo_attainment(met: int, judged: int) -> float:
    """Requests that met every SLO / requests judged (every finished request, failed ones
    included); 0.0 when none was judged — nothing served is no attainment."""
    return met / judged if judged else 0.0


def goodput_per_s(met: int, seconds: float) -> float:
    """Goodput: requests (or their output tokens) that met every SLO, per second of the run's
    wall-clock duration — the same span as the other rates."""
    return met / seconds if seconds > 0 else 0.0
