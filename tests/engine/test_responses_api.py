"""The OpenAI Responses API (request kind ``responses``) over loopback against the mock: the
mock's stream is the documented event sequence, the engine's TTFT/ITL/tokens match the mock's
truth, and every fault lands in the same class as for chat.

Fault and capacity scenarios serve the mock's app in the test's own event loop (the classes are
the subject, not the timing); the timing test keeps real worker processes, as test_engine's."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest

from helpers import LATE_MS, drive
from loadtui.engine.client import execute
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.mix import RequestMix
from loadtui.engine.sse import SSEParser
from loadtui.engine.wire import Wire
from loadtui.metrics.stats import Recorder
from loadtui.mock import build_app
from loadtui.mock.servers import serve_app
from loadtui.model.plan import MockSpec, RunConfig

pytestmark = pytest.mark.integration  # every test here starts processes or servers

SEQUENCE = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 8,
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
"""The documented order, for the conftest mock's 8 tokens."""


def events(text: str) -> list[tuple[str | None, dict]]:
    parsed = SSEParser().feed(text.encode())
    return [(name, json.loads(data)) for name, data in parsed]


def test_the_stream_is_the_documented_event_sequence(mock):
    body = {"model": "m", "input": "one two three", "instructions": "be brief", "stream": True}
    answer = httpx.post(mock.url + "/v1/responses", json=body, timeout=10)
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    assert "[DONE]" not in answer.text  # the terminal event ends the stream
    got = events(answer.text)
    assert [name for name, _ in got] == SEQUENCE
    assert all(obj["type"] == name for name, obj in got)  # the data repeats the event's name
    assert [obj["sequence_number"] for _, obj in got] == list(range(len(SEQUENCE)))
    text = "".join(obj["delta"] for name, obj in got if name == "response.output_text.delta")
    final = got[-1][1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0] == {
        "type": "output_text",
        "text": text,
        "annotations": [],
    }
    assert got[-4][1]["text"] == text
    assert final["usage"]["output_tokens"] == 8 and final["usage"]["input_tokens"] == 5
    assert final["usage"]["total_tokens"] == 13


def test_max_output_tokens_ends_the_answer_incomplete_and_whole_answers(mock):
    body = {"model": "m", "input": [{"role": "user", "content": "hi there"}]}
    with httpx.Client(base_url=mock.url, timeout=10) as client:
        capped = client.post("/v1/responses", json={**body, "stream": True, "max_output_tokens": 3})
        whole = client.post("/v1/responses", json=body).json()
        bad = client.post("/v1/responses", json={"model": "m"})
    got = events(capped.text)
    assert [name for name, _ in got].count("response.output_text.delta") == 3
    assert got[-1][0] == "response.incomplete"
    final = got[-1][1]["response"]
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["usage"]["output_tokens"] == 3
    assert [obj["sequence_number"] for _, obj in got] == list(range(len(got)))
    assert (whole["object"], whole["status"]) == ("response", "completed")
    assert whole["output"][0]["content"][0]["text"] == "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 "
    assert whole["usage"] == {**whole["usage"], "input_tokens": 2, "output_tokens": 8}
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    assert mock.stats()["by_path"] == {"/v1/responses": 3}


def test_streamed_ttft_itl_and_tokens_match_the_mock_truth(mock):
    cfg = RunConfig(
        load={"mode": "closed", "users": 5, "duration": "1.5s"},
        requests=[{"kind": "responses", "prompt": "three words here"}],
        workers=1,
    )
    s = drive(cfg, mock.url).result().summary
    m = s.metrics
    assert s.errors_total == 0 and s.requests == mock.stats()["served"] > 20
    # mock truth: TTFT 50 ms, 10 ms between deltas, 8 deltas; the four events before the first
    # delta come at once (~0 ms), so TTFT at the first delta is the only way to read >= 49
    assert 49.0 <= m.ttft_ms.p50 <= 50.0 + LATE_MS
    assert m.itl_ms.count == 7 * m.ttft_ms.count  # gaps between deltas only, not the tail
    assert 9.0 <= m.itl_ms.p50 <= 10.0 + LATE_MS
    assert m.latency_ms.p50 >= 50.0 + 7 * 10.0 - 1.0
    # tokens from response.completed's usage, never deltas counted
    assert s.token_source.counted_chunks == 0 and s.token_source.usage == s.ok
    assert s.output_tokens == 8 * s.ok and s.input_tokens == 3 * s.ok


def test_whole_and_capped_answers_in_a_mix_with_checks(mock):
    whole = {"kind": "responses", "stream": False, "name": "whole"}
    capped = {"kind": "responses", "max_tokens": 5, "name": "capped"}
    cfg = RunConfig(
        load={"mode": "closed", "users": 3, "duration": "1.5s"},
        requests=[
            {**whole, "checks": [{"json_field": "output"}, {"json_field": "usage.output_tokens"}]},
            {**capped, "checks": [{"json_field": "response.usage.output_tokens"}]},
            {"kind": "chat"},
        ],
        workers=1,
    )
    s = drive(cfg, mock.url, pool=InProcessPool()).result().summary
    assert s.errors_total == 0  # an answer cut by its own max_output_tokens ended normally
    n = {label: row.requests for label, row in s.by_label.items()}
    assert set(n) == {"whole", "capped", "chat stream"} and min(n.values()) > 0
    assert s.output_tokens == 8 * n["whole"] + 5 * n["capped"] + 8 * n["chat stream"]
    assert s.by_label["whole"].ttft_ms.count == 0  # read whole: latency only
    assert s.by_label["whole"].latency_ms.p50 >= 20.0 - 1.0  # the mock's latency
    assert s.by_label["capped"].ttft_ms.p50 >= 49.0
    assert len(s.checks) == 3
    assert all(c.failed == 0 and c.passed > 0 for c in s.checks.values())


@contextlib.asynccontextmanager
async def serving(settings: MockSpec) -> AsyncIterator[str]:
    """The mock's app on a loopback port of this event loop."""
    stop = asyncio.Event()
    ports: list[int] = []
    server = asyncio.ensure_future(serve_app(build_app(settings), on_ready=ports.append, stop=stop))
    while not ports:
        await asyncio.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{ports[0]}"
    finally:
        stop.set()
        await server


KINDS = [("chat", True), ("chat", False), ("responses", True), ("responses", False)]


async def classes_under(fault: str) -> dict[tuple[str, bool], dict[str, int]]:
    """The error classes one request of each kind, streamed and not, is counted in."""
    settings = MockSpec(latency=0, ttft=0.002, itl=0.001, tokens=4, slow_headers=2.0)
    settings = settings.model_copy(update={"faults": {fault: 1.0}})
    cfg = RunConfig(requests=[{"kind": kind, "stream": stream} for kind, stream in KINDS])
    async with serving(settings) as url:
        mix = RequestMix(cfg, url, None)
        recorders = [Recorder() for _ in KINDS]
        # a short timeout only where the fault waits for it: others answer however busy we are
        wire = Wire(timeout=0.5 if fault in ("stall", "slow_headers") else 30)
        try:
            await asyncio.gather(
                *(execute(wire, mix.variants[i][0][0], rec) for i, rec in enumerate(recorders))
            )
        finally:
            wire.close()
    return {kind: rec.errors for kind, rec in zip(KINDS, recorders, strict=True)}


FAULTS = {
    "http_400": "http_4xx",
    "http_429": "http_429",
    "http_500": "http_5xx",
    "http_529": "http_529",
    "reset": "reset",
    "malformed": "malformed",
    "stream_error": "stream_error",
    "stall": "timeout",
    "slow_headers": "timeout",
}


def test_each_fault_is_counted_in_the_same_class_as_for_chat():
    async def every_fault() -> list[dict[tuple[str, bool], dict[str, int]]]:
        return await asyncio.gather(*(classes_under(fault) for fault in FAULTS))

    for (fault, error_class), got in zip(FAULTS.items(), asyncio.run(every_fault()), strict=True):
        assert got == {key: {error_class: 1} for key in KINDS}, fault


def test_the_capacity_model_gates_responses():
    async def two_at_once() -> list[int]:
        settings = MockSpec(latency=0.5, ttft=0.5, itl=0, tokens=2, slots=1, max_queue=0)
        async with serving(settings) as url, aiohttp.ClientSession() as session:
            body = {"model": "m", "input": "hi", "stream": True}

            async def one() -> int:
                async with session.post(url + "/v1/responses", json=body) as resp:
                    await resp.read()
                    return resp.status

            return sorted(await asyncio.gather(one(), one()))

    assert asyncio.run(two_at_once()) == [200, 429]  # one slot, no queue: the second refused


def test_each_answer_names_its_request():
    async def recorded() -> tuple[str, dict, list[dict]]:
        settings = MockSpec(ttft=0, itl=0, latency=0, tokens=2, record=4)
        async with serving(settings) as url, aiohttp.ClientSession() as session:
            body = {"model": "m", "input": "hi"}
            async with session.post(url + "/v1/responses", json=body) as resp:
                whole = await resp.json()
            async with session.post(url + "/v1/responses", json={**body, "stream": True}) as resp:
                streamed = await resp.text()
            async with session.get(url + "/mock/received") as resp:
                return streamed, whole, await resp.json()

    streamed, whole, received = asyncio.run(recorded())
    assert whole["output"][0]["content"][0]["text"] == f"#{received[0]['n']} tok0 tok1 "
    assert f'"delta":"#{received[1]["n"]} tok0 "' in streamed
