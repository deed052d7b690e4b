"""The text exposition of a run (``loadtui.run.exposition``), read back by Prometheus's parser.

A coordinator that was never started is fed a snapshot drained from a real worker ``Recorder``
(known latencies, a label with the characters the format must escape); what ``/metrics`` would
serve is parsed by ``prometheus_client`` and must say exactly what was recorded.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from loadtui.engine.coordinator import Coordinator
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Recorder
from loadtui.model.plan import RunConfig
from loadtui.run.exposition import BUCKETS_S, RunInfo, exposition

HOSTILE = 'a "quoted"\\label\nwith a newline'
"""A mix entry's name is the user's text: quotes, a backslash and a newline must round-trip."""

LATENCIES_MS = (0.4, 3.0, 3.0, 70.0, 2000.0, 400_000.0)
"""Below the first bound, twice in one bucket, mid-range, seconds, above the last bound."""


def _coordinator() -> Coordinator:
    config = RunConfig(
        load={"mode": "open", "rate": 5, "duration": 10},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 8}],
        workers=1,
    )
    coord = Coordinator(config, "http://127.0.0.1:9")
    rec = Recorder()
    for i, ms in enumerate(LATENCIES_MS):
        rec.requests += 1
        rec.hist["latency_ms"].record_ms(ms)
        rec.label(HOSTILE if i % 2 else "plain").record(ms, ok=i != 3)
    rec.error("http_5xx")
    rec.output_tokens, rec.input_tokens = 48, 12
    snap = rec.drain(worker=0, t=1.0)
    snap.users, snap.in_flight = 3, 2
    coord.totals.add_snapshot(snap)
    coord.latest[0] = snap
    return coord


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_labels_with_quotes_backslashes_and_newlines_round_trip() -> None:
    info = RunInfo("r-1", 'pre"set', 'http://h:1/v1?q="x"\\')
    got = _samples(exposition(_coordinator(), info))
    assert got[("loadtui_requests_total", (("label", HOSTILE),))] == 3
    assert got[("loadtui_requests_total", (("label", "plain"),))] == 3
    assert got[("loadtui_label_errors_total", (("label", HOSTILE),))] == 1
    info_labels = (("id", "r-1"), ("preset", 'pre"set'), ("target", 'http://h:1/v1?q="x"\\'))
    assert got[("loadtui_run_info", info_labels)] == 1


def test_buckets_count_the_values_at_or_below_each_bound() -> None:
    got = _samples(exposition(_coordinator(), RunInfo()))
    name = "loadtui_request_latency_seconds"
    for bound in BUCKETS_S:
        expected = sum(1 for ms in LATENCIES_MS if ms / 1000.0 <= bound)
        assert got[(f"{name}_bucket", (("le", str(bound)),))] == expected, bound
    assert got[(f"{name}_bucket", (("le", "+Inf"),))] == len(LATENCIES_MS)
    assert got[(f"{name}_count", ())] == len(LATENCIES_MS)
    # the sum is HDR's (3 significant digits), the mean's numerator
    assert abs(got[(f"{name}_sum", ())] - sum(LATENCIES_MS) / 1000.0) < sum(LATENCIES_MS) * 1e-6
    assert got[("loadtui_ttft_seconds_count", ())] == 0  # nothing streamed: empty, not absent
    assert got[("loadtui_errors_total", (("class", "http_5xx"),))] == 1
    assert got[("loadtui_output_tokens_total", ())] == 48
    assert got[("loadtui_users", ())] == 3
    assert got[("loadtui_in_flight", ())] == 2


def test_requests_without_a_label_are_counted_too() -> None:
    """A run of one kind has no labels: the requests are one series, without a label."""
    coord = Coordinator(
        RunConfig(load={"mode": "closed", "users": 1, "duration": 5}, workers=1),
        "http://127.0.0.1:9",
    )
    rec = Recorder()
    rec.requests = 7
    coord.totals.add_snapshot(rec.drain(0, 1.0))
    got = _samples(exposition(coord, RunInfo()))
    assert got[("loadtui_requests_total", ())] == 7
    # closed loop: no target rate, so no sample (absent, never a made-up 0)
    assert not any(name == "loadtui_target_rate_per_second" for name, _ in got)


def test_cumulative_counts_every_value_at_or_below_a_bound() -> None:
    h = Histogram()
    assert h.cumulative((1.0, 2.0)) == ([0, 0], 0.0)
    for ms in range(1, 1001):
        h.record_ms(float(ms))
    below, sum_ms = h.cumulative((0.5, 100.0, 500.0, 1000.0, 5000.0))
    assert below == [0, 100, 500, 1000, 1000]
    assert abs(sum_ms - 500_500) <= 500_500 * 1e-3  # each HDR bucket's middle
