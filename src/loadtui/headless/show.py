"""``loadtui show RUN``: a saved run as its headless run printed it at the end, with its setup.

The summary is the console's own (``summary_renderable``), so a run shown later reads exactly
as it did in the CI log; above it two lines say what the run was (id, status, when, preset,
target, load, requests) — what a summary alone leaves out. Every text from the file (ids,
URLs, reasons) is plain ``Text``, never markup.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.text import Text

from loadtui.headless.console import summary_renderable
from loadtui.model.durations import format_duration
from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord

__all__ = ["config_lines", "describe_load", "show_renderable"]


def describe_load(config: RunConfig) -> str:
    """The planned load in a few words: ``closed loop: 3 users, think 0.5–1s, 8s``."""
    load = config.load
    length = format_duration(load.total_duration)
    if load.mode == "closed":
        think = load.think_time
        span = f"{think[0]:g}s" if think[0] == think[1] else f"{think[0]:g}–{think[1]:g}s"
        thinking = f", think {span}" if think[1] else ""
        return f"closed loop: {load.users} user{'s' if load.users != 1 else ''}{thinking}, {length}"
    if load.mode == "open":
        return f"open loop: {load.rate or 0:g} req/s {load.arrival}, {length}"
    if load.mode == "burst":
        return f"burst: {load.burst_requests} requests at once"
    key = "rate" if load.stages_are_rate else "users"
    steps = "→".join(f"{getattr(s, key) or 0:g}" for s in load.stages)
    return f"stages of {key}: 0→{steps} over {length}"


_STREAMED = ("chat", "completion", "messages")
"""The kinds whose ``stream`` means something (it defaults to True for every kind)."""


def _requests(config: RunConfig) -> str:
    """``chat (stream), embedding`` — each kind of the mix once, in order."""
    kinds: list[str] = []
    for r in config.requests:
        kind = f"{r.kind} (stream)" if r.stream and r.kind in _STREAMED else r.kind
        if kind not in kinds:
            kinds.append(kind)
    return ", ".join(kinds)


def _when(started_at: str) -> str:
    """``2026-11-23 15:16:05 UTC`` from the file's ISO 8601 UTC time; '?' when missing."""
    return f"{started_at[:19].replace('T', ' ')} UTC" if started_at else "?"


def config_lines(run: RunRecord, path: Path | None = None) -> list[Text]:
    """Who, when and what: the run's identity, its preset and target, its planned load."""
    ident = f"run {run.id} · {run.status} · started {_when(run.started_at)}"
    if run.replay_of:
        ident += f" · replay of {run.replay_of}"
    if run.loadtui_version:
        ident += f" · loadtui {run.loadtui_version}"
    target = "the embedded mock" if run.target.embedded_mock else run.target.url or "?"
    model = run.target.model or run.config.target.model
    setup = f"preset {run.preset or 'custom'} · target {target}" + (
        f" (model {model})" if model else ""
    )
    plan = f"load {describe_load(run.config)} · requests {_requests(run.config)}"
    lines = [Text(ident, style="bold"), Text(setup), Text(plan)]
    if path is not None:
        lines.append(Text(f"file {path}", style="dim"))
    if run.status == "running":
        lines.append(
            Text("a checkpoint: the run was still going when this was written", style="yellow")
        )
    if run.config_error:  # e.g. a newer loadtui's key: shown with what validated of it
        lines.append(Text(f"its config cannot be run again here: {run.config_error}", "yellow"))
    return lines


def show_renderable(run: RunRecord, path: Path | None = None) -> Group:
    """What ``loadtui show`` prints: the setup lines, a blank line, the end-of-run summary."""
    return Group(*config_lines(run, path), Text(""), summary_renderable(run))
