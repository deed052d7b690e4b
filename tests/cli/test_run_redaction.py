"""Redaction keeps keys out of run files without corrupting them (names, prompts, JSON intact)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli
from loadtui.model.plan import RunConfig
from loadtui.storage.runfile import load_run, run_config, save_run


def _run(key: str) -> dict[str, Any]:
    """A run whose URL, error and warning carry ``key``, beside names and a prompt that
    merely contain the same letters."""
    config = RunConfig.model_validate(
        {
            "preset": "smoke",
            "target": {"url": f"http://127.0.0.1:9/ak/{key}/v1", "model": "mock-model"},
            "requests": [{"kind": "chat", "prompt": "load testing is 1 null smoke test"}],
        }
    ).model_dump(mode="json")
    return {
        "id": "20260101-000000-smoke-abcd",
        "status": "completed",
        "started_at": "2026-01-01T00:00:00+00:00",
        "preset": "smoke",
        "error": f"HTTP 401: invalid key {key}",
        "config": config,
        "target": {"url": config["target"]["url"], "embedded_mock": False, "model": "mock-model"},
        "controls": [],
        "summary": {"requests": 1, "errors_total": 0, "metrics": {"latency_ms": {"p95": 1.0}}},
        "generator": {"warnings": [f"the server echoed {key}"]},
    }


@pytest.mark.parametrize("key", ["null", "smoke", "test", "mock-model", "1"])
def test_a_key_that_is_also_a_word_or_a_name_leaves_the_file_intact(tmp_path: Path, key: str):
    path = save_run(_run(key), tmp_path / "run.json", secret=key)
    run = load_run(path)  # valid JSON, a valid run file
    config = run_config(run, path)
    assert run["id"] == "20260101-000000-smoke-abcd" and run["preset"] == config.preset == "smoke"
    assert config.target.model == "mock-model"
    assert config.requests[0].prompt == "load testing is 1 null smoke test"
    if len(key) >= 4:  # where it was a secret, it is gone
        assert run["target"]["url"] == config.target.url == "http://127.0.0.1:9/ak/***/v1"
        assert key not in run["error"] and key not in run["generator"]["warnings"][0]
    else:  # one character is no secret: redacting it would rewrite every number and URL
        assert run["target"]["url"] == "http://127.0.0.1:9/ak/1/v1"


def test_a_real_key_is_in_no_byte_of_the_file_even_pasted_into_a_name(tmp_path: Path):
    key = "fake-proj-abcdefghijklmnop0123"
    run = _run(key)
    run["config"]["requests"][0]["prompt"] = f"my key is {key}"
    run["preset"] = key
    path = save_run(run, tmp_path / "run.json", secret=[key, None])
    data = path.read_bytes()
    assert key.encode() not in data and json.loads(data)["preset"] == "***"


def test_a_key_with_json_escapes_is_still_found(tmp_path: Path):
    key = 'k"e\\y/é-0123'
    path = save_run(_run(key), tmp_path / "run.json", secret=key)
    text = path.read_text()
    assert key not in json.dumps(json.loads(text)) and key not in text
    assert "***" in load_run(path)["target"]["url"]


@pytest.mark.integration
def test_api_key_null_on_the_command_line_saves_a_listed_run(private_dirs: Path):
    proc = run_cli("--headless", "--preset", "smoke", "--duration", "1s", "--api-key", "null")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [path] = (private_dirs / "data" / "runs").glob("*.json")
    run = json.loads(path.read_text())
    assert run["preset"] == "smoke" and "smoke" in run["id"]
    listing = run_cli("runs")
    assert listing.returncode == 0 and str(path) in listing.stdout and not listing.stderr
