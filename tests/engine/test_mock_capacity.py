"""The mock's capacity model over loopback: slots and their FIFO queue, the queue wait in TTFT,
refusals beyond ``max_queue``, prefill time, a shared decode budget, a client that leaves while
queued, and the closed-loop throughput a user can compute by hand (docs/mock.md).

Two mocks serve the whole module. Times are held to the mock's truth exactly from below (minus
the 1 ms its timers may fire early) and loosely from above (``LATE_MS``: a busy machine).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from functools import partial

import httpx
import pytest

from helpers import LATE_MS, drive
from loadtui.engine.inprocess import InProcessPool
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec, RunConfig

pytestmark = pytest.mark.integration  # every test here starts processes

# Mock A: 2 slots, a queue of 2. A one-word prompt takes 10 ms of prefill, then TTFT 50 ms,
# then 15 gaps of 10 ms: a service time of 210 ms, first token at 60 ms.
A = MockSpec(slots=2, max_queue=2, prefill_tps=100, decode_tps=100, ttft=0.05, itl=0.001, tokens=16)
A_FIRST_MS = 10 + 50
A_SERVICE_MS = 10 + 50 + 15 * 10
# Mock B: 4 slots, no queue (refused with 503), a shared budget of 100 tokens/s over an own
# rate of 100 tokens/s (ITL 10 ms): one stream runs at 10 ms a token, four at 40 ms. Its TTFT
# of 200 ms lets four streams sent together all be running before any decodes; its prefill
# (1 s for the 100-word prompts that fill it) keeps them long enough to be seen.
B = MockSpec(
    slots=4,
    max_queue=0,
    queue_full_status=503,
    shared_decode_tps=100,
    prefill_tps=100,
    ttft=0.2,
    itl=0.01,
    tokens=12,
)


@pytest.fixture(scope="module")
def mock_a() -> Iterator[MockProcess]:
    with MockProcess(A) as mock:
        yield mock


@pytest.fixture(scope="module")
def mock_b() -> Iterator[MockProcess]:
    with MockProcess(B) as mock:
        yield mock


def _load(mock: MockProcess) -> dict:
    capacity: dict = mock.stats()["capacity"]
    return capacity


def _wait_for(mock: MockProcess, timeout: float = 10.0, **expected: int) -> None:
    """Poll the mock's counters until they show ``expected`` (e.g. running=2, queued=2)."""
    deadline = time.monotonic() + timeout
    while True:
        load = _load(mock)
        if all(load[k] == v for k, v in expected.items()):
            return
        assert time.monotonic() < deadline, f"mock never reached {expected}: {load}"
        time.sleep(0.005)


def _chat(words: int = 1, stream: bool = True) -> dict:
    content = " ".join(["w"] * words)
    return {"model": "m", "stream": stream, "messages": [{"role": "user", "content": content}]}


async def _stream(client: httpx.AsyncClient, url: str, t0: float, body: dict) -> dict:
    """One streamed chat: status, first content chunk and each chunk's time (ms from t0)."""
    times: list[float] = []
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as resp:
        async for line in resp.aiter_lines():
            if line.startswith("data:") and '"content":"tok' in line:
                times.append((time.perf_counter() - t0) * 1000)
        return {"status": resp.status_code, "times": times, "headers": resp.headers}


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=None))


async def _concurrently(url: str, bodies: list[dict]) -> list[dict]:
    async with _client() as client:
        t0 = time.perf_counter()
        return list(await asyncio.gather(*(_stream(client, url, t0, b) for b in bodies)))


def test_requests_beyond_the_slots_wait_and_the_wait_is_in_their_ttft(mock_a):
    answers = asyncio.run(_concurrently(mock_a.url, [_chat()] * 4))
    assert [a["status"] for a in answers] == [200] * 4
    first = sorted(a["times"][0] for a in answers)
    # two are served at once; two wait one whole service time for a slot: every answer's times
    # count from before the first was sent, so nothing can beat these bounds
    assert all(t >= A_FIRST_MS - 1 for t in first[:2])
    for waited in first[2:]:
        assert A_SERVICE_MS + A_FIRST_MS - 1 <= waited <= A_SERVICE_MS + A_FIRST_MS + 2 * LATE_MS
    _wait_for(mock_a, running=0, queued=0)


async def _whole_after_whole_holders(url: str, mock: MockProcess) -> float:
    """Two non-streamed holders (100-word prompts: 1 s of prefill) take the slots, then one
    more non-streamed request: when it ends (ms from before the holders were sent)."""
    async with _client() as client:
        t0 = time.perf_counter()
        post = partial(client.post, url + "/v1/chat/completions")
        slow = _chat(words=100, stream=False)
        holders = [asyncio.create_task(post(json=slow)) for _ in range(2)]
        await asyncio.to_thread(_wait_for, mock, running=2)
        waiter = await post(json=_chat(stream=False))
        assert waiter.status_code == 200 and waiter.json()["choices"][0]["message"]["content"]
        ended = (time.perf_counter() - t0) * 1000
        assert all(r.status_code == 200 for r in await asyncio.gather(*holders))
        return ended


def test_whole_answers_hold_slots_and_their_wait_is_in_their_latency(mock_a):
    # a whole answer takes prefill + latency + 15 gaps: 1000 + 50 + 150 ms for a holder, then
    # 10 + 50 + 150 ms for the waiter, which ends after both
    ended = asyncio.run(_whole_after_whole_holders(mock_a.url, mock_a))
    truth = 1000 + 50 + 150 + A_SERVICE_MS
    assert truth - 1 <= ended <= truth + 2 * LATE_MS
    _wait_for(mock_a, running=0, queued=0)


def test_prefill_time_is_prompt_tokens_over_prefill_tps(mock_a):
    answers = asyncio.run(_concurrently(mock_a.url, [_chat(words=50)]))
    # 50 prompt words at 100 tokens/s: 500 ms before the 50 ms TTFT
    assert 550 - 1 <= answers[0]["times"][0] <= 550 + LATE_MS
    _wait_for(mock_a, running=0, queued=0)


async def _fill_then_refused(mock: MockProcess, holders: int, queued: int) -> list[tuple]:
    """Fill the slots (100-word prompts: slow prefill) and the queue, then send a chat and a
    messages request: each answer and how long it took (ms)."""
    async with _client() as client:
        t0 = time.perf_counter()
        # the holders first, so none of the queued (short) ones can take their slots
        tasks = [
            asyncio.create_task(_stream(client, mock.url, t0, _chat(words=100)))
            for _ in range(holders)
        ]
        await asyncio.to_thread(_wait_for, mock, running=holders)
        tasks += [
            asyncio.create_task(_stream(client, mock.url, t0, _chat())) for _ in range(queued)
        ]
        await asyncio.to_thread(_wait_for, mock, running=holders, queued=queued)
        extras = []
        for path, body in (("/v1/chat/completions", _chat()), ("/v1/messages", _messages())):
            sent = time.perf_counter()
            answer = await client.post(
                mock.url + path, json=body, headers={"anthropic-version": "2023-06-01"}
            )
            extras.append((answer, (time.perf_counter() - sent) * 1000))
        await asyncio.gather(*tasks)
        return extras


def _messages() -> dict:
    return {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def test_a_full_queue_refuses_at_once_with_429(mock_a):
    refused_before = _load(mock_a)["refused"]
    # holders with 100-word prompts keep both slots 1 s in prefill: long enough to see it
    (chat, chat_ms), (messages, messages_ms) = asyncio.run(_fill_then_refused(mock_a, 2, 2))
    for answer, took in ((chat, chat_ms), (messages, messages_ms)):
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "1"
        assert took < 500  # at once, not after a slot freed (the holders hold theirs >= 1 s)
    assert chat.json()["error"]["code"] == "rate_limit_exceeded"  # OpenAI's shape
    assert messages.json()["error"]["type"] == "rate_limit_error"  # Anthropic's
    _wait_for(mock_a, running=0, queued=0)
    assert _load(mock_a)["refused"] == refused_before + 2


def test_no_queue_refuses_with_the_configured_503(mock_b):
    (chat, _), (messages, _) = asyncio.run(_fill_then_refused(mock_b, 4, 0))
    assert chat.status_code == messages.status_code == 503
    assert chat.headers["Retry-After"] == messages.headers["Retry-After"] == "1"
    assert chat.json()["error"]["message"] == "mock queue is full"
    assert messages.json()["error"]["type"] == "overloaded_error"
    _wait_for(mock_b, running=0, queued=0)


def _mean_gap(times: list[float]) -> float:
    return (times[-1] - times[0]) / (len(times) - 1)


def test_a_shared_decode_budget_slows_every_stream_as_more_run(mock_b):
    alone = asyncio.run(_concurrently(mock_b.url, [_chat()]))[0]["times"]
    four = asyncio.run(_concurrently(mock_b.url, [_chat()] * 4))
    assert len(alone) == 12 and all(len(a["times"]) == 12 for a in four)
    # alone: min(100, 100/1) tokens/s = 10 ms a token; four running: 100/4 = 25/s = 40 ms.
    # The last token can never beat the schedule; a late first one shortens the mean gap.
    assert alone[-1] >= 10 + 200 + 11 * 10 - 1
    assert _mean_gap(alone) <= 10 + LATE_MS / 11
    for answer in four:
        # each gap is read when the previous token leaves: all four run for every gap unless
        # a stream arrived > 200 ms after another (then its gaps are still >= 3 running's)
        assert answer["times"][-1] >= 10 + 200 + 11 * 30 - 1
        assert 25 <= _mean_gap(answer["times"]) <= 40 + LATE_MS / 11
    _wait_for(mock_b, running=0, queued=0)


def _raw_request(body: dict) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _leave_while_queued(mock: MockProcess) -> None:
    host, port = mock.url.removeprefix("http://").split(":")
    held = []
    for _ in range(2):  # two 1 s holders fill both slots
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(_raw_request(_chat(words=100)))
        held.append(writer)
    await asyncio.to_thread(_wait_for, mock, running=2)
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(_raw_request(_chat()))
    await asyncio.to_thread(_wait_for, mock, queued=1)
    writer.close()  # the queued client leaves
    await asyncio.to_thread(_wait_for, mock, running=2, queued=0)
    for w in held:  # so do the running ones: their slots come back too
        w.close()


def test_a_client_that_leaves_frees_its_place_and_its_slot(mock_a):
    asyncio.run(_leave_while_queued(mock_a))
    _wait_for(mock_a, running=0, queued=0)
    # nothing leaked: two new requests are both served at once
    answers = asyncio.run(_concurrently(mock_a.url, [_chat()] * 2))
    assert all(A_FIRST_MS - 1 <= a["times"][0] <= A_FIRST_MS + LATE_MS for a in answers)


def test_closed_loop_throughput_is_slots_over_the_service_time(mock_a):
    # users = 2 x slots keeps a request waiting for every slot, so a slot never idles while a
    # client turns around: throughput = slots / service time = 2 / 0.21 s = 9.5/s
    cfg = RunConfig(
        load={"mode": "closed", "users": 4, "duration": "3s"},
        requests=[{"kind": "chat", "stream": True, "prompt": "hi", "max_tokens": 64}],
        workers=1,
    )
    summary = drive(cfg, mock_a.url, pool=InProcessPool()).result().summary
    assert summary.errors_total == 0
    expected = 2 / (A_SERVICE_MS / 1000)
    assert expected * 0.85 <= summary.rps <= expected * 1.15, summary.rps
    # the queue shows in TTFT: half the requests waited a whole service time for a slot
    assert summary.metrics.ttft_ms.p95 >= A_SERVICE_MS + A_FIRST_MS - 1
    _wait_for(mock_a, running=0, queued=0)
