"""The export formats by name: one table read by ``loadtui export --format`` and by the
end-of-run options (``--csv``, ``--junit``, ``--summary-json``), so a format is one entry here.

A writer takes the run record, the destination (a file; for ``csv`` a prefix) and where the run
file is (summary JSON and JUnit name it), and returns the files it wrote. It raises OSError
when a file cannot be written; ``write_exports`` turns that into a one-line message, and the
other formats are still written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtui.errors import UsageError
from loadtui.model.record import RunRecord
from loadtui.outputs.csv_export import csv_paths, write_csv
from loadtui.outputs.destination import check_destination, write_atomic
from loadtui.outputs.junit import write_junit
from loadtui.storage.record_out import summary_document

__all__ = [
    "FLAGS",
    "PREFIX_FORMATS",
    "WRITERS",
    "Export",
    "Writer",
    "check_exports",
    "write_exports",
    "write_summary_json",
]

Writer = Callable[[RunRecord, Path, Path | None], list[Path]]
"""``(run, destination, run file or None) -> files written``; OSError when one cannot be."""


def write_summary_json(run: RunRecord, dest: Path, run_path: Path | None = None) -> list[Path]:
    """The run's summary alone (k6's ``--summary-export``): the object ``show --json`` prints."""
    document = summary_document(run, None if run_path is None else str(run_path))
    text = json.dumps(document, indent=2) + "\n"
    return [write_atomic(dest, text.encode("utf-8"))]


def write_html(run: RunRecord, dest: Path, run_path: Path | None = None) -> list[Path]:
    """The HTML report of the run (docs/report.md); ``loadtui report`` makes one of several."""
    from loadtui.outputs.report import write_report  # the report's code loads when asked

    write_report([run], dest)
    return [dest]


WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "junit": write_junit,
    "summary-json": write_summary_json,
    "html": write_html,
}
"""Format name → writer (``--format`` lists these names)."""
PREFIX_FORMATS = frozenset({"csv"})
"""Formats whose destination is a prefix of several files rather than one file."""
FLAGS: dict[str, str] = {"csv": "--csv", "junit": "--junit", "summary-json": "--summary-json"}
"""The end-of-run option of each format (a format without one is for ``export`` only: ``html``
at the end of a run is ``--report``, written from the record in memory by headless/runner.py,
so a report is made even when the run file could not be saved)."""


@dataclass(frozen=True, slots=True)
class Export:
    """One file (or set of files) to write: a format, its destination, the option that asked."""

    format: str
    dest: Path
    flag: str = "-o"


def check_exports(exports: Sequence[Export], keep: Sequence[Path] = ()) -> None:
    """UsageError (one line) when an export could not be written, or would overwrite another
    export's file or a file in ``keep`` (the run file: ``--summary-json run.json`` must not
    replace the run with its summary). Called before a run sends any load, so a typo in a
    path costs nothing."""
    taken = {_same(path): f"the run file {path}" for path in keep}
    for export in exports:
        for path in _check_one(export):
            clash = taken.get(_same(path))
            if clash is not None:
                raise UsageError(f"{export.flag} {export.dest} would write over {clash}")
            taken[_same(path)] = f"{export.flag} {export.dest}"


def _check_one(export: Export) -> list[Path]:
    """The files ``export`` writes, each checked."""
    if export.format not in PREFIX_FORMATS:
        check_destination(export.dest, export.flag)
        return [export.dest]
    if export.dest.is_dir():
        raise _prefix_is_folder(export)
    paths = csv_paths(export.dest)
    for path in paths:
        check_destination(path, export.flag)
    return paths


def _same(path: Path) -> Path:
    return path.resolve()


def _prefix_is_folder(export: Export) -> UsageError:
    return UsageError(
        f"{export.flag} {export.dest} is a folder; give a prefix such as "
        f"{export.dest / 'run'} (it makes run_stats.csv, run_stats_history.csv, run_failures.csv)"
    )


def write_exports(
    run: RunRecord, run_path: Path | None, exports: Sequence[Export]
) -> tuple[list[Path], list[str]]:
    """Write each export; the files written, and one line for each that could not be."""
    written: list[Path] = []
    failed: list[str] = []
    for export in exports:
        try:
            written += WRITERS[export.format](run, export.dest, run_path)
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            failed.append(f"cannot write {export.flag} {export.dest}: {reason}")
    return written, failed
