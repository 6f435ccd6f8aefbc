"""Feed documents written for the tests, in the shapes of the real ones.

Builders return bytes, ready to serve from `tests.feedserver.FeedServer`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

# Korean with syllables outside EUC-KR (똠, 햏): bytes that decode only as CP949.
CP949_ONLY_TITLE = "똠얌꿍 햏사, 3조원 투자 유치"
EUC_KR_TITLE = "삼성전자, 반도체에 2조 원 투자"


@dataclass(frozen=True, slots=True)
class Item:
    """One RSS item; `source` is the Google News publisher (name, url)."""

    title: str
    link: str
    guid: str | None = None
    description: str = ""
    pub_date: str | None = "Tue, 14 Jul 2026 03:33:16 GMT"
    source: tuple[str, str] | None = None


def rss20(items: list[Item], *, title: str = "Test Wire", encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 document, encoded (and declared) as `encoding`."""
    return _rss20_text(items, title=title, declared=encoding).encode(encoding)


def _rss20_text(items: list[Item], *, title: str, declared: str) -> str:
    parts = [
        f'<?xml version="1.0" encoding="{declared}"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://wire.example/</link>",
        "<description>Test feed</description>",
    ]
    for item in items:
        parts.append(f"<item><title>{escape(item.title)}</title>")
        parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.pub_date:
            parts.append(f"<pubDate>{item.pub_date}</pubDate>")
        parts.append(f"<description>{escape(item.description)}</description>")
        if item.source:
            name, url = item.source
            parts.append(f'<source url="{escape(url)}">{escape(name)}</source>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)


def news_items(n: int, *, prefix: str = "story") -> list[Item]:
    """`n` distinct plain items."""
    return [
        Item(
            title=f"Startup {i} raises ${i + 1} million",
            link=f"https://wire.example/{prefix}/{i}?utm_source=rss",
            guid=f"{prefix}-{i}",
            description=f"<p>Startup {i} said it raised <b>${i + 1} million</b>.</p>",
        )
        for i in range(n)
    ]


def google_news(query: str = "OpenAI funding") -> bytes:
    """A Google News search result: publisher suffix, <source>, one single story and a cluster."""
    single = (
        '<a href="https://news.google.com/rss/articles/CBMiAAA?oc=5" target="_blank">'
        "Anthropic - the AI lab - raises $13 billion</a>&nbsp;&nbsp;"
        '<font color="#6f6f6f">Reuters</font>'
    )
    cluster = (
        '<ol><li><a href="https://news.google.com/rss/articles/CBMiBBB?oc=5" target="_blank">'
        "OpenAI valued at $300 billion</a>&nbsp;&nbsp;"
        '<font color="#6f6f6f">The Washington Post</font></li>'
        '<li><a href="https://news.google.com/rss/articles/CBMiCCC?oc=5" target="_blank">'
        "OpenAI&#39;s $40 billion round &amp; what it means</a>&nbsp;&nbsp;"
        '<font color="#6f6f6f">Bloomberg</font></li></ol>'
    )
    items = [
        Item(
            title="Anthropic - the AI lab - raises $13 billion - Reuters",
            link="https://news.google.com/rss/articles/CBMiAAA?oc=5",
            guid="CBMiAAA",
            description=single,
            pub_date="Fri, 13 Mar 2026 12:33:03 GMT",
            source=("Reuters", "https://www.reuters.com"),
        ),
        Item(
            title="OpenAI valued at $300 billion - The Washington Post",
            link="https://news.google.com/rss/articles/CBMiBBB?oc=5",
            guid="CBMiBBB",
            description=cluster,
            pub_date="Tue, 14 Jul 2026 03:33:16 GMT",
            source=("The Washington Post", "https://www.washingtonpost.com"),
        ),
    ]
    return rss20(items, title=f'"{query}" - Google News')


def korean_rss(title: str, *, encoding: str, declared: str, pub_date: str) -> bytes:
    """A Korean RSS feed (one item) encoded as `encoding` but declared as `declared`."""
    item = Item(
        title=title,
        link="http://news.example.co.kr/view.html?id=1&code=910",
        description=f"<p>{title} 관련 기사</p>",
        pub_date=pub_date,
    )
    text = _rss20_text([item], title="한국 경제 뉴스", declared=declared)
    return text.encode(encoding)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example Atom</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-07-14T09:00:00Z</updated>
  <entry>
    <title>Mistral raises &#8364;600 million</title>
    <link rel="alternate" type="text/html" href="https://atom.example/mistral"/>
    <link rel="enclosure" href="https://atom.example/mistral.mp3"/>
    <id>tag:atom.example,2026:1</id>
    <published>2026-07-14T18:30:02+09:00</published>
    <updated>2026-07-15T00:00:00Z</updated>
    <summary type="html">&lt;p&gt;Paris-based Mistral &lt;b&gt;raised&lt;/b&gt;.&lt;/p&gt;</summary>
    <source><id>tag:other.example,2020:feed</id><title>Origin</title></source>
  </entry>
  <entry>
    <title>Content only</title>
    <link href="https://atom.example/content"/>
    <id>tag:atom.example,2026:2</id>
    <updated>2026-07-13T00:00:00Z</updated>
    <content type="html">&lt;p&gt;Body with $5 billion&lt;/p&gt;</content>
  </entry>
</feed>
"""

RSS10_RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example/">
    <title>RDF Wire</title><link>https://rdf.example/</link><description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://rdf.example/a?x=1&amp;y=2"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://rdf.example/a?x=1&amp;y=2">
    <title>RDF item</title>
    <link>https://rdf.example/a?x=1&amp;y=2</link>
    <description>One item</description>
    <dc:date>2026-07-14T19:32:01+09:00</dc:date>
  </item>
</rdf:RDF>
"""

RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel>
<title>Old Wire</title><link>http://old.example/</link><description>d</description>
<language>en</language>
<item><title>Caf\xe9 chain raises \xa35 million</title><link>http://old.example/1</link>
<description>Old style</description></item>
</channel></rss>
"""


def json_feed() -> bytes:
    """A JSON Feed 1.1 document with two items."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON Wire",
        "home_page_url": "https://json.example/",
        "items": [
            {
                "id": "json-1",
                "url": "https://json.example/1",
                "title": "xAI raises $6 billion",
                "content_html": "<p>xAI <em>raised</em> $6 billion.</p>",
                "date_published": "2026-07-14T10:00:00+02:00",
            },
            {
                "id": 2,
                "external_url": "https://elsewhere.example/2",
                "content_text": "Untitled note",
                "date_modified": "2026-07-14T10:00:00Z",
            },
        ],
    }
    return json.dumps(doc).encode()


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><h1>Checking your browser</h1></body></html>"
)


def truncated(document: bytes, keep: float = 0.6) -> bytes:
    """The first `keep` share of a document, as a server that died mid-response sends it."""
    return document[: int(len(document) * keep)]
