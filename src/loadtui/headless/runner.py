"""A headless run from start to saved file: target, coordinator, signals, progress, summary.

The same function serves ``loadtui --headless`` and ``loadtui replay --headless``. Whatever
happens after the workers start — the time runs out, a stop control, a threshold fails, Ctrl-C,
SIGTERM, a dropped SSH session (SIGHUP) — the run is saved before this returns; a second signal
cuts the drain short. Progress and the summary go to stdout, the last line naming the run file;
notices about where the run went go to stderr.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any, TextIO

from rich.live import Live
from rich.text import Text

from loadtui.headless.console import (
    live_wanted,
    make_console,
    plain_printer,
    progress_line,
    progress_panel,
    summary_renderable,
)
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.exitcodes import ExitCode
from loadtui.run.session import RunSession

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


class _StartInterrupted(BaseException):
    """A signal while the run was starting (pre-flight, workers): no load was sent yet."""


class _Stop:
    def __init__(self) -> None:
        self.signal: str | None = None
        self.count = 0
        self.starting = False
        """While True a signal aborts the start at once (a pre-flight may wait a minute)."""

    def __call__(self, signum: int, frame: Any) -> None:
        self.signal = signal.Signals(signum).name
        self.count += 1
        if self.starting:
            self.starting = False
            raise _StartInterrupted


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
            warn=_warn,
            userinfo=options.userinfo,
            target_source=options.target_source,
        ) as session,
    ):
        try:
            stop.starting = True
            session.start()
        except _StartInterrupted:
            _warn(f"interrupted by {stop.signal} while starting; no load was sent, nothing saved")
            return ExitCode.INTERRUPTED, None
        finally:
            stop.starting = False
        schedule = sorted(options.schedule, key=lambda c: c.at or 0.0)
        error = None
        try:
            status = _drive(session, schedule, stop, console, live_mode)
        except Exception as exc:  # a bug in drawing or scheduling must not lose the run
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            if stop.signal:  # e.g. drawing onto the terminal that SIGHUP just closed
                status, error = "interrupted", None
        seen = stop.count  # any signal after this one cuts the drain short
        _say_drain(session, say, 0.0 if seen > 1 else None)
        run, path = session.finish(
            status, error, grace=0.0 if seen > 1 else None, cut_short=lambda: stop.count > seen
        )
        asked = session.out or session.path
    return _report(run, path, asked, stop, console, say), path


def _say_drain(session: RunSession, say: Callable[[str], None], grace: float | None) -> None:
    """The drain can take ``graceful_stop`` seconds (10 by default) of silence: say so."""
    coord = session.coord
    in_flight = coord.view().in_flight if coord is not None else 0
    grace = session.config.load.graceful_stop if grace is None else grace
    if in_flight and grace > 0:
        say(
            f"load ended: waiting up to {grace:g}s for {in_flight} request(s) in flight "
            "(graceful_stop; Ctrl-C again cuts it short)"
        )


def _warn(message: str) -> None:
    """Notices about the run file go to stderr, so stdout stays the summary."""
    print(f"loadtui: {message}", file=sys.stderr, flush=True)


def _report(
    run: dict[str, Any],
    path: Path | None,
    asked: Path,
    stop: _Stop,
    console: Any,
    say: Callable[[str], None],
) -> ExitCode:
    """Print the summary and where the run went (the last line); returns the exit code."""
    status = run["status"]
    console.print(summary_renderable(run))
    if run["error"]:
        say(f"the run failed: {run['error']}")
    if status == "interrupted":
        console.print(f"interrupted by {stop.signal or 'stop'}; the run's status is interrupted")
    elif status == "stopped":
        console.print(f"stopped at {run.get('load_ended_s') or 0:g}s by a stop control")
    if path is None:
        _warn("the run could not be saved anywhere (see the lines above)")
        console.print("run not saved")
        return ExitCode.INTERRUPTED if status == "interrupted" else ExitCode.RUN_FAILED
    # one unwrapped plain line, so scripts can take the path from the end of stdout
    say(f"run saved: {path}")
    if status == "interrupted":
        return ExitCode.INTERRUPTED
    if status == "failed" or path != asked:
        return ExitCode.RUN_FAILED
    if any(not t["passed"] for t in run["thresholds"]):
        return ExitCode.THRESHOLDS_FAILED
    return ExitCode.OK


def _drive(
    session: RunSession,
    schedule: list[ControlChange],
    stop: _Stop,
    console: Any,
    live_mode: bool,
) -> str:
    """Tick the coordinator until the run is done; returns the run's status. Every wait is
    bounded (0.1 s), so a signal ends the run however busy the coordinator is."""
    coord = session.coord
    assert coord is not None
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
                return "stopped" if coord.stop_requested else "completed"
            timeout = 0.1
            if schedule:
                timeout = max(0.0, min(timeout, (schedule[0].at or 0.0) - coord.elapsed))
            coord.tick(timeout)
            while schedule and (schedule[0].at or 0.0) <= coord.elapsed:
                change = schedule.pop(0)
                coord.apply(change)
                if change.action == "stop":
                    return "stopped"
            session.checkpoint()
            now = perf_counter()
            if live is not None:
                if now - last_draw >= 0.25:
                    live.update(progress_panel(coord.view(), open_loop))
                    last_draw = now
            elif coord.elapsed >= next_plain:
                console.print(Text(progress_line(coord.view(), open_loop)), soft_wrap=True)
                next_plain += plain_every
