"""A capacity search's result in the run file (``search``, docs/run-format.md) and back.

Kept apart from ``record_in``/``record_out`` because it is one self-contained section; a file
from elsewhere may hold anything, so reading keeps what is well formed and drops the rest
(a step that is not an object is left out; a search that is not one reads as None).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, get_args

from loadtui.model.search import Outcome, SearchView, StepVerdict, StepView

__all__ = ["search_from_json", "search_to_json"]


def search_to_json(view: SearchView) -> dict[str, Any]:
    """The search as JSON (intervals as two-element lists)."""
    out = asdict(view)
    out["interval"] = None if view.interval is None else list(view.interval)
    for step in out["steps"]:
        ci = step["attainment_ci"]
        step["attainment_ci"] = None if ci is None else list(ci)
    return out


def _num(raw: Any, key: str) -> float | None:
    value = raw.get(key)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def _pair(raw: Any) -> tuple[float, float] | None:
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, int | float) for x in raw):
        return float(raw[0]), float(raw[1])
    return None


_VERDICTS: dict[Any, StepVerdict] = {v: v for v in get_args(StepVerdict)}
_OUTCOMES: dict[Any, Outcome] = {o: o for o in get_args(Outcome)}


def _step(raw: dict[str, Any]) -> StepView:
    verdict = raw.get("verdict")
    phase = raw.get("phase")
    return StepView(
        index=int(_num(raw, "index") or 0),
        load=_num(raw, "load") or 0.0,
        phase="refine" if phase == "refine" else "probe",
        started_s=_num(raw, "started_s") or 0.0,
        duration_s=_num(raw, "duration_s") or 0.0,
        requests=int(_num(raw, "requests") or 0),
        attainment=_num(raw, "attainment"),
        attainment_ci=_pair(raw.get("attainment_ci")),
        goodput_rate=_num(raw, "goodput_rate") or 0.0,
        error_rate=_num(raw, "error_rate") or 0.0,
        ttft_p50_ms=_num(raw, "ttft_p50_ms"),
        ttft_p95_ms=_num(raw, "ttft_p95_ms"),
        itl_p50_ms=_num(raw, "itl_p50_ms"),
        itl_p95_ms=_num(raw, "itl_p95_ms"),
        latency_p50_ms=_num(raw, "latency_p50_ms"),
        latency_p95_ms=_num(raw, "latency_p95_ms"),
        verdict=_VERDICTS.get(verdict, "skipped"),
        held=raw.get("held") is True,
        goodput_tokens_rate=_num(raw, "goodput_tokens_rate") or 0.0,
    )


def search_from_json(raw: Any) -> SearchView | None:
    """The run file's ``search`` (None when absent or not an object)."""
    if not isinstance(raw, dict):
        return None
    steps = raw.get("steps")
    outcome = raw.get("outcome")
    current = _num(raw, "current")
    message = raw.get("message")
    return SearchView(
        mode="users" if raw.get("mode") == "users" else "rate",
        target=_num(raw, "target") or 0.0,
        error_limit=_num(raw, "error_limit") or 0.0,
        step_factor=_num(raw, "step_factor") or 0.0,
        steps=tuple(_step(s) for s in steps if isinstance(s, dict))
        if isinstance(steps, list)
        else (),
        current=None if current is None else int(current),
        capacity=_num(raw, "capacity"),
        interval=_pair(raw.get("interval")),
        outcome=_OUTCOMES.get(outcome),
        message=message if isinstance(message, str) else "",
    )
