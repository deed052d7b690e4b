"""Runs compared, as rich tables: the console's ``loadtui compare`` prints them, the app's
compare screen shows the same configuration table. Plain comparison data in (run/compare.py),
renderables out; values from run files are plain text, never markup."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from loadtui.model.comparison import Comparison, ComparisonRow, RunComparison
from loadtui.run.compare import run_value

__all__ = [
    "NARROW",
    "NOISE_RULE",
    "comparison_renderable",
    "config_table",
    "letters",
    "warning_text",
]

_VERDICT_STYLE = {"better": "green bold", "worse": "red bold", "same": "dim", "within noise": "dim"}


def letters(n: int) -> list[str]:
    """Column names of ``n`` runs: A (the baseline), B, C, …"""
    return [chr(ord("A") + i) if i < 26 else f"R{i + 1}" for i in range(n)]


def verdict_text(row: ComparisonRow) -> Text:
    """A row's verdict, coloured; ``not judged`` where the noise could not be judged (a count
    has none)."""
    verdict = row.judged or ("not judged" if row.lower_is_better is not None else "")
    return Text(verdict, style=_VERDICT_STYLE.get(verdict, "dim"))


def config_table(c: Comparison, only_different: bool = False) -> Table:
    """The runs' configuration side by side; a figure that differs is marked ``≠``.
    ``only_different``: those figures alone, no title and no rule (``config_summary``)."""
    names = letters(len(c.runs))
    t = Table(
        title=None if only_different else "configuration",
        title_justify="left",
        box=None if only_different else box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    t.add_column("", no_wrap=True)
    for name in names:
        t.add_column(name, overflow="fold")
    for row in c.config:
        if only_different and not row.differs:
            continue
        mark = Text(
            ("≠ " if row.differs else "  ") + row.label, style="yellow" if row.differs else ""
        )
        t.add_row(mark, *(Text(v) for v in row.values))  # from run files: plain text
    return t


def config_summary(c: Comparison) -> RenderableType:
    """The configuration in few lines (the app's compare screen): what every run shares on one
    wrapped line, then a table of what differs."""
    shared = Text("same in all: ", style="bold")
    alike = [row for row in c.config if not row.differs]
    for i, row in enumerate(alike):
        shared.append(("" if i == 0 else " · ") + f"{row.label} ", style="dim")
        shared.append(row.values[0])  # from run files: plain text
    if not c.unlike:
        return shared
    return Group(shared, config_table(c, only_different=True)) if alike else config_table(c, True)


def warning_text(c: Comparison) -> Text | None:
    """The not-alike warning, one line (None when the runs are alike)."""
    return None if c.warning is None else Text("! " + c.warning, style="yellow bold")


NARROW = 76
"""Below this many columns the figures table leaves out the absolute delta (Δ % stays), so no
number is ever cut."""


def _rows_table(rc: RunComparison, baseline: str, other: str, narrow: bool) -> Table:
    t = Table(
        title=f"{other} against {baseline}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    t.add_column("figure")  # the one column that may wrap
    delta = () if narrow else (f"Δ {other}−{baseline}",)
    for col in (baseline, other, *delta, "Δ %"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("verdict", no_wrap=True)
    for row in rc.rows:
        cells = [run_value(row.a, row), run_value(row.b, row)]
        if not narrow:
            cells.append(run_value(row.delta, row, signed=True))
        t.add_row(
            row.label,
            *cells,
            "-" if row.ratio is None else f"{row.ratio:+.1%}",
            verdict_text(row),
        )
    return t


def _not_judged(rc: RunComparison) -> list[Text]:
    """One line per reason a verdict was not given, naming the figures."""
    reasons: dict[str, list[str]] = {}
    for row in rc.rows:
        if row.noise.verdict is None and row.lower_is_better is not None:
            figure = row.label.rsplit(" ", 1)[0] if row.unit == "ms" else row.label
            names = reasons.setdefault(row.noise.note or "not judged", [])
            if figure not in names:
                names.append(figure)
    return [Text(f"{', '.join(v)}: {k}", style="dim") for k, v in reasons.items()]


NOISE_RULE = (
    "verdicts only beyond the noise: percentiles when their 95% intervals (from the exact "
    "histograms) are apart, error rate by a two-proportion test, rates by their per-second "
    "spread; changes under 2% are the same, larger ones the noise could explain are 'within "
    "noise' (docs/metrics.md)"
)


def comparison_renderable(
    c: Comparison, statuses: tuple[str, ...] = (), width: int = 80
) -> RenderableType:
    """Everything ``loadtui compare`` prints: which run is which, the configuration, the
    not-alike warning, then each later run against the baseline (A), for ``width`` columns."""
    names = letters(len(c.runs))
    legend = Text()
    for i, (name, run_id) in enumerate(zip(names, c.runs, strict=True)):
        status = f" ({statuses[i]})" if i < len(statuses) else ""
        legend.append(f"{name} = ", style="bold")
        legend.append(run_id + status + (" — baseline" if i == 0 else "") + "\n")
    parts: list[RenderableType] = [legend, config_table(c)]
    warning = warning_text(c)
    if warning is not None:
        parts.append(warning)
    for i, rc in enumerate(c.against_baseline, start=1):
        parts.append(_rows_table(rc, names[0], names[i], narrow=width < NARROW))
        parts.extend(_not_judged(rc))
    parts.append(Text(NOISE_RULE, style="dim"))
    return Group(*parts)
