"""Recorded real feeds from ../shared/fixtures, read in place, served over loopback and parsed.

The folder is not ours to copy (see its README). These tests skip when it is missing, and fail
then under MONITOR_TEST_STRICT=1, as in CI (tests/needs.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.articles import to_article
from monitor.errors import FeedError
from monitor.fetch import Fetcher
from monitor.parse import ParsedFeed, parse_feed, quick_ids
from tests.feedserver import FeedServer
from tests.needs import SHARED, shared

FIXTURES = SHARED / "fixtures"
FETCHED_AT = datetime(2026, 7, 20, tzinfo=UTC)
_HEADER_LINE = re.compile(rb"^Header:\s*([\w-]+):[ \t]*(.*?)[ \t]*$", re.MULTILINE)


@pytest.fixture
def client() -> Iterator[Fetcher]:
    """Real feeds run to a few hundred kB: the default size limit, test-sized timeouts."""
    with Fetcher(connect_timeout=0.5, timeout=2.0, allow="127.0.0.1") as fetcher:
        yield fetcher


@pytest.fixture(scope="module")
def fixtures() -> Path:
    return shared("fixtures")


def _feed_files() -> list[str]:
    """Every feed file of the fixtures; without them one name, so that the `fixtures`
    fixture skips with its reason (an empty parameter set would skip with pytest's)."""
    if not FIXTURES.is_dir():
        return ["(no fixtures)"]
    return sorted(
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.suffix in (".xml", ".rss", ".rdf", ".json", ".html")
    )


def _served(
    fixtures: Path,
    server: FeedServer,
    client: Fetcher,
    name: str,
    content_type: str = "application/rss+xml",
) -> tuple[ParsedFeed, str]:
    server.route("/" + name, (fixtures / name).read_bytes(), headers={"Content-Type": content_type})
    got = client.get(server.url("/" + name))
    return parse_feed(got.body, got.headers, got.url), got.url


def _articles(feed: ParsedFeed, url: str) -> list:
    return [to_article(e, feed, feed_url=url, fetched_at=FETCHED_AT) for e in feed.entries]


def test_cp949_labelled_euc_kr_decodes(fixtures, feed_server, client):
    feed, _ = _served(
        fixtures, feed_server, client, "chardet-korean/CP949_ricanet.com.xml", "text/xml"
    )
    assert (feed.version, feed.title, len(feed.entries)) == ("rss092", "리카넷", 10)
    assert feed.entries[0].title == "구라치다 걸리면"
    assert feed.entries[0].published == datetime(2010, 4, 3, 12, 15, 6, tzinfo=UTC)
    conversation = next(e for e in feed.entries if e.title == "한국어 회화에서")
    assert "녿" in conversation.summary  # a CP949-only syllable: EUC-KR cannot hold it
    assert feed.warning is None


def test_euc_kr_with_spaceless_offset_dates(fixtures, feed_server, client):
    feed, url = _served(fixtures, feed_server, client, "chardet-korean/EUC-KR_acnnewswire.net.xml")
    assert len(feed.entries) == 8
    assert feed.entries[0].title.startswith("JCB가 China UnionPay와 ATM 이용 계약을 체결;")
    assert all(e.published is not None for e in feed.entries)  # "13:47:03+0900" recovered
    assert _articles(feed, url)[0].lang == "ko"


@pytest.mark.parametrize(
    ("name", "title", "count"),
    [
        ("chardet-korean/EUC-KR_blog.rss.naver.com.xml", "alphathinker님의 블로그", 10),
        ("chardet-korean/EUC-KR_critique.or.kr.xml", "Another World!", 10),
        ("chardet-korean/EUC-KR_sparcs.kaist.ac.kr.xml", "Ari's World", 10),
    ],
)
def test_euc_kr_feeds(fixtures, feed_server, client, name, title, count):
    feed, _ = _served(fixtures, feed_server, client, name)
    assert (feed.title, len(feed.entries)) == (title, count)


def test_khan_dc_date_goes_into_updated(fixtures, feed_server, client):
    feed, url = _served(fixtures, feed_server, client, "korean-khan/khan_total_news_2018-04-06.xml")
    assert (feed.title, len(feed.entries)) == ("경향신문:전체기사", 324)
    first = feed.entries[0]
    assert first.title == "당정청 “정시·수시 적절 수준으로 조정해야”"
    assert first.published is None
    assert first.updated == datetime(2018, 4, 6, 10, 32, 1, tzinfo=UTC)  # 19:32:01+09:00
    article = _articles(feed, url)[0]
    assert article.published == first.updated
    assert article.lang == "ko"
    assert "utm_" in first.link and "utm_" not in article.url


def test_google_news_search_publishers_stripped(fixtures, feed_server, client):
    feed, url = _served(
        fixtures, feed_server, client, "google-news/en-US_search_bears-ears_2026-07.xml"
    )
    assert len(feed.entries) == 92
    articles = _articles(feed, url)
    assert articles[0].title == "Trump again shrinks two national monuments in Utah"
    assert articles[0].publisher == "The Washington Post"
    san_juan = [a for a in articles if a.publisher == "San Juan Record |"]
    assert san_juan and all(not a.title.endswith("San Juan Record |") for a in san_juan)
    for entry, article in zip(feed.entries, articles, strict=True):
        assert entry.title == f"{article.title} - {entry.source}"
        assert "?oc=" not in article.url
    (cluster,) = [a for e, a in zip(feed.entries, articles, strict=True) if "<ol>" in e.summary]
    assert cluster.summary.startswith(
        "Trump again shrinks two national monuments in Utah - The Washington Post; "
        "President Trump drastically shrinks 2 Utah national monuments — again - "
        "The Salt Lake Tribune; "
    )


def test_google_news_pretty_printed_whitespace_is_stripped(fixtures, feed_server, client):
    feed, url = _served(
        fixtures,
        feed_server,
        client,
        "google-news/en-SG_search_site-reuters-markets_2026-03_PRETTYPRINTED.xml",
    )
    assert len(feed.entries) == 100
    assert all(e.id.strip() == e.id and "\n" not in e.link + e.title for e in feed.entries)
    first = _articles(feed, url)[0]
    assert first.title == "Canada's labor market dips sharply in February, unemployment rate up"
    assert first.summary == (
        "Canada's labor market dips sharply in February, unemployment rate up - Reuters"
    )


def test_google_news_top_stories_clusters(fixtures, feed_server, client):
    feed, url = _served(fixtures, feed_server, client, "google-news/en-US_topstories_2019-11.xml")
    assert len(feed.entries) == 38
    clusters = [
        a for e, a in zip(feed.entries, _articles(feed, url), strict=True) if "<ol>" in e.summary
    ]
    assert len(clusters) == 34
    assert all("<" not in a.summary and a.summary.count("; ") >= 2 for a in clusters)


@pytest.mark.parametrize(
    ("name", "version", "count"),
    [
        ("ai-news/techcrunch.xml", "rss20", 20),
        ("ai-news/verge.xml", "atom10", 10),
        ("crawinsight/nytimes.xml", "rss20", 50),
        ("feedparser/docs/examples/examples/rss10.rdf", "rss10", 1),
        ("feed-rs/jsonfeed_elastic_1.1.json", "json1", 3),
        ("feeder-android/cowboyprogrammer_feed.json", "json1", 10),
        ("feedjira/json_feed.json", "json1", 20),
        ("feeder-android/golem-de.xml", "rss20", 40),
        ("rss-parser/guardian.rss", "rss20", 55),
    ],
)
def test_formats(fixtures, feed_server, client, name, version, count):
    feed, _ = _served(fixtures, feed_server, client, name)
    assert (feed.version, len(feed.entries)) == (version, count)
    assert all(e.id for e in feed.entries)


def test_latin1_feed_decodes(fixtures, feed_server, client):
    feed, _ = _served(fixtures, feed_server, client, "rss-parser/encoding.rss")
    assert feed.title.startswith("Jornal de Notícias")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ai-news/html-error.html", "the server sent an HTML page, not a feed"),
        ("feeder-android/phoronix.html", "the server sent an HTML page, not a feed"),
        ("crawinsight/bloomberg.xml", "not a feed: the XML root is <urlset>, not RSS, RDF or Atom"),
        ("feed-rs/rss_2.0_invalid_1.xml", "not a feed: XML ended early (line 19)"),
    ],
)
def test_not_feeds(fixtures, feed_server, client, name, reason):
    with pytest.raises(FeedError) as caught:
        _served(fixtures, feed_server, client, name, "text/html")
    assert caught.value.reason.startswith(reason)
    healthy, _ = _served(fixtures, feed_server, client, "ai-news/techcrunch.xml")
    assert len(healthy.entries) == 20  # another feed in the same test is unaffected


def test_html_error_page_with_its_503_status(fixtures, feed_server, client):
    body = (fixtures / "ai-news/html-error.html").read_bytes()
    feed_server.route("/down", body, status=503, headers={"Content-Type": "text/html"})
    with pytest.raises(FeedError) as caught:
        client.get(feed_server.url("/down"))
    assert (caught.value.status, caught.value.reason) == (503, "HTTP 503 Service Unavailable")


@pytest.mark.parametrize(
    "name",
    [
        "feedparser/tests/wellformed/http/headers_etag.xml",
        "feedparser/tests/wellformed/http/headers_last_modified-modified.xml",
    ],
)
def test_feedparser_http_cases_with_real_headers(fixtures, feed_server, client, name):
    body = (fixtures / name).read_bytes()
    headers = {k.decode(): v.decode("latin-1") for k, v in _HEADER_LINE.findall(body)}
    feed_server.route(
        "/feed",
        body,
        headers=headers,
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
    )
    first = client.get(feed_server.url("/feed"))
    assert (first.etag, first.last_modified) == (headers.get("ETag"), headers.get("Last-Modified"))
    assert parse_feed(first.body, first.headers, first.url).version == "atom10"
    again = client.get(feed_server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert (again.status, again.body) == (304, b"")


def test_http_content_type_without_charset_still_decodes(fixtures, feed_server, client):
    # text/xml without charset means us-ascii by RFC 3023; the document is UTF-8.
    feed, _ = _served(
        fixtures, feed_server, client, "feedparser/tests/encoding/bozo_http_i18n.xml", "text/xml"
    )
    assert feed.title == "Iñtërnâtiônàlizætiøn"
    assert feed.warning == "document declared as us-ascii, but parsed as utf-8"


@pytest.mark.parametrize("name", _feed_files())
def test_quick_ids_agree_with_the_parser(fixtures, name):
    body = (fixtures / name).read_bytes()
    ids = quick_ids(body)
    if ids is None:
        return
    assert ids == [e.id for e in parse_feed(body, {}, name).entries]
