"""The mock's capacity settings (docs/mock.md): what MockSpec refuses, and how a run on a mock
with capacity is described (show, compare, the report) — two such runs differ by it alone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.record import TargetInfo
from loadtui.run.describe import describe_mock


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slots": 0}, "slots"),
        ({"prefill_tps": 0}, "prefill_tps"),
        ({"decode_tps": -5}, "decode_tps"),
        ({"shared_decode_tps": -1}, "shared_decode_tps"),
        ({"max_queue": -1, "slots": 2}, "max_queue"),
        ({"slots": 2, "queue_full_status": 418}, "queue_full_status"),
        ({"max_queue": 3}, "max_queue needs slots"),
    ],
)
def test_bad_capacity_values_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        MockSpec(**fields)


def test_a_run_on_a_mock_with_capacity_names_it():
    spec = MockSpec(slots=16, prefill_tps=2000, decode_tps=50, max_queue=32, queue_full_status=503)
    target = TargetInfo(url="http://127.0.0.1:1", embedded_mock=True, mock=spec)
    text = describe_mock(target, RunConfig())
    assert text.endswith(
        "16 tokens, 16 slots, prefill 2000 tok/s, decode 50 tok/s, max queue 32 (503)"
    )
    plain = TargetInfo(url="http://127.0.0.1:1", embedded_mock=True, mock=MockSpec())
    assert describe_mock(plain, RunConfig()).endswith("16 tokens")  # no capacity: as before


def test_a_refusal_status_needs_a_queue_limit():
    with pytest.raises(ValueError, match="queue_full_status needs max_queue"):
        MockSpec(slots=2, queue_full_status=503)
    assert MockSpec(slots=2, max_queue=1, queue_full_status=503).queue_full_status == 503
