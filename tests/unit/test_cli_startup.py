"""What ``loadtui --help`` and every spawned child pay at start: ``import loadtui.cli``.

A child process spawned from the ``loadtui`` console script re-runs its import of
``loadtui.cli`` (as ``__mp_main__``), so that import holds the parser only: no pydantic, no
HTTP client, no engine. The mock's options, whose help quotes MockSpec's defaults, are added
when ``loadtui mock`` is used. And the debug timing log (``LOADTUI_DEBUG_TIMING``) counts from
the origin a launcher gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from loadtui.cli import main

_PROBE = """
import json, sys
from loadtui.cli import build_parser
build_parser().format_help()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} | set(sys.modules))))
"""


def test_import_loadtui_cli_and_its_help_load_no_models_nor_http_client() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    held = set(json.loads(out))
    heavy = {"pydantic", "aiohttp", "httpx", "rich", "textual", "loadtui.model.plan"}
    # and not multiprocessing: main's last exit handler (``_leave``) must be registered before
    # multiprocessing's, which ends the workers and the mock, so that one runs first
    heavy.add("multiprocessing")
    assert "loadtui.cli.parser" in held
    assert not held & heavy, sorted(held & heavy)


def test_the_mock_command_still_quotes_the_mock_s_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["mock", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--ttft MS" in out and "(default: 50ms)" in out  # MockSpec's ttft
    assert "http_429" in out  # the faults named
    from loadtui.cli.parser import build_parser

    assert build_parser().parse_args(["mock", "--ttft", "5"]).ttft == pytest.approx(0.005)


def test_the_timing_log_counts_from_the_launcher_s_origin_and_is_off_by_default() -> None:
    code = "from loadtui.runtime import timing; timing.stamp('probe phase')"
    env = {**os.environ, "LOADTUI_DEBUG_TIMING": "1"}
    env["LOADTUI_TIMING_ORIGIN"] = repr(time.monotonic() - 100.0)  # launched 100 s ago
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    line = on.stderr.strip()
    assert line.startswith("loadtui timing:") and "probe phase" in line, on.stderr
    assert 100.0 <= float(line.split()[2]) < 200.0
    env.pop("LOADTUI_DEBUG_TIMING")
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert off.stderr == ""
