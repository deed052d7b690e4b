"""Small text panels of the run screen: counters, generator health, thresholds.

Everything here that came from a user or a server (error classes, threshold expressions, the
engine's warnings) goes in through ``Content`` template variables, never into markup, so a
``[`` in it is shown as a ``[`` and can never crash the app.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from loadtui.metrics.health import placement
from loadtui.model.record import RunSummary
from loadtui.run.frame import LiveFrame
from loadtui.run.goodput import attainment_text, misses_text
from loadtui.tui.format import count, ms, rate

__all__ = ["CountersPanel", "HealthPanel", "ThresholdsPanel", "error_classes"]

ERROR_CLASSES_SHOWN = 3
"""The Overview names this many error classes (the most frequent); the Requests tab has all."""


def error_classes(errors: Mapping[str, int], limit: int = ERROR_CLASSES_SHOWN) -> str:
    """``timeout 3 · http_5xx 1 · +2 more``: one line whatever the number of classes."""
    ranked = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = " · ".join(f"{k} {count(v)}" for k, v in ranked[:limit])
    more = len(ranked) - limit
    return shown + (f" · +{more} more (Requests tab)" if more > 0 else "")


def _rate_line(frame: LiveFrame, t: RunSummary) -> str:
    last = frame.last
    if frame.mode == "burst":
        return f"burst · {rate(t.rps)}/s avg"
    live = frame.phase in ("running", "paused", "stopping")
    achieved: float | None
    if live:
        achieved = None if last is None else last.arrivals if frame.open_loop else last.rps
    else:
        achieved = t.rps
    if frame.open_loop:
        return f"rate {rate(achieved)}/s of {rate(frame.target_rate)}/s target"
    if frame.target_rate:
        return f"rate {rate(achieved)}/s under a cap of {rate(frame.target_rate)}/s"
    return f"rate {rate(achieved)}/s (closed loop, no cap)"


class CountersPanel(Static):
    """Finished requests, errors by class, cancelled, status codes, tokens/s, achieved rate.

    Requests are counted when they finish, status codes when the headers arrive: the labels say
    so, because mid-run the two differ by the requests in flight."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None:
            return
        t = frame.totals
        # status codes are the run file's (or the server's) keys: a template variable, not markup
        codes = " ".join(f"{k}×{count(v)}" for k, v in t.status_codes.items()) or "—"
        live = frame.phase in ("running", "paused", "stopping")
        if live:
            now = frame.last.output_tokens if frame.last is not None else None
            tokens = f"[b]{count(now)}[/b] now · {rate(t.output_tokens_per_s)} avg"
        else:
            tokens = f"[b]{rate(t.output_tokens_per_s)}[/b] avg"
        lines = [
            f"{frame.unit} [b]{count(t.requests)}[/b] done · ok {count(t.ok)}"
            f" · {rate(t.rps)}/s avg",
            f"errors [b]{count(t.errors_total)}[/b] · cancelled {count(t.cancelled)}"
            # open loop: arrivals never sent (backlog full, far behind) or sent > 100 ms late
            + (f" · dropped {count(t.dropped)}" if t.dropped else "")
            + (f" · late {count(t.late)}" if t.late else ""),
        ]
        classes = error_classes(t.errors)
        if classes:
            lines.append("  $classes")  # server-given names: a template variable, not markup
        lines += ["HTTP status (incl. in flight) $codes", f"out tokens/s {tokens}", "$rate"]
        slo = _slo_line(frame)
        if slo:
            lines.append("$slo")
        self.update(
            Content.from_markup(
                "\n".join(lines), classes=classes, codes=codes, rate=_rate_line(frame, t), slo=slo
            )
        )


def _slo_line(frame: LiveFrame) -> str:
    """Goodput (requests/s and output tokens/s), attainment and how often each SLO was missed,
    in a run with SLOs (live: goodput over the recent window too); empty otherwise."""
    slo = frame.totals.slo
    if slo is None:
        return ""
    recent = frame.recent.slo if frame.recent is not None else None
    now = f"{rate(recent.goodput_rps)}/s now · " if recent is not None and frame.live else ""
    return (  # three lines: the panel is half the screen's width
        f"goodput {now}{rate(slo.goodput_rps)}/s avg · {rate(slo.goodput_tokens_per_s)} tok/s\n"
        f"SLOs met {attainment_text(slo)}\n"
        f"missed {misses_text(slo)}"
    )


class HealthPanel(Static):
    """Is the generator the bottleneck? The warning is loud on purpose."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None:
            return
        h = frame.health
        warning = frame.warning
        if frame.cpu_now is not None:  # live: how it is doing now
            cpu = f"CPU {frame.cpu_now:.0f}%"
            lag = f"lag {ms(frame.lag_now_ms or 0.0)} ms"
        else:  # a saved run: the worst it got
            cpu = f"CPU max {h.cpu_percent_max:.0f}%"
            lag = f"lag max {ms(h.loop_lag_ms_max)} ms"
        live = frame.cpu_now is not None
        lines = [
            Content(f"{frame.workers} worker{'s' if frame.workers != 1 else ''} · {cpu} · {lag}"),
            Content(f"in flight {count(frame.in_flight)} · saturated {h.saturated_seconds}s"),
            *(Content(line) for line in placement(h, most=2)),  # Ray actors and their nodes
        ]
        self.set_class(bool(warning) or bool(h.saturated_seconds), "-warning")
        if warning:
            lines.append(Content.from_markup("[b]⚠ $w[/b]", w=str(warning)))
        elif not live and h.warnings:
            lines.extend(Content(f"⚠ {w}") for w in h.warnings[:2])
        elif h.saturated_seconds:  # it was behind earlier (counted above), not now
            lines.append(Content("✔ generator keeping up now"))
        else:
            lines.append(Content("✔ generator keeping up"))
        self.update(Content("\n").join(lines))


class ThresholdsPanel(Static):
    """Each threshold, passing or failing on the figures so far, each line in its own colour; a
    threshold not judged (a TTFT limit in a run without streams) is dim and says why, and a
    failing one says why when there is a reason (no samples)."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None:
            return
        if not frame.thresholds:
            self.update("no thresholds")
            self.set_class(False, "-failing")
            return
        lines = []
        live = frame.phase in ("starting", "running", "paused")
        waiting = [live and t.actual is None and not t.skipped for t in frame.thresholds]
        for t, wait in zip(frame.thresholds, waiting, strict=True):
            shown = "no data" if t.actual is None else f"{t.actual:.4g}"
            line = f"{t.metric} {t.expression}"
            reason = t.reason
            if t.skipped:
                template = "[dim]– $line skipped ($reason)[/]"
            elif wait:  # no sample yet in a live run: not judged until there is one
                template = "[dim]… $line (no data yet)[/]"
            elif t.passed:
                template = "[$success][b]✔[/b] $line ($shown)[/]"
            elif reason:
                template = "[$error][b]✘[/b] $line ($shown: $reason)[/]"
            else:
                template = "[$error][b]✘[/b] $line ($shown)[/]"
            lines.append(
                Content.from_markup(template, line=line, shown=shown, reason=str(reason or ""))
            )
        # the border says "something failed"; each line says which
        failing = [not t.passed and not w for t, w in zip(frame.thresholds, waiting, strict=True)]
        self.set_class(any(failing), "-failing")
        self.update(Content("\n").join(lines))
