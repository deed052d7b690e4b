"""Small text panels of the run screen: counters, generator health, thresholds.

Everything here that came from a user or a server (error classes, threshold expressions, the
engine's warnings) goes in through ``Content`` template variables, never into markup, so a
``[`` in it is shown as a ``[`` and can never crash the app.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from loadtui.run.frame import LiveFrame
from loadtui.tui.format import count, ms, rate

__all__ = ["CountersPanel", "HealthPanel", "ThresholdsPanel", "error_classes"]

ERROR_CLASSES_SHOWN = 3
"""The Overview names this many error classes (the most frequent); the Requests tab has all."""


def error_classes(errors: dict[str, int], limit: int = ERROR_CLASSES_SHOWN) -> str:
    """``timeout 3 · http_5xx 1 · +2 more``: one line whatever the number of classes."""
    ranked = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = " · ".join(f"{k} {count(v)}" for k, v in ranked[:limit])
    more = len(ranked) - limit
    return shown + (f" · +{more} more (Requests tab)" if more > 0 else "")


def _rate_line(frame: LiveFrame, t: dict[str, Any]) -> str:
    last = frame.last or {}
    if frame.mode == "burst":
        return f"burst · {rate(t.get('rps'))}/s avg"
    live = frame.phase in ("running", "paused", "stopping")
    if live:
        achieved = last.get("arrivals") if frame.open_loop else last.get("rps")
    else:
        achieved = t.get("rps")
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
        codes = " ".join(f"{k}×{count(v)}" for k, v in t.get("status_codes", {}).items()) or "—"
        live = frame.phase in ("running", "paused", "stopping")
        if live:
            tokens = f"[b]{count((frame.last or {}).get('output_tokens'))}[/b] now · "
            tokens += f"{rate(t.get('output_tokens_per_s'))} avg"
        else:
            tokens = f"[b]{rate(t.get('output_tokens_per_s'))}[/b] avg"
        lines = [
            f"{frame.unit} [b]{count(t.get('requests', 0))}[/b] done · ok {count(t.get('ok', 0))}"
            f" · {rate(t.get('rps'))}/s avg",
            f"errors [b]{count(t.get('errors_total', 0))}[/b]"
            f" · cancelled {count(t.get('cancelled', 0))}"
            # open loop: arrivals never sent (backlog full, far behind) or sent > 100 ms late
            + (f" · dropped {count(t['dropped'])}" if t.get("dropped") else "")
            + (f" · late {count(t['late'])}" if t.get("late") else ""),
        ]
        classes = error_classes(t.get("errors", {}))
        if classes:
            lines.append("  $classes")  # server-given names: a template variable, not markup
        lines += ["HTTP status (incl. in flight) $codes", f"out tokens/s {tokens}", "$rate"]
        self.update(
            Content.from_markup(
                "\n".join(lines), classes=classes, codes=codes, rate=_rate_line(frame, t)
            )
        )


class HealthPanel(Static):
    """Is the generator the bottleneck? The warning is loud on purpose."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None:
            return
        h = frame.health
        warning = h.get("warning")
        live = "cpu_now" in h
        cpu = (
            f"CPU {h.get('cpu_now', 0):.0f}%"
            if live
            else f"CPU max {h.get('cpu_percent_max', 0):.0f}%"
        )
        lag = (
            f"lag {ms(h.get('lag_now_ms', 0.0))} ms"
            if live
            else f"lag max {ms(h.get('loop_lag_ms_max', 0.0))} ms"
        )
        lines = [
            Content(f"{frame.workers} worker{'s' if frame.workers != 1 else ''} · {cpu} · {lag}"),
            Content(
                f"in flight {count(frame.in_flight)} · saturated {h.get('saturated_seconds', 0)}s"
            ),
        ]
        self.set_class(bool(warning) or bool(h.get("saturated_seconds")), "-warning")
        if warning:
            lines.append(Content.from_markup("[b]⚠ $w[/b]", w=str(warning)))
        elif not live and h.get("warnings"):
            lines.extend(Content(f"⚠ {w}") for w in h["warnings"][:2])
        elif h.get("saturated_seconds"):  # it was behind earlier (counted above), not now
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
        waiting = [
            live and t.get("actual") is None and not t.get("skipped") for t in frame.thresholds
        ]
        for t, wait in zip(frame.thresholds, waiting, strict=True):
            actual = t.get("actual")
            shown = "no data" if actual is None else f"{actual:.4g}"
            line = f"{t['metric']} {t['expression']}"
            reason = t.get("reason")
            if t.get("skipped"):
                template = "[dim]– $line skipped ($reason)[/]"
            elif wait:  # no sample yet in a live run: not judged until there is one
                template = "[dim]… $line (no data yet)[/]"
            elif t["passed"]:
                template = "[$success][b]✔[/b] $line ($shown)[/]"
            elif reason:
                template = "[$error][b]✘[/b] $line ($shown: $reason)[/]"
            else:
                template = "[$error][b]✘[/b] $line ($shown)[/]"
            lines.append(
                Content.from_markup(template, line=line, shown=shown, reason=str(reason or ""))
            )
        # the border says "something failed"; each line says which
        failing = [
            not t["passed"] and not w for t, w in zip(frame.thresholds, waiting, strict=True)
        ]
        self.set_class(any(failing), "-failing")
        self.update(Content("\n").join(lines))
