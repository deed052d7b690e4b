"""Reading a server's /metrics: vLLM's and SGLang's exposition text (tests/data/server-metrics)
into one second's values — known series summed over label sets, a counter's rate, a
histogram's p50/p95 from the bucket deltas between two scrapes — and the run-file section
that keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from loadtui.model.servermetrics import ServerMetricsSpec, ServerPoint, ServerSeries, parse_selector
from loadtui.run.promtext import bucket_quantile, parse_exposition, read_values, wanted_names
from loadtui.run.servermetrics import server_summary
from loadtui.storage.server_json import server_from_json, server_to_json

DATA = Path(__file__).parent.parent / "data" / "server-metrics"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def _bumped(text: str, name: str, by: dict[str, float]) -> str:
    """``text`` with the buckets of histogram ``name`` raised by ``by`` (le → added count)."""
    out = []
    for line in text.splitlines():
        for le, add in by.items():
            if line.startswith(f'{name}_bucket{{le="{le}"'):
                head, value = line.rsplit(" ", 1)
                line = f"{head} {float(value) + add}"
        out.append(line)
    return "\n".join(out) + "\n"


def test_vllm_known_series_are_summed_over_models() -> None:
    values, sources = read_values(parse_exposition(_text("vllm.prom")), None)
    assert values["running"] == 5.0  # 3 + 2: two models
    assert values["waiting"] == 4.0
    assert values["kv_cache"] == 0.25  # the older name, gpu_cache_usage_perc
    assert sources == {
        "running": "vllm:num_requests_running",
        "waiting": "vllm:num_requests_waiting",
        "kv_cache": "vllm:gpu_cache_usage_perc",
        "ttft": "vllm:time_to_first_token_seconds",
    }
    assert "ttft_p50_ms" not in values  # one scrape: no interval to take deltas over


def test_sglang_known_series() -> None:
    values, sources = read_values(parse_exposition(_text("sglang.prom")), None)
    assert (values["running"], values["waiting"], values["kv_cache"]) == (162.0, 2826.0, 0.28)
    assert sources["ttft"] == "sglang:time_to_first_token_seconds"


def test_histogram_percentiles_come_from_the_interval_only() -> None:
    """The cumulative buckets say p50 ≈ 50 ms since the server started; in the interval 10
    requests landed in (0.1, 0.25]: the interval's p50 is in that bucket, not the old one."""
    name = "vllm:time_to_first_token_seconds"
    before = parse_exposition(_text("vllm.prom"), at=10.0)
    later = _bumped(_text("vllm.prom"), name, {"0.25": 10, "+Inf": 10})
    values, _ = read_values(parse_exposition(later, at=11.0), before)
    # 10 observations, all in (0.1, 0.25]: rank 5 → 0.1 + 0.15 * 5/10 = 175 ms
    assert values["ttft_p50_ms"] == pytest.approx(175.0)
    assert values["ttft_p95_ms"] == pytest.approx(100.0 + 150.0 * 9.5 / 10)


def test_a_named_counter_is_a_rate_and_a_selector_filters_labels() -> None:
    text = _text("vllm.prom")
    before = parse_exposition(text, at=0.0)
    later = text.replace("} 120.0", "} 130.0")  # the finished_reason="stop" sample
    extra = [
        "vllm:request_success_total",
        'vllm:request_success_total{finished_reason="length"}',
        "vllm:cache_config_info",
    ]
    values, _ = read_values(parse_exposition(later, at=2.0), before, extra)
    assert values["vllm:request_success_total"] == pytest.approx(5.0)  # 10 more over 2 s
    assert values['vllm:request_success_total{finished_reason="length"}'] == 0.0
    assert values["vllm:cache_config_info"] == 1.0  # a gauge: its value


def test_a_counter_reset_gives_no_rate() -> None:
    text = _text("vllm.prom")
    before = parse_exposition(text, at=0.0)
    restarted = parse_exposition(text.replace("} 120.0", "} 1.0"), at=1.0)
    values, _ = read_values(restarted, before, ["vllm:request_success_total"])
    assert "vllm:request_success_total" not in values


@pytest.mark.parametrize("text", ["<html><body>502 Bad Gateway</body></html>", '{"ok": true}'])
def test_text_that_is_not_prometheus_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_exposition(text)
    with pytest.raises(ValueError):  # filtered to the wanted families: still refused
        parse_exposition(text, names=wanted_names())


@pytest.mark.parametrize("fixture", ["vllm.prom", "sglang.prom"])
def test_parsing_only_the_wanted_families_reads_the_same(fixture: str) -> None:
    extra = ["vllm:request_success_total", "sglang:prompt_tokens_total"]
    text = _text(fixture)
    later = text.replace("} 120.0", "} 130.0").replace("} 8.128902e+06", "} 8.2e+06")
    whole = read_values(parse_exposition(later, 1.0), parse_exposition(text, 0.0), extra)
    names = wanted_names(extra)
    kept = parse_exposition(later, 1.0, names)
    assert read_values(kept, parse_exposition(text, 0.0, names), extra) == whole
    assert "vllm:cache_config_info" not in kept.samples  # not asked for: not parsed


def test_bucket_quantile() -> None:
    inf = float("inf")
    assert bucket_quantile(0.5, []) is None
    assert bucket_quantile(0.5, [(1.0, 0.0), (inf, 0.0)]) is None
    assert bucket_quantile(0.5, [(1.0, 4.0), (2.0, 8.0), (inf, 8.0)]) == 1.0
    assert bucket_quantile(0.75, [(1.0, 4.0), (2.0, 8.0), (inf, 8.0)]) == 1.5
    # beyond every finite bound: the highest finite one, as histogram_quantile answers
    assert bucket_quantile(0.95, [(1.0, 1.0), (inf, 10.0)]) == 1.0


def test_spec_urls_and_selectors() -> None:
    assert ServerMetricsSpec(url="http://gpu:8000").url == "http://gpu:8000/metrics"
    assert ServerMetricsSpec(url="http://gpu:8000/stats").url == "http://gpu:8000/stats"
    assert ServerMetricsSpec(url="mock").url == "mock"
    for bad in ("gpu:8000", "ftp://gpu/metrics", "http://u:secret@gpu:8000/metrics"):
        with pytest.raises(ValidationError):
            ServerMetricsSpec(url=bad)
    with pytest.raises(ValidationError):
        ServerMetricsSpec(url="mock", series=("not a name",))
    sel = parse_selector('vllm:x{model_name="a,b", le="0.1"}')
    assert sel.labels == (("model_name", "a,b"), ("le", "0.1"))
    assert str(sel) == 'vllm:x{model_name="a,b",le="0.1"}'


def test_run_file_section_round_trips_and_drops_junk() -> None:
    series = ServerSeries(
        url="http://gpu:8000/metrics",
        points=(ServerPoint(0, {"running": 2.0}), ServerPoint(1, {"running": 3.0, "x": 0.5})),
        scrapes=3,
        failures={"timeout": 1},
        sources={"running": "vllm:num_requests_running"},
    )
    assert server_from_json(server_to_json(series)) == series
    junk = {"points": [{"t": "0"}, 5, {"t": 2, "values": {"a": "x", "b": 1}}], "failures": []}
    assert server_from_json(junk) == ServerSeries(url="", points=(ServerPoint(2, {"b": 1.0}),))
    assert server_from_json([1, 2]) is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["url", "scrapes", "failures", "sources", "points"]), _JSON, max_size=5
    )
    | _JSON
)
def test_any_json_reads_as_a_section_or_none(raw: object) -> None:
    """A hand-edited or foreign file: whatever ``server`` holds, reading never raises."""
    series = server_from_json(raw)
    assert series is None or isinstance(series, ServerSeries)


_PROMISH = st.text(alphabet='vlm:_{}="+Inf,le0.19 \n#TYPEhistogramcounter', max_size=200)


@settings(max_examples=150, deadline=None)
@given(_PROMISH, _PROMISH)
def test_any_text_is_read_or_refused_as_garbage(before: str, now: str) -> None:
    """What a broken server might send is read into numbers, or raises one of the errors the
    scraper counts as ``garbage`` (any other would end the scraper's thread)."""
    extra = ["vlm", 'vlm{le="0"}']
    for names in (None, wanted_names(extra)):  # every family, or only the wanted ones
        try:
            prev = parse_exposition(before, 0.0, names)
            values, _ = read_values(parse_exposition(now, 1.0, names), prev, extra)
        except (ValueError, ArithmeticError, LookupError, TypeError, UnicodeError):
            continue
        assert all(isinstance(v, float) for v in values.values())


def test_summary_lines_name_failures_and_peaks() -> None:
    series = ServerSeries(
        url="http://gpu:8000/metrics",
        points=(
            ServerPoint(0, {"waiting": 2.0, "kv_cache": 0.5}),
            ServerPoint(1, {"waiting": 7.0}),
        ),
        scrapes=4,
        failures={"timeout": 1, "garbage": 1},
    )
    head, peaks = server_summary(series)
    assert head.endswith("2 failed (garbage 1, timeout 1)")
    assert peaks == "  server peaks: waiting 7, KV cache 50%"
