"""The daemon's HTTP endpoint under idle, slow and too many connections (a real server)."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import pytest

from monitor import health
from monitor.metrics import Metrics
from tests.daemon_helpers import free_port, http_get


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """The endpoint on loopback with test-sized limits: 4 connections, 1 s each."""
    monkeypatch.setattr(health, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(health, "CONNECTION_SECONDS", 1.0)
    address = ("127.0.0.1", free_port())
    server = health.serve(f"{address[0]}:{address[1]}", lambda: None, Metrics())
    try:
        yield address
    finally:
        server.shutdown()
        server.server_close()


def _closed(conn: socket.socket, within: float) -> bool:
    """Whether the server closes `conn` within `within` seconds."""
    conn.settimeout(within)
    try:
        return conn.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_connections_beyond_the_cap_are_closed_at_once(endpoint: tuple[str, int]):
    conns = [socket.create_connection(endpoint) for _ in range(12)]
    try:
        time.sleep(0.2)  # every one accepted
        still_open = [c for c in conns if not _closed(c, 0.1)]
        assert len(still_open) == 4  # 8 closed unserved: no thread, no descriptor kept
    finally:
        for conn in conns:
            conn.close()


def test_an_idle_connection_is_closed_after_its_time(endpoint: tuple[str, int]):
    with socket.create_connection(endpoint) as conn:
        start = time.monotonic()
        assert _closed(conn, 5.0)
        assert time.monotonic() - start < 3


def test_a_connection_dripping_its_request_is_closed_at_its_lifetime(endpoint: tuple[str, int]):
    """A byte every 0.3 s never trips the 1 s read timeout; the lifetime ends it."""
    with socket.create_connection(endpoint) as conn:
        start = time.monotonic()
        closed_after = None
        while time.monotonic() - start < 6:
            try:
                conn.sendall(b"G")
            except OSError:
                closed_after = time.monotonic() - start
                break
            readable, _, _ = select.select([conn], [], [], 0.3)
            if readable and _closed(conn, 0.1):
                closed_after = time.monotonic() - start
                break
    assert closed_after is not None and closed_after < 3


def test_healthz_answers_again_once_idle_connections_are_ended(endpoint: tuple[str, int]):
    idle = [socket.create_connection(endpoint) for _ in range(4)]
    try:
        time.sleep(1.6)  # their second is over
        assert http_get(f"http://{endpoint[0]}:{endpoint[1]}/healthz") == (200, "ok")
    finally:
        for conn in idle:
            conn.close()
