"""The reading half of storage/record.py: each part of a checked run file as a record part.

Lenient by design: ``runfile._parse`` has already refused what the screens cannot draw
(``RunShape``), and older files lack keys added since, so every key missing — or of a type the
shape check does not cover — takes the record's default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from loadtui.errors import RunFileError
from loadtui.model.controls import ControlChange
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.record import (
    METRICS,
    SCHEMA_VERSION,
    STATUSES,
    CheckSummary,
    ErrorSample,
    GeneratorHealth,
    LabelSummary,
    LostWorker,
    Metrics,
    MetricSummary,
    OverheadSummary,
    Percentiles,
    RunHistograms,
    RunRecord,
    RunSummary,
    SeriesPoint,
    SloSummary,
    TargetInfo,
    ThresholdResult,
    TokenSource,
    WorkerClock,
    run_status,
)
from loadtui.storage.presets import validation_message
from loadtui.storage.record_out import RunJson
from loadtui.storage.search_json import search_from_json
from loadtui.storage.server_json import server_from_json

__all__ = ["config_from_json", "controls_from_json", "record_from_json", "summary_from_json"]

T = TypeVar("T")


def _get(raw: Any, key: str, kind: type[T] | tuple[type, ...], default: T) -> T:
    """``raw[key]`` when ``raw`` is an object and the value is of ``kind`` (never a bool where
    a number is meant), else ``default``."""
    if not isinstance(raw, dict):
        return default
    value = raw.get(key, default)
    if isinstance(value, bool) and kind is not bool:
        return default
    return value if isinstance(value, kind) else default  # type: ignore[return-value]


def _int(raw: Any, key: str, default: int = 0) -> int:
    value = _get(raw, key, (int, float), default)
    return value if isinstance(value, int) else int(value)


def _float(raw: Any, key: str, default: float = 0.0) -> float:
    return _get(raw, key, (int, float), default)


def _opt_float(raw: Any, key: str) -> float | None:
    value = _get(raw, key, (int, float), None)
    return value


def _opt_int(raw: Any, key: str) -> int | None:
    value = _get(raw, key, (int, float), None)
    return None if value is None else int(value)


def _str(raw: Any, key: str, default: str = "") -> str:
    return _get(raw, key, str, default)


def _opt_str(raw: Any, key: str) -> str | None:
    return _get(raw, key, str, None)


def _obj(raw: Any, key: str) -> RunJson:
    return _get(raw, key, dict, {})


def _list(raw: Any, key: str) -> list[Any]:
    return _get(raw, key, list, [])


def _map(raw: Any, key: str, read: Callable[[Any], T]) -> dict[str, T]:
    return {str(k): read(v) for k, v in _obj(raw, key).items()}


def _target(raw: RunJson) -> TargetInfo:
    mock = raw.get("mock")
    try:
        spec = MockSpec.model_validate(mock) if isinstance(mock, dict) else None
    except ValidationError:
        spec = None  # only shown: a mock this loadtui would not start is still a record
    return TargetInfo(
        url=_str(raw, "url"),
        embedded_mock=_get(raw, "embedded_mock", bool, False),
        direct_url=_opt_str(raw, "direct_url"),
        mock=spec,
        model=_opt_str(raw, "model"),
        api_key=_opt_str(raw, "api_key"),
    )


def _metric(raw: Any) -> MetricSummary:
    return MetricSummary(
        count=_int(raw, "count"),
        mean=_float(raw, "mean"),
        min=_float(raw, "min"),
        max=_float(raw, "max"),
        p50=_float(raw, "p50"),
        p90=_float(raw, "p90"),
        p95=_float(raw, "p95"),
        p99=_float(raw, "p99"),
        p999=_float(raw, "p999"),
    )


def _percentiles(raw: Any) -> Percentiles:
    return Percentiles(
        p50=_opt_float(raw, "p50"), p95=_opt_float(raw, "p95"), p99=_opt_float(raw, "p99")
    )


def summary_from_json(raw: RunJson) -> RunSummary:
    """A run file's ``summary`` (missing keys: the record's defaults)."""
    metrics = _obj(raw, "metrics")
    overhead = raw.get("overhead")
    return RunSummary(
        requests=_int(raw, "requests"),
        ok=_int(raw, "ok"),
        errors_total=_int(raw, "errors_total"),
        errors={k: int(v) for k, v in _obj(raw, "errors").items() if _is_num(v)},
        error_reasons={
            k: tuple(str(t) for t in v)
            for k, v in _obj(raw, "error_reasons").items()
            if isinstance(v, list)
        },
        status_codes={
            (int(k) if k.isdecimal() else k): int(v)
            for k, v in _obj(raw, "status_codes").items()
            if _is_num(v)
        },
        cancelled=_int(raw, "cancelled"),
        dropped=_int(raw, "dropped"),
        late=_int(raw, "late"),
        error_rate=_float(raw, "error_rate"),
        success_rate=_float(raw, "success_rate"),
        duration_s=_float(raw, "duration_s"),
        rps=_float(raw, "rps"),
        output_tokens=_int(raw, "output_tokens"),
        input_tokens=_int(raw, "input_tokens"),
        output_tokens_per_s=_float(raw, "output_tokens_per_s"),
        token_source=_token_source(_obj(raw, "token_source")),
        bytes_received=_int(raw, "bytes_received"),
        metrics=Metrics(**{name: _metric(metrics.get(name)) for name in METRICS}),
        by_label=_map(raw, "by_label", _label),
        checks=_map(raw, "checks", _check),
        overhead=_overhead(overhead) if isinstance(overhead, dict) else None,
        slo=_slo(raw["slo"]) if isinstance(raw.get("slo"), dict) else None,
    )


def _slo(raw: RunJson) -> SloSummary:
    return SloSummary(
        judged=_int(raw, "judged"),
        ok=_int(raw, "ok"),
        ok_tokens=_int(raw, "ok_tokens"),
        attainment=_float(raw, "attainment"),
        goodput_rps=_float(raw, "goodput_rps"),
        goodput_tokens_per_s=_float(raw, "goodput_tokens_per_s"),
        misses={k: int(v) for k, v in _obj(raw, "misses").items() if _is_num(v)},
    )


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _token_source(raw: RunJson) -> TokenSource:
    return TokenSource(usage=_int(raw, "usage"), counted_chunks=_int(raw, "counted_chunks"))


def _label(raw: Any) -> LabelSummary:
    return LabelSummary(
        requests=_int(raw, "requests"),
        errors=_int(raw, "errors"),
        latency_ms=_metric(_obj(raw, "latency_ms")),
        ttft_ms=_metric(_obj(raw, "ttft_ms")),
        itl_ms=_metric(_obj(raw, "itl_ms")),  # absent from files before labels kept them
        tpot_ms=_metric(_obj(raw, "tpot_ms")),
    )


def _check(raw: Any) -> CheckSummary:
    return CheckSummary(
        passed=_int(raw, "passed"), failed=_int(raw, "failed"), pass_rate=_float(raw, "pass_rate")
    )


def _overhead(raw: RunJson) -> OverheadSummary:
    latency, ttft = raw.get("latency_ms"), raw.get("ttft_ms")
    return OverheadSummary(
        pairs=_int(raw, "pairs"),
        latency_ms=_percentiles(latency) if isinstance(latency, dict) else None,
        ttft_ms=_percentiles(ttft) if isinstance(ttft, dict) else None,
    )


def _point(raw: Any) -> SeriesPoint:
    return SeriesPoint(
        t=_int(raw, "t"),
        users=_int(raw, "users"),
        target_users=_opt_int(raw, "target_users"),
        target_rate=_opt_float(raw, "target_rate"),
        in_flight=_int(raw, "in_flight"),
        rps=_int(raw, "rps"),
        arrivals=_int(raw, "arrivals"),
        dropped=_int(raw, "dropped"),
        late=_int(raw, "late"),
        errors=_int(raw, "errors"),
        output_tokens=_int(raw, "output_tokens"),
        latency_ms=_percentiles(_obj(raw, "latency_ms")),
        ttft_ms=_percentiles(_obj(raw, "ttft_ms")),
        itl_ms=_opt_percentiles(raw.get("itl_ms")),
        tpot_ms=_opt_percentiles(raw.get("tpot_ms")),
        slo_ok=_opt_int(raw, "slo_ok"),
        slo_judged=_opt_int(raw, "slo_judged"),
    )


def _opt_percentiles(raw: Any) -> Percentiles | None:
    """A point's ``itl_ms``/``tpot_ms``: absent in old files and in seconds without a stream."""
    return _percentiles(raw) if isinstance(raw, dict) else None


def _generator(raw: RunJson) -> GeneratorHealth:
    lost = [w for w in _list(raw, "lost_workers") if isinstance(w, dict)]
    return GeneratorHealth(
        workers=_int(raw, "workers"),
        cpu_percent_max=_float(raw, "cpu_percent_max"),
        cpu_percent_mean=_float(raw, "cpu_percent_mean"),
        loop_lag_ms_max=_float(raw, "loop_lag_ms_max"),
        saturated_seconds=_int(raw, "saturated_seconds"),
        in_flight_cap_seconds=_int(raw, "in_flight_cap_seconds"),
        workers_lost=_int(raw, "workers_lost"),
        lost_workers=tuple(
            LostWorker(_int(w, "worker"), _float(w, "at_s"), _str(w, "reason")) for w in lost
        ),
        warnings=tuple(w for w in _list(raw, "warnings") if isinstance(w, str)),
        target_rate_mean=_opt_float(raw, "target_rate_mean"),
        achieved_rate=_opt_float(raw, "achieved_rate"),
        nodes=tuple(n for n in _list(raw, "nodes") if isinstance(n, str)),
        worker_clocks=tuple(
            _worker_clock(c) for c in _list(raw, "worker_clocks") if isinstance(c, dict)
        ),
    )


def _worker_clock(raw: RunJson) -> WorkerClock:
    return WorkerClock(
        worker=_int(raw, "worker"),
        clock_offset_ms=_float(raw, "clock_offset_ms"),
        rtt_ms=_float(raw, "rtt_ms"),
        start_skew_ms=_opt_float(raw, "start_skew_ms"),
    )


def _threshold(raw: Any) -> ThresholdResult:
    return ThresholdResult(
        metric=_str(raw, "metric"),
        expression=_str(raw, "expression"),
        actual=_opt_float(raw, "actual"),
        passed=_get(raw, "passed", bool, False),
        reason=_opt_str(raw, "reason"),
        skipped=_get(raw, "skipped", bool, False),
        aborted=_get(raw, "aborted", bool, False),
    )


def _histograms(raw: Any) -> RunHistograms | None:
    """``histograms`` (checked strictly by ``RunShape``: each one decodes) as bytes; None in
    files from before they were stored."""
    if not isinstance(raw, dict):
        return None
    return RunHistograms(
        whole=_encoded(_obj(raw, "whole")),
        by_label={label: _encoded(m) for label, m in _obj(raw, "by_label").items()},
    )


def _encoded(raw: Any) -> dict[str, bytes]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): v.encode("ascii") for k, v in raw.items() if isinstance(v, str)}


def _error_sample(raw: RunJson) -> ErrorSample:
    """One of ``error_samples`` (a file from elsewhere may hold anything: what is not of its
    type is left out, a header that is not text dropped)."""
    headers = _obj(raw, "headers")
    return ErrorSample(
        error_class=_str(raw, "error_class", "other"),
        at_s=_float(raw, "at_s"),
        status=_get(raw, "status", int, None),
        label=_opt_str(raw, "label"),
        reason=_opt_str(raw, "reason"),
        headers={str(k): v for k, v in headers.items() if isinstance(v, str)},
        body=_str(raw, "body"),
        body_truncated=_get(raw, "body_truncated", bool, False),
    )


def record_from_json(raw: RunJson, shown: str = "run file") -> RunRecord:
    """A checked run file's object as a record; RunFileError (one line naming ``shown``) when
    its config is not one this loadtui can run."""
    status = raw.get("status")
    return RunRecord(
        id=_str(raw, "id"),
        status=run_status(status) if status in STATUSES else "failed",
        started_at=_str(raw, "started_at"),
        ended_at=_str(raw, "ended_at"),
        **_config_fields(raw.get("config"), shown),
        target=_target(_obj(raw, "target")),
        summary=summary_from_json(_obj(raw, "summary")),
        generator=_generator(_obj(raw, "generator")),
        series=tuple(_point(p) for p in _list(raw, "series")),
        controls=controls_from_json(_list(raw, "controls")),
        thresholds=tuple(_threshold(t) for t in _list(raw, "thresholds")),
        load_ended_s=_opt_float(raw, "load_ended_s"),
        error=_opt_str(raw, "error"),
        preset=_opt_str(raw, "preset"),
        replay_of=_opt_str(raw, "replay_of"),
        loadtui_version=_str(raw, "loadtui_version"),
        peak_users=_opt_int(raw, "peak_users"),
        histograms=_histograms(raw.get("histograms")),
        error_samples=tuple(
            _error_sample(s) for s in _list(raw, "error_samples") if isinstance(s, dict)
        ),
        search=search_from_json(raw.get("search")),
        server=server_from_json(raw.get("server")),
        schema_version=_int(raw, "schema_version", SCHEMA_VERSION),
    )


def config_from_json(config: Any, shown: str = "run file") -> RunConfig:
    """The run's config, to show or run again. A run file never chooses which environment
    variable is read (``batch.admin_password_env``): the default one is."""
    batch = config.get("batch") if isinstance(config, dict) else None
    if isinstance(batch, dict) and "admin_password_env" in batch:
        config = {**config, "batch": {k: v for k, v in batch.items() if k != "admin_password_env"}}
    try:
        return RunConfig.model_validate(config)
    except ValidationError as exc:
        raise RunFileError(validation_message(exc, f"{shown}: config.")) from None


def _config_fields(config: Any, shown: str) -> dict[str, Any]:
    """``config`` and ``config_error`` of a record. A config this loadtui cannot run again (a
    newer version's key, a value out of today's range) still lets the run be listed, shown and
    compared, as before the record was typed: what validates of it is kept (each offending key
    dropped, or the defaults), and ``config_error`` says why a replay refuses it."""
    try:
        return {"config": config_from_json(config, shown)}
    except RunFileError as exc:
        error = str(exc)
    data = config
    for _ in range(20):  # one offending key at a time, bounded
        try:
            return {"config": RunConfig.model_validate(data), "config_error": error}
        except ValidationError as invalid:
            data = _without(data, invalid.errors()[0]["loc"])
            if data is None:
                break
    return {"config": RunConfig(), "config_error": error}


def _without(data: Any, loc: tuple[int | str, ...]) -> Any:
    """``data`` with the value at ``loc`` removed (a copy), or None when there is nothing to
    remove (the error is about the object itself)."""
    if not loc or not isinstance(data, dict | list):
        return None
    head, rest = loc[0], loc[1:]
    copy: Any = dict(data) if isinstance(data, dict) else list(data)
    try:
        if not rest:
            del copy[head]
            return copy
        inner = _without(copy[head], rest)
    except (KeyError, IndexError, TypeError):
        return None
    if inner is None:
        del copy[head]
    else:
        copy[head] = inner
    return copy


def controls_from_json(controls: list[Any]) -> tuple[ControlChange, ...]:
    """The recorded timeline as it was (its sources kept; ``runfile.run_controls`` checks each
    entry again and marks it ``replay`` for a replay)."""
    out = []
    for c in controls:
        if not isinstance(c, dict) or not isinstance(c.get("action"), str):
            continue
        value = c.get("value")
        if isinstance(value, list):
            value = tuple(value)
        out.append(ControlChange(c["action"], value, _opt_float(c, "at"), _str(c, "source")))
    return tuple(out)
