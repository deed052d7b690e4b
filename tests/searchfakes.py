"""A coordinator built by hand for the capacity search's unit tests (run/search.py): what the
search reads of one — the timeline, the clock, the latest snapshots — and a passed step."""

from __future__ import annotations

from types import SimpleNamespace

from loadtui.model.controls import ControlChange
from loadtui.model.search import StepView
from loadtui.run.options import Overrides, resolve_config


class FakeCoordinator:
    """What CapacitySearch reads of a coordinator: the timeline (each change recorded at the
    clock's ``elapsed``, as the coordinator records it), the latest snapshots (their ``t`` and
    ``in_flight``)."""

    def __init__(self) -> None:
        self.config = resolve_config(Overrides(search="rate"))
        self.n, self.elapsed = 1, 0.0
        self.latest: dict[int, SimpleNamespace] = {}
        self.controls: list[ControlChange] = []
        self.listeners: list[object] = []

    def apply(self, change: ControlChange) -> ControlChange:
        recorded = ControlChange(change.action, change.value, self.elapsed, change.source)
        self.controls.append(recorded)
        return recorded


def passed_step(index: int, load: float) -> StepView:
    """A step judged ``pass`` at ``load``."""
    return StepView(
        index=index, load=load, phase="probe", started_s=0.0, duration_s=5.0, requests=100,
        attainment=1.0, attainment_ci=(0.96, 1.0), goodput_rate=load, error_rate=0.0,
        ttft_p50_ms=None, ttft_p95_ms=None, itl_p50_ms=None, itl_p95_ms=None,
        latency_p50_ms=None, latency_p95_ms=None, verdict="pass", held=False,
    )  # fmt: skip
