"""Trace replay as a user types it: the bundled ``trace`` preset from a fresh clone, and a bad
line refused before any load with one line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli


@pytest.mark.integration
def test_the_trace_preset_replays_a_trace(private_dirs: Path) -> None:
    """The ``trace`` preset with a small trace of one's own (``--trace``), twice as fast, against
    the embedded mock: every line sent and answered, the run ended by the trace (not the
    preset's 5 m cap), the input length labelled as words, intended vs achieved arrivals in the
    run file's series. (The bundled trace itself: tests/unit/test_trace_file.py.)"""
    trace = private_dirs / "small.jsonl"
    rows = [
        {"timestamp": 40 * k, "input_length": 600, "output_length": 4, "hash_ids": [1, 100 + k]}
        for k in range(30)
    ]
    trace.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = private_dirs / "trace.json"
    proc = run_cli(
        "--headless", "--preset", "trace", "--trace", str(trace), "--trace-speedup", "2",
        "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout + proc.stderr
    assert "30 arrivals over 0.6 s" in said and "input length: words as tokens" in said
    assert "(never sent), late " in proc.stdout  # counted in the summary, even when none is
    run = json.loads(out.read_text())
    assert run["config"]["trace"] == {"file": str(trace), "speedup": 2.0, "block_words": 512}
    summary = run["summary"]
    assert summary["requests"] + summary["dropped"] == 30
    assert sum(p["target_rate"] or 0 for p in run["series"]) == 30  # intended, per second
    assert sum(p["arrivals"] for p in run["series"]) == 30 - summary["dropped"]  # achieved
    assert summary["duration_s"] < 60


def test_a_bad_line_is_one_error_naming_it(private_dirs: Path) -> None:
    trace = private_dirs / "bad.jsonl"
    trace.write_text(
        '{"timestamp": 0, "prompt": "hi"}\n'
        '{"timestamp": 5, "input_length": 10, "output_length": 2, "hash_ids": [1]}\n'
        '{"timestamp": 9, "input_length": -3, "output_length": 2, "hash_ids": [1]}\n'
    )
    proc = run_cli("--headless", "--trace", str(trace))
    assert proc.returncode == 2
    assert "bad.jsonl:3: input_length" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not list(private_dirs.glob("data/runs/*.json"))  # nothing ran, nothing saved
