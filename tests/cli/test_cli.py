"""The command line as a user meets it: runs, exit codes, bad input, signals, replay, secrets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers import run_cli
from loadtui.run.drive import TICK

pytestmark = pytest.mark.integration  # every test here starts processes

DATA = Path(__file__).parents[1] / "data"


def runs_in(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data / "runs").glob("*.json"))]


def test_smoke_preset_against_the_embedded_mock(private_dirs: Path):
    proc = run_cli("--headless", "--preset", "smoke", "--duration", "2s")
    assert proc.returncode == 0, proc.stderr
    assert "embedded mock upstream" in proc.stdout
    assert "run saved:" in proc.stdout
    (run,) = runs_in(private_dirs / "data")
    assert run["status"] == "completed"
    assert run["target"]["embedded_mock"] is True
    s = run["summary"]
    assert s["requests"] >= 3 and s["errors_total"] == 0
    assert set(s["metrics"]) >= {"latency_ms", "ttft_ms", "itl_ms", "tpot_ms"}
    assert set(s["metrics"]["ttft_ms"]) >= {
        "count",
        "mean",
        "min",
        "max",
        "p50",
        "p90",
        "p95",
        "p99",
        "p999",
    }
    assert all(t["passed"] for t in run["thresholds"])
    assert run["series"] and {
        "users",
        "in_flight",
        "rps",
        "errors",
        "latency_ms",
        "ttft_ms",
    } <= set(run["series"][0])
    assert str(private_dirs / "data" / "runs") in proc.stdout
    (listed,) = run_cli("runs").stdout.splitlines()  # the run just made, listed end to end
    assert listed.endswith(".json") and listed.split()[-1] in proc.stdout


def test_failed_threshold_exits_1(private_dirs: Path):
    preset = private_dirs / "strict.toml"
    preset.write_text(
        'description = "impossible"\n[load]\nusers = 1\nduration = "1s"\n'
        '[[requests]]\nkind = "chat"\n[thresholds]\nttft = ["p(95)<1"]\n'
    )
    proc = run_cli("--headless", "--preset", str(preset), "--out", str(private_dirs / "r.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = json.loads((private_dirs / "r.json").read_text())
    assert run["thresholds"][0]["passed"] is False
    assert "FAIL" in proc.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--headless", "--preset", "nope"], "unknown preset"),
        (["--headless", "--users", "0"], "--users must be at least 1"),
        (["--headless", "--users", "-3"], "--users must be at least 1"),
        (["--headless", "--duration", "soon"], "expected a duration"),
        (["--headless", "--duration", "0s"], "duration must be greater than 0"),
        (["--headless", "--url", "ftp://x"], "url must be http(s)"),
        (["--headless", "--url", "http://[::1"], "url must be http(s)"),
        (["--headless", "--url", "http://127.0.0.1:99999"], "bad port"),
        (["--headless", "--think-time", "2-1s"], "ends before it starts"),
        (["--headless", "--rate", "-1"], "--rate must be greater than 0"),
        (["--headless", "--control-file", "missing.toml"], "no such control file"),
        (["replay", "missing.json", "--headless"], "no such run file"),
        (["--bogus"], "unrecognized arguments"),
        (["--headless", "--out", "/nonexistent-dir/run.json"], "does not exist"),
        (["--headless", "--out", "/"], "is a folder"),
        (["--headless", "--direct-url", "http://u:pw@127.0.0.1:9"], "must not hold user:password"),
        (["mock", "--fault", "meteor"], "unknown fault"),
        (["mock", "--fault", "reset:2"], "faults.reset: Input should be less than or equal to 1"),
        (["mock", "--tokens", "0"], "tokens: Input should be greater than or equal to 1"),
        (["mock", "--fault", "reset:0.6", "--fault", "stall:0.6"], "add up to more than 1"),
        (["mock", "--fault", "reset:x"], "fault rate must be a number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[load\nusers = 1", "invalid TOML"),
        ("[load]\nusers = 0\n", "load.users"),
        ("[load]\nspeed = 3\n", "load.speed: unknown key"),
        ("bogus = 1\n", "bogus: unknown key"),
        ('[load]\nmode = "open"\n', "open-loop mode needs a rate"),
        ('[load]\nduration = "forever"\n', "load.duration"),
        ('[thresholds]\nttft = ["p95<1"]\n', "not k6 syntax"),
        ('[[requests]]\nkind = "fax"\n', "requests.0.kind"),
        ("[mock]\nfaults = {meteor = 0.1}\n", "unknown fault"),
    ],
)
def test_bad_preset_files(private_dirs: Path, content: str, fragment: str):
    preset = private_dirs / "bad.toml"
    preset.write_text(content)
    proc = run_cli("--headless", "--preset", str(preset))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in proc.stderr and str(preset) in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"schema_version": 99}', "schema_version 99"),
        ("[1, 2]", "not a loadtui run file"),
        ('{"schema_version": 1, "id": "x"}', "missing"),
        (
            '{"schema_version": 1, "id": "x", "status": "completed", "config": {"load": {"users": -1}}, "controls": [], "summary": {}}',
            "config.load.users",
        ),
        (
            '{"schema_version": 1, "id": "x", "status": "completed", "config": {}, "controls": [{"action": "fly", "at": 1}], "summary": {}}',
            "controls[0]",
        ),
    ],
)
def test_bad_run_files_for_replay(private_dirs: Path, content: str, fragment: str):
    path = private_dirs / "run.json"
    path.write_text(content)
    proc = run_cli("replay", str(path), "--headless")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_replay_reproduces_the_control_timeline(private_dirs: Path):
    controls = private_dirs / "controls.toml"
    controls.write_text(
        '[[control]]\nat = "1s"\naction = "users"\nvalue = 4\n'
        '[[control]]\nat = "1.5s"\naction = "pause"\n'
        '[[control]]\nat = "2s"\naction = "resume"\n'
        '[[control]]\nat = "2.5s"\naction = "users"\nvalue = 2\n'
    )
    first = private_dirs / "first.json"
    proc = run_cli(
        "--headless",
        "--preset",
        "baseline",
        "--users",
        "1",
        "--duration",
        "3s",
        "--think-time",
        "0.05s",
        "--control-file",
        str(controls),
        "--out",
        str(first),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    original = json.loads(first.read_text())
    second = private_dirs / "second.json"
    proc = run_cli("replay", str(first), "--headless", "--out", str(second))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    replay = json.loads(second.read_text())
    assert replay["replay_of"] == original["id"]
    assert replay["config"] == original["config"]
    strip = lambda cs: [(c["action"], c["value"]) for c in cs]  # noqa: E731
    assert (
        strip(replay["controls"])
        == strip(original["controls"])
        == [("users", 4), ("pause", None), ("resume", None), ("users", 2)]
    )
    # each change lands up to one drive tick after its time, by design (run/drive.py), and a
    # busy machine adds its own delay: two runs agree to a tick plus that, not to the millisecond
    for a, b in zip(original["controls"], replay["controls"], strict=True):
        assert abs(a["at"] - b["at"]) < TICK + 0.15
    users = lambda run: [p["users"] for p in run["series"]]  # noqa: E731
    assert users(original) == users(replay)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_still_save_the_run(private_dirs: Path, sig: signal.Signals):
    out = private_dirs / "term.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadtui",
            "--headless",
            "--preset",
            "baseline",
            "--duration",
            "60s",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("["):  # the first progress line: load is running
            break
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    run = json.loads(out.read_text())
    assert run["status"] == "interrupted"
    assert run["summary"]["requests"] > 0
    assert f"interrupted by {sig.name}" in stdout
    assert "Traceback" not in stderr


LONG = ("--duration", "60s", "--out")


@pytest.mark.slow
def test_sigterm_to_the_whole_process_group_saves_the_run_quietly(private_dirs: Path):
    """`timeout`, systemd and `kill -TERM -PGID` signal every process of the group: the
    workers and the embedded mock leave it to the main process, which drains and saves."""
    out = private_dirs / "group.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", "--headless", "--preset", "baseline", *LONG, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        start_new_session=True,  # its own process group, as a shell job or a service has
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.stdout.readline().startswith("["):  # the first progress line: load is running
            break
    os.killpg(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    run = json.loads(out.read_text())
    assert run["status"] == "interrupted"
    assert run["summary"]["requests"] > 0
    assert run["generator"]["workers_lost"] == 0, stdout + stderr
    assert "Traceback" not in stderr
    assert "lost" not in stdout + stderr


def test_api_key_never_reaches_disk_or_output(private_dirs: Path):
    key = "sk-test-" + "abcdefghijklmnopqrstuv0123456789"
    proc = run_cli(
        "--headless", "--preset", "smoke", "--duration", "1s", env={"OPENAI_API_KEY": key}
    )
    assert proc.returncode == 0, proc.stderr
    assert key not in proc.stdout + proc.stderr
    written = list(private_dirs.rglob("*"))
    assert any(p.suffix == ".json" for p in written)
    for p in written:
        if p.is_file():
            assert key.encode() not in p.read_bytes(), p
    (run,) = runs_in(private_dirs / "data")
    assert run["target"]["api_key"] == "***"


def test_presets_and_runs_listing(private_dirs: Path):
    proc = run_cli("presets")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"smoke", "baseline", "stress", "soak", "spike", "streaming", "burst"} <= set(names)
    assert {"anthropic", "completions", "embeddings", "batch", "overhead", "mix"} <= set(names)
    user = private_dirs / "config" / "presets"
    user.mkdir(parents=True)
    (user / "smoke.toml").write_text('description = "my own smoke"\n[load]\nduration = "1s"\n')
    proc = run_cli("presets")
    assert "my own smoke (user)" in proc.stdout  # the mark at the end keeps the columns
    assert run_cli("runs").stdout.startswith("no saved runs")
    runs = private_dirs / "data" / "runs"  # two saved runs, as fixtures: the listing is the subject
    runs.mkdir(parents=True)
    for name in ("run-a", "run-b"):
        shutil.copy(DATA / f"{name}.json", runs / f"{name}.json")
    lines = run_cli("runs").stdout.splitlines()
    assert len(lines) == 2 and lines[0] > lines[1]  # newest first (lines start with the time)
    assert lines[0].endswith("run-b.json") and lines[1].endswith("run-a.json")
    assert all(" passed " in line for line in lines)  # by their thresholds
    failed = json.loads((DATA / "run-a.json").read_text())
    failed["id"], failed["thresholds"][0]["passed"] = "run-c", False
    (runs / "run-c.json").write_text(json.dumps(failed))
    line = next(x for x in run_cli("runs").stdout.splitlines() if x.endswith("run-c.json"))
    assert " completed   FAILED " in line  # completed, but its thresholds failed


def test_standalone_mock_command(unused_port: int):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadtui",
            "mock",
            "--port",
            str(unused_port),
            "--ttft",
            "20ms",
            "--itl",
            "5ms",
            "--tokens",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening on" in proc.stdout.readline()
        base = f"http://127.0.0.1:{unused_port}"
        assert httpx.get(base + "/health").json() == {"status": "ok"}
        assert httpx.get(base + "/v1/models").json()["data"][0]["id"]
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        text = httpx.post(base + "/v1/chat/completions", json=body).text
        events = [e for e in text.split("\n\n") if e]
        assert json.loads(events[0][6:])["choices"][0]["delta"] == {
            "role": "assistant",
            "content": "",
        }
        contents = [json.loads(e[6:])["choices"][0]["delta"]["content"] for e in events[1:4]]
        assert contents == ["tok0 ", "tok1 ", "tok2 "]
        assert json.loads(events[4][6:])["choices"][0]["finish_reason"] == "stop"
        assert json.loads(events[5][6:])["usage"]["completion_tokens"] == 3
        assert events[6] == "data: [DONE]"
        assert httpx.get(base + "/mock/stats").json()["served"] == 3
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_headless_paths_never_import_textual():
    code = (
        "import sys, loadtui.cli, loadtui.headless.runner, loadtui.engine.coordinator, "
        "loadtui.engine.worker, loadtui.storage.runfile, loadtui.tui.bridge, loadtui.run.frame; "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_failed_preflight_exits_3(unused_port: int, private_dirs: Path):
    proc = run_cli("--headless", "--preset", "burst", "--url", f"http://127.0.0.1:{unused_port}")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "pre-flight request" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_burst_preset_passes_against_the_mock(private_dirs: Path):
    out = private_dirs / "burst.json"
    proc = run_cli("--headless", "--preset", "burst", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = json.loads(out.read_text())
    assert run["summary"]["requests"] == 50
    assert run["thresholds"] == [
        {"metric": "success_rate", "expression": "rate>=0.9", "actual": 1.0, "passed": True}
    ]
