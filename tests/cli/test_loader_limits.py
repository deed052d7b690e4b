"""Limits on what loaders read and accept: special files, sizes, bounds on values, listings
that skip (and name) a broken file, and the exit code of an internal error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.errors import ConfigError, RunFileError
from loadtui.model.controls import parse_control
from loadtui.model.plan import RunConfig
from loadtui.model.requests import PromptSpec
from loadtui.storage import data as data_module
from loadtui.storage.data import load_prompts
from loadtui.storage.presets import load_control_file, load_preset
from loadtui.storage.runfile import LIST_LIMIT, load_run, save_run, scan_runs


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no disk space."""
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


@pytest.fixture()
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.json"
    os.mkfifo(path)
    return path


def test_special_files_are_refused_at_once(tmp_path: Path, fifo: Path):
    for special in (fifo, Path("/dev/zero"), tmp_path):
        with pytest.raises(RunFileError, match=r"not a regular file|a folder"):
            load_run(special)
        with pytest.raises(ConfigError, match=r"not a regular file|a folder"):
            load_control_file(str(special))
        with pytest.raises(ConfigError, match=r"not a regular file|a folder"):
            load_prompts(PromptSpec(file=str(special)))
    with pytest.raises(ConfigError, match="not a regular file"):
        load_preset("/dev/zero")


def test_files_beyond_their_cap_are_refused_before_reading(tmp_path: Path):
    with pytest.raises(ConfigError, match="too large for a preset file"):
        load_preset(str(_sparse(tmp_path / "big.toml", 2 * 1024 * 1024)))
    with pytest.raises(ConfigError, match="too large for a data file"):
        load_prompts(PromptSpec(file=str(_sparse(tmp_path / "p.jsonl", 1025 * 1024 * 1024))))


def test_a_huge_line_of_prompt_data_is_refused_without_reading_it_whole(tmp_path: Path):
    path = _sparse(tmp_path / "oneline.jsonl", data_module.LINE_LIMIT * 2)
    with pytest.raises(ConfigError, match=r"oneline.jsonl:1: line longer than 4 MB"):
        load_prompts(PromptSpec(file=str(path)))


def test_a_100000_character_preset_name_is_a_short_error():
    with pytest.raises(ConfigError, match="unknown preset") as err:
        load_preset("a" * 100_000)
    assert len(str(err.value)) < 1000


@pytest.mark.parametrize(
    "data",
    [
        {"load": {"users": 100_000_000}},
        {"load": {"mode": "burst", "burst_requests": 100_000_000}},
        {"load": {"mode": "open", "rate": float("inf")}},
        {"load": {"duration": "1e309"}},
        {"load": {"duration": []}},
        {"load": {"duration": {}}},
        {"load": {"duration": None}},
        {"load": {"duration": "31d"}},
        {"load": {"mode": "stages", "stages": [{"duration": "20d", "users": 1}] * 2}},
        {"requests": [{"weight": 1_000_000_000}]},
        {"prompts": {"synthetic": {"count": 100_000_000}}},
        {"prompts": {"synthetic": {"count": 100_000, "max_words": 10_000}}},
        {"workers": 10_000},
    ],
)
def test_out_of_bound_values_are_refused(tmp_path: Path, data: dict):
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        RunConfig.model_validate(data)


@pytest.mark.parametrize(
    "raw",
    [
        {"action": "users", "value": 100_000_000, "at": 1},
        {"action": "rate", "value": float("nan"), "at": 1},
        {"action": "rate", "value": 1e300, "at": 1},
        {"action": "pause", "at": []},
        {"action": ["users"], "at": 1},
    ],
)
def test_out_of_bound_control_changes_are_refused(raw: dict):
    with pytest.raises(ValueError):
        parse_control(raw, source="control-file")


def _good_run() -> dict:
    return {
        "id": "20260101-000000-smoke-abcd",
        "status": "completed",
        "started_at": "2026-01-01T00:00:00+00:00",
        "config": {},
        "controls": [],
        "summary": {"requests": 1},
    }


@pytest.mark.integration
def test_listings_skip_and_name_broken_or_huge_run_files(private_dirs: Path):
    good = save_run(_good_run())
    runs = good.parent
    (runs / "broken.json").write_text('{"schema_version": 1, "id": "x"')
    (runs / "wrong.json").write_text(good.read_text().replace('"requests": 1', '"requests": []'))
    (runs / "escape.json").write_text(good.read_text().replace('"completed"', '"\\u001b[2J"'))
    _sparse(runs / "huge.json", LIST_LIMIT + 1)
    listed, skipped = scan_runs()
    assert [p for p, _ in listed] == [good]
    assert sorted(s.split(":")[0].rsplit("/", 1)[-1] for s in skipped) == [
        "broken.json",
        "escape.json",
        "huge.json",
        "wrong.json",
    ]
    proc = run_cli("runs")
    assert proc.returncode == 0 and str(good) in proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 4 and "broken.json" in proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr


@pytest.mark.integration
def test_a_broken_user_preset_is_named_in_the_listing(private_dirs: Path):
    folder = private_dirs / "config" / "presets"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_bytes(b"\xff\xfe\x00")
    proc = run_cli("presets")
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("mine") and "invalid" in line for line in proc.stdout.splitlines())
    assert "smoke" in proc.stdout


def test_an_internal_error_is_one_line_exit_70_and_a_log_without_the_key(
    private_dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from loadtui.cli import commands, main

    key = "fake-do-not-log-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)

    def broken(args: object) -> int:
        raise RuntimeError(f"a bug while holding {key}")

    monkeypatch.setitem(commands.COMMANDS, "presets", broken)
    assert main(["presets"]) == 70
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and key not in err
    assert err.startswith("loadtui: internal error: RuntimeError: a bug while holding ***")
    log = Path(err.rsplit("(details in ", 1)[1].rstrip(")\n"))
    assert log.parent == private_dirs / "data" / "logs"
    text = log.read_text()
    assert "Traceback" in text and "broken" in text and key not in text


def test_an_internal_error_log_holds_no_password_from_a_url(
    private_dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from loadtui.cli import commands, main

    password = "pw-never-logged-42"

    def broken(args: object) -> int:
        raise RuntimeError(f"a bug near http://me:{password}@127.0.0.1:9/v1")

    monkeypatch.setitem(commands.COMMANDS, None, broken)
    assert main(["--headless", "--url", f"http://me:{password}@127.0.0.1:9/v1"]) == 70
    err = capsys.readouterr().err
    assert password not in err
    log = Path(err.rsplit("(details in ", 1)[1].rstrip(")\n"))
    assert password not in log.read_text()
    assert log.stat().st_mode & 0o077 == 0  # readable by its owner only
