"""Stage Article: a feed entry cleaned into what the rest of the pipeline reads.

Plain text instead of HTML, a canonical URL, a publisher, a language and a date that is
always set. Only `full_text` does I/O, through the same `Fetcher` and its limits.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from monitor.fetch import Fetcher
from monitor.googlenews import strip_publisher
from monitor.parse import Entry, ParsedFeed

_TRACKING_PARAMS = frozenset({"fbclid", "oc", "gclid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "td", "th", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "section", "article", "header", "footer", "figure", "figcaption", "hr"}
)
_INVISIBLE_TAGS = frozenset({"script", "style", "template", "noscript"})


@dataclass(frozen=True, slots=True)
class Article:
    """One story as the pipeline sees it."""

    url: str  # canonical
    title: str  # Google News: publisher suffix stripped
    summary: str  # plain text
    published: datetime  # tz-aware; falls back to updated, then fetched_at
    publisher: str  # <source> name, else the feed's title, else the link's host
    lang: str  # "ko" or "en"
    guid: str
    feed_url: str
    body: str | None = None  # full text, when the feed asks for it

    @property
    def title_key(self) -> str:
        """The title reduced to letters and digits, so syndicated copies compare equal."""
        folded = unicodedata.normalize("NFKC", self.title).casefold()
        return "".join(ch for ch in folded if ch.isalnum())

    @property
    def content_hash(self) -> str:
        """What the feed says of the story (title and summary), hashed: an item edited in
        place under the same URL hashes differently and is read again. The full text
        fetched for `full_text` feeds is left out: pages change with every visit."""
        return hashlib.sha256(f"{self.title}\n{self.summary}".encode()).hexdigest()


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no tracking, fragment or default port.

    Other query parameters keep their order and their original encoding.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote_plus(pair.partition("=")[0]))
    )
    path = parts.path or ("/" if netloc else "")
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in _TRACKING_PARAMS


def to_article(entry: Entry, feed: ParsedFeed, *, feed_url: str, fetched_at: datetime) -> Article:
    """Clean one entry. `fetched_at` dates an entry the feed left undated."""
    link = entry.link or (entry.id if entry.id.startswith(("http://", "https://")) else "")
    url = canonical_url(urljoin(feed_url, link) if link else feed_url)
    title = _collapse(_TAG.sub("", entry.title))
    if entry.source:
        title = strip_publisher(title, entry.source)
    summary = html_to_text(entry.summary)
    published = entry.published or entry.updated or fetched_at
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return Article(
        url=url,
        title=title,
        summary=summary,
        published=published,
        publisher=entry.source or feed.title or host,
        lang=detect_lang(f"{title} {summary}"),
        guid=entry.id,
        feed_url=feed_url,
    )


def detect_lang(text: str) -> str:
    """The language of a headline: Korean when at least 30% of its letters are Hangul."""
    letters = hangul = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if _is_hangul(ch):
                hangul += 1
    return "ko" if letters and hangul / letters >= 0.3 else "en"


def _is_hangul(ch: str) -> bool:
    return (
        "\uac00" <= ch <= "\ud7a3"  # syllables
        or "\u1100" <= ch <= "\u11ff"  # jamo
        or "\u3130" <= ch <= "\u318f"  # compatibility jamo
    )


def html_to_text(markup: str) -> str:
    """Readable plain text from a feed's HTML summary.

    Entities are unescaped and whitespace collapsed; list items (a Google News cluster is
    an <ol> of headlines) are joined with "; " so headlines do not run together.
    """
    if "<" not in markup and "&" not in markup:
        return _collapse(markup)
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return parser.text()


def full_text(fetcher: Fetcher, url: str, *, deadline: float | None = None) -> str | None:
    """The article's main text from its page, or None when nothing could be extracted.

    Raises `FeedError` when the page cannot be fetched, refused (a private address) or
    not done by `deadline` (`time.monotonic()`).
    """
    # Imported here: trafilatura and its dependencies take about 25 MB and serve only the
    # feeds marked `full_text`, which most watches do not have.
    import trafilatura

    page = fetcher.get(url, deadline=deadline)
    if not page.body:
        return None
    text = trafilatura.extract(page.body, url=page.url, include_comments=False)
    return (text.strip() or None) if text else None


def _collapse(text: str) -> str:
    return " ".join(text.split())


class _TextExtractor(HTMLParser):
    """Collects text, turning block boundaries into spaces and list items into "; "."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._items: list[list[str]] = [[]]
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden += 1
        elif tag == "li":
            self._items.append([])
        elif tag in _BLOCK_TAGS:
            self._items[-1].append(" ")
        elif tag == "font" and self._items[-1] and self._items[-1][-1].endswith("\xa0\xa0"):
            # Google News writes "headline&nbsp;&nbsp;<font>publisher</font>": keep them apart
            # the way its titles do.
            self._items[-1].append(" - ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "li":
            self._items.append([])
        elif tag in _BLOCK_TAGS:
            self._items[-1].append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._items[-1].append(data)

    def text(self) -> str:
        pieces = (_collapse("".join(item)) for item in self._items)
        return "; ".join(piece for piece in pieces if piece)
