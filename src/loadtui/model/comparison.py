"""A comparison of runs as plain data: what ``loadtui compare``, the app's compare screen and
``--json`` show. ``run/compare.py`` computes it; storage writes it as JSON; the console and the
app draw it. How noise is judged is docs/metrics.md's "Comparing runs"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Comparison", "ComparisonRow", "ConfigRow", "Judgement", "Noise", "RunComparison"]

Judgement = Literal["better", "worse", "same", "within noise"]
"""``same``: a change under 2 % (metrics/noise.py's ``MIN_CHANGE``) or none; ``within noise``:
a larger change the noise could explain (neither better nor worse, and not the same)."""


@dataclass(frozen=True, slots=True)
class Noise:
    """Whether a difference is larger than the noise, and how that was judged."""

    verdict: Judgement | None = None
    """None: not judged (``note`` says why)."""
    method: str = ""
    """``percentile-ci``, ``two-proportion``, ``per-second``; empty when not judged."""
    note: str = ""
    """Why not judged (``no histograms: noise not judged``), or what the test found."""
    a_interval: tuple[float, float] | None = None
    """The baseline's 95 % confidence interval (percentiles, rates)."""
    b_interval: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    label: str
    a: float | None
    b: float | None
    unit: str
    lower_is_better: bool | None
    """None: neither direction is better (a count of requests depends on the run's length)."""
    noise: Noise = field(default_factory=Noise)

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def ratio(self) -> float | None:
        """(b − a) / a; None when a is 0 or missing."""
        if self.delta is None or not self.a:
            return None
        return self.delta / self.a

    @property
    def verdict(self) -> str:
        """The direction of the change, noise aside: 'better', 'worse' or '' (equal, or no
        data). ``judged`` is what to show."""
        d = self.delta
        if not d or self.lower_is_better is None:
            return ""
        return "better" if (d < 0) == self.lower_is_better else "worse"

    @property
    def judged(self) -> str:
        """'better' or 'worse' only when the difference is larger than the noise, 'same'
        when the change is under 2 %, 'within noise' when a larger change is not beyond the
        noise, '' when the noise could not be judged."""
        return self.noise.verdict or ""


@dataclass(frozen=True, slots=True)
class ConfigRow:
    """One configuration figure across the runs (baseline first)."""

    label: str
    values: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True, slots=True)
class RunComparison:
    """One later run against the baseline."""

    baseline: str
    """The baseline's run id."""
    run: str
    rows: tuple[ComparisonRow, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    """Runs side by side: their configuration, what makes them unlike, each later run against
    the first."""

    runs: tuple[str, ...]
    """Run ids, baseline first."""
    config: tuple[ConfigRow, ...]
    unlike: tuple[str, ...]
    """The configuration figures that differ (empty: the runs are alike)."""
    against_baseline: tuple[RunComparison, ...]

    @property
    def warning(self) -> str | None:
        """One line when the runs are not alike, naming what differs."""
        if not self.unlike:
            return None
        return "runs are not alike: different " + ", ".join(self.unlike)
