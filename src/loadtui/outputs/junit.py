"""A JUnit XML file from a run record: each threshold a test case, so CI shows which failed.

Jenkins, GitLab, GitHub Actions reporters and Azure Pipelines all read the common JUnit shape:
``<testsuites>`` around one ``<testsuite>`` with ``tests``/``failures``/``skipped``/``time``
counts, a ``<testcase>`` per check with a ``<failure message=...>`` or ``<skipped/>``. One test
case per threshold (``classname="loadtui.thresholds"``, named ``metric expression``), and one
more, ``run completed``, that fails when the run itself did not complete — a run with every
threshold green whose workers died must not show green in CI. Format: docs/exports.md.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from loadtui.model.record import RunRecord, ThresholdResult
from loadtui.model.thresholds import parse_threshold
from loadtui.outputs.destination import write_atomic

__all__ = ["junit_xml", "write_junit"]

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot hold at all (not even escaped): a server's error text may."""
_OK_STATUSES = ("completed", "stopped")
"""A stop control ending the run is the user's choice, not a failure (exit 0 too)."""


def write_junit(run: RunRecord, dest: Path, run_path: Path | None = None) -> list[Path]:
    """Write ``run`` as JUnit XML to ``dest``; the path written."""
    return [write_atomic(dest, junit_xml(run, run_path))]


def junit_xml(run: RunRecord, run_path: Path | None = None) -> bytes:
    """The whole document, UTF-8, with its XML declaration."""
    suite = _suite(run, run_path)
    suites = ET.Element("testsuites", name="loadtui")
    for key in ("tests", "failures", "errors", "skipped", "time"):
        suites.set(key, suite.get(key, "0"))
    suites.append(suite)
    ET.indent(suites)
    body: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _suite(run: RunRecord, run_path: Path | None) -> ET.Element:
    cases = [_threshold_case(t) for t in run.thresholds]
    cases.append(_run_case(run))
    failures = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    suite = ET.Element(
        "testsuite",
        name=_clean(f"loadtui {run.preset or 'custom'}"),
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=_seconds(run.summary.duration_s),
        timestamp=_clean(run.started_at[:19]),  # the schema's form: no zone (it is UTC)
    )
    suite.append(_properties(run, run_path))
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = _clean(_summary_text(run, run_path))
    return suite


def _properties(run: RunRecord, run_path: Path | None) -> ET.Element:
    props = ET.Element("properties")
    pairs = [
        ("run_id", run.id),
        ("status", run.status),
        ("target", run.target.url),
        ("loadtui_version", run.loadtui_version),
    ]
    if run_path is not None:
        pairs.append(("run_file", str(run_path)))
    for name, value in pairs:
        ET.SubElement(props, "property", name=name, value=_clean(value))
    return props


def _threshold_case(t: ThresholdResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname="loadtui.thresholds",
        name=_clean(f"{t.metric} {t.expression}"),
        time="0",  # judged at the end over the whole run: its time is the run's (below)
    )
    if t.skipped:
        ET.SubElement(case, "skipped", message=_clean(t.reason or "not judged"))
    elif not t.passed:
        message = f"actual {_actual(t)} vs expected {t.expression}"
        why = f": {t.reason}" if t.reason else ""
        # a threshold without samples names why in the message too: CI pages show the message
        # attribute, and "actual none" alone does not say what went wrong
        shown = message + why if t.actual is None else message
        failure = ET.SubElement(case, "failure", message=_clean(shown), type="threshold")
        failure.text = _clean(f"{t.metric} {message}{why}")
    return case


def _actual(t: ThresholdResult) -> str:
    """The measured value with its unit: ms for a time, none for a rate; ``none`` (no
    samples) when nothing was measured."""
    if t.actual is None:
        return "none"
    value = f"{round(t.actual, 6):.12g}"  # 812.345, 0.008929: never an exponent, never cut
    try:
        rate = parse_threshold(t.metric, t.expression).aggregate == "rate"
    except ValueError:  # a file from a loadtui that knew other metrics: no unit then
        return value
    return value if rate else f"{value} ms"


def _run_case(run: RunRecord) -> ET.Element:
    """``run completed``: fails when the run failed, was interrupted or never finished."""
    case = ET.Element(
        "testcase",
        classname="loadtui.run",
        name="run completed",
        time=_seconds(run.summary.duration_s),
    )
    if run.status not in _OK_STATUSES:
        if run.status == "failed":
            message = f"the run failed: {run.error or 'no reason recorded'}"
        elif run.status == "interrupted":
            message = "the run was interrupted before its end (status interrupted)"
        else:
            message = f"the run did not finish (status {run.status}: a checkpoint)"
        failure = ET.SubElement(case, "failure", message=_clean(message), type="run")
        failure.text = _clean(message)
    return case


def _summary_text(run: RunRecord, run_path: Path | None) -> str:
    s = run.summary
    lines = [
        f"run {run.id} ({run.status}): {s.requests} requests, {s.errors_total} errors, "
        f"{s.rps:g} req/s over {s.duration_s:g} s",
        f"latency p50 {s.metrics.latency_ms.p50:g} ms, p95 {s.metrics.latency_ms.p95:g} ms, "
        f"p99 {s.metrics.latency_ms.p99:g} ms",
    ]
    if run_path is not None:
        lines.append(f"run file: {run_path}")
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _clean(text: str) -> str:
    """``text`` as XML can carry it: a character XML forbids is written as ``\\xNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
