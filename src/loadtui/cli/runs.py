"""``loadtui runs``: list saved runs (``--json`` for machines), ``rm`` and ``prune`` them.

The rules of what is deleted and what is only forgotten are storage/removal.py's; this module
parses nothing and prints what was done, one line per run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loadtui.errors import UsageError
from loadtui.model.record import RunRecord
from loadtui.run.exitcodes import ExitCode

if TYPE_CHECKING:
    from loadtui.storage.removal import Removal

__all__ = ["runs_command"]


def runs_command(args: argparse.Namespace) -> int:
    action = getattr(args, "runs_action", None)
    if action is not None and args.json:
        raise UsageError(f"--json goes with the listing (loadtui runs --json), not with {action}")
    if action == "rm":
        from loadtui.storage.removal import plan_rm

        return _remove(plan_rm(args.runs, files=args.files), dry_run=False)
    if action == "prune":
        return _prune(args)
    return _list(as_json=args.json)


def _list(as_json: bool) -> int:
    from loadtui.locations import runs_dir
    from loadtui.storage.runfile import scan_records

    runs, skipped = scan_records()
    for reason in skipped:  # named, so a broken file is not silently missing from the list
        print(f"loadtui: skipped {reason}", file=sys.stderr)
    if as_json:
        from loadtui.storage.listing import listing_document

        print(json.dumps(listing_document(runs), indent=2))
        return ExitCode.OK
    if not runs:
        print(f"no saved runs in {runs_dir()}")
        return ExitCode.OK
    for entry in runs:
        run, s = entry.record, entry.record.summary
        print(
            f"{run.started_at[:19] or '?'}  {run.preset or 'custom':9} {run.status:11} "
            f"{_verdict(run):6} req {s.requests:>7}  err {s.errors_total:>5}  "
            f"p95 {s.metrics.latency_ms.p95:>8.1f} ms  {entry.path}"
        )
    return ExitCode.OK


def _verdict(run: RunRecord) -> str:
    """``passed``/``FAILED`` by the run's thresholds (a completed run whose thresholds failed
    must not read as a good one), ``-`` for a run without any."""
    if not run.thresholds:
        return "-"
    return "passed" if run.passed else "FAILED"


def _prune(args: argparse.Namespace) -> int:
    from loadtui.storage.removal import plan_prune

    plan, notes = plan_prune(args.keep, args.older_than, files=args.files)
    for note in notes:
        print(f"loadtui: {note}", file=sys.stderr)
    if not plan:
        print("nothing to prune")
        return ExitCode.OK
    return _remove(plan, dry_run=args.dry_run)


def _remove(plan: Sequence[Removal], dry_run: bool) -> int:
    """Remove (or with ``dry_run`` only show) ``plan``, one line per run; a file that could
    not be removed is named on stderr, exit 2."""
    from loadtui.storage.removal import apply

    failed = {} if dry_run else apply(plan)
    for removal in plan:
        if removal.path in failed:
            print(f"loadtui: cannot remove {removal.path}: {failed[removal.path]}", file=sys.stderr)
        else:
            print(removal.describe(dry_run))
    return ExitCode.USAGE if failed else ExitCode.OK
