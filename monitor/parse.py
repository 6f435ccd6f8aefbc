"""Stage Entry: turn a feed document's bytes into entries (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

feedparser reads the XML formats; JSON Feed, which feedparser 6 does not know, is read
here. A document that yields nothing usable is a `FeedError` saying why.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat
from xml.sax import SAXParseException

import feedparser
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri

from monitor.errors import FeedError

# An item id is stored with each article and kept, per feed, with every poll's ids.
MAX_ID_CHARS = 1_000

# Labels under which Korean sites serve CP949; CP949 is a superset of EUC-KR, so reading
# any of them as CP949 loses nothing and decodes the UHC-only syllables (똠, 햏) too.
_KOREAN_CHARSETS = frozenset(
    {"euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ks_c_5601", "ksc5601", "ksc_5601", "korean"}
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_ROOT_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
# expat's messages for input that stops inside the document: a cut-off response.
_ENDED_EARLY = frozenset({"no element found", "unclosed token", "unclosed CDATA section"})
_SPACELESS_OFFSET = re.compile(r"(\d)([+-]\d{4})$")
# An entity reference XML does not predefine: its "&" escaped, the rest reads as text.
_HTML_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)(?=[A-Za-z][\w.-]*;)")
_LONG_MONTH = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?(?=\s)", re.IGNORECASE
)

# quick_items: item boundaries read with one linear pattern; ids read by expat (in C) the
# way feedparser reads them, for the plain cases only.
_ITEM_TAG = re.compile(rb"<(/?)([\w.-]+:)?((?i:item|entry))[\s>/]")
# A DOCTYPE's own declarations (entities, default attributes), and the bases feedparser
# resolves ids against: left to feedparser.
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^<>\[]*\[")
_BASE_ATTRIBUTE = re.compile(rb"""base\s*=\s*["']""")  # xml:base, or a plain base="..."
_ITEM_NAMES = frozenset({"item", "entry"})
_ID_NAMES = frozenset({"id", "guid"})
_WATCHED = _ID_NAMES | _ITEM_NAMES | {"link", "source"}
_NESTING = _ITEM_NAMES | {"source"}
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
# The namespaces feedparser reads as RSS or Atom, lower-cased as it matches them.
_CORE_NAMESPACES = frozenset(
    uri.lower() for uri, prefix in _FeedParserMixin.namespaces.items() if prefix == ""
)
_DEFAULT_NAMESPACE = re.compile(rb"""xmlns\s*=\s*["']([^"'<>]*)""")
_LINK_ENTITY = re.compile(r"&([A-Za-z0-9_]+);")  # feedparser's "fix" of links, as it does it


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item as published, before any cleaning."""

    id: str  # guid/id, else link
    link: str
    title: str
    summary: str  # as given (may be HTML)
    published: datetime | None  # tz-aware UTC
    updated: datetime | None
    source: str | None  # <source> name (Google News publisher)
    source_url: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A usable feed. `warning` keeps what was wrong with a feed that still parsed."""

    title: str
    version: str  # feedparser version, e.g. "rss20", "atom10", "json1"
    entries: list[Entry]
    warning: str | None


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a feed document; raise `FeedError` when it holds no usable feed."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise FeedError(url, "empty response")
    if head[:1] in (b"{", b"["):
        return _parse_json(body, url)
    # Summaries become plain text (`articles.html_to_text`): neither sanitizing their HTML
    # nor resolving the links inside it would change a word, and together they cost a
    # third of the parse. Entry links are resolved either way.
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=_korean_as_cp949(body, headers),
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as error:
        # An encoding name of stray bytes, a tag name with two "}" (found by fuzzing):
        # feedparser raises instead of flagging the document. It is no feed either way.
        raise FeedError(
            url, f"not a feed: the document could not be read ({type(error).__name__}: {error})"
        ) from error
    entries = [entry for entry in (_entry(raw) for raw in parsed.entries) if entry is not None]
    exc = parsed.get("bozo_exception") if parsed.bozo else None
    broken_xml = isinstance(exc, SAXParseException)
    # An encoding override alone leaves a sound (possibly empty) feed, and so do HTML
    # entities (&hellip;) in a complete feed, which feedparser reads leniently; other
    # broken XML without a single entry, or a document of no feed format, is nothing we
    # can use.
    if (
        not entries
        and not (parsed.version and _only_html_entities(exc, body))
        and (broken_xml or not parsed.version)
    ):
        raise FeedError(
            url, _why_not_a_feed(head, _describe_bozo(exc, body) if broken_xml else None)
        )
    return ParsedFeed(
        title=(parsed.feed.get("title") or "").strip(),
        version=parsed.version or "unknown",
        entries=entries,
        warning=_describe_bozo(exc, body) if exc is not None else None,
    )


@dataclass(frozen=True, slots=True)
class QuickItem:
    """An item found by `quick_items`: its id and its byte span in the document."""

    id: str
    start: int
    end: int


def quick_items(body: bytes, headers: Mapping[str, str] | None = None) -> list[QuickItem] | None:
    """The items `parse_feed` would give, in order, with the ids it would give; None if unsure.

    Costs a fraction of a feedparser run (expat builds the tree in C; only the items are
    visited in Python), so an unchanged feed need not be parsed and a changed one need
    only have its new items parsed (`only_items`). Linear in the body: no backtracking
    pattern reads an item. Any doubt (a document that is not well-formed XML, which
    feedparser reads with its lenient parser; a DOCTYPE's declarations; `xml:base`; an id
    that is not a plain child of its item; a duplicate id) returns None, so the document is parsed,
    never a list that could hide a new item or an error. `headers` are the response's:
    feedparser resolves ids against their Content-Location.
    """
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None
    if _INTERNAL_SUBSET.search(body) or _BASE_ATTRIBUTE.search(body):
        return None
    # Unprefixed elements of another namespace may still be feedparser's items and ids.
    for declared in _DEFAULT_NAMESPACE.finditer(body):
        if not _core_namespace(declared.group(1).decode("utf-8", "replace")):
            return None
    spans = _item_spans(body)
    if not spans:
        return None  # no items at all: left to the real parser, to say why
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    base = lowered.get("content-location", "")
    if base and make_safe_absolute_uri(base, base) != base:
        return None
    utf8 = _quick_encoding(body, lowered)
    if utf8 is None:
        return None
    try:
        root = ElementTree.fromstring(
            body, parser=None if utf8 else ElementTree.XMLParser(encoding="iso-8859-1")
        )
    except (ElementTree.ParseError, ValueError, LookupError):
        return None
    elements = [e for e in root.iter() if _kind(e.tag) in _ITEM_NAMES]
    if len(elements) != len(spans):
        return None
    items: list[QuickItem] = []
    for element, (start, end) in zip(elements, spans, strict=True):
        item_id = _element_id(element, base, utf8)
        if not item_id:
            return None
        items.append(QuickItem(item_id, start, end))
    if len({item.id for item in items}) != len(items):
        return None  # feedparser keeps duplicates; the digests by id would not
    return items


def quick_ids(body: bytes, headers: Mapping[str, str] | None = None) -> list[str] | None:
    """The item ids of `quick_items`."""
    items = quick_items(body, headers)
    return None if items is None else [item.id for item in items]


def item_digest(body: bytes, item: QuickItem) -> str:
    """A hash of the item's bytes: when it differs from the last poll's, the item was
    edited (or only reordered inside), and is parsed again to tell."""
    return hashlib.blake2b(body[item.start : item.end], digest_size=12).hexdigest()


def only_items(body: bytes, items: list[QuickItem], keep: list[QuickItem]) -> bytes:
    """The document with only the `keep` items of its `items`: the same feed, less to parse."""
    head, tail = body[: items[0].start], body[items[-1].end :]
    return head + b"".join(body[item.start : item.end] for item in keep) + tail


def _item_spans(body: bytes) -> list[tuple[int, int]] | None:
    """The byte span of every <item> or <entry>, read from its tags; None when they do
    not pair up (prefixed, nested, upper-case, or an item tag inside CDATA or a comment)."""
    tags = list(_ITEM_TAG.finditer(body))
    if len(tags) % 2:
        return None
    spans = []
    for opening, closing in zip(tags[::2], tags[1::2], strict=True):
        slash, prefix, name = opening.groups()
        # <ITEM> is an item to feedparser too: only lower-case names pair up with ElementTree's.
        if slash or prefix or name not in (b"item", b"entry"):
            return None
        if closing.groups() != (b"/", None, name):
            return None
        end = body.find(b">", closing.start())
        if end < 0:
            return None
        spans.append((opening.start(), end + 1))
    return spans


def _quick_encoding(body: bytes, headers: Mapping[str, str]) -> bool | None:
    """Whether feedparser reads the document as UTF-8 (True), as some other encoding
    that keeps ASCII as ASCII (False: only ASCII ids can be read alike), or None."""
    content_type = headers.get("content-type", "")
    match = _CHARSET.search(content_type)
    declared = {_declared_xml_encoding(body) or "utf-8", match.group(1).lower() if match else ""}
    # RFC 3023: a text/* type without a charset is US-ASCII, whatever the document says.
    if content_type.lower().startswith("text/") and not match:
        declared.add("us-ascii")
    declared -= {"", "utf-8", "utf8"}
    for name in declared:
        try:
            if "<&>;x".encode(name) != b"<&>;x":
                return None
        except (LookupError, UnicodeError):
            return None
    return not declared


@functools.lru_cache(maxsize=1024)
def _kind(tag: str) -> str:
    """What feedparser reads an element as, by its ElementTree tag: "item", "entry",
    "guid", "id", "link" or "source" when it is that RSS or Atom element, else "".

    Names are lower-cased as feedparser does (<GUID> is a guid). An element of another
    namespace is prefixed (`quick_items` leaves documents with another default namespace
    to feedparser), and a prefixed `metadata:id` is no id to feedparser. Cached: a feed
    repeats a few tags in every item.
    """
    namespace, _, name = tag[1:].rpartition("}") if tag[:1] == "{" else ("", "", tag)
    name = name.lower()
    return name if name in _WATCHED and _core_namespace(namespace) else ""


def _core_namespace(uri: str) -> bool:
    """Whether feedparser reads elements of this namespace as RSS or Atom ones."""
    uri = uri.lower()
    return not uri or uri in _CORE_NAMESPACES or "backend.userland.com/rss" in uri


def _element_id(item: ElementTree.Element, base: str, utf8: bool) -> str | None:
    """The id feedparser gives this item (its id, guid, rdf:about or link), or None
    when it is not a plain case."""
    ids: list[ElementTree.Element] = []
    links: list[ElementTree.Element] = []
    for child in item:
        kind = _kind(child.tag)
        if len(child):
            # feedparser keeps the shallowest id, then the last one: one nested anywhere
            # but in a <source> (the original feed's, kept apart) makes it not plain.
            watched = _NESTING if kind == "source" else _WATCHED
            if any(_kind(e.tag) in watched for e in child.iter() if e is not child):
                return None
        if not kind or kind == "source":
            continue
        if kind in _ITEM_NAMES or len(child):
            return None
        (ids if kind in _ID_NAMES else links).append(child)
    if ids:
        if len(ids) > 1:
            return None
        text = (ids[0].text or "").strip()
        permalink = next(
            (v for k, v in ids[0].attrib.items() if k.lower() == "ispermalink"), "true"
        )
        if text and permalink == "true":
            text = _urljoin(base, text)
    elif about := item.get(_RDF_ABOUT):
        text = about
    elif len(links) == 1 and not links[0].attrib and _kind(item.tag) == "item":
        # RSS links are resolved and have their entities "fixed" the way feedparser does;
        # Atom links are chosen by rel and type: left to feedparser.
        text = _urljoin(base, (links[0].text or "").strip()).replace("&amp;", "&")
        text = _LINK_ENTITY.sub(r"&\g<1>", text)
    else:
        return None
    if not text.isascii() and (not utf8 or _feedparser_rereads(text)):
        return None
    return _bounded_id(text.strip())


def _feedparser_rereads(text: str) -> bool:
    """Whether feedparser would change this text: it takes what reads as UTF-8 mistaken
    for Latin-1 ("Â¡") for such a mistake and repairs it, and reads C1 controls as
    windows-1252."""
    try:
        text.encode("iso-8859-1").decode("utf-8")
    except UnicodeError:
        return any("\x80" <= char <= "\x9f" for char in text)
    return True


def _declared_xml_encoding(body: bytes) -> str | None:
    match = _XML_ENCODING.match(body.lstrip(b"\xef\xbb\xbf"))
    return match.group(1).decode("ascii").lower() if match else None


def _korean_as_cp949(body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers for feedparser, re-declaring an EUC-KR label as CP949.

    EUC-KR pages are very often really CP949, and feedparser then falls back to
    windows-1252 mojibake (or needs chardet's guess); an explicit charset avoids both.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get("content-type", "")
    match = _CHARSET.search(content_type)
    declared = match.group(1) if match else _declared_xml_encoding(body)
    if declared and declared.lower() in _KOREAN_CHARSETS:
        mime = content_type.split(";", 1)[0].strip() or "application/xml"
        lowered["content-type"] = f"{mime}; charset=cp949"
    return lowered


def _why_not_a_feed(head: bytes, broken_xml: str | None) -> str:
    start = head[:4096]
    if _HTML_START.search(start):
        # Not its <title>: a reason reaches Slack, and the page may not be the feed's own.
        return "the server sent an HTML page, not a feed"
    if broken_xml:
        return f"not a feed: {broken_xml}"
    root = _ROOT_ELEMENT.search(_strip_prolog(start))
    name = root.group(1).decode("ascii", "replace") if root else "?"
    return f"not a feed: the XML root is <{name}>, not RSS, RDF or Atom"


def _strip_prolog(head: bytes) -> bytes:
    """The document from its root element on (skips <?xml?>, comments and DOCTYPE)."""
    return re.sub(rb"^(\s*(<\?.*?\?>|<!--.*?-->|<![^>]*>))*", b"", head, flags=re.DOTALL)


def _only_html_entities(exc: object, body: bytes) -> bool:
    """Whether expat's only complaint is entities HTML has and XML lacks (`&hellip;`):
    the document is well-formed once they are escaped."""
    if not (isinstance(exc, SAXParseException) and exc.getMessage() == "undefined entity"):
        return False
    # Any ASCII-compatible encoding keeps the markup where it is; the text does not matter.
    parser = expat.ParserCreate("iso-8859-1")
    try:
        parser.Parse(_HTML_ENTITY.sub(b"&amp;", body), True)
    except expat.ExpatError:
        return False
    return True


def _describe_bozo(exc: object, body: bytes) -> str:
    if isinstance(exc, SAXParseException):
        # feedparser prepends an XML declaration (one line) to a document without one.
        shift = 0 if body.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else 1
        line = (exc.getLineNumber() or 0) - shift
        message = exc.getMessage()
        if message in _ENDED_EARLY:
            return f"XML ended early (line {line})"
        return f"broken XML at line {line}: {message}"
    return str(exc) or type(exc).__name__


def _entry(raw: dict[str, Any]) -> Entry | None:
    link = (raw.get("link") or "").strip()
    title = " ".join((raw.get("title") or "").split())  # pretty-printed XML wraps titles
    summary = raw.get("summary") or ""
    if not summary and raw.get("content"):
        summary = raw["content"][0].get("value") or ""
    entry_id = _bounded_id((raw.get("id") or "").strip() or link)
    if not entry_id:
        if not (title or summary):
            return None
        entry_id = _content_id(title, summary)
    source = raw.get("source") or {}
    return Entry(
        id=entry_id,
        link=link,
        title=title,
        summary=summary,
        # dict.get: FeedParserDict otherwise answers `updated*` with the published date.
        published=_date(dict.get(raw, "published_parsed"), dict.get(raw, "published")),
        updated=_date(dict.get(raw, "updated_parsed"), dict.get(raw, "updated")),
        source=(source.get("title") or "").strip() or None,
        source_url=(source.get("href") or "").strip() or None,
    )


def _bounded_id(item_id: str) -> str:
    """An id of at most MAX_ID_CHARS: a longer one by its hash, still stable, still unique."""
    if len(item_id) <= MAX_ID_CHARS:
        return item_id
    raw = item_id.encode("utf-8", "surrogatepass")  # a JSON Feed may hold lone surrogates
    return "sha1:" + hashlib.sha1(raw, usedforsecurity=False).hexdigest()


def _content_id(title: str, summary: str) -> str:
    """A stable id for an item with neither guid nor link, so it still dedupes."""
    text = f"{title}\n{summary}".encode("utf-8", "surrogatepass")
    digest = hashlib.sha1(text, usedforsecurity=False).hexdigest()
    return f"sha1:{digest}"


def _date(parsed: time.struct_time | None, raw: str | None) -> datetime | None:
    if parsed:  # feedparser has already converted it to UTC
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return _parse_date_text(raw) if raw else None


def _parse_date_text(text: str) -> datetime | None:
    """A date feedparser gave up on: RFC 822 (also "13:47:03+0900", "26 Sept") or ISO 8601."""
    text = text.strip()
    rfc822 = _LONG_MONTH.sub(r"\1", _SPACELESS_OFFSET.sub(r"\1 \2", text))
    try:
        when = parsedate_to_datetime(rfc822)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _parse_json(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        raise FeedError(url, f"not a feed: JSON that is not valid UTF-8 ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        if exc.msg.startswith("Unterminated") or exc.pos >= len(exc.doc.rstrip()):
            raise FeedError(url, f"not a feed: JSON ended early (line {exc.lineno})") from exc
        raise FeedError(url, f"not a feed: broken JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(doc, dict) or not (
        str(doc.get("version", "")).startswith("https://jsonfeed.org/version/")
        or isinstance(doc.get("items"), list)
    ):
        raise FeedError(url, "not a feed: JSON, but not a JSON Feed")
    items = doc.get("items")
    entries = [
        entry
        for entry in (_json_entry(item) for item in (items if isinstance(items, list) else []))
        if entry is not None
    ]
    return ParsedFeed(
        title=str(doc.get("title") or "").strip(), version="json1", entries=entries, warning=None
    )


def _json_entry(item: object) -> Entry | None:
    if not isinstance(item, dict):
        return None
    link = str(item.get("url") or item.get("external_url") or "").strip()
    title = " ".join(str(item.get("title") or "").split())
    summary = str(item.get("summary") or item.get("content_html") or item.get("content_text") or "")
    entry_id = _bounded_id(str(item.get("id") or "").strip() or link)
    if not entry_id:
        if not (title or summary):
            return None
        entry_id = _content_id(title, summary)
    published = item.get("date_published")
    updated = item.get("date_modified")
    return Entry(
        id=entry_id,
        link=link,
        title=title,
        summary=summary,
        published=_parse_date_text(published) if isinstance(published, str) else None,
        updated=_parse_date_text(updated) if isinstance(updated, str) else None,
        source=None,
        source_url=None,
    )
