"""``--metrics-port``'s ``/metrics`` over real loopback, during and after a real run.

A run of the embedded mock (with injected faults, so errors of two classes come) is driven by
the run service's ``RunDriver`` with a ``MetricsServer`` on 127.0.0.1; the endpoint is scraped
with httpx and read with Prometheus's own parser (``prometheus_client``): it parses, has every
series docs/prometheus.md lists, its counters grow while the run goes, and once the run is
saved its counters equal the saved run file's summary exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord
from loadtui.run.drive import Controls, RunDriver
from loadtui.run.exposition import BUCKETS_S
from loadtui.run.metrics_server import MetricsServer
from loadtui.run.session import RunSession
from loadtui.storage.runfile import load_record
from loadtui.tui.lifecycle import RunLifecycle

SERIES = {
    "loadtui_run_info": "gauge",
    "loadtui_run_elapsed_seconds": "gauge",
    "loadtui_run_finished": "gauge",
    "loadtui_requests": "counter",
    "loadtui_errors": "counter",
    "loadtui_label_errors": "counter",
    "loadtui_output_tokens": "counter",
    "loadtui_input_tokens": "counter",
    "loadtui_cancelled": "counter",
    "loadtui_dropped": "counter",
    "loadtui_users": "gauge",
    "loadtui_target_users": "gauge",
    "loadtui_target_rate_per_second": "gauge",
    "loadtui_in_flight": "gauge",
    "loadtui_workers": "gauge",
    "loadtui_generator_cpu_percent": "gauge",
    "loadtui_generator_loop_lag_seconds": "gauge",
    "loadtui_request_latency_seconds": "histogram",
    "loadtui_ttft_seconds": "histogram",
    "loadtui_itl_seconds": "histogram",
    "loadtui_tpot_seconds": "histogram",
}
"""Family → type, as the parser names them (a counter's family drops ``_total``)."""


def _config(duration: float) -> RunConfig:
    """Two labels (a mix), faults of two classes, the embedded mock."""
    return RunConfig(
        preset="prom-test",
        load={"mode": "closed", "users": 4, "spawn_rate": 0, "duration": duration},
        requests=[
            {"kind": "chat", "stream": True, "max_tokens": 8, "name": "short", "weight": 1},
            {"kind": "chat", "stream": False, "max_tokens": 8, "name": "plain", "weight": 1},
        ],
        mock={
            "latency": 0.01,
            "ttft": 0.02,
            "itl": 0.005,
            "tokens": 8,
            "faults": {"http_500": 0.2, "http_429": 0.1},
        },
        workers=1,
    )


def _scrape(url: str) -> dict[str, list[Sample]]:
    answer = httpx.get(url, timeout=10.0)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: [*f.samples] for f in text_string_to_metric_families(answer.text)}


def _types(url: str) -> dict[str, str]:
    return {f.name: f.type for f in text_string_to_metric_families(httpx.get(url).text)}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and s.labels == labels)


def _total(samples: list[Sample], name: str) -> float:
    return sum(s.value for s in samples if s.name == name)


def _by(samples: list[Sample], name: str, label: str) -> dict[str, int]:
    return {s.labels[label]: int(s.value) for s in samples if s.name == name}


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class _Run:
    """A session's run on a thread of its own (as the app's bridge does), publishing to
    ``server``; ``result`` once saved."""

    def __init__(self, config: RunConfig, server: MetricsServer, out: Path) -> None:
        self.result: tuple[RunRecord, Path | None] | None = None
        self.error: BaseException | None = None
        self._args = (config, server, out)
        self.thread = threading.Thread(target=self._main)
        self.thread.start()

    def _main(self) -> None:
        config, server, out = self._args
        try:
            with RunSession(config, out=out, say=lambda _: None) as session:
                driver = RunDriver(session, Controls(), publish=lambda _: None, metrics=server)
                self.result = driver.run()
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def test_metrics_parse_grow_and_equal_the_saved_run_at_the_end(tmp_path: Path) -> None:
    with MetricsServer("127.0.0.1", 0) as server:
        url = server.url
        run = _Run(_config(duration=3.0), server, tmp_path / "run.json")

        def requests() -> float:
            return _total(_scrape(url).get("loadtui_requests", []), "loadtui_requests_total")

        _wait_for(lambda: requests() > 0, 60, "the first requests on /metrics")
        first = requests()
        _wait_for(lambda: requests() > first, 30, "the request counter to grow")
        live = _scrape(url)
        assert set(SERIES) <= set(live), set(SERIES) - set(live)
        assert {n: t for n, t in _types(url).items() if n in SERIES} == SERIES
        assert _value(live["loadtui_run_finished"], "loadtui_run_finished") == 0
        run.thread.join(120)
        assert run.error is None, run.error
        assert run.result is not None
        saved_run, path = run.result
        assert path is not None
        final = _scrape(url)  # the server keeps the final figures until it is closed
    record = load_record(path)
    assert record.summary == saved_run.summary
    _assert_equal_to_the_run(final, record)


def _assert_equal_to_the_run(final: dict[str, list[Sample]], record: RunRecord) -> None:
    s = record.summary
    assert _value(final["loadtui_run_finished"], "loadtui_run_finished") == 1
    (info,) = final["loadtui_run_info"]
    assert info.labels == {"id": record.id, "preset": "prom-test", "target": record.target.url}
    assert _total(final["loadtui_requests"], "loadtui_requests_total") == s.requests > 0
    assert _by(final["loadtui_requests"], "loadtui_requests_total", "label") == {
        k: v.requests for k, v in s.by_label.items()
    }
    assert set(s.errors) == {"http_429", "http_5xx"}  # the faults came: the test means something
    assert _by(final["loadtui_errors"], "loadtui_errors_total", "class") == dict(s.errors)
    assert _by(final["loadtui_label_errors"], "loadtui_label_errors_total", "label") == {
        k: v.errors for k, v in s.by_label.items()
    }
    assert _total(final["loadtui_output_tokens"], "loadtui_output_tokens_total") == s.output_tokens
    assert _total(final["loadtui_input_tokens"], "loadtui_input_tokens_total") == s.input_tokens
    assert _total(final["loadtui_cancelled"], "loadtui_cancelled_total") == s.cancelled
    latency = final["loadtui_request_latency_seconds"]
    assert _value(latency, "loadtui_request_latency_seconds_count") == s.metrics.latency_ms.count
    assert _value(latency, "loadtui_request_latency_seconds_bucket", le="+Inf") == s.requests
    mean_s = _value(latency, "loadtui_request_latency_seconds_sum") / s.requests
    assert abs(mean_s * 1000.0 - s.metrics.latency_ms.mean) < 0.01  # the same HDR mean
    buckets = [
        _value(latency, "loadtui_request_latency_seconds_bucket", le=str(b)) for b in BUCKETS_S
    ]
    assert buckets == sorted(buckets)  # cumulative
    ttft = final["loadtui_ttft_seconds"]
    assert _value(ttft, "loadtui_ttft_seconds_count") == s.metrics.ttft_ms.count > 0
    # no streamed chunk arrives before the mock's TTFT (20 ms): none under 10 ms
    assert _value(ttft, "loadtui_ttft_seconds_bucket", le="0.01") == 0


def test_every_run_the_app_starts_is_published_to_the_one_server(mock, tmp_path: Path) -> None:
    """``loadtui --metrics-port`` opens the app with one server; each run started in it (from
    the setup form, one after another) publishes there, its final figures until the next."""
    config = RunConfig(
        preset="app-run",
        target={"url": mock.url},
        load={"mode": "closed", "users": 2, "spawn_rate": 0, "duration": 1.5},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 8}],
        workers=1,
    )
    with MetricsServer("127.0.0.1", 0) as server:
        lifecycle = RunLifecycle(server)
        for n in range(2):
            bridge = lifecycle.begin(config, out=tmp_path / f"run-{n}.json")
            assert bridge is not None
            bridge.start()
            assert bridge.wait(120) and bridge.run is not None, bridge.error
            assert any(server.url in m for m in bridge.messages)  # the app shows where
            final = _scrape(server.url)
            (info,) = final["loadtui_run_info"]
            assert info.labels["id"] == bridge.run.id
            assert _value(final["loadtui_run_finished"], "loadtui_run_finished") == 1
            saved = load_record(tmp_path / f"run-{n}.json").summary
            assert _total(final["loadtui_requests"], "loadtui_requests_total") == saved.requests
            ttft_count = _value(final["loadtui_ttft_seconds"], "loadtui_ttft_seconds_count")
            assert ttft_count == saved.metrics.ttft_ms.count > 0
