"""The server's own metrics in the run file (``server``, docs/run-format.md) and back.

Kept apart from ``record_in``/``record_out`` because it is one self-contained section, as
``search_json`` is. A file from elsewhere may hold anything: reading keeps the well-formed
points and numbers and drops the rest; a section that is not an object reads as None.
"""

from __future__ import annotations

import math
from typing import Any

from loadtui.model.servermetrics import ServerPoint, ServerSeries

__all__ = ["server_from_json", "server_to_json"]


def server_to_json(series: ServerSeries) -> dict[str, Any]:
    """``{"url", "scrapes", "failures", "sources", "points": [{"t", "values"}]}``."""
    return {
        "url": series.url,
        "scrapes": series.scrapes,
        "failures": dict(series.failures),
        "sources": dict(series.sources),
        "points": [
            {"t": p.t, "values": {k: round(v, 6) for k, v in p.values.items()}}
            for p in series.points
        ],
    }


def _number(value: Any) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)  # an integer of 400 digits is valid JSON: OverflowError
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _numbers(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    out = {k: _number(v) for k, v in raw.items() if isinstance(k, str)}
    return {k: v for k, v in out.items() if v is not None}


def _point(raw: Any) -> ServerPoint | None:
    if not isinstance(raw, dict):
        return None
    t = raw.get("t")
    if not isinstance(t, int) or isinstance(t, bool):
        return None
    return ServerPoint(t, _numbers(raw.get("values")))


def server_from_json(raw: Any) -> ServerSeries | None:
    """The section as a ``ServerSeries``; None when absent or not an object."""
    if not isinstance(raw, dict):
        return None
    listed = raw.get("points")
    points = [_point(p) for p in listed] if isinstance(listed, list) else []
    sources = raw.get("sources")
    return ServerSeries(
        url=str(raw.get("url", "")),
        points=tuple(p for p in points if p is not None),
        scrapes=int(_number(raw.get("scrapes")) or 0),
        failures={k: int(v) for k, v in _numbers(raw.get("failures")).items()},
        sources={k: v for k, v in sources.items() if isinstance(v, str)}
        if isinstance(sources, dict)
        else {},
    )
