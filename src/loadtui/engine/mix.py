"""The request mix: which pre-built request a user sends next.

Weights become one round of a smooth weighted round-robin (weights 3, 3, 2, 1 → a 9-request
round with each kind spread out, not bunched), the same every run so a replay sends the same
mix. Each request kind has its variants — one per prompt of the prompt data — prepared before
the run; a kind's variants are used in turn. In overhead mode every variant is a pair (direct,
proxied), sent back to back with the order alternating, so both halves see the same conditions.
"""

from __future__ import annotations

from dataclasses import replace

from loadtui.engine.anthropic import AnthropicProtocol
from loadtui.engine.protocols import OpenAIProtocol, Prepared, Prompt, shaped_headers
from loadtui.engine.responses import ResponsesProtocol
from loadtui.model.plan import RunConfig
from loadtui.model.requests import RequestSpec
from loadtui.model.shaping import OutputLength
from loadtui.model.workflows import BatchInput

__all__ = ["OUTPUT_VARIANTS", "RequestMix", "protocol_of", "weighted_order", "with_lengths"]

_PROMPTED = ("chat", "completion", "messages", "embedding", "responses")
OUTPUT_VARIANTS = 64
"""Variants prepared for a request whose max_tokens is a distribution (at least; more when the
prompt data has more prompts): one draw each, used in turn."""


def with_lengths(
    spec: RequestSpec, texts: list[Prompt | None]
) -> list[tuple[Prompt | None, RequestSpec]]:
    """(prompt, spec) of each variant: a max_tokens distribution is drawn here, before the run,
    so the hot path still sends pre-built bytes (and a replay draws the same lengths)."""
    if not isinstance(spec.max_tokens, OutputLength):
        return [(prompt, spec) for prompt in texts]
    lengths = spec.max_tokens.draw(max(OUTPUT_VARIANTS, len(texts)))
    return [
        (texts[i % len(texts)], spec.model_copy(update={"max_tokens": n}))
        for i, n in enumerate(lengths)
    ]


def weighted_order(weights: list[int]) -> list[int]:
    """Smooth weighted round-robin (as nginx does it): one round, indices spread evenly."""
    current = [0] * len(weights)
    total = sum(weights)
    order = []
    for _ in range(total):
        for i, w in enumerate(weights):
            current[i] += w
        best = max(range(len(weights)), key=lambda i: current[i])
        current[best] -= total
        order.append(best)
    return order


class RequestMix:
    def __init__(
        self,
        config: RunConfig,
        base_url: str,
        api_key: str | None,
        prompts: list[Prompt] | None = None,
        direct_url: str | None = None,
        batch: BatchInput | None = None,
    ) -> None:
        self.order = weighted_order([r.weight for r in config.requests])
        self.variants: list[list[tuple[Prepared, ...]]] = []
        for spec in config.requests:
            self.variants.append(
                self._variants(spec, config, base_url, api_key, prompts, direct_url, batch)
            )
        self.used = [0] * len(config.requests)
        labels = {p.label for variants in self.variants for turn in variants for p in turn}
        if len(labels) == 1:  # one kind of request: per-label stats would repeat the totals
            self.variants = [
                [tuple(replace(p, label="") for p in turn) for turn in variants]
                for variants in self.variants
            ]

    @staticmethod
    def _variants(
        spec: RequestSpec,
        config: RunConfig,
        base_url: str,
        api_key: str | None,
        prompts: list[Prompt] | None,
        direct_url: str | None,
        batch: BatchInput | None,
    ) -> list[tuple[Prepared, ...]]:
        if spec.kind == "batch":
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            shaped_headers(headers, spec, config.target)
            extra = (batch, config.batch)
            return [
                (
                    Prepared(
                        "POST",
                        base_url,
                        headers,
                        None,
                        False,
                        "batch",
                        "batch job",
                        None,
                        extra=extra,
                        max_body=config.target.max_body_bytes,
                    ),
                )
            ]
        protocol = protocol_of(spec.kind)
        texts: list[Prompt | None] = list(prompts) if prompts and spec.kind in _PROMPTED else [None]
        out: list[tuple[Prepared, ...]] = []
        for prompt, one in with_lengths(spec, texts):
            proxied = protocol.prepare(one, config.target, base_url, api_key, prompt)
            if direct_url is None:
                out.append((proxied,))
                continue
            direct = protocol.prepare(one, config.target, direct_url, api_key, prompt)
            out.append((replace(direct, label="direct"), replace(proxied, label="proxied")))
        return out

    def next_round(self, i: int) -> tuple[Prepared, ...]:
        """The request(s) for a user's ``i``-th turn (two in overhead mode)."""
        k = self.order[i % len(self.order)]
        use = self.used[k]
        self.used[k] = use + 1
        variants = self.variants[k]
        pair = variants[use % len(variants)]
        return pair if use % 2 == 0 or len(pair) == 1 else pair[::-1]

    @property
    def first(self) -> Prepared:
        """The first request of the mix (the burst pre-flight and burst requests use it)."""
        return self.variants[self.order[0]][0][-1]


def protocol_of(kind: str) -> OpenAIProtocol | AnthropicProtocol | ResponsesProtocol:
    """The wire protocol of a request kind (OpenAI's chat completions and the rest by default)."""
    if kind == "messages":
        return AnthropicProtocol()
    return ResponsesProtocol() if kind == "responses" else OpenAIProtocol()
