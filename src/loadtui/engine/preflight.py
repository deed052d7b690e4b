"""Control-plane checks before load starts, over httpx (not the hot path).

A burst run fires its first request alone: if that fails there is no point in the burst, and
the run ends with exit code 3 rather than a wall of errors.
"""

from __future__ import annotations

import httpx

from loadtui.engine.mix import RequestMix
from loadtui.engine.protocols import Prepared
from loadtui.engine.tls import client_ssl
from loadtui.errors import StartError
from loadtui.model.plan import RunConfig

__all__ = ["preflight"]


def preflight(config: RunConfig, base_url: str, api_key: str | None) -> None:
    """Send the run's first request once; StartError unless it answers 2xx."""
    prep = RequestMix(config, base_url, api_key).first
    if prep.kind == "batch":
        return  # a batch job checks itself step by step
    shown = prep.url.replace(api_key, "***") if api_key else prep.url  # a key may sit in the path
    try:
        status = _status_of(prep, config)
    except httpx.HTTPError as exc:
        raise StartError(
            f"pre-flight request to {shown} failed: {type(exc).__name__}: "
            + (str(exc).replace(api_key, "***") if api_key else str(exc))
        ) from None
    if status is None:
        raise StartError(
            f"pre-flight request to {shown}: the answer is over {prep.max_body:,} bytes "
            "(target.max_body_bytes)"
        )
    if not 200 <= status < 300:
        raise StartError(f"pre-flight request to {shown} answered HTTP {status}")


def _status_of(prep: Prepared, config: RunConfig) -> int | None:
    """The answer's status, its body read to the end but never past the request's size limit
    (None when it goes past: a server that never stops sending must not fill our memory)."""
    timeout = httpx.Timeout(config.target.timeout, connect=config.target.connect_timeout)
    with (
        httpx.Client(verify=client_ssl(config.target), timeout=timeout) as client,
        client.stream(prep.method, prep.url, content=prep.body, headers=prep.headers) as resp,
    ):
        size = 0
        for chunk in resp.iter_raw():
            size += len(chunk)
            if size > prep.max_body:
                return None
        return resp.status_code
