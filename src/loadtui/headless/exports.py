"""The files a headless run writes from itself when it ends (``--csv``, ``--junit``,
``--summary-json``), after the run is saved — whether its thresholds passed or not.

They are made from the run file as saved, read back, so they hold exactly what
``loadtui export`` would give for it later (and nothing the saved file does not: every secret
was scrubbed on the way to disk). One that cannot be written is a warning on stderr and exit 4;
the run itself is saved already and its other exports are still written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from loadtui.errors import RunFileError
from loadtui.outputs.exports import Export, write_exports
from loadtui.run.exitcodes import ExitCode
from loadtui.storage.runfile import load_record

__all__ = ["write_run_exports"]


def write_run_exports(
    path: Path | None, exports: Sequence[Export], code: ExitCode, warn: Callable[[str], None]
) -> ExitCode:
    """Write ``exports`` of the run saved at ``path``; the run's exit code, or RUN_FAILED when
    one could not be written (an interrupted run keeps its 130)."""
    if not exports:
        return code
    if path is None:
        warn("no export written: the run was not saved")
        return code  # already RUN_FAILED or INTERRUPTED
    try:
        run = load_record(path)
    except RunFileError as exc:
        warn(f"no export written: the saved run cannot be read back ({exc})")
        return _failed(code)
    _, failed = write_exports(run, path, exports)
    for line in failed:
        warn(line)
    return _failed(code) if failed else code


def _failed(code: ExitCode) -> ExitCode:
    return code if code == ExitCode.INTERRUPTED else ExitCode.RUN_FAILED
