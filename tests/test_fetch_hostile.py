"""Stage Feed against hostile servers and feeds: private addresses, bombs, slow drips.

Real loopback servers only. The `fetcher` fixture may reach 127.0.0.1 (the tests' feeds
live there); the tests of the address guard make fetchers without that allowance.
"""

from __future__ import annotations

import gzip
import re
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from monitor import store
from monitor.addresses import AddressPolicy
from monitor.errors import ConfigError, FeedError
from monitor.fetch import Fetcher
from monitor.observe import sync_claims
from monitor.poll import Context, poll_feed
from monitor.rules import load_rules
from monitor.store import AlertRow, ArticleRow, FeedState
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer

FEED = rss20([Item(title="Samsung chips", link="https://news.example/1")])
SECRET = "internal-secret-7f3a"
SECRET_PAGE = f"<html><head><title>{SECRET}</title></head><body><p>{SECRET}</p></body></html>"


def _port(server: FeedServer) -> int:
    return int(server.base.rsplit(":", 1)[1])


def _refused(fetcher: Fetcher, url: str, **kw: object) -> str:
    with pytest.raises(FeedError) as caught:
        fetcher.get(url, **kw)  # type: ignore[arg-type]
    return caught.value.reason


# The address guard


@pytest.mark.parametrize(
    ("spelling", "why"),
    [
        ("127.0.0.1", "refused to connect to 127.0.0.1 (loopback): "),
        ("localhost", "(127.0.0.1, loopback): "),
        ("2130706433", "refused to connect to 2130706433 (127.0.0.1, loopback): "),  # decimal
        ("0x7f000001", "(127.0.0.1, loopback): "),  # hexadecimal
        ("0x7f.1", "(127.0.0.1, loopback): "),
        ("127.1", "(127.0.0.1, loopback): "),  # short form
        ("0177.0.0.1", "not a fetchable http(s) URL"),  # octal: httpx will not read it
        ("0.0.0.0", "refused to connect to 0.0.0.0 (this host): "),
        ("[::ffff:127.0.0.1]", "(loopback): "),  # IPv4-mapped IPv6
    ],
)
def test_loopback_in_any_spelling_is_refused_before_any_request(
    feed_server: FeedServer, spelling: str, why: str
) -> None:
    feed_server.route("/admin", SECRET_PAGE)
    with Fetcher(timeout=2) as fetcher:
        reason = _refused(fetcher, f"http://{spelling}:{_port(feed_server)}/admin")
    assert why in reason
    assert feed_server.requests("/admin") == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "unique local (private)"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.1:8080/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://100.100.100.200/", "shared (carrier-grade NAT)"),
        ("http://[::1]/", "unspecified, loopback or IPv4-compatible"),
        ("http://[::]/", "unspecified, loopback or IPv4-compatible"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 around 127.0.0.1
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local (cloud metadata)"),  # NAT64 of it
    ],
)
def test_private_and_metadata_addresses_are_refused_without_connecting(url: str, kind: str):
    with Fetcher(connect_timeout=5, timeout=5) as fetcher:
        start = time.monotonic()
        reason = _refused(fetcher, url)
    assert f"{kind}): a feed and its links may only lead to public addresses" in reason
    assert time.monotonic() - start < 1  # refused at once: no connection was tried


def test_public_addresses_pass_the_policy():
    policy = AddressPolicy()
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert policy.refusal(address, 443) is None, address


def test_the_allowance_admits_only_what_it_lists():
    policy = AddressPolicy("127.0.0.1:8080, 10.0.0.0/8, [::1]:9000, fd00::/8")
    assert policy.refusal("127.0.0.1", 8080) is None
    assert policy.refusal("127.0.0.1", 8081) == "loopback"  # another port
    assert policy.refusal("::ffff:127.0.0.1", 8080) is None  # the same address, mapped
    assert policy.refusal("10.200.0.1", 1) is None
    assert policy.refusal("::1", 9000) is None and policy.refusal("::1", 80) is not None
    assert policy.refusal("fd12::1", 80) is None
    assert policy.refusal("192.168.1.1", 8080) == "private"


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.0/33", "127.0.0.1:http", "[::1]:0"])
def test_a_bad_allowance_says_what_to_write(entry: str):
    with pytest.raises(ConfigError, match=re.escape(f"MONITOR_FETCH_ALLOW: '{entry}' ")):
        AddressPolicy(f"127.0.0.1,{entry}")


def test_an_allowed_port_does_not_open_the_hosts_other_ports(feed_server: FeedServer):
    feed_server.route("/feed", FEED)
    with FeedServer() as other, Fetcher(timeout=2, allow=f"127.0.0.1:{_port(feed_server)}") as f:
        other.route("/admin", SECRET_PAGE)
        assert f.get(feed_server.url("/feed")).body == FEED
        assert "loopback" in _refused(f, other.url("/admin"))
        assert other.requests("/admin") == []


def test_every_redirect_hop_is_checked(feed_server: FeedServer):
    feed_server.redirect("/to-other-port", "")  # replaced below, once the port is known
    with FeedServer() as internal, Fetcher(timeout=2, allow=f"127.0.0.1:{_port(feed_server)}") as f:
        internal.route("/admin", SECRET_PAGE)
        feed_server.redirect("/to-other-port", internal.url("/admin"))
        feed_server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
        feed_server.redirect("/to-file", "file:///etc/passwd")
        assert "loopback" in _refused(f, feed_server.url("/to-other-port"))
        assert "link-local" in _refused(f, feed_server.url("/to-metadata"))
        assert _refused(f, feed_server.url("/to-file")) == (
            "redirected to a URL that is not http(s), refused"
        )
        assert internal.requests("/admin") == []


def test_a_feed_url_of_the_rules_written_as_an_ip_may_be_private(feed_server: FeedServer):
    """The operator named that address; its redirects elsewhere and a feed's links are not."""
    feed_server.route("/feed", FEED)
    feed_server.redirect("/moved", "/feed")
    with FeedServer() as internal, Fetcher(timeout=2) as fetcher:
        internal.route("/admin", SECRET_PAGE)
        feed_server.redirect("/inward", internal.url("/admin"))
        assert fetcher.get(feed_server.url("/feed"), configured=True).body == FEED
        assert fetcher.get(feed_server.url("/moved"), configured=True).body == FEED
        assert "loopback" in _refused(fetcher, feed_server.url("/inward"), configured=True)
        # The same address reached from a feed's link: refused, pooled connection or not.
        assert "loopback" in _refused(fetcher, feed_server.url("/feed"))
        # A host name is no address: its owner controls where it resolves.
        named = f"http://localhost:{_port(feed_server)}/feed"
        assert "loopback" in _refused(fetcher, named, configured=True)
        assert internal.requests("/admin") == []


# A whole poll: what the guard keeps out of the database and out of Slack

WATCH = """\
watch: chips
title: AI chips
entities:
  samsung: [Samsung]
feeds:
  - url: {feed}
    every: 1m
    full_text: true
claims:
  - id: samsung-texas
    about: [samsung]
    topic: [chips, Texas]
    value: "$44 billion"
    as_of: 2024-04-15
"""


def _context(tmp_path: Path, engine: Engine, fetcher: Fetcher, feed: str, **kw: object) -> Context:
    path = tmp_path / "chips.yaml"
    path.write_text(WATCH.format(feed=feed), encoding="utf-8")
    rules = load_rules(path)
    sync_claims(engine, rules)
    return Context(engine=engine, fetcher=fetcher, rules=rules, **kw)  # type: ignore[arg-type]


def test_full_text_never_fetches_a_private_page_a_feed_links_to(
    tmp_path: Path, engine: Engine, feed_server: FeedServer
) -> None:
    with FeedServer() as internal, Fetcher(timeout=2) as fetcher:
        internal.route("/admin", SECRET_PAGE)
        links = [
            internal.url("/admin"),  # another loopback port
            f"http://localhost:{_port(internal)}/admin",
            f"http://2130706433:{_port(internal)}/admin",
            feed_server.url("/story"),  # the feed's own server, reached from a link
        ]
        items = [Item(title=f"Samsung story {i}", link=link) for i, link in enumerate(links)]
        feed_server.route("/feed", rss20(items))
        feed_server.route("/story", SECRET_PAGE)
        ctx = _context(tmp_path, engine, fetcher, feed_server.url("/feed"))
        result = poll_feed(ctx, feed_server.url("/feed"))
        assert (result.result, result.new_articles) == ("new", 4)
        assert internal.requests("/admin") == [] and feed_server.requests("/story") == []
    with store.session(engine) as s:
        bodies = [row.body for row in s.exec(select(ArticleRow))]
    assert bodies == [None] * 4


def test_a_feed_redirected_inward_fails_without_quoting_the_page(
    tmp_path: Path, engine: Engine, feed_server: FeedServer
) -> None:
    with FeedServer() as internal, Fetcher(timeout=2) as fetcher:
        internal.route("/admin", SECRET_PAGE, headers={"Content-Type": "text/html"})
        feed_server.redirect("/feed", internal.url("/admin"))
        ctx = _context(tmp_path, engine, fetcher, feed_server.url("/feed"), degraded_after=1)
        result = poll_feed(ctx, feed_server.url("/feed"))
        assert result.result == "failed" and "loopback" in (result.error or "")
        assert internal.requests("/admin") == []
    with store.session(engine) as s:
        (alert,) = s.exec(select(AlertRow)).all()
    assert alert.kind == "feed_degraded" and SECRET not in alert.payload


def test_full_text_of_one_poll_stops_at_its_budget(
    tmp_path: Path, engine: Engine, feed_server: FeedServer
) -> None:
    links = [feed_server.url(f"/page{i}") for i in range(10)]
    for link in links:
        feed_server.route(link.removeprefix(feed_server.base), SECRET_PAGE, delay=5)
    items = [Item(title=f"Samsung story {i}", link=link) for i, link in enumerate(links)]
    feed_server.route("/feed", rss20(items))
    with Fetcher(timeout=2, allow="127.0.0.1") as fetcher:
        ctx = _context(tmp_path, engine, fetcher, feed_server.url("/feed"), full_text_budget=1.0)
        result = poll_feed(ctx, feed_server.url("/feed"))
    # Each stalled page had 2 s; the first used up the poll's 1 s, the other nine waited for none.
    assert (result.result, result.new_articles) == ("new", 10)
    assert sum(len(feed_server.requests(f"/page{i}")) for i in range(10)) == 1


# Compression


def _gzip_of_zeros(n: int) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1_000_000)
    parts = [squeeze.compress(block) for _ in range(n // len(block))]
    return b"".join(parts) + squeeze.flush()


def test_a_gzip_bomb_is_stopped_with_bounded_memory(feed_server: FeedServer):
    bomb = _gzip_of_zeros(200_000_000)  # 200 MB in about 200 kB
    feed_server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with Fetcher(timeout=10, max_bytes=1_000_000, allow="127.0.0.1") as fetcher:
        tracemalloc.start()
        try:
            reason = _refused(fetcher, feed_server.url("/bomb"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert reason == "body larger than 1 MB, stopped reading"
    assert peak < 8_000_000  # the cap and a chunk or two, not what the bomb expands to


def test_stacked_compression_is_refused(feed_server: FeedServer, fetcher: Fetcher):
    feed_server.route(
        "/twice", gzip.compress(gzip.compress(FEED)), headers={"Content-Encoding": "gzip, gzip"}
    )
    assert _refused(fetcher, feed_server.url("/twice")) == (
        "the body is compressed 2 times over (Content-Encoding lists 2 codings); refused, "
        "as it could expand without bound"
    )


def test_an_unknown_compression_is_named_only_when_it_is_a_plain_token(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/br", FEED, headers={"Content-Encoding": "br"})
    feed_server.route("/odd", FEED, headers={"Content-Encoding": f"x {SECRET} <b>"})
    assert _refused(fetcher, feed_server.url("/br")) == (
        "the body uses a compression that cannot be read ('br'); only gzip and deflate are "
        "asked for"
    )
    assert "an unknown one" in _refused(fetcher, feed_server.url("/odd"))


def test_deflate_with_and_without_its_zlib_header_is_read(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    feed_server.route("/zlib", zlib.compress(FEED), headers={"Content-Encoding": "deflate"})
    feed_server.route(
        "/raw", raw.compress(FEED) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    assert fetcher.get(feed_server.url("/zlib")).body == FEED
    assert fetcher.get(feed_server.url("/raw")).body == FEED


def test_a_stacked_bomb_is_a_failed_poll(tmp_path: Path, engine: Engine, feed_server: FeedServer):
    feed_server.route(
        "/feed", gzip.compress(gzip.compress(FEED)), headers={"Content-Encoding": "gzip, gzip"}
    )
    with Fetcher(timeout=2) as fetcher:
        ctx = _context(tmp_path, engine, fetcher, feed_server.url("/feed"))
        result = poll_feed(ctx, feed_server.url("/feed"))
    assert result.result == "failed"
    with store.session(engine) as s:
        state = s.get(FeedState, feed_server.url("/feed"))
        assert state is not None
        assert (state.last_result, state.failures) == ("failed", 1)
        assert "compressed 2 times over" in (state.last_error or "")


# One deadline over the whole request, and errors that quote nothing fetched


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback TCP server that hands each connection to `answer`; yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_answer_then_close, args=(conn, answer), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


def _answer_then_close(conn: socket.socket, answer: Callable[[socket.socket], None]) -> None:
    with conn:
        try:
            conn.recv(65536)
            answer(conn)
        except OSError:
            pass  # the client gave up


def _drip_headers(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(600):  # a header byte every 0.1 s for a minute
        conn.sendall(b"X")
        time.sleep(0.1)


def test_headers_dripped_a_byte_at_a_time_hit_the_deadline():
    with raw_server(_drip_headers) as base, Fetcher(timeout=0.5, allow="127.0.0.1") as fetcher:
        start = time.monotonic()
        reason = _refused(fetcher, base + "/feed")
        elapsed = time.monotonic() - start
    assert reason == "timed out after 0.5 s"
    assert elapsed < 10  # 20 times the deadline; unbounded, it took the whole minute


def test_one_deadline_covers_every_redirect(feed_server: FeedServer):
    for hop in range(4):
        feed_server.route(
            f"/hop{hop}", status=302, headers={"Location": f"/hop{hop + 1}"}, delay=0.3
        )
    feed_server.route("/hop4", FEED)
    with Fetcher(timeout=1.0, allow="127.0.0.1") as fetcher:
        assert _refused(fetcher, feed_server.url("/hop0")) == "timed out after 1 s"
    assert feed_server.requests("/hop4") == []  # each hop alone was well within 1 s


def test_an_error_quotes_neither_the_status_text_nor_broken_headers():
    def odd_reason(conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 500 {SECRET}\r\nContent-Length: 0\r\n\r\n".encode())

    def broken_header(conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\n{SECRET} no colon\r\n\r\n".encode())

    with Fetcher(timeout=2, allow="127.0.0.1") as fetcher:
        with raw_server(odd_reason) as base:
            assert _refused(fetcher, base + "/") == "HTTP 500 Internal Server Error"
        with raw_server(broken_header) as base:
            assert _refused(fetcher, base + "/") == (
                "the server broke off the response or sent invalid HTTP"
            )
