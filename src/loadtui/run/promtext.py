"""A server's Prometheus text read into one second's values: gauges, counter rates, and the
p50/p95 of a histogram's observations between two scrapes.

The text is parsed by Prometheus's own client library (``prometheus_client``: pure Python, no
dependencies of its own, the parser the exposition format is defined against), so labels,
escapes and ``+Inf`` are read as Prometheus reads them. What this module adds is the
arithmetic a dashboard would do with PromQL: ``sum`` over label sets, ``rate`` of a counter,
``histogram_quantile`` over the bucket deltas of the interval (linear within a bucket; the
highest finite bound when the rank falls in ``+Inf``) — docs/server-metrics.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from loadtui.model.servermetrics import KNOWN, Selector, parse_selector

__all__ = ["Exposition", "bucket_quantile", "parse_exposition", "read_values", "wanted_names"]

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Exposition:
    """One scrape: samples by sample name, the declared type of each family, and when."""

    samples: Mapping[str, list[tuple[Labels, float]]]
    types: Mapping[str, str]
    at: float = 0.0
    """Seconds on the scraper's clock."""
    families: int = 0


_SAMPLE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?\s+\S+")
_SUFFIXES = ("", "_bucket", "_count", "_sum", "_total", "_created")


def wanted_names(extra: Iterable[str] = ()) -> frozenset[str]:
    """The sample and family names worth parsing: the known series' and ``extra``'s."""
    names = [n for group in KNOWN.values() for n in group]
    names += [parse_selector(text).name for text in extra]
    return frozenset(n + suffix for n in names for suffix in _SUFFIXES) | frozenset(
        n.removesuffix("_total") for n in names
    )


def _kept(text: str, names: frozenset[str]) -> str:
    """Only the lines of the families in ``names``: a vLLM serves hundreds of series and
    the parser's cost is per line. The first sample line must look like one (an HTML page or
    JSON would otherwise be filtered down to nothing and read as "no series")."""
    out: list[str] = []
    checked = False
    for line in text.splitlines():
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[2] in names:
                out.append(line)
            continue
        if not line.strip():
            continue
        if not checked:
            checked = True
            if _SAMPLE.match(line) is None:
                raise ValueError(f"not a Prometheus sample line: {line[:60]!r}")
        end = min((i for i in (line.find("{"), line.find(" ")) if i >= 0), default=len(line))
        if line[:end] in names:
            out.append(line)
    return "\n".join(out) + "\n" if out else ""


def parse_exposition(text: str, at: float = 0.0, names: frozenset[str] | None = None) -> Exposition:
    """Prometheus text → samples (only of the families in ``names``, when given); ValueError
    when the text is not Prometheus's format."""
    if names is not None:
        text = _kept(text, names)
    samples: dict[str, list[tuple[Labels, float]]] = defaultdict(list)
    types: dict[str, str] = {}
    families = 0
    for family in text_string_to_metric_families(text):
        families += 1
        types[family.name] = family.type
        for sample in family.samples:
            samples[sample.name].append((sample.labels, float(sample.value)))
    return Exposition(dict(samples), types, at, families)


def _matches(labels: Labels, selector: Selector) -> bool:
    return all(labels.get(k) == v for k, v in selector.labels)


def _total(exp: Exposition, name: str, selector: Selector) -> float | None:
    rows = [v for labels, v in exp.samples.get(name, ()) if _matches(labels, selector)]
    return math.fsum(rows) if rows else None


def _kind(exp: Exposition, name: str) -> str:
    if name + "_bucket" in exp.samples:
        return "histogram"
    if exp.types.get(name) == "counter" or exp.types.get(name.removesuffix("_total")) == "counter":
        return "counter"
    return "gauge"


def _buckets(exp: Exposition, selector: Selector) -> dict[float, float]:
    """Cumulative count per upper bound, summed over the matching label sets."""
    sums: dict[float, float] = defaultdict(float)
    for labels, value in exp.samples.get(selector.name + "_bucket", ()):
        if _matches(labels, selector) and "le" in labels:
            sums[float(labels["le"])] += value
    return sums


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """``histogram_quantile``: the ``q`` quantile of cumulative ``(upper bound, count)``
    buckets; None when they hold no observation."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    low, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return low
            if count == below:
                return bound
            return low + (bound - low) * (rank - below) / (count - below)
        low, below = bound, count
    return low


def _histogram(
    now: Exposition, before: Exposition | None, selector: Selector
) -> tuple[float, float] | None:
    """p50 and p95 of the observations between two scrapes (None: none, or a reset)."""
    if before is None:
        return None
    was = _buckets(before, selector)
    delta = [(le, count - was.get(le, 0.0)) for le, count in _buckets(now, selector).items()]
    if any(d < 0 for _, d in delta):  # the server restarted: its counts began again
        return None
    p50, p95 = bucket_quantile(0.5, delta), bucket_quantile(0.95, delta)
    return None if p50 is None or p95 is None else (p50, p95)


def _rate(now: Exposition, before: Exposition | None, selector: Selector) -> float | None:
    name = selector.name if selector.name in now.samples else selector.name + "_total"
    value = _total(now, name, selector)
    if before is None or value is None:
        return None
    was = _total(before, name, selector)
    span = now.at - before.at
    if was is None or span <= 0 or value < was:
        return None
    return (value - was) / span


def _read(
    now: Exposition, before: Exposition | None, selector: Selector, key: str, scale: float
) -> dict[str, float]:
    """One series' values under ``key``: a gauge's value, a counter's rate, or a histogram's
    ``key p50`` and ``key p95`` (times ``scale``)."""
    kind = _kind(now, selector.name)
    if kind == "histogram":
        pcts = _histogram(now, before, selector)
        if pcts is None:
            return {}
        return {f"{key} p50": pcts[0] * scale, f"{key} p95": pcts[1] * scale}
    value = (_rate if kind == "counter" else _gauge)(now, before, selector)
    return {} if value is None else {key: value}


def _gauge(now: Exposition, before: Exposition | None, selector: Selector) -> float | None:
    return _total(now, selector.name, selector)


def _present(exp: Exposition, name: str) -> bool:
    return name in exp.samples or name + "_bucket" in exp.samples


def read_values(
    now: Exposition, before: Exposition | None, extra: Iterable[str] = ()
) -> tuple[dict[str, float], dict[str, str]]:
    """The second's values (known keys, then each extra series under its own text) and, for
    each known key found, the server's name it came from."""
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for key, names in KNOWN.items():
        name = next((n for n in names if _present(now, n)), None)
        if name is None:
            continue
        sources[key] = name
        if key == "ttft":  # seconds → ms, as ``ttft_p50_ms`` and ``ttft_p95_ms``
            got = _read(now, before, Selector(name), key, 1000.0)
            values.update({f"ttft_{k.rsplit(' ', 1)[1]}_ms": v for k, v in got.items()})
        else:
            values.update(_read(now, before, Selector(name), key, 1.0))
    for text in extra:
        values.update(_read(now, before, parse_selector(text), text, 1.0))
    return values, sources
