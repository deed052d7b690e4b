"""Shared fixtures: private data/config dirs, the mock upstream over loopback, a CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): no workers for a run of the unit layer alone, where
    starting them costs more than its few seconds; otherwise pytest-xdist's own count."""
    unit = Path(__file__).parent / "unit"
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    if paths and all(path.is_relative_to(unit) for path in paths):
        return 0
    return None


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOADTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOADTUI_CONFIG_DIR", str(tmp_path / "config"))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def mock_upstream() -> Iterator[MockProcess]:
    """A mock with a known TTFT (50 ms) and inter-chunk gap (10 ms), 8 tokens an answer."""
    with MockProcess(MockSpec(latency=0.02, ttft=0.05, itl=0.01, tokens=8)) as mock:
        yield mock


@pytest.fixture()
def mock(mock_upstream: MockProcess) -> MockProcess:
    httpx.post(mock_upstream.url + "/mock/reset", timeout=5.0)
    return mock_upstream


@pytest.fixture()
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
