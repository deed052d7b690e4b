"""The app's live run: one at a time, saved as interrupted on quit or on a signal, a watchdog.

The app wires screens; what outlives a screen is here: the bridge of the live run (one at a
time), the paths of the runs saved while the app was open (printed after it closes), what
SIGTERM and SIGHUP do (save the run, then exit 130) and the watchdog that ends the process if
Textual's shutdown blocks on a terminal that is gone. This module never imports Textual.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.metrics_server import MetricsServer
from loadtui.tui.bridge import RunBridge, prepare_processes

__all__ = ["WATCHDOG_S", "RunLifecycle"]

WATCHDOG_S = 3.0
"""After a signal the run is saved and the workers are stopped: the app gets this long to close
before the process exits 130 anyway (after SIGHUP, writing to the gone terminal can block)."""


class RunLifecycle:
    def __init__(self, metrics: MetricsServer | None = None) -> None:
        prepare_processes()
        self.metrics = metrics
        """``--metrics-port``'s server: every run started in the app is published to it."""
        self.bridge: RunBridge | None = None
        """The newest run (live or finished); None before the first."""
        self.saved: list[str] = []
        """Paths of the runs saved while the app was open, each once."""
        self.interrupted_by: str | None = None
        """``quit`` (the user confirmed) or the signal's name once a run or the app is ended."""

    @property
    def live(self) -> bool:
        return self.bridge is not None and not self.bridge.finished

    def begin(
        self,
        config: RunConfig,
        api_key: str | None = None,
        schedule: list[ControlChange] | None = None,
        replay_of: str | None = None,
        out: Path | None = None,
        record_requests: Path | None = None,
    ) -> RunBridge | None:
        """The bridge of a new run (its screen starts it); None while another one is live."""
        if self.live:
            return None
        self.bridge = RunBridge(
            config,
            api_key,
            schedule,
            replay_of,
            out=out,
            record_requests=record_requests,
            metrics=self.metrics,
        )
        return self.bridge

    def remember(self, path: str) -> None:
        """A saved run's path, printed after the app closes (once, whoever saw it first)."""
        if path not in self.saved:
            self.saved.append(path)

    def catch_signals(
        self, loop: asyncio.AbstractEventLoop, handler: Callable[[str], None]
    ) -> None:
        """SIGTERM and SIGHUP call ``handler(name)`` on the app's event loop."""
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, handler, sig.name)

    async def end(self, signal_name: str | None) -> None:
        """Save the live run as interrupted and wait for it (never blocking the event loop);
        after a signal, arm the watchdog: the app is about to exit 130."""
        if signal_name is not None:  # SIGTERM/SIGHUP ended the app: 130, run or no run
            self.interrupted_by = signal_name
        bridge = self.bridge
        if bridge is not None and not bridge.finished:
            self.interrupted_by = signal_name or "quit"
            bridge.interrupt()
            await asyncio.to_thread(bridge.wait, 60.0)
            if bridge.path is not None:
                self.remember(str(bridge.path))
        if signal_name is not None:
            arm_watchdog()


def arm_watchdog(seconds: float = WATCHDOG_S, code: int = 130) -> threading.Timer:
    """End the process with ``code`` after ``seconds`` unless it ended by then."""
    watchdog = threading.Timer(seconds, os._exit, args=(code,))
    watchdog.daemon = True
    watchdog.start()
    return watchdog
