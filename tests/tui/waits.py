"""Waiting in Pilot tests: on a condition, never for a fixed time.

A fixed ``pilot.pause(0.3)`` is too short on a busy 2-core machine (a flaky test) and longer
than needed everywhere else (a slow suite). ``until`` lets the app run until the condition
holds and, when it never does, fails naming the condition.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

__all__ = ["POLL_S", "keys", "until"]

POLL_S = 0.05
"""One poll step. Not ``pilot.pause()`` without a delay: that waits until the process looks
idle by its CPU time, and during a live run the run thread in this process keeps it busy, so
each poll could take up to a second. ``pause(POLL_S)`` still lets the screen process its
pending messages first."""


async def until(
    pilot: Any, predicate: Callable[[], object], timeout: float = 30.0, what: str = ""
) -> None:
    """Let the app run until ``predicate()`` is true; fail after ``timeout`` seconds, saying
    what was awaited (``what``, or else the line of source that asked)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or _source(predicate)}")
        await pilot.pause(POLL_S)


def _source(predicate: Callable[[], object]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)


def keys(pilot: Any, *names: str) -> None:
    """Press keys as ``pilot.press`` does (the same ``Key`` events, built the same way, posted
    through the driver in order) without its waits for an idle process, which during a live run
    last up to 2 s a key (the run thread keeps the process busy). Follow it with ``until`` on
    what the keys should have done."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    for name in names:
        key = _character_to_key(name) if len(name) == 1 and not name.isalnum() else name
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        pilot.app._driver.send_message(event)
