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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loadtui.errors import UsageError
from loadtui.run.exitcodes import ExitCode

if TYPE_CHECKING:
    from loadtui.outputs.exports import Export

__all__ = ["check_files", "cmd_export", "refuse_in_app", "run_exports"]


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
    """The exports a headless run or replay writes at its end (checked by ``check_files``)."""
    return tuple(_flag_exports(args))


def check_files(
    args: argparse.Namespace, exports: Sequence[Export] = (), keep: Sequence[Path] = ()
) -> None:
    """Every file a run or replay would write (``--out``, ``--record-requests``, ``--report``,
    the exports), checked at once before any load is sent: each writable, no two the same
    file, none over a run file in ``keep`` (UsageError, one line, exit 2)."""
    from loadtui.outputs.destination import check_outputs
    from loadtui.outputs.exports import export_outputs

    named = {
        "--out": getattr(args, "out", None),
        "--record-requests": getattr(args, "record_requests", None),
        "--report": getattr(args, "report", None),
    }
    outputs = [(flag, path) for flag, path in named.items() if path is not None]
    check_outputs(outputs + export_outputs(exports), keep)


def refuse_in_app(args: argparse.Namespace) -> None:
    """The app saves runs from its own screens: exports at the end are a headless run's."""
    for _, flag, _ in _asked(args):
        raise UsageError(f"{flag} is written at the end of a headless run: add --headless")


def cmd_export(args: argparse.Namespace) -> int:
    """``loadtui export RUN``: the files asked, from a saved run; each path on stdout."""
    from loadtui.outputs.destination import check_outputs
    from loadtui.outputs.exports import export_outputs, write_exports
    from loadtui.storage.runfile import find_run, load_record

    path = find_run(args.run_file)
    flagged = _flag_exports(args) + _report_export(args)
    if args.format is None and args.output is None and not flagged:
        raise UsageError(
            "nothing to export: give --format FORMAT [-o PATH], or --csv PREFIX, --junit FILE, "
            "--summary-json FILE, --report FILE.html"
        )
    run = load_record(path)
    wanted = _format_export(args, run.id) + flagged
    check_outputs(export_outputs(wanted), keep=[path])
    written, failed = write_exports(run, path, wanted)
    for done in written:
        print(f"exported: {done}", flush=True)
    for line in failed:
        print(f"loadtui: {line}", file=sys.stderr, flush=True)
    return ExitCode.RUN_FAILED if failed else ExitCode.OK


def _report_export(args: argparse.Namespace) -> list[Export]:
    """``export RUN --report FILE.html``: the report beside the other formats (``html``)."""
    from loadtui.outputs.exports import Export

    raw: str | None = getattr(args, "report", None)
    if raw is None:
        return []
    if not raw.strip():
        raise UsageError("--report needs a path")
    return [Export("html", Path(raw), "--report")]


def _format_export(args: argparse.Namespace, run_id: str) -> list[Export]:
    """``--format FORMAT [-o PATH]``, checked: a format there is; without ``-o``, the format's
    own name for the run in the current folder (``DEFAULT_NAMES``)."""
    from loadtui.outputs.exports import DEFAULT_NAMES, PREFIX_FORMATS, WRITERS, Export

    fmt: str | None = args.format
    output: str | None = args.output
    if fmt is None:
        if output is not None:
            raise UsageError(f"-o {output} needs --format ({', '.join(WRITERS)})")
        return []
    if fmt not in WRITERS:
        raise UsageError(f"unknown --format {fmt!r}; expected one of {', '.join(WRITERS)}")
    if output is None:
        return [Export(fmt, Path(DEFAULT_NAMES[fmt].format(id=run_id)), f"--format {fmt}")]
    if not output.strip():
        what = "a prefix for its files" if fmt in PREFIX_FORMATS else "a file"
        raise UsageError(f"-o needs a path ({what})")
    if fmt in PREFIX_FORMATS and output.endswith(("/", os.sep)):
        raise UsageError(f"-o {output} is a folder; give a prefix such as {output}run")
    return [Export(fmt, Path(output), "-o")]
