"""Per-request service-level objectives: what ``--slo 'ttft<500ms'`` and ``[slo]`` mean.

A run with SLOs judges every finished request against each of them, on that request's own
values (docs/metrics.md, "SLOs and goodput"): a request that meets all of them counts towards
goodput. The spec is parsed here once, in the model, so the CLI, presets, the run file and the
worker read the same thing; ``SloJudge`` is the compiled form the worker's hot path uses — a
few float comparisons per request, no allocation when a request meets every SLO.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

__all__ = [
    "MISS_PREFIX",
    "SLO_NAMES",
    "Slo",
    "SloJudge",
    "SloTable",
    "canonical_slos",
    "parse_slo",
    "parse_slo_value",
    "slo_counter",
    "slos_of",
]

SLO_NAMES = ("ttft", "itl", "tpot", "latency")
"""What an SLO can bound, each judged on one request's own value: its TTFT, its worst gap
between content chunks, its TPOT, its latency (from the intended send time in open loop)."""

MISS_PREFIX = "slo_miss:"
"""A snapshot counter ``slo_miss:<name>`` counts the requests that missed SLO ``<name>``."""

_MAX_MS = 86_400_000.0
"""A day: no SLO bound is longer, and a bound this size is surely a unit typo."""

_VALUE = re.compile(r"\s*(<=|<)?\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s)\s*")
_WHOLE = re.compile(r"\s*([a-z_]+)\s*(<=|<)(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Slo:
    """One objective: ``name`` (``SLO_NAMES``) below ``limit_ms`` (or at most, ``inclusive``)."""

    name: str
    limit_ms: float
    inclusive: bool = False

    @property
    def text(self) -> str:
        """As a user writes it: ``ttft<500ms``."""
        return f"{self.name}{self.bound}"

    @property
    def bound(self) -> str:
        """The bound alone, as ``[slo]`` and the run file keep it: ``<500ms``, ``<=2s``."""
        op = "<=" if self.inclusive else "<"
        ms = self.limit_ms
        if ms >= 1000.0 and ms % 1000.0 == 0.0:
            return f"{op}{ms / 1000.0:g}s"
        return f"{op}{ms:g}ms"

    def met(self, value_ms: float) -> bool:
        return value_ms <= self.limit_ms if self.inclusive else value_ms < self.limit_ms


def _name(name: str) -> str:
    if name not in SLO_NAMES:
        raise ValueError(f"unknown SLO {name!r}; one of {', '.join(SLO_NAMES)}")
    return name


def parse_slo_value(name: str, value: str) -> Slo:
    """One ``[slo]`` entry: ``ttft = "500ms"`` (meaning ``<``), ``"<500ms"`` or ``"<=0.5s"``."""
    _name(name)
    m = _VALUE.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(
            f"SLO {name}: expected a bound like '<500ms', '<=2s' or '500ms', got {value!r}"
        )
    op, number, unit = m.groups()
    limit = float(number) * (1000.0 if unit == "s" else 1.0)
    if not 0.0 < limit <= _MAX_MS or not math.isfinite(limit):
        raise ValueError(
            f"SLO {name}: the bound must be above 0 and at most 86400s (24 hours), got {value!r}"
        )
    return Slo(name, limit, op == "<=")


def parse_slo(text: str) -> Slo:
    """``--slo 'ttft<500ms'``: a name, ``<`` or ``<=``, a number and its unit (ms or s)."""
    m = _WHOLE.fullmatch(text)
    if m is None:
        raise ValueError(
            f"an SLO is NAME<BOUND or NAME<=BOUND with NAME one of {', '.join(SLO_NAMES)} "
            f"and BOUND in ms or s (e.g. 'ttft<500ms'), got {text!r}"
        )
    name, op, rest = m.groups()
    return parse_slo_value(name, op + rest)


def canonical_slos(slo: Mapping[str, str]) -> dict[str, str]:
    """``[slo]`` validated and written one way (``{"ttft": "<500ms"}``), in ``SLO_NAMES``
    order; ValueError naming the bad entry."""
    parsed = {name: parse_slo_value(name, value) for name, value in slo.items()}
    return {name: parsed[name].bound for name in SLO_NAMES if name in parsed}


SloTable = Annotated[dict[str, str], AfterValidator(canonical_slos)]
"""``RunConfig.slo``: validated and written one way when a config is built."""


def slos_of(slo: Mapping[str, str]) -> tuple[Slo, ...]:
    """A config's ``slo`` table as objectives, in ``SLO_NAMES`` order."""
    return tuple(parse_slo_value(name, slo[name]) for name in SLO_NAMES if name in slo)


def slo_counter(name: str) -> str:
    """The snapshot counter of the requests that missed SLO ``name``."""
    return MISS_PREFIX + name


class SloJudge:
    """The objectives compiled for the request loop: each limit, or +inf when not set.

    ``missed`` answers with the names a request missed, an empty tuple (shared, no
    allocation) when it met them all. A value of None (a request with no gap between chunks,
    too few tokens for a TPOT) has nothing to judge and meets that SLO."""

    __slots__ = ("_plan", "counters", "slos")

    def __init__(self, slos: tuple[Slo, ...]) -> None:
        self.slos = slos
        self.counters = tuple(slo_counter(s.name) for s in slos)
        """``slo_miss:<name>`` of each SLO, in the order of ``slos``."""
        self._plan = tuple((SLO_NAMES.index(s.name), s.limit_ms, s.inclusive) for s in slos)
        """Per SLO: which value it reads (``SLO_NAMES`` order), its limit, ``<=`` or ``<``."""

    def missed(
        self, ttft: float, itl: float | None, tpot: float | None, latency: float
    ) -> tuple[int, ...]:
        """The indexes (into ``slos``) of the SLOs this request missed; values in ms."""
        values = (ttft, itl, tpot, latency)
        missed: tuple[int, ...] = ()
        for i, (which, limit, inclusive) in enumerate(self._plan):
            value = values[which]
            if value is not None and (value > limit if inclusive else value >= limit):
                missed += (i,)
        return missed
