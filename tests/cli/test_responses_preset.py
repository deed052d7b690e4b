"""The README's one command for the OpenAI Responses API, as a new user runs it from a fresh
clone: ``loadtui --headless --preset responses`` against the embedded mock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli


@pytest.mark.integration
def test_the_responses_preset_runs_as_one_command(private_dirs: Path):
    out = private_dirs / "responses.json"
    proc = run_cli("--headless", "--preset", "responses", "--duration", "1s", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = json.loads(out.read_text())
    s = record["summary"]
    assert s["requests"] >= 5 and s["errors_total"] == 0
    # the preset's mock: TTFT 150 ms, 32 tokens an answer, counted from response.usage
    assert s["metrics"]["ttft_ms"]["p50"] >= 149.0
    assert s["output_tokens"] == 32 * s["ok"] and s["token_source"]["counted_chunks"] == 0
    assert record["config"]["requests"][0]["kind"] == "responses"
