"""Checkpoints: the run file rewritten every few seconds while a run goes, so a SIGKILL (or the
OOM killer) loses seconds, not the run.

The drive loop only assembles the run (milliseconds); the JSON is written on a thread of its
own, because a long soak's file takes a while to encode — 0.4 s for an hour of series, 12 s
for a day on a busy core — and the drive loop is what empties the workers' pipes. Writes are
spaced so that encoding stays under ~5 % of the time, and the final save waits for the last
checkpoint so it can never be overwritten by it. Each series point is encoded once, by the
first checkpoint that holds it (``SeriesText``): the rest of the file is a few KB, so a
checkpoint's cost no longer grows with the run (docs/performance.md, "Memory at a million
requests (issue 15)").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from time import perf_counter
from typing import Any

from loadtui.model.record import RunRecord
from loadtui.storage.runfile import save_run
from loadtui.storage.seriestext import SeriesText

__all__ = ["CHECKPOINT_EVERY", "Checkpoints"]

CHECKPOINT_EVERY = 5.0
"""Seconds between checkpoints (more for a file that takes long to write)."""


class Checkpoints:
    def __init__(
        self, path: Path, secrets: list[str], warn: Callable[[str], None], first: float = 1.0
    ) -> None:
        self.path = path
        self.secrets = secrets
        self.warn = warn
        self.written = False
        """A checkpoint reached ``path`` (the final save must replace or remove it)."""
        self._next = perf_counter() + first
        self._writer: threading.Thread | None = None
        self._series = SeriesText()
        """The points written so far, as text (used by one writer thread at a time)."""

    def due(self) -> bool:
        """Time for the next one, and the last one is no longer being written."""
        busy = self._writer is not None and self._writer.is_alive()
        return not busy and perf_counter() >= self._next

    def write(self, run: RunRecord | Mapping[str, Any]) -> None:
        """Write ``run`` (status ``running``) in the background (a record is frozen data)."""
        self._next = perf_counter() + CHECKPOINT_EVERY
        self._writer = threading.Thread(
            target=self._write, args=(run,), name="loadtui-checkpoint", daemon=True
        )
        self._writer.start()

    @property
    def series_text(self) -> SeriesText:
        """The points written so far, as text: the final save reuses them once ``close()``
        has returned (no writer left)."""
        return self._series

    def close(self) -> None:
        """No more checkpoints; wait for one being written."""
        self._next = float("inf")
        if self._writer is not None:
            self._writer.join()

    def _write(self, run: RunRecord | Mapping[str, Any]) -> None:
        started = perf_counter()
        try:
            # trust: the final save only; the points already written are not encoded again
            save_run(run, self.path, self.secrets, remember=False, series_text=self._series)
        except Exception as exc:  # OSError, or a bug while encoding: never kill the run
            self._next = float("inf")  # said once; the final save has its fallbacks
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.warn(f"cannot checkpoint the run to {self.path} ({why})")
            return
        self.written = True
        took = perf_counter() - started
        self._next = max(self._next, started + 20 * took)
