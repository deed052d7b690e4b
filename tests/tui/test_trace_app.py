"""A trace replay in the app: it says what its input lengths are (words as tokens), its rate
keys do nothing and a typed rate is refused with a message — the run goes on to the trace's
end with no control recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from loadtui.storage.presets import load_preset
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.screens.run import TRACE_RATE, RunScreen
from loadtui.tui.settings import Settings
from waits import keys
from waits import until as _until


@pytest.mark.integration
def test_a_trace_run_in_the_app_refuses_a_rate_change(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    rows = [{"timestamp": 100 * k, "prompt": f"line {k}", "max_tokens": 2} for k in range(15)]
    trace.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = load_preset("trace").with_overrides(
        trace={"file": str(trace)},
        mock={"ttft": 0.01, "itl": 0.002, "tokens": 2, "slots": None, "prefill_tps": None},
        workers=1,
    )

    async def scenario() -> LoadtuiApp:
        app = LoadtuiApp(start=StartNow(config), settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: getattr(app.screen, "phase", "") == "running")
            assert isinstance(app.screen, RunScreen)
            keys(pilot, "r", "R")  # greyed out in a trace run: nothing is sent
            keys(pilot, "equals_sign")
            await _until(pilot, lambda: app.focused is not None and app.focused.id == "value-input")
            keys(pilot, *"rate 5", "enter")
            said = lambda: [n.message for n in app._notifications]  # noqa: E731
            await _until(pilot, lambda: TRACE_RATE in said())
            await _until(pilot, lambda: app.bridge is not None and app.bridge.finished)
            told = app.bridge.messages  # the session's notices, shown as notifications
            assert any("input length: words as tokens" in m for m in told)
            await pilot.press("ctrl+q")
        return app

    app = asyncio.run(scenario())
    assert app.bridge is not None and app.bridge.error is None
    run = app.bridge.run
    assert run is not None and run.status == "completed"  # the trace's end ended it
    assert run.controls == () and run.summary.requests == 15
