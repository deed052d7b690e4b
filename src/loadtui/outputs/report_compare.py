"""The multi-run report's "Compared with the first run" section: the not-alike warning and each
later run's figures against the first, with a verdict only where the difference is larger than
the noise.

The comparison itself is ``run/compare.py``'s (the one ``loadtui compare`` and the app's compare
screen print), so the report, the console and the app never disagree on what differs or on a
verdict; this module only writes it as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from loadtui.model.comparison import ComparisonRow, RunComparison
from loadtui.outputs.html import Markup, table
from loadtui.outputs.report_sections import Shown
from loadtui.run.compare import compare, run_value

__all__ = ["comparison_section"]

_VERDICT_CLASS = {"better": "pass", "worse": "fail", "same": "skip", "within noise": "skip"}

NOISE_NOTE = (
    "Verdicts only beyond the noise: percentiles when their 95% intervals (from the exact "
    "histograms) are apart, error rate by a two-proportion test, rates by their per-second "
    "spread; changes under 2% are the same, larger ones the noise could explain are “within "
    "noise” (docs/metrics.md, “Comparing runs”)."
)


def _value(v: float | None, row: ComparisonRow, signed: bool = False) -> str:
    """A figure as ``loadtui compare`` writes it (``run_value``), with its unit where it is ms."""
    text = run_value(v, row, signed)
    return f"{text} ms" if row.unit == "ms" and v is not None else text


def _verdict(row: ComparisonRow) -> Markup:
    """better / worse / same as a badge; ``not judged`` (why: the notes below the table) where
    the noise could not be judged; nothing for a count, which has no better side."""
    verdict = row.judged or ("not judged" if row.lower_is_better is not None else "")
    if not verdict:
        return Markup("")
    return Markup(
        f'<span class="badge {_VERDICT_CLASS.get(verdict, "skip")}">{escape(verdict)}</span>'
    )


def _not_judged(rc: RunComparison) -> str:
    """Why verdicts are missing, one line per reason naming the figures."""
    reasons: dict[str, list[str]] = {}
    for row in rc.rows:
        if row.noise.verdict is None and row.lower_is_better is not None:
            figure = row.label.rsplit(" ", 1)[0] if row.unit == "ms" else row.label
            names = reasons.setdefault(row.noise.note or "not judged", [])
            if figure not in names:
                names.append(figure)
    return "".join(
        f'<p class="note">{escape(", ".join(v))}: {escape(k)}</p>' for k, v in reasons.items()
    )


def _against(rc: RunComparison, base: Shown, other: Shown) -> str:
    head = ["figure", base.name, other.name, "Δ", "Δ %", "verdict"]
    rows = [
        (
            row.label,
            _value(row.a, row),
            _value(row.b, row),
            _value(row.delta, row, signed=True),
            "—" if row.ratio is None else f"{row.ratio:+.1%}",
            _verdict(row),
        )
        for row in rc.rows
    ]
    title = f"{other.name} against {base.name}"
    return f"<h3>{escape(title)}</h3>" + table(head, rows, "figures compare") + _not_judged(rc)


def comparison_section(runs: Sequence[Shown]) -> Markup:
    """The not-alike warning (naming what differs) and one table per later run."""
    c = compare([s.run for s in runs])
    warning = c.warning
    out = [
        f'<p class="warn">! {escape(warning)}: the differences below mix that change with '
        "whatever you meant to measure.</p>"
        if warning is not None
        else "<p>The runs are alike: same preset, target, load, duration and requests.</p>"
    ]
    for i, rc in enumerate(c.against_baseline, start=1):
        out.append(_against(rc, runs[0], runs[i]))
    out.append(f'<p class="note">{escape(NOISE_NOTE)}</p>')
    return Markup("".join(out))
