"""What a headless run prints: live progress and the final summary.

It reads only ``LiveView`` and run dicts — never the engine's internals — so the TUI and this
console show the same numbers from the same source.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from loadtui.engine.coordinator import LiveView
from loadtui.headless.sections import workflow_sections
from loadtui.model.durations import format_duration
from loadtui.model.plan import open_loop_of

__all__ = ["progress_line", "progress_panel", "summary_renderable"]

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


def progress_line(view: LiveView) -> str:
    """One plain line (for logs and non-TTY output)."""
    t = view.totals
    rps, lat_s, ttft_s = _headline(view)
    if view.target_rate is not None:
        achieved = view.last_point["arrivals"] if view.last_point else 0
        load = f"rate {achieved}/{view.target_rate:g}/s"
    else:
        load = f"users {view.users}/{view.target_users}"
    line = (
        f"[{view.elapsed:6.1f}s/{format_duration(view.duration)}] {load} in-flight {view.in_flight} "
        f"req {t.requests} ({rps}) err {t.errors_total} latency {lat_s} ttft {ttft_s}"
    )
    if view.paused:
        line += " PAUSED"
    if view.warning:
        line += f" ! {view.warning}"
    return line


def progress_panel(view: LiveView) -> Table:
    """A compact live table for a terminal."""
    t = view.totals
    rps, lat_s, ttft_s = _headline(view)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    frac = min(1.0, view.elapsed / view.duration) if view.duration else 0.0
    bar = "█" * int(frac * 30) + "░" * (30 - int(frac * 30))
    grid.add_row("time", f"{bar} {view.elapsed:.1f}s / {format_duration(view.duration)}")
    if view.target_rate is not None:
        achieved = f"{p['arrivals']}/s" if (p := view.last_point) else "-"
        grid.add_row(
            "rate",
            f"target {view.target_rate:g}/s, achieved {achieved}, in flight {view.in_flight}",
        )
    else:
        grid.add_row("users", f"{view.users} of {view.target_users}, in flight {view.in_flight}")
    grid.add_row("requests", f"{t.requests:,} ({rps}), errors {t.errors_total:,}")
    grid.add_row("latency", lat_s)
    grid.add_row("TTFT", ttft_s)
    if view.paused:
        grid.add_row("", Text("PAUSED", style="yellow bold"))
    if view.warning:
        grid.add_row("warning", Text(view.warning, style="red bold"))
    return grid


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
    counts = Table.grid(padding=(0, 2))
    counts.add_column(style="bold")
    counts.add_column()
    counts.add_row(
        "requests",
        f"{s['requests']:,} ({s['rps']:.1f}/s), ok {s['ok']:,}, cancelled {s['cancelled']}",
    )
    errs = ", ".join(f"{k} {v}" for k, v in s["errors"].items()) or "none"
    counts.add_row("errors", f"{s['errors_total']:,} ({s['error_rate'] * 100:.2f}%): {errs}")
    for error_class, reasons in s.get("error_reasons", {}).items():
        for reason in reasons:  # a server's words: plain text, never markup
            counts.add_row("", Text(f"{error_class}: {reason}", style="dim"))
    counts.add_row(
        "status codes", ", ".join(f"{k}: {v}" for k, v in s["status_codes"].items()) or "-"
    )
    counts.add_row(
        "tokens",
        f"output {s['output_tokens']:,} ({s['output_tokens_per_s']:.1f}/s), input {s['input_tokens']:,}",
    )
    parts.append(counts)
    table = Table(
        title="percentiles (ms)", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
    )
    table.add_column("metric", no_wrap=True)
    for col in ("count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"):
        table.add_column(col, justify="right")
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
        th = Table(title="thresholds", title_justify="left", box=box.SIMPLE_HEAD)
        th.add_column("metric")
        th.add_column("threshold")
        th.add_column("actual", justify="right")
        th.add_column("result")
        for r in run["thresholds"]:
            actual = "-" if r["actual"] is None else f"{r['actual']:.4g}"
            th.add_row(
                r["metric"],
                r["expression"],
                actual,
                Text("pass", style="green") if r["passed"] else Text("FAIL", style="red bold"),
            )
        parts.append(th)
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
    return Console(file=stream, highlight=False, soft_wrap=False)
