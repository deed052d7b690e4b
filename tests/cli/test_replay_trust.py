"""Replaying a run file from elsewhere never sends the local API key to a host the file chose.

Also: a replay reads the admin password only from the default variable, ``replay ID`` takes
ids (never paths), the copied headless command is shell-quoted, and replayed control changes
say ``replay``.
"""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli
from loadtui.mock import MockProcess
from loadtui.model.plan import RunConfig
from loadtui.storage.record import record_from_json
from loadtui.storage.runfile import load_run_checked, run_config, run_controls, save_run
from loadtui.storage.trust import key_destinations

KEY = "fake-local-secret-0123456789"


def _run(url: str | None, **config: Any) -> dict[str, Any]:
    """A small valid run (1 s, 1 user) aimed at ``url``, as another machine could write it."""
    cfg = RunConfig.model_validate(
        {"target": {"url": url}, "load": {"users": 1, "duration": "1s"}, **config}
    ).model_dump(mode="json")
    return {
        "schema_version": 1,
        "id": "20260101-000000-custom-abcd",
        "status": "completed",
        "started_at": "2026-01-01T00:00:00+00:00",
        "config": cfg,
        "controls": [{"action": "users", "value": 1, "at": 0.5, "source": "live"}],
        "summary": {"requests": 1},
    }


def _foreign(tmp: Path, run: dict[str, Any]) -> Path:
    path = tmp / "downloaded.json"
    path.write_text(json.dumps(run))  # not through save_run: this machine did not write it
    return path


@pytest.mark.integration
def test_a_foreign_file_naming_a_host_is_refused_and_nothing_connects(private_dirs: Path):
    with socket.socket() as attacker:
        attacker.bind(("127.0.0.1", 0))
        attacker.listen()
        attacker.setblocking(False)
        url = f"http://127.0.0.1:{attacker.getsockname()[1]}"
        path = _foreign(private_dirs, _run(url))
        proc = run_cli("replay", str(path), "--headless", env={"OPENAI_API_KEY": KEY})
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert "--trust-target" in proc.stderr and url in proc.stderr
        with pytest.raises(BlockingIOError):
            attacker.accept()  # no one knocked: the key went nowhere


@pytest.mark.slow
@pytest.mark.integration
def test_url_or_trust_target_lets_a_foreign_file_replay(private_dirs: Path, mock: MockProcess):
    path = _foreign(private_dirs, _run("http://127.0.0.1:9"))  # a host the user never chose
    proc = run_cli("replay", str(path), "--headless", "--url", mock.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = _foreign(private_dirs, _run(mock.url))
    proc = run_cli("replay", str(path), "--headless", "--trust-target")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_file_this_machine_wrote_is_trusted_until_a_byte_changes(private_dirs: Path):
    path = save_run(_run("http://127.0.0.1:9"))
    assert load_run_checked(path)[1] is True
    path.write_bytes(path.read_bytes().replace(b"127.0.0.1:9", b"127.0.0.2:9"))
    assert load_run_checked(path)[1] is False


def test_a_run_file_never_chooses_the_admin_password_variable():
    run = _run(None, batch={"admin_url": "http://127.0.0.1:9/keys"})
    run["config"]["batch"]["admin_password_env"] = "HOME"  # any variable the file fancies
    assert run_config(run).batch.admin_password_env == "LOADTUI_ADMIN_PASSWORD"


@pytest.mark.parametrize(
    "batch",
    [
        {"admin_password_env": "OPENAI_API_KEY"},
        {"admin_password_env": "ANTHROPIC_API_KEY"},
        {"admin_url": "{base}@127.0.0.1:9/x"},
        {"admin_url": "http://user@127.0.0.1:9/x"},
    ],
)
def test_no_config_sends_an_api_key_as_the_admin_password_or_hides_a_host(batch: dict):
    with pytest.raises(ValueError):
        RunConfig.model_validate({"batch": batch})


@pytest.mark.parametrize(
    ("admin_url", "sent_elsewhere"),
    [("{base}/admin/keys", False), ("http://127.0.0.1:9", True)],
)
def test_an_admin_url_outside_the_target_is_a_key_destination(admin_url: str, sent_elsewhere: bool):
    config = RunConfig.model_validate({"batch": {"admin_url": admin_url}})
    assert (admin_url in key_destinations(config)) is sent_elsewhere


@pytest.mark.integration
@pytest.mark.parametrize("arg", ["..", "a..b", "~x", "x y"])
def test_replay_takes_ids_that_look_like_ids(private_dirs: Path, arg: str):
    proc = run_cli("replay", arg, "--headless")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_the_copied_headless_command_is_shell_quoted():
    from loadtui.tui.screens.history import headless_command

    run = {"id": "x; rm -rf ~", "target": {"url": "http://h/$(id)", "embedded_mock": False}}
    record = record_from_json({**_run(None), **run})
    # quoted; and never the file's own target as --url, which would pass the trust check
    assert shlex.split(headless_command(record)) == [
        "loadtui",
        "replay",
        "x; rm -rf ~",
        "--headless",
    ]


def test_replayed_control_changes_say_replay():
    run = _run(None)
    run["controls"].append({"action": "pause", "at": 0.7, "source": "control-file"})
    assert [c.source for c in run_controls(run)] == ["replay", "replay"]
