"""Process exit codes, documented in the README."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    OK = 0
    """The run completed (or a stop control ended it) and every threshold passed."""
    THRESHOLDS_FAILED = 1
    """The run completed and at least one threshold failed."""
    USAGE = 2
    """Bad input: options, preset, control file, run file."""
    NOT_STARTED = 3
    """The run could not start: pre-flight failed, workers or the embedded mock did not start."""
    RUN_FAILED = 4
    """The run started but failed (a worker died, the run loop broke); it was still saved, with
    status ``failed``. Also when the run file could not be written where asked and went to a
    fallback (named on stderr), or an export (``--csv``, ``--junit``, ...) could not be written."""
    INTERNAL_ERROR = 70
    """An unexpected error inside loadtui (a bug): one line on stderr naming the log with the
    details (EX_SOFTWARE of sysexits.h)."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C, SIGTERM or SIGHUP; the run was still saved, with status interrupted."""
