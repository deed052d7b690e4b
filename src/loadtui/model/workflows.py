"""Settings of the multi-request workflows: the OpenAI Batch API job and proxy overhead.

A batch "request" is a job of several HTTP calls (upload, verify, create, poll, download);
an overhead "request" is the same request sent twice, directly and through a proxy. Both are
configured per run, in a preset's ``[batch]`` and ``[overhead]`` tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from loadtui.model.durations import parse_duration

__all__ = ["BatchInput", "BatchSpec", "OverheadSpec"]

_KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")

_STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)
Seconds = Annotated[float, BeforeValidator(parse_duration)]


class BatchSpec(BaseModel):
    """One OpenAI Batch API job per ``batch`` request (``engine/batch.py`` runs it)."""

    model_config = _STRICT

    data: str = "batch-10"
    """JSONL of Batch input lines: a bundled set (``batch-3``, ``batch-10``, ``batch-50``) or
    a file path (``--data FILE``)."""
    endpoint: str = "/v1/chat/completions"
    """The batch's endpoint; every line's ``url`` must match it."""
    completion_window: str = "24h"
    verify: Literal["metadata", "content"] = "metadata"
    """Check the upload by reading its metadata (bytes, purpose) or its content back."""
    poll_initial: Seconds = 0.25
    """First wait between status polls; doubles (``poll_factor``) up to ``poll_max``."""
    poll_max: Seconds = 5.0
    poll_factor: float = Field(default=2.0, ge=1.0, le=100.0)
    job_timeout: Seconds = 600.0
    """Give up on a job that has not reached a terminal status by then (error ``timeout``)."""
    admin_url: str | None = None
    """Optional: mint one API key for the whole run by POSTing here with Basic auth; the JSON
    answer's ``key`` is used by every user (and never written anywhere)."""
    admin_user: str = "admin"
    admin_password_env: str = "LOADTUI_ADMIN_PASSWORD"
    """Environment variable holding the admin password (the password is never in a file)."""

    @model_validator(mode="after")
    def _check(self) -> BatchSpec:
        if self.completion_window != "24h":
            raise ValueError("completion_window: the Batch API accepts only '24h'")
        if self.poll_initial <= 0 or self.poll_max < self.poll_initial:
            raise ValueError("poll_initial must be > 0 and poll_max at least poll_initial")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", self.admin_password_env):
            raise ValueError("admin_password_env must be an environment variable name")
        if self.admin_password_env in _KEY_VARIABLES:
            # the password is sent to admin_url: it must never be the user's API key
            raise ValueError(f"admin_password_env cannot be {self.admin_password_env}")
        admin = self.admin_url
        if admin is not None and not re.match(r"(\{base\}|https?://[^/?#@\s]+)(/|$)", admin):
            raise ValueError("admin_url must be {base}/path or http(s)://host/path")
        return self


@dataclass(frozen=True)
class BatchInput:
    """A batch job's input file (validated JSONL, as uploaded) and its custom ids, in order."""

    data: bytes
    custom_ids: tuple[str, ...]


class OverheadSpec(BaseModel):
    """Proxy overhead: every request goes once directly to the upstream and once through the
    proxy (the target URL), alternating which goes first, so both see the same conditions."""

    model_config = _STRICT

    enabled: bool = False
    direct_url: str | None = None
    """The upstream, for the direct requests. None with no target URL: loadtui starts the
    embedded mock as the upstream and a pass-through proxy in front of it."""
