"""A real spawned server process holds neither rich nor Textual, and the mock's no aiohttp.

tests/unit/test_import_hygiene.py imports each entry module in a fresh interpreter; this test
checks the thing itself: a ``ServerProcess`` spawned from a script shaped like the ``loadtui``
console script (``from loadtui.cli import main`` at the top, which a spawned child re-runs as
``__mp_main__``), serving the mock's app plus one route that reports the child's
``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE_APP = '''
import sys

from loadtui.mock import build_app, web


def build(settings):
    """The mock's app, plus GET /modules: the top-level modules this process holds."""
    app = build_app(settings)

    async def modules(request):
        return web.json_response(sorted({m.split(".")[0] for m in sys.modules}))

    app.router.add_get("/modules", modules)
    return app
'''

_MAIN = """
import json
import sys

from loadtui.cli import main  # as the console script does: every spawned child re-runs this

if __name__ == "__main__":
    import httpx

    import probe_app
    from loadtui.mock.servers import ServerProcess
    from loadtui.model.plan import MockSpec

    with ServerProcess(probe_app.build, MockSpec()) as server:
        held = httpx.get(server.url + "/modules", timeout=10).json()
        served = httpx.get(server.url + "/health", timeout=10).json()
    print(json.dumps({"modules": held, "health": served}))
"""


def test_a_spawned_mock_process_loads_neither_rich_nor_textual_nor_aiohttp(
    tmp_path: Path,
) -> None:
    (tmp_path / "probe_app.py").write_text(_PROBE_APP)
    script = tmp_path / "loadtui_like.py"
    script.write_text(_MAIN)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=90, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["health"] == {"status": "ok"}  # the child really serves the mock
    held = set(report["modules"])
    assert {"loadtui", "multidict", "__mp_main__"} <= held  # the script's imports ran in the child
    assert not held & {"rich", "textual"}
    # the mock serves on its own small server (mock/connection.py): aiohttp's import was 0.1 s
    # of CPU before the mock served (docs/performance.md, "Start-up and exit")
    assert not held & {"aiohttp", "yarl", "attr", "email", "http"}
