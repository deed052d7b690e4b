"""Error samples: the first few failed responses of each error class, kept as examples.

A count says *that* a run met 500s; a sample says what the server answered (its status,
headers and the start of its body). Each worker keeps at most ``SAMPLES_PER_CLASS`` per class
for the whole run (``SampleBook``: bounded memory, and a request that succeeded pays nothing),
hands each one up once in a snapshot, and the coordinator keeps the earliest
``SAMPLES_PER_CLASS`` per class over all workers (``merge_samples``). Secrets are the run
service's business: it redacts the merged samples before they reach the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from loadtui.model.record import ErrorSample

__all__ = [
    "BODY_BYTES",
    "HEADER_CHARS",
    "HIDDEN_HEADERS",
    "SAMPLES_PER_CLASS",
    "SampleBook",
    "merge_samples",
    "sample_body",
    "sample_headers",
]

SAMPLES_PER_CLASS = 3
"""Samples kept per error class, per worker and for the run."""
BODY_BYTES = 4096
"""A sample's body is cut to this many bytes (``body_truncated`` says so)."""
HEADER_CHARS = 512
"""A header value is cut to this many characters; at most ``_HEADERS_MAX`` headers are kept."""
_HEADERS_MAX = 64
HIDDEN_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
    }
)
"""Headers never kept: they carry credentials or session tokens whatever their value."""


def sample_headers(headers: Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """The response headers worth showing: credentials dropped, values and count bounded."""
    kept: dict[str, str] = {}
    for name, value in headers or ():
        if name.lower() in HIDDEN_HEADERS:
            continue
        kept[name] = value[:HEADER_CHARS]
        if len(kept) >= _HEADERS_MAX:
            break
    return kept


def sample_body(data: bytes | None) -> tuple[str, bool]:
    """The body as text, cut to ``BODY_BYTES`` (bytes that are not UTF-8 shown as U+FFFD), and
    whether it was cut."""
    if not data:
        return "", False
    return data[:BODY_BYTES].decode("utf-8", errors="replace"), len(data) > BODY_BYTES


class SampleBook:
    """A worker's samples: at most ``SAMPLES_PER_CLASS`` per class over the whole run.

    ``wants`` is the only call a failed request pays when its class is full; ``drain`` hands
    the new ones to the next snapshot (each sample goes up once)."""

    __slots__ = ("fresh", "secrets", "t0", "taken")

    def __init__(self) -> None:
        self.secrets: tuple[str, ...] = ()
        """The run's key and URL credentials, replaced by ``***`` in what is kept (the run
        service redacts again with every secret it knows: a minted key, say)."""
        self.taken: dict[str, int] = {}
        self.fresh: list[ErrorSample] = []
        self.t0 = 0.0
        """The run's start (``perf_counter``), set when the worker starts: ``at_s`` is from it."""

    def wants(self, error_class: str) -> bool:
        return self.taken.get(error_class, 0) < SAMPLES_PER_CLASS

    def add(
        self,
        error_class: str,
        at: float,
        status: int | None,
        label: str,
        reason: str | None,
        headers: Iterable[tuple[str, str]] | None,
        body: bytes | None,
    ) -> None:
        """Keep one failed response (``at``: its send time, a ``perf_counter`` reading)."""
        self.taken[error_class] = self.taken.get(error_class, 0) + 1
        text, cut = sample_body(body)
        hide = self._hide
        self.fresh.append(
            ErrorSample(
                error_class=error_class,
                # the loop's timer may wake a few µs before the start it waited for
                at_s=round(max(at - self.t0, 0.0), 6),
                status=status,
                label=label or None,
                reason=None if reason is None else hide(reason),
                headers={hide(k): hide(v) for k, v in sample_headers(headers).items()},
                body=hide(text),
                body_truncated=cut,
            )
        )

    def _hide(self, text: str) -> str:
        for secret in self.secrets:
            while secret in text:
                text = text.replace(secret, "***")
        return text

    def drain(self) -> list[ErrorSample]:
        fresh, self.fresh = self.fresh, []
        return fresh


def merge_samples(
    kept: Mapping[str, list[ErrorSample]], new: Iterable[ErrorSample]
) -> dict[str, list[ErrorSample]]:
    """``kept`` with ``new`` added: per class the earliest ``SAMPLES_PER_CLASS`` by ``at_s``."""
    merged = {cls: list(samples) for cls, samples in kept.items()}
    for sample in new:
        merged.setdefault(sample.error_class, []).append(sample)
    return {
        cls: sorted(samples, key=lambda s: s.at_s)[:SAMPLES_PER_CLASS]
        for cls, samples in merged.items()
    }
