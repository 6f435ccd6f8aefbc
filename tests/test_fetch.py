"""Stage Feed against a real loopback HTTP server: limits, validators and failures."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from monitor import USER_AGENT
from monitor.errors import FeedError
from monitor.fetch import Fetcher
from tests.feeddocs import news_items, rss20
from tests.feedserver import FeedServer, closed_port_url

FEED = rss20(news_items(3))
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def _assert_healthy(fetcher: Fetcher, server: FeedServer) -> None:
    """Another feed on the same server, fetched in the same test, still works."""
    server.route("/healthy.xml", FEED, headers=RSS)
    assert fetcher.get(server.url("/healthy.xml")).body == FEED


def test_get_returns_body_headers_and_sends_user_agent(feed_server, fetcher):
    feed_server.route(
        "/feed.xml", FEED, headers=RSS, etag='"v1"', last_modified="Mon, 13 Jul 2026 10:00:00 GMT"
    )
    got = fetcher.get(feed_server.url("/feed.xml"))
    assert (got.status, got.body) == (200, FEED)
    assert got.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert got.etag == '"v1"'
    assert got.last_modified == "Mon, 13 Jul 2026 10:00:00 GMT"
    assert got.url == feed_server.url("/feed.xml")
    assert 0 < got.elapsed < 0.5
    (request,) = feed_server.requests("/feed.xml")
    assert request.headers["user-agent"] == USER_AGENT
    assert "if-none-match" not in request.headers


def test_etag_gives_304_with_empty_body(feed_server, fetcher):
    feed_server.route("/feed.xml", FEED, etag='"abc"')
    first = fetcher.get(feed_server.url("/feed.xml"))
    second = fetcher.get(feed_server.url("/feed.xml"), etag=first.etag)
    assert (second.status, second.body) == (304, b"")
    assert feed_server.requests("/feed.xml")[1].headers["if-none-match"] == '"abc"'


def test_last_modified_gives_304(feed_server, fetcher):
    stamp = "Tue, 14 Jul 2026 03:33:16 GMT"
    feed_server.route("/feed.xml", FEED, last_modified=stamp)
    got = fetcher.get(feed_server.url("/feed.xml"), last_modified=stamp)
    assert got.status == 304
    assert feed_server.requests("/feed.xml")[0].headers["if-modified-since"] == stamp


def test_changed_document_is_fetched_again_despite_old_etag(feed_server, fetcher):
    feed_server.route("/feed.xml", FEED, etag='"v1"')
    old = fetcher.get(feed_server.url("/feed.xml"))
    new_feed = rss20(news_items(4, prefix="new"))
    feed_server.route("/feed.xml", new_feed, etag='"v2"')
    got = fetcher.get(feed_server.url("/feed.xml"), etag=old.etag)
    assert (got.status, got.body, got.etag) == (200, new_feed, '"v2"')


def test_gzip_body_is_decoded(feed_server, fetcher):
    feed_server.route("/feed.xml", FEED, gzip=True)
    got = fetcher.get(feed_server.url("/feed.xml"))
    assert got.headers["content-encoding"] == "gzip"
    assert got.body == FEED
    assert "gzip" in feed_server.requests("/feed.xml")[0].headers["accept-encoding"]


def test_server_error_is_a_feed_error_with_status(feed_server, fetcher):
    feed_server.route("/broken.xml", b"oops", status=500)
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/broken.xml"))
    assert caught.value.reason == "HTTP 500 Internal Server Error"
    assert caught.value.status == 500
    assert caught.value.url == feed_server.url("/broken.xml")
    assert caught.value.retry_after is None
    _assert_healthy(fetcher, feed_server)


def test_not_found_names_the_status(feed_server, fetcher):
    with pytest.raises(FeedError, match="HTTP 404 Not Found") as caught:
        fetcher.get(feed_server.url("/missing.xml"))
    assert caught.value.status == 404


def test_429_carries_retry_after_seconds(feed_server, fetcher):
    feed_server.route("/busy.xml", b"", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/busy.xml"))
    assert caught.value.status == 429
    assert caught.value.retry_after == 120.0
    assert caught.value.reason == "HTTP 429 Too Many Requests (retry after 120 s)"
    _assert_healthy(fetcher, feed_server)


def test_503_carries_retry_after_http_date(feed_server, fetcher):
    when = datetime.now(UTC) + timedelta(minutes=10)
    feed_server.route(
        "/down.xml", b"", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/down.xml"))
    assert caught.value.status == 503
    assert caught.value.retry_after is not None
    assert 590 <= caught.value.retry_after <= 600


def test_unparseable_retry_after_is_none(feed_server, fetcher):
    feed_server.route("/busy.xml", b"", status=429, headers={"Retry-After": "soon"})
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/busy.xml"))
    assert (caught.value.status, caught.value.retry_after) == (429, None)


def test_slow_response_times_out(feed_server, fetcher):
    feed_server.route("/slow.xml", FEED, delay=2.0)
    start = time.monotonic()
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/slow.xml"))
    assert caught.value.reason == "timed out after 0.5 s"
    assert time.monotonic() - start < 1.5
    _assert_healthy(fetcher, feed_server)


def test_slow_drip_body_hits_the_wall_clock_deadline(feed_server, fetcher):
    # Each byte arrives well within the read timeout; only the total deadline can stop it.
    feed_server.route("/drip.xml", b"x" * 200, drip=0.02)
    start = time.monotonic()
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/drip.xml"))
    assert caught.value.reason == "timed out after 0.5 s"
    assert time.monotonic() - start < 1.5
    _assert_healthy(fetcher, feed_server)


def test_endless_body_is_cut_at_max_bytes(feed_server, fetcher):
    feed_server.route("/endless.xml", endless=True)
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/endless.xml"))
    assert caught.value.reason == "body larger than 100 kB, stopped reading"
    _assert_healthy(fetcher, feed_server)


def test_declared_oversize_body_is_refused(feed_server):
    feed_server.route("/big.xml", b"x" * 2_000)
    small = Fetcher(timeout=0.5, max_bytes=1_000, allow="127.0.0.1")
    with small, pytest.raises(FeedError) as caught:
        small.get(feed_server.url("/big.xml"))
    assert caught.value.reason == "body larger than 1 kB, stopped reading"


def test_gzip_bomb_is_cut_on_decoded_size(feed_server, fetcher):
    feed_server.route("/bomb.xml", b"\0" * 1_000_000, gzip=True)
    with pytest.raises(FeedError, match="body larger than 100 kB"):
        fetcher.get(feed_server.url("/bomb.xml"))


def test_redirects_are_followed_to_the_final_url(feed_server, fetcher):
    feed_server.route("/new.xml", FEED)
    feed_server.redirect("/old.xml", "/middle.xml", status=301)
    feed_server.redirect("/middle.xml", "/new.xml")
    got = fetcher.get(feed_server.url("/old.xml"))
    assert (got.url, got.body) == (feed_server.url("/new.xml"), FEED)


def test_redirect_loop_is_a_clear_error(feed_server, fetcher):
    feed_server.redirect("/a.xml", "/b.xml")
    feed_server.redirect("/b.xml", "/a.xml")
    with pytest.raises(FeedError) as caught:
        fetcher.get(feed_server.url("/a.xml"))
    assert caught.value.reason == "more than 5 redirects (loop?)"
    assert len(feed_server.requests("/a.xml")) + len(feed_server.requests("/b.xml")) == 6
    _assert_healthy(fetcher, feed_server)


def test_connection_refused(feed_server, fetcher):
    with pytest.raises(FeedError) as caught:
        fetcher.get(closed_port_url())
    assert caught.value.reason == "connection refused"
    assert caught.value.status is None
    _assert_healthy(fetcher, feed_server)


def test_non_http_url_is_refused(fetcher):
    with pytest.raises(FeedError, match="not a fetchable http"):
        fetcher.get("ftp://example.com/feed.xml")


def test_per_host_limit_queues_the_third_request_but_not_other_hosts(feed_server):
    feed_server.route("/slow.xml", FEED, delay=0.3)
    with FeedServer() as other, Fetcher(timeout=3, per_host=2, allow="127.0.0.1") as client:
        other.route("/fast.xml", FEED)
        finished: dict[str, float] = {}
        start = time.monotonic()

        def fetch(name: str, url: str) -> None:
            client.get(url)
            finished[name] = time.monotonic() - start

        threads = [
            threading.Thread(target=fetch, args=(f"slow{i}", feed_server.url("/slow.xml")))
            for i in range(3)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.05)  # let the slow ones take both slots first
        fetch("other", other.url("/fast.xml"))
        for thread in threads:
            thread.join()
    slow = sorted(finished[f"slow{i}"] for i in range(3))
    assert slow[0] < 0.5 and slow[1] < 0.5  # two ran at once
    assert slow[2] >= 0.6  # the third waited for a slot
    assert finished["other"] < 0.25  # a different host was not held up


def test_many_threads_share_one_fetcher(feed_server):
    docs = {f"/f{i}.xml": rss20(news_items(2, prefix=f"f{i}")) for i in range(5)}
    for path, doc in docs.items():
        feed_server.route(path, doc)
    results: list[bool] = []
    with Fetcher(timeout=3, per_host=2, allow="127.0.0.1") as client:

        def fetch(path: str) -> None:
            results.append(client.get(feed_server.url(path)).body == docs[path])

        threads = [threading.Thread(target=fetch, args=(path,)) for path in list(docs) * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [True] * 20


def test_loopback_feeds_never_go_through_the_users_proxy(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = closed_port_url().rsplit("/", 1)[0]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, dead_proxy)
    feed_server.route("/f", b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    with Fetcher(timeout=2, allow="127.0.0.1") as client:
        assert client.get(feed_server.url("/f")).status == 200
