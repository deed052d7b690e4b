"""The setup form has fields for a few options only (URL, model, users, rate, think time,
duration, streaming); every other option the command line gave — trace, conversations,
request control, warm-up, budget — must reach the run the form starts, as with ``--start``."""

from __future__ import annotations

from loadtui.run.options import Overrides
from test_tui_hardening import started_from_form


def test_options_without_a_field_reach_the_run_the_form_starts() -> None:
    config = started_from_form(
        Overrides(
            preset="trace",
            mock=True,
            trace_speedup=4.0,
            headers=[("X-Tenant", "blue")],
            body=["temperature=0.2"],
            warmup=1.0,
            requests=50,
            max_tokens=16,
        )
    )
    assert config.trace is not None and config.trace.speedup == 4.0
    assert config.target.headers == {"X-Tenant": "blue"}
    request = config.requests[0]
    assert request.body == {"temperature": 0.2} and request.max_tokens == 16
    assert (config.load.warmup, config.load.requests) == (1.0, 50)


def test_turns_given_on_the_command_line_hold_in_the_app() -> None:
    config = started_from_form(Overrides(preset="multiturn", mock=True, turns="2"))
    assert config.conversation is not None and config.conversation.turns == (2, 2)
