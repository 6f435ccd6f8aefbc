"""A fake Slack on 127.0.0.1 that slack-sdk talks to over real HTTP, with faults on demand.

Use the `fake_slack` fixture (import it into a test module with
`from tests.fakeslack import fake_slack  # noqa: F401`) or `with FakeSlack() as slack:`.

    WebClient(token=slack.token, base_url=slack.api_url)   # or SlackBot(slack.token, ...)
    WebhookClient(slack.webhook_url)
    slack.posts                  # [Posted(channel, text, blocks, metadata, thread_ts, ts, ...)]
    slack.updates                # [Posted] as each chat.update left a message
    slack.calls("chat.postMessage")  # monotonic arrival times of each request to a method
    slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
    slack.fail("chat.postMessage", status=500, times=3)
    slack.fail("chat.postMessage", error="channel_not_found")   # 200 {"ok": false, ...}
    slack.fail("webhook", error="no_service", status=404)        # plain-text body
    slack.fail("chat.postMessage", delay=2.0)  # posts, then answers late (a lost response)
    slack.seed("C0FUNDING1", text="...", metadata={...})  # a message already in the channel
    slack.socket_url = server.url  # what apps.connections.open answers (Socket Mode)

Methods: auth.test, chat.postMessage, chat.update, conversations.history, conversations.replies,
conversations.list, apps.connections.open, and POST /webhook. Every API call needs
`Bearer <slack.token>` (else `invalid_auth`), but apps.connections.open takes the app-level
token, `slack.app_token` (the bot token gets `not_allowed_token_type`, as on Slack).
Channels are known by name and ID (`channels=`); like Slack, chat.postMessage takes
either, conversations.* take IDs only. Messages carry metadata back only when
`include_all_metadata` is true. Bodies may be form-encoded or JSON, as slack-sdk sends both.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

TOKEN = "xoxb-fake-token"
APP_TOKEN = "xapp-1-fake-app-token"
CHANNELS = {"funding-alerts": "C0FUNDING1", "general": "C0GENERAL1"}


@dataclass(frozen=True, slots=True)
class Posted:
    """One message as Slack stored it; `via` is "api" or "webhook"."""

    channel: str | None
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    thread_ts: str | None
    ts: str
    via: str = "api"
    options: dict[str, Any] = field(default_factory=dict)  # unfurl_links, unfurl_media, ...


@dataclass(slots=True)
class _Fault:
    status: int | None
    error: str | None
    retry_after: float | None
    delay: float
    times: int


class FakeSlack:
    """The Slack Web API and one incoming webhook, on a threaded loopback server."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        app_token: str = APP_TOKEN,
        channels: Mapping[str, str] = CHANNELS,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.socket_url = "ws://127.0.0.1:9/"  # nothing listens: set it to a test's server
        self.channels = dict(channels)  # name -> ID
        self._posts: list[Posted] = []
        self._updates: list[Posted] = []
        self._calls: list[tuple[str, float]] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._last_ts = 0.0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The `base_url` for slack-sdk's WebClient."""
        return self.url + "/api/"

    @property
    def webhook_url(self) -> str:
        return self.url + "/webhook"

    @property
    def posts(self) -> list[Posted]:
        """Every message posted so far (API and webhook, seeded ones too), oldest first."""
        with self._lock:
            return list(self._posts)

    @property
    def updates(self) -> list[Posted]:
        """Each message as a chat.update left it, in the order of the updates."""
        with self._lock:
            return list(self._updates)

    def calls(self, method: str) -> list[float]:
        """`time.monotonic()` at the arrival of each request to `method` ("webhook" too)."""
        with self._lock:
            return [at for name, at in self._calls if name == method]

    def fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests to `method` with a fault, in the order queued.

        `status` 429 comes with Retry-After and `ratelimited`; 5xx with a plain-text
        page; `error` with 200 `{"ok": false}` (API) or `status` (default 400) and the
        code as body (webhook). `delay` alone handles the request, then answers late.
        """
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(status, error, retry_after, delay, times)
            )

    def seed(
        self,
        channel: str,
        *,
        text: str = "",
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Put a message in a channel as if posted earlier; its ts."""
        with self._lock:
            return self._store(self._channel_id(channel), text, [], metadata, thread_ts, {})

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # What the handler calls; everything below runs on the server's threads.

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            self._calls.append((method, time.monotonic()))
            queue = self._faults.get(method) or []
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _api(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "apps.connections.open":
            return self._connections_open(token)
        if token != self.token:
            return {"ok": False, "error": "invalid_auth"}
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.list": self._list,
        }.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self._lock:
            return handler(args)

    def _connections_open(self, token: str | None) -> dict[str, Any]:
        """Socket Mode's WebSocket URL, for the app-level token only."""
        if token == self.token:
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": "Fake", "user": "funding-monitor", "bot_id": "B0FAKE"}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(args.get("channel") or ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        options: dict[str, Any] = {
            k: args[k] for k in ("unfurl_links", "unfurl_media") if k in args
        }
        ts = self._store(
            channel,
            str(args.get("text") or ""),
            _json_arg(args.get("blocks")) or [],
            _json_arg(args.get("metadata")),
            args.get("thread_ts"),
            options,
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        """Like Slack: the channel by ID only, the message by its ts; blocks and metadata
        replaced by what is sent."""
        channel, ts = args.get("channel"), args.get("ts")
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        at = next(
            (i for i, p in enumerate(self._posts) if (p.channel, p.ts) == (channel, ts)), None
        )
        if at is None:
            return {"ok": False, "error": "message_not_found"}
        updated = replace(
            self._posts[at],
            text=str(args.get("text") or ""),
            blocks=_json_arg(args.get("blocks")) or [],
            metadata=_json_arg(args.get("metadata")) or self._posts[at].metadata,
        )
        self._posts[at] = updated
        self._updates.append(updated)
        return {"ok": True, "channel": channel, "ts": ts, "text": updated.text}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        found = [
            p
            for p in reversed(self._posts)
            if p.channel == channel and (p.thread_ts in (None, p.ts)) and float(p.ts) > oldest
        ]
        return self._page(found, args, "messages", _message_view)

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, parent = args.get("channel"), args.get("ts")
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        thread = [p for p in self._posts if p.channel == channel and parent in (p.ts, p.thread_ts)]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(args.get("oldest") or 0)
        found = [p for p in thread if p.ts == parent or float(p.ts) > oldest]
        return self._page(found, args, "messages", _message_view)

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [{"id": i, "name": n, "is_archived": False} for n, i in self.channels.items()]
        return self._page(channels, args, "channels", lambda c, _: c)

    def _page(self, items: list[Any], args: dict[str, Any], name: str, view: Any) -> dict[str, Any]:
        """Cursor pagination as Slack does it: `limit`, `cursor`, `next_cursor`."""
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        chunk = items[start : start + limit]
        more = start + limit < len(items)
        with_metadata = _true(args.get("include_all_metadata"))
        return {
            "ok": True,
            name: [view(item, with_metadata) for item in chunk],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _webhook(self, body: dict[str, Any]) -> None:
        with self._lock:
            options: dict[str, Any] = {
                k: body[k] for k in ("unfurl_links", "unfurl_media") if k in body
            }
            text = str(body.get("text") or "")
            self._store(None, text, body.get("blocks") or [], None, None, options, via="webhook")

    def _store(
        self,
        channel: str | None,
        text: str,
        blocks: list[dict[str, Any]],
        metadata: dict[str, Any] | None,
        thread_ts: str | None,
        options: dict[str, Any],
        *,
        via: str = "api",
    ) -> str:
        # Real, increasing Unix times, so `oldest` filters behave as on Slack.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        ts = f"{self._last_ts:.6f}"
        self._posts.append(Posted(channel, text, blocks, metadata, thread_ts, ts, via, options))
        return ts

    def _channel_id(self, channel: str) -> str | None:
        name = channel.lstrip("#")
        if name in self.channels:
            return self.channels[name]
        return channel if channel in self.channels.values() else None


def _message_view(posted: Posted, with_metadata: bool) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "message", "ts": posted.ts, "text": posted.text}
    if posted.blocks:
        view["blocks"] = posted.blocks
    if posted.thread_ts:
        view["thread_ts"] = posted.thread_ts
    if with_metadata and posted.metadata:
        view["metadata"] = posted.metadata
    return view


def _json_arg(value: Any) -> Any:
    """Form-encoded calls carry blocks and metadata as JSON strings."""
    return json.loads(value) if isinstance(value, str) and value else value


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _handler_for(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Like production servers: else a kept-alive response stalls 40 ms (Nagle's
        # algorithm against the client's delayed ACK) between headers and body.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            args = _flat(parse_qs(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                args.update(json.loads(raw))
            elif raw:
                args.update(_flat(parse_qs(raw.decode())))
            if parts.path == "/webhook":
                self._answer_webhook(args)
            elif parts.path.startswith("/api/"):
                self._answer_api(parts.path.removeprefix("/api/"), args)
            else:
                self._send(404, "text/plain", b"not found")

        def _answer_api(self, method: str, args: dict[str, Any]) -> None:
            fault = slack._take_fault(method)
            if fault is not None and fault.status == 429:
                self._rate_limited(fault, b'{"ok": false, "error": "ratelimited"}')
            elif fault is not None and fault.status is not None and fault.status >= 500:
                self._send(fault.status, "text/plain", b"Internal Server Error")
            elif fault is not None and fault.error:
                self._json({"ok": False, "error": fault.error})
            else:
                auth = self.headers.get("Authorization") or ""
                token = auth.removeprefix("Bearer ") if auth else args.get("token")
                answer = slack._api(method, args, token)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                self._json(answer)

        def _answer_webhook(self, args: dict[str, Any]) -> None:
            fault = slack._take_fault("webhook")
            if fault is not None and fault.status == 429:
                self._rate_limited(fault, b"rate_limited")
            elif fault is not None and fault.status is not None and fault.status >= 500:
                self._send(fault.status, "text/html", b"<html>Internal Server Error</html>")
            elif fault is not None and fault.error:
                self._send(fault.status or 400, "text/plain", fault.error.encode())
            else:
                slack._webhook(args)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                self._send(200, "text/html", b"ok")

        def _rate_limited(self, fault: _Fault, body: bytes) -> None:
            retry_after = fault.retry_after if fault.retry_after is not None else 1
            self._send(429, "application/json", body, {"Retry-After": f"{retry_after:g}"})

        def _json(self, answer: dict[str, Any]) -> None:
            self._send(200, "application/json; charset=utf-8", json.dumps(answer).encode())

        def _send(
            self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                self.close_connection = True  # the client timed out and left

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: tests assert on `posts` and `calls()` instead."""

    return Handler


def _flat(query: dict[str, list[str]]) -> dict[str, Any]:
    return {key: values[-1] for key, values in query.items()}


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fresh fake Slack per test."""
    with FakeSlack() as slack:
        yield slack
