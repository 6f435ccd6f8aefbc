"""Stage Entry: turn a feed document's bytes into entries (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

feedparser reads the XML formats; JSON Feed, which feedparser 6 does not know, is read
here. A document that yields nothing usable is a `FeedError` saying why.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser

from monitor.errors import FeedError

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
_LONG_MONTH = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?(?=\s)", re.IGNORECASE
)

# quick_ids: item boundaries, then each item's id element or link, read with plain regexes.
_ITEM_TAG = re.compile(rb"<(/?)([\w.-]+:)?(item|entry)[\s>/]")
_NESTED_SOURCE = re.compile(rb"<source[\s>].*?</source\s*>", re.DOTALL)
_RDF_ABOUT = re.compile(rb"""^[^>]*\brdf:about\s*=\s*["']([^"']*)["']""")
_TEXT = rb"\s*(<!\[CDATA\[.*?\]\]>|[^<]*)\s*"
_ID_ELEMENT = {
    b"item": (b"<guid", re.compile(rb"<guid(?:\s[^>]*)?>" + _TEXT + rb"</guid\s*>", re.DOTALL)),
    b"entry": (b"<id>", re.compile(rb"<id>" + _TEXT + rb"</id\s*>", re.DOTALL)),
}
_RSS_LINK = re.compile(rb"<link(?:\s[^>]*)?>" + _TEXT + rb"</link\s*>", re.DOTALL)


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
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=_korean_as_cp949(body, headers),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = [entry for entry in (_entry(raw) for raw in parsed.entries) if entry is not None]
    exc = parsed.get("bozo_exception") if parsed.bozo else None
    broken_xml = isinstance(exc, SAXParseException)
    # An encoding override alone leaves a sound (possibly empty) feed; broken XML without
    # a single entry, or a document of no feed format, is nothing we can use.
    if not entries and (broken_xml or not parsed.version):
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


def quick_items(body: bytes) -> list[QuickItem] | None:
    """The items `parse_feed` would give, in order, read with regexes; None if unsure.

    Costs a small fraction of a feedparser run, so an unchanged feed need not be parsed
    and a changed one need only have its new items parsed (`only_items`). Any doubt
    returns None (parse it all), never a list that could hide a new item or an error: a
    document with no items at all is left to the real parser too.
    """
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None
    tags = list(_ITEM_TAG.finditer(body))
    if not tags or len(tags) % 2:
        return None
    items = []
    for opening, closing in zip(tags[::2], tags[1::2], strict=True):
        slash, prefix, name = opening.groups()
        # Prefixed names, nesting or an item inside CDATA or a comment: not our simple shape.
        if slash or prefix or closing.groups() != (b"/", None, name):
            return None
        item_id = _block_id(name, body[opening.end() - 1 : closing.start()])
        end = body.find(b">", closing.start())
        if not item_id or end < 0:
            return None
        items.append(QuickItem(item_id, opening.start(), end + 1))
    return items


def quick_ids(body: bytes) -> list[str] | None:
    """The item ids of `quick_items`."""
    items = quick_items(body)
    return None if items is None else [item.id for item in items]


def item_digest(body: bytes, item: QuickItem) -> str:
    """A hash of the item's bytes: when it differs from the last poll's, the item was
    edited (or only reordered inside), and is parsed again to tell."""
    return hashlib.blake2b(body[item.start : item.end], digest_size=12).hexdigest()


def only_items(body: bytes, items: list[QuickItem], keep: list[QuickItem]) -> bytes:
    """The document with only the `keep` items of its `items`: the same feed, less to parse."""
    head, tail = body[: items[0].start], body[items[-1].end :]
    return head + b"".join(body[item.start : item.end] for item in keep) + tail


def _block_id(name: bytes, block: bytes) -> str | None:
    if name == b"item" and (about := _RDF_ABOUT.match(block)):
        return _text(about.group(1))
    if name == b"entry" and b"<source" in block:
        block = _NESTED_SOURCE.sub(b"", block)  # the original feed's <id>, not the entry's
    marker, pattern = _ID_ELEMENT[name]
    if marker in block:
        match = pattern.search(block)
        return _text(match.group(1)) if match else None
    if name == b"entry":
        return None  # Atom links are chosen by rel and type: leave them to feedparser
    link = _RSS_LINK.search(block)
    return _text(link.group(1)) if link else None


def _text(raw: bytes) -> str:
    """An id's text, or "" when only the real parser could read it right."""
    cdata = raw.startswith(b"<![CDATA[")
    if cdata:
        raw = raw[9:-3]
    try:
        text = raw.decode("utf-8")  # a legacy encoding's non-ASCII bytes fail here
    except UnicodeDecodeError:
        return ""
    text = text if cdata else html.unescape(text)
    if not text.isascii() and _feedparser_rereads(text):
        return ""
    return text.strip()


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
    entry_id = (raw.get("id") or "").strip() or link
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


def _content_id(title: str, summary: str) -> str:
    """A stable id for an item with neither guid nor link, so it still dedupes."""
    digest = hashlib.sha1(f"{title}\n{summary}".encode(), usedforsecurity=False).hexdigest()
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
    entry_id = str(item.get("id") or "").strip() or link
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
