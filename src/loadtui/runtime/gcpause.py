"""The garbage collector paused while a process imports its modules.

Importing pydantic, the run's models and aiohttp allocates hundreds of thousands of objects
and almost no garbage cycles, yet each allocation burst starts a collection that walks the
young objects: some 15 % of a loadtui process's import CPU (docs/performance.md, "Start-up and
exit"). Paused for the imports of a run's start-up only; collections resume after them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside the block; as before after it (a collector someone else
    disabled stays disabled)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
