"""Stage Feed: download a feed's bytes over HTTP, politely and within hard limits.

No parsing here. Every failure becomes a `FeedError` whose reason a person can act on and
which quotes nothing the server sent; the scheduler calls `Fetcher.get()` from many
threads at once. Feeds are untrusted: every connection goes to an address that
`monitor.addresses` allowed, one deadline covers a whole request with its redirects, and
a body is decompressed in bounded steps.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpcore
import httpx

from monitor import USER_AGENT
from monitor.addresses import AddressPolicy, IPAddress, named_address
from monitor.errors import FeedError

if TYPE_CHECKING:
    from monitor.settings import Settings

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_TOKEN = re.compile(r"[a-z0-9][a-z0-9._+-]{0,19}")

# When the request running in this thread must be done (time.monotonic()); the network
# streams below clamp every connect, read and write to it.
_DEADLINE: ContextVar[float | None] = ContextVar("fetch_deadline", default=None)
# The address and port a configured feed URL names, allowed for its request (redirects
# back to it included); see `monitor.addresses`.
_NAMED: ContextVar[tuple[IPAddress, int] | None] = ContextVar("fetch_named", default=None)


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

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        """The fetcher the daemon uses, with the limits and allowance its settings give."""
        return cls(
            connect_timeout=settings.connect_timeout,
            timeout=settings.fetch_timeout,
            max_bytes=settings.max_body_bytes,
            per_host=settings.per_host,
            allow=settings.fetch_allow,
        )

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
        max_bytes: int = 10_000_000,
        per_host: int = 2,
        max_connections: int = 50,
        max_redirects: int = 5,
        allow: str = "",
    ) -> None:
        """`allow`: private addresses that may be fetched all the same (MONITOR_FETCH_ALLOW)."""
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._per_host = per_host
        self._max_redirects = max_redirects
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        policy = AddressPolicy(allow)
        # Two pools: a connection opened for a feed URL of the rules, whose address may be
        # private because the rules name it, is never reused for a link that a feed names.
        self._feeds = _client(policy, max_connections)
        self._pages = _client(policy, max_connections)

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        deadline: float | None = None,
        configured: bool = False,
    ) -> Fetched:
        """GET `url`, conditionally when a validator is given; raise `FeedError` on any failure.

        The request, with its redirects, ends after the fetch timeout or at `deadline`
        (`time.monotonic()`), whichever comes first. `configured`: `url` is a feed URL
        from the rules, so an IP address it is written with may be private.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        slot = self._host_slot(url)
        wait = (
            self._timeout if deadline is None else min(self._timeout, deadline - time.monotonic())
        )
        # Waiting for a slot is bounded too, so a stuck host cannot pile up scheduler threads.
        if not slot.acquire(timeout=max(0.0, wait)):
            raise FeedError(
                url,
                f"{self._per_host} requests to this host were still running after "
                f"{_seconds(round(wait, 2))}, gave up waiting",
            )
        try:
            return self._get(url, headers, deadline, configured)
        finally:
            slot.release()

    def close(self) -> None:
        """Close the pooled connections."""
        self._feeds.close()
        self._pages.close()

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

    def _get(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float | None,
        configured: bool,
    ) -> Fetched:
        start = time.monotonic()
        window = self._timeout
        if deadline is not None and deadline - start < window:
            window = round(max(0.0, deadline - start), 2)
        # httpx's timeouts apply to each read, so a server sending one byte a second never
        # trips them: the network streams hold every operation to this one deadline.
        token = _DEADLINE.set(start + window)
        named_token = _NAMED.set(named_address(url) if configured else None)
        try:
            return self._follow(self._feeds if configured else self._pages, url, headers, start)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FeedError(url, self._describe(exc, window)) from exc
        except RefusedAddress as exc:
            raise FeedError(url, str(exc)) from exc
        finally:
            _NAMED.reset(named_token)
            _DEADLINE.reset(token)

    def _follow(
        self, client: httpx.Client, url: str, headers: dict[str, str], start: float
    ) -> Fetched:
        """The response at the end of `url`'s redirects; a redirect's body is never read."""
        target = httpx.URL(url)
        for _ in range(self._max_redirects + 1):
            if target.scheme not in ("http", "https"):
                if target == httpx.URL(url):
                    raise FeedError(url, "not a fetchable http(s) URL")
                raise FeedError(url, "redirected to a URL that is not http(s), refused")
            with client.stream("GET", target, headers=headers, timeout=self._timeouts()) as r:
                if r.has_redirect_location:
                    target = r.url.join(r.headers["location"])
                    continue
                _raise_for_status(url, r)
                return Fetched(
                    url=str(r.url),
                    status=r.status_code,
                    body=b"" if r.status_code == 304 else self._read(url, r),
                    headers=dict(r.headers.items()),
                    etag=r.headers.get("etag"),
                    last_modified=r.headers.get("last-modified"),
                    elapsed=time.monotonic() - start,
                )
        raise FeedError(url, f"more than {self._max_redirects} redirects (loop?)")

    def _timeouts(self) -> httpx.Timeout:
        """httpx's own timeouts; waiting for a pooled connection also ends at the deadline."""
        deadline = _DEADLINE.get()
        pool = self._timeout if deadline is None else max(0.001, deadline - time.monotonic())
        return httpx.Timeout(self._timeout, connect=self._connect_timeout, pool=pool)

    def _read(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise FeedError(url, self._too_large())
        body = _Body(url, response.headers.get("content-encoding", ""), self._max_bytes)
        for chunk in response.iter_raw():
            body.add(chunk)
        return body.whole()

    def _too_large(self) -> str:
        return _too_large(self._max_bytes)

    def _describe(self, exc: httpx.HTTPError | httpx.InvalidURL, window: float) -> str:
        """Why a request failed, in words of ours: the server's own text is never quoted."""
        text = str(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            return f"could not connect within {_seconds(min(self._connect_timeout, window))}"
        if isinstance(exc, httpx.PoolTimeout):
            return f"no free connection in the pool within {_seconds(window)}"
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out after {_seconds(window)}"
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
            return "the server broke off the response or sent invalid HTTP"
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return f"not a fetchable http(s) URL: {text}"
        return f"request failed ({type(exc).__name__})"


def _raise_for_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    # The standard phrase, not the server's: an error never quotes what was fetched.
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    reason = f"HTTP {status} {phrase}".rstrip()
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


def _client(policy: AddressPolicy, max_connections: int) -> httpx.Client:
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    # No proxy from the environment: the guard must see the address it connects to.
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool)
    pool._network_backend = _GuardedBackend(policy)
    return httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=False,  # followed by `Fetcher._follow`, each hop checked and unread
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"},
    )


def _too_large(limit: int) -> str:
    return f"body larger than {_size(limit)}, stopped reading"


class _Body:
    """A response body, decompressed in bounded steps and never held beyond `limit` bytes.

    A 3.5 kB response compressed twice over once expanded to 4 GB in memory before any
    size check: only one gzip or deflate layer is read, `limit` bytes at most.
    """

    def __init__(self, url: str, encoding: str, limit: int) -> None:
        self._url = url
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = self._raw = 0
        self._coding = _coding(url, encoding)
        self._zlib = zlib.decompressobj(_WBITS[self._coding]) if self._coding else None
        self._started = False

    def add(self, chunk: bytes) -> None:
        """Take the next bytes off the wire."""
        self._raw += len(chunk)
        if self._raw > self._limit:
            raise FeedError(self._url, _too_large(self._limit))
        if self._zlib is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            # At most one byte beyond the limit comes out, whatever the ratio.
            out = self._inflate(data, self._limit - self._size + 1)
            self._keep(out)
            data = self._zlib.unconsumed_tail

    def whole(self) -> bytes:
        """The whole body, decompressed."""
        if self._zlib is not None:
            self._keep(self._zlib.flush())
        return b"".join(self._chunks)

    def _inflate(self, data: bytes, most: int) -> bytes:
        assert self._zlib is not None
        try:
            out = self._zlib.decompress(data, most)
        except zlib.error as exc:
            if self._coding != "deflate" or self._started:
                raise FeedError(
                    self._url, f"could not decompress the {self._coding} body: {exc}"
                ) from exc
            # "deflate" is sent both with and without its zlib header: try raw.
            self._started = True
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inflate(data, most)
        self._started = True
        return out

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise FeedError(self._url, _too_large(self._limit))
        self._chunks.append(data)


def _coding(url: str, encoding: str) -> str | None:
    """The one compression to undo, from a Content-Encoding header; refuses any other."""
    codings = [c.strip().lower() for c in encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise FeedError(
            url,
            f"the body is compressed {len(codings)} times over (Content-Encoding lists "
            f"{len(codings)} codings); refused, as it could expand without bound",
        )
    (coding,) = codings
    if coding not in _WBITS:
        name = repr(coding) if _TOKEN.fullmatch(coding) else "an unknown one"
        raise FeedError(
            url,
            f"the body uses a compression that cannot be read ({name}); only gzip and "
            "deflate are asked for",
        )
    return coding


class RefusedAddress(Exception):
    """A URL's host resolved to no address that `AddressPolicy` allows."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        shown = f"{host} ({kind})" if host == address else f"{host} ({address}, {kind})"
        super().__init__(
            f"refused to connect to {shown}: a feed and its links may only lead to public "
            "addresses (list the address in MONITOR_FETCH_ALLOW to fetch it all the same)"
        )


def _clamp(timeout: float | None, expired: type[Exception]) -> float | None:
    """`timeout` shortened to what is left of this thread's request deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to resolved addresses the policy allows, and to nothing else.

    The host is resolved once, here; the connection goes to the checked address, so a
    DNS answer that changes between check and connect cannot lead elsewhere.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        named = _NAMED.get()
        refusals = {a: self._policy.refusal(a, port, named=named) for a in addresses}
        allowed = [a for a, why in refusals.items() if why is None]
        if not allowed:
            address = addresses[0]
            raise RefusedAddress(host, address, refusals[address] or "refused")
        failure: Exception | None = None
        for address in allowed:
            try:
                stream = super().connect_tcp(
                    address,
                    port,
                    _clamp(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        assert failure is not None
        raise failure


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends at the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)
