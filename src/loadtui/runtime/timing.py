"""Phase stamps of a run's start-up and exit on stderr, when ``LOADTUI_DEBUG_TIMING=1``.

Where a second of start-up goes (imports, the mock's and the workers' processes, the first
request, the drain, the save, the exit) cannot be seen from outside; these stamps show it, one
line per phase, from every process of the run on one clock: ``time.monotonic()``, which on
Linux is the system-wide ``CLOCK_MONOTONIC``, so a parent's and its children's stamps compare.
Each line counts from one origin: ``$LOADTUI_TIMING_ORIGIN`` (a launcher — the start-up
benchmark — sets it to its own ``time.monotonic()`` just before it starts loadtui, so the
interpreter's start-up counts too), else the moment this module was first imported; the
parent exports it, so spawned children count from the same instant. Off (the default) a stamp
costs one test of a module constant, and none is ever on the request path.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = ["ENABLED", "stamp", "to_file"]

ENABLED = os.environ.get("LOADTUI_DEBUG_TIMING", "") not in ("", "0")
"""Read once, at import: a process's stamps are on or off for its whole life."""

_ORIGIN_VAR = "LOADTUI_TIMING_ORIGIN"
_LOG_VAR = "LOADTUI_TIMING_LOG"
_log: str | None = os.environ.get(_LOG_VAR) or None
"""A file the stamps are appended to instead of stderr (``to_file``; children inherit it)."""


def _origin() -> float:
    try:
        return float(os.environ[_ORIGIN_VAR])
    except (KeyError, ValueError):
        now = time.monotonic()
        if ENABLED:  # children (spawned with this environment) count from here too
            os.environ[_ORIGIN_VAR] = repr(now)
        return now


_ORIGIN = _origin()


def to_file(path: Path) -> None:
    """Append the stamps of this process, and of the processes it spawns from now on, to
    ``path`` rather than stderr: the app draws on the terminal, and a worker's or the mock's
    line on their inherited stderr would be written over it. Nothing when stamps are off."""
    global _log
    if not ENABLED:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    _log = os.environ[_LOG_VAR] = str(path)


def stamp(phase: str) -> None:
    """One line on stderr (or the ``to_file`` file): seconds since the origin, the phase, this
    process's id and the CPU time it has used."""
    if not ENABLED:
        return
    now = time.monotonic()
    cpu = time.process_time()  # this process's own CPU so far: where a busy machine's time went
    line = (
        f"loadtui timing: {now - _ORIGIN:8.3f} s  {phase}  [pid {os.getpid()}, cpu {cpu:.3f} s]\n"
    )
    if _log is not None:
        try:
            with open(_log, "a", encoding="utf-8") as log:  # one write: lines do not interleave
                log.write(line)
        except OSError:
            pass
        return
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # no stderr (closed, or None): no stamp
        pass
