"""Sparklines of the last two minutes: TTFT p50 and p95, requests/s and errors/s.

Textual's ``Sparkline`` stretches any series to full height, so one point, an all-zero series
(errors/s with no errors) and 120→101 ms all looked like full bars. ``Spark`` draws its own:
counts sit on a zero baseline (0 is the lowest eighth, never a full bar), TTFT spans its own
min..max with the range of the seconds drawn printed beside it, and a second without data is a
gap, not a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label

from loadtui.run.frame import SPARK_SECONDS, LiveFrame, SparkSeries
from loadtui.tui.format import count, ms

__all__ = ["Spark", "SparkPanel", "spark_rows", "spark_scale"]

_BLOCKS = " ▁▂▃▄▅▆▇█"

Values = Callable[[SparkSeries], Sequence[float | None]]

LINES: tuple[tuple[str, str, Values, Callable[[float | None], str], bool], ...] = (
    ("ttft_p50", "TTFT p50", lambda s: s.ttft_p50, ms, False),
    ("ttft_p95", "TTFT p95", lambda s: s.ttft_p95, ms, False),
    ("rps", "req/s", lambda s: s.rps, count, True),
    ("errors", "errors/s", lambda s: s.errors, count, True),
)
"""id, label, its values in ``LiveFrame.spark``, number format, zero baseline (counts) or
min..max (times)."""


def _bounds(values: Sequence[float | None], zero_based: bool) -> tuple[float, float] | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return (0.0 if zero_based else min(present)), max(present)


def spark_rows(
    values: Sequence[float | None], width: int, height: int = 1, zero_based: bool = True
) -> list[str]:
    """The last ``width`` values as ``height`` rows of block characters, top row first.

    Every value present gets at least the lowest eighth, so it is told apart from a gap (None:
    blank). With a zero baseline a 0 is that lowest eighth; a flat min..max series sits at half.
    """
    shown = list(values)[-width:] if width > 0 else []
    bounds = _bounds(shown, zero_based)
    levels = height * 8
    columns: list[int] = []
    for v in shown:
        if v is None or bounds is None:
            columns.append(0)
            continue
        lo, hi = bounds
        frac = (v - lo) / (hi - lo) if hi > lo else (0.0 if zero_based and hi == 0 else 0.5)
        columns.append(1 + round(frac * (levels - 1)))
    return [
        "".join(_BLOCKS[max(0, min(8, n - row * 8))] for n in columns)
        for row in reversed(range(height))
    ]


def spark_scale(
    values: Sequence[float | None], fmt: Callable[[float | None], str], zero_based: bool
) -> str:
    """What the chart's bottom and top stand for: ``0–136`` (counts), ``101–120`` (ms)."""
    bounds = _bounds(values, zero_based)
    if bounds is None:
        return "no data"
    lo, hi = bounds
    return f"{fmt(lo)}–{fmt(hi)}"


class Spark(Widget):
    """One sparkline; as many rows high as the CSS gives it.

    It draws only the last ``width`` seconds, so it also writes its scale label (``scale``):
    the label's min–max is over exactly the values drawn, at every width."""

    DEFAULT_CSS = "Spark { height: 1; }"
    data: reactive[list[float | None]] = reactive(list, always_update=True)

    def __init__(
        self,
        zero_based: bool = True,
        fmt: Callable[[float | None], str] = count,
        scale: Label | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.zero_based = zero_based
        self.fmt = fmt
        self.scale = scale

    def watch_data(self) -> None:
        self._update_scale()

    def on_resize(self) -> None:
        self._update_scale()  # a wider chart draws more seconds: their range may differ

    def _update_scale(self) -> None:
        if self.scale is not None and self.size.width:
            drawn = self.data[-self.size.width :]
            self.scale.update(spark_scale(drawn, self.fmt, self.zero_based))

    def render(self) -> Content:
        rows = spark_rows(self.data, self.size.width, max(1, self.size.height), self.zero_based)
        return Content("\n".join(rows))


class SparkPanel(Vertical):
    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def compose(self) -> ComposeResult:
        for key, label, _, fmt, zero_based in LINES:
            slug = key.replace("_", "-")
            scale = Label("", id=f"scale-{slug}", classes="spark-scale")
            with Horizontal(classes="spark-row"):
                yield Label(label, classes="spark-label")
                yield Spark(zero_based, fmt, scale, id=f"spark-{slug}", classes=f"spark {key}")
                yield scale
                yield Label("—", id=f"now-{slug}", classes="spark-now")

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None or not self.is_mounted:
            return
        for key, _, series, fmt, _ in LINES:
            slug = key.replace("_", "-")
            values = list(series(frame.spark)[-SPARK_SECONDS:])
            self.query_one(f"#spark-{slug}", Spark).data = values  # it writes its scale
            # a second without a streamed answer has no TTFT: show that, not a 0 ms TTFT
            self.query_one(f"#now-{slug}", Label).update(fmt(values[-1]) if values else "—")
