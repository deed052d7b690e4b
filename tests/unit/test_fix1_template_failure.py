"""A content template that fails to be made is only no template (review item 8): the content
chunk it was made of stays a content chunk, never MALFORMED."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from time import perf_counter

from loadtui.engine.client import read_stream
from loadtui.engine.protocols import ContentTemplate, OpenAIProtocol
from loadtui.metrics.histogram import Histogram
from loadtui.model.outcomes import Outcome
from loadtui.model.plan import TargetSpec
from loadtui.model.requests import RequestSpec

HEAD = '{"id":"c","model":"m","object":"chat.completion.chunk","choices":[{"index":0,'
TAIL = '"logprobs":null,"finish_reason":null}]}'


class _BrokenTemplate(OpenAIProtocol):
    """The OpenAI reader whose template maker trips (a shape it did not foresee)."""

    @staticmethod
    def content_template(data: bytes) -> ContentTemplate | None:
        raise ValueError("unforeseen shape")


async def _one_read(data: bytes) -> AsyncIterator[bytes]:
    yield data


def test_a_failing_template_leaves_the_content_chunks_content() -> None:
    spec = RequestSpec(kind="chat", stream=True)
    prep = OpenAIProtocol().prepare(spec, TargetSpec(model="m"), "http://127.0.0.1:1", None)
    prep = replace(prep, protocol=_BrokenTemplate())
    texts = [HEAD + '"delta":{"content":"' + t + '"},' + TAIL for t in ("a", "b", "c", "d")]
    data = b"".join(b"data: " + t.encode() + b"\n\n" for t in [*texts, "[DONE]"])
    out = Outcome(prep.label, perf_counter())
    itl = Histogram()
    done = asyncio.run(read_stream(_one_read(data), prep, out, itl))
    assert done and out.error is None and out.chunks == 4 and itl.count == 3
