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
from loadtui.model.record import RunRecord
from loadtui.model.slo import slos_of
from loadtui.run.describe import (
    describe_load,
    describe_requests,
    describe_streaming,
    describe_target,
)

__all__ = ["config_lines", "show_renderable"]


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
    target = describe_target(run.target)
    model = run.target.model or run.config.target.model
    setup = f"preset {run.preset or 'custom'} · target {target}" + (
        f" (model {model})" if model else ""
    )
    plan = (
        f"load {describe_load(run.config)} · requests {describe_requests(run.config)}"
        f" · streaming {describe_streaming(run.config)}"
    )
    lines = [Text(ident, style="bold"), Text(setup), Text(plan)]
    if run.config.slo:  # what the summary's goodput and attainment were judged against
        lines.append(Text("SLOs " + " ".join(s.text for s in slos_of(run.config.slo))))
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
