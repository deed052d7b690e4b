"""What a headless run prints: live progress and the final summary.

It reads only ``LiveFrame``s (``loadtui.run.frame``) and run records — never the engine's
internals — so the app and this console show the same numbers from the same source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from loadtui.headless.search import search_sections
from loadtui.metrics.health import placement
from loadtui.model.durations import format_duration
from loadtui.model.record import (
    GeneratorHealth,
    MetricSummary,
    RunRecord,
    RunSummary,
    SloSummary,
    ThresholdResult,
)
from loadtui.model.requests import count_unit
from loadtui.render.sections import workflow_sections
from loadtui.run.goodput import attainment_text, goodput_text, misses_text
from loadtui.run.units import fmt_ms

if TYPE_CHECKING:  # annotations only: ``show`` imports this module without the engine
    from loadtui.run.frame import LiveFrame

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
    """Milliseconds as the app shows them (at most 6 characters: the table fits 80 columns)."""
    return fmt_ms(v, missing="-")


def _pair(m: MetricSummary) -> str:
    """``p50 83.2 p95 91.0 ms`` (figures from 10 s up carry their own ``s``); '-' for none."""
    if not m.count:
        return "-"
    p95 = _ms(m.p95)
    return f"p50 {_ms(m.p50)} p95 {p95}" + ("" if p95.endswith("s") else " ms")


def _headline(frame: LiveFrame) -> tuple[str, str, str]:
    metrics = frame.totals.metrics
    p = frame.last
    rps = f"{p.rps}/s" if p else "-"
    return rps, _pair(metrics.latency_ms), _pair(metrics.ttft_ms)


def _open_loop(frame: LiveFrame, open_loop: bool | None) -> bool:
    if open_loop is None:
        return frame.target_rate is not None and not frame.target_users
    return open_loop


def _load(frame: LiveFrame, open_loop: bool | None) -> str:
    """Users, or the arrival rate; in closed loop a rate is a cap and completions are what count."""
    p = frame.last
    if _open_loop(frame, open_loop):
        achieved = p.arrivals if p else 0
        return f"rate {achieved}/{frame.target_rate:g}/s"
    load = f"users {frame.users}/{frame.target_users}"
    if frame.target_rate:  # closed loop with a cap: a ceiling on completions, not arrivals
        load += f" cap {frame.target_rate:g}/s"
    return load


def _planned(frame: LiveFrame) -> str:
    """The run's planned length, or its request budget when it has no length of its own."""
    return f"{frame.budget:,} req" if frame.until_budget else format_duration(frame.duration)


def progress_line(frame: LiveFrame, open_loop: bool | None = None) -> str:
    """One plain line (for logs and non-TTY output); ``open_loop`` None = guessed from the frame."""
    t = frame.totals
    rps, lat_s, ttft_s = _headline(frame)
    load = _load(frame, open_loop)
    line = (
        f"[{frame.elapsed:6.1f}s/{_planned(frame)}] {load} "
        f"in-flight {frame.in_flight} req {t.requests} ({rps}) "
        f"err {t.errors_total} latency {lat_s} ttft {ttft_s}{_slo_live(t)}"
    )
    if frame.phase == "paused":
        line += " PAUSED"
    if frame.warmup_left > 0 and frame.live:
        line += f" WARMING UP ({frame.warmup_left:.0f}s left, not counted)"
    if frame.warning:
        line += f" ! {frame.warning}"
    return line


def progress_panel(frame: LiveFrame, open_loop: bool | None = None) -> Table:
    """A compact live table for a terminal."""
    t = frame.totals
    rps, lat_s, ttft_s = _headline(frame)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    frac = min(1.0, frame.elapsed / frame.duration) if frame.duration else 0.0
    bar = "█" * int(frac * 30) + "░" * (30 - int(frac * 30))
    if frame.until_budget:
        grid.add_row("time", f"{frame.elapsed:.1f}s, until {frame.budget:,} requests are answered")
    else:
        grid.add_row("time", f"{bar} {frame.elapsed:.1f}s / {format_duration(frame.duration)}")
    if _open_loop(frame, open_loop):
        achieved = f"{p.arrivals}/s" if (p := frame.last) else "-"
        grid.add_row(
            "rate",
            f"target {frame.target_rate:g}/s, achieved {achieved}, in flight {frame.in_flight}",
        )
    else:
        cap = f", cap {frame.target_rate:g}/s" if frame.target_rate else ""
        grid.add_row(
            "users", f"{frame.users} of {frame.target_users}{cap}, in flight {frame.in_flight}"
        )
    grid.add_row("requests", f"{t.requests:,} ({rps}), errors {t.errors_total:,}")
    grid.add_row("latency", lat_s)
    grid.add_row("TTFT", ttft_s)
    if t.slo is not None:
        grid.add_row("goodput", goodput_text(t.slo))
        grid.add_row("SLOs", f"{attainment_text(t.slo)} met; missed: {misses_text(t.slo)}")
    if frame.phase == "paused":
        grid.add_row("", Text("PAUSED", style="yellow bold"))
    if frame.warmup_left > 0 and frame.live:
        warm = f"WARMING UP: {frame.warmup_left:.0f}s left, not in the figures"
        grid.add_row("", Text(warm, style="cyan bold"))
    if frame.warning:
        grid.add_row("warning", Text(frame.warning, style="red bold"))
    return grid


def _thresholds(results: tuple[ThresholdResult, ...]) -> Table:
    """Each threshold with its result, and why when there was nothing to judge."""
    th = Table(title="thresholds", title_justify="left", box=box.SIMPLE_HEAD)
    th.add_column("metric")
    th.add_column("threshold")
    th.add_column("actual", justify="right")
    th.add_column("result")
    reasons = any(r.reason for r in results)
    if reasons:
        th.add_column("why", overflow="fold")
    for r in results:
        actual = "-" if r.actual is None else f"{r.actual:.4g}"
        if r.skipped:
            result = Text("skipped", style="dim")
        elif r.passed:
            result = Text("pass", style="green")
        else:
            result = Text("FAIL", style="red bold")
        row: list[str | Text] = [Text(r.metric), Text(r.expression), actual, result]
        if reasons:
            row.append(Text(r.reason or ""))
        th.add_row(*row)
    return th


def _counts(s: RunSummary, kinds: set[str | None], trace: bool = False) -> Table:
    """Requests, errors, status codes, tokens. A Batch job counts once however many HTTP calls
    it makes, so in a run with jobs the rows say which they count."""
    unit = count_unit(kinds)
    counts = Table.grid(padding=(0, 2))
    counts.add_column(style="bold")
    counts.add_column()
    counts.add_row(
        unit,
        f"{s.requests:,} ({s.rps:.1f}/s), ok {s.ok:,}, cancelled {s.cancelled}",
    )
    if s.dropped or s.late or trace:  # open loop: never sent, or sent late (a trace: always)
        counts.add_row(
            "arrivals",
            f"dropped {s.dropped:,} (never sent), late {s.late:,} (sent > 100 ms after their time)",
        )
    errs = ", ".join(f"{k} {v}" for k, v in s.errors.items()) or "none"
    counts.add_row("errors", f"{s.errors_total:,} ({s.error_rate * 100:.2f}%): {errs}")
    for error_class, reasons in s.error_reasons.items():
        for reason in reasons:  # a server's words: plain text, never markup
            counts.add_row("", Text(f"{error_class}: {reason}", style="dim"))
    codes = ", ".join(f"{k}: {v}" for k, v in s.status_codes.items()) or "-"
    counts.add_row("HTTP calls" if "batch" in kinds else "status codes", codes)
    counts.add_row(
        "tokens",
        f"output {s.output_tokens:,} ({s.output_tokens_per_s:.1f}/s), input {s.input_tokens:,}",
    )
    return counts


def _slo_rows(counts: Table, slo: SloSummary, bounds: Mapping[str, str]) -> None:
    """Goodput, attainment and each SLO's misses (docs/metrics.md, "SLOs and goodput")."""
    counts.add_row("goodput", goodput_text(slo))
    counts.add_row("attainment", f"{attainment_text(slo)} met every SLO")
    counts.add_row("SLO misses", misses_text(slo, bounds))


def _slo_live(t: RunSummary) -> str:
    """`` goodput 12.3/s att 97.5% worst ttft`` for the live line; empty without SLOs."""
    slo = t.slo
    if slo is None or not slo.judged:
        return ""
    worst = f" worst {slo.worst}" if slo.worst else ""
    return f" goodput {slo.goodput_rps:.1f}/s att {slo.attainment * 100:.1f}%{worst}"


def _percentiles(s: RunSummary, open_loop: bool) -> Table:
    """Every metric's percentiles; latency from the intended send only where it can differ
    from the actual one (open loop)."""
    table = Table(
        title="percentiles (ms)", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
    )
    table.add_column("metric", no_wrap=True)
    for col in ("count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"):
        table.add_column(col, justify="right", overflow="fold")  # wrap a figure, never cut it
    for key, label in _METRIC_LABELS:
        if key == "latency_actual_ms" and not open_loop:
            continue
        if key == "latency_ms" and open_loop:
            label = "latency (intended)"
        m = s.metrics.get(key)
        if not m.count:
            table.add_row(label, "0", *["-"] * 7)
            continue
        table.add_row(label, f"{m.count:,}", *(_ms(v) for v in _figures(m)))
    return table


def _figures(m: MetricSummary) -> tuple[float, ...]:
    return (m.mean, m.p50, m.p90, m.p95, m.p99, m.p999, m.max)


def _generator(g: GeneratorHealth) -> list[Text]:
    """The generator's own health line and its warnings."""
    if not g.workers:  # a run file from before the generator was recorded (``show``)
        return [Text("generator: not recorded in this run file", style="dim")]
    rate = (
        f", arrivals {g.achieved_rate:.1f}/s of {g.target_rate_mean:g}/s"
        if g.achieved_rate is not None and g.target_rate_mean is not None
        else ""
    )
    gen = Text(
        f"generator: {g.workers} worker(s), CPU max {g.cpu_percent_max:.0f}%, "
        f"loop lag max {g.loop_lag_ms_max:.1f} ms, saturated {g.saturated_seconds}s" + rate
    )
    where = [Text(f"  on {line}") for line in placement(g)]  # Ray actors: node by node
    return [gen, *where, *(Text(f"warning: {w}", style="yellow") for w in g.warnings)]


def summary_renderable(run: RunRecord) -> Group:
    """The end-of-run report: counts, errors, percentiles, thresholds, generator health."""
    s = run.summary
    target = run.target
    where = "the embedded mock upstream" if target.embedded_mock else target.url or "?"
    head = Text.assemble(
        ("loadtui ", "bold"),
        (f"{run.preset or 'custom'} ", "bold cyan"),
        f"against {where} — {run.status}, {s.duration_s:.1f}s",
    )
    # open loop is where latency from the intended send can differ from the actual one
    open_loop = run.config.load.open_loop
    kinds: set[str | None] = {r.kind for r in run.config.requests}
    counts = _counts(s, kinds, trace=run.config.trace is not None)
    if s.slo is not None:
        _slo_rows(counts, s.slo, run.config.slo)
    parts: list[Any] = [head, counts]
    parts.append(_percentiles(s, open_loop))
    parts.extend(workflow_sections(s))
    if open_loop:
        parts.append(
            Text(
                "open loop: latency (intended) runs from each request's scheduled send time, so "
                "time spent waiting to be sent counts; latency (actual) from when it was sent",
                style="dim",
            )
        )
    if run.search is not None:
        parts.extend(search_sections(run.search, run.config.search))
    if run.thresholds:
        parts.append(_thresholds(run.thresholds))
    parts.extend(_generator(run.generator))
    if run.server is not None:  # --server-metrics: what the server said (its own text: plain)
        from loadtui.run.servermetrics import server_summary  # httpx: only for this (start-up)

        parts.extend(Text(line) for line in server_summary(run.server))
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
