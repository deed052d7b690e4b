"""The app's side of a run: a background thread that owns the run, and a mailbox for controls.

Load runs in worker processes; the coordinator that merges their snapshots runs on this thread,
never on Textual's event loop. The thread publishes a ``Frame`` every ``frame_every`` seconds by
swapping one attribute (the newest frame wins, older ones are simply dropped — coalescing), and
the run screen reads it on a fixed timer. Keys on the screen become ``ControlChange``s queued
here and applied, with their offsets, on the thread that owns the coordinator. This module never
imports Textual, so it can be tested like the engine.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from time import perf_counter
from typing import Any

from loadtui.errors import LoadtuiError
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.session import RunSession
from loadtui.tui.frame import Frame, build_frame

__all__ = ["RunBridge", "prepare_processes"]


def prepare_processes() -> None:
    """Start multiprocessing's resource tracker while ``sys.stderr`` is still the real one.

    Textual swaps ``sys.stderr`` for an object without a usable file descriptor; a tracker
    started after that fails with "bad value(s) in fds_to_keep" and no worker can spawn.
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


class RunBridge:
    def __init__(
        self,
        config: RunConfig,
        api_key: str | None = None,
        schedule: list[ControlChange] | None = None,
        replay_of: str | None = None,
        frame_every: float = 0.5,
        out: Path | None = None,
    ) -> None:
        self.config = config
        self.api_key = api_key
        self.schedule = sorted(schedule or [], key=lambda c: c.at or 0.0)
        self.replay_of = replay_of
        self.frame_every = frame_every
        self.out = out
        self.frame: Frame = Frame(phase="starting", duration=config.load.total_duration)
        """The newest frame; read it, never mutate it."""
        self.messages: list[str] = []
        self.run: dict[str, Any] | None = None
        self.path: Path | None = None
        self.error: str | None = None
        self._inbox: queue.SimpleQueue[ControlChange] = queue.SimpleQueue()
        self._end: str | None = None
        self._thread = threading.Thread(target=self._main, name="loadtui-run", daemon=True)

    # -- called from the UI --------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def send(self, change: ControlChange) -> None:
        """Queue a live change; it is applied and recorded on the run thread within ~50 ms."""
        self._inbox.put(change)

    def interrupt(self) -> None:
        """End the run now (the user quit): drain briefly, save it as interrupted."""
        self._end = "interrupted"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is saved (or failed to start); True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return self.run is not None or self.error is not None

    # -- the run thread ------------------------------------------------------------------
    def _main(self) -> None:
        try:
            with RunSession(
                self.config, self.api_key, self.replay_of, self.out, say=self.messages.append
            ) as session:
                coord = session.start()
                status, error = "completed", None
                try:
                    status = self._drive(session)
                except Exception as exc:  # a bug here must not lose the run
                    status, error = "failed", f"{type(exc).__name__}: {exc}"
                self.frame = build_frame(coord, "stopping", session.base_url)
                grace = 0.5 if status == "interrupted" else None
                run, path = session.finish(status, error, grace)
                self.frame = build_frame(coord, run["status"], session.base_url)
                self.path = path
                self.run = run
        except LoadtuiError as exc:
            self.error = str(exc)
            self.frame = Frame(phase="failed", error=self.error)
        except Exception as exc:  # never die silently behind the UI
            self.error = f"{type(exc).__name__}: {exc}"
            self.frame = Frame(phase="failed", error=self.error)

    def _drive(self, session: RunSession) -> str:
        coord = session.coord
        assert coord is not None
        next_frame = 0.0
        while True:
            if self._end:
                return self._end
            while True:
                try:
                    change = self._inbox.get_nowait()
                except queue.Empty:
                    break
                coord.apply(change)
                if change.action == "stop":
                    return "stopped"
            while self.schedule and (self.schedule[0].at or 0.0) <= coord.elapsed:
                change = self.schedule.pop(0)
                coord.apply(change)
                if change.action == "stop":
                    return "stopped"
            if coord.done:
                return "stopped" if coord.stop_requested else "completed"
            coord.tick(0.05)
            session.checkpoint()
            now = perf_counter()
            if now >= next_frame:
                phase = "paused" if coord.paused else "running"
                self.frame = build_frame(coord, phase, session.base_url)
                next_frame = now + self.frame_every
