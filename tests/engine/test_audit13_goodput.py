"""Goodput is the count of requests whose own values met every SLO — with SLOs that split the
successes (issue 13's "Done when", checked against ``--record-requests`` lines).

Three request kinds against one mock, each meeting a different set of SLOs (ttft<40ms,
latency<70ms): a 2-token stream meets both (TTFT 10 ms, ~20 ms in all); a 12-token stream
misses latency (~120 ms); a non-streamed answer misses ttft (read whole, its TTFT is its 50 ms
latency). 20 % of requests fail and meet none. Every line is re-judged by hand; the worker's
counters and the run summary's goodput must match it exactly."""

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

TTFT_MS, LATENCY_MS = 40.0, 70.0


def _meets(row: dict[str, Any]) -> tuple[bool, bool]:
    """(ttft met, latency met) from a line's own values; a failed request meets neither."""
    if row["error"] is not None:
        return False, False
    first = row["ttft_ms"] if row["ttft_ms"] is not None else row["latency_actual_ms"]
    return first < TTFT_MS, row["latency_ms"] < LATENCY_MS


def test_goodput_counts_the_requests_meeting_every_slo_and_the_summary_says_so(tmp_path: Path):
    out = tmp_path / "requests.jsonl"
    settings = MockSpec(latency=0.05, ttft=0.01, itl=0.01, tokens=12, faults={"http_500": 0.2})
    cfg = RunConfig(
        load={"mode": "closed", "users": 3, "duration": "1s"},
        requests=[
            {"kind": "chat", "name": "short", "stream": True, "max_tokens": 2},
            {"kind": "chat", "name": "long", "stream": True, "max_tokens": 12},
            {"kind": "chat", "name": "whole", "stream": False, "max_tokens": 2},
        ],
        workers=1,
        slo={"ttft": f"<{TTFT_MS:g}ms", "latency": f"<{LATENCY_MS:g}ms"},
    )
    with MockProcess(settings) as mock:
        coord = drive(cfg, mock.url, pool=InProcessPool(), record_requests=str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    judged = [_meets(r) for r in rows]
    met = [r for r, (t, lat) in zip(rows, judged, strict=True) if t and lat]
    ok = [(t, lat) for r, (t, lat) in zip(rows, judged, strict=True) if r["error"] is None]
    miss_ttft, miss_latency = sum(not t for t, _ in ok), sum(not lat for _, lat in ok)
    # the SLOs really split the successes: some meet both, some miss each one
    assert met and miss_ttft and miss_latency and len(met) < len(ok) < len(rows)

    summary = coord.result().summary
    slo = summary.slo
    assert slo is not None and slo.judged == len(rows) == summary.requests
    assert slo.ok == len(met)
    assert slo.ok_tokens == sum(r["output_tokens"] for r in met)
    assert slo.misses == {"ttft": miss_ttft, "latency": miss_latency}
    # over the run's duration, as rps (the summary keeps that duration to the millisecond)
    assert slo.goodput_rps == pytest.approx(len(met) / summary.duration_s, rel=1e-3)
    assert slo.attainment == round(len(met) / len(rows), 6)
