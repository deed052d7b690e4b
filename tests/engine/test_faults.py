"""Faults from the target are classified, counted, and the run goes on (mock fault injection).

Workers run in threads (``InProcessPool``): what is tested is the classification, not the
process boundary."""

from __future__ import annotations

import pytest

from helpers import drive
from loadtui.engine.inprocess import InProcessPool
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec, RunConfig

pytestmark = pytest.mark.integration  # every test here starts processes


@pytest.mark.parametrize(
    ("fault", "stream", "error_class"),
    [
        ("http_400", True, "http_4xx"),
        ("http_429", True, "http_429"),
        ("http_500", False, "http_5xx"),
        ("reset", True, "reset"),
        ("reset", False, "reset"),
        ("malformed", True, "malformed"),
        ("malformed", False, "malformed"),
        ("stream_error", True, "stream_error"),
        ("stall", True, "timeout"),
    ],
)
def test_each_fault_lands_in_its_class(fault: str, stream: bool, error_class: str):
    settings = MockSpec(latency=0, ttft=0.005, itl=0.002, tokens=6, faults={fault: 1.0})
    cfg = RunConfig(
        target={"timeout": "0.5s"},
        load={"mode": "closed", "users": 2, "duration": "1.2s", "graceful_stop": "1s"},
        requests=[{"kind": "chat", "stream": stream}],
        workers=1,
    )
    with MockProcess(settings) as mock:
        coord = drive(cfg, mock.url, pool=InProcessPool())
        served = mock.stats()["served"]
    s = coord.result().summary
    assert s.requests >= 2
    assert s.errors == {error_class: s.requests}
    assert s.ok == 0
    assert s.requests + s.cancelled == served
    assert coord.elapsed >= 1.2  # the run went on to its end


def test_partial_fault_rate_is_counted_beside_successes():
    settings = MockSpec(latency=0, ttft=0.002, itl=0.001, tokens=4, faults={"http_500": 0.3})
    cfg = RunConfig(
        load={"mode": "closed", "users": 4, "duration": "1.5s"},
        requests=[{"kind": "chat", "stream": True}],
        workers=1,
    )
    with MockProcess(settings) as mock:
        s = drive(cfg, mock.url, pool=InProcessPool()).result().summary
        assert s.requests == mock.stats()["served"]
    n = s.requests
    assert n > 20
    # 30 % faults: within 4 standard deviations of a binomial share (fewer requests on a
    # loaded machine widen the band rather than fail the test)
    assert abs(s.errors["http_5xx"] / n - 0.3) < 4 * (0.3 * 0.7 / n) ** 0.5
    assert s.ok + s.errors_total == s.requests
    assert s.status_codes[500] == s.errors["http_5xx"]
