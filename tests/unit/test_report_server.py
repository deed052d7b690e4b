"""The HTML report draws a run's server metrics: running and waiting over time, server vs
client TTFT, KV cache and each named series — names a server or user wrote escaped — and a run
without them has no such section."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from loadtui.model.servermetrics import ServerPoint, ServerSeries
from loadtui.outputs.report import render_report
from loadtui.storage.runfile import load_record

DATA = Path(__file__).parent.parent / "data"


def test_the_report_draws_the_server_series() -> None:
    run = load_record(DATA / "run-a.json")
    odd = 'x{a="<b>"}'
    series = ServerSeries(
        url="http://gpu:8000/metrics",
        points=tuple(
            ServerPoint(
                t, {"running": 2, "waiting": t, "kv_cache": 0.5, "ttft_p50_ms": 40.0, odd: 1}
            )
            for t in range(4)
        ),
        scrapes=5,
        failures={"timeout": 1},
        sources={"running": "vllm:num_requests_running"},
    )
    page = render_report([replace(run, server=series)])
    section = page.split('<section id="server">', 1)[1].split("</section>", 1)[0]
    assert "Requests running and waiting in the server" in section
    assert "TTFT p50: the server&#x27;s against the client&#x27;s" in section
    assert "KV-cache usage" in section
    assert section.count("<svg") == 4  # running/waiting, TTFT, KV cache, the named series
    assert "timeout 1" in section and "vllm:num_requests_running" in section
    assert "&lt;b&gt;" in section and "<b>" not in section
    assert '<section id="server">' not in render_report([run])
