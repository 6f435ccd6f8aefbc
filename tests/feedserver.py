"""A real HTTP server on 127.0.0.1 for tests: feeds, errors, slow and endless bodies.

Use the `feed_server` fixture (import it into a test module with
`pytest_plugins` in tests/conftest.py) or `with FeedServer() as server:`.

    server.route("/feed", body=b"<rss ...>", headers={"Content-Type": "application/rss+xml"},
                 etag='"v1"')          # answers 304 to a matching If-None-Match
    server.route("/feed", body=b"...") # calling again replaces the document (next request)
    server.redirect("/old", "/feed")   # 302
    url = server.url("/feed")
    server.requests("/feed")           # [Request(path, query, headers, at), ...] in arrival order

Route options: `status`, `headers`, `etag`, `last_modified` (304 on a matching
If-Modified-Since), `gzip` (when the client accepts it), `delay` (seconds before the
status line), `drip` (seconds between body bytes), `endless` (a body that never ends).
Unknown paths answer 404.
"""

from __future__ import annotations

import gzip as gzip_module
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

import pytest

from monitor.fetch import Fetcher


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the server saw it; header names lower-cased."""

    path: str
    query: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # arrival, `time.monotonic()`


@dataclass(frozen=True, slots=True)
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    delay: float = 0.0
    drip: float | None = None
    endless: bool = False


class FeedServer:
    """A threaded loopback HTTP server with routes that can change between requests."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base + path

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        gzip: bool = False,
        delay: float = 0.0,
        drip: float | None = None,
        endless: bool = False,
    ) -> None:
        """Serve `body` (str is sent as UTF-8) on `path`, replacing what was there."""
        route = Route(
            body=body.encode() if isinstance(body, str) else body,
            status=status,
            headers=dict(headers or {}),
            etag=etag,
            last_modified=last_modified,
            gzip=gzip,
            delay=delay,
            drip=drip,
            endless=endless,
        )
        with self._lock:
            self._routes[path] = route

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        """Answer `path` with a redirect to `to` (a path on this server or a full URL)."""
        self.route(path, status=status, headers={"Location": to})

    def requests(self, path: str) -> list[Request]:
        """The requests for `path` so far (query ignored), oldest first."""
        with self._lock:
            return [r for r in self._log if r.path == path]

    def close(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _answer(self, request: Request) -> Route | None:
        with self._lock:
            self._log.append(request)
            return self._routes.get(request.path)


def _handler_for(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Like production servers: else a kept-alive response stalls 40 ms (Nagle's
        # algorithm against the client's delayed ACK) between headers and body.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            route = server._answer(Request(parts.path, parts.query, headers))
            if route is None:
                self._send(404, {}, b"not found")
                return
            if route.delay:
                time.sleep(route.delay)
            if _not_modified(route, headers):
                self._send(304, _validators(route), b"")
                return
            response_headers = {**_validators(route), **route.headers}
            body = route.body
            if route.gzip and "gzip" in headers.get("accept-encoding", ""):
                body = gzip_module.compress(body)
                response_headers["Content-Encoding"] = "gzip"
            if route.endless:
                self._send_endless(route.status, response_headers)
            elif route.drip is not None:
                self._send_dripping(route.status, response_headers, body, route.drip)
            else:
                self._send(route.status, response_headers, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_dripping(
            self, status: int, headers: dict[str, str], body: bytes, pause: float
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):
                    if server._stopping.is_set():
                        return
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(pause)
            except OSError:
                self.close_connection = True  # the client gave up, as it should

        def _send_endless(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = b"<item><title>more</title></item>\n" * 2000
            try:
                while not server._stopping.is_set():
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client gave up, as it should

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: tests assert on `requests()` instead."""

    return Handler


def _validators(route: Route) -> dict[str, str]:
    headers = {}
    if route.etag:
        headers["ETag"] = route.etag
    if route.last_modified:
        headers["Last-Modified"] = route.last_modified
    return headers


def _not_modified(route: Route, headers: dict[str, str]) -> bool:
    if route.etag and headers.get("if-none-match") == route.etag:
        return True
    return bool(route.last_modified and headers.get("if-modified-since") == route.last_modified)


def closed_port_url() -> str:
    """A loopback URL where nothing listens, for "connection refused"."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh loopback server per test."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A Fetcher with test-sized limits (0.5 s timeouts, 100 kB bodies) that may reach loopback."""
    with Fetcher(connect_timeout=0.5, timeout=0.5, max_bytes=100_000, allow="127.0.0.1") as client:
        yield client
