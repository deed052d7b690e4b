"""The mock's record of what it received (``record=N``): the server's view that tests of
request shaping read — bodies, headers, arrival times, and answers that name their request."""

from __future__ import annotations

import httpx
import pytest

from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec


@pytest.fixture(scope="module")
def recording():
    with MockProcess(MockSpec(record=3, ttft=0.0, itl=0.0, latency=0.0, tokens=3)) as mock:
        yield mock


def test_the_last_requests_are_kept_with_their_bodies_headers_and_times(recording):
    with httpx.Client(base_url=recording.url) as client:
        client.post("/mock/reset")
        for k in range(4):
            body = {"model": "m", "messages": [{"role": "user", "content": f"q{k}"}]}
            client.post("/v1/chat/completions", json=body, headers={"X-Trial": str(k)})
        client.post("/v1/completions", content=b"not json", headers={"X-Trial": "raw"})
        got = recording.received()
    assert [r["headers"]["X-Trial"] for r in got] == ["2", "3", "raw"]  # the last 3
    assert [r["body"]["messages"][0]["content"] for r in got[:2]] == ["q2", "q3"]
    assert got[2]["body"] is None and got[2]["text"] == "not json"
    assert [r["n"] for r in got] == [3, 4, 5]
    assert got[0]["t"] <= got[1]["t"] <= got[2]["t"] and got[0]["path"] == "/v1/chat/completions"


def test_each_text_answer_names_its_request(recording):
    with httpx.Client(base_url=recording.url) as client:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        whole = client.post("/v1/chat/completions", json=body).json()
        streamed = client.post("/v1/chat/completions", json={**body, "stream": True}).text
        n = recording.received()[-1]["n"]
    assert whole["choices"][0]["message"]["content"] == f"#{n - 1} tok0 tok1 tok2"
    assert f'"content":"#{n} tok0 "' in streamed


def test_off_by_default(mock):
    with httpx.Client(base_url=mock.url) as client:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        answer = client.post("/v1/chat/completions", json=body).json()
    assert mock.received() == []
    assert answer["choices"][0]["message"]["content"].startswith("tok0")
