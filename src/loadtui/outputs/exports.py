"""The export formats by name: one table read by ``loadtui export --format`` and by the
end-of-run options (``--csv``, ``--junit``, ``--summary-json``), so a format is one entry here.

A writer takes the run record, the destination (a file; for ``csv`` a prefix) and where the run
file is (summary JSON and JUnit name it), and returns the files it wrote. It raises OSError
when a file cannot be written; ``write_exports`` turns that into a one-line message, and the
other formats are still written.

The tables are read before any load is sent (a run's options are checked against them), so the
writers' modules — the run record, the CSV and JUnit code, the run file's reader — are imported
by the writer that runs, after the run: not on a run's start-up path (docs/performance.md,
"Start-up and exit").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loadtui.errors import UsageError

if TYPE_CHECKING:
    from loadtui.model.record import RunRecord

__all__ = [
    "DEFAULT_NAMES",
    "FLAGS",
    "PREFIX_FORMATS",
    "WRITERS",
    "Export",
    "Writer",
    "export_outputs",
    "write_exports",
    "write_summary_json",
]

Writer = Callable[["RunRecord", Path, "Path | None"], list[Path]]
"""``(run, destination, run file or None) -> files written``; OSError when one cannot be."""


def write_summary_json(run: RunRecord, dest: Path, run_path: Path | None = None) -> list[Path]:
    """The run's summary alone (k6's ``--summary-export``): the object ``show --json`` prints."""
    from loadtui.outputs.destination import write_atomic
    from loadtui.storage.record_out import summary_document

    document = summary_document(run, None if run_path is None else str(run_path))
    text = json.dumps(document, indent=2) + "\n"
    return [write_atomic(dest, text.encode("utf-8"))]


def write_html(run: RunRecord, dest: Path, run_path: Path | None = None) -> list[Path]:
    """The HTML report of the run (docs/report.md); ``loadtui report`` makes one of several."""
    from loadtui.outputs.report import write_report  # the report's code loads when asked

    write_report([run], dest)
    return [dest]


def write_csv(run: RunRecord, prefix: Path, run_path: Path | None = None) -> list[Path]:
    """The three CSV files of ``run`` next to ``prefix`` (outputs/csv_export.py)."""
    from loadtui.outputs.csv_export import write_csv as write

    return write(run, prefix, run_path)


def write_junit(run: RunRecord, dest: Path, run_path: Path | None = None) -> list[Path]:
    """``run`` as JUnit XML (outputs/junit.py)."""
    from loadtui.outputs.junit import write_junit as write

    return write(run, dest, run_path)


WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "junit": write_junit,
    "summary-json": write_summary_json,
    "html": write_html,
}
"""Format name → writer (``--format`` lists these names)."""
PREFIX_FORMATS = frozenset({"csv"})
"""Formats whose destination is a prefix of several files rather than one file."""
DEFAULT_NAMES: dict[str, str] = {
    "csv": "{id}",
    "junit": "{id}_junit.xml",
    "summary-json": "{id}_summary.json",
    "html": "{id}.html",
}
"""``export --format`` without ``-o``: where each format goes, in the current folder (``{id}``:
the run's id; ``csv`` is a prefix: ``{id}_stats.csv``, ...)."""
FLAGS: dict[str, str] = {"csv": "--csv", "junit": "--junit", "summary-json": "--summary-json"}
"""The end-of-run option of each format (a format without one is for ``export`` only: ``html``
at the end of a run is ``--report``, written by headless/exports.py from the saved run read
back, or from the record in memory when the run could not be saved: a report is made even
then)."""


@dataclass(frozen=True, slots=True)
class Export:
    """One file (or set of files) to write: a format, its destination, the option that asked."""

    format: str
    dest: Path
    flag: str = "-o"


def export_outputs(exports: Sequence[Export]) -> list[tuple[str, Path]]:
    """(flag, file) of each file ``exports`` write — a CSV prefix is its several files — for
    ``destination.check_outputs``; UsageError when a prefix is a folder."""
    outputs: list[tuple[str, Path]] = []
    for export in exports:
        if export.format not in PREFIX_FORMATS:
            outputs.append((export.flag, export.dest))
            continue
        if export.dest.is_dir():
            raise _prefix_is_folder(export)
        from loadtui.outputs.csv_export import csv_paths

        outputs += [(export.flag, path) for path in csv_paths(export.dest)]
    return outputs


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
