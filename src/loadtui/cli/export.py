"""``loadtui export RUN``, and the exports a headless run or replay writes when it ends
(``--csv PREFIX``, ``--junit FILE.xml``, ``--summary-json FILE``).

Both read the same tables (``loadtui.outputs.exports``: ``WRITERS``, the formats; ``FLAGS``, the
end-of-run option of each), imported inside the functions, so that building the parser for
``--help`` or any other command does not load the writers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from loadtui.errors import UsageError
from loadtui.run.exitcodes import ExitCode

if TYPE_CHECKING:
    from loadtui.outputs.exports import Export

__all__ = ["cmd_export", "refuse_in_app", "run_exports"]


def _asked(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(format, option, value) of each end-of-run option given (``FLAGS``: ``--csv``, ...)."""
    from loadtui.outputs.exports import FLAGS

    given = []
    for fmt, flag in FLAGS.items():
        raw: str | None = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if raw is not None:
            given.append((fmt, flag, raw))
    return given


def _flag_exports(args: argparse.Namespace) -> list[Export]:
    """The exports asked with ``--csv``, ``--junit``, ``--summary-json``, in that order."""
    from loadtui.outputs.exports import PREFIX_FORMATS, Export

    wanted = []
    for fmt, flag, raw in _asked(args):
        if not raw.strip():
            raise UsageError(f"{flag} needs a path")
        if fmt in PREFIX_FORMATS and raw.endswith(("/", os.sep)):
            raise UsageError(f"{flag} {raw} is a folder; give a prefix such as {raw}run")
        wanted.append(Export(fmt, Path(raw), flag))
    return wanted


def run_exports(args: argparse.Namespace) -> tuple[Export, ...]:
    """The exports a headless run or replay writes at its end, each checked now — before any
    load is sent (UsageError, one line, exit 2)."""
    from loadtui.outputs.exports import check_exports

    wanted = _flag_exports(args)
    out: Path | None = getattr(args, "out", None)
    check_exports(wanted, keep=[out] if out is not None else [])
    return tuple(wanted)


def refuse_in_app(args: argparse.Namespace) -> None:
    """The app saves runs from its own screens: exports at the end are a headless run's."""
    for _, flag, _ in _asked(args):
        raise UsageError(f"{flag} is written at the end of a headless run: add --headless")


def cmd_export(args: argparse.Namespace) -> int:
    """``loadtui export RUN``: the files asked, from a saved run; each path on stdout."""
    from loadtui.outputs.exports import check_exports, write_exports
    from loadtui.storage.runfile import find_run, load_record

    path = find_run(args.run_file)
    wanted = _format_export(args) + _flag_exports(args)
    if not wanted:
        raise UsageError(
            "nothing to export: give --format FORMAT -o PATH, or --csv PREFIX, --junit FILE, "
            "--summary-json FILE"
        )
    run = load_record(path)
    check_exports(wanted, keep=[path])
    written, failed = write_exports(run, path, wanted)
    for done in written:
        print(f"exported: {done}", flush=True)
    for line in failed:
        print(f"loadtui: {line}", file=sys.stderr, flush=True)
    return ExitCode.RUN_FAILED if failed else ExitCode.OK


def _format_export(args: argparse.Namespace) -> list[Export]:
    """``--format FORMAT -o PATH``, checked: both or neither, a format there is."""
    from loadtui.outputs.exports import PREFIX_FORMATS, WRITERS, Export

    fmt: str | None = args.format
    output: str | None = args.output
    if fmt is None:
        if output is not None:
            raise UsageError(f"-o {output} needs --format ({', '.join(WRITERS)})")
        return []
    if fmt not in WRITERS:
        raise UsageError(f"unknown --format {fmt!r}; expected one of {', '.join(WRITERS)}")
    if output is None or not output.strip():
        what = "a prefix for its files" if fmt in PREFIX_FORMATS else "a file"
        raise UsageError(f"--format {fmt} needs -o PATH ({what})")
    if fmt in PREFIX_FORMATS and output.endswith(("/", os.sep)):
        raise UsageError(f"-o {output} is a folder; give a prefix such as {output}run")
    return [Export(fmt, Path(output), "-o")]
