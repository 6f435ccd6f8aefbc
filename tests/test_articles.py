"""Stage Article: clean titles and text, canonical URLs, publisher, language and dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.articles import canonical_url, detect_lang, full_text, html_to_text, to_article
from monitor.errors import FeedError
from monitor.parse import Entry, ParsedFeed, parse_feed
from tests.feeddocs import EUC_KR_TITLE, google_news, korean_rss

GOOGLE = "https://news.google.com/rss/search?q=OpenAI+funding&hl=en-US&gl=US&ceid=US:en"
FETCHED_AT = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)


def _entry(**fields: object) -> Entry:
    base: dict[str, object] = {
        "id": "id-1",
        "link": "https://wire.example/a",
        "title": "Title",
        "summary": "",
        "published": None,
        "updated": None,
        "source": None,
        "source_url": None,
    }
    return Entry(**{**base, **fields})  # type: ignore[arg-type]


def _feed(title: str = "Wire") -> ParsedFeed:
    return ParsedFeed(title=title, version="rss20", entries=[], warning=None)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://WWW.Example.COM:443/a/B?utm_source=x&id=1&fbclid=2&Utm_Medium=3&q=a%20b#top",
            "https://www.example.com/a/B?id=1&q=a%20b",
        ),
        (
            "https://news.google.com/rss/articles/CBMiAAA?oc=5",
            "https://news.google.com/rss/articles/CBMiAAA",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?b=2&a=1", "http://example.com:8080/x?b=2&a=1"),
        ("https://example.com/x?doc=1&oc=5&utm=keep", "https://example.com/x?doc=1&utm=keep"),
        ("  https://example.com/x?utm_campaign=a  ", "https://example.com/x"),
        ("http://[::1]:8000/x", "http://[::1]:8000/x"),
        ("http://example.com:notaport/x", "http://example.com:notaport/x"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["id", "utm_source", "oc", "p", "fbclid", "page"]),
            st.text("ab1", max_size=3),
        ),
        max_size=5,
    )
)
def test_canonical_url_keeps_other_params_in_order_and_is_idempotent(params):
    query = "&".join(f"{k}={v}" for k, v in params)
    once = canonical_url(f"https://Example.com/p?{query}#f")
    kept = [f"{k}={v}" for k, v in params if k not in ("utm_source", "oc", "fbclid")]
    assert once == "https://example.com/p" + ("?" + "&".join(kept) if kept else "")
    assert canonical_url(once) == once


def test_google_news_article():
    feed = parse_feed(google_news(), {}, GOOGLE)
    single, cluster = (
        to_article(e, feed, feed_url=GOOGLE, fetched_at=FETCHED_AT) for e in feed.entries
    )
    # Only the trailing " - Reuters" goes; the dashes inside the headline stay.
    assert single.title == "Anthropic - the AI lab - raises $13 billion"
    assert single.publisher == "Reuters"
    assert single.url == "https://news.google.com/rss/articles/CBMiAAA"
    assert single.guid == "CBMiAAA"
    assert single.feed_url == GOOGLE
    assert single.lang == "en"
    assert single.published == datetime(2026, 3, 13, 12, 33, 3, tzinfo=UTC)
    assert single.body is None
    assert cluster.summary == (
        "OpenAI valued at $300 billion - The Washington Post; "
        "OpenAI's $40 billion round & what it means - Bloomberg"
    )


def test_korean_article_uses_feed_title_and_detects_korean():
    doc = korean_rss(
        EUC_KR_TITLE,
        encoding="euc_kr",
        declared="euc-kr",
        pub_date="Sat, 31 Dec 2005 13:47:03+0900",
    )
    feed = parse_feed(doc, {}, "http://news.example.co.kr/rss")
    article = to_article(
        feed.entries[0], feed, feed_url="http://news.example.co.kr/rss", fetched_at=FETCHED_AT
    )
    assert article.lang == "ko"
    assert article.publisher == "한국 경제 뉴스"
    assert article.title == EUC_KR_TITLE
    assert article.summary == f"{EUC_KR_TITLE} 관련 기사"
    assert article.published == datetime(2005, 12, 31, 4, 47, 3, tzinfo=UTC)


def test_published_falls_back_to_updated_then_fetched_at():
    updated = datetime(2026, 7, 1, tzinfo=UTC)
    with_updated = to_article(
        _entry(updated=updated), _feed(), feed_url="https://wire.example/rss", fetched_at=FETCHED_AT
    )
    undated = to_article(
        _entry(), _feed(), feed_url="https://wire.example/rss", fetched_at=FETCHED_AT
    )
    assert with_updated.published == updated
    assert undated.published == FETCHED_AT


def test_relative_link_is_resolved_against_the_feed():
    article = to_article(
        _entry(link="/news/1?utm_medium=rss"),
        _feed(),
        feed_url="https://Wire.example/rss/all.xml",
        fetched_at=FETCHED_AT,
    )
    assert article.url == "https://wire.example/news/1"


def test_publisher_falls_back_to_the_link_host():
    article = to_article(
        _entry(link="https://www.startups.example/x"),
        _feed(title=""),
        feed_url="https://agg.example/rss",
        fetched_at=FETCHED_AT,
    )
    assert article.publisher == "startups.example"


def test_title_markup_is_removed():
    article = to_article(
        _entry(title="Report: <b>Slack</b> raises $400 million"),
        _feed(),
        feed_url="https://wire.example/rss",
        fetched_at=FETCHED_AT,
    )
    assert article.title == "Report: Slack raises $400 million"


def test_title_key_ignores_case_punctuation_and_spacing():
    a = to_article(
        _entry(title="OpenAI’s $40B round!"),
        _feed(),
        feed_url="https://w.example/",
        fetched_at=FETCHED_AT,
    )
    b = to_article(
        _entry(title="openais  40b ROUND"),
        _feed(),
        feed_url="https://w.example/",
        fetched_at=FETCHED_AT,
    )
    c = to_article(
        _entry(title="OpenAI’s $41B round"),
        _feed(),
        feed_url="https://w.example/",
        fetched_at=FETCHED_AT,
    )
    assert a.title_key == b.title_key == "openais40bround"
    assert a.title_key != c.title_key


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("삼성전자, 반도체에 2조 원 투자", "ko"),
        ("OpenAI raises $40 billion", "en"),
        ("abcdefg 가나다", "ko"),  # 3 of 10 letters
        ("abcdefgh 가나", "en"),  # 2 of 10
        ("$40,000,000", "en"),
        ("", "en"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        (
            "<p>Raised &pound;5&nbsp;million.</p>\n<p>  More   here </p>",
            "Raised £5 million. More here",
        ),
        ("<div>a<script>var x = '$9 billion';</script><style>p{}</style>b</div>", "ab"),
        ("Plain &amp; simple", "Plain & simple"),
        ("<ul><li>one</li><li>two</li></ul>", "one; two"),
        ("no markup  at\nall", "no markup at all"),
        ("a <b>bold</b> claim<br/>next", "a bold claim next"),
    ],
)
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


ARTICLE_PAGE = """<!DOCTYPE html><html><head><title>Startup raises</title></head><body>
<nav><a href="/">Home</a> <a href="/tech">Tech</a></nav>
<article><h1>Startup raises $50 million</h1>
<p>The startup said on Tuesday it had raised $50 million in a Series B round led by a
large venture firm, valuing the company at about $400 million.</p>
<p>The company plans to use the money to hire engineers and expand into Europe and Asia
over the next two years, its chief executive said in an interview.</p>
<p>Its previous round, in 2024, raised $12 million from a group of angel investors and
two seed funds.</p></article>
<footer>Copyright 2026</footer></body></html>"""


def test_full_text_extracts_the_article(feed_server, fetcher):
    feed_server.route("/story", ARTICLE_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    text = full_text(fetcher, feed_server.url("/story"))
    assert text is not None
    assert "valuing the company at about $400 million" in text
    assert "Copyright 2026" not in text


def test_full_text_is_none_when_nothing_to_extract(feed_server, fetcher):
    feed_server.route("/empty", "<html><body></body></html>", headers={"Content-Type": "text/html"})
    feed_server.route("/blank", b"", headers={"Content-Type": "text/html"})
    assert full_text(fetcher, feed_server.url("/empty")) is None
    assert full_text(fetcher, feed_server.url("/blank")) is None


def test_full_text_uses_the_fetcher_limits(feed_server, fetcher):
    feed_server.route("/endless", endless=True, headers={"Content-Type": "text/html"})
    feed_server.route("/gone", b"", status=410)
    with pytest.raises(FeedError, match="body larger than 100 kB"):
        full_text(fetcher, feed_server.url("/endless"))
    with pytest.raises(FeedError, match="HTTP 410 Gone"):
        full_text(fetcher, feed_server.url("/gone"))
    feed_server.route("/story", ARTICLE_PAGE, headers={"Content-Type": "text/html"})
    assert full_text(fetcher, feed_server.url("/story"))  # unaffected
