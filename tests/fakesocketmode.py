"""A Slack Socket Mode endpoint on 127.0.0.1: the WebSocket that `apps.connections.open` names.

    with FakeSocketMode() as server:
        fake_slack.socket_url = server.url       # the fake Slack hands it to the client
        server.wait_connected()                  # the client connected and was sent `hello`
        envelope_id = server.send_interactive(payload)
        server.wait_acks(1)                      # [{"envelope_id": ...}] as the client acked
        server.refresh()                         # Slack's `disconnect`: connect again

Like Slack, it greets each connection with `hello`, sends envelopes
`{"envelope_id", "type", "accepts_response_payload", "payload"}` (a redelivery is the same
envelope id with `retry_attempt` raised) and records every text frame the client sends back.
Plain ws://: slack-sdk's built-in client speaks TLS only to port 443, whatever the scheme.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    """One Socket Mode endpoint; envelopes go to the most recent connection."""

    def __init__(self) -> None:
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._changed = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._open = 0
        self._received: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake-ticket"

    @property
    def connections(self) -> int:
        """How many connections the client has made so far."""
        with self._changed:
            return len(self._connections)

    @property
    def open(self) -> int:
        """How many connections are open now."""
        with self._changed:
            return self._open

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every JSON message the client sent (acks are `{"envelope_id": ...}`), in order."""
        with self._changed:
            return list(self._received)

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
    ) -> str:
        """Send an envelope of type `kind` to the latest connection; its envelope id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": False,
            "payload": payload,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        with self._changed:
            connection = self._connections[-1]
        connection.send(json.dumps(envelope))
        return envelope_id

    def send_interactive(self, payload: dict[str, Any], **kwargs: Any) -> str:
        return self.send("interactive", payload, **kwargs)

    def refresh(self) -> None:
        """Ask the client to reconnect, as Slack does every few hours (`disconnect`)."""
        message = {"type": "disconnect", "reason": "refresh_requested", "debug_info": {}}
        with self._changed:
            connection = self._connections[-1]
        connection.send(json.dumps(message))

    def wait_connected(self, timeout: float = 10) -> None:
        self._wait(lambda: self._open > 0, timeout, "a Socket Mode connection")

    def wait_acks(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The first `count` acks, once they have arrived."""
        self._wait(lambda: len(self._acks()) >= count, timeout, f"{count} acks")
        with self._changed:
            return self._acks()[:count]

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _acks(self) -> list[dict[str, Any]]:
        return [m for m in self._received if "envelope_id" in m and "type" not in m]

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._changed.wait(left)

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0FAKE"},
                    "debug_info": {"host": "fake-socket-mode"},
                }
            )
        )
        with self._changed:
            self._connections.append(connection)
            self._open += 1
            self._changed.notify_all()
        try:
            for message in connection:
                with self._changed:
                    self._received.append(json.loads(message))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._open -= 1
                self._changed.notify_all()
