"""The files a headless run writes from itself when it ends (``--report``, ``--csv``,
``--junit``, ``--summary-json``), after the run is saved — whether its thresholds passed or
not — and before its verdict is printed, so the verdict and the exit code tell the same story.

They are made from the run file as saved, read back, so they hold exactly what
``loadtui export`` would give for it later (and nothing the saved file does not: every secret
was scrubbed on the way to disk). Only the report is made from the record in memory when the
run could not be saved at all: then it is all there is of the run. One that cannot be written
is a warning on stderr and exit 4 (``RUN_FAILED``); the run itself is saved already and its
other files are still written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from loadtui.errors import RunFileError
from loadtui.model.record import RunRecord
from loadtui.outputs.exports import Export, write_exports
from loadtui.storage.runfile import load_record

__all__ = ["write_run_outputs"]

Say = Callable[[str], None]


def write_run_outputs(
    run: RunRecord,
    path: Path | None,
    report: Path | None,
    exports: Sequence[Export],
    note: Say,
    warn: Say,
) -> list[str]:
    """Write the ``report`` and ``exports`` of ``run`` (saved at ``path``; None: not saved);
    ``note`` says each file written, ``warn`` each that could not be. Returns why files were
    not written (empty: all were, or the run was not saved — already a failure of its own)."""
    if report is None and not exports:
        return []
    saved, failed = _read_back(path)
    if failed:
        warn(failed[0])
    if report is not None:
        source = saved if path is not None else run  # not saved anywhere: memory is all there is
        if source is not None:
            failed += _write_report(source, report, note, warn)
    if exports and path is None:
        warn("no export written: the run was not saved")
    elif exports and saved is not None:
        written, lines = write_exports(saved, path, exports)
        for done in written:
            note(f"exported: {done}")
        for line in lines:
            warn(line)
        failed += lines
    return failed


def _read_back(path: Path | None) -> tuple[RunRecord | None, list[str]]:
    """The run as saved, or why it cannot be read back."""
    if path is None:
        return None, []
    try:
        return load_record(path), []
    except RunFileError as exc:
        return None, [f"nothing written from the run: the saved run cannot be read back ({exc})"]


def _write_report(run: RunRecord, where: Path, note: Say, warn: Say) -> list[str]:
    """``--report``: the HTML report of the run; why it could not be written, if it could not."""
    from loadtui.outputs.report import write_report  # only runs that ask pay for the import

    try:
        write_report([run], where)
    except OSError as exc:
        why = f"cannot write --report {where}: {exc.strerror or exc}"
    except Exception as exc:  # a bug in the report: the run is saved already
        why = f"cannot write --report {where}: internal error {type(exc).__name__}: {exc}"
    else:
        note(f"report saved: {where}")
        return []
    warn(why)
    return [why]
