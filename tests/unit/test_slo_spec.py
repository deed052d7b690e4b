"""The SLO spec: ``--slo`` text, ``[slo]`` entries, and the compiled judge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from loadtui.model.plan import RunConfig
from loadtui.model.slo import Slo, SloJudge, parse_slo, parse_slo_value, slos_of


@pytest.mark.parametrize(
    ("text", "slo"),
    [
        ("ttft<500ms", Slo("ttft", 500.0)),
        ("itl<=50ms", Slo("itl", 50.0, inclusive=True)),
        (" tpot < 30.5ms ", Slo("tpot", 30.5)),
        ("latency<10s", Slo("latency", 10_000.0)),
        ("latency<=.5s", Slo("latency", 500.0, inclusive=True)),
    ],
)
def test_parse(text: str, slo: Slo):
    assert parse_slo(text) == slo


@pytest.mark.parametrize(
    "text",
    [
        "ttft",
        "ttft<",
        "ttft<500",
        "ttft>500ms",
        "ttft=500ms",
        "foo<1s",
        "ttft<0ms",
        "ttft<-1ms",
        "ttft<2d",
        "ttft<500msx",
        "ttft<1e3ms",
        "latency<90000s",
        "ttft<nanms",
    ],
)
def test_bad_ones_say_what_is_expected(text: str):
    with pytest.raises(ValueError, match="SLO"):
        parse_slo(text)


def test_a_preset_bound_alone_means_below():
    assert parse_slo_value("ttft", "500ms") == Slo("ttft", 500.0)
    assert parse_slo_value("ttft", "<=2s").bound == "<=2s"


def test_the_config_keeps_one_canonical_table_in_a_fixed_order():
    cfg = RunConfig(slo={"latency": "10s", "ttft": "<=0.5s"})
    assert cfg.slo == {"ttft": "<=500ms", "latency": "<10s"}
    assert RunConfig.model_validate(cfg.model_dump()) == cfg
    assert [s.text for s in slos_of(cfg.slo)] == ["ttft<=500ms", "latency<10s"]
    with pytest.raises(ValidationError, match="unknown SLO 'ttfb'"):
        RunConfig(slo={"ttfb": "1s"})


def test_the_judge_names_each_missed_slo_and_skips_values_it_lacks():
    judge = SloJudge(slos_of({"ttft": "<100ms", "itl": "<=20ms", "tpot": "<5ms", "latency": "<1s"}))
    assert judge.missed(99.9, 20.0, 4.9, 999.0) == ()
    assert judge.missed(100.0, 20.1, 5.0, 1000.0) == (0, 1, 2, 3)
    assert judge.missed(50.0, None, None, 2000.0) == (3,)  # no gap, no TPOT: nothing to judge
    assert judge.counters == ("slo_miss:ttft", "slo_miss:itl", "slo_miss:tpot", "slo_miss:latency")
