"""The server's own metrics during a run: its Prometheus endpoint scraped once a second.

A thread of the parent process, never a worker: a scrape (an HTTP GET and the parse of a few
hundred KB of text at most) must not share a core's event loop with the requests being timed.
Each scrape happens in the middle of a second of the run (its ``t`` is the client series' ``t``
for that second), is given ``SCRAPE_TIMEOUT``, and one that fails is counted by kind and the run
goes on: the server's view is an addition to the run, never a reason to lose it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from time import perf_counter

import httpx

from loadtui.metrics.series import second_of
from loadtui.model.servermetrics import (
    SCRAPE_TIMEOUT,
    ServerMetricsSpec,
    ServerPoint,
    ServerSeries,
)
from loadtui.run.promtext import Exposition, parse_exposition, read_values, wanted_names

__all__ = ["EVERY", "ServerScraper", "server_summary"]

EVERY = 1.0
"""Seconds between scrapes."""

MAX_BODY = 16 * 1024 * 1024
"""The most of an answer read: a vLLM with many models serves a few hundred KB."""


class ServerScraper:
    """``start`` scrapes ``url`` each second on a thread until ``stop``; ``view`` is the series
    so far (thread-safe). ``clock`` gives the run's elapsed seconds (the coordinator's)."""

    def __init__(
        self,
        spec: ServerMetricsSpec,
        url: str,
        clock: Callable[[], float],
        shown_url: str | None = None,
    ) -> None:
        self.spec = spec
        self.url = url
        self.shown_url = shown_url or url
        """The URL as written to the run file and shown (redacted by the caller)."""
        self._clock = clock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._points: list[ServerPoint] = []
        self._failures: dict[str, int] = {}
        self._sources: dict[str, str] = {}
        self._scrapes = 0
        self._before: Exposition | None = None
        self._names = wanted_names(spec.series)
        """Only these families are parsed (the parse costs per line of the answer)."""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="loadtui-scrape", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the scrapes (the one in progress finishes: at most ``SCRAPE_TIMEOUT``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(SCRAPE_TIMEOUT + 2.0)

    def view(self, last: int | None = None) -> ServerSeries:
        """The series so far (its ``last`` points only, when given: a frame's)."""
        with self._lock:
            points = self._points[-last:] if last else self._points
            return ServerSeries(
                url=self.shown_url,
                points=tuple(points),
                scrapes=self._scrapes,
                failures=dict(self._failures),
                sources=dict(self._sources),
            )

    def _run(self) -> None:
        # the first scrape's time is fixed before the client is made (its TLS contexts take tens
        # of milliseconds, far more on a busy machine): a slow start scrapes late, not a second
        # later — a 1 s run still gets its scrape
        due = _next_due(self._clock())
        with httpx.Client(timeout=SCRAPE_TIMEOUT, follow_redirects=True) as client:
            while not self._stop.is_set():
                if self._stop.wait(max(0.0, due - self._clock())):
                    return
                self.scrape_once(client)
                due = _next_due(self._clock())

    def scrape_once(self, client: httpx.Client) -> None:
        """One scrape, booked as a point or as a failure of its kind."""
        t = second_of(self._clock())
        at = perf_counter()
        text, failure = _fetch(client, self.url)
        read = None
        if text is not None:
            try:
                exp = parse_exposition(text, at, self._names)
                read = exp, *read_values(exp, self._before, self.spec.series)
            except (ValueError, ArithmeticError, LookupError, TypeError, UnicodeError):
                failure = "garbage"  # an HTML page, JSON, a bucket bound that is no number
        with self._lock:
            self._scrapes += 1
            if read is None:
                kind = failure or "garbage"
                self._failures[kind] = self._failures.get(kind, 0) + 1
                return
            exp, values, sources = read
            values = {k: round(v, 6) for k, v in values.items() if math.isfinite(v)}
            self._before = exp
            self._sources.update(sources)
            if self._points and self._points[-1].t == t:
                self._points[-1] = ServerPoint(t, values)  # a late scrape: the newer wins
            else:
                self._points.append(ServerPoint(t, values))


def _next_due(elapsed: float) -> float:
    """The middle of the next second not yet scraped: one scrape per second of the series."""
    return (int(elapsed) + 0.5) if elapsed % 1.0 < 0.5 else (int(elapsed) + 1.5)


def _fetch(client: httpx.Client, url: str) -> tuple[str | None, str | None]:
    """(the answer's text, None) or (None, the kind of failure)."""
    try:
        with client.stream("GET", url, headers={"Accept": "text/plain"}) as response:
            if not 200 <= response.status_code < 300:
                return None, "status"
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    return None, "garbage"
            return body.decode("utf-8", errors="replace"), None
    except httpx.TimeoutException:
        return None, "timeout"
    except (httpx.HTTPError, httpx.InvalidURL, OSError):
        return None, "connect"


def _fmt(key: str, value: float) -> str:
    if key == "kv_cache":
        return f"{value * 100:.0f}%"
    if key.endswith("_ms"):
        return f"{value:.1f} ms"
    return f"{value:.4g}"


_KNOWN_SHOWN = (
    ("running", "running"),
    ("waiting", "waiting"),
    ("kv_cache", "KV cache"),
    ("ttft_p50_ms", "TTFT p50"),
    ("ttft_p95_ms", "TTFT p95"),
)


def server_summary(series: ServerSeries) -> list[str]:
    """The end of a run's summary, in words (the console's, ``show``): scrapes and failures
    by kind, then the peak of each series the server reported."""
    failed = series.failed
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(series.failures.items()))
    head = f"server metrics: {series.scrapes} scrape(s) of {series.url}, {failed} failed"
    lines = [head + (f" ({kinds})" if kinds else "")]
    keys = [k for p in series.points for k in p.values]
    peaks = [
        f"{shown} {_fmt(key, peak)}"
        for key, shown in _KNOWN_SHOWN
        if (peak := series.peak(key)) is not None
    ]
    peaks += [
        f"{key} {_fmt(key, peak)}"
        for key in dict.fromkeys(keys)
        if key not in dict(_KNOWN_SHOWN) and (peak := series.peak(key)) is not None
    ]
    if peaks:
        lines.append("  server peaks: " + ", ".join(peaks))
    elif series.scrapes and not failed:
        lines.append("  none of the known series (docs/server-metrics.md) was in its answers")
    return lines
