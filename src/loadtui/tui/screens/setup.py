"""The first screen: pick a preset, adjust the target and the load, start.

Every field left blank keeps the preset's value (shown as the placeholder). The form becomes an
``Overrides`` and goes through the same ``resolve_config`` as the command line, so a bad value
gets the same one-line message here as there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Footer, Input, Label, OptionList, Static, Switch
from textual.widgets.option_list import Option

from loadtui.errors import ConfigError
from loadtui.model.durations import format_duration, parse_duration, parse_range
from loadtui.model.plan import RunConfig
from loadtui.model.search import load_unit
from loadtui.run.options import (
    Overrides,
    check_credentials,
    default_api_key,
    resolve_config,
)
from loadtui.storage.presets import find_presets, load_preset
from loadtui.tui.screens.plan import describe_load, describe_requests

__all__ = ["SetupScreen"]

_FIELDS = (
    ("url", "URL"),
    ("model", "Model"),
    ("api-key", "API key"),
    ("users", "Users"),
    ("spawn-rate", "Spawn rate"),
    ("rate", "Rate"),
    ("think-time", "Think time"),
    ("duration", "Duration"),
)


def describe_search(config: RunConfig) -> str:
    """A capacity search's plan in one line: the search sets the load, the duration caps it."""
    spec = config.search
    assert spec is not None
    unit = load_unit(spec.mode)
    ceiling = f", at most {spec.max_load:g} {unit}" if spec.max_load else ""
    first = "1 user" if spec.mode == "users" and spec.start == 1 else f"{spec.start:g} {unit}"
    return (
        f"capacity search by {spec.mode} from {first}, steps ×{spec.step_factor:g}"
        f"{ceiling}, until attainment < {spec.attainment:g} or errors > {spec.error_limit:.0%}"
        f" (Capacity tab); at most {format_duration(config.load.total_duration)}"
    )


class SetupScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "ctrl+s",
            "start",
            "Start",
            id="setup.start",
            tooltip="Start the run with these settings",
        ),
        Binding("f5", "start", "Start", show=False, id="setup.start_f5", tooltip="Start the run"),
    ]

    class StartRequested(Message):
        """The form is valid: start this run."""

        def __init__(self, config: RunConfig, api_key: str | None) -> None:
            super().__init__()
            self.config = config
            self.api_key = api_key

    def __init__(
        self,
        recent: list[str],
        prefill: Overrides | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``prefill``: what the command line gave (``loadtui --preset stress --url …``)."""
        super().__init__(**kwargs)
        self.recent = recent
        self.prefill = prefill or Overrides()
        self.api_key = api_key
        self.presets = find_presets()
        self.preset: str = self.prefill.preset or ("smoke" if "smoke" in self.presets else "")
        self.config: RunConfig | None = None

    def compose(self) -> ComposeResult:
        # where a blank URL goes is the URL field's placeholder: the title does not repeat it
        target = (
            "target: the embedded mock (--mock)" if self.prefill.mock else "set target and load"
        )
        yield Static(f"[b]loadtui[/b] — pick a preset, {target}, ctrl+s", id="setup-title")
        with Horizontal(id="setup-body"):
            with Vertical(id="presets"):
                yield Label("Presets", classes="section")
                options = [
                    Option(Content(f"{name}{' (user)' if info.user else ''}"), id=name)
                    for name, info in self.presets.items()
                ]
                yield OptionList(*options, id="preset-list")
            # not a Tab stop of its own: the first Tab after the presets lands in URL
            with VerticalScroll(id="form", can_focus=False):
                yield Static("", id="preset-info")
                yield Static("", id="plan")
                with Grid(id="fields"):
                    for key, label in _FIELDS:
                        yield Label(label, classes="field-label")
                        yield Input(
                            id=key,
                            compact=True,
                            password=key == "api-key",
                            suggester=SuggestFromList(self.recent) if key == "url" else None,
                        )
                    yield Label("Streaming", classes="field-label")
                    yield Switch(id="stream", animate=False)
                yield Static("", id="recent")
                yield Button("Start  ctrl+s", id="start", variant="primary", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        p = self.prefill
        url = p.url or ""  # blank: resolve_config's order (preset, then the environment, then mock)
        key = self.api_key or ""  # blank: the environment's key, chosen at start (never shown)
        self.query_one("#url", Input).value = url
        self.query_one("#api-key", Input).value = key
        for field, value in (
            ("model", p.model),
            ("users", p.users),
            ("spawn-rate", p.spawn_rate),
            ("rate", p.rate),
            ("duration", format_duration(p.duration) if p.duration else None),
            ("think-time", f"{p.think_time[0]:g}-{p.think_time[1]:g}s" if p.think_time else None),
        ):
            if value is not None:
                self.query_one(f"#{field}", Input).value = str(value)
        if self.recent:
            self.query_one("#recent", Static).update(
                Content("recent targets: " + " · ".join(self.recent[:3]))
            )
        names = list(self.presets)
        option_list = self.query_one("#preset-list", OptionList)
        if self.preset in names:
            option_list.highlighted = names.index(self.preset)
        self._show_preset(self.preset)
        option_list.focus()

    @on(OptionList.OptionHighlighted, "#preset-list")
    def _preset_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._show_preset(event.option.id)

    @on(OptionList.OptionSelected, "#preset-list")
    def _preset_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#url", Input).focus()

    def _show_preset(self, name: str) -> None:
        info = self.query_one("#preset-info", Static)
        try:
            config = load_preset(name)
        except ConfigError as exc:
            self.config = None
            info.update(
                Content.from_markup("[b]$name[/b]: cannot be used — $exc", name=name, exc=str(exc))
            )
            return
        self.preset, self.config = name, config
        info.update(
            Content.from_markup("[b]$name[/b] — $about", name=name, about=config.description)
        )
        load = config.load
        placeholders = {
            "url": (
                "the embedded mock (--mock): leave blank"
                if self.prefill.mock
                else "blank: the preset's url, else $OPENAI_BASE_URL, else the embedded mock"
            ),
            "model": config.target.model,
            "api-key": "blank: $ANTHROPIC_API_KEY (messages) or $OPENAI_API_KEY; never saved",
            "users": str(load.users) if load.mode == "closed" else "(set: closed loop)",
            "spawn-rate": f"{load.spawn_rate:g}/s",
            "rate": f"{load.rate:g}/s" if load.mode == "open" else "(set: open loop)",
            "think-time": f"{load.think_time[0]:g}-{load.think_time[1]:g}s",
            "duration": format_duration(load.total_duration),
        }
        for key, text in placeholders.items():
            self.query_one(f"#{key}", Input).placeholder = text
        chats = [r for r in config.requests if r.kind == "chat"]
        switch = self.query_one("#stream", Switch)
        switch.value = (
            self.prefill.stream if self.prefill.stream is not None else any(r.stream for r in chats)
        )
        switch.disabled = not chats
        self._show_plan()

    @on(Input.Changed)
    @on(Switch.Changed)
    def _form_changed(self) -> None:
        self._show_plan()

    def _show_plan(self) -> None:
        """The plan as the form stands (the preset's plan with the fields typed so far), so the
        line under the description never says 10 users while Users says 200."""
        plan = self.query_one("#plan", Static)
        if self.config is None:
            plan.update("")
            return
        try:
            config = resolve_config(self._overrides())
        except (ConfigError, ValueError) as exc:
            plan.update(Content.from_markup("[$error]plan: $why[/]", why=str(exc)))
            return
        edited = config.load != self.config.load or config.requests != self.config.requests
        label = "plan (with your changes)" if edited else "plan"
        load = describe_search(config) if config.search else describe_load(config)
        plan.update(Content(f"{label}: {load}\n{describe_requests(config)}"))

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        try:
            config = resolve_config(self._overrides())
            key = default_api_key(config, self.query_one("#api-key", Input).value.strip() or None)
            # a {key} URL without a key would only get 404s; the URL's user:password was
            # refused above (headless runs only), so there is none here
            check_credentials(config, key, None)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="cannot start", severity="error", markup=False)
            return
        self.post_message(self.StartRequested(config, key))

    def _overrides(self) -> Overrides:
        def text(key: str) -> str:
            return self.query_one(f"#{key}", Input).value.strip()

        def number(key: str, label: str, kind: type = float) -> Any:
            raw = text(key)
            if not raw:
                return None
            try:
                return kind(raw.removesuffix("/s"))
            except ValueError:
                raise ConfigError(f"{label} must be a number, got {raw!r}") from None

        # every option the command line gave carries over (--mock, --threshold, --search,
        # --trace, --header, --body, --warmup, --requests, --turns, ...): the form has fields
        # for a few of them only, and those fields (below) win
        o = replace(self.prefill, preset=self.preset or None, stream=None)
        o.url = text("url") or None
        o.model = text("model") or None
        o.users = number("users", "Users", int)
        o.spawn_rate = number("spawn-rate", "Spawn rate")
        o.rate = number("rate", "Rate")
        o.think_time = parse_range(text("think-time")) if text("think-time") else None
        o.duration = parse_duration(text("duration")) if text("duration") else None
        if self.config is not None:
            chats = [r for r in self.config.requests if r.kind == "chat"]
            stream = self.query_one("#stream", Switch).value
            if chats and stream != any(r.stream for r in chats):
                o.stream = stream
        return o
