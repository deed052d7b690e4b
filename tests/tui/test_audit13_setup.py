"""The setup screen's plan says what a capacity search judges each request against: its SLOs
(issue 13 audit: picking ``capacity`` showed the search but not its ``ttft<250ms``)."""

from __future__ import annotations

from loadtui.run.options import Overrides, resolve_config
from loadtui.tui.screens.plan import describe_requests


def test_the_plan_names_the_slos_and_a_run_without_says_nothing_of_them():
    capacity = resolve_config(Overrides(preset="capacity"))
    assert describe_requests(capacity) == "chat stream max_tokens 20 · SLOs ttft<250ms"
    both = resolve_config(Overrides(preset="smoke", slo=["latency<10s", "ttft<=2s"]))
    assert " · SLOs ttft<=2s latency<10s · thresholds: error_rate rate<0.01" in (
        describe_requests(both)
    )
    assert "SLOs" not in describe_requests(resolve_config(Overrides(preset="smoke")))
