"""``--metrics-port`` and ``--metrics-host`` as a user types them (``python -m loadtui``).

A headless run (and a replay) with ``--metrics-port 0`` says where it serves on stderr (stdout
stays the summary) and serves ``/metrics`` while the load runs; a port already in use is one
line and exit 3 before any load is sent; bad values are one line and exit 2.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from helpers import run_cli
from loadtui.run.exitcodes import ExitCode
from loadtui.storage.runfile import load_record

URL_LINE = re.compile(r"^loadtui: metrics: serving (http://127\.0\.0\.1:\d+/metrics)$", re.M)


def _requests(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "loadtui_requests_total"
    )


def _grew(seen: list[float]) -> bool:
    """Two scrapes saw requests, the later more (a counter never goes down)."""
    counts = [v for v in seen if v > 0]
    return len(counts) >= 2 and counts[-1] > counts[0] and counts == sorted(counts)


def _scrape_while_running(
    args: list[str], texts: list[str] | None = None
) -> tuple[list[float], str, int]:
    """Start ``loadtui ARGS``, find the metrics URL on stderr, scrape until the counter has
    grown; (the counts seen, stderr, exit code). Each scrape's text goes to ``texts``."""
    texts = [] if texts is None else texts
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
    reader.start()
    seen: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _grew(seen):
            found = URL_LINE.search("".join(lines))
            if found:
                try:
                    texts.append(httpx.get(found.group(1), timeout=10.0).text)
                    seen.append(_requests(texts[-1]))
                except httpx.TransportError:
                    break  # the run ended and the process with it
            time.sleep(0.2)
        code = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    return seen, "".join(lines), code


def test_a_headless_run_serves_growing_counters_on_a_free_port(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    args = ["--headless", "--preset", "smoke", "--duration", "4s", "--metrics-port", "0"]
    seen, err, code = _scrape_while_running([*args, "--out", str(out)])
    assert code == ExitCode.OK, err
    assert URL_LINE.search(err), err
    assert _grew(seen), seen
    assert out.is_file()


def test_a_replay_serves_metrics_too(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    made = run_cli("--headless", "--preset", "smoke", "--duration", "3s", "--out", str(first))
    assert made.returncode == ExitCode.OK, made.stderr
    args = ["replay", str(first), "--headless", "--metrics-port", "0"]
    seen, err, code = _scrape_while_running([*args, "--out", str(tmp_path / "again.json")])
    assert code == ExitCode.OK, err
    assert seen and seen[-1] > 0, (seen, err)


def test_a_port_in_use_is_one_line_and_exit_3_before_any_load(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(
            "--headless", "--preset", "smoke", "--duration", "2s",
            "--metrics-port", str(port), "--out", str(out),
        )  # fmt: skip
    assert done.returncode == ExitCode.NOT_STARTED
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"--metrics-port: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()  # no run: no load was sent
    assert "run saved" not in done.stdout


def test_bad_metrics_options_are_one_line_and_exit_2() -> None:
    for args, says in (
        (["--metrics-port", "70000"], "0-65535"),
        (["--metrics-port", "nine"], "0-65535"),
        (["--metrics-host", "0.0.0.0"], "--metrics-host needs --metrics-port"),
    ):
        done = run_cli("--headless", "--preset", "smoke", "--duration", "1s", *args)
        assert done.returncode == ExitCode.USAGE, (args, done.stderr)
        assert says in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_password_in_the_url_never_reaches_metrics(mock, tmp_path: Path) -> None:
    """The target URL is a label of ``loadtui_run_info``: shown as the run file shows it."""
    password = "pw-metrics-secret-77"
    url = mock.url.replace("http://", f"http://someone:{password}@")
    texts: list[str] = []
    args = ["--headless", "--preset", "smoke", "--duration", "3s", "--metrics-port", "0"]
    args += ["--url", url, "--out", str(tmp_path / "run.json")]
    seen, err, code = _scrape_while_running(args, texts)
    assert code == ExitCode.OK, err
    assert texts and seen[-1] > 0, (seen, err)
    assert not [text for text in texts if password in text]
    saved = load_record(tmp_path / "run.json").target.url
    assert f'target="{saved}"' in texts[-1]  # as the run file names it
