"""Multi-turn conversations from the command line, as a new user runs them: the bundled
``multiturn`` preset with ``--turns``, conversations from the bundled file, the per-turn figures
in the run file and the report; and the runs a conversation cannot be, refused (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.errors import ConfigError
from loadtui.outputs.report import render_report
from loadtui.run.options import Overrides, resolve
from loadtui.storage.conversations import load_conversations
from loadtui.storage.record import record_from_json
from loadtui.storage.runfile import load_run


@pytest.mark.integration
def test_the_multiturn_preset_reports_figures_per_turn(private_dirs: Path):
    out = private_dirs / "run.json"
    proc = run_cli(
        "--headless", "--preset", "multiturn", "--turns", "3", "--think-time", "0",
        "--duration", "1.5s", "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "turn 3" in proc.stdout  # the console's by-request table
    raw = json.loads(out.read_text())
    assert raw["config"]["conversation"]["turns"] == [3, 3]
    run = record_from_json(load_run(out))
    assert set(run.summary.by_label) == {"turn 1", "turn 2", "turn 3"}
    for row in run.summary.by_label.values():
        assert row.requests > 0 and row.errors == 0 and row.ttft_ms.count == row.requests
    html = render_report([run])
    assert "turn 1" in html and "turn 3" in html
    assert "as 3-turn conversations (system prompt, 50-word user prefix)" in html


def test_the_bundled_conversations_load():
    config = resolve(Overrides(preset="multiturn")).config
    bundled = config.with_overrides(conversation={"file": "conversations-example"})
    scripts = load_conversations(bundled.conversation)
    assert scripts is not None and len(scripts) == 4
    assert all(s.users and "(replaced" not in " ".join(s.users) for s in scripts)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "multiturn", "rate": 5.0}, "conversations need closed-loop users"),
        ({"preset": "smoke", "turns": "3"}, "this mix has health, models too"),
        ({"preset": "multiturn", "turns": "0"}, "turns must be between 1 and 1000"),
        ({"preset": "multiturn", "turns": "3-x"}, "a range like 2-6"),
    ],
)
def test_runs_a_conversation_cannot_be_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        resolve(Overrides(**options))
