"""Issue 8, the command line and console: nothing crashes, hangs or misleads a user.

Each test runs ``python -m loadtui`` as a user would, against the embedded mock, for 1-2 s.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import run_cli


def runs_in(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data / "runs").glob("*.json"))]


def saved_path(stdout: str) -> Path:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("run saved: ")]
    return Path(line.removeprefix("run saved: "))


# 16. piped output: the run path whole on one line, table cells never cut


@pytest.mark.integration
def test_piped_output_keeps_the_run_path_whole_and_cells_uncut(private_dirs: Path):
    # a long --out path in a folder with a bracket (markup must not eat it) and a narrow COLUMNS
    folder = private_dirs / ("a-rather-long-folder-name-[for]-wrapping-" + "x" * 40)
    folder.mkdir()
    out = folder / "run-with-a-long-file-name-that-would-be-split.json"
    proc = run_cli("--headless", "--duration", "1s", "--out", str(out), env={"COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    assert saved_path(proc.stdout) == out
    assert out.is_file()
    assert "…" not in proc.stdout  # no cell or line cut short


# 17. no live redraw where nobody can see it: progress lines instead


@pytest.mark.integration
def test_live_into_a_pipe_prints_progress_lines(private_dirs: Path):
    proc = run_cli("--headless", "--duration", "2s", "--live")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\[\s*\d+\.\ds/2s\] users", proc.stdout, re.M), proc.stdout


@pytest.mark.integration
def test_dumb_terminal_gets_progress_lines(private_dirs: Path):
    # TERM=dumb with a forced terminal is what rich sees on a dumb terminal
    env = {"TERM": "dumb", "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
    proc = run_cli("--headless", "--duration", "2s", env=env)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\[\s*\d+\.\ds/2s\] users", proc.stdout, re.M), proc.stdout


# 18. closed loop with a rate cap: users and the cap, not arrivals (0 in closed loop)


@pytest.mark.integration
def test_closed_loop_rate_cap_shows_users_and_cap(private_dirs: Path):
    controls = private_dirs / "cap.toml"
    controls.write_text('[[control]]\nat = "0s"\naction = "rate"\nvalue = 5\n')
    proc = run_cli(
        "--headless", "--users", "2", "--duration", "2s", "--control-file", str(controls)
    )
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stdout.splitlines() if ln.startswith("[")]
    assert progress, proc.stdout
    assert all(re.search(r"users \d+/2 cap 5/s", ln) for ln in progress), progress
    assert not any("rate 0/" in ln for ln in progress)


# a small upstream of this test's own: it records each request and wants Basic auth if told


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, want_auth: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.want_auth = want_auth
        self.seen: list[tuple[str, str | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        auth = self.headers.get("Authorization")
        self.server.seen.append((self.path, auth))
        ok = self.server.want_auth is None or auth == self.server.want_auth
        body = json.dumps(
            {
                "object": "list",
                "data": [],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            }
            if ok
            else {"error": "Basic auth required"}
        ).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


@contextmanager
def recorder(want_auth: str | None = None) -> Iterator[_Recorder]:
    server = _Recorder(want_auth)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


# 20. credentials in the URL: Basic auth kept in memory, never written or shown


@pytest.mark.integration
def test_userinfo_is_sent_as_basic_auth_and_never_written(private_dirs: Path):
    basic = "Basic " + base64.b64encode(b"alice:pw").decode()
    with recorder(want_auth=basic) as server:
        url = server.url.replace("http://", "http://alice:pw@")
        proc = run_cli("--headless", "--no-stream", "--duration", "1s", "--url", url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.seen and all(auth == basic for _, auth in server.seen)
    (run,) = runs_in(private_dirs / "data")
    assert run["summary"]["errors_total"] == 0
    assert run["target"]["url"] == server.url
    assert run["config"]["target"]["url"] == server.url
    raw = next((private_dirs / "data" / "runs").glob("*.json")).read_text()
    assert "alice:pw" not in raw and "pw@" not in raw
    assert "alice:pw" not in proc.stdout + proc.stderr


@pytest.mark.integration
def test_userinfo_with_a_bearer_key_is_refused(private_dirs: Path):
    proc = run_cli(
        "--headless", "--url", "http://alice:pw@127.0.0.1:9/v1", "--api-key", "sk-secret-1234"
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Basic auth" in proc.stderr, proc.stderr
    assert "pw" not in proc.stderr and "sk-secret-1234" not in proc.stderr


@pytest.mark.integration
def test_a_key_typed_into_the_url_is_never_printed(private_dirs: Path):
    key = "fake-typed-in-the-path-5678"
    with recorder() as server:
        proc = run_cli(
            "--headless",
            "--no-stream",
            "--duration",
            "1s",
            "--url",
            f"{server.url}/ak/{key}",
            "--api-key",
            key,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "target: " in proc.stdout
    assert key not in proc.stdout + proc.stderr
    assert any(path.startswith(f"/ak/{key}/") for path, _ in server.seen)  # it was still sent


@pytest.mark.integration
def test_key_placeholder_without_a_key_is_a_usage_error(private_dirs: Path):
    proc = run_cli("--headless", "--url", "http://127.0.0.1:9/ak/{key}", "--duration", "1s")
    assert proc.returncode == 2
    assert proc.stderr.startswith("loadtui: error: ") and "{key}" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not (private_dirs / "data" / "runs").exists()


# 23. where the target comes from: command line > preset > environment > embedded mock


@pytest.mark.integration
def test_preset_url_wins_over_the_environment(private_dirs: Path):
    with recorder() as server:
        preset = private_dirs / "mine.toml"
        preset.write_text(
            f'[target]\nurl = "{server.url}"\n[load]\nduration = "1s"\n'
            "[[requests]]\nkind = 'chat'\nstream = false\n"
        )
        env = {"OPENAI_BASE_URL": "http://127.0.0.1:9"}
        proc = run_cli("--headless", "--preset", str(preset), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"target: {server.url} (from the preset)" in proc.stdout
    assert server.seen


@pytest.mark.integration
def test_mock_flag_beats_the_environment(private_dirs: Path):
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9"}
    proc = run_cli("--headless", "--mock", "--duration", "1s", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "embedded mock upstream" in proc.stdout and "(--mock)" in proc.stdout
    (run,) = runs_in(private_dirs / "data")
    assert run["target"]["embedded_mock"] is True


@pytest.mark.integration
def test_environment_url_is_used_and_named(private_dirs: Path):
    with recorder() as server:
        env = {"OPENAI_BASE_URL": server.url}
        proc = run_cli("--headless", "--no-stream", "--duration", "1s", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"target: {server.url} (from $OPENAI_BASE_URL)" in proc.stdout
    assert server.seen


@pytest.mark.integration
def test_overhead_preset_ignores_the_environment(private_dirs: Path):
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9"}
    proc = run_cli("--headless", "--preset", "overhead", "--duration", "1s", env=env)
    # 1 = its overhead thresholds on a busy machine: not what this test is about
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "--url" not in proc.stderr
    (run,) = runs_in(private_dirs / "data")
    assert run["status"] == "completed" and run["target"]["embedded_mock"] is True
    assert "in front of the embedded mock" in proc.stdout


@pytest.mark.integration
def test_anthropic_base_url_serves_messages_presets(private_dirs: Path):
    with recorder() as server:
        env = {"ANTHROPIC_BASE_URL": server.url, "OPENAI_BASE_URL": "http://127.0.0.1:9"}
        proc = run_cli("--headless", "--preset", "anthropic", "--duration", "1s", env=env)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # our stand-in is no Anthropic
    assert f"target: {server.url} (from $ANTHROPIC_BASE_URL)" in proc.stdout
    assert any("/v1/messages" in path for path, _ in server.seen)


# 24. a streaming metric's threshold in a run without streams: not judged, and said so


@pytest.mark.integration
def test_no_stream_run_skips_streaming_thresholds(private_dirs: Path):
    proc = run_cli("--headless", "--preset", "baseline", "--no-stream", "--duration", "1s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = runs_in(private_dirs / "data")
    (ttft,) = [t for t in run["thresholds"] if t["metric"] == "ttft"]
    assert ttft["skipped"] is True and ttft["passed"] is True and ttft["actual"] is None
    assert "exists only for streams" in ttft["reason"]
    (line,) = [ln for ln in proc.stdout.splitlines() if "p(95)<2000" in ln]
    assert "skipped" in line and "only for streams" in line


def test_a_threshold_without_samples_fails_with_a_reason():
    from loadtui.model.record import Metrics, MetricSummary, RunSummary
    from loadtui.model.thresholds import evaluate

    summary = RunSummary(requests=4, errors_total=4, metrics=Metrics(ttft_ms=MetricSummary()))
    (ttft,) = evaluate({"ttft": ["p(95)<500"]}, summary, streamed=True)
    assert ttft.passed is False and not ttft.skipped
    assert ttft.reason == "no TTFT samples: all 4 requests failed"
    (lat,) = evaluate({"latency": ["p(95)<500"]}, summary)
    assert lat.passed is False and lat.reason == "no latency samples"


# 25. inputs accepted and then ignored: refused up front, or made to work


@pytest.mark.integration
def test_users_control_in_an_open_loop_run_is_refused(private_dirs: Path):
    controls = private_dirs / "c.toml"
    controls.write_text('[[control]]\nat = "0.5s"\naction = "users"\nvalue = 4\n')
    proc = run_cli("--headless", "--rate", "5", "--duration", "1s", "--control-file", str(controls))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "open-loop" in proc.stderr, proc.stderr
    assert not (private_dirs / "data" / "runs").exists()


@pytest.mark.integration
def test_control_after_the_end_is_refused(private_dirs: Path):
    controls = private_dirs / "c.toml"
    controls.write_text('[[control]]\nat = "5s"\naction = "pause"\n')
    proc = run_cli("--headless", "--duration", "1s", "--control-file", str(controls))
    assert proc.returncode == 2
    assert "after the end of the run (1s)" in proc.stderr and "5s" in proc.stderr, proc.stderr


@pytest.mark.integration
def test_users_with_rate_is_refused():
    proc = run_cli("--headless", "--users", "3", "--rate", "5", "--duration", "1s")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--users" in proc.stderr and "--rate" in proc.stderr


def test_time_scale_scales_think_time():
    from loadtui.run.options import Overrides, resolve_config

    config = resolve_config(Overrides(preset="baseline", time_scale=0.1))
    assert config.load.think_time == pytest.approx((0.05, 0.2))
    assert config.load.duration == pytest.approx(6.0)
    # --duration alone fits the length and leaves a user's pauses as they are
    config = resolve_config(Overrides(preset="baseline", duration=6.0))
    assert config.load.think_time == pytest.approx((0.5, 2.0))


# 26. `loadtui mock` has the embedded mock's defaults and says its units; listings that mislead


@pytest.mark.integration
def test_mock_help_shows_defaults_and_units():
    proc = run_cli("mock", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "--ttft MS delay to the first streamed token (default: 50ms)" in text
    assert "--itl MS delay between streamed tokens (default: 10ms)" in text
    assert "a bare number is milliseconds" in text


@contextmanager
def standalone_mock(port: int, *options: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", "mock", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the mock says where it listens once it does
        assert "listening on" in line, line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.integration
def test_standalone_mock_has_the_embedded_defaults_and_bare_numbers_are_ms(
    private_dirs: Path, unused_port: int
):
    # no --ttft: the embedded mock's 50 ms; --itl 20 is 20 ms (it meant 20 s before)
    with standalone_mock(unused_port, "--itl", "20") as url:
        proc = run_cli("--headless", "--url", url, "--duration", "1s", "--users", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = runs_in(private_dirs / "data")
    m = run["summary"]["metrics"]
    assert m["ttft_ms"]["count"] and m["ttft_ms"]["min"] >= 45
    assert m["itl_ms"]["count"] and 15 <= m["itl_ms"]["p50"] < 5000


@pytest.mark.integration
def test_presets_listing_keeps_its_columns(private_dirs: Path):
    user = private_dirs / "config" / "presets"
    user.mkdir(parents=True)
    (user / "mine.toml").write_text('description = "mine"\n[load]\nduration = "2s"\n')
    proc = run_cli("presets")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    (mine,) = [ln for ln in lines if ln.startswith("mine ")]
    assert mine.endswith("mine (user)")
    (burst,) = [ln for ln in lines if ln.startswith("burst ")]
    assert re.search(r"\b\d+ req\b", burst)  # a burst ends when it is answered: not "30s"
    modes = {ln.split()[1] for ln in lines}
    assert modes <= {"closed", "open", "stages", "burst", "trace"}  # the mode column is the mode
    starts = {re.match(r"\S+\s+", ln).end() for ln in lines}  # type: ignore[union-attr]
    assert len(starts) == 1  # at the same column


@pytest.mark.integration
def test_batch_summary_labels_jobs_and_http_calls(private_dirs: Path):
    proc = run_cli("--headless", "--preset", "batch", "--duration", "1s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = runs_in(private_dirs / "data")
    jobs = run["summary"]["requests"]
    calls = sum(run["summary"]["status_codes"].values())
    assert re.search(rf"^jobs\s+{jobs} ", proc.stdout, re.M), proc.stdout
    assert re.search(rf"^HTTP calls\s+200: {calls}\b", proc.stdout, re.M), proc.stdout


@pytest.mark.slow
@pytest.mark.integration
def test_replay_to_a_url_with_userinfo_keeps_it_out_of_the_file(private_dirs: Path):
    assert run_cli("--headless", "--no-stream", "--duration", "1s").returncode == 0
    (first,) = runs_in(private_dirs / "data")
    basic = "Basic " + base64.b64encode(b"bob:hunter22").decode()
    with recorder(want_auth=basic) as server:
        url = server.url.replace("http://", "http://bob:hunter22@")
        proc = run_cli("replay", first["id"], "--headless", "--url", url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.seen and all(auth == basic for _, auth in server.seen)
    files = sorted((private_dirs / "data" / "runs").glob("*.json"))
    assert len(files) == 2 and not any("hunter22" in f.read_text() for f in files)
    assert "hunter22" not in proc.stdout + proc.stderr
