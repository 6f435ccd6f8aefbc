"""Fuzzing the feed path (bytes -> parse -> entries -> articles) and the rules loader.

Hypothesis, derandomized so that CI runs the same examples every time, sized to take
well under a minute. The properties: nothing but our own errors comes out (`FeedError`,
`ItemError`, `RulesErrors`), every article is cleaned and bounded, and the cheap id scan
agrees with the full parse whenever it answers.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.articles import (
    MAX_BODY_CHARS,
    MAX_PUBLISHER_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_BYTES,
    to_article,
)
from monitor.errors import FeedError, ItemError, RulesErrors
from monitor.parse import MAX_ID_CHARS, parse_feed, quick_ids
from monitor.rules import load_rules
from tests.feeddocs import ATOM, RSS10_RDF, google_news, json_feed, news_items, rss20

URL = "https://wire.example/feed.xml"
NOW = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

SEEDS = [rss20(news_items(3)), google_news(), ATOM, RSS10_RDF, json_feed()]
# Pieces that broke, or could break, a reader of feeds.
NASTY = [
    b"<item>",
    b"</item>",
    b"<entry>",
    b"<guid>",
    b"</guid>",
    b"<id>",
    b"<source>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"&hellip;",
    b"&amp;",
    b"&#0;",
    b"\x00",
    b"\xff\xfe",
    b' xml:base="http://x/"',
    b"<!DOCTYPE rss [<!ENTITY e 'x'>]>",
    b"<link>" + b"x" * 3000 + b"</link>",
    b" " * 2000,
    b'"\\u0000"',
    b'{"items": [{"id": null}]}',
]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A real-looking feed with pieces cut, doubled or inserted."""
    doc = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(doc)))
        piece = draw(st.one_of(st.sampled_from(NASTY), st.binary(max_size=20)))
        match draw(st.sampled_from(["insert", "cut", "repeat"])):
            case "insert":
                doc = doc[:at] + piece + doc[at:]
            case "cut":
                doc = doc[:at] + doc[at + draw(st.integers(1, 200)) :]
            case "repeat":
                doc = doc[:at] + piece * draw(st.integers(2, 50)) + doc[at:]
    return doc


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50) | st.floats(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@st.composite
def _json_feeds(draw: st.DrawFn) -> bytes:
    """JSON Feeds whose items hold any JSON at all, under the keys we read."""
    keys = st.sampled_from(["id", "url", "external_url", "title", "summary", "content_html"])
    items = draw(
        st.lists(
            st.one_of(st.dictionaries(keys, _JSON_VALUES, max_size=6), _JSON_VALUES), max_size=4
        )
    )
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()


def _read(body: bytes) -> None:
    """The feed path as a poll runs it; only our own errors may come out."""
    ids = quick_ids(body)
    try:
        feed = parse_feed(body, {}, URL)
    except FeedError:
        return
    if ids is not None:
        assert ids == [e.id for e in feed.entries]
    for entry in feed.entries:
        assert len(entry.id) <= MAX_ID_CHARS
        try:
            article = to_article(entry, feed, feed_url=URL, fetched_at=NOW)
        except ItemError:
            continue
        for value in (article.url, article.title, article.summary, article.publisher):
            assert not _CONTROL.search(value)
        assert len(article.url.encode()) <= MAX_URL_BYTES
        assert len(article.title) <= MAX_TITLE_CHARS
        assert len(article.summary) <= MAX_SUMMARY_CHARS
        assert len(article.publisher) <= MAX_PUBLISHER_CHARS
        assert article.body is None or len(article.body) <= MAX_BODY_CHARS


@FUZZ
@given(_mutated())
def test_mutated_feeds(body):
    _read(body)


@FUZZ
@given(_json_feeds())
def test_json_feeds_of_any_shape(body):
    _read(body)


VALID = """\
watch: fuzz
title: Fuzz
entities:
  altman: [Sam Altman]
feeds:
  - url: https://example.com/feed.xml
    every: 15m
claims:
  - id: target
    about: [altman]
    topic: [chip]
    value: "$7 trillion"
    as_of: 2024-02-08
"""
YAML_PIECES = [
    "&a ",
    "*a",
    "!foo ",
    "!!python/object/apply:os.system ",
    "!!python/name:os.system ",
    "!!binary ",
    "!!set ",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "? ",
    "<<: *a\n",
    "\t",
    "\x00",
    "|\n",
    "---\n",
    "%YAML 1.1\n",
    "'",
    '"',
    "~",
    "\n  ",
    "[" * 100,
]


@st.composite
def _rules_texts(draw: st.DrawFn) -> bytes:
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=10)))
        text = text[:at] + piece + text[at:]
    raw = text.encode("utf-8", "surrogatepass")
    return raw if draw(st.booleans()) else raw + draw(st.binary(max_size=8))


@FUZZ
@given(_rules_texts())
def test_the_rules_loader_answers_with_file_line_errors(tmp_path_factory, raw):
    path: Path = tmp_path_factory.mktemp("rules") / "fuzz.yaml"
    path.write_bytes(raw)
    try:
        load_rules(path)
    except RulesErrors as exc:
        assert exc.errors and all(str(e).startswith(f"{path}") for e in exc.errors)
