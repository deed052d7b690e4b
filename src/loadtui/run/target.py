"""Bringing up what a run talks to: the embedded mock, the overhead proxy, a minted API key.

With no target URL the embedded mock serves; in overhead mode without a URL a pass-through
proxy is started in front of it, so ``--preset overhead`` works with nothing installed. The
optional admin step of Batch runs mints one API key for the whole run (never written anywhere).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from loadtui.errors import ConfigError, StartError
from loadtui.model.plan import RunConfig

if TYPE_CHECKING:
    from loadtui.mock.servers import ServerProcess

__all__ = ["bring_up", "discard_prespawned", "mint_key", "prespawn", "prespawn_first_worker"]

_MOCK_APP = "loadtui.mock.server:build_app"
_PROXY_APP = "loadtui.mock.proxy:build_proxy"
"""The apps of the embedded mock and the proxy, by name (``mock/servers.py``: the child
imports them, the parent need not)."""


_PRESPAWN_MAX = 4
"""At most this many workers are prespawned: the rest start with the session, as before."""


def prespawn_first_worker() -> None:
    """Start a run's first worker now, while this process resolves and checks the options:
    its imports (asyncio, the engine's modules: the slowest child to be ready) overlap that
    work (docs/performance.md, "Start-up and exit"). Options refused meanwhile end it
    (``discard_prespawned``, in the caller's ``finally``) some 25 ms of its CPU later; a run
    that turns out to need none (Ray) ends it in ``prespawn``. Call once the command's own
    imports are done (pydantic and the models come to the child with the fork), on the thread
    that will run the session."""
    from loadtui.engine.prespawn import prespawn as prespawn_workers

    prespawn_workers(1)


def prespawn(config: RunConfig) -> None:
    """Start now the rest of the processes a run of ``config`` will take when its session
    starts: the embedded mock (no target URL) and its further workers (``engine/channel.py``,
    ``mock/servers.py`` ``prespawn``; ``prespawn_first_worker`` started the first). Each
    imports its modules while this process imports the rest of the run's (docs/performance.md,
    "Start-up and exit"); ``discard_prespawned`` ends those no session took. Not for Ray (its
    actors are no worker processes). Call on the thread that will run the session: a child
    dies with the thread that started it."""
    from loadtui.engine.prespawn import prespawn as prespawn_workers
    from loadtui.engine.prespawn import waiting

    if config.engine.backend == "ray":
        discard_prespawned()
        return
    if config.target.url is None:
        from loadtui.mock.prespawn import prespawn as prespawn_server

        prespawn_server(_MOCK_APP, name="embedded mock", client_tls=False)
    # "automatic" (0) is at least one worker; the session spawns any more it decides on
    more = min(config.workers or 1, _PRESPAWN_MAX) - waiting()
    if more > 0:
        prespawn_workers(more)


def discard_prespawned() -> None:
    """End the prespawned processes no session took (those modules are imported only if
    something was prespawned)."""
    for name in ("loadtui.engine.prespawn", "loadtui.mock.prespawn"):
        module = sys.modules.get(name)
        if module is not None:
            module.discard_prespawned()


def _start(
    server: ServerProcess, stack: ExitStack, pending: list[Callable[[], None]] | None
) -> str:
    """Launch ``server``; wait until it serves now, or (with ``pending``) leave that wait there
    for the caller to run while its workers start."""
    try:
        url = server.launch()
    except RuntimeError as exc:
        raise StartError(str(exc)) from None
    stack.callback(server.stop)

    def ready() -> None:
        try:
            server.wait_ready()
        except RuntimeError as exc:
            raise StartError(str(exc)) from None

    if pending is None:
        ready()
    else:
        pending.append(ready)
    return url


def bring_up(
    config: RunConfig,
    stack: ExitStack,
    say: Callable[[str], None],
    source: str | None = None,
    pending: list[Callable[[], None]] | None = None,
) -> tuple[str, str | None]:
    """(base URL the load goes to, direct upstream URL in overhead mode); ``source`` says where
    the URL came from (``--url``, ``the preset``, ``$OPENAI_BASE_URL``, ``--mock``). The
    servers it starts (the embedded mock, the proxy) serve when it returns — or, given
    ``pending``, a wait for each is appended there instead (their URLs are known at once), so
    the caller can start its workers while the servers' processes start."""
    why = f"({source})" if source else "(no --url given)"
    overhead = config.overhead
    if config.target.url is None:
        # imported only here: a run against a real URL never loads the mock or the proxy; the
        # servers' own modules (aiohttp, the handlers) are imported in their processes only
        from loadtui.mock.servers import ServerProcess

        mock = ServerProcess(_MOCK_APP, config.mock, name="embedded mock", client_tls=False)
        mock_url = _start(mock, stack, pending)
        if overhead.enabled:
            upstream = overhead.direct_url or mock_url
            proxy = ServerProcess(_PROXY_APP, upstream, name="pass-through proxy")
            proxy_url = _start(proxy, stack, pending)
            say(
                f"target: a pass-through proxy at {proxy_url} in front of the embedded mock at "
                f"{mock_url} {why}; each request goes both ways"
            )
            return proxy_url, overhead.direct_url or mock_url
        say(f"target: the embedded mock upstream at {mock_url} {why}")
        return mock_url, None
    if overhead.enabled:
        if not overhead.direct_url:
            raise ConfigError(
                "overhead mode with --url (the proxy) needs --direct-url (the upstream)"
            )
        say(f"target: {config.target.url} (proxied) and {overhead.direct_url} (direct)")
        return config.target.url, overhead.direct_url
    say(f"target: {config.target.url}" + (f" (from {source})" if source else ""))
    return config.target.url, None


def mint_key(config: RunConfig, base_url: str) -> str:
    """POST to the admin endpoint with Basic auth; the JSON answer's ``key`` (StartError if not)."""
    spec = config.batch
    url = (spec.admin_url or "").replace("{base}", base_url.rstrip("/"))
    password = os.environ.get(spec.admin_password_env)
    if not password:
        raise ConfigError(
            f"batch.admin_url is set: put the admin password in ${spec.admin_password_env}"
        )
    import httpx  # here only: a run that mints no key never loads it (start-up time)

    try:
        status, body = _post_capped(url, (spec.admin_user, password), config)
    except httpx.HTTPError as exc:
        raise StartError(f"minting an API key at {url} failed: {type(exc).__name__}") from None
    if status >= 300:
        raise StartError(f"minting an API key at {url} answered HTTP {status}")
    try:
        key = json.loads(body)["key"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise StartError(f"minting an API key at {url}: the answer has no 'key'") from None
    if not isinstance(key, str) or not key:
        raise StartError(f"minting an API key at {url}: the answer has no 'key'")
    return key


_ADMIN_ANSWER_MAX = 64 * 1024
"""An admin answer is a small JSON object; more than this is refused, never buffered."""


def _post_capped(url: str, auth: tuple[str, str], config: RunConfig) -> tuple[int, bytes]:
    """POST with Basic auth; the status and at most ``_ADMIN_ANSWER_MAX`` bytes of the body."""
    import httpx

    from loadtui.engine.tls import client_ssl

    verify = client_ssl(config.target)  # --ca-cert / --insecure, as the workers check it
    timeout = config.target.timeout
    with (
        httpx.Client(verify=verify, timeout=timeout) as client,
        client.stream("POST", url, auth=auth) as resp,
    ):
        body = b""
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > _ADMIN_ANSWER_MAX:
                raise StartError(f"minting an API key at {url}: the answer is too large")
        return resp.status_code, body
