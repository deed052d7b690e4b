"""The runs listing for machines (``loadtui runs --json``): one small object per saved run.

It lives in storage because storage is the only place a run becomes JSON; the keys are
documented in docs/run-format.md ("Runs listing JSON").
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtui.storage.record import RunJson
from loadtui.storage.runfile import ListedRun
from loadtui.storage.runindex import in_runs_folder

__all__ = ["listing_document"]


def listing_document(runs: Sequence[ListedRun]) -> list[RunJson]:
    """The listing as a JSON array, newest first (the order given)."""
    return [_entry(run) for run in runs]


def _entry(entry: ListedRun) -> RunJson:
    run, s = entry.record, entry.record.summary
    latency = s.metrics.latency_ms
    return {
        "id": run.id,
        "path": str(entry.path),
        "in_runs_folder": in_runs_folder(entry.path),
        "status": run.status,
        "preset": run.preset,
        "started_at": run.started_at,
        "requests": s.requests,
        "errors": s.errors_total,
        "latency_p95_ms": latency.p95 if latency.count else None,
        "passed": run.passed,
    }
