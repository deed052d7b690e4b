"""A run's stored histograms as ``Histogram`` objects, and several runs' merged exactly.

The run file keeps each metric's HDR histogram encoded (``RunHistograms``, docs/run-format.md);
comparisons, reports and merges of several runs read any percentile from them instead of the
few the summary froze. Merging adds bucket counts, so the merge of two runs is the histogram
that would have recorded both runs' samples — not an average of percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loadtui.metrics.histogram import Histogram
from loadtui.model.record import RunHistograms

__all__ = ["LABEL_METRICS", "DecodedHistograms", "decode_run", "encode_run", "merge_runs"]

LABEL_METRICS = ("latency_ms", "ttft_ms", "itl_ms", "tpot_ms")
"""The histograms each request label keeps (``LabelStats``), in its order; run files from
before ITL and TPOT were kept per label hold the first two only."""


@dataclass(slots=True)
class DecodedHistograms:
    """Metric name → histogram, for the whole run and per label; a metric without samples is
    absent (``get`` gives an empty histogram for it)."""

    whole: dict[str, Histogram] = field(default_factory=dict)
    by_label: dict[str, dict[str, Histogram]] = field(default_factory=dict)

    def get(self, metric: str, label: str | None = None) -> Histogram:
        """The histogram of ``metric`` (of ``label``'s requests when given); empty if none."""
        found = self.whole if label is None else self.by_label.get(label, {})
        return found.get(metric) or Histogram()

    def merge(self, other: DecodedHistograms) -> None:
        """Add ``other``'s counts to these (exact)."""
        _merge_into(self.whole, other.whole)
        for label, metrics in other.by_label.items():
            _merge_into(self.by_label.setdefault(label, {}), metrics)


def _merge_into(into: dict[str, Histogram], more: Mapping[str, Histogram]) -> None:
    for name, h in more.items():
        mine = into.get(name)
        if mine is None:
            mine = into[name] = Histogram()
        mine.merge(h)


def encode_run(
    whole: Mapping[str, Histogram], by_label: Mapping[str, Mapping[str, Histogram]]
) -> RunHistograms:
    """The run file's form of these histograms; empty ones are left out (no samples)."""
    return RunHistograms(
        whole={name: h.encode() for name, h in whole.items() if h.count},
        by_label={
            label: {name: h.encode() for name, h in metrics.items() if h.count}
            for label, metrics in by_label.items()
        },
    )


def decode_run(stored: RunHistograms) -> DecodedHistograms:
    """A run's stored histograms, decoded (storage checked each when the file was read)."""
    return DecodedHistograms(
        whole={name: Histogram.decode(data) for name, data in stored.whole.items()},
        by_label={
            label: {name: Histogram.decode(data) for name, data in metrics.items()}
            for label, metrics in stored.by_label.items()
        },
    )


def merge_runs(runs: Iterable[RunHistograms]) -> DecodedHistograms:
    """Several runs' histograms merged exactly: each metric's counts added, run after run."""
    merged = DecodedHistograms()
    for stored in runs:
        merged.merge(decode_run(stored))
    return merged
