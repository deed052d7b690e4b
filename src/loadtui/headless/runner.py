"""A headless run from start to saved file: target, coordinator, signals, progress, summary.

The same function serves ``loadtui --headless`` and ``loadtui replay --headless``. Whatever
happens after the workers start — the time runs out, a stop control, a threshold fails, Ctrl-C,
SIGTERM, a dropped SSH session (SIGHUP) — the run is saved before this returns; a second signal
cuts the drain short. Progress and the summary go to stdout, the last line naming the run file;
notices about where the run went go to stderr. ``--quiet`` leaves stdout the verdict line and
the run path, ``--json`` one JSON document (``RunOptions.output``).
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Literal, TextIO

from loadtui.engine.coordinator import Coordinator
from loadtui.headless.verdict import stopped_at, verdict_line
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.drive import Controls, RunDriver
from loadtui.run.exitcodes import ExitCode
from loadtui.run.frame import LiveFrame, build_frame, in_flight_now
from loadtui.run.session import RunSession

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from loadtui.model.record import RunRecord
    from loadtui.outputs.exports import Export
    from loadtui.run.metrics_server import MetricsServer

__all__ = ["Output", "RunOptions", "run_headless"]

Output = Literal["human", "quiet", "json"]
"""What stdout gets: progress and the summary (``human``); the verdict line and the run path
(``--quiet``); one JSON document, ``summary_document`` (``--json``). In the last two there is
no progress and no notice; warnings and errors still go to stderr."""


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
    report: Path | None = None
    """``--report``: also write the run's HTML report here (outputs/report.py)."""
    exports: tuple[Export, ...] = ()
    """Files written from the run once it is saved (``--csv``, ``--junit``, ...)."""
    metrics: MetricsServer | None = None
    """``--metrics-port``'s server, already listening: the run is published to it."""
    output: Output = "human"
    record_requests: Path | None = None
    """``--record-requests``: one JSON line per request (docs/run-format.md)."""


class _StartInterrupted(BaseException):
    """A signal while the run was starting (pre-flight, workers): no load was sent yet."""


class _Stop:
    def __init__(self) -> None:
        self.signal: str | None = None
        self.count = 0
        self.starting = False
        """While True a signal aborts the start at once (a pre-flight may wait a minute)."""

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signal.Signals(signum).name
        self.count += 1
        if self.starting:
            self.starting = False
            raise _StartInterrupted

    def reason(self) -> str | None:
        """Why the run must end now (the drive loop asks every turn): a signal came."""
        return "interrupted" if self.signal else None


@contextmanager
def _signals(stop: _Stop) -> Iterator[None]:
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    previous: dict[signal.Signals, Any] = {}
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
    out = _Stdout(options.stream or sys.stdout)
    human = options.output == "human"
    progress = _Progress(out, options.live, config, human)
    notice = out.say if human else _silent  # --quiet and --json: stdout is for the result only
    stop = _Stop()
    with (
        _signals(stop),
        RunSession(
            config,
            options.api_key,
            options.replay_of,
            options.out,
            say=notice,
            warn=_warn,
            userinfo=options.userinfo,
            target_source=options.target_source,
            record_requests=options.record_requests,
        ) as session,
    ):
        driver = RunDriver(
            session,
            Controls(options.schedule),
            publish=progress.show,
            make_frame=progress.frame,
            frame_every=_FRAME_EVERY,
            ended=stop.reason,
            metrics=options.metrics,
        )
        try:
            stop.starting = True
            driver.start()
        except _StartInterrupted:
            _warn(f"interrupted by {stop.signal} while starting; no load was sent, nothing saved")
            return ExitCode.INTERRUPTED, None
        finally:
            stop.starting = False
        if session.search is not None:
            from loadtui.headless.search import step_line  # rich's tables: not for other runs

            spec = session.search.spec
            session.search.on_step = lambda step: notice(step_line(step, spec.mode, spec))
        status, error = _drive(driver, progress, stop)
        seen = stop.count  # any signal after this one cuts the drain short
        _say_drain(session, notice, 0.0 if seen > 1 else None)
        run, path = driver.finish(
            status, error, grace=0.0 if seen > 1 else None, cut_short=lambda: stop.count > seen
        )
        asked = session.out or session.path
    code = _exit_code(run, path, asked)
    from loadtui.headless.exports import write_run_outputs  # imported during the load

    note = _warn if human else _silent  # "report saved:", "exported:": no notice in the others
    failed = write_run_outputs(run, path, options.report, options.exports, note, _warn)
    why = None
    if failed and code not in (ExitCode.RUN_FAILED, ExitCode.INTERRUPTED):
        code, why = ExitCode.RUN_FAILED, "; ".join(failed)
    _end(run, path, code, why, stop, out.console, out.say, options.output)
    return code, path


def _drive(
    driver: RunDriver[LiveFrame | None], progress: _Progress, stop: _Stop
) -> tuple[str, str | None]:
    """The run service's drive loop with progress on screen; (status, error)."""
    try:
        with progress:
            return driver.drive()
    except Exception as exc:  # drawing broke (the loop's own errors are handled inside)
        if stop.signal:  # e.g. the terminal that SIGHUP just closed
            return "interrupted", None
        return "failed", f"{type(exc).__name__}: {exc}"


def _say_drain(session: RunSession, say: Callable[[str], None], grace: float | None) -> None:
    """The drain can take ``graceful_stop`` seconds (10 by default) of silence: say so."""
    coord = session.coord
    in_flight = in_flight_now(coord) if coord is not None else 0
    grace = session.config.load.graceful_stop if grace is None else grace
    if in_flight and grace > 0:
        say(
            f"load ended: waiting up to {grace:g}s for {in_flight} request(s) in flight "
            "(graceful_stop; Ctrl-C again cuts it short)"
        )


def _warn(message: str) -> None:
    """Notices about the run file go to stderr, so stdout stays the summary."""
    print(f"loadtui: {message}", file=sys.stderr, flush=True)


def _silent(text: str) -> None:
    """Where notices go under ``--quiet`` and ``--json``."""


def _exit_code(run: RunRecord, path: Path | None, asked: Path) -> ExitCode:
    """How the run ended, as the process's exit code (README, "Exit codes")."""
    status = run.status
    if status == "interrupted":
        return ExitCode.INTERRUPTED
    if path is None or status == "failed" or path != asked:
        return ExitCode.RUN_FAILED
    if not run.passed:
        return ExitCode.THRESHOLDS_FAILED
    return ExitCode.OK


def _end(
    run: RunRecord,
    path: Path | None,
    code: ExitCode,
    why: str | None,
    stop: _Stop,
    console: Console,
    say: Callable[[str], None],
    output: Output,
) -> None:
    """Print the run's end as ``output`` asks, for the final exit ``code`` (``why``: the files
    that could not be written, when that is what made it 4)."""
    if path is None:
        _warn("the run could not be saved anywhere (see the lines above)")
    if output == "json":
        _report_json(run, path, code, console)
    elif output == "quiet":
        _warn_machine(run)
        say(verdict_line(run, code, stop.signal, saved=path is not None, unwritten=why))
        _saved_line(path, say)
    else:
        _report(run, path, stop, console, say)


def _saved_line(path: Path | None, say: Callable[[str], None]) -> None:
    """The last line of stdout: one unwrapped plain line whatever the terminal's width, so
    scripts can take the path from it (``plain_printer``)."""
    say(f"run saved: {path}" if path is not None else "run not saved")


def _report(
    run: RunRecord, path: Path | None, stop: _Stop, console: Any, say: Callable[[str], None]
) -> None:
    """Print the summary and where the run went (the last line)."""
    from loadtui.headless.console import summary_renderable

    status = run.status
    console.print(summary_renderable(run))
    if run.error:
        say(f"the run failed: {run.error}")
    if status == "interrupted":
        console.print(f"interrupted by {stop.signal or 'stop'}; the run's status is interrupted")
    elif status == "stopped":
        from rich.text import Text

        console.print(Text(f"stopped{stopped_at(run.load_ended_s)} by {_stopped_by(run)}"))
    _saved_line(path, say)


def _warn_machine(run: RunRecord) -> None:
    """What the summary would have said that a person must not miss — why the run failed, the
    generator's own warnings (its numbers may be the generator's, not the target's) — on
    stderr, since stdout is for the machine."""
    if run.error:
        _warn(f"the run failed: {run.error}")
    for warning in run.generator.warnings:
        _warn(f"warning: {warning}")


def _report_json(run: RunRecord, path: Path | None, code: ExitCode, console: Console) -> None:
    """``--json``: stdout is one JSON document (its ``path`` null when nothing was saved; its
    ``passed`` false when the exit is 4, whatever the thresholds said)."""
    from loadtui.storage.record_out import summary_document

    _warn_machine(run)
    document = summary_document(run, None if path is None else str(path))
    if code == ExitCode.RUN_FAILED:
        document["passed"] = False
    out = console.file
    out.write(json.dumps(document, indent=2) + "\n")
    out.flush()


def _stopped_by(run: RunRecord) -> str:
    """What stopped a run early: an ``abort_on_fail`` threshold, or a stop control."""
    by = run.aborted_by
    if by is None and run.search is not None:
        return "the capacity search"
    return f"threshold {by.metric} {by.expression} (abort_on_fail)" if by else "a stop control"


_FRAME_EVERY = 0.25
"""Seconds between frames: the live panel's redraw (4 a second), and how often a plain line is
considered."""


class _Stdout:
    """Where progress and the summary go. rich is loaded once the load runs (the first use of
    ``console``, as the progress starts), not before: its import is some 15 ms of the start-up
    path (docs/performance.md, "Start-up and exit"). A line said before that (the target, a
    trace's description) is written as the console's plain printer would write it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._console: Console | None = None
        self._say: Callable[[str], None] | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from loadtui.headless.console import make_console, plain_printer

            self._console = make_console(self.stream)
            self._say = plain_printer(self._console)
        return self._console

    def say(self, text: str) -> None:
        """Text a user or a server wrote, as one plain line (``console.plain_printer``)."""
        if self._say is not None:
            self._say(text)
            return
        self.stream.write(text.translate(_STRIPPED).expandtabs(8) + "\n")
        self.stream.flush()


_STRIPPED = dict.fromkeys((7, 8, 11, 12, 13))
"""What rich's ``Text`` strips from a line (``rich.control.strip_control_codes``): the plain
printer's lines before rich is loaded drop them too."""


class _Progress:
    """Progress while the load runs, drawn from the drive loop's frames: on a terminal a panel
    redrawn in place with each frame, elsewhere a plain line every 1 s of run time (5 s for
    runs over a minute). Frames outside the ``with`` block (the drain, the end) are not drawn:
    the summary follows. The console (and rich) is taken when the block starts: the load runs
    by then."""

    def __init__(
        self, out: _Stdout, live: bool | None, config: RunConfig, shown: bool = True
    ) -> None:
        self.out = out
        self.live = live
        """``--live``: redraw in place (None: when the output is a terminal)."""
        self.shown = shown
        """False under ``--quiet`` and ``--json``: no frame is built, nothing drawn."""
        self.open_loop = config.load.open_loop
        self.plain_every = 1.0 if config.load.total_duration <= 60 else 5.0
        self._next_plain = self.plain_every
        self._live: Live | None = None
        self._draw: Callable[[LiveFrame], None] | None = None
        """The panel's redraw or the plain line, bound as the block starts (rich loaded)."""
        self._on = False

    def __enter__(self) -> _Progress:
        if self.shown:
            from rich.text import Text

            from loadtui.headless.console import live_wanted, progress_line, progress_panel

            console = self.out.console
            if live_wanted(console, self.live):
                from rich.live import Live

                live = Live(Text(""), console=console, auto_refresh=False, transient=True)
                self._live = live
                live.start()

                def draw(view: LiveFrame) -> None:
                    live.update(progress_panel(view, self.open_loop), refresh=True)

            else:

                def draw(view: LiveFrame) -> None:
                    if view.elapsed >= self._next_plain:
                        line = Text(progress_line(view, self.open_loop))
                        console.print(line, soft_wrap=True)
                        self._next_plain += self.plain_every

            self._draw = draw
        self._on = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._on = False
        if self._live is not None:
            self._live.stop()

    def frame(self, coord: Coordinator, phase: str, target_url: str) -> LiveFrame | None:
        """The frame to draw now, without the recent window (not shown here) — or None when
        nothing will be drawn: a plain line is due once a second of run time. Frames cost
        milliseconds of the coordinator's process, which may share a core with a worker."""
        if not (self.shown and self._on) or (
            self._live is None and coord.elapsed < self._next_plain
        ):
            return None
        return build_frame(coord, phase, target_url, recent=False)

    def show(self, view: LiveFrame | None) -> None:
        if self._on and view is not None and self._draw is not None:
            self._draw(view)
