"""Command line: parse arguments, build a RunConfig, hand it to the headless runner.

Every ``LoadtuiError`` becomes one line on stderr and its exit code; argparse errors too.
The Textual app (when it exists) is imported only inside the function that starts it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from loadtui.cli.commands import COMMANDS
from loadtui.cli.parser import build_parser
from loadtui.errors import LoadtuiError, StartError, UsageError
from loadtui.headless.exitcodes import ExitCode

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args))
    except UsageError as exc:
        print(f"loadtui: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except StartError as exc:
        print(f"loadtui: could not start: {exc}", file=sys.stderr)
        return ExitCode.NOT_STARTED
    except LoadtuiError as exc:
        print(f"loadtui: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # the reader went away (``loadtui runs | head``): not an error, and nothing to print
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
