"""Command line: parse arguments and run the command (``cli/commands.py``): the interactive app
(the default), a headless run (``--headless``), a replay, a listing, the mock or the proxy.

Every ``LoadtuiError`` becomes one line on stderr and its exit code; argparse errors too. Any
other exception is a bug: one line naming it and the log file holding its traceback, exit 70
(never 1, which means "a threshold failed"). The Textual app is imported only inside the
function that starts it.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtui.cli.parser import build_parser
from loadtui.errors import LoadtuiError, StartError, UsageError
from loadtui.run.exitcodes import ExitCode
from loadtui.runtime import timing
from loadtui.runtime.gcpause import collector_paused

# Only the parser is imported here: ``loadtui --help`` needs no more, and every child process
# spawned from the ``loadtui`` console script re-runs this import (as ``__mp_main__``). The
# commands (run options, pydantic models, the engine) are imported once a command runs.

__all__ = ["build_parser", "main"]

_MAX_LINE = 1000


def one_line(text: str) -> str:
    """``text`` as one printable line: a newline or escape in a file's key or a server's answer
    is shown escaped, never obeyed, and a huge message is cut."""
    flat = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return flat if len(flat) <= _MAX_LINE else flat[: _MAX_LINE - 1] + "…"


def main(argv: Sequence[str] | None = None) -> int:
    timing.stamp("cli: imported")
    if argv is None:  # the console script (or python -m loadtui): this process is ours
        atexit.register(_leave)  # registered first, so it runs last
    if timing.ENABLED:  # registered before multiprocessing's own: runs after it at exit
        atexit.register(timing.stamp, "exit: the interpreter's exit handlers")
    args = build_parser().parse_args(argv)
    timing.stamp("cli: arguments parsed")
    if argv is None:  # after the parse: ``--help`` spawns nothing
        _spawned_children_skip_the_script()
    try:
        code = _run(args, ours=argv is None)
    finally:
        timing.stamp("cli: command returned")
    global _returned
    _returned = code
    return code


def _spawned_children_skip_the_script() -> None:
    """A process spawned from the ``loadtui`` console script (a worker, the embedded mock)
    first re-runs the script as ``__mp_main__`` — ``import loadtui.cli`` with argparse, 25-50 ms
    of CPU each — though it needs nothing of it. Naming the script's module as
    ``loadtui.__main__``, which is what ``python -m loadtui`` runs, tells multiprocessing there
    is nothing to re-run (it never re-imports a ``__main__`` module by name)."""
    script = sys.modules.get("__main__")
    if script is not None and getattr(script, "__spec__", None) is None:
        from importlib.util import find_spec

        with contextlib.suppress(ImportError, ValueError):
            script.__spec__ = find_spec("loadtui.__main__")


_returned: int | None = None
"""What ``main`` returned: the exit status ``_leave`` ends the process with."""


def _leave() -> None:
    """The last exit handler of a ``loadtui`` process whose command returned: flush the output
    and end at once. Every handler registered later (multiprocessing's, which ends the workers
    and the mock; logging's) has run; what is left is the interpreter's teardown of every
    module and object, 0.1-0.3 s that no user waits for gladly. Every file loadtui writes is
    closed by then (run files, exports, reports: written whole, then renamed). When ``main``
    did not return (``--help``, an argparse error) the interpreter exits as usual."""
    if _returned is None:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed: | head
            stream.flush()
    os._exit(_returned)


def _run(args: argparse.Namespace, ours: bool = False) -> int:
    """The command, its errors made one line and an exit code. ``ours``: this process is
    loadtui's own (the console script), not a caller's."""
    try:
        with collector_paused():  # pydantic and the models: many objects, no garbage
            if ours:  # dataclass methods compiled once, kept between runs; no pydantic plugin
                _speed_up_start()
            from loadtui.cli.commands import COMMANDS

        return int(COMMANDS[args.command](args))
    except UsageError as exc:
        print(f"loadtui: error: {one_line(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    except StartError as exc:
        print(f"loadtui: could not start: {one_line(str(exc))}", file=sys.stderr)
        return ExitCode.NOT_STARTED
    except LoadtuiError as exc:
        print(f"loadtui: error: {one_line(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # the reader went away (``loadtui runs | head``): not an error, and nothing to print
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:  # a bug: say so in one line, keep the details in a log
        from loadtui.model.shaping import is_secret_header
        from loadtui.storage.redact import redact_text

        keys = [getattr(args, "api_key", None), *(os.environ.get(v) for v in _KEY_VARS)]
        keys += _url_credentials(args)
        keys += [v for k, v in getattr(args, "headers", None) or () if is_secret_header(k)]
        log = _write_log(exc, args.command, keys)
        where = f"details in {log}" if log else "no log could be written"
        what = redact_text(f"{type(exc).__name__}: {exc}", keys)
        print(f"loadtui: internal error: {one_line(what)} ({where})", file=sys.stderr)
        return ExitCode.INTERNAL_ERROR


def _speed_up_start() -> None:
    """Dataclass methods compiled once and kept between runs, no pydantic plugin looked for
    (runtime/codecache.py, runtime/pydanticplugins.py): both change the whole process, so only
    a process that is loadtui's own."""
    from loadtui.locations import cache_dir
    from loadtui.runtime import codecache, pydanticplugins

    codecache.install(cache_dir())
    pydanticplugins.skip()
    timing.stamp("cli: code cache read")


_KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LOADTUI_ADMIN_PASSWORD")


def _url_credentials(args: object) -> list[str]:
    """``user:password`` (and the password alone) of any URL option: secrets like a key."""
    found: list[str] = []
    for name in ("url", "direct_url", "upstream"):
        url = getattr(args, name, None)
        if isinstance(url, str) and "@" in url:
            userinfo = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0]
            if userinfo:
                found += [userinfo, userinfo.partition(":")[2]]
    return [s for s in found if s]


def _write_log(exc: BaseException, command: str | None, keys: list[str | None]) -> Path | None:
    """The traceback (keys redacted) in a new file under the data dir's ``logs/``, or the temp
    dir if that is not writable; None if neither is."""
    import tempfile
    import traceback
    from datetime import UTC, datetime

    from loadtui.locations import error_log_dir
    from loadtui.storage.redact import redact_text

    name = f"internal-error-{datetime.now(UTC):%Y%m%d-%H%M%S}-{os.getpid()}.log"
    text = redact_text("".join(traceback.format_exception(exc)), keys)
    for folder in (error_log_dir(), Path(tempfile.gettempdir()) / "loadtui"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # yours alone
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(f"loadtui {command or 'run'}\n{text}")
            return path
        except OSError:
            continue
    return None
