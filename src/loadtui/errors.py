"""One exception hierarchy for everything loadtui reports to a user.

The CLI maps each branch to a one-line message and an exit code; nothing below it prints.

    LoadtuiError
     ├── UsageError          bad input from the user (exit 2)
     │    ├── ConfigError     a preset, control file or option that does not validate
     │    └── RunFileError    a run file that is missing, corrupt or of another schema
     └── StartError          the run could not start: pre-flight failed, mock did not come up (exit 3)

Faults from the *target* are never exceptions at this level: they are counted by class and the
run goes on (see ``loadtui.model.outcomes.ErrorClass``).
"""

from __future__ import annotations

__all__ = ["ConfigError", "LoadtuiError", "RunFileError", "StartError", "UsageError"]


class LoadtuiError(Exception):
    """Base of every error loadtui reports to its user."""


class UsageError(LoadtuiError):
    """The user gave input loadtui cannot use."""


class ConfigError(UsageError):
    """A preset, a control file or an option failed validation."""


class RunFileError(UsageError):
    """A run file could not be read as a loadtui run."""


class StartError(LoadtuiError):
    """The run could not start (pre-flight failed, embedded mock did not come up, ...)."""
