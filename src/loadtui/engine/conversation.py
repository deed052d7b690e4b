"""A user's conversation: its history, and each turn's request built from it at send time.

Every other request is pre-built before the run; a conversation's turn cannot be, because it
carries the answers the server gave to the turns before it (docs/workflows.md, "Multi-turn
conversations"). Turn k sends: the system prompt, then the k−1 earlier user messages each
followed by the answer actually received (the text of its content deltas, joined; a whole
body's message text), then the new user message — the first one opened by the user's own
prefix. The request's other fields (model, max_tokens, stream, headers) are the mix's request
of that turn, and it counts under the label ``turn k``. A failed turn ends the conversation:
the next turn starts a fresh one (a history with a missing answer is no real client's).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace

from loadtui.engine.anthropic import messages_text
from loadtui.engine.mix import RequestMix
from loadtui.engine.protocols import JSONObject, Prepared, chat_text
from loadtui.model.conversation import ConversationSpec, Script, turn_label

__all__ = ["Conversation", "Conversations", "user_prefix"]

_TEXT: dict[str, Callable[[bytes], str]] = {"chat": chat_text, "messages": messages_text}
"""The answer text in one event or body, by request kind (the kinds a conversation is held in)."""

_WORDS = [
    "amber",
    "basin",
    "cobalt",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lagoon",
    "meadow",
    "nectar",
    "orchid",
    "pebble",
    "quartz",
    "raven",
    "saffron",
    "tundra",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
]


def user_prefix(seed: int, uid: int, words: int) -> str:
    """The block of ``words`` words that opens every conversation of user ``uid``: the same for
    a user every time (and every run with this seed), different between users."""
    if words <= 0:
        return ""
    rng = random.Random(f"prefix:{seed}:{uid}")
    return f"[user {uid}] " + " ".join(rng.choice(_WORDS) for _ in range(words))


class Conversation:
    """One conversation of one user: ``request()`` for the next turn, ``answered()`` after it."""

    __slots__ = ("_asked", "history", "prefix", "script", "system", "turn", "turns")

    def __init__(
        self, turns: int, system: str | None, prefix: str, script: Script | None = None
    ) -> None:
        self.turns = turns
        self.system = system
        self.prefix = prefix
        self.script = script
        self._asked: JSONObject = {}
        """The user message of the turn in flight."""
        self.turn = 0
        """Turns answered so far."""
        self.history: list[JSONObject] = []
        """The user and assistant messages sent and received, in order (no system message)."""

    @property
    def done(self) -> bool:
        return self.turn >= self.turns

    def request(self, template: Prepared, body: JSONObject) -> Prepared:
        """The next turn's request: ``template`` (the mix's request; ``body``, a copy of its
        body parsed) with this history and the next user message as its messages, labelled
        ``turn k``."""
        said = self._user_text(body)
        if not self.history and self.prefix:
            said = f"{self.prefix}\n\n{said}"
        self._asked = {"role": "user", "content": said}
        messages = [*self.history, self._asked]
        if template.kind == "messages":
            if self.system is not None:
                body["system"] = self.system
        else:
            system = [m for m in body.get("messages", ()) if m.get("role") == "system"]
            if self.system is not None:
                system = [{"role": "system", "content": self.system}]
            messages = [*system, *messages]
        body["messages"] = messages
        label = turn_label(self.turn + 1)
        return replace(template, body=json.dumps(body).encode(), label=label)

    def _user_text(self, body: JSONObject) -> str:
        """Turn k's user message: the file's k-th user turn, or the mix request's prompt."""
        if self.script is not None:
            return self.script.users[self.turn]
        users = [m for m in body.get("messages", ()) if m.get("role") == "user"]
        prompt = users[-1].get("content", "") if users else ""
        return f"Turn {self.turn + 1}: {prompt}"

    def answered(self, sent: Prepared, answer: list[bytes] | None) -> None:
        """Turn done: its answer (the body or the stream's events) joins the history; None (the
        turn failed) ends the conversation."""
        if answer is None:
            self.turn = self.turns
            return
        text_of = _TEXT.get(sent.kind, chat_text)
        text = "".join(text_of(payload) for payload in answer)
        self.history += [self._asked, {"role": "assistant", "content": text}]
        self.turn += 1


class Conversations:
    """A worker's conversations: which one each user holds, and a fresh one when it ends."""

    def __init__(
        self, spec: ConversationSpec, mix: RequestMix, scripts: tuple[Script, ...] | None
    ) -> None:
        self.spec = spec
        self.mix = mix
        self.scripts = scripts
        self.held: dict[int, Conversation] = {}
        self.started: dict[int, int] = {}
        """Conversations each user has begun (seeds its next one's turn count and script)."""
        self._round = 0
        self._bodies: dict[bytes, JSONObject] = {}
        """The mix's request bodies parsed, once each (the mix has a few)."""

    def next_request(self, uid: int) -> tuple[Conversation, Prepared]:
        """User ``uid``'s next turn: its conversation (a fresh one when the last ended) and the
        request to send."""
        talk = self.held.get(uid)
        if talk is None or talk.done:
            talk = self.held[uid] = self._begin(uid)
        template = self.mix.next_round(self._round)[0]
        self._round += 1
        raw = template.body or b"{}"
        body = self._bodies.get(raw)
        if body is None:
            body = self._bodies[raw] = json.loads(raw)
        return talk, talk.request(template, dict(body))

    def _begin(self, uid: int) -> Conversation:
        n = self.started.get(uid, 0)
        self.started[uid] = n + 1
        spec = self.spec
        script = None
        if self.scripts:
            script = self.scripts[(uid + n) % len(self.scripts)]
            turns = len(script.users)
        else:
            lo, hi = spec.turns
            turns = random.Random(f"turns:{spec.seed}:{uid}:{n}").randint(lo, hi)
        system = script.system if script is not None and script.system else spec.system
        prefix = user_prefix(spec.seed, uid, spec.user_prefix_words)
        return Conversation(turns, system, prefix, script)

    def leave(self, uid: int) -> None:
        """A user left: its conversation goes with it (one coming back starts afresh)."""
        self.held.pop(uid, None)
