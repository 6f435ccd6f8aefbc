"""Stage Entry: every feed format into one Entry shape, and clear reasons for non-feeds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.errors import FeedError
from monitor.parse import ParsedFeed, parse_feed, quick_ids
from tests.feeddocs import (
    ATOM,
    CP949_ONLY_TITLE,
    EUC_KR_TITLE,
    HTML_PAGE,
    RSS091,
    RSS10_RDF,
    Item,
    google_news,
    json_feed,
    korean_rss,
    news_items,
    rss20,
    truncated,
)
from tests.feedserver import FeedServer

URL = "https://wire.example/feed.xml"


def _served(server: FeedServer, fetcher, doc: bytes, headers: dict[str, str]) -> ParsedFeed:
    """Serve `doc`, fetch it, and parse it with the headers the server really sent."""
    server.route("/feed", doc, headers=headers)
    got = fetcher.get(server.url("/feed"))
    return parse_feed(got.body, got.headers, got.url)


def _fails(doc: bytes, headers: dict[str, str] | None = None) -> str:
    with pytest.raises(FeedError) as caught:
        parse_feed(doc, headers or {}, URL)
    assert caught.value.url == URL
    return caught.value.reason


def test_rss20_served_and_parsed(feed_server, fetcher):
    feed = _served(
        feed_server, fetcher, rss20(news_items(3)), {"Content-Type": "application/rss+xml"}
    )
    assert (feed.version, feed.title, feed.warning) == ("rss20", "Test Wire", None)
    assert [e.id for e in feed.entries] == ["story-0", "story-1", "story-2"]
    first = feed.entries[0]
    assert first.title == "Startup 0 raises $1 million"
    assert first.link == "https://wire.example/story/0?utm_source=rss"
    assert first.summary == "<p>Startup 0 said it raised <b>$1 million</b>.</p>"
    assert first.published == datetime(2026, 7, 14, 3, 33, 16, tzinfo=UTC)
    assert first.updated is None  # RSS has no updated date; feedparser's alias is not used
    assert (first.source, first.source_url) == (None, None)


def test_google_news_source_is_kept():
    feed = parse_feed(google_news(), {}, URL)
    first = feed.entries[0]
    assert first.title == "Anthropic - the AI lab - raises $13 billion - Reuters"
    assert (first.source, first.source_url) == ("Reuters", "https://www.reuters.com")
    assert first.id == "CBMiAAA"


def test_atom_entries_link_dates_and_content():
    feed = parse_feed(ATOM, {"content-type": "application/atom+xml"}, URL)
    assert feed.version == "atom10"
    mistral, content_only = feed.entries
    assert mistral.id == "tag:atom.example,2026:1"  # not the <source>'s id
    assert mistral.link == "https://atom.example/mistral"  # rel=alternate, not the enclosure
    assert mistral.title == "Mistral raises €600 million"
    assert mistral.published == datetime(2026, 7, 14, 9, 30, 2, tzinfo=UTC)
    assert mistral.updated == datetime(2026, 7, 15, tzinfo=UTC)
    assert "<b>raised</b>" in mistral.summary
    assert content_only.summary == "<p>Body with $5 billion</p>"
    assert content_only.published is None


def test_rss10_rdf_uses_rdf_about_and_dc_date():
    feed = parse_feed(RSS10_RDF, {}, URL)
    assert feed.version == "rss10"
    (entry,) = feed.entries
    assert entry.id == "https://rdf.example/a?x=1&y=2"
    assert entry.published is None
    assert entry.updated == datetime(2026, 7, 14, 10, 32, 1, tzinfo=UTC)


def test_rss091_latin1():
    feed = parse_feed(RSS091, {}, URL)
    assert feed.version == "rss091n"  # the Netscape DTD flavour
    (entry,) = feed.entries
    assert entry.title == "Café chain raises £5 million"
    assert entry.id == entry.link == "http://old.example/1"
    assert entry.published is None


def test_json_feed_is_parsed_into_the_same_shape(feed_server, fetcher):
    feed = _served(feed_server, fetcher, json_feed(), {"Content-Type": "application/feed+json"})
    assert (feed.version, feed.title) == ("json1", "JSON Wire")
    first, second = feed.entries
    assert (first.id, first.link, first.title) == (
        "json-1",
        "https://json.example/1",
        "xAI raises $6 billion",
    )
    assert first.summary == "<p>xAI <em>raised</em> $6 billion.</p>"
    assert first.published == datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    assert (second.id, second.link, second.summary) == (
        "2",
        "https://elsewhere.example/2",
        "Untitled note",
    )
    assert second.updated == datetime(2026, 7, 14, 10, 0, tzinfo=UTC)


def test_json_that_is_not_a_feed():
    assert _fails(b'{"error": "rate limited"}') == "not a feed: JSON, but not a JSON Feed"


def test_truncated_json():
    assert _fails(truncated(json_feed())) == "not a feed: JSON ended early (line 1)"


def test_cp949_declared_as_euc_kr_decodes_without_warning(feed_server, fetcher):
    doc = korean_rss(
        CP949_ONLY_TITLE,
        encoding="cp949",
        declared="euc-kr",
        pub_date="Sat, 03 Apr 2010 21:15:06 +0900",
    )
    with pytest.raises(UnicodeDecodeError):
        doc.decode("euc_kr")  # the bytes really are CP949-only
    feed = _served(feed_server, fetcher, doc, {"Content-Type": "text/xml"})
    assert feed.title == "한국 경제 뉴스"
    assert feed.entries[0].title == CP949_ONLY_TITLE
    assert feed.warning is None
    assert feed.entries[0].link == "http://news.example.co.kr/view.html?id=1&code=910"


def test_cp949_labelled_ks_c_5601_in_the_http_header():
    doc = korean_rss(
        CP949_ONLY_TITLE,
        encoding="cp949",
        declared="euc-kr",
        pub_date="Sat, 03 Apr 2010 21:15:06 +0900",
    )
    feed = parse_feed(doc, {"Content-Type": "application/rss+xml; charset=ks_c_5601-1987"}, URL)
    assert feed.entries[0].title == CP949_ONLY_TITLE


def test_euc_kr_with_offset_without_space():
    doc = korean_rss(
        EUC_KR_TITLE,
        encoding="euc_kr",
        declared="EUC-KR",
        pub_date="Sat, 31 Dec 2005 13:47:03+0900",
    )
    feed = parse_feed(doc, {}, URL)
    (entry,) = feed.entries
    assert entry.title == EUC_KR_TITLE
    assert entry.published == datetime(2005, 12, 31, 4, 47, 3, tzinfo=UTC)


def test_unreadable_date_is_none():
    doc = rss20([Item(title="t", link="https://x.example/1", pub_date="sometime soon")])
    assert parse_feed(doc, {}, URL).entries[0].published is None


def test_html_page_is_a_clear_error(feed_server, fetcher):
    with pytest.raises(FeedError) as caught:
        _served(feed_server, fetcher, HTML_PAGE, {"Content-Type": "text/html"})
    assert caught.value.reason == "the server sent an HTML page, not a feed"  # no <title>
    assert _served(feed_server, fetcher, rss20(news_items(1)), {}).entries  # unaffected


@pytest.mark.parametrize("body", [b"", b"  \r\n\t", b"\xef\xbb\xbf\n"])
def test_empty_response(body):
    assert _fails(body) == "empty response"


def test_truncated_before_any_item_is_an_error():
    doc = rss20(news_items(3))
    cut = doc[: doc.index(b"<item>") + 20]
    assert _fails(cut) == "not a feed: XML ended early (line 5)"


def test_truncated_after_complete_items_is_used_with_a_warning():
    doc = rss20(news_items(3))
    cut = doc[: doc.index(b"</item>", doc.index(b"story-1")) + len(b"</item>") + 10]
    feed = parse_feed(cut, {}, URL)
    assert [e.id for e in feed.entries][:2] == ["story-0", "story-1"]
    assert feed.warning is not None and feed.warning.startswith("XML ended early (line")


def test_sitemap_is_not_a_feed():
    doc = b'<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.example/</loc></url></urlset>'
    assert _fails(doc) == "not a feed: the XML root is <urlset>, not RSS, RDF or Atom"


def test_broken_xml_without_items_names_the_line():
    assert _fails(b"<rss version='2.0'>\n<channel>\n<title>a &bogus; b</title>") == (
        "not a feed: broken XML at line 3: undefined entity"
    )


def test_feed_with_no_items_is_valid_and_empty():
    feed = parse_feed(rss20([]), {}, URL)
    assert (feed.version, feed.entries, feed.warning) == ("rss20", [], None)


def test_item_without_guid_or_link_gets_a_stable_content_id():
    doc = rss20([Item(title="Only a title", link="", description="and text")])
    first = parse_feed(doc, {}, URL).entries[0]
    assert first.id.startswith("sha1:")
    assert parse_feed(doc, {}, URL).entries[0].id == first.id


@pytest.mark.parametrize(
    "doc",
    [rss20(news_items(5)), google_news(), ATOM, RSS10_RDF, RSS091],
    ids=["rss20", "google", "atom", "rdf", "rss091"],
)
def test_quick_ids_equal_the_parsed_ids(doc):
    assert quick_ids(doc) == [e.id for e in parse_feed(doc, {}, URL).entries]


def test_quick_ids_unescape_entities_in_links():
    doc = rss20([Item(title="t", link="https://x.example/a?b=1&c=2")])
    assert quick_ids(doc) == ["https://x.example/a?b=1&c=2"]


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        (json_feed(), "JSON"),
        (b"", "empty"),
        (HTML_PAGE, "no items: let the parser say why"),
        (rss20([]), "no items"),
        (rss20([Item(title="t", link="")]), "an item without guid or link"),
        (
            rss20(
                [Item(title="t", link="https://x.example/1", description="<item>quoted")]
            ).replace(b"&lt;item&gt;", b"<![CDATA[<item>]]>"),
            "an item tag inside CDATA",
        ),
        (b'<?xml version="1.0"?><rdf:RDF><rss:item rdf:about="x"/></rdf:RDF>', "prefixed items"),
        (truncated(rss20(news_items(3)), 0.5), "an unclosed item"),
    ],
)
def test_quick_ids_give_up_when_unsure(doc, why):
    assert quick_ids(doc) is None, why


def test_quick_ids_cost_a_fraction_of_a_parse():
    doc = rss20(news_items(100))

    def cost(read) -> float:  # the least of several runs: others' load only adds
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            read()
            runs.append(time.perf_counter() - start)
        return min(runs)

    assert quick_ids(doc) is not None
    assert cost(lambda: quick_ids(doc)) * 10 < cost(lambda: parse_feed(doc, {}, URL))


_ID_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufffe\uffff"
    ),
    min_size=1,
    max_size=30,
).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _ID_TEXT), min_size=1, max_size=5))
@example([(False, "Â¡")])  # UTF-8 read as Latin-1, which feedparser repairs
@example([(True, "caf\x80")])  # a C1 control, which feedparser reads as windows-1252
def test_quick_ids_never_disagree_with_the_parser(specs):
    items = [
        Item(title=f"t{i}", link=f"https://x.example/{i}?q={text}", guid=text if has_guid else None)
        for i, (has_guid, text) in enumerate(specs)
    ]
    doc = rss20(items)
    ids = quick_ids(doc)
    assert ids is None or ids == [e.id for e in parse_feed(doc, {}, URL).entries]
