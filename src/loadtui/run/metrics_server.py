"""``--metrics-port``: a small HTTP server in the parent that serves ``GET /metrics``.

It runs on a daemon thread of its own and only ever hands out the newest text the drive loop
published (``publish``: an immutable ``bytes`` swapped under a lock), so a scrape never touches
the coordinator, never waits on the run and never reaches a worker. It is bound before any load
is sent — a port in use is a one-line error (exit 3), not a run without its metrics — and it
keeps serving the last figures published (a finished run's final ones) until it is closed: when
the process exits, or in the app, until the next run publishes its own.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from loadtui.errors import StartError
from loadtui.run.exposition import CONTENT_TYPE

__all__ = ["MetricsServer"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        self.body = b""
        self.lock = threading.Lock()
        super().__init__(address, _Handler)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/metrics":
            with self.server.lock:
                body = self.server.body
            self._send(200, CONTENT_TYPE, body)
        elif path == "/":
            self._send(200, "text/plain; charset=utf-8", b"loadtui: the metrics are at /metrics\n")
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics\n")

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a scrape a second must not write to the console or the app's terminal."""


class MetricsServer:
    """Listening from construction (StartError when it cannot); ``close`` ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            self._server = (_Server6 if ":" in host else _Server)((host, port))
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise StartError(f"--metrics-port: cannot listen on {host}:{port}: {why}") from None
        self.host = host
        self.port: int = self._server.server_address[1]
        """The bound port (the free one picked for ``--metrics-port 0``)."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="loadtui-metrics", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/metrics"

    def publish(self, text: str) -> None:
        """Serve ``text`` from now on (thread-safe; scrapes in progress finish with the old)."""
        body = text.encode()
        with self._server.lock:
            self._server.body = body

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
