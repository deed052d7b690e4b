"""loadtui's processes load no pydantic plugin: its models validate its own options and files.

Pydantic looks for plugins (entry points of the ``pydantic`` group) when it builds its first
validator in a process: it imports ``importlib.metadata`` — with ``email``, ``zipfile`` and
``csv`` — and reads the metadata of every installed distribution. In a headless run's parent
that was ~20 ms of the ~200 ms of CPU before its load starts (docs/performance.md, "Start-up
and exit"), more in a large environment, spent to find plugins (logfire's instrumentation, for
one) that have nothing to do in a load tester's option checks.

``PYDANTIC_DISABLE_PLUGINS`` switches the lookup off but not that import, which pydantic's
plugin loader makes first. ``skip`` gives pydantic a loader that finds none, in place of its
own, before any validator is built: only for the pydantic 2 releases whose validator building
asks that loader for ``get_plugins`` alone (checked: 2.11 to 2.14), and only in this process
and the children it forks (which inherit the module table; the environment is left alone).
Any other version keeps its own loader, with the documented switch set instead (unless the
user set it), which spawned children inherit too.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable

__all__ = ["skip"]

_LOADER = "pydantic.plugin._loader"
_KNOWN = range(11, 15)
"""pydantic 2.x minors whose only use of the loader is ``get_plugins()`` (the schema
validator's factory imports it when it builds a validator)."""


def skip() -> None:
    """Load no pydantic plugin in this process (and the processes it forks). Call before the
    first validator is built; nothing happens once pydantic's own loader is imported."""
    if _LOADER in sys.modules:
        return
    from pydantic.version import VERSION

    major, minor = (int(part) for part in VERSION.split(".")[:2])
    if major != 2 or minor not in _KNOWN:  # the documented switch; its children inherit it
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        return
    loader = types.ModuleType(_LOADER, "loadtui: pydantic plugins are not loaded here")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[_LOADER] = loader


def _no_plugins() -> Iterable[object]:
    return ()
