"""The app's side of a run: a background thread that owns the run, and a mailbox for controls.

Load runs in worker processes; the coordinator that merges their snapshots runs on this thread,
never on Textual's event loop. The thread runs the run service's one drive loop
(``loadtui.run.drive``), which builds a ``LiveFrame`` right after a tick every ``frame_every``
seconds; the newest frame waits in one slot and the screen is told through ``on_change`` — once
until it takes the frame, so a slow screen never has stale frames queued (the newest wins,
older ones are dropped: coalescing). Keys on the screen become ``ControlChange``s queued here and
applied, with their offsets, on the thread that owns the coordinator. This module never imports
Textual, so it can be tested like the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from loadtui.errors import LoadtuiError
from loadtui.locations import timing_log_file
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord
from loadtui.run.drive import Controls, RunDriver
from loadtui.run.frame import LiveFrame
from loadtui.run.metrics_server import MetricsServer
from loadtui.run.session import RunSession
from loadtui.runtime import timing

__all__ = ["RunBridge", "prepare_processes"]


def prepare_processes() -> None:
    """Start multiprocessing's resource tracker while ``sys.stderr`` is still the real one,
    and send ``LOADTUI_DEBUG_TIMING`` stamps to ``timing_log_file()`` rather than the screen.

    Textual swaps ``sys.stderr`` for an object without a usable file descriptor; a tracker
    started after that fails with "bad value(s) in fds_to_keep" and no worker can spawn.
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    # debug-timing stamps (the mock's, the workers') would be written over the app
    timing.to_file(timing_log_file())


class RunBridge:
    def __init__(
        self,
        config: RunConfig,
        api_key: str | None = None,
        schedule: list[ControlChange] | None = None,
        replay_of: str | None = None,
        frame_every: float = 0.5,
        out: Path | None = None,
        metrics: MetricsServer | None = None,
        record_requests: Path | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.record_requests = record_requests
        self.api_key = api_key
        self.replay_of = replay_of
        self.frame_every = frame_every
        self.out = out
        self.controls = Controls(schedule or [])
        self.messages: list[str] = []
        """What the session said (target, minted key): append-only, read from any thread."""
        self.run: RunRecord | None = None
        self.path: Path | None = None
        self.error: str | None = None
        self.on_change: Callable[[], None] | None = None
        """Called on the run thread when a frame or a message is new; not again until the
        screen ``take``s the frame (set it before ``start``)."""
        self._frame: LiveFrame = LiveFrame(phase="starting", duration=config.load.total_duration)
        self._told = False
        self._lock = threading.Lock()
        self._end: str | None = None
        self._thread = threading.Thread(target=self._main, name="loadtui-run", daemon=True)

    # -- called from the UI --------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def send(self, change: ControlChange) -> None:
        """Queue a live change; it is applied and recorded on the run thread within ~50 ms."""
        self.controls.send(change)

    def show_users(self, first: int, count: int) -> None:
        """Have the workers send the rows of users ``first`` … ``first + count - 1`` (the users
        table's window): passed to the coordinator on the run thread, never recorded."""
        self.controls.show_users(first, count)

    def interrupt(self) -> None:
        """End the run now (the user quit): drain briefly, save it as interrupted."""
        self._end = "interrupted"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is saved (or failed to start); True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def frame(self) -> LiveFrame:
        """The newest frame; read it, never mutate it."""
        return self._frame

    def take(self) -> LiveFrame:
        """The newest frame, for the screen that was told: the next change tells it again."""
        with self._lock:
            self._told = False
            return self._frame

    @property
    def finished(self) -> bool:
        return self.run is not None or self.error is not None

    # -- the run thread ------------------------------------------------------------------
    def _changed(self, frame: LiveFrame | None = None) -> None:
        """A new frame (kept in the slot) or message: tell the screen unless it was told."""
        with self._lock:
            if frame is not None:
                self._frame = frame
            tell = self.on_change
            if tell is None or self._told:
                return
            self._told = True
        tell()

    def _say(self, text: str) -> None:
        self.messages.append(text)
        self._changed()

    def _main(self) -> None:
        try:
            with RunSession(
                self.config,
                self.api_key,
                self.replay_of,
                self.out,
                say=self._say,
                record_requests=self.record_requests,
            ) as session:
                driver = RunDriver(
                    session,
                    self.controls,
                    publish=self._changed,
                    frame_every=self.frame_every,
                    ended=lambda: self._end,
                    metrics=self.metrics,
                )
                run, path = driver.run(grace=lambda s: 0.5 if s == "interrupted" else None)
                self.path = path
                self.run = run
        except LoadtuiError as exc:
            self.error = str(exc)
        except Exception as exc:  # never die silently behind the UI
            self.error = f"{type(exc).__name__}: {exc}"
        if self.error is not None:
            self._changed(LiveFrame(phase="failed", error=self.error))
        else:
            self._changed()  # the run is saved: the screen says where
