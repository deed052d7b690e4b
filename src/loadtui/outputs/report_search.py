"""The report's "Capacity search" section: the search's result, its curve and its steps.

A capacity search run (docs/capacity.md) stores its steps and result as ``RunRecord.search``;
without this section the report would show only the load over time and leave the reader to
work out the capacity. The curve is drawn against load (not time), one dot per step, the
attainment's 95 % interval as error bars and the target as a dashed line.
"""

from __future__ import annotations

from html import escape

from loadtui.model.search import SearchView, StepView
from loadtui.outputs.html import Cell, Markup, ms, table
from loadtui.outputs.report_sections import Shown
from loadtui.outputs.svg import Line, Span, load_chart

__all__ = ["search_section"]

_VERDICT_CLASS = {"pass": "pass", "fail": "fail", "saturated": "fail"}


def _unit(view: SearchView) -> str:
    return "req/s" if view.mode == "rate" else "users"


def _load(value: float, view: SearchView) -> str:
    return f"{value:.4g} {_unit(view)}"


def _outcome(view: SearchView) -> Markup:
    """The result in a line or two: the capacity with its interval, or why there is none."""
    if view.capacity is not None:
        around = ""
        if view.interval is not None:
            low, high = view.interval
            around = f" (between {low:.4g} and {_load(high, view)})"
        head = f'<p class="capacity"><strong>Capacity: {escape(_load(view.capacity, view))}'
        line = Markup(f"{head}</strong>{escape(around)}</p>")
    else:
        line = Markup(
            f'<p class="capacity"><strong>No capacity:</strong> {escape(view.message)}</p>'
        )
    target = (
        f"Target: SLO attainment ≥ {view.target:.2f} with an error rate ≤ {view.error_limit:.2%}; "
        f"{view.mode} search, each probe step ×{view.step_factor:g}; "
        f"outcome: {view.outcome or 'not finished'}."
    )
    said = f" {view.message}" if view.capacity is not None and view.message else ""
    return Markup(f'{line}<p class="note">{escape(target + said)}</p>')


def _attainment(step: StepView) -> str | None:
    if step.attainment is None:
        return None
    ci = step.attainment_ci
    return f"{step.attainment:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _verdict(step: StepView) -> Markup:
    cls = _VERDICT_CLASS.get(step.verdict, "skip")
    held = " (held)" if step.held else ""
    return Markup(f'<span class="badge {cls}">{escape(step.verdict)}</span>{escape(held)}')


def _steps_table(view: SearchView) -> Markup:
    head = ["#", f"load ({_unit(view)})", "phase", "requests", "attainment [95 % CI]"]
    head += ["TTFT p50 / p95", "ITL p50 / p95", "latency p50 / p95", "goodput"]
    head += ["errors", "verdict"]
    rows: list[list[Cell]] = [
        [
            str(s.index + 1),
            f"{s.load:.4g}",
            s.phase,
            s.requests,
            _attainment(s),
            f"{ms(s.ttft_p50_ms)} / {ms(s.ttft_p95_ms)}",
            f"{ms(s.itl_p50_ms)} / {ms(s.itl_p95_ms)}",
            f"{ms(s.latency_p50_ms)} / {ms(s.latency_p95_ms)}",
            f"{s.goodput_rate:.4g} req/s ({s.goodput_tokens_rate:.4g} tok/s)",
            f"{s.error_rate:.2%}",
            _verdict(s),
        ]
        for s in view.steps
    ]
    return table(head, rows, "figures steps", "Steps, in the order they ran")


def _figure(title: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="plot"><h3>{escape(title)}</h3>{svg}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _charts(view: SearchView, color: str) -> str:
    steps = sorted((s for s in view.steps if s.requests), key=lambda s: s.load)
    x_title = f"load ({_unit(view)})"
    x_high = max((s.load for s in steps), default=1.0)
    attained = [(s.load, None if s.attainment is None else 100 * s.attainment) for s in steps]
    target = Line(
        f"target {view.target:.2f}",
        [(0.0, 100 * view.target), (x_high, 100 * view.target)],
        "#d62728",
        "6 4",
    )
    spans = [
        Span(s.load, 100 * s.attainment_ci[0], 100 * s.attainment_ci[1], color)
        for s in steps
        if s.attainment_ci is not None
    ]
    marks = [Line("attainment", attained, color), target]
    if view.capacity is not None:  # where the search put the knee: a dotted upright
        marks.append(
            Line("capacity", [(view.capacity, 0.0), (view.capacity, 100.0)], "#2ca02c", "2 3")
        )
    first = load_chart(
        "SLO attainment by load",
        x_title,
        "%",
        marks,
        spans,
        100.0,
    )
    ttft = [
        Line("TTFT p50", [(s.load, s.ttft_p50_ms) for s in steps], "#1f77b4"),
        Line("TTFT p95", [(s.load, s.ttft_p95_ms) for s in steps], "#ff7f0e"),
    ]
    goodput = [Line("goodput", [(s.load, s.goodput_rate) for s in steps], "#2ca02c")]
    dots = "One dot per step that judged requests."
    return (
        _figure(
            "SLO attainment by load",
            first,
            f"{dots} Bars: the 95 % interval (Wilson). Dashed: the target; dotted: the capacity found.",
        )
        + _figure("TTFT by load", load_chart("TTFT by load", x_title, "ms", ttft), dots)
        + _figure("Goodput by load", load_chart("Goodput by load", x_title, "req/s", goodput), dots)
    )


def search_section(shown: Shown) -> Markup:
    """One run's capacity search: its outcome, its curve and its steps (empty without one)."""
    view = shown.run.search
    if view is None:
        return Markup("<p>Not a capacity search.</p>")
    return Markup(_outcome(view) + _charts(view, shown.color) + _steps_table(view))
