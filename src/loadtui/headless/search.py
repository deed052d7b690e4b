"""A capacity search in the console: one line per step as it ends, then the table and the result.

The line and the table read ``StepView``/``SearchView`` only (``model/search.py``), so a live
search, its replay and ``loadtui show`` print the same columns from the same figures.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from loadtui.model.search import SearchSpec, SearchView, StepView, load_unit

__all__ = ["search_sections", "step_line"]

_VERDICT_STYLE = {
    "pass": "green",
    "fail": "red",
    "saturated": "yellow",
    "skipped": "dim",
    "running": "cyan",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}ms"


def _pair(p50: float | None, p95: float | None) -> str:
    """``p50/p95`` in ms, or in seconds once either reaches 10 s (keeps the table narrow)."""
    if max(p50 or 0.0, p95 or 0.0) >= 10_000:
        return "/".join("-" if v is None else f"{v / 1000:.1f}s" for v in (p50, p95))
    return "/".join("-" if v is None else f"{v:.0f}" for v in (p50, p95))


def _attainment(step: StepView) -> str:
    if step.attainment is None:
        return "-"
    if step.attainment_ci is None:
        return f"{step.attainment:.3f}"
    lo, hi = step.attainment_ci
    return f"{step.attainment:.3f} [{lo:.2f}–{hi:.2f}]"


def capped(step: StepView, spec: SearchSpec | None) -> bool:
    """The step ran its ``max_step``: judged on what it had, not by the stopping rule."""
    if spec is None or step.verdict == "skipped":
        return False
    return step.duration_s >= spec.settle + spec.max_step - 0.05


def _note(step: StepView, spec: SearchSpec | None) -> str:
    silent = step.verdict == "fail" and step.requests == 0  # capped with nothing finished
    marks = (("held", step.held), ("capped", capped(step, spec)), ("no request finished", silent))
    notes = [n for n, on in marks if on]
    return f" ({', '.join(notes)})" if notes else ""


def step_line(step: StepView, mode: str, spec: SearchSpec | None = None) -> str:
    """``step 3  12 req/s  probe  240 requests  attainment 0.950 [0.92–0.97]  ...  pass``;
    ``(capped)``: the step reached ``max_step`` and was judged on what it had."""
    held = _note(step, spec)
    return (
        f"step {step.index + 1}  {step.load:g} {load_unit(mode)}  {step.phase}  "
        f"{step.requests} requests  attainment {_attainment(step)}  "
        f"p95 TTFT {_ms(step.ttft_p95_ms)}  goodput {step.goodput_rate:.2f}/s ({step.goodput_tokens_rate:.0f} tok/s)  "
        f"errors {step.error_rate:.1%}  {step.duration_s:.1f}s  {step.verdict}{held}"
    )


def _table(view: SearchView, spec: SearchSpec | None) -> Table:
    table = Table(
        title="capacity search", title_justify="left", show_edge=False, collapse_padding=True
    )
    for name in (load_unit(view.mode), "phase", "reqs", "attainment [CI]"):
        table.add_column(name, justify="right" if name != "phase" else "left", no_wrap=True)
    # p50/p95 in ms: the curve issue 13 asks for (TTFT, ITL, latency)
    for name in ("TTFT", "ITL", "latency", "goodput", "errors"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("time", justify="right")
    table.add_column("verdict")
    for s in view.steps:
        table.add_row(
            f"{s.load:g}",
            s.phase,
            str(s.requests),
            _attainment(s),
            _pair(s.ttft_p50_ms, s.ttft_p95_ms),
            _pair(s.itl_p50_ms, s.itl_p95_ms),
            _pair(s.latency_p50_ms, s.latency_p95_ms),
            f"{s.goodput_rate:.2f}",
            f"{s.error_rate:.1%}",
            f"{s.duration_s:.1f}s",
            Text(s.verdict + _note(s, spec), style=_VERDICT_STYLE[s.verdict]),
        )
    return table


def search_sections(view: SearchView, spec: SearchSpec | None = None) -> list[Table | Text]:
    """The steps' table and the search's result line (the capacity, or why there is none);
    a note when a step was capped at ``max_step``."""
    style = "bold green" if view.outcome in ("capacity", "ceiling") else "bold yellow"
    message = view.message or "the search did not finish"
    out: list[Table | Text] = [
        _table(view, spec),
        Text(
            "TTFT, ITL, latency: p50/p95 in ms (s where marked) of the step's judged requests; "
            "goodput: requests/s meeting every SLO",
            style="dim",
        ),
        Text(message, style=style),
    ]
    if any(capped(s, spec) for s in view.steps):
        out.append(
            Text(
                "capped: the step reached max_step before its attainment was clear; it was "
                "judged on the requests it had (docs/capacity.md)",
                style="dim",
            )
        )
    return out
