"""The daemon's HTTP endpoint: /healthz for orchestrators, /metrics for Prometheus,
`POST /slack/interactions` for Slack's button presses when interactivity is set up, and
every other GET to the read-only pages (`monitor.web`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from monitor.interactions import MAX_BODY_BYTES, PATH, Interactions
from monitor.metrics import Metrics

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

    server = ThreadingHTTPServer((host.strip("[]") or "127.0.0.1", int(port)), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
