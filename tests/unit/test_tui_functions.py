"""The app's plain functions, without an app: rate keys, the exact-value dialog's parser, the
remembered settings and the themes folder (the app itself is tested in tests/tui)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtui.tui.settings import Settings


def test_rate_keys_step_ten_percent() -> None:
    from loadtui.tui.screens.run import next_rate

    assert next_rate(100.0, 1) == 110.0
    assert next_rate(100.0, -1) == 90.0
    assert next_rate(12.0, 1) == 13.2
    assert next_rate(5.0, 1) == 5.5  # small rates move by 10%, at least 0.1/s
    assert next_rate(0.1, -1) == 0.1  # never to 0 by key: 0 is typed on purpose


def test_exact_value_dialog_parses_like_a_control_file() -> None:
    from loadtui.tui.screens.value import parse_value

    assert (parse_value("users 50").action, parse_value("users 50").value) == ("users", 50)
    assert parse_value("rate 12.5/s").value == 12.5
    assert parse_value("think 1-2s").value == (1.0, 2.0)
    for bad, message in (
        ("users -1", "≥ 0"),
        ("users many", "whole number"),
        ("speed 3", "type users N"),
        ("rate -2", "≥ 0"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_value(bad)


def test_settings_remember_targets_without_keys(private_dirs: Path) -> None:
    from loadtui.locations import tui_state_file

    s = Settings()
    s.remember_target("https://user:sekrit@gw.example:8443/v1")
    s.remember_target("https://gw.example/ak/sk-123/v1", secret="sk-123")
    s.remember_target("https://gw.example:8443/v1")  # again: moves to the front, no duplicate
    s.save()
    text = tui_state_file().read_text()
    assert "sekrit" not in text and "sk-123" not in text
    again = Settings.load()
    assert again.recent_targets == ["https://gw.example:8443/v1", "https://gw.example/ak/{key}/v1"]
    tui_state_file().write_text("{not json")
    assert Settings.load() == Settings()  # a damaged file means defaults, never a crash


def test_themes_folder_has_dark_light_and_high_contrast(tmp_path: Path) -> None:
    from loadtui.tui.themes import load_themes

    themes, problems = load_themes()
    assert not problems
    names = {t.name: t for t in themes}
    assert {"loadtui-dark", "loadtui-light", "loadtui-high-contrast"} <= set(names)
    assert names["loadtui-dark"].dark and not names["loadtui-light"].dark
    (tmp_path / "broken.toml").write_text("name = 'x'\nprimary = ")
    (tmp_path / "ok.toml").write_text("name = 'mine'\nprimary = '#ff0000'\n")
    themes, problems = load_themes(tmp_path)
    assert [t.name for t in themes] == ["mine"] and "broken.toml" in problems[0]
