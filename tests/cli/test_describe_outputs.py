"""One description of a run's configuration (``run/describe.py``) in every output: a real
non-streaming run against the mock over loopback says "not streaming" in ``show``, ``compare``
and the HTML report, and the report shows thresholds as text, not as Python objects."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.mock.server import MockProcess
from loadtui.model.plan import MockSpec

# every test here starts processes; the group: one xdist worker makes the module's runs,
# once (pyproject: loadgroup)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("describe_outputs")]


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """One 2-second run of non-streamed chat requests, with a threshold that can abort it."""
    folder = tmp_path_factory.mktemp("describe")
    env = {"LOADTUI_DATA_DIR": str(folder / "data"), "LOADTUI_CONFIG_DIR": str(folder / "cfg")}
    out = folder / "plain.json"
    with MockProcess(MockSpec(latency=0.02, ttft=0.05, itl=0.01, tokens=8)) as mock:
        proc = run_cli(
            *("--headless", "--preset", "burst", "--no-stream", "--url", mock.url),
            *("--threshold", "ttft p(95)<60000", "--abort-on-fail", "--abort-delay", "10s"),
            *("--out", str(out)),
            env=env,
        )
    assert proc.returncode == 0, proc.stderr
    yield out, env


def test_show_says_the_requests_were_not_streamed(plain_run: tuple[Path, dict[str, str]]):
    path, env = plain_run
    proc = run_cli("show", str(path), env=env)
    assert proc.returncode == 0, proc.stderr
    (plan,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("load ")]
    assert "requests chat ·" in plan and "streaming no" in plan and "stream " not in plan


def test_compare_says_not_streaming(plain_run: tuple[Path, dict[str, str]]):
    path, env = plain_run
    proc = run_cli("compare", str(path), str(path), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)["config"]
    assert config["streaming"] == ["no", "no"]
    assert config["requests"] == ["chat", "chat"]


def test_the_report_says_not_streaming_and_shows_thresholds_as_text(
    plain_run: tuple[Path, dict[str, str]], tmp_path: Path
):
    path, env = plain_run
    out = tmp_path / "report.html"
    proc = run_cli("report", str(path), "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    page = html.unescape(out.read_text())
    assert "<th>streaming</th><td>no</td>" in page
    assert "<th>requests</th><td>chat</td>" in page
    assert "ttft p(95)<60000 (abort_on_fail after 10s)" in page
    assert "success_rate rate>=0.9" in page  # the preset's own, plain
    assert "ThresholdSpec" not in page and "abort_on_fail=" not in page
    assert "threshold=" not in page
