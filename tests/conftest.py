"""Shared fixtures: private data/config dirs, the mock upstream over loopback, a CLI runner."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec


def _share_bytecode() -> None:
    """Where the environment says ``PYTHONDONTWRITEBYTECODE`` (to keep ``__pycache__`` out of
    the tree), every process the suite starts — ~1,000 of them: CLI runs, their workers, mocks —
    would compile loadtui's sources again (~0.25 s of CPU each). Instead they share compiled
    files in a temporary folder outside the tree (``PYTHONPYCACHEPREFIX``), removed when the
    session ends: nothing is written where the environment did not want it. Runs once, in the
    process pytest starts first; xdist's workers and every subprocess inherit the setting."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    folder = tempfile.mkdtemp(prefix="loadtui-tests-pyc-")
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    sys.pycache_prefix = folder
    sys.dont_write_bytecode = False
    atexit.register(shutil.rmtree, folder, True)


_share_bytecode()


def _share_code_cache() -> None:
    """Every CLI process the suite starts keeps its compiled dataclass methods in loadtui's
    cache (``runtime/codecache.py``): one folder for the whole session, outside the tests'
    private data dirs (a test that checks nothing was written there stays right), removed when
    the session ends. The process pytest starts first sets it; the rest inherit it."""
    if os.environ.get("LOADTUI_CACHE_DIR"):
        return
    folder = tempfile.mkdtemp(prefix="loadtui-tests-cache-")
    os.environ["LOADTUI_CACHE_DIR"] = folder
    atexit.register(shutil.rmtree, folder, True)


_share_code_cache()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): no workers for a run of the unit layer alone, where
    starting them costs more than its few seconds; otherwise one worker more than the cores.
    Most tests wait (runs of fixed length, processes starting, the app's pilot polling): with
    one worker per core the two xdist workers of a 2-core machine kept ~half of its CPU busy,
    so a third fills the gaps. Every test holds with both cores busy (the team's rule), which
    a third worker's share is well within."""
    unit = Path(__file__).parent / "unit"
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    if paths and all(path.is_relative_to(unit) for path in paths):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + 1


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOADTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOADTUI_CONFIG_DIR", str(tmp_path / "config"))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def mock_upstream() -> Iterator[MockProcess]:
    """A mock with a known TTFT (50 ms) and inter-chunk gap (10 ms), 8 tokens an answer: one
    per xdist worker for the whole session (a spawn is ~1 s of CPU on a busy machine, and
    per module each worker started one for nearly every module); ``mock`` resets it."""
    with MockProcess(MockSpec(latency=0.02, ttft=0.05, itl=0.01, tokens=8)) as mock:
        yield mock


@pytest.fixture()
def mock(mock_upstream: MockProcess) -> MockProcess:
    """The shared mock with its counters at zero."""
    httpx.post(mock_upstream.url + "/mock/reset", timeout=5.0)
    return mock_upstream


@pytest.fixture()
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
