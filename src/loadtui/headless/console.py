"""What a headless run prints: live progress and the final summary.

It reads only ``LiveView`` and run dicts — never the engine's internals — so the TUI and this
console show the same numbers from the same source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from loadtui.engine.coordinator import LiveView
from loadtui.model.durations import format_duration
from loadtui.model.plan import open_loop_of
from loadtui.model.requests import count_unit
from loadtui.render.sections import workflow_sections

__all__ = [
    "live_wanted",
    "make_console",
    "plain_printer",
    "progress_line",
    "progress_panel",
    "summary_renderable",
]

_PIPE_WIDTH = 120
"""Width for output that is not a terminal: wide enough for every table, so a log or a pipe
never gets cells cut to ``53…`` (there is no screen to fit)."""

_METRIC_LABELS = (
    ("latency_ms", "latency"),
    ("latency_actual_ms", "latency (actual)"),
    ("ttft_ms", "TTFT"),
    ("itl_ms", "ITL"),
    ("tpot_ms", "TPOT"),
)


def _ms(v: float | None) -> str:
    """Milliseconds in at most 6 characters, so the table fits 80 columns."""
    if v is None:
        return "-"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def _headline(view: LiveView) -> tuple[str, str, str]:
    t = view.totals
    lat = t.hist["latency_ms"]
    ttft = t.hist["ttft_ms"]
    p = view.last_point
    rps = f"{p['rps']}/s" if p else "-"
    lat_s = f"p50 {_ms(lat.percentile(50))} p95 {_ms(lat.percentile(95))} ms" if lat.count else "-"
    ttft_s = (
        f"p50 {_ms(ttft.percentile(50))} p95 {_ms(ttft.percentile(95))} ms" if ttft.count else "-"
    )
    return rps, lat_s, ttft_s


def _load(view: LiveView, open_loop: bool | None) -> str:
    """Users, or the arrival rate; in closed loop a rate is a cap and completions are what count."""
    if open_loop is None:
        open_loop = view.target_rate is not None and not view.target_users
    p = view.last_point
    if open_loop:
        achieved = p["arrivals"] if p else 0
        return f"rate {achieved}/{view.target_rate:g}/s"
    load = f"users {view.users}/{view.target_users}"
    if view.target_rate:  # closed loop with a cap: a ceiling on completions, not arrivals
        load += f" cap {view.target_rate:g}/s"
    return load


def progress_line(view: LiveView, open_loop: bool | None = None) -> str:
    """One plain line (for logs and non-TTY output); ``open_loop`` None = guessed from the view."""
    t = view.totals
    rps, lat_s, ttft_s = _headline(view)
    load = _load(view, open_loop)
    line = (
        f"[{view.elapsed:6.1f}s/{format_duration(view.duration)}] {load} in-flight {view.in_flight} "
        f"req {t.requests} ({rps}) err {t.errors_total} latency {lat_s} ttft {ttft_s}"
    )
    if view.paused:
        line += " PAUSED"
    if view.warning:
        line += f" ! {view.warning}"
    return line


def progress_panel(view: LiveView, open_loop: bool | None = None) -> Table:
    """A compact live table for a terminal."""
    t = view.totals
    rps, lat_s, ttft_s = _headline(view)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    frac = min(1.0, view.elapsed / view.duration) if view.duration else 0.0
    bar = "█" * int(frac * 30) + "░" * (30 - int(frac * 30))
    grid.add_row("time", f"{bar} {view.elapsed:.1f}s / {format_duration(view.duration)}")
    if open_loop is None:
        open_loop = view.target_rate is not None and not view.target_users
    if open_loop:
        achieved = f"{p['arrivals']}/s" if (p := view.last_point) else "-"
        grid.add_row(
            "rate",
            f"target {view.target_rate:g}/s, achieved {achieved}, in flight {view.in_flight}",
        )
    else:
        cap = f", cap {view.target_rate:g}/s" if view.target_rate else ""
        grid.add_row(
            "users", f"{view.users} of {view.target_users}{cap}, in flight {view.in_flight}"
        )
    grid.add_row("requests", f"{t.requests:,} ({rps}), errors {t.errors_total:,}")
    grid.add_row("latency", lat_s)
    grid.add_row("TTFT", ttft_s)
    if view.paused:
        grid.add_row("", Text("PAUSED", style="yellow bold"))
    if view.warning:
        grid.add_row("warning", Text(view.warning, style="red bold"))
    return grid


def _thresholds(results: list[dict[str, Any]]) -> Table:
    """Each threshold with its result, and why when there was nothing to judge."""
    th = Table(title="thresholds", title_justify="left", box=box.SIMPLE_HEAD)
    th.add_column("metric")
    th.add_column("threshold")
    th.add_column("actual", justify="right")
    th.add_column("result")
    reasons = any(r.get("reason") for r in results)
    if reasons:
        th.add_column("why", overflow="fold")
    for r in results:
        actual = "-" if r["actual"] is None else f"{r['actual']:.4g}"
        if r.get("skipped"):
            result = Text("skipped", style="dim")
        elif r["passed"]:
            result = Text("pass", style="green")
        else:
            result = Text("FAIL", style="red bold")
        row = [Text(r["metric"]), Text(r["expression"]), actual, result]
        if reasons:
            row.append(Text(r.get("reason") or ""))
        th.add_row(*row)
    return th


def _counts(s: dict[str, Any], requests: list[dict[str, Any]]) -> Table:
    """Requests, errors, status codes, tokens. A Batch job counts once however many HTTP calls
    it makes, so in a run with jobs the rows say which they count."""
    kinds = {r.get("kind") for r in requests}
    unit = count_unit(kinds)
    counts = Table.grid(padding=(0, 2))
    counts.add_column(style="bold")
    counts.add_column()
    counts.add_row(
        unit,
        f"{s['requests']:,} ({s['rps']:.1f}/s), ok {s['ok']:,}, cancelled {s['cancelled']}",
    )
    if s.get("dropped") or s.get("late"):  # open loop: arrivals never sent, or sent late
        counts.add_row(
            "arrivals",
            f"dropped {s.get('dropped', 0):,} (never sent), late {s.get('late', 0):,} "
            "(sent > 100 ms after their time)",
        )
    errs = ", ".join(f"{k} {v}" for k, v in s["errors"].items()) or "none"
    counts.add_row("errors", f"{s['errors_total']:,} ({s['error_rate'] * 100:.2f}%): {errs}")
    for error_class, reasons in s.get("error_reasons", {}).items():
        for reason in reasons:  # a server's words: plain text, never markup
            counts.add_row("", Text(f"{error_class}: {reason}", style="dim"))
    codes = ", ".join(f"{k}: {v}" for k, v in s["status_codes"].items()) or "-"
    counts.add_row("HTTP calls" if "batch" in kinds else "status codes", codes)
    counts.add_row(
        "tokens",
        f"output {s['output_tokens']:,} ({s['output_tokens_per_s']:.1f}/s), input {s['input_tokens']:,}",
    )
    return counts


def summary_renderable(run: dict[str, Any]) -> Group:
    """The end-of-run report: counts, errors, percentiles, thresholds, generator health."""
    s = run["summary"]
    target = run.get("target", {})
    parts: list[Any] = []
    where = "the embedded mock upstream" if target.get("embedded_mock") else target.get("url", "?")
    head = Text.assemble(
        ("loadtui ", "bold"),
        (f"{run.get('preset') or 'custom'} ", "bold cyan"),
        f"against {where} — {run['status']}, {s['duration_s']:.1f}s",
    )
    parts.append(head)
    parts.append(_counts(s, run.get("config", {}).get("requests") or []))
    table = Table(
        title="percentiles (ms)", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
    )
    table.add_column("metric", no_wrap=True)
    for col in ("count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"):
        table.add_column(col, justify="right", overflow="fold")  # wrap a figure, never cut it
    # open loop is where latency from the intended send can differ from the actual one
    open_loop = open_loop_of(run.get("config", {}).get("load", {}))
    for key, label in _METRIC_LABELS:
        m = s["metrics"].get(key)
        if not m or (key == "latency_actual_ms" and not open_loop):
            continue
        if key == "latency_ms" and open_loop:
            label = "latency (intended)"
        if not m["count"]:
            table.add_row(label, "0", *["-"] * 7)
            continue
        table.add_row(
            label,
            f"{m['count']:,}",
            *(_ms(m[k]) for k in ("mean", "p50", "p90", "p95", "p99", "p999", "max")),
        )
    parts.append(table)
    parts.extend(workflow_sections(s))
    if open_loop:
        parts.append(
            Text(
                "open loop: latency (intended) runs from each request's scheduled send time, so "
                "time spent waiting to be sent counts; latency (actual) from when it was sent",
                style="dim",
            )
        )
    if run.get("thresholds"):
        parts.append(_thresholds(run["thresholds"]))
    g = run.get("generator", {})
    rate = (
        f", arrivals {g['achieved_rate']:.1f}/s of {g['target_rate_mean']:g}/s"
        if "achieved_rate" in g
        else ""
    )
    gen = Text(
        f"generator: {g.get('workers', '?')} worker(s), CPU max {g.get('cpu_percent_max', 0):.0f}%, "
        f"loop lag max {g.get('loop_lag_ms_max', 0):.1f} ms, saturated {g.get('saturated_seconds', 0)}s"
        + rate
    )

    parts.append(gen)
    for w in g.get("warnings", []):
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)


def make_console(stream: Any = None) -> Console:
    console = Console(file=stream, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, _PIPE_WIDTH)
    return console


def live_wanted(console: Console, requested: bool | None) -> bool:
    """Redraw in place only where that can be seen: a terminal that understands cursor moves.

    ``--live`` into a pipe or on ``TERM=dumb`` would print nothing until the end, so both fall
    back to plain progress lines.
    """
    able = console.is_terminal and not console.is_dumb_terminal
    return able if requested is None else requested and able


def plain_printer(console: Console) -> Callable[[str], None]:
    """``print`` for text a user or a server wrote (URLs, paths, errors): no markup, no
    highlighting, never wrapped, so ``grep 'run saved: '`` finds the whole path on its line."""

    def say(text: str) -> None:
        console.print(Text(text), soft_wrap=True, overflow="ignore", crop=False)

    return say
