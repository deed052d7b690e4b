"""A headless run from start to saved file: target, coordinator, signals, progress, summary.

The same function serves ``loadtui --headless`` and ``loadtui replay --headless``. Whatever
happens after the workers start — the time runs out, a threshold fails, Ctrl-C, SIGTERM, a
dropped SSH session (SIGHUP) — the run is saved before this returns.
"""

from __future__ import annotations

import signal
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any, TextIO

from rich.live import Live
from rich.text import Text

from loadtui.engine.coordinator import Coordinator
from loadtui.headless.console import (
    live_wanted,
    make_console,
    plain_printer,
    progress_line,
    progress_panel,
    summary_renderable,
)
from loadtui.headless.exitcodes import ExitCode
from loadtui.headless.session import RunSession
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig

__all__ = ["RunOptions", "run_headless"]


@dataclass
class RunOptions:
    api_key: str | None = None
    out: Path | None = None
    schedule: list[ControlChange] = field(default_factory=list)
    replay_of: str | None = None
    stream: TextIO | None = None
    """Where progress and the summary go (stdout by default)."""
    live: bool | None = None
    """Redraw progress in place; None = when the output is a terminal."""
    userinfo: str | None = None
    """``user:password`` taken out of the target URL (Basic auth, memory only)."""
    target_source: str | None = None
    """Where the target URL came from, for the ``target:`` line."""


class _Stop:
    def __init__(self) -> None:
        self.signal: str | None = None
        self.count = 0

    def __call__(self, signum: int, frame: Any) -> None:
        self.signal = signal.Signals(signum).name
        self.count += 1


@contextmanager
def _signals(stop: _Stop):
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    previous = {}
    for name in names:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_headless(
    config: RunConfig, options: RunOptions | None = None
) -> tuple[ExitCode, Path | None]:
    """Run ``config`` to the end; returns the exit code and the saved run file."""
    options = options or RunOptions()
    out = options.stream or sys.stdout
    console = make_console(out)
    live_mode = live_wanted(console, options.live)
    say = plain_printer(console)
    stop = _Stop()
    with (
        _signals(stop),
        RunSession(
            config,
            options.api_key,
            options.replay_of,
            options.out,
            say=say,
            userinfo=options.userinfo,
            target_source=options.target_source,
        ) as session,
    ):
        coord = session.start()
        schedule = sorted(options.schedule, key=lambda c: c.at or 0.0)
        error = None
        try:
            status = _drive(coord, schedule, stop, console, live_mode)
        except Exception as exc:  # a bug in drawing or scheduling must not lose the run
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        run, path = session.finish(status, error, grace=0.0 if stop.count > 1 else None)
    status = run["status"]
    console.print(summary_renderable(run))
    say(f"run saved: {path}")
    if run["error"]:
        say(f"the run failed: {run['error']}")
    if status == "interrupted":
        say(f"interrupted by {stop.signal or 'stop'}; the run was saved with status interrupted")
        return ExitCode.INTERRUPTED, path
    if any(not t["passed"] for t in run["thresholds"]) or status == "failed":
        return ExitCode.THRESHOLDS_FAILED, path
    return ExitCode.OK, path


def _drive(
    coord: Coordinator, schedule: list[ControlChange], stop: _Stop, console: Any, live_mode: bool
) -> str:
    """Tick the coordinator until the run is done; returns the run's status."""
    plain_every = 1.0 if coord.duration <= 60 else 5.0
    open_loop = coord.config.load.open_loop
    next_plain = plain_every
    live = (
        Live(
            progress_panel(coord.view(), open_loop),
            console=console,
            refresh_per_second=4,
            transient=True,
        )
        if live_mode
        else None
    )
    last_draw = 0.0
    with live if live is not None else ExitStack():
        while True:
            if stop.signal:
                return "interrupted"
            if coord.done:
                return "completed"
            timeout = 0.1
            if schedule:
                timeout = max(0.0, min(timeout, (schedule[0].at or 0.0) - coord.elapsed))
            coord.tick(timeout)
            while schedule and (schedule[0].at or 0.0) <= coord.elapsed:
                change = schedule.pop(0)
                coord.apply(change)
                if change.action == "stop":
                    return "completed"
            now = perf_counter()
            if live is not None:
                if now - last_draw >= 0.25:
                    live.update(progress_panel(coord.view(), open_loop))
                    last_draw = now
            elif coord.elapsed >= next_plain:
                console.print(Text(progress_line(coord.view(), open_loop)), soft_wrap=True)
                next_plain += plain_every
