"""Multi-turn conversations over loopback, judged by what the mock received (``record=N``):
turn k carries the k−1 answers the server sent to that conversation's earlier turns, in
order, and k user messages; the system prompt is everyone's, the prefix each user's own;
a file's user turns are sent in order; figures come per turn (labels ``turn k``)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import httpx
import pytest

from helpers import drive
from loadtui.engine.anthropic import messages_text
from loadtui.engine.conversation import Conversation, Conversations
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.mix import RequestMix
from loadtui.engine.protocols import Prepared, chat_text
from loadtui.errors import ConfigError
from loadtui.mock import MockProcess
from loadtui.model.conversation import turn_label
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.record import RunSummary
from loadtui.model.thresholds import judge, run_labels
from loadtui.storage.conversations import load_conversations

TAG = re.compile(r"#(\d+) ")
STREAMED = "tok0 tok1 tok2 tok3 "
"""What the mock streams after its tag (4 tokens): the answer as the client joined it."""


@pytest.fixture(scope="module")
def recording():
    spec = MockSpec(record=5000, latency=0.0, ttft=0.005, itl=0.001, tokens=4)
    with MockProcess(spec) as mock:
        yield mock


def _run(mock: MockProcess, duration: float = 1.2, **config: Any) -> tuple[Any, list[dict]]:
    httpx.post(mock.url + "/mock/reset", timeout=5.0)
    data = config.pop("data", {})
    cfg = RunConfig.model_validate(
        {"load": {"users": 3, "duration": duration}, "workers": 1, **config}
    )
    result = drive(cfg, mock.url, pool=InProcessPool(), **data).result()
    received = [r for r in mock.received() if r["path"].endswith(("/completions", "/messages"))]
    return result, received


def _said(body: dict, role: str) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == role]


def _history_holds_earlier_answers(received: list[dict], answer_tail: str) -> int:
    """Each turn k > 1 ends its history with the answer the mock gave to the same
    conversation's turn k−1 — the request whose messages are this one's minus the last two —
    as the client received it; returns how many turns were checked."""
    by_n = {r["n"]: r for r in received}
    checked = 0
    for r in received:
        body = r["body"]
        answers = _said(body, "assistant")
        assert len(answers) == len(_said(body, "user")) - 1
        if not answers:
            continue
        tags = [int(TAG.match(a).group(1)) for a in answers]  # type: ignore[union-attr]
        assert tags == sorted(tags) and tags[-1] < r["n"]
        assert answers[-1] == f"#{tags[-1]} {answer_tail}"
        earlier = by_n.get(tags[-1])
        if earlier is not None:  # not recorded only if it was before the reset
            assert earlier["body"]["messages"] == body["messages"][:-2]
            checked += 1
    return checked


def test_each_turn_resends_the_history_with_the_answers_streamed_back(recording):
    result, received = _run(
        recording,
        conversation={"turns": 3, "system": "You are terse.", "user_prefix_words": 6},
        requests=[{"kind": "chat", "prompt": "Say hi.", "max_tokens": 4}],
    )
    assert _history_holds_earlier_answers(received, STREAMED) >= 6
    turns = {}
    prefixes: dict[int, set[str]] = {}
    for r in received:
        body = r["body"]
        users = _said(body, "user")
        k = len(users)
        assert 1 <= k <= 3
        prefix, _, first = users[0].partition("\n\n")
        assert [first, *users[1:]] == [f"Turn {i}: Say hi." for i in range(1, k + 1)]
        assert _said(body, "system") == ["You are terse."]
        assert body["messages"][0] == {"role": "system", "content": "You are terse."}
        uid = int(re.match(r"\[user (\d+)\] ", users[0]).group(1))  # type: ignore[union-attr]
        prefixes.setdefault(uid, set()).add(prefix)
        turns[k] = turns.get(k, 0) + 1
    assert set(prefixes) == {0, 1, 2}
    assert all(len(p) == 1 for p in prefixes.values())  # stable for a user
    assert len({p.pop().split("] ")[1] for p in prefixes.values()}) == 3  # differ between users
    labels = result.summary.by_label
    assert set(labels) <= {"turn 1", "turn 2", "turn 3"} and "turn 3" in labels
    for k in (1, 2, 3):
        row = labels[f"turn {k}"]
        assert 0 < row.requests <= turns[k] and row.errors == 0
        assert row.ttft_ms.count == row.requests


def test_conversations_from_a_file_send_its_user_turns_in_order(recording, tmp_path):
    lines = [
        {
            "messages": [
                {"role": "system", "content": "File system prompt."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "NOT SENT: the file's own answer"},
                {"role": "user", "content": "second question"},
                {"role": "user", "content": "third question"},
            ]
        },
        {
            "conversations": [
                {"from": "human", "value": "sharegpt one"},
                {"from": "gpt", "value": "NOT SENT either"},
                {"from": "human", "value": "sharegpt two"},
            ]
        },
    ]
    path = tmp_path / "talks.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    conversation = {"file": str(path), "system": "Default system."}
    scripts = load_conversations(RunConfig(conversation=conversation).conversation)
    assert scripts is not None and [len(s.users) for s in scripts] == [3, 2]
    result, received = _run(
        recording,
        duration=0.8,
        conversation=conversation,
        requests=[{"kind": "chat", "stream": False, "max_tokens": 4}],
        data={"conversations": scripts},
    )
    assert _history_holds_earlier_answers(received, "tok0 tok1 tok2 tok3") >= 2
    seen = set()
    for r in received:
        body = r["body"]
        users, system = _said(body, "user"), _said(body, "system")
        assert "NOT SENT" not in json.dumps(body)
        script = scripts[0] if users[0] == "first question" else scripts[1]
        assert users == list(script.users[: len(users)])
        assert system == ["File system prompt." if script is scripts[0] else "Default system."]
        seen.add(users[-1])
    assert seen == {"first question", "second question", "third question", "sharegpt one"} | {
        "sharegpt two"
    }
    assert {"turn 1", "turn 2", "turn 3"} == set(result.summary.by_label)


def test_anthropic_messages_conversations_carry_the_streamed_text(recording):
    result, received = _run(
        recording,
        duration=0.8,
        conversation={"turns": 2, "system": "Be brief."},
        requests=[{"kind": "messages", "max_tokens": 4}],
    )
    assert _history_holds_earlier_answers(received, STREAMED) >= 2
    assert all(r["body"]["system"] == "Be brief." for r in received)
    assert result.summary.by_label["turn 2"].ttft_ms.count > 0


def test_a_failed_turn_ends_its_conversation_and_the_next_starts_fresh():
    spec = MockSpec(record=5000, latency=0.0, ttft=0.005, itl=0.001, tokens=4)
    with MockProcess(spec.model_copy(update={"faults": {"http_500": 0.25}})) as mock:
        result, received = _run(
            mock,
            duration=0.8,
            conversation={"turns": 4, "user_prefix_words": 2},
            requests=[{"kind": "chat"}],
        )
    tags = {int(TAG.match(a).group(1)) for r in received for a in _said(r["body"], "assistant")}  # type: ignore[union-attr]
    by_user: dict[str, list[dict]] = {}
    for r in received:
        by_user.setdefault(_said(r["body"], "user")[0].split("\n\n")[0], []).append(r)
    restarts = 0
    for asked in by_user.values():
        asked.sort(key=lambda r: r["n"])  # one request in flight per user: in sending order
        for a, b in itertools.pairwise(asked):
            ka, kb = len(_said(a["body"], "user")), len(_said(b["body"], "user"))
            if kb > 1:  # a continuation of the request before it, which was answered
                assert kb == ka + 1 and b["body"]["messages"][:-2] == a["body"]["messages"]
            elif ka < 4:  # a fresh conversation before the last turn: the one before failed
                assert a["n"] not in tags
                restarts += 1
    assert restarts > 0
    assert result.summary.by_label["turn 1"].errors > 0


def test_turns_past_twenty_share_one_label():
    assert [turn_label(k) for k in (1, 19, 20, 21, 500)] == [
        "turn 1",
        "turn 19",
        "turn 20+",
        "turn 20+",
        "turn 20+",
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"load": {"mode": "open", "rate": 5}}, "closed-loop users"),
        ({"load": {"mode": "burst"}}, "closed-loop users"),
        ({"requests": [{"kind": "embedding"}]}, "this mix has embedding too"),
        ({"conversation": {"turns": "5-2"}}, "turns must be between 1 and 1000"),
        ({"conversation": {"turns": "two"}}, "a range like 2-6"),
    ],
)
def test_settings_a_conversation_cannot_have_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        RunConfig.model_validate({"conversation": {}, **config})


def test_a_bad_line_of_a_conversation_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "ok"}]}\n{"messages": []}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: a conversation with no user turn"):
        load_conversations(RunConfig(conversation={"file": str(path)}).conversation)


def test_a_conversation_unanswered_ends():
    talk = Conversation(3, None, "")
    prep = Prepared("POST", "http://127.0.0.1:1/", body=b'{"messages": []}', kind="chat")
    talk.answered(talk.request(prep, {"messages": []}), None)
    assert talk.done


@pytest.mark.parametrize(
    "event",
    [
        {"choices": [{"index": 0, "delta": {"content": 'tok "q" \\ é 😀 \n'}}]},
        {"choices": [{"delta": {"role": "assistant", "content": None}}]},
        {"choices": [{"delta": {"reasoning_content": "thinking"}}]},
        {"choices": [{"message": {"role": "assistant", "content": "a whole body"}}]},
        {"choices": [], "usage": {"completion_tokens": 3}},
    ],
)
@pytest.mark.parametrize("indent", [None, 1])
def test_the_answer_text_is_the_content_decoded_exactly(event, indent):
    data = json.dumps(event, indent=indent, ensure_ascii=indent is None).encode()
    choices = event["choices"]
    said = (choices[0].get("delta") or choices[0].get("message") or {}) if choices else {}
    assert chat_text(data) == (said.get("content") or "")


def test_anthropic_answer_text_from_deltas_and_bodies():
    delta = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": 'é "x"'}}
    thinking = {"type": "content_block_delta", "delta": {"type": "thinking_delta", "thinking": "t"}}
    body = {"content": [{"type": "text", "text": "one "}, {"type": "text", "text": "two"}]}
    assert messages_text(json.dumps(delta).encode()) == 'é "x"'
    assert messages_text(json.dumps(thinking).encode()) == ""
    assert messages_text(json.dumps(body).encode()) == "one two"


def test_turns_in_a_range_are_drawn_per_user_and_conversation_the_same_every_run():
    spec = RunConfig(conversation={"turns": "2-6", "user_prefix_words": 3}).conversation
    assert spec is not None
    mix = RequestMix(RunConfig(), "http://127.0.0.1:1", None)

    def drawn() -> list[tuple[int, str]]:
        talks = Conversations(spec, mix, None)
        out = []
        for uid in range(8):
            for _ in range(3):
                talks.held.pop(uid, None)
                talk, _prep = talks.next_request(uid)
                out.append((talk.turns, talk.prefix))
        return out

    first = drawn()
    assert first == drawn()  # a replay draws the same conversations
    assert {t for t, _ in first} <= set(range(2, 7)) and len({t for t, _ in first}) > 1
    assert len({p for _, p in first}) == 8  # one prefix per user, whatever the conversation


def test_a_threshold_on_a_turn_the_run_cannot_have_names_the_turns_it_has():
    config = RunConfig(conversation={"turns": 3}, thresholds={"ttft{label:turn 9}": ["p(95)<800"]})
    assert run_labels(config) == {"turn 1": True, "turn 2": True, "turn 3": True}
    (result,) = judge(config, RunSummary())
    assert not result.passed
    assert result.reason is not None and "turn 1, turn 2, turn 3" in result.reason
