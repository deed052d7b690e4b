"""Charts as hand-written SVG: what the HTML report draws its plots with.

Plain SVG text needs no library and no network: the report stays one small file that opens
offline, prints sharply and can be checked by any XML/HTML parser (docs/report.md says why this
over a JavaScript plotting library). Two kinds of chart: values over a run's time (lines with
gaps where a second had no sample, live control changes marked on the time axis) and a
percentile curve on a log-scale axis (HdrHistogram's classic latency-by-percentile plot).
Every piece of text is escaped here, so a label from a run file can never become markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from loadtui.model.durations import format_duration

__all__ = [
    "Line",
    "Marker",
    "Span",
    "downsample",
    "load_chart",
    "nice_ticks",
    "percentile_chart",
    "percentile_x",
    "time_chart",
]

Point = tuple[float, float | None]
"""(x, y); y None is a gap (no sample), never drawn as a zero."""

WIDTH = 960
HEIGHT = 250
_LEFT, _RIGHT, _BOTTOM = 64, 18, 42
_CHAR_W = 6.6
"""Rough width of a 12 px sans-serif character, to lay out the legend and marker labels."""
MAX_POINTS = 1200
"""Most points drawn per line (about one per pixel of the plot): longer series are reduced."""


@dataclass(frozen=True, slots=True)
class Line:
    """One drawn series: its legend name, points in x order, colour and dash pattern."""

    name: str
    points: Sequence[Point]
    color: str
    dash: str = ""
    """An SVG ``stroke-dasharray`` (empty: solid)."""


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical mark on the time axis: a live control change."""

    at: float
    label: str
    color: str = "#555"
    detail: str = ""
    """Shown on hover (the SVG ``<title>``)."""


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most about ``limit`` points: each bucket of neighbours becomes its lowest and highest
    point (in time order), so a one-second spike in an hour still shows; a bucket with no
    sample stays a gap."""
    if len(points) <= limit:
        return list(points)
    size = math.ceil(len(points) / (limit // 2))
    out: list[Point] = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        valued = [p for p in bucket if p[1] is not None]
        if not valued:
            out.append((bucket[0][0], None))
            continue
        low = min(valued, key=lambda p: p[1] or 0.0)
        high = max(valued, key=lambda p: p[1] or 0.0)
        out.extend(sorted({low, high}, key=lambda p: p[0]))
    return out


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``high`` (steps of 1, 2 or 5 × 10ⁿ)."""
    if high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def _time_ticks(high: float) -> list[float]:
    """Time ticks on steps a reader counts in: seconds, then minutes, then hours."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
    step = next((s for s in steps if high / s <= 10), 86400 * math.ceil(high / 86400 / 10))
    return [float(t) for t in range(0, int(high) + step, step) if t <= high + 1e-9]


def _num(v: float) -> str:
    """A tick label: no trailing zeros, thousands as ``k``."""
    if abs(v) >= 10_000:
        return f"{v / 1000:g}k"
    return f"{v:.6g}"


class _Frame:
    """The plot area inside the SVG and the linear maps into it."""

    def __init__(self, x_max: float, y_max: float, top: float) -> None:
        self.x_max = x_max or 1.0
        self.y_max = y_max or 1.0
        self.top = top
        self.left, self.right = _LEFT, WIDTH - _RIGHT
        self.bottom = HEIGHT - _BOTTOM + top

    def x(self, v: float) -> float:
        return self.left + (self.right - self.left) * v / self.x_max

    def y(self, v: float) -> float:
        return self.bottom - (self.bottom - self.top) * v / self.y_max


def _path(frame: _Frame, points: Sequence[Point]) -> str:
    """``M``/``L`` commands; a gap lifts the pen, and a lone point between gaps is a dot."""
    parts: list[str] = []
    pen_down = False
    for x, y in points:
        if y is None:
            if pen_down and parts[-1].startswith("M"):
                parts[-1] += "l0.01 0"  # a lone sample: a round-capped dot
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{frame.x(x):.1f} {frame.y(y):.1f}")
        pen_down = True
    if parts and parts[-1].startswith("M"):
        parts[-1] += "l0.01 0"
    return "".join(parts)


def _legend(lines: Sequence[Line]) -> tuple[list[str], int]:
    """The legend as SVG rows above the plot, and how many rows it took."""
    out: list[str] = []
    x, row = float(_LEFT), 0
    for line in lines:
        width = 30 + len(line.name) * _CHAR_W + 18
        if x + width > WIDTH - _RIGHT and x > _LEFT:
            x, row = float(_LEFT), row + 1
        y = 14 + row * 18
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        out.append(
            f'<g class="legend-item"><line x1="{x:.0f}" y1="{y - 4}" x2="{x + 24:.0f}" '
            f'y2="{y - 4}" stroke="{line.color}" stroke-width="2.5"{dash}/>'
            f'<text x="{x + 30:.0f}" y="{y}">{escape(line.name)}</text></g>'
        )
        x += width
    return out, (row + 1 if lines else 0)


def _axes(
    frame: _Frame, xs: Sequence[tuple[float, str]], ys: Sequence[float], x_title: str, unit: str
) -> list[str]:
    out = ['<g class="axes" font-size="11" fill="#444">']
    for v in ys:
        y = frame.y(v)
        out.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" '
            f'stroke="#e3e3e3"/><text x="{frame.left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(_num(v))}</text>'
        )
    for v, label in xs:
        x = frame.x(v)
        anchor = "end" if x > frame.right - 20 else "middle"  # the last label stays inside
        out.append(
            f'<line x1="{x:.1f}" y1="{frame.bottom}" x2="{x:.1f}" y2="{frame.bottom + 5}" '
            f'stroke="#444"/><text x="{x:.1f}" y="{frame.bottom + 18}" '
            f'text-anchor="{anchor}">{escape(label)}</text>'
        )
    out.append(
        f'<line x1="{frame.left}" y1="{frame.bottom}" x2="{frame.right}" y2="{frame.bottom}" '
        f'stroke="#444"/><line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" '
        f'y2="{frame.bottom}" stroke="#444"/>'
        f'<text x="{(frame.left + frame.right) / 2:.0f}" y="{frame.bottom + 35}" '
        f'text-anchor="middle">{escape(x_title)}</text>'
        f'<text transform="translate(14 {(frame.top + frame.bottom) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(unit)}</text></g>'
    )
    return out


def _markers(frame: _Frame, markers: Sequence[Marker]) -> list[str]:
    """Each control change: a dashed vertical line and its label, labels staggered on three
    rows so neighbours do not overprint."""
    out: list[str] = []
    for i, m in enumerate(sorted(markers, key=lambda m: m.at)):
        x = frame.x(min(max(m.at, 0.0), frame.x_max))
        y = frame.top - 4 - (i % 3) * 12
        anchor = "end" if x > frame.right - 80 else "start"
        dx = -3 if anchor == "end" else 3
        title = escape(m.detail or m.label)
        out.append(
            f'<g class="marker"><title>{title}</title>'
            f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{frame.bottom}" '
            f'stroke="{m.color}" stroke-dasharray="4 3"/>'
            f'<text x="{x + dx:.1f}" y="{y}" text-anchor="{anchor}" font-size="10" '
            f'fill="{m.color}">{escape(m.label)}</text></g>'
        )
    return out


def _svg(label: str, body: list[str], top: float) -> str:
    height = HEIGHT + top
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(label)}" '
        f'font-family="system-ui, sans-serif" font-size="12">' + "".join(body) + "</svg>"
    )


def _lines(frame: _Frame, lines: Sequence[Line]) -> list[str]:
    out = []
    for line in lines:
        d = _path(frame, line.points)
        if not d:
            continue
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        out.append(
            f'<path class="series" d="{d}" fill="none" stroke="{line.color}" '
            f'stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round"{dash}>'
            f"<title>{escape(line.name)}</title></path>"
        )
    return out


def _y_high(lines: Sequence[Line]) -> float:
    values = [y for line in lines for _, y in line.points if y is not None]
    return max(values, default=0.0)


def time_chart(
    label: str,
    unit: str,
    lines: Sequence[Line],
    x_max: float,
    markers: Sequence[Marker] = (),
    key: Sequence[Line] | None = None,
    warmup: float = 0.0,
) -> str:
    """Values over a run's seconds: one line each, a y axis in ``unit`` from 0, the time axis
    in seconds, minutes or hours, and ``markers`` (control changes) on it. The legend shows
    ``key`` when given (a colour per run and a dash per percentile), else each line. The first
    ``warmup`` seconds are shaded: the run's warm-up, left out of its summary."""
    drawn = [Line(ln.name, downsample(ln.points), ln.color, ln.dash) for ln in lines]
    legend, rows = _legend(drawn if key is None else key)
    top = 10 + rows * 18 + (40 if markers else 6)
    ys = nice_ticks(_y_high(drawn))
    frame = _Frame(max(x_max, 1.0), ys[-1], top)
    xs = [(t, format_duration(t) if t else "0") for t in _time_ticks(frame.x_max)]
    body = _axes(frame, xs, ys, "time since the start", unit)
    body += _warmup_shade(frame, warmup)
    body += _markers(frame, markers)
    body += _lines(frame, drawn)
    if not any(y is not None for ln in drawn for _, y in ln.points):
        body.append(_no_data(frame))
    return _svg(label, [*legend, *body], top)


def _warmup_shade(frame: _Frame, warmup: float) -> list[str]:
    """The warm-up as a grey band from 0 to ``warmup``, named in a tooltip and at its top."""
    if warmup <= 0:
        return []
    x0, x1 = frame.x(0.0), frame.x(min(warmup, frame.x_max))
    return [
        f'<g class="warmup"><title>warm-up: not in the summary nor the thresholds</title>'
        f'<rect x="{x0:.1f}" y="{frame.top:.1f}" width="{x1 - x0:.1f}" '
        f'height="{frame.bottom - frame.top:.1f}" fill="#888" fill-opacity="0.15"/>'
        f'<text x="{x0 + 3:.1f}" y="{frame.top + 11:.1f}" font-size="10" fill="#666">'
        "warm-up</text></g>"
    ]


def _no_data(frame: _Frame) -> str:
    return (
        f'<text x="{(frame.left + frame.right) / 2:.0f}" y="{(frame.top + frame.bottom) / 2:.0f}"'
        ' text-anchor="middle" fill="#888">no samples</text>'
    )


PERCENTILE_TICKS = (0.0, 90.0, 99.0, 99.9, 99.99)
"""Where the percentile axis is labelled (50 % sits too close to 0 % to label on a log scale)."""


def percentile_x(pct: float) -> float:
    """The log-scale position of a percentile: log10(1 / (1 − p)), so 90 %, 99 %, 99.9 % …
    are evenly spaced (the tail, where latency problems live, gets the room)."""
    return math.log10(1.0 / (1.0 - min(pct, 99.9999) / 100.0))


def percentile_chart(
    label: str, unit: str, lines: Sequence[Line], key: Sequence[Line] | None = None
) -> str:
    """A latency-by-percentile curve; each line's points are (``percentile_x(p)``, value)."""
    legend, rows = _legend(lines if key is None else key)
    top = 10 + rows * 18 + 6
    ys = nice_ticks(_y_high(lines))
    x_max = percentile_x(PERCENTILE_TICKS[-1])
    frame = _Frame(x_max, ys[-1], top)
    xs = [(percentile_x(p), f"{p:g}%") for p in PERCENTILE_TICKS]
    body = _axes(frame, xs, ys, "percentile (log scale: each step is ten times rarer)", unit)
    body += _lines(frame, lines)
    if not any(y is not None for ln in lines for _, y in ln.points):
        body.append(_no_data(frame))
    return _svg(label, [*legend, *body], top)


@dataclass(frozen=True, slots=True)
class Span:
    """An error bar at ``x`` from ``low`` to ``high`` (a confidence interval)."""

    x: float
    low: float
    high: float
    color: str


def _dots(frame: _Frame, lines: Sequence[Line]) -> list[str]:
    """A dot on each point: a capacity search's steps are few, each one measured."""
    return [
        f'<circle class="point" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="3.5" '
        f'fill="{line.color}"><title>{escape(f"{line.name}: {_num(x)} → {y:.4g}")}</title>'
        "</circle>"
        for line in lines
        for x, y in line.points
        if y is not None
    ]


def _spans(frame: _Frame, spans: Sequence[Span]) -> list[str]:
    out = []
    for s in spans:
        x, lo, hi = frame.x(s.x), frame.y(s.low), frame.y(s.high)
        out.append(
            f'<path class="errorbar" d="M{x:.1f} {lo:.1f}V{hi:.1f}M{x - 4:.1f} {lo:.1f}h8'
            f'M{x - 4:.1f} {hi:.1f}h8" stroke="{s.color}" fill="none" stroke-width="1.2"/>'
        )
    return out


def load_chart(
    label: str,
    x_title: str,
    unit: str,
    lines: Sequence[Line],
    spans: Sequence[Span] = (),
    y_max: float | None = None,
) -> str:
    """Values against load (a capacity search's curve): lines through dotted points in x
    order, optional error bars, a linear x axis from 0 and a y axis from 0 to ``y_max``."""
    legend, rows = _legend(lines)
    top = 10 + rows * 18 + 6
    xs_all = [x for ln in lines for x, y in ln.points if y is not None]
    high = max([_y_high(lines), *(s.high for s in spans)]) if y_max is None else y_max
    ys = nice_ticks(high)
    x_ticks = nice_ticks(max(xs_all, default=1.0))
    frame = _Frame(x_ticks[-1], ys[-1], top)
    body = _axes(frame, [(v, _num(v)) for v in x_ticks], ys, x_title, unit)
    body += _spans(frame, spans)
    body += _lines(frame, lines)
    body += _dots(frame, [ln for ln in lines if not ln.dash])
    if not xs_all:
        body.append(_no_data(frame))
    return _svg(label, [*legend, *body], top)
