"""A request to the mock's server (``mock/web.py``): its line, headers and body, which arrives
after its head (``Request.read`` waits for it), on its connection (``mock/connection.py``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from multidict import MultiDict, MultiDictProxy

from loadtui.mock.form import FileField, form_fields
from loadtui.mock.framing import HTTPError

if TYPE_CHECKING:
    import asyncio

    from loadtui.mock.connection import Connection
    from loadtui.mock.framing import Head
    from loadtui.mock.web import Application, Handler

__all__ = ["MatchInfo", "Request"]


class MatchInfo(dict[str, str]):
    """A route's ``{name}`` parameters, and its pattern (``canonical``; None when unrouted)."""

    def __init__(self, params: dict[str, str] | None = None, canonical: str | None = None):
        super().__init__(params or {})
        self.canonical = canonical


class Request:
    """One request: its line, headers and (awaited) body, on its connection."""

    def __init__(self, conn: Connection, head: Head, app: Application) -> None:
        self._conn = conn
        self.app = app
        self.method = head.method
        self.version = head.version
        self.headers = head.headers
        self.keep_alive = head.keep_alive
        self.expect_continue = head.expect_continue
        self.path_qs = head.target.partition("#")[0]
        raw_path, _, self.query_string = self.path_qs.partition("?")
        self.path = _unquoted(raw_path) if "%" in raw_path else raw_path
        self.match_info = MatchInfo()
        self._handler: Handler | None = None
        """The route's handler, set by ``Application.handle``."""
        self._pieces: list[bytes] = []
        self.complete = False
        """True once the whole body has arrived."""
        self._error: HTTPError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._query: MultiDictProxy[str] | None = None
        self.responded = False
        """True once a response's head went out for this request."""

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection's transport; None once the client has gone."""
        return self._conn.transport

    @property
    def rel_url(self) -> Request:
        """aiohttp's relative URL: here the request itself gives ``path`` and ``query``."""
        return self

    @property
    def query(self) -> MultiDictProxy[str]:
        if self._query is None:
            from urllib.parse import parse_qsl

            self._query = MultiDictProxy(MultiDict(parse_qsl(self.query_string, True)))
        return self._query

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").partition(";")[0].strip().lower()

    def __str__(self) -> str:
        return self.path_qs

    @property
    def failed(self) -> HTTPError | None:
        """Why the body could not be read (malformed, too large, the client gone), if so."""
        return self._error

    async def arrived(self) -> None:
        """Wait until the whole body has arrived, or failed to."""
        if not self.complete:
            self._waiter = self._conn.loop.create_future()
            await self._waiter

    async def read(self) -> bytes:
        """The whole body (HTTPError if it was malformed or too large)."""
        await self.arrived()
        if self._error is not None:
            raise self._error
        if len(self._pieces) != 1:
            self._pieces[:] = [b"".join(self._pieces)]
        return self._pieces[0]

    async def text(self) -> str:
        return (await self.read()).decode("utf-8")

    async def json(self) -> Any:
        return json.loads(await self.read())

    async def post(self) -> MultiDictProxy[str | FileField]:
        """The form's fields (multipart or urlencoded; ValueError if malformed)."""
        body = await self.read()
        return form_fields(self.headers.get("Content-Type", ""), body)

    def _received(self, piece: bytes) -> None:
        self._pieces.append(piece)

    def _ended(self, error: HTTPError | None = None) -> None:
        self.complete = True
        self._error = error
        if error is not None:
            self._pieces.clear()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _unquoted(path: str) -> str:
    from urllib.parse import unquote

    return unquote(path)
