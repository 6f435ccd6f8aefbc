"""Keywords at work: a section feed keeps only the items naming the watch, and
`google_news: auto` builds its searches from the watch's entities and keywords."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from monitor import store
from monitor.errors import RulesErrors
from monitor.fetch import Fetcher
from monitor.observe import sync_claims
from monitor.poll import Context, poll_feed
from monitor.rules import load_rules
from monitor.store import ArticleRow
from tests.daemon_helpers import monitor_env, run_monitor
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer

WATCH = """\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman, 샘 알트먼, 알트먼]
  arm: [Arm Holdings, Arm]
  openai: [OpenAI, 오픈AI]
keywords: [semiconductor, 반도체]
feeds:
{feeds}
claims:
  - id: venture-target
    about: [altman]
    topic: [chip]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
"""

RELATED = [
    Item("알트먼은 반도체에 8조 달러 필요하다고", "https://ko.example/1"),  # Korean, a particle
    Item("Semiconductor exports rise", "https://en.example/2"),  # a keyword, any case
    Item("Markets today", "https://en.example/3", description="Arm Holdings shares rose."),
]
UNRELATED = [
    Item("Football results", "https://en.example/4", description="The army team won."),
    Item("Armchair sales up", "https://en.example/5"),  # "Arm" is not inside a word
    Item("대한민국 날씨", "https://ko.example/6"),
]


def _rules_file(tmp_path: Path, feeds: str) -> Path:
    path = tmp_path / "chips.yaml"
    path.write_text(WATCH.format(feeds=feeds), encoding="utf-8")
    return path


def _stored(engine: Engine) -> set[str]:
    with store.session(engine) as s:
        return set(s.exec(select(ArticleRow.url)).all())


def test_a_section_feed_keeps_only_items_naming_the_watch_and_a_search_keeps_all(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/section", rss20([*RELATED, *UNRELATED]))
    search = [Item(f"search {i.title}", f"{i.link}-search") for i in UNRELATED]
    feed_server.route("/rss/search", rss20(search))  # any query: the path alone is routed
    feeds = f'  - url: {feed_server.url("/section")}\n  - google_news: "Sam Altman"'
    rules = load_rules(_rules_file(tmp_path, feeds), google_news_url=feed_server.base)
    sync_claims(engine, rules)
    ctx = Context(engine=engine, fetcher=fetcher, rules=rules)
    section, google = list(ctx.feeds())
    assert google.startswith(feed_server.base + "/rss/search?q=Sam+Altman")

    polled = poll_feed(ctx, section)
    assert (polled.new_articles, polled.dropped) == (3, 3)
    assert _stored(engine) == {i.link for i in RELATED}
    assert ctx.metrics.registry.get_sample_value("monitor_items_dropped_total") == 3
    # A search's items are about the watch already: none is dropped.
    assert poll_feed(ctx, google).dropped == 0
    assert _stored(engine) == {i.link for i in RELATED} | {i.link for i in search}


def test_google_news_auto_builds_searches_from_entities_and_keywords(tmp_path: Path) -> None:
    feeds = "  - google_news: auto\n    lang: en-US\n  - google_news: auto\n    lang: ko"
    rules = load_rules(_rules_file(tmp_path, feeds), google_news_url="http://proxy.example/gn/")
    watch = rules.watch("chips")
    english, korean = watch.feeds
    assert english.queries(watch) == [
        '"Sam Altman" semiconductor',
        '"Arm Holdings" semiconductor',
        '"OpenAI" semiconductor',
    ]
    assert korean.queries(watch) == ['"샘 알트먼" 반도체', '"오픈AI" 반도체']
    assert korean.urls(watch, rules.google_news_url)[0] == (
        "http://proxy.example/gn/rss/search?q="
        + quote_plus('"샘 알트먼" 반도체')
        + "&hl=ko&gl=KR&ceid=KR:ko"
    )
    assert len(rules.feeds()) == 5  # one feed entry per search


def test_google_news_auto_is_bounded_and_joins_keywords_as_alternatives(tmp_path: Path) -> None:
    entities = "\n".join(f"  e{n}: [Company {n}]" for n in range(8))
    path = tmp_path / "many.yaml"
    path.write_text(
        WATCH.format(feeds="  - google_news: auto")
        .replace(
            "  altman: [Sam Altman, Altman, 샘 알트먼, 알트먼]\n",
            f"{entities}\n  altman: [Sam Altman]\n",
        )
        .replace("keywords: [semiconductor, 반도체]", "keywords: [chip, fab, 반도체]"),
        encoding="utf-8",
    )
    watch = load_rules(path).watch("chips")
    queries = watch.feeds[0].queries(watch)
    assert queries == [f'"Company {n}" (chip OR fab)' for n in range(5)]


def test_google_news_auto_without_an_alias_in_its_language_names_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        WATCH.format(feeds="  - google_news: auto\n    lang: ko")
        .replace(", 샘 알트먼, 알트먼", "")
        .replace(", 오픈AI", ""),
        encoding="utf-8",
    )
    with pytest.raises(RulesErrors) as info:
        load_rules(path)
    (problem,) = info.value.errors
    assert (problem.line, problem.path) == (9, "feeds[0].google_news")
    assert "no entity has a Korean alias" in problem.message


def test_the_google_news_url_setting_moves_every_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _rules_file(tmp_path, '  - google_news: "Sam Altman"')
    assert next(iter(load_rules(path).feeds())).startswith("https://news.google.com/rss/search?")
    monkeypatch.setenv("MONITOR_GOOGLE_NEWS_URL", "http://127.0.0.1:9/")
    assert next(iter(load_rules(path).feeds())).startswith("http://127.0.0.1:9/rss/search?")


def test_rules_check_and_status_show_the_searches_auto_builds(tmp_path: Path) -> None:
    path = _rules_file(tmp_path, "  - google_news: auto\n    lang: ko")
    env = monitor_env(tmp_path, path, MONITOR_GOOGLE_NEWS_URL="http://gn.example")
    checked = run_monitor(["rules", "check"], env)
    assert checked.returncode == 0, checked.stderr
    assert 'feeds[0] auto, ko: "샘 알트먼" 반도체' in checked.stdout
    assert "http://gn.example/rss/search?q=%22%EC%83%98" in checked.stdout
    status = run_monitor(["status", "--json"], env)
    assert status.returncode == 0, status.stderr
    assert [row["feed"] for row in json.loads(status.stdout)] == [
        "http://gn.example/rss/search?q=" + quote_plus(q) + "&hl=ko&gl=KR&ceid=KR:ko"
        for q in ('"샘 알트먼" 반도체', '"오픈AI" 반도체')
    ]
