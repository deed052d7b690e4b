"""A comparison of runs as JSON (``loadtui compare --json``): storage is the only place data
becomes JSON. docs/run-format.md, "Comparison JSON", lists the keys."""

from __future__ import annotations

import json
import math

from loadtui.model.comparison import Comparison, ComparisonRow, Noise
from loadtui.storage.record_out import RunJson

__all__ = ["comparison_text", "comparison_to_json"]


def _interval(pair: tuple[float, float] | None) -> list[float | None] | None:
    """[low, high]; an unbounded side (too few samples to bound it) is null."""
    if pair is None:
        return None
    return [v if math.isfinite(v) else None for v in pair]


def _noise(n: Noise) -> RunJson:
    return {
        "verdict": n.verdict,
        "method": n.method or None,
        "note": n.note or None,
        "baseline_interval": _interval(n.a_interval),
        "interval": _interval(n.b_interval),
    }


def _row(row: ComparisonRow) -> RunJson:
    return {
        "figure": row.label,
        "unit": row.unit or None,
        "baseline": row.a,
        "value": row.b,
        "delta": row.delta,
        "ratio": row.ratio,
        "lower_is_better": row.lower_is_better,
        "verdict": row.noise.verdict,
        "noise": _noise(row.noise),
    }


def comparison_to_json(c: Comparison) -> RunJson:
    """The comparison as one JSON object: runs (baseline first), configuration, the not-alike
    warning, and each later run's rows against the baseline."""
    return {
        "runs": list(c.runs),
        "baseline": c.runs[0],
        "config": {row.label: list(row.values) for row in c.config},
        "alike": not c.unlike,
        "differs": list(c.unlike),
        "warning": c.warning,
        "comparisons": [
            {"baseline": rc.baseline, "run": rc.run, "rows": [_row(r) for r in rc.rows]}
            for rc in c.against_baseline
        ],
    }


def comparison_text(c: Comparison) -> str:
    """``comparison_to_json`` as the text ``--json`` prints (indent 2)."""
    return json.dumps(comparison_to_json(c), indent=2)
