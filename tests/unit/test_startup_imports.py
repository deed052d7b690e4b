"""What a run's parent process imports before its first request: none of the worker's or the
mock's modules, and no aiohttp (issue 15's start-up row, docs/performance.md "Start-up and
exit"). The parent only describes the workers (``engine/spec.py``) and launches the servers by
the name of their app (``mock/servers.py``); their processes import the rest, side by side.

One fresh interpreter imports every module on the headless run's path up to the start of the
load and reports what it holds (import-linter cannot see a third-party import's own imports,
nor a package ``__init__`` that drags in its submodules).
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import loadtui.cli.commands, loadtui.headless.runner, loadtui.run.session
import loadtui.run.target, loadtui.engine.coordinator, loadtui.engine.channel
import loadtui.mock.servers
print(json.dumps(sorted(sys.modules)))
"""

_WORKER_ONLY = ("loadtui.engine.worker", "loadtui.engine.context", "loadtui.engine.client")
_MOCK_ONLY = ("loadtui.mock.server", "loadtui.mock.openai", "loadtui.mock.proxy")


def test_the_run_path_of_the_parent_imports_no_aiohttp_asyncio_worker_nor_mock() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    held = set(json.loads(proc.stdout))
    assert "loadtui.engine.spec" in held  # the probe really reached the coordinator's imports
    assert not {m for m in held if m.split(".")[0] in ("aiohttp", "asyncio")}
    assert not held & {*_WORKER_ONLY, *_MOCK_ONLY}, sorted(held & {*_WORKER_ONLY, *_MOCK_ONLY})


def test_the_mock_package_still_gives_its_names() -> None:
    """``loadtui.mock``'s names come from ``mock/server.py`` when first asked for."""
    from loadtui.mock import MOCK_MODEL, MockProcess
    from loadtui.mock.server import MockProcess as Direct

    assert MockProcess is Direct
    assert isinstance(MOCK_MODEL, str) and MOCK_MODEL
