"""What the server itself reported during a run: its Prometheus series, one point a second.

A client's TTFT says how long users waited; the server's own figures (requests running and
waiting, KV-cache usage, its TTFT histogram) say why. ``--server-metrics URL`` asks for them
(``ServerMetricsSpec``, part of the run's config); the run service scrapes the endpoint once a
second (``run/servermetrics.py``) and the run record keeps what came back as a
``ServerSeries``, on the same ``t`` seconds as the client's series (docs/server-metrics.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "KNOWN",
    "MOCK",
    "SCRAPE_TIMEOUT",
    "Selector",
    "ServerMetricsSpec",
    "ServerPoint",
    "ServerSeries",
    "parse_selector",
]

MOCK = "mock"
"""``--server-metrics mock``: the embedded mock's own ``/metrics``."""

SCRAPE_TIMEOUT = 0.8
"""Seconds a scrape may take: the next one is due a second later."""

KNOWN: Mapping[str, tuple[str, ...]] = {
    "running": (
        "vllm:num_requests_running",
        "sglang:num_running_reqs",
        "tgi_batch_current_size",
        "litellm_in_flight_requests",
    ),
    "waiting": ("vllm:num_requests_waiting", "sglang:num_queue_reqs", "tgi_queue_size"),
    "kv_cache": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"),
    "ttft": (
        "vllm:time_to_first_token_seconds",
        "sglang:time_to_first_token_seconds",
        "litellm_llm_api_time_to_first_token_metric",
    ),
}
"""The series picked out by default, by what they mean; of each, the first name a server
exposes is read (vLLM renamed ``gpu_cache_usage_perc`` to ``kv_cache_usage_perc``: one
server never counts twice). ``ttft`` is a histogram in seconds: its points are
``ttft_p50_ms`` and ``ttft_p95_ms``."""

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SELECTOR = re.compile(rf"^\s*({_NAME})\s*(?:\{{(.*)\}})?\s*$")
_MATCHER = re.compile(rf'\s*({_NAME})\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class Selector:
    """A series to read: a metric name, and labels a sample must carry to count (none: every
    label set is summed)."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        if not self.labels:
            return self.name
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


def parse_selector(text: str) -> Selector:
    """``NAME`` or ``NAME{label="value",...}``; ValueError naming what is wrong."""
    match = _SELECTOR.match(text)
    if match is None:
        raise ValueError(f'{text!r} is not a series: give a metric NAME or NAME{{label="value"}}')
    name, inner = match.group(1), match.group(2) or ""
    labels: list[tuple[str, str]] = []
    pos = 0
    while pos < len(inner.strip()):
        m = _MATCHER.match(inner, pos)
        if m is None:
            raise ValueError(f'{text!r}: labels are written label="value", separated by commas')
        labels.append((m.group(1), m.group(2).replace('\\"', '"').replace("\\\\", "\\")))
        pos = m.end()
    return Selector(name, tuple(labels))


class ServerMetricsSpec(BaseModel):
    """``[server_metrics]``, ``--server-metrics URL``, ``--server-metric NAME``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    url: str
    """The Prometheus endpoint (``http(s)://HOST:PORT/metrics``; a URL without a path gets
    ``/metrics``), or ``mock``: the embedded mock's."""
    series: tuple[str, ...] = Field(default=(), max_length=32)
    """More series to keep beside the known ones (``NAME`` or ``NAME{label="value"}``): a
    gauge's value, a counter's rate per second, a histogram's p50 and p95 of each second."""

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        url = url.strip()
        if url == MOCK:
            return url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL (or 'mock', the embedded mock's)")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the server metrics URL must not hold user:password")
        return url if parts.path not in ("", "/") else url.rstrip("/") + "/metrics"

    @field_validator("series")
    @classmethod
    def _series(cls, series: tuple[str, ...]) -> tuple[str, ...]:
        for text in series:
            parse_selector(text)
        return series


@dataclass(frozen=True, slots=True)
class ServerPoint:
    """One second's scrape: series key → value (a key missing: not reported that second)."""

    t: int
    """The second of the run the scrape was made in (as ``SeriesPoint.t``)."""
    values: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServerSeries:
    """What the server reported during the run (``server`` in the run file)."""

    url: str
    points: tuple[ServerPoint, ...] = ()
    scrapes: int = 0
    """Scrapes tried."""
    failures: Mapping[str, int] = field(default_factory=dict)
    """Failed scrapes by kind: ``timeout``, ``connect``, ``status`` (not 2xx), ``garbage``
    (not Prometheus text)."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Known key (``running``, ...) → the server's series it was read from."""

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def last(self) -> ServerPoint | None:
        return self.points[-1] if self.points else None

    def column(self, key: str) -> tuple[float | None, ...]:
        """One key's values, a point each (None where it was not reported)."""
        return tuple(p.values.get(key) for p in self.points)

    def peak(self, key: str) -> float | None:
        values = [v for v in self.column(key) if v is not None]
        return max(values) if values else None
