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


_CHILD_PROBE = """
import json, pickle, sys
from loadtui.engine.channel import _import_worker
from loadtui.mock.servers import _imported
_import_worker()
_imported("loadtui.mock.server:build_app")
config = pickle.loads(sys.stdin.buffer.read())  # as a worker takes its spec
from loadtui.model.plan import RunConfig
print(json.dumps([RunConfig.__pydantic_complete__, "pydantic.plugin._loader" in sys.modules,
                  config.load.users]))
"""


def test_a_worker_and_the_mock_import_and_unpickle_the_models_without_building_them() -> None:
    """The run's pydantic models defer their validators (``defer_build``): a worker's and the
    mock's processes only unpickle them, so they never pay the schema building (nor pydantic's
    plugin lookup) that the parent pays once to validate the options."""
    import pickle

    from loadtui.model.plan import RunConfig

    config = RunConfig(load={"mode": "closed", "users": 3, "duration": 1})
    assert config.load.users == 3 and RunConfig.__pydantic_complete__  # validates as before
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD_PROBE],
        input=pickle.dumps(config),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [False, False, 3]


_MOCK_PROBE = """
import json, pickle, sys
from loadtui.mock.servers import _imported
build = _imported("loadtui.mock.server:build_app", client_tls=False)
build(pickle.loads(sys.stdin.buffer.read()))  # as the mock's process takes its settings
print(json.dumps(sorted(sys.modules)))
"""


def test_the_embedded_mock_imports_no_aiohttp() -> None:
    """The mock's process imports its app's module and builds its app without aiohttp (nor
    yarl, attrs, the email package): their import was ~0.1 s of CPU before the mock served."""
    import pickle

    from loadtui.model.plan import MockSpec

    settings = pickle.dumps(MockSpec(tokens=3))
    proc = subprocess.run(
        [sys.executable, "-c", _MOCK_PROBE], input=settings, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    held = {m.split(".")[0] for m in json.loads(proc.stdout)}
    assert "loadtui" in held
    assert not held & {"aiohttp", "yarl", "attr", "email", "httpx"}, sorted(held)


_MOCK_TLS_PROBE = """
import json, ssl
from loadtui.mock.servers import _imported
_imported("loadtui.mock.proxy:build_proxy", client_tls=False)  # an app that imports aiohttp
from aiohttp import connector
after = ssl.create_default_context().cert_store_stats()["x509_ca"]
print(json.dumps([connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509_ca"], after]))
"""


def test_a_server_without_client_tls_skips_the_ca_bundle_only_while_aiohttp_imports() -> None:
    """A server whose app sends no request (``client_tls=False``) and whose module imports
    aiohttp: aiohttp's default client contexts, made at import, load no CA bundle in its
    process; a context made after that loads it as usual."""
    import ssl

    bundle = ssl.create_default_context().cert_store_stats()["x509_ca"]
    proc = subprocess.run(
        [sys.executable, "-c", _MOCK_TLS_PROBE], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [0, bundle]


_PRESPAWN_PROBE = """
import json, sys
import loadtui.cli.commands, loadtui.run.target, loadtui.mock.prespawn, loadtui.engine.prespawn
print(json.dumps(sorted(sys.modules)))
"""


def test_what_the_cli_imports_before_it_prespawns_holds_no_console_session_nor_messages() -> None:
    """The CLI forks the run's mock and workers once its options are checked and before the
    console's and the session's imports (and the messages, which a forked worker imports
    itself): those are what overlaps the children's start-up."""
    proc = subprocess.run(
        [sys.executable, "-c", _PRESPAWN_PROBE], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    held = set(json.loads(proc.stdout))
    late = {"rich", "loadtui.run.session", "loadtui.engine.coordinator", "loadtui.engine.messages"}
    late.add("loadtui.model.record")  # the run record's types: for the session, not the options
    assert not held & late, sorted(held & late)
