"""`monitor backfill` against a loopback Google News stand-in and a real database.

The stand-in answers `/rss/search` as Google News does for what backfill relies on: it
reads `q`, honours `after:` and `before:` (exclusive days), returns the newest 100 items
at most, and logs every request. Slack is the fake Slack Web API on loopback.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from monitor import store
from monitor.articles import Article
from monitor.backfill import CAP, MAX_WAIT, Backfilled, backfill
from monitor.delivery import deliver_pending
from monitor.fetch import Fetcher
from monitor.notify.slack_bot import SlackBot
from monitor.observe import store_articles, sync_claims
from monitor.rules import Rules, load_rules
from monitor.store import AlertRow, ArticleRow, ObservationRow
from tests.daemon_helpers import monitor_env, run_monitor
from tests.fakeslack import FakeSlack
from tests.feeddocs import Item, rss20

QUERY = "Sam Altman chip"
WATCH = f"""\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman, 알트먼]
keywords: [chip]
feeds:
  - google_news: "{QUERY}"
    lang: en-US
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
slack:
  channel: "#funding-alerts"
"""
SINCE, UNTIL = date(2024, 2, 1), date(2024, 4, 1)
_DATED = re.compile(r"\s*\b(after|before):(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True, slots=True)
class Search:
    """One request the stand-in answered."""

    query: str  # `q` without its dates
    after: date | None
    before: date | None
    returned: int
    at: float = field(default_factory=time.monotonic)


class GoogleNews:
    """A loopback stand-in for Google News search RSS over a fixed set of dated stories."""

    def __init__(self, stories: list[tuple[datetime, Item]]) -> None:
        self.stories = stories
        self.searches: list[Search] = []
        self.refusals: list[str] = []  # Retry-After values of the next requests, refused
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, q: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if self.refusals:
                return 429, {"Retry-After": self.refusals.pop(0)}, b"slow down"
            bounds = {name: date.fromisoformat(day) for name, day in _DATED.findall(q)}
            query = _DATED.sub("", q).strip()
            after, before = bounds.get("after"), bounds.get("before")
            found = [
                (published, item)
                for published, item in self.stories
                if query == QUERY
                and (after is None or published.date() > after)
                and (before is None or published.date() < before)
            ]
            found.sort(key=lambda pair: pair[0], reverse=True)
            found = found[:CAP]
            self.searches.append(Search(query, after, before, len(found)))
        return 200, {"Content-Type": "application/rss+xml"}, rss20([i for _, i in found])

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(news: GoogleNews) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers: dict[str, str] = {}
            if parts.path != "/rss/search":
                status, body = 404, b"not found"
            else:
                q = parse_qs(parts.query).get("q", [""])[0]
                status, headers, body = news.answer(q)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: tests read `GoogleNews.searches`."""

    return Handler


def _story(n: int, published: datetime, title: str, text: str) -> tuple[datetime, Item]:
    item = Item(
        title=f"{title} - Wire {n % 3}",
        link=f"https://news.example/{n}",
        guid=f"story-{n}",
        description=text,
        pub_date=format_datetime(published, usegmt=True),
        source=(f"Wire {n % 3}", f"https://wire{n % 3}.example"),
    )
    return published, item


def _stories() -> list[tuple[datetime, Item]]:
    """Two new values of the venture's target in February, a repeat of one in late March,
    and 130 stories without figures in the first week of March: more than one search
    returns, so only split windows can find them all."""
    says = "Sam Altman said the chip venture needs {}."
    at = datetime(2024, 2, 12, 9, tzinfo=UTC)
    stories = [
        _story(0, at, "Altman wants $8 trillion", says.format("$8 trillion")),
        _story(1, at + timedelta(days=8), "Altman: $9 trillion", says.format("$9 trillion")),
        _story(
            2, datetime(2024, 3, 25, 9, tzinfo=UTC), "Altman, again", says.format("$8 trillion")
        ),
    ]
    week = datetime(2024, 3, 4, tzinfo=UTC)
    for n in range(130):
        published = week + timedelta(hours=n)  # 4 to 9 March
        stories.append(_story(10 + n, published, f"Altman chip talk {n}", "No money here."))
    return stories


@pytest.fixture
def news() -> Iterator[GoogleNews]:
    standin = GoogleNews(_stories())
    yield standin
    standin.close()


def _rules(tmp_path: Path, news: GoogleNews) -> Rules:
    path = tmp_path / "chips.yaml"
    path.write_text(WATCH, encoding="utf-8")
    return load_rules(path, google_news_url=news.base)


def _fill(
    engine: Engine,
    rules: Rules,
    news: GoogleNews,
    since: date = SINCE,
    until: date = UNTIL,
    **kw: Any,
) -> Backfilled:
    sync_claims(engine, rules)
    with Fetcher(connect_timeout=1, timeout=5) as fetcher:
        return backfill(
            engine,
            fetcher,
            rules.watch("chips"),
            since,
            until,
            google_news_url=news.base,
            channel=None,
            **{"pause": 0.0, **kw},
        )


def _deliver(engine: Engine, slack: FakeSlack) -> None:
    bot = SlackBot(slack.token, channel="#funding-alerts", api_url=slack.api_url)
    deliver_pending(engine, bot, worker="test:1", min_interval=0.0)


def _rows(engine: Engine, model: Any) -> list[Any]:
    with store.session(engine) as s:
        return list(s.exec(select(model).order_by(model.id)).all())


def test_backfill_fills_the_history_in_publication_order_and_posts_one_catch_up(
    tmp_path: Path, engine: Engine, news: GoogleNews, fake_slack: FakeSlack
) -> None:
    rules = _rules(tmp_path, news)
    done = _fill(engine, rules, news)
    # Every story is found, the dense week too: 3 + 130.
    articles = _rows(engine, ArticleRow)
    assert len(articles) == 133
    assert done.in_range == 133 and done.stored.articles == 133
    published = [a.published for a in articles]
    assert published == sorted(published)  # stored oldest first
    assert {a.feed_url for a in articles} == set(rules.feeds())  # the search the daemon polls
    # The windows: [1 Feb, 3 Mar) and [3 Mar, 1 Apr); the second returned 100 and was split.
    first = news.searches[:2]
    assert [(s.after, s.before) for s in first] == [
        (date(2024, 1, 31), date(2024, 3, 3)),
        (date(2024, 3, 2), date(2024, 4, 1)),
    ]
    assert first[1].returned == CAP
    assert (news.searches[2].after, news.searches[2].before) == (
        date(2024, 3, 2),
        date(2024, 3, 17),
    )
    assert all(s.returned <= CAP for s in news.searches)
    assert done.split >= 1 and done.windows == len(news.searches)
    # Nothing alerted one by one: the two changes go into one catch-up message.
    assert done.changes == {"venture-target": 2} and done.messages == 1
    _deliver(engine, fake_slack)
    assert [p.metadata["event_type"] for p in fake_slack.posts] == [  # type: ignore[index]
        "funding_figures_catch_up"
    ]
    payload = fake_slack.posts[0].metadata["event_payload"]  # type: ignore[index]
    assert [c["reported"]["low"] for c in payload["changes"]] == [8e12, 9e12]
    # A second run over the same days adds nothing and posts nothing.
    alerts = len(_rows(engine, AlertRow))
    again = _fill(engine, rules, news)
    assert again.stored.articles == 0 and again.messages == 0
    assert len(_rows(engine, ArticleRow)) == 133 and len(_rows(engine, AlertRow)) == alerts
    _deliver(engine, fake_slack)
    assert len(fake_slack.posts) == 1


def test_a_quiet_backfill_records_known_values_and_queues_nothing(
    tmp_path: Path, engine: Engine, news: GoogleNews, fake_slack: FakeSlack
) -> None:
    rules = _rules(tmp_path, news)
    done = _fill(engine, rules, news, quiet=True)
    assert done.changes == {"venture-target": 2} and done.messages == 0
    assert {a.status for a in _rows(engine, AlertRow)} == {"recorded"}
    _deliver(engine, fake_slack)
    assert fake_slack.posts == []
    # $9 trillion is a known value now: a live report of it alerts nothing either.
    live = Article(
        url="https://live.example/9",
        title="Altman sticks to $9 trillion",
        summary="Sam Altman said the chip venture needs $9 trillion.",
        published=datetime(2024, 4, 10, 9, tzinfo=UTC),
        publisher="Live",
        lang="en",
        guid="live-9",
        feed_url="https://live.example/rss",
    )
    store_articles(engine, rules.watch("chips"), [live], channel=None)
    with store.session(engine) as s:
        outcomes = s.exec(
            select(ObservationRow.outcome)
            .join(ArticleRow, ArticleRow.id == ObservationRow.article_id)  # type: ignore[arg-type]
            .where(ArticleRow.url == live.url)
        ).all()
        pending = s.exec(select(func.count()).where(AlertRow.status == "pending")).one()
    assert outcomes == ["corroboration"] and pending == 0
    assert {a.status for a in _rows(engine, AlertRow)} == {"recorded"}
    _deliver(engine, fake_slack)
    assert fake_slack.posts == []


def test_refusals_are_waited_out_and_a_long_wait_stops_the_fetching(
    tmp_path: Path, engine: Engine, news: GoogleNews
) -> None:
    rules = _rules(tmp_path, news)
    waits: list[float] = []
    news.refusals = ["1"]
    done = _fill(engine, rules, news, sleep=waits.append)
    assert waits[0] == 1.0 and done.error is None
    assert len(_rows(engine, ArticleRow)) == 133
    # A Retry-After past the bound stops the fetching: nothing more is asked.
    asked = len(news.searches)
    news.refusals = [str(int(MAX_WAIT) * 10)]
    stopped = _fill(engine, rules, news, sleep=waits.append)
    assert "asked to wait longer than" in (stopped.error or "")
    assert len(news.searches) == asked and stopped.windows == 0


def test_requests_keep_the_pause_between_them(
    tmp_path: Path, engine: Engine, news: GoogleNews
) -> None:
    rules = _rules(tmp_path, news)
    # Three windows of days with no stories: two pauses, none before the first request.
    _fill(engine, rules, news, date(2023, 1, 1), date(2023, 3, 15), pause=0.3)
    gaps = [b.at - a.at for a, b in zip(news.searches, news.searches[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.29


def test_the_command_prints_what_it_did_and_a_second_run_adds_nothing(
    tmp_path: Path, news: GoogleNews
) -> None:
    path = tmp_path / "chips.yaml"
    path.write_text(WATCH, encoding="utf-8")
    env = monitor_env(tmp_path, path, MONITOR_GOOGLE_NEWS_URL=news.base)
    args = ["backfill", "chips", "--since", "2024-02-01", "--until", "2024-04-01", "--pause", "0"]
    first = run_monitor(args, env)
    assert first.returncode == 0, first.stderr
    assert "split in two" in first.stdout and "changes recorded: venture-target 2" in first.stdout
    assert "1 catch-up messages queued" in first.stdout
    assert "133 new articles stored" in first.stdout
    second = run_monitor([*args, "--json"], env)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert (summary["articles_stored"], summary["changes"], summary["catch_up_messages"]) == (
        0,
        {},
        0,
    )
    outbox = json.loads(run_monitor(["alerts", "--json"], env).stdout)
    assert [a["kind"] for a in outbox].count("catch_up") == 1
    wrong = run_monitor(
        ["backfill", "chips", "--since", "2024-04-01", "--until", "2024-02-01"], env
    )
    assert wrong.returncode == 2 and "is not before --until" in wrong.stderr
