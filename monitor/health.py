"""The daemon's HTTP endpoint: /healthz for orchestrators, /metrics for Prometheus,
`POST /slack/interactions` for Slack's button presses when interactivity is set up, and
every other GET to the read-only pages (`monitor.web`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from monitor.interactions import MAX_BODY_BYTES, PATH, Interactions
from monitor.metrics import Metrics

# 1,019 idle connections once used up the daemon's file descriptors: /healthz stopped,
# and feed polls failed with "Too many open files".
MAX_CONNECTIONS = 32  # open at once; more are closed as soon as they are accepted
CONNECTION_SECONDS = 10.0  # a connection is closed this long after it was accepted

_Request = socket.socket | tuple[bytes, socket.socket]  # as socketserver types it

if TYPE_CHECKING:
    from monitor.web.routes import Response


def serve(
    addr: str,
    healthy: Callable[[], str | None],
    metrics: Metrics,
    interactions: Interactions | None = None,
    pages: Callable[[str], Response] | None = None,
) -> ThreadingHTTPServer:
    """Serve in a background thread. `healthy()` returns None when well, else the reason;
    `pages(target)` answers any other GET."""
    host, _, port = addr.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                problem = healthy()
                self._reply(503 if problem else 200, (problem or "ok").encode(), "text/plain")
            elif self.path == "/metrics":
                self._reply(200, metrics.render(), "text/plain; version=0.0.4")
            elif pages is not None:
                page = pages(self.path)
                self._reply(page.status, page.body, page.content_type, page.headers)
            else:
                self._reply(404, b"not found: try /healthz or /metrics", "text/plain")

        def do_POST(self) -> None:
            if interactions is None or self.path != PATH:
                self._reply(404, b"not found: POST only to /slack/interactions", "text/plain")
                return
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                self._reply(411, b"a Content-Length is needed", "text/plain")
                return
            if not 0 <= length <= MAX_BODY_BYTES:
                self._reply(413, b"request too large", "text/plain")
                return
            status, text = interactions.handle(self.rfile.read(length), dict(self.headers))
            self._reply(status, text.encode(), "text/plain")

        def _reply(
            self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] = {}
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # scrapes every few seconds would drown the poll log

    server = _BoundedServer((host.strip("[]") or "127.0.0.1", int(port)), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, but `MAX_CONNECTIONS` at most, each `CONNECTION_SECONDS` at most.

    The socket timeout ends an idle connection; the lifetime also ends one that sends a
    byte now and then, which no per-read timeout would.
    """

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.seconds = CONNECTION_SECONDS
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: dict[socket.socket, float] = {}  # connection -> when it must end
        self._lock = threading.Lock()

    def process_request(self, request: _Request, client_address: Any) -> None:
        assert isinstance(request, socket.socket)  # TCP
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: closed at once, costing no thread
            return
        request.settimeout(self.seconds)
        with self._lock:
            self._open[request] = time.monotonic() + self.seconds
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done(request)
            raise

    def process_request_thread(self, request: _Request, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            assert isinstance(request, socket.socket)
            self._done(request)

    def service_actions(self) -> None:
        """Between accepts (every half second at most): end the connections past their time."""
        now = time.monotonic()
        with self._lock:
            overdue = [conn for conn, end in self._open.items() if end <= now]
        for conn in overdue:
            with contextlib.suppress(OSError):  # already closed by its thread
                conn.shutdown(socket.SHUT_RDWR)  # its thread's read returns, and it ends

    def _done(self, request: socket.socket) -> None:
        with self._lock:
            if self._open.pop(request, None) is None:
                return
        self._slots.release()
