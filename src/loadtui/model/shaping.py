"""The request under full control: extra headers (and which of them are secrets), and output
lengths drawn from a distribution.

A real request carries fields loadtui does not build itself — a gateway's tenant header, an
``Authorization`` of its own, a ``max_tokens`` that varies like production traffic. The rules
for them live here, apart from the request kinds (``requests.py``): which header names cannot be
given, which values are credentials (written as ``***``, scrubbed like the API key), and how a
``max_tokens`` distribution is drawn (seeded, as ``SyntheticPrompts`` draws word counts).
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

__all__ = [
    "HIDDEN",
    "MAX_BODY_FIELDS",
    "MAX_HEADERS",
    "MAX_OUTPUT_TOKENS",
    "Headers",
    "OutputLength",
    "check_headers",
    "check_json",
    "draw_lengths",
    "is_secret_header",
    "output_length",
    "redacted_headers",
    "secret_header_values",
]

_STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)
MAX_OUTPUT_TOKENS = 10_000_000
MAX_BODY_FIELDS = 200
MAX_HEADERS = 100
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_PROTOCOL_HEADERS = frozenset({"content-type", "content-length", "host", "transfer-encoding"})
"""Headers the client sets from the body and the URL: another value would break the request."""
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}
)
_SECRET_PARTS = ("key", "token", "secret", "auth", "password")
HIDDEN = "***"
"""What an auth-like header value is written as."""


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (never written, logged or shown)."""
    low = name.lower()
    return low in _SECRET_HEADERS or any(part in low for part in _SECRET_PARTS)


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Extra request headers, or ValueError naming the first one that cannot be sent."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"header name {name[:60]!r} is not a valid HTTP header name")
        if name.lower() in _PROTOCOL_HEADERS:
            raise ValueError(
                f"header {name!r} is set by loadtui from the body and URL and cannot be "
                "given (it would break the request)"
            )
        if any(c in value for c in "\r\n\x00") or len(value) > 8192:
            raise ValueError(f"header {name!r}: the value holds a line break or is too long")
    return headers


def check_json(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` if it is JSON (TOML also has dates and times, which a request body cannot
    carry); ValueError otherwise — before the run, not in a worker."""
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"body must hold JSON values only (no dates, NaN or inf): {exc}") from None
    return body


def redacted_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers as they are written to disk: auth-like values replaced by ``***``."""
    return {k: HIDDEN if is_secret_header(k) else v for k, v in headers.items()}


Headers = Annotated[
    dict[str, str],
    AfterValidator(check_headers),
    PlainSerializer(redacted_headers, when_used="json"),
]
"""Extra request headers (``--header``, a request's ``headers``): checked to be sendable, and
written to disk with auth-like values as ``***``."""


def secret_header_values(headers: dict[str, str]) -> list[str]:
    """The values of auth-like headers (scrubbed from run files and messages like a key), and
    the credential alone after a scheme (``Bearer sk-…``: a server may echo just the token)."""
    found = []
    for name, value in headers.items():
        if is_secret_header(name) and value and value != HIDDEN:
            found.append(value)
            scheme, _, credential = value.partition(" ")
            if credential.strip() and scheme.isalpha():
                found.append(credential.strip())
    return found


class OutputLength(BaseModel):
    """``max_tokens`` drawn from a distribution, seeded (a replay sends the same lengths)."""

    model_config = _STRICT

    distribution: Literal["uniform", "normal", "lognormal"] = "uniform"
    min: int = Field(default=1, ge=1, le=MAX_OUTPUT_TOKENS)
    max: int = Field(ge=1, le=MAX_OUTPUT_TOKENS)
    mean: float | None = Field(default=None, gt=0, le=MAX_OUTPUT_TOKENS)
    """Centre of normal/lognormal (default: the middle of min..max)."""
    seed: int = Field(default=1, ge=0, lt=2**63)

    @model_validator(mode="after")
    def _range(self) -> OutputLength:
        if self.min > self.max:
            raise ValueError("min is larger than max")
        return self

    def draw(self, count: int) -> list[int]:
        """``count`` lengths, as ``SyntheticPrompts`` draws word counts (storage/data.py):
        uniform integers, a normal of σ = (max − min)/6, a lognormal of σ = 0.5; clipped."""
        return draw_lengths(self.distribution, self.min, self.max, self.mean, self.seed, count)

    def __str__(self) -> str:
        return f"{self.distribution} {self.min}..{self.max}"


def output_length(value: Any) -> Any:
    """A ``max_tokens`` table is an ``OutputLength``: validated here so a mistake in it gets its
    own message, not one per member of the union."""
    if not isinstance(value, dict):
        return value
    try:
        return OutputLength.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ValueError(f"{where}: {msg}" if where else msg) from None


def draw_lengths(
    distribution: str, lo: int, hi: int, mean: float | None, seed: int, count: int
) -> list[int]:
    """Seeded lengths in ``lo..hi`` from a distribution (the same every run)."""
    rng = random.Random(seed)
    centre = mean or (lo + hi) / 2
    out = []
    for _ in range(count):
        if distribution == "uniform":
            n = rng.randint(lo, hi)
        elif distribution == "normal":
            n = round(rng.gauss(centre, (hi - lo) / 6 or 1))
        else:
            n = round(rng.lognormvariate(math.log(centre), 0.5))
        out.append(min(hi, max(lo, n)))
    return out
