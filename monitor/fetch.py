"""Stage Feed: download a feed's bytes over HTTP, politely and within hard limits.

No parsing here. Every failure becomes a `FeedError` whose reason a person can act on;
the scheduler calls `Fetcher.get()` from many threads at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from monitor import USER_AGENT
from monitor.errors import FeedError

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)


@dataclass(frozen=True, slots=True)
class Fetched:
    """One successful response: 200 with a body, or 304 (unchanged) with `b""`."""

    url: str  # final URL after redirects
    status: int
    body: bytes
    headers: dict[str, str]  # lower-cased names
    etag: str | None
    last_modified: str | None
    elapsed: float  # seconds


class Fetcher:
    """A shared, thread-safe HTTP client with per-host politeness and hard limits."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
        max_bytes: int = 10_000_000,
        per_host: int = 2,
        max_connections: int = 50,
        max_redirects: int = 5,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._per_host = per_host
        self._max_redirects = max_redirects
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        # A user's HTTP_PROXY cannot reach this machine's loopback: never send it there.
        direct = httpx.HTTPTransport(limits=limits)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=limits,
            mounts={f"all://{host}": direct for host in ("127.0.0.1", "localhost", "[::1]")},
            follow_redirects=True,
            max_redirects=max_redirects,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": _ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """GET `url`, conditionally when a validator is given; raise `FeedError` on any failure."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        slot = self._host_slot(url)
        # Waiting for a slot is bounded too, so a stuck host cannot pile up scheduler threads.
        if not slot.acquire(timeout=self._timeout):
            raise FeedError(
                url,
                f"{self._per_host} requests to this host were still running after "
                f"{_seconds(self._timeout)}, gave up waiting",
            )
        try:
            return self._get(url, headers)
        finally:
            slot.release()

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        try:
            parts = urlsplit(url)
            key = f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"
        except ValueError as exc:
            raise FeedError(url, f"invalid URL: {exc}") from exc
        with self._hosts_lock:
            slot = self._hosts.get(key)
            if slot is None:
                slot = self._hosts[key] = threading.BoundedSemaphore(self._per_host)
            return slot

    def _get(self, url: str, headers: dict[str, str]) -> Fetched:
        start = time.monotonic()
        # httpx timeouts apply per read, so a server dripping one byte at a time never
        # trips them: the wall-clock deadline is checked between chunks as well.
        deadline = start + self._timeout
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                _raise_for_status(url, response)
                body = b"" if response.status_code == 304 else self._read(url, response, deadline)
                return Fetched(
                    url=str(response.url),
                    status=response.status_code,
                    body=body,
                    headers=dict(response.headers.items()),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    elapsed=time.monotonic() - start,
                )
        except httpx.HTTPError as exc:
            raise FeedError(url, self._describe(exc)) from exc

    def _read(self, url: str, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise FeedError(url, self._too_large())
        chunks: list[bytes] = []
        size = 0
        # Decoded bytes are counted, so a small gzip bomb is stopped as well.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise FeedError(url, self._too_large())
            if time.monotonic() > deadline:
                raise FeedError(url, f"timed out after {_seconds(self._timeout)}")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"body larger than {_size(self._max_bytes)}, stopped reading"

    def _describe(self, exc: httpx.HTTPError) -> str:
        text = str(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            return f"could not connect within {_seconds(self._connect_timeout)}"
        if isinstance(exc, httpx.PoolTimeout):
            return f"no free connection in the pool within {_seconds(self._timeout)}"
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out after {_seconds(self._timeout)}"
        if isinstance(exc, httpx.TooManyRedirects):
            return f"more than {self._max_redirects} redirects (loop?)"
        if isinstance(exc, httpx.ConnectError):
            lowered = text.lower()
            if "refused" in lowered:
                return "connection refused"
            if "name or service not known" in lowered or "nodename nor servname" in lowered:
                return "host name not found (DNS)"
            if "certificate" in lowered or "ssl" in lowered:
                return f"TLS handshake failed: {text}"
            return f"could not connect: {text}"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"the server broke off the response: {text}"
        if isinstance(exc, httpx.DecodingError):
            return f"could not decompress the body: {text}"
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return f"not a fetchable http(s) URL: {text}"
        return f"request failed: {type(exc).__name__}: {text}"


def _raise_for_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    reason = f"HTTP {status} {response.reason_phrase}".rstrip()
    retry_after = None
    if status in (429, 503):
        retry_after = _retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            reason += f" (retry after {_seconds(round(retry_after))})"
    raise FeedError(url, reason, status=status, retry_after=retry_after)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"
