"""Per-request SLOs judged in the worker, against our mock over loopback.

The shared mock answers with a TTFT of 50 ms, 10 ms between chunks, 8 tokens: an SLO below
those is missed by every request, one well above is met by every one. The fault test re-judges
every ``--record-requests`` line by hand and holds the worker's counters to it exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import drive
from loadtui.engine.inprocess import InProcessPool
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec, RunConfig

pytestmark = pytest.mark.integration


def _config(slo: dict[str, str], stream: bool = True, **load: Any) -> RunConfig:
    return RunConfig(
        load={"mode": "closed", "users": 2, "duration": "1s", **load},
        requests=[{"kind": "chat", "stream": stream}],
        workers=1,
        slo=slo,
    )


def _counters(mock: MockProcess, cfg: RunConfig, **data: Any) -> dict[str, int]:
    coord = drive(cfg, mock.url, pool=InProcessPool(), **data)
    return dict(coord.totals.counters)


def test_an_slo_below_the_mock_s_ttft_is_missed_by_every_request(mock: MockProcess):
    c = _counters(mock, _config({"ttft": "<40ms"}))
    assert c["requests"] > 0
    assert c["slo_judged"] == c["requests"]
    assert c["slo_ok"] == 0 and c["slo_ok_tokens"] == 0
    assert c["slo_miss:ttft"] == c["requests"]


def test_slos_above_the_mock_s_figures_are_met_by_every_request(mock: MockProcess):
    # ITL's worst gap: 10 ms per chunk, a loaded machine delivers late; 2 s is far above
    slos = {"ttft": "<500ms", "itl": "<2s", "tpot": "<=2s", "latency": "<10s"}
    c = _counters(mock, _config(slos))
    assert c["requests"] > 0
    assert c["slo_ok"] == c["slo_judged"] == c["requests"] == c["ok"]
    assert c["slo_ok_tokens"] == c["output_tokens"] == 8 * c["requests"]
    assert all(c[f"slo_miss:{name}"] == 0 for name in slos)


def test_the_worst_gap_judges_itl(mock: MockProcess):
    # every gap is at least 10 ms (the timer may fire 1 ms early): all miss itl<8ms
    c = _counters(mock, _config({"itl": "<8ms"}))
    assert c["requests"] > 0
    assert c["slo_miss:itl"] == c["slo_judged"] == c["requests"]


def test_a_non_streamed_answer_is_judged_by_its_latency_for_ttft(mock: MockProcess):
    # read whole: no first chunk; its TTFT SLO reads its latency (≥ the mock's 20 ms)
    c = _counters(mock, _config({"ttft": "<15ms", "itl": "<1ms"}, stream=False))
    assert c["requests"] > 0
    assert c["slo_miss:ttft"] == c["requests"]
    assert c["slo_miss:itl"] == 0  # no gaps to judge


def test_no_slo_no_counters(mock: MockProcess):
    c = _counters(mock, _config({}))
    assert c["requests"] > 0
    assert not [k for k in c if k.startswith("slo")]


def _meets(row: dict[str, Any], ttft: float, latency: float) -> bool:
    """The SLOs re-judged from a line: ok, TTFT (or latency read whole) and latency below."""
    if row["error"] is not None:
        return False
    first = row["ttft_ms"] if row["ttft_ms"] is not None else row["latency_actual_ms"]
    return first < ttft and row["latency_ms"] < latency


def test_goodput_is_the_requests_whose_own_values_meet_every_slo(tmp_path: Path):
    """30 % faults, and an SLO that splits the successes: the worker's counters equal what the
    per-request lines say, request by request."""
    out = tmp_path / "requests.jsonl"
    settings = MockSpec(latency=0.0, ttft=0.01, itl=0.002, tokens=6, faults={"http_500": 0.3})
    cfg = _config({"ttft": "<40ms", "latency": "<60ms"}, users=4)
    with MockProcess(settings) as mock:
        c = _counters(mock, cfg, record_requests=str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == c["requests"] == c["slo_judged"] > 20
    met = [r for r in rows if _meets(r, 40.0, 60.0)]
    assert [r["slo_ok"] for r in rows] == [_meets(r, 40.0, 60.0) for r in rows]
    assert c["slo_ok"] == len(met)
    assert c["slo_ok_tokens"] == sum(r["output_tokens"] for r in met)
    ok = [r for r in rows if r["error"] is None]
    assert c["slo_miss:ttft"] == sum(r["ttft_ms"] >= 40.0 for r in ok)
    assert c["slo_miss:latency"] == sum(r["latency_ms"] >= 60.0 for r in ok)
    # 30 % of requests fail, the others meet the SLOs on an idle machine: attainment ≈ 0.7
    # (4 standard deviations of a binomial share; a busy machine only lowers it)
    assert c["slo_ok"] / c["slo_judged"] < 0.7 + 4 * (0.21 / len(rows)) ** 0.5
