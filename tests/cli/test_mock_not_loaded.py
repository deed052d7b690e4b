"""A run against a real URL never loads the mock or the proxy: they are imported only in the
function that starts them (``run/target.py``), so a load test of a production endpoint
carries no test server in its process. The same style as test_cli.py's Textual check, but
after a real run, so an import on the run's path is caught too.
"""

from __future__ import annotations

import json
import subprocess
import sys

from loadtui.mock import MockProcess

_RUN = """
import json, sys
from loadtui.cli import main
code = main(["--headless", "--url", sys.argv[1], "--duration", "1s", "--users", "2"])
loaded = sorted(m for m in sys.modules if m == "loadtui.mock" or m.startswith("loadtui.mock."))
print(json.dumps({"code": code, "mock": loaded, "textual": "textual" in sys.modules}))
"""


def test_a_run_against_a_url_never_loads_the_mock(mock: MockProcess) -> None:
    """The mock and the proxy are imported only where they are started: a headless run against
    ``--url`` (here our mock, started by the test) leaves them out of the parent process."""
    before = mock.stats()["served"]
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, mock.url], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    assert mock.stats()["served"] > before  # the run really went to the URL
    assert report["mock"] == []
    assert report["textual"] is False
