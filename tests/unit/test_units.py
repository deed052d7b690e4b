"""Unit tests: durations, thresholds, SSE parsing, shapes, histograms. No network, no processes."""

from __future__ import annotations

import json

import pytest

from loadtui.engine.protocols import CONTENT, DONE, IGNORE, OpenAIProtocol, Tokens
from loadtui.engine.shape import Shape
from loadtui.engine.sse import SSEParser
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Aggregate, Recorder
from loadtui.model.durations import parse_duration, parse_range
from loadtui.model.outcomes import ErrorClass
from loadtui.model.plan import LoadSpec, RunConfig, fit_duration, scale_time
from loadtui.model.thresholds import evaluate, parse_threshold


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1m30s", 90), ("250ms", 0.25), ("2h", 7200), ("1.5", 1.5), (3, 3), ("0", 0)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "10x", "-5s", "5s5", "s"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5-2s", (0.5, 2.0)),
        ("1s", (1.0, 1.0)),
        (0, (0.0, 0.0)),
        ("100-500ms", (0.1, 0.5)),
        ([1, 2], (1, 2)),
    ],
)
def test_parse_range(text, expected):
    assert parse_range(text) == pytest.approx(expected)


def test_parse_range_rejects_reversed():
    with pytest.raises(ValueError, match="ends before"):
        parse_range("2-1s")


def test_threshold_parsing_and_evaluation():
    t = parse_threshold("ttft", "p(95)<500")
    assert (t.aggregate, t.op, t.limit) == ("p95", "<", 500.0)
    assert parse_threshold("latency", "p(99.9)<=10").aggregate == "p999"
    assert parse_threshold("latency", "avg<10").aggregate == "mean"
    from loadtui.model.record import Metrics, MetricSummary, RunSummary

    summary = RunSummary(
        requests=100,
        errors_total=5,
        metrics=Metrics(
            ttft_ms=MetricSummary(count=10, p95=400.0, mean=100.0),
            latency_ms=MetricSummary(count=0),
        ),
    )
    results = evaluate(
        {
            "ttft": ["p(95)<500", "p(95)<300"],
            "error_rate": ["rate<0.01"],
            "success_rate": ["rate>=0.9"],
            "latency": ["p(95)<1"],
        },
        summary,
    )
    assert [r.passed for r in results] == [True, False, False, True, False]
    assert results[2].actual == pytest.approx(0.05)
    assert results[4].actual is None  # no samples proves nothing: it fails


@pytest.mark.parametrize(
    ("metric", "expr"),
    [
        ("nope", "p(95)<1"),
        ("ttft", "p95<1"),
        ("ttft", "rate<0.1"),
        ("error_rate", "p(95)<1"),
        ("ttft", "p(0)<1"),
    ],
)
def test_threshold_rejects(metric, expr):
    with pytest.raises(ValueError):
        parse_threshold(metric, expr)


def test_sse_parser_handles_split_reads_and_line_endings():
    stream = (
        b": keep-alive\r\n"
        b'event: message_start\r\ndata: {"a":1}\r\n\r\n'
        b"data: line1\ndata: line2\n\n"
        b"data:nospace\r\r"
        b"data: [DONE]\n\n"
    )
    expected = [
        ("message_start", b'{"a":1}'),
        (None, b"line1\nline2"),
        (None, b"nospace"),
        (None, b"[DONE]"),
    ]
    for size in (1, 2, 3, 7, len(stream)):
        parser = SSEParser()
        events = []
        for i in range(0, len(stream), size):
            events.extend(parser.feed(stream[i : i + size]))
        assert events == expected, size


def test_openai_stream_classification():
    p = OpenAIProtocol()
    tokens = Tokens()
    role = json.dumps(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    ).encode()
    content = json.dumps({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}).encode()
    usage = json.dumps(
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 7}}
    ).encode()
    assert p.stream_event(None, role, tokens) == IGNORE  # the role chunk is not the first token
    assert p.stream_event(None, content, tokens) == CONTENT
    assert p.stream_event(None, usage, tokens) == IGNORE
    assert (tokens.output, tokens.input) == (7, 3)
    assert p.stream_event(None, b"[DONE]", tokens) == DONE
    assert (
        p.stream_event(None, b'{"error": {"message": "boom"}}', tokens) == ErrorClass.STREAM_ERROR
    )
    assert p.stream_event(None, b"{not json", tokens) == ErrorClass.MALFORMED


def test_shape_spawn_ramp_and_live_override():
    shape = Shape(LoadSpec(mode="closed", users=10, spawn_rate=5))
    assert shape.desired(0.0)[0] == 0
    assert shape.desired(1.0)[0] == 5
    assert shape.desired(2.0)[0] == 10
    assert shape.desired(3.0)[0] == 10
    shape.set_users(4, 3.0)
    assert shape.desired(3.4)[0] == 8
    assert shape.desired(5.0)[0] == 4


def test_shape_stages_ramp_linearly_and_overrides_last_one_stage():
    load = LoadSpec(
        mode="stages", stages=[{"duration": "10s", "users": 20}, {"duration": "10s", "users": 0}]
    )
    shape = Shape(load)
    assert [shape.desired(t)[0] for t in (0, 5, 10, 15, 19.99, 25)] == [0, 10, 20, 10, 0, 0]
    shape.set_users(7, 2.0)
    assert shape.desired(9.0)[0] == 7  # override holds within the stage...
    assert shape.desired(15.0)[0] == 10  # ...and the next stage takes over again


def test_shape_rate_stages():
    shape = Shape(LoadSpec(mode="stages", stages=[{"duration": "4s", "rate": 100}]))
    assert shape.desired(2.0) == (0, 50.0)


def test_histograms_merge_exactly():
    a, b, both = Histogram(), Histogram(), Histogram()
    for i in range(1, 1001):
        (a if i % 2 else b).record_ms(i)
        both.record_ms(i)
    merged = Histogram.decode(a.encode())
    merged.merge(Histogram.decode(b.encode()))
    assert merged.summary() == both.summary()
    assert merged.count == 1000
    assert merged.percentile(50) == pytest.approx(500, rel=0.001)


def test_recorder_drains_into_aggregate():
    rec = Recorder()
    rec.requests += 3
    rec.ok += 2
    rec.error("timeout")
    rec.status(200)
    rec.hist["latency_ms"].record_ms(12.5)
    snap = rec.drain(0, 0.25)
    assert rec.requests == 0 and not rec.errors and rec.hist["latency_ms"].count == 0
    agg = Aggregate()
    agg.add_snapshot(snap)
    agg.add_snapshot(snap)
    s = agg.summary(1.0)
    assert (s.requests, s.ok, s.errors, s.status_codes) == (
        6,
        4,
        {"timeout": 2},
        {200: 2},
    )
    assert s.metrics.latency_ms.count == 2
    assert s.metrics.latency_ms.p50 == pytest.approx(12.5, rel=0.001)


def test_time_scale_and_fit_duration():
    cfg = RunConfig(
        load={
            "mode": "stages",
            "stages": [{"duration": "60s", "users": 5}, {"duration": "30s", "users": 0}],
        }
    )
    assert scale_time(cfg, 0.1).load.total_duration == pytest.approx(9.0)
    fitted = fit_duration(cfg, 30)
    assert [s.duration for s in fitted.load.stages] == pytest.approx([20.0, 10.0])
    assert fit_duration(RunConfig(), 7).load.duration == 7
    ramped = RunConfig(load={"users": 20, "spawn_rate": 2, "duration": "1h"})
    fast = scale_time(ramped, 0.01)
    assert (fast.load.duration, fast.load.spawn_rate) == pytest.approx((36.0, 200.0))


def test_every_public_name_exists():
    """``__all__`` of every module names only things the module really has."""
    import importlib
    import pkgutil

    import loadtui

    for info in pkgutil.walk_packages(loadtui.__path__, "loadtui."):
        if info.name == "loadtui.__main__":
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name), f"{info.name}.__all__ names missing {name}"


def test_histogram_summary_matches_hdrhistograms_own_iterators():
    """The fast summary reads the same buckets the library's (slow) iterators walk."""
    import random

    from loadtui.metrics.histogram import PERCENTILES
    from loadtui.model.record import MetricSummary

    rng = random.Random(7)
    for n in (1, 2, 7, 1000, 20000):
        h = Histogram()
        for _ in range(n):
            h.record_ms(rng.choice([rng.uniform(0.001, 5), rng.expovariate(0.01), 3000.0]))
        lib = h._h
        values = lib.get_percentile_to_value_dict([p for _, p in PERCENTILES])
        expected = {
            "count": n,
            "mean": round(lib.get_mean_value() / 1000.0, 3),
            "min": lib.get_min_value() / 1000.0,
            "max": lib.get_max_value() / 1000.0,
            **{name: values[p] / 1000.0 for name, p in PERCENTILES},
        }
        assert h.summary() == MetricSummary(**expected)


def test_rolling_window_keeps_only_the_last_seconds():
    from loadtui.metrics.stats import decode_histograms
    from loadtui.metrics.window import RollingWindow
    from loadtui.model.snapshot import WorkerSnapshot

    window = RollingWindow(3)
    for second in range(6):
        rec = Recorder()
        rec.requests = second + 1
        rec.hist["latency_ms"].record_ms(10.0 * (second + 1))
        snap = rec.drain(0, second + 0.5)
        window.add(snap, decode_histograms(snap))
    agg = window.aggregate()
    assert agg.requests == 4 + 5 + 6  # seconds 3, 4, 5
    assert agg.hist["latency_ms"].summary().min == pytest.approx(40.0, rel=0.01)
    assert window.span == 3
    assert isinstance(snap, WorkerSnapshot)


def test_closed_loop_rate_is_a_live_cap():
    shape = Shape(LoadSpec(mode="closed", users=4, spawn_rate=0))
    assert shape.desired(1.0) == (4, None)
    shape.set_rate(20.0, 1.0)
    assert shape.desired(2.0) == (4, 20.0)
    shape.set_rate(0.0, 3.0)  # 0 lifts the cap
    assert shape.desired(4.0) == (4, 0.0)
    open_shape = Shape(LoadSpec(mode="open", rate=5))
    open_shape.set_rate(9.0, 1.0)
    assert open_shape.desired(2.0) == (0, 9.0)


def test_a_rate_control_may_be_zero_but_not_negative():
    from loadtui.model.controls import parse_control

    assert parse_control({"action": "rate", "value": 0, "at": 1}, source="t").value == 0.0
    with pytest.raises(ValueError, match="≥ 0"):
        parse_control({"action": "rate", "value": -1, "at": 1}, source="t")


def test_compare_runs_deltas_and_verdicts():
    from loadtui.model.plan import RunConfig
    from loadtui.model.record import Metrics, MetricSummary, RunRecord, RunSummary, TargetInfo
    from loadtui.run.compare import compare_runs

    def run(rps, p95, errors):
        latency = MetricSummary(count=100, p50=10.0, p95=p95, p99=30.0)
        summary = RunSummary(
            requests=100, rps=rps, error_rate=errors, metrics=Metrics(latency_ms=latency)
        )
        return RunRecord("r", "completed", "", "", RunConfig(), TargetInfo(""), summary)

    rows = {r.label: r for r in compare_runs(run(10.0, 20.0, 0.0), run(12.0, 25.0, 0.01))}
    assert rows["req/s"].delta == pytest.approx(2.0) and rows["req/s"].verdict == "better"
    assert rows["latency p95"].ratio == pytest.approx(0.25)
    assert rows["latency p95"].verdict == "worse"
    assert rows["latency p50"].verdict == ""
    assert rows["requests"].verdict == ""  # a count is neither better nor worse
    assert rows["TTFT p50"].a is None and rows["TTFT p50"].delta is None  # no samples, no delta


def test_replaying_an_interrupted_run_stops_where_it_was_interrupted():
    from loadtui.storage.runfile import run_controls

    recorded = [{"action": "users", "value": 5, "at": 2.0, "source": "live"}]
    run = {"status": "interrupted", "load_ended_s": 28.4, "controls": recorded}
    schedule = run_controls(run)
    assert [(c.action, c.value, c.at) for c in schedule] == [
        ("users", 5, 2.0),
        ("stop", None, 28.4),
    ]
    assert schedule[-1].source == "replay"  # recorded ones keep their source
    completed = {**run, "status": "completed"}
    assert [c.action for c in run_controls(completed)] == ["users"]  # a full run needs no stop
