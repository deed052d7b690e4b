"""Threshold grammar and judgement (``model/thresholds.py``) and ``--threshold`` merging.

Label filters (``ttft{label:proxied}``), the object form with ``abort_on_fail``, the
command-line form, and the reason every threshold with nothing to judge gives — all pure, no
run started (tests/cli/test_cli_thresholds.py runs them against the mock).
"""

from __future__ import annotations

import re

import pytest

from loadtui.errors import ConfigError
from loadtui.model.plan import RunConfig
from loadtui.model.record import (
    LabelSummary,
    Metrics,
    MetricSummary,
    OverheadSummary,
    RunSummary,
)
from loadtui.model.thresholds import (
    Abort,
    evaluate,
    judge,
    mark_aborted,
    parse_cli_threshold,
    parse_threshold,
    parsed,
    run_labels,
)
from loadtui.run.options import Overrides, add_thresholds, resolve_config
from loadtui.storage.presets import load_preset
from loadtui.storage.runfile import run_controls


@pytest.fixture(autouse=True)
def _no_env_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)


# -- grammar -----------------------------------------------------------------------------------


def test_a_label_filter_names_the_metric_and_the_label() -> None:
    t = parse_threshold("ttft{label:proxied}", "p(99)<10")
    assert (t.name, t.label, t.aggregate, t.op, t.limit) == ("ttft", "proxied", "p99", "<", 10)
    assert t.metric == "ttft{label:proxied}"  # results and tables show it as written
    assert parse_threshold("latency{ label : chat stream }", "avg<5").label == "chat stream"
    assert parse_threshold("error_rate{label:chat}", "rate<0.1").aggregate == "rate"


@pytest.mark.parametrize(
    ("metric", "expr", "says"),
    [
        ("ttft{status:200}", "p(95)<1", "must be {label:NAME}"),
        ("ttft{label:}", "p(95)<1", "must be {label:NAME}"),
        (
            "latency_actual{label:chat}",
            "p(95)<1",
            "applies to latency, ttft, itl, tpot, error_rate",
        ),
        ("checks{label:chat}", "rate>0.9", "applies to latency"),
        ("latency", "p(75)<1", "p(75) is not kept"),
        ("nope{label:x}", "p(95)<1", "unknown threshold metric 'nope'"),
        ("latency", "p95<1", "not k6 syntax"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_problem(metric: str, expr: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_threshold(metric, expr)


def test_the_command_line_form_is_metric_then_expression() -> None:
    assert parse_cli_threshold("ttft p(95)<500") == ("ttft", "p(95)<500")
    assert parse_cli_threshold("  latency{label:chat stream}   p(99) < 800 ") == (
        "latency{label:chat stream}",
        "p(99) < 800",
    )
    # a metric that is one number takes a bare comparison
    assert parse_cli_threshold("capacity>=200") == ("capacity", "value>=200")
    assert parse_cli_threshold("goodput_rate >= 2.5") == ("goodput_rate", "value>=2.5")
    assert parse_cli_threshold("slo_attainment>=0.9") == ("slo_attainment", "rate>=0.9")
    assert parse_cli_threshold("error_rate<0.01") == ("error_rate", "rate<0.01")
    for bad in ("ttft", "", "p(95)<500", "ttft p(95)>>5", "ttft<500", "latency>=1"):
        with pytest.raises(ValueError):
            parse_cli_threshold(bad)


def test_a_preset_entry_takes_the_string_or_the_object_form() -> None:
    config = RunConfig.model_validate(
        {
            "thresholds": {
                "latency": [
                    "p(95)<500",
                    {"threshold": "p(99)<900", "abort_on_fail": True, "delay_abort_eval": "10s"},
                ],
                "ttft": [{"threshold": "p(95)<100", "abortOnFail": True}],  # k6's spelling
            }
        }
    )
    ts = parsed(config.thresholds)
    assert [(t.metric, t.abort_on_fail, t.delay_abort_eval) for t in ts] == [
        ("latency", False, 0.0),
        ("latency", True, 10.0),
        ("ttft", True, 0.0),
    ]
    # a plain entry is written back as the string it was: old run files look the same
    dumped = config.model_dump(mode="json")["thresholds"]
    assert dumped["latency"][0] == "p(95)<500"
    assert dumped["latency"][1] == {
        "threshold": "p(99)<900",
        "abort_on_fail": True,
        "delay_abort_eval": 10.0,
    }
    assert RunConfig.model_validate(config.model_dump(mode="json")) == config


def test_a_preset_takes_quoted_label_keys_and_the_object_form(tmp_path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        "[thresholds]\n"
        '"latency{label:chat}" = ["p(95)<800"]\n'
        'latency = [{threshold = "p(95)<500", abort_on_fail = true, delay_abort_eval = "10s"}]\n'
    )
    ts = parsed(load_preset(str(path)).thresholds)
    assert [(t.name, t.label, t.limit, t.abort_on_fail, t.delay_abort_eval) for t in ts] == [
        ("latency", "chat", 800, False, 0.0),
        ("latency", None, 500, True, 10.0),
    ]


def test_a_preset_with_a_bad_threshold_entry_is_a_config_error(tmp_path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[thresholds]\n"latency{label:chat}" = [{threshold = "p(95)<1", oops = 1}]\n')
    with pytest.raises(
        ConfigError, match=re.escape("p.toml: thresholds.latency{label:chat}.0.oops: unknown key")
    ):
        load_preset(str(path))
    path.write_text('[thresholds]\n"latency{tag:chat}" = ["p(95)<1"]\n')
    with pytest.raises(ConfigError, match=r"the filter must be \{label:NAME\}"):
        load_preset(str(path))


# -- per-label judgement -------------------------------------------------------------------------


def _ms(count: int, p95: float = 0.0, p99: float = 0.0) -> MetricSummary:
    return MetricSummary(count=count, p95=p95, p99=p99, mean=p95, max=p99)


def test_a_label_threshold_reads_that_labels_figures() -> None:
    summary = RunSummary(
        requests=30,
        ok=27,
        errors_total=3,
        metrics=Metrics(latency_ms=_ms(30, 900, 990), ttft_ms=_ms(20, 90, 99)),
        by_label={
            "direct": LabelSummary(15, 0, _ms(15, 100, 110), _ms(10, 40, 45)),
            "proxied": LabelSummary(15, 3, _ms(15, 800, 990), _ms(10, 60, 99)),
        },
    )
    results = evaluate(
        {
            "ttft{label:proxied}": ["p(99)<50"],
            "latency{label:direct}": ["p(95)<200"],
            "error_rate{label:proxied}": ["rate<0.1"],
            "success_rate{label:direct}": ["rate>0.99"],
            "latency{label:chat}": ["p(95)<200"],
        },
        summary,
        labels={"direct": True, "proxied": True},
    )
    assert [(r.actual, r.passed) for r in results[:4]] == [
        (99, False),
        (100, True),
        (pytest.approx(0.2), False),
        (1.0, True),
    ]
    missing = results[4]
    assert missing.actual is None and missing.passed is False and not missing.skipped
    assert missing.reason == "no requests with label chat (this run's labels: direct, proxied)"


def test_a_run_of_one_label_judges_it_on_the_totals() -> None:
    """A run with one kind of request keeps no ``by_label`` (it would repeat the totals)."""
    config = RunConfig.model_validate(
        {
            "requests": [{"kind": "chat", "stream": True}],
            "thresholds": {"ttft{label:chat stream}": ["p(95)<100"], "ttft{label:x}": ["p(95)<1"]},
        }
    )
    assert run_labels(config) == {"chat stream": True}
    summary = RunSummary(requests=5, ok=5, metrics=Metrics(ttft_ms=_ms(5, 50, 60)))
    same, other = judge(config, summary)
    assert (same.actual, same.passed) == (50, True)
    assert other.reason == "no requests with label x (this run's labels: chat stream)"


def test_labels_follow_the_request_mix() -> None:
    assert run_labels(load_preset("mix")) == {
        "chat": False,
        "chat stream": True,
        "chat + system": True,
        "health": False,
    }
    assert run_labels(load_preset("overhead")) == {"direct": True, "proxied": True}


def test_ttft_of_a_label_that_never_streams_is_not_judged() -> None:
    summary = RunSummary(
        requests=4, ok=4, by_label={"chat": LabelSummary(2, 0, _ms(2, 5, 5)), "x": LabelSummary()}
    )
    (r,) = evaluate({"ttft{label:chat}": ["p(95)<5"]}, summary, labels={"chat": False, "x": True})
    assert (
        r.skipped and r.passed and r.reason == "not judged: requests labelled chat are not streamed"
    )


# -- why a threshold had nothing to judge -------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "expr", "summary", "reason"),
    [
        ("latency", "p(95)<1", RunSummary(), "no requests completed"),
        ("error_rate", "rate<0.1", RunSummary(), "no requests completed"),
        ("ttft", "p(95)<1", RunSummary(), "no requests completed"),
        (
            "ttft",
            "p(95)<1",
            RunSummary(requests=4, errors_total=4),
            "no TTFT samples: all 4 requests failed",
        ),
        (
            "ttft",
            "p(95)<1",
            RunSummary(requests=4, ok=4),
            "no TTFT samples: no request streamed a first token",
        ),
        (
            "itl",
            "p(95)<1",
            RunSummary(requests=4, ok=4),
            "no ITL samples: no streamed answer had two or more tokens",
        ),
        (
            "checks",
            "rate>0.9",
            RunSummary(requests=3, ok=3),
            "no checks ran: no request here has checks",
        ),
        ("checks", "rate>0.9", RunSummary(), "no checks ran: no request completed"),
        (
            "overhead_latency",
            "p(99)<10",
            RunSummary(requests=3),
            "no proxy overhead: this is not an overhead run",
        ),
        (
            "overhead_latency",
            "p(99)<10",
            RunSummary(overhead=OverheadSummary()),
            "no direct/proxied pairs completed",
        ),
        ("batch_job", "p(95)<1", RunSummary(), "no Batch job finished"),
        (
            "ttft{label:chat}",
            "p(95)<1",
            RunSummary(requests=2, errors_total=2, by_label={"chat": LabelSummary(2, 2, _ms(2))}),
            "no TTFT samples with label chat: all 2 requests failed",
        ),
    ],
)
def test_every_threshold_without_samples_fails_and_says_why(
    metric: str, expr: str, summary: RunSummary, reason: str
) -> None:
    (r,) = evaluate({metric: [expr]}, summary, streamed=True, labels={"chat": True})
    assert (r.actual, r.passed, r.skipped, r.reason) == (None, False, False, reason)


def test_a_streaming_threshold_of_a_run_without_streams_is_not_judged() -> None:
    (r,) = evaluate({"tpot": ["avg<5"]}, RunSummary(requests=3, ok=3), streamed=False)
    assert r.skipped and r.passed and "this run sends no streams" in (r.reason or "")


def test_the_threshold_that_aborted_the_run_stays_failed() -> None:
    """The final figures may pass it (the drain added fast answers): it stopped the run."""
    summary = RunSummary(requests=10, ok=10, metrics=Metrics(ttft_ms=_ms(10, 80, 90)))
    results = evaluate({"ttft": ["p(95)<100", "p(95)<100"]}, summary)
    assert all(r.passed for r in results)
    first, second = mark_aborted(results, Abort("ttft", "p(95)<100", 150.0, 3.0))
    assert (first.passed, first.aborted, first.actual) == (False, True, 80)
    assert first.reason == "abort_on_fail: failed at 3s (150), which stopped the run"
    assert second.passed and not second.aborted  # only the one that stopped it
    assert mark_aborted(results, None) == results


# -- --threshold and --abort-on-fail -------------------------------------------------------------


def test_command_line_thresholds_are_added_to_the_presets() -> None:
    config = resolve_config(
        Overrides(preset="smoke", threshold=["ttft p(95)<500", "latency p(95)<5000"])
    )
    assert {m: [s.threshold for s in specs] for m, specs in config.thresholds.items()} == {
        "error_rate": ["rate<0.01"],
        "latency": ["p(95)<5000"],  # already the preset's: not repeated
        "ttft": ["p(95)<500"],
    }


def test_abort_on_fail_applies_to_the_command_line_thresholds() -> None:
    config = resolve_config(
        Overrides(
            preset="smoke",
            threshold=["ttft{label:chat stream} p(99)<10"],
            abort_on_fail=True,
            abort_delay=2.0,
        )
    )
    (spec,) = config.thresholds["ttft{label:chat stream}"]
    assert (spec.threshold, spec.abort_on_fail, spec.delay_abort_eval) == ("p(99)<10", True, 2.0)
    assert not any(s.abort_on_fail for s in config.thresholds["latency"])  # the preset's stay


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (Overrides(threshold=["ttft p95<5"]), "--threshold 'ttft p95<5': threshold ttft"),
        (Overrides(threshold=["ttft"]), "expected METRIC EXPRESSION"),
        (Overrides(abort_on_fail=True), "--abort-on-fail applies to --threshold"),
        (Overrides(threshold=["ttft p(95)<5"], abort_delay=2.0), "--abort-delay goes with"),
        (
            Overrides(threshold=["ttft p(95)<5"], abort_on_fail=True, abort_delay=5.0),
            "--abort-delay 5s comes at or after the end of the run (5s)",
        ),
    ],
)
def test_bad_threshold_options_are_one_line_errors(overrides: Overrides, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        resolve_config(overrides)


def test_a_replay_adds_thresholds_to_the_recorded_config() -> None:
    recorded = load_preset("smoke")
    config = add_thresholds(recorded, Overrides(threshold=["latency p(99)<1"]))
    assert [s.threshold for s in config.thresholds["latency"]] == ["p(95)<5000", "p(99)<1"]
    assert add_thresholds(recorded, Overrides()) is recorded


def test_a_replay_does_not_repeat_a_thresholds_stop() -> None:
    """A run stopped by abort_on_fail is replayed whole: the replay judges its own thresholds."""
    recorded = [
        {"action": "users", "value": 3, "at": 1.0, "source": "live"},
        {"action": "stop", "value": None, "at": 4.2, "source": "threshold"},
    ]
    run = {"status": "stopped", "load_ended_s": 4.2, "controls": recorded}
    assert [(c.action, c.at) for c in run_controls(run)] == [("users", 1.0)]


def test_a_capacity_threshold_needs_a_capacity_search() -> None:
    chat = [{"kind": "chat"}]
    with pytest.raises(ValueError, match="judges a capacity search"):
        RunConfig.model_validate({"requests": chat, "thresholds": {"capacity": ["value>=5"]}})
    searched = RunConfig.model_validate(
        {"requests": chat, "thresholds": {"capacity": ["value>=5"]}, "search": {"mode": "rate"}}
    )
    assert searched.search is not None
