"""The collector paused while a start-up imports (``runtime/gcpause.py``): off inside the
block, as it was after it — also when the block raises, and a collector someone else turned
off stays off."""

from __future__ import annotations

import gc

import pytest

from loadtui.runtime.gcpause import collector_paused


def test_the_collector_is_off_inside_and_back_on_after_even_on_an_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ImportError), collector_paused():
        raise ImportError("a module that is not there")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
