"""The one-line verdict ``--quiet`` prints: what a CI log or a script needs from a run.

It says in its first word what the exit code says (PASSED 0, FAILED 1 or 4, INTERRUPTED 130),
then the figures a person checks first, so ``loadtui --headless --quiet`` reads as a sentence
and ``grep '^PASSED'`` works. Plain text: no rich, no markup.
"""

from __future__ import annotations

from loadtui.model.record import MetricSummary, RunRecord
from loadtui.run.exitcodes import ExitCode
from loadtui.run.units import fmt_ms

__all__ = ["stopped_at", "verdict_line"]


def _p95(name: str, m: MetricSummary) -> str | None:
    if not m.count:
        return None
    figure = fmt_ms(m.p95, missing="-")
    return f"{name} p95 {figure}" + ("" if figure.endswith("s") else " ms")


def _figures(run: RunRecord) -> str:
    """``1,234 requests, 0 errors, latency p95 45.1 ms, TTFT p95 12.0 ms``."""
    s = run.summary
    parts = [f"{s.requests:,} requests", f"{s.errors_total:,} errors"]
    if s.errors_total:
        parts[-1] += f" ({s.error_rate * 100:.2f}%)"
    for name, metric in (("latency", s.metrics.latency_ms), ("TTFT", s.metrics.ttft_ms)):
        shown = _p95(name, metric)
        if shown:
            parts.append(shown)
    return ", ".join(parts)


def _failed_thresholds(run: RunRecord) -> str:
    """``2 of 3 thresholds (latency p(95)<100, ttft p(95)<50)``: which ones, not only how many."""
    failed = [t for t in run.thresholds if not t.passed]
    names = ", ".join(f"{t.metric} {t.expression}" for t in failed)
    return f"{len(failed)} of {len(run.thresholds)} thresholds ({names})"


def stopped_at(seconds: float | None) -> str:
    """`` at 0.4s`` — the load's end in seconds, as recorded (to the ms, ``3.141s``; never
    rounded to ``0s``) — or nothing when the run has no end of load (stopped before its load
    began)."""
    return "" if seconds is None else f" at {seconds:g}s"


def _aborted(run: RunRecord) -> str:
    """`` (stopped at 1.3s by abort_on_fail: latency p(95)<10)`` when a threshold cut the run
    short: a CI log should not read a 1 s run's figures as the whole plan's."""
    by = run.aborted_by
    if by is None:
        return ""
    at = stopped_at(run.load_ended_s)
    return f" (stopped{at} by abort_on_fail: {by.metric} {by.expression})"


def verdict_line(
    run: RunRecord,
    code: ExitCode,
    signal: str | None = None,
    saved: bool = True,
    unwritten: str | None = None,
) -> str:
    """The verdict for a run that ended with ``code`` (the process's exit code); ``saved``
    False when the run file could not be written anywhere; ``unwritten``: why the report or
    an export could not be written, when that is what made the code 4."""
    figures = _figures(run)
    if code == ExitCode.OK:
        stopped = f" (stopped{stopped_at(run.load_ended_s)})" if run.status == "stopped" else ""
        return f"PASSED{stopped}: {figures}"
    if code == ExitCode.INTERRUPTED:
        return f"INTERRUPTED by {signal or 'a signal'}: {figures}"
    if code == ExitCode.THRESHOLDS_FAILED:
        return f"FAILED{_aborted(run)}: {_failed_thresholds(run)}; {figures}"
    if run.status == "failed":
        why = " ".join((run.error or "see stderr").split())  # one line, whatever it held
        return f"FAILED: the run failed ({why}); {figures}"
    if unwritten:
        why = " ".join(unwritten.split())  # one line, whatever an error said
        return f"FAILED: the exports could not all be written ({why}); {figures}"
    if not saved:
        return f"FAILED: the run could not be saved (see stderr); {figures}"
    return f"FAILED: the run was not saved where asked (see stderr); {figures}"
