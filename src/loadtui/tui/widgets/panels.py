"""Small text panels of the run screen: counters, generator health, thresholds."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from loadtui.tui.format import count, ms, rate
from loadtui.tui.frame import Frame

__all__ = ["CountersPanel", "HealthPanel", "ThresholdsPanel"]


class CountersPanel(Static):
    """Requests, errors by class, status codes, output tokens/s, achieved vs target rate."""

    frame: reactive[Frame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        t = frame.totals
        errors = t.get("errors", {})
        err = " · ".join(f"{k} {count(v)}" for k, v in errors.items()) or "none"
        codes = " ".join(f"{k}×{count(v)}" for k, v in t.get("status_codes", {}).items()) or "—"
        last = frame.last or {}
        tokens_now = last.get("output_tokens")
        live = frame.phase in ("running", "paused", "stopping")
        if live:
            achieved = last.get("arrivals") if frame.open_loop else last.get("rps")
            tok = f"[b]{count(tokens_now)}[/b] now · {rate(t.get('output_tokens_per_s'))} avg"
        else:
            achieved = t.get("rps")
            tok = f"[b]{rate(t.get('output_tokens_per_s'))}[/b] avg"
        if frame.open_loop:
            rate_line = f"rate {rate(achieved)}/s of {rate(frame.target_rate)}/s target"
        elif frame.target_rate:
            rate_line = f"rate {rate(achieved)}/s under a cap of {rate(frame.target_rate)}/s"
        else:
            rate_line = f"rate {rate(achieved)}/s (closed loop, no cap)"
        self.update(
            f"requests [b]{count(t.get('requests', 0))}[/b] · ok {count(t.get('ok', 0))}"
            f" · {rate(t.get('rps'))}/s avg\n"
            f"errors [b]{count(t.get('errors_total', 0))}[/b]: {err}\n"
            f"status {codes}\n"
            f"out tokens/s {tok}\n"
            f"{rate_line}"
        )


class HealthPanel(Static):
    """Is the generator the bottleneck? The warning is loud on purpose."""

    frame: reactive[Frame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: Frame | None) -> None:
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
        lines = [f"{frame.workers} worker{'s' if frame.workers != 1 else ''} · {cpu} · {lag}"]
        lines.append(
            f"in flight {count(frame.in_flight)} · saturated {h.get('saturated_seconds', 0)}s"
        )
        self.set_class(bool(warning) or bool(h.get("saturated_seconds")), "-warning")
        if warning:
            lines.append(f"[b]⚠ {warning}[/b]")
        elif not live and h.get("warnings"):
            lines.extend(f"⚠ {w}" for w in h["warnings"][:2])
        else:
            lines.append("✔ generator keeping up")
        self.update("\n".join(lines))


class ThresholdsPanel(Static):
    """Each threshold, passing or failing on the figures so far."""

    frame: reactive[Frame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        if not frame.thresholds:
            self.update("no thresholds")
            self.set_class(False, "-failing")
            return
        lines = []
        for t in frame.thresholds:
            mark = "[b]✔[/b]" if t["passed"] else "[b]✘[/b]"
            actual = t.get("actual")
            shown = "no data" if actual is None else f"{actual:.4g}"
            lines.append(f"{mark} {t['metric']} {t['expression']} ({shown})")
        self.set_class(any(not t["passed"] for t in frame.thresholds), "-failing")
        self.update("\n".join(lines))
