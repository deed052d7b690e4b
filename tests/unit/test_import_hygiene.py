"""What each process loadtui starts loads: Textual only in the app, rich never in a worker or
the mock (tests/cli/test_mock_not_loaded.py: the mock never in a run against a real URL).

import-linter proves the static imports; these tests prove what a fresh interpreter actually
holds (third-party imports included: a library that pulls in rich is caught here). A spawned
child imports the module of its ``target`` and — started from the ``loadtui`` console script —
re-runs that script's imports (``from loadtui.cli import main``) as ``__mp_main__``, so every
child entry is checked together with ``loadtui.cli`` (tests/engine/test_spawned_imports.py
checks a real spawned mock process).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# entry point → (what its process starts with, libraries it must not load); "--help" = build and
# format the parser, as ``loadtui --help`` does
ENTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "worker process": (("loadtui.cli", "loadtui.engine.channel"), ("textual", "rich")),
    "mock process": (
        ("loadtui.cli", "loadtui.mock.servers", "loadtui.mock.server"),
        ("textual", "rich"),
    ),
    "proxy process": (("loadtui.cli", "loadtui.mock.proxy"), ("textual", "rich")),
    "loadtui --help": (("loadtui.cli", "--help"), ("textual", "rich")),
    "headless runner (the console may load rich)": (("loadtui.headless.runner",), ("textual",)),
}

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    if name == "--help":
        sys.modules["loadtui.cli"].build_parser().format_help()
    else:
        importlib.import_module(name)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


# one xdist worker starts the module's interpreters, once (pyproject: loadgroup)
pytestmark = pytest.mark.xdist_group("import_hygiene")


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Top-level packages each entry's fresh interpreter holds; the interpreters run side by
    side (each import is a second of CPU on a busy machine, one after another they add up)."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", _PROBE, *entry],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (entry, _) in ENTRIES.items()
    }
    found: dict[str, set[str]] = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name}: {err}"
        found[name] = set(json.loads(out))
    return found


@pytest.mark.parametrize("name", list(ENTRIES))
def test_entry_point_loads_no_front_end_library_it_must_not(
    name: str, loaded: dict[str, set[str]]
) -> None:
    held = loaded[name]
    forbidden = set(ENTRIES[name][1])
    assert "loadtui" in held  # the probe really imported the entry
    assert not held & forbidden, f"{name} loads {sorted(held & forbidden)}"
