"""``error_samples`` in the run file: written only when there are some, read back equal, and
read leniently from a file from elsewhere (what is not of its type is left out)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from loadtui.metrics.samples import SAMPLES_PER_CLASS, SampleBook, merge_samples
from loadtui.model.record import ErrorSample
from loadtui.storage.record import record_from_json, record_to_json

DATA = Path(__file__).parents[1] / "data"
SAMPLE = ErrorSample(
    error_class="http_5xx",
    at_s=1.5,
    status=503,
    label="chat",
    reason="HTTP 503",
    headers={"Retry-After": "2"},
    body='{"error": "[bold]busy[/]"}',
    body_truncated=True,
)


def _raw() -> dict:
    return json.loads((DATA / "run-a.json").read_text())


def test_round_trip_and_old_files():
    old = record_from_json(_raw())
    assert old.error_samples == ()  # a file from before samples: none
    assert "error_samples" not in record_to_json(old)
    run = replace(old, error_samples=(SAMPLE,))
    raw = json.loads(json.dumps(record_to_json(run)))
    assert raw["error_samples"][0]["status"] == 503
    assert record_from_json(raw).error_samples == (SAMPLE,)


def test_foreign_values_are_left_out_not_fatal():
    raw = _raw()
    raw["error_samples"] = [
        "not an object",
        {"error_class": 7, "at_s": "soon", "status": "500", "headers": {"a": 1, "b": "x"}},
        {"error_class": "reset", "at_s": 2, "body_truncated": "yes", "body": ["no"]},
    ]
    samples = record_from_json(raw).error_samples
    assert samples == (
        ErrorSample(error_class="other", at_s=0.0, headers={"b": "x"}),
        ErrorSample(error_class="reset", at_s=2),
    )


def test_a_worker_keeps_a_few_per_class_and_the_run_the_earliest():
    book = SampleBook()
    book.t0 = 100.0
    book.secrets = ("sk-secret",)
    for i in range(5):
        if book.wants("http_5xx"):
            book.add("http_5xx", 100.0 + i, 500, "", None, [("X-Key", "sk-secret")], b"sk-secret")
    kept = book.drain()
    assert len(kept) == SAMPLES_PER_CLASS and book.drain() == []
    assert all(s.body == "***" and s.headers == {"X-Key": "***"} for s in kept)
    late = [replace(s, at_s=s.at_s + 10) for s in kept]
    merged = merge_samples({"http_5xx": late}, [*kept, replace(SAMPLE, error_class="reset")])
    assert [s.at_s for s in merged["http_5xx"]] == [0.0, 1.0, 2.0]
    assert len(merged["reset"]) == 1
