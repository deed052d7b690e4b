"""A CLI process looks for no pydantic plugin (runtime/pydanticplugins.py): validation works as
before, refuses what it refused, and ``importlib.metadata`` (~20 ms of the start-up's CPU) is
never imported for it. In a fresh interpreter, as the CLI's process is."""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = r"""
import json, sys
from loadtui.runtime import pydanticplugins
pydanticplugins.skip()
from pydantic import ValidationError
from loadtui.model.plan import RunConfig
good = RunConfig.model_validate({"preset": "p", "target": {"url": "http://127.0.0.1:9/v1"}})
try:
    RunConfig.model_validate({"target": {"url": 5}})
    refused = False
except ValidationError:
    refused = True
from pydantic.plugin import _loader
print(json.dumps({
    "url": good.target.url,
    "refused": refused,
    "metadata": "importlib.metadata" in sys.modules,
    "plugins": list(_loader.get_plugins()),
}))
"""


def test_models_validate_as_before_and_no_plugin_lookup_is_imported() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True
    )
    got = json.loads(done.stdout)
    assert got == {
        "url": "http://127.0.0.1:9/v1",
        "refused": True,
        "metadata": False,
        "plugins": [],
    }
