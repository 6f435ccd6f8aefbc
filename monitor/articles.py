"""Stage Article: a feed entry cleaned into what the rest of the pipeline reads.

Plain text instead of HTML, a canonical URL, a publisher, a language and a date that is
always set. Only `full_text` does I/O, through the same `Fetcher` and its limits.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from monitor.errors import ItemError
from monitor.fetch import Fetcher
from monitor.googlenews import strip_publisher
from monitor.parse import Entry, ParsedFeed

# What one item may bring, whatever its feed sends. Stored values stay within what
# PostgreSQL indexes (a btree row of about 2,700 bytes: url; title_key with publisher);
# the text read for figures, whose reading grows faster than the text, stays within a
# fraction of a second an article. Documented in README.md (Limits).
MAX_URL_BYTES = 2_000  # a longer link: the item is skipped
MAX_TITLE_CHARS = 500
MAX_TITLE_KEY_CHARS = 300
MAX_PUBLISHER_CHARS = 200
MAX_SUMMARY_CHARS = 10_000  # plain text, after cleaning
MAX_BODY_CHARS = 50_000  # full text, `full_text` feeds
MAX_FIGURES = 100  # money figures read in one article
# Markup is longer than its text: a summary's HTML is cut at this many characters first.
_MAX_MARKUP_CHARS = 8 * MAX_SUMMARY_CHARS
# NUL (PostgreSQL refuses it), other control characters and lone surrogates (no UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_TRACKING_PARAMS = frozenset({"fbclid", "oc", "gclid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "td", "th", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "section", "article", "header", "footer", "figure", "figcaption", "hr"}
)
_RAW_TEXT_TAGS = frozenset({"script", "style"})  # text up to their end tag, unread
_HIDDEN_TAGS = frozenset({"template", "noscript"})
# One token of HTML: a comment (or one left open to the end), a start or end tag, or a
# declaration. Possessive quantifiers, and no part crosses a "<": never backtracks.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*+)(?:\"[^\"<]*+\"|'[^'<]*+'|[^<>\"']++)*+>?"
    r"|<[!?][^<>]*+>?",
    re.DOTALL,
)


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

    def __post_init__(self) -> None:
        """Clean and bound what the feed sent, however the article was built (`replace`
        too); raise `ItemError` for a link too long to store."""
        for name, limit in _TEXT_LIMITS.items():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _CONTROL.sub("", value)[:limit])
        if len(self.url.encode("utf-8", "replace")) > MAX_URL_BYTES:
            raise ItemError(
                self.url[:100] + "...",
                f"its link is {len(self.url):,} characters long; links of more than "
                f"{MAX_URL_BYTES:,} bytes are not stored",
            )

    @property
    def title_key(self) -> str:
        """The title reduced to letters and digits, so syndicated copies compare equal."""
        folded = unicodedata.normalize("NFKC", self.title).casefold()
        return "".join(ch for ch in folded if ch.isalnum())[:MAX_TITLE_KEY_CHARS]

    @property
    def content_hash(self) -> str:
        """What the feed says of the story (title and summary), hashed: an item edited in
        place under the same URL hashes differently and is read again. The full text
        fetched for `full_text` feeds is left out: pages change with every visit."""
        return hashlib.sha256(f"{self.title}\n{self.summary}".encode()).hexdigest()


_TEXT_LIMITS = {
    "url": None,
    "title": MAX_TITLE_CHARS,
    "summary": MAX_SUMMARY_CHARS,
    "publisher": MAX_PUBLISHER_CHARS,
    "guid": None,
    "body": MAX_BODY_CHARS,
}


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
    try:
        url = canonical_url(urljoin(feed_url, link) if link else feed_url)
        host = (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError as exc:  # "https://[not-an-address]/": found by fuzzing
        raise ItemError(link[:100], f"its link is not a URL ({exc})") from exc
    title = _collapse(_TAG.sub("", entry.title))
    if entry.source:
        title = strip_publisher(title, entry.source)
    summary = html_to_text(entry.summary[:_MAX_MARKUP_CHARS])
    published = entry.published or entry.updated or fetched_at
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
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
    """Readable plain text from a feed's HTML summary, in time linear in its length.

    Entities are unescaped and whitespace collapsed; list items (a Google News cluster is
    an <ol> of headlines) are joined with "; " so headlines do not run together. Read
    with one pattern that never backtracks, not `html.parser`, which took 105 s on
    400 kB of "<a".
    """
    if "<" not in markup and "&" not in markup:
        return _collapse(markup)
    items: list[list[str]] = [[]]
    hidden = pos = 0
    while (token := _MARKUP.search(markup, pos)) is not None:
        if not hidden and token.start() > pos:
            items[-1].append(html.unescape(markup[pos : token.start()]))
        pos = token.end()
        if not token.group(2):
            continue  # a comment, a declaration
        tag = token.group(2).lower()
        if token.group(1):
            _end_tag(items, tag)
            hidden = max(0, hidden - 1) if tag in _HIDDEN_TAGS else hidden
            continue
        if tag in _RAW_TEXT_TAGS:  # their text is no markup: skip to their end tag
            end = re.compile(f"</{tag}[^<>]*+>?", re.IGNORECASE).search(markup, pos)
            pos = end.end() if end else len(markup)
            continue
        hidden += tag in _HIDDEN_TAGS
        _start_tag(items, tag)
        if token.group(0).endswith("/>"):
            _end_tag(items, tag)
    if not hidden:
        items[-1].append(html.unescape(markup[pos:]))
    pieces = (_collapse("".join(item)) for item in items)
    return "; ".join(piece for piece in pieces if piece)


def _start_tag(items: list[list[str]], tag: str) -> None:
    if tag == "li":
        items.append([])
    elif tag in _BLOCK_TAGS:
        items[-1].append(" ")
    elif tag == "font" and items[-1] and items[-1][-1].endswith("\xa0\xa0"):
        # Google News writes "headline&nbsp;&nbsp;<font>publisher</font>": keep them apart
        # the way its titles do.
        items[-1].append(" - ")


def _end_tag(items: list[list[str]], tag: str) -> None:
    if tag == "li":
        items.append([])
    elif tag in _BLOCK_TAGS:
        items[-1].append(" ")


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
