"""One millisecond formatter for the console and the app: the same figure reads the same."""

from __future__ import annotations

import pytest

from loadtui.run.units import fmt_ms
from loadtui.tui.format import ms


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (-1.0, "—"),
        (0.0, "0.00"),
        (5.432, "5.43"),
        (12.34, "12.3"),
        (99.96, "100.0"),
        (123.4, "123"),
        (9_999.0, "9999"),
        (12_345.0, "12.3s"),
    ],
)
def test_three_significant_figures_and_seconds_from_ten(value: float | None, text: str) -> None:
    assert fmt_ms(value) == text


def test_the_console_writes_a_missing_figure_in_ascii() -> None:
    assert fmt_ms(None, missing="-") == "-"
    assert fmt_ms(5.432, missing="-") == "5.43"


def test_the_app_and_the_console_share_the_formatter() -> None:
    """The app's ``ms`` is this very function, and so is what the console's tables call."""
    from loadtui.headless import console
    from loadtui.render import sections

    assert ms is fmt_ms
    for module in (console, sections):
        assert module._ms(12_345.0) == fmt_ms(12_345.0) and module._ms(None) == "-"
