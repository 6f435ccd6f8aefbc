"""The worker under hostile items, on SQLite and the real PostgreSQL: one bad item is
skipped, not the feed; values are cleaned and bounded before they are stored; an
unexpected error is a failed poll with a reason; text work per article is bounded.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, text
from sqlmodel import select

from monitor import store
from monitor.articles import (
    MAX_BODY_CHARS,
    MAX_FIGURES,
    MAX_PUBLISHER_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    Article,
    html_to_text,
)
from monitor.fetch import Fetcher
from monitor.observe import store_articles, sync_claims
from monitor.parse import MAX_ID_CHARS
from monitor.poll import MAX_ITEMS_PER_POLL, MAX_POLL_TEXT_CHARS, Context, poll_feed
from monitor.rules import load_rules
from monitor.store import AlertRow, ArticleRow, FeedState, ObservationRow
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer

WATCH = """\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman, 알트먼]
feeds:
{feeds}
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips, 반도체]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
"""
NOW = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)


def _context(tmp_path: Path, engine: Engine, fetcher: Fetcher, urls: list[str]) -> Context:
    path = tmp_path / "chips.yaml"
    feeds = "\n".join(f"  - url: {u}\n    every: 1m" for u in urls)
    path.write_text(WATCH.format(feeds=feeds), encoding="utf-8")
    rules = load_rules(path)
    sync_claims(engine, rules)
    return Context(engine=engine, fetcher=fetcher, rules=rules, degraded_after=2)


def _state(engine: Engine, url: str) -> FeedState:
    with store.session(engine) as s:
        row = s.get(FeedState, url)
        assert row is not None
        return row


def _articles(engine: Engine) -> list[ArticleRow]:
    with store.session(engine) as s:
        return list(s.exec(select(ArticleRow).order_by(ArticleRow.guid)))


def test_one_bad_item_is_skipped_and_the_rest_of_the_feed_stored(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """On PostgreSQL a NUL or a 4 kB value stopped the feed for good, every poll crashing."""
    long = "x" * 4096
    doc = {
        "items": [
            {
                "id": "a-nul",
                "url": "https://w.example/nul",
                "title": "Sam Altman: NUL\u0000 in\u0007 title",
            },
            {"id": "b-url", "url": f"https://w.example/{long}", "title": "Sam Altman: a 4 kB link"},
            {"id": "c-title", "url": "https://w.example/title", "title": f"Sam Altman: {long}"},
            {
                "id": "d-summary",
                "url": "https://w.example/summary",
                "content_text": "Sam Altman " + long * 4,
            },
            {
                "id": f"e-{long}",
                "url": "https://w.example/guid",
                "title": "Sam Altman: a 4 kB guid",
            },
            {"id": "f-plain", "url": "https://w.example/plain", "title": "Sam Altman: plain story"},
        ],
    }
    feed_server.route("/json", _json_feed(doc["items"]))
    url = feed_server.url("/json")
    ctx = _context(tmp_path, engine, fetcher, [url])
    result = poll_feed(ctx, url, now=NOW)
    assert (result.result, result.new_articles) == ("new", 5)
    stored = {row.url.rsplit("/", 1)[-1]: row for row in _articles(engine)}
    assert sorted(stored) == ["guid", "nul", "plain", "summary", "title"]  # not the 4 kB link
    assert stored["nul"].title == "Sam Altman: NUL in title"
    assert len(stored["title"].title) == MAX_TITLE_CHARS
    assert len(stored["summary"].summary) == MAX_SUMMARY_CHARS
    assert len(stored["guid"].guid) <= MAX_ID_CHARS and stored["guid"].guid.startswith("sha1:")
    state = _state(engine, url)
    assert (state.last_result, state.failures) == ("new", 0)
    # The next poll finds nothing new: the skipped item is not tried again and again.
    assert poll_feed(ctx, url, now=NOW).result == "unchanged"


def test_a_long_publisher_is_bounded(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    item = Item(
        title="Sam Altman", link="https://w.example/p", guid="p", source=("P" * 4096, "https://p/")
    )
    feed_server.route("/rss", rss20([item]))
    url = feed_server.url("/rss")
    ctx = _context(tmp_path, engine, fetcher, [url])
    assert poll_feed(ctx, url, now=NOW).result == "new"
    assert [len(row.publisher) for row in _articles(engine)] == [MAX_PUBLISHER_CHARS]


def _json_feed(items: list[dict[str, str]]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()


def test_a_poll_reads_at_most_its_budget_of_items(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    items = [
        {"id": f"i{n}", "url": f"https://w.example/{n}", "title": f"Sam Altman story {n}"}
        for n in range(MAX_ITEMS_PER_POLL + 100)
    ]
    feed_server.route("/json", _json_feed(items))
    url = feed_server.url("/json")
    ctx = _context(tmp_path, engine, fetcher, [url])
    assert poll_feed(ctx, url, now=NOW).new_articles == MAX_ITEMS_PER_POLL


def test_a_poll_reads_at_most_its_budget_of_text(
    tmp_path: Path, engine: Engine, feed_server: FeedServer
) -> None:
    """A 100 kB summary made one poll take 50 s at 733 MB; many long ones add up too."""
    text = "Word " * (MAX_SUMMARY_CHARS // 5)
    n = MAX_POLL_TEXT_CHARS // MAX_SUMMARY_CHARS + 20
    items = [
        {
            "id": f"i{i}",
            "url": f"https://w.example/{i}",
            "title": f"Sam Altman {i}",
            "content_text": text,
        }
        for i in range(n)
    ]
    feed_server.route("/json", _json_feed(items))
    url = feed_server.url("/json")
    with Fetcher(connect_timeout=1, timeout=5, max_bytes=10_000_000) as fetcher:
        ctx = _context(tmp_path, engine, fetcher, [url])
        read = poll_feed(ctx, url, now=NOW).new_articles
    assert MAX_POLL_TEXT_CHARS // MAX_SUMMARY_CHARS <= read <= n - 19


def test_an_unexpected_error_is_a_failed_poll_with_a_reason_and_degrades_the_feed(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """It crashed every poll with `monitor status` showing result=None failures=0."""
    feed_server.route(
        "/rss", rss20([Item(title="Sam Altman", link="https://w.example/1", guid="1")])
    )
    url = feed_server.url("/rss")
    ctx = _context(tmp_path, engine, fetcher, [url])
    with engine.begin() as conn:  # a real database refusal, in the middle of a poll
        conn.execute(text("ALTER TABLE article RENAME TO article_elsewhere"))
    for _ in range(2):
        result = poll_feed(ctx, url, now=NOW, force=True)
        assert result.result == "failed"
    state = _state(engine, url)
    assert (state.last_result, state.failures, state.degraded) == ("failed", 2, True)
    assert state.last_error is not None and state.last_error.startswith("the poll crashed (")
    with store.session(engine) as s:
        kinds = s.exec(select(AlertRow.kind)).all()
    assert kinds == ["feed_degraded"]


def test_an_empty_feed_with_an_html_entity_is_a_successful_poll(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """feedparser reads "&hellip;" leniently: 244 of its own test feeds have this shape."""
    feed_server.route("/rss", rss20([], title="Wire").replace(b"Wire", b"Wire&hellip;"))
    url = feed_server.url("/rss")
    ctx = _context(tmp_path, engine, fetcher, [url])
    assert poll_feed(ctx, url, now=NOW).result == "unchanged"
    state = _state(engine, url)
    assert (state.last_result, state.failures) == ("unchanged", 0)


def test_a_long_article_costs_at_most_max_figures_attributions(
    tmp_path: Path, engine: Engine, fetcher: Fetcher
) -> None:
    """80 kB of money text took 26 s to attribute, a 100 kB summary 50 s and 733 MB."""
    sentence = "Sam Altman's chip venture needs $7 trillion, 알트먼은 반도체에 5조 달러 "
    body = sentence * (80_000 // len(sentence))
    article = Article(
        url="https://w.example/long",
        title="Altman chip venture",
        summary=body,
        published=NOW,
        publisher="Wire",
        lang="en",
        guid="long",
        feed_url="https://w.example/rss",
        body=body,
    )
    assert len(article.summary) == MAX_SUMMARY_CHARS
    assert article.body is not None and len(article.body) == MAX_BODY_CHARS
    watch = _context(tmp_path, engine, fetcher, ["https://w.example/rss"]).rules.watches[0]
    stored = store_articles(engine, watch, [article], channel=None)
    assert stored.articles == 1
    with store.session(engine) as s:
        observed = s.exec(select(func.count()).select_from(ObservationRow)).one()
    assert 0 < observed <= MAX_FIGURES


def test_cleaning_html_is_linear():
    """400 kB of "<a" took 105 s with html.parser."""
    start = time.perf_counter()
    assert html_to_text("<a" * 200_000) == ""
    assert time.perf_counter() - start < 5.0
