"""A real run stores its exact histograms: read back from the file, their percentiles are the
run's summary figures exactly, whole run and per label (the run, over loopback, against the mock)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run_cli
from loadtui.errors import RunFileError
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.runhist import decode_run
from loadtui.model.record import METRICS
from loadtui.storage.runfile import load_record

DATA = Path(__file__).parents[1] / "data"


def test_a_runs_stored_histograms_give_its_summary_figures_exactly(
    private_dirs: Path, mock
) -> None:
    out = private_dirs / "run.json"
    proc = run_cli(
        "--headless", "--preset", "smoke", "--duration", "2s", "--url", mock.url, "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    run = load_record(out)
    assert run.histograms is not None and run.summary.requests > 0
    decoded = decode_run(run.histograms)
    compared = 0
    for name in METRICS:
        stored, summary = decoded.get(name), run.summary.metrics.get(name)
        assert stored.count == summary.count, name
        if summary.count:
            assert stored.summary() == summary, name  # p50 … p999, mean, min, max: all equal
            compared += 1
    assert compared >= 5  # latency, TTFT, ITL, TPOT, headers at least (streamed answers)
    for label, figures in run.summary.by_label.items():
        assert decoded.get("latency_ms", label).summary() == figures.latency_ms, label
        assert decoded.get("ttft_ms", label).summary() == figures.ttft_ms, label


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.text(alphabet="ABCDEFGHISTFabcdefxyz0123456789+/=", max_size=120),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    where=st.sampled_from(
        [
            (),
            ("encoding",),
            ("whole",),
            ("whole", "latency_ms"),
            ("whole", "new_metric"),
            ("by_label",),
            ("by_label", "chat"),
            ("by_label", "chat", "ttft_ms"),
        ]
    ),
    value=_JUNK,
)
def test_fuzzed_histograms_load_or_fail_with_one_run_file_error(
    tmp_path: Path, where: tuple[str, ...], value: object
) -> None:
    raw = json.loads((DATA / "run-a.json").read_text())
    good = Histogram()
    good.record_ms(12.5)
    hist: dict[str, Any] = {
        "encoding": "hdr-v2-base64",
        "whole": {"latency_ms": good.encode().decode()},
        "by_label": {"chat": {"latency_ms": good.encode().decode()}},
    }
    if where:
        node = hist
        for key in where[:-1]:
            node = node.setdefault(key, {})
        node[where[-1]] = value
        raw["histograms"] = hist
    else:
        raw["histograms"] = value
    path = tmp_path / "run.json"
    path.write_text(json.dumps(raw))
    try:
        record = load_record(path)
    except RunFileError as exc:
        assert "\n" not in str(exc) and "histograms" in str(exc)
        return
    if record.histograms is not None:  # what loads decodes, every entry
        decoded = decode_run(record.histograms)
        assert all(h.count >= 0 for h in decoded.whole.values())
