"""What each process loadtui starts loads: Textual only in the app, rich never in a worker or
the mock (tests/cli/test_mock_not_loaded.py: the mock never in a run against a real URL).

import-linter proves the static imports; these tests prove what a fresh interpreter actually
holds, which also catches an import hidden in a function that runs on the path. A spawned
child imports the module of its ``target`` and — started from the ``loadtui`` console script —
re-runs that script's imports (``from loadtui.cli import main``) as ``__mp_main__``, so every
child entry is checked together with ``loadtui.cli``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# entry point → (modules its process starts with, libraries it must not load)
ENTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "worker process": (("loadtui.cli", "loadtui.engine.channel"), ("textual", "rich")),
    "mock process": (
        ("loadtui.cli", "loadtui.mock.servers", "loadtui.mock.server"),
        ("textual", "rich"),
    ),
    "proxy process": (("loadtui.cli", "loadtui.mock.proxy"), ("textual", "rich")),
    "headless runner (the console may load rich)": (("loadtui.headless.runner",), ("textual",)),
}

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
if "loadtui.cli" in sys.argv[1:]:
    sys.modules["loadtui.cli"].build_parser().format_help()  # what `loadtui --help` runs
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _top_level_modules(*entry: str) -> set[str]:
    """Top-level packages a fresh interpreter holds after importing ``entry``."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *entry], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("name", list(ENTRIES))
def test_entry_point_loads_no_front_end_library_it_must_not(name: str) -> None:
    modules, forbidden = ENTRIES[name]
    loaded = _top_level_modules(*modules)
    assert "loadtui" in loaded  # the probe really imported the entry
    assert not loaded & set(forbidden), f"{name} loads {sorted(loaded & set(forbidden))}"


def test_help_loads_neither_textual_nor_rich() -> None:
    loaded = _top_level_modules("loadtui.cli")
    assert not loaded & {"textual", "rich"}
