"""What a run file's keys must hold for the screens that read them unchecked.

Listings, the History row, the detail screen (tables, sparklines, health, thresholds, timeline)
and replay read a run file's values as they are; a file from elsewhere may hold anything. These
loose models (extra keys allowed, known keys strictly typed: ``"9"`` is not a number) are the
one check ``runfile._parse`` applies, so a file that loads is safe to draw. docs/run-format.md
lists the keys.
"""

from __future__ import annotations

from typing import Annotated, Literal, Required

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from loadtui.metrics.histogram import check_encoded
from loadtui.storage.runfile import RUN_ID

__all__ = ["RUN_ID", "RunShape"]

_LOOSE = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)
"""Extra keys allowed; the known ones of the right type (strict: ``"9"`` is not a number)."""
_PRINTABLE = r"^[^\x00-\x1f\x7f]{0,200}$"
"""Listings print these as they are: no escape sequence from a file may reach the terminal."""
Num = float
"""A JSON number (strict: an int or a float, never a string or a bool)."""
OptNum = float | None


class _Loose(BaseModel):
    model_config = _LOOSE


class _Pcts(TypedDict, total=False):
    """Percentiles the detail screen's tables and sparklines index directly. The series holds
    one of these per second, so they are TypedDicts: checked without building an object
    (a day of series checks in a third of the time a model takes)."""

    __pydantic_config__ = _LOOSE  # type: ignore[misc]
    p50: Required[OptNum]
    p95: Required[OptNum]
    p99: OptNum
    count: Num


class _Label(_Loose):
    requests: Num
    errors: Num
    latency_ms: _Pcts
    ttft_ms: _Pcts
    itl_ms: _Pcts | None = None  # absent from files before labels kept them
    tpot_ms: _Pcts | None = None


class _Check(_Loose):
    passed: Num
    failed: Num
    pass_rate: Num


class _Overhead(_Loose):
    pairs: Num
    latency_ms: _Pcts | None = None
    ttft_ms: _Pcts | None = None


class _Summary(_Loose):
    requests: Num = 0
    ok: Num = 0
    errors_total: Num = 0
    cancelled: Num = 0
    dropped: Num = 0
    late: Num = 0
    rps: OptNum = None
    error_rate: Num = 0
    duration_s: Num = 0
    output_tokens_per_s: OptNum = None
    status_codes: dict[str, Num] = {}
    errors: dict[str, Num] = {}
    error_reasons: dict[str, object] = {}
    metrics: dict[str, dict[str, Num]] = {}
    by_label: dict[str, _Label] = {}
    checks: dict[str, _Check] = {}
    overhead: _Overhead | None = None


class _Target(_Loose):
    url: str
    embedded_mock: bool = False


class _Point(TypedDict, total=False):
    """One second of the series: what the history row, the sparklines and the detail's
    counters read (the sparklines index ``rps``, ``errors`` and ``ttft_ms`` directly)."""

    __pydantic_config__ = _LOOSE  # type: ignore[misc]
    t: Num
    users: Num
    target_users: OptNum
    target_rate: OptNum
    in_flight: Num
    rps: Required[Num]
    arrivals: Num
    errors: Required[Num]
    output_tokens: Num
    latency_ms: _Pcts | None
    ttft_ms: Required[_Pcts]
    itl_ms: _Pcts | None
    tpot_ms: _Pcts | None


class _Control(_Loose):
    """A timeline row: ``at`` is drawn as a clock, ``value`` as a number (or a think-time pair,
    or a capacity search's steering word: ``skip``, ``step:1.5``)."""

    action: str = Field(pattern=_PRINTABLE)
    at: OptNum = 0
    value: (
        Num
        | Annotated[list[Num], Field(min_length=2, max_length=2)]
        | Annotated[str, Field(pattern=_PRINTABLE, max_length=16)]
        | None
    ) = None
    source: str = Field(default="", pattern=_PRINTABLE)

    @field_validator("value")
    @classmethod
    def _words_only_steer(cls, value: object, info: ValidationInfo) -> object:
        action = info.data.get("action")
        if isinstance(value, str) and action != "search":
            raise ValueError(f"a {action!r} control takes a number, not a word")
        return value


class _Threshold(_Loose):
    metric: str
    expression: str
    passed: bool
    actual: OptNum = None


class _Generator(_Loose):
    workers: Num = 0
    warning: str | None = None
    warnings: list[str] = []
    cpu_percent_max: Num = 0
    loop_lag_ms_max: Num = 0
    saturated_seconds: Num = 0


class _Load(_Loose):
    mode: str = "closed"
    stages: list[dict[str, object]] = []


class _Request(_Loose):
    kind: str | None = None


class _Config(_Loose):
    load: _Load = _Load()
    requests: list[_Request] = []
    """The console and the app name what a run counts (requests, jobs) from these kinds."""


def _encoded_histogram(text: str) -> str:
    """Refuse, when the file is read, a histogram compare or report could not decode (header,
    range, payload and counts checked without building a histogram: a listing checks them all)."""
    check_encoded(text.encode("ascii", "replace"))
    return text


Encoded = Annotated[str, AfterValidator(_encoded_histogram)]


class _Histograms(_Loose):
    """``histograms``: every entry decodes to one of loadtui's own HDR histograms."""

    encoding: Literal["hdr-v2-base64"]
    whole: dict[str, Encoded]
    by_label: dict[str, dict[str, Encoded]] = {}


class RunShape(_Loose):
    """The fields listings, the history row, the detail screen (tables, sparklines, health,
    thresholds, timeline) and replay read without further checks: a file that passes is safe
    to draw."""

    id: str = Field(pattern=f"^{RUN_ID.pattern}$")
    status: str = Field(pattern=_PRINTABLE)
    started_at: str = Field(default="", pattern=_PRINTABLE)
    preset: str | None = Field(default=None, pattern=_PRINTABLE)
    replay_of: str | None = Field(default=None, pattern=_PRINTABLE)
    error: str | None = None
    summary: _Summary
    target: _Target | None = None
    config: _Config
    controls: list[_Control]
    thresholds: list[_Threshold] = []
    generator: _Generator = _Generator()
    load_ended_s: OptNum = None
    peak_users: OptNum = None
    histograms: _Histograms | None = None
    series: list[_Point] = []
