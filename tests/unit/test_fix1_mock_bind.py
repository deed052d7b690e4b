"""The embedded mock's socket is bound in the parent (review item 6): when that fails (no free
descriptor, an unusable host) the user gets a one-line start error (exit 3), not "internal
error" and a traceback in the log."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from loadtui.errors import StartError
from loadtui.mock import MockProcess
from loadtui.run.target import _start


def test_a_socket_that_cannot_be_bound_is_a_one_line_start_error() -> None:
    with ExitStack() as stack, pytest.raises(StartError) as caught:
        _start(MockProcess(host="192.0.2.1"), stack, None)  # TEST-NET-1: no local address
    message = str(caught.value)
    assert message.startswith("the embedded mock could not bind a port on 192.0.2.1: ")
    assert "\n" not in message  # cli/__init__ prints a StartError on one line, exit 3
