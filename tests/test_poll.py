"""The worker against a loopback feed server and a real database (SQLite and PostgreSQL).

Each test asserts what was recorded for each feed, and that the other feeds were unaffected.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import select

from monitor import store
from monitor.delivery import deliver_pending
from monitor.fetch import Fetcher
from monitor.notify.slack_bot import SlackBot
from monitor.observe import sync_claims
from monitor.poll import Context, QuietPolls, poll_feed
from monitor.rules import load_rules
from monitor.store import AlertRow, ArticleRow, FeedState, ObservationRow
from tests import feeddocs
from tests.fakeslack import FakeSlack
from tests.feeddocs import (
    CP949_ONLY_TITLE,
    EUC_KR_TITLE,
    Item,
    korean_rss,
    rss20,
    truncated,
)
from tests.feedserver import FeedServer

WATCH = """\
watch: chips
title: AI chips
entities:
  altman: [Sam Altman, Altman, 알트먼]
  samsung: [Samsung, 삼성전자]
keywords: [startup, chip, 투자]  # the test feeds' stories: kept by a section feed's filter
feeds:
{feeds}
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips, 반도체]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
  - id: samsung-texas
    about: [samsung]
    topic: [Texas, 텍사스]
    value: "$44 billion"
    as_of: 2024-04-15
catch_up: {catch_up}
"""


def news_items(n: int, *, prefix: str = "story") -> list[Item]:
    """`n` distinct stories whose titles differ across prefixes too: no syndicated copies."""
    return [
        replace(item, title=f"{prefix}: {item.title}")
        for item in feeddocs.news_items(n, prefix=prefix)
    ]


def _context(
    tmp_path: Path,
    engine: Engine,
    fetcher: Fetcher,
    urls: list[str],
    *,
    catch_up: bool = True,
    **kw: object,
) -> Context:
    feeds = "\n".join(f"  - url: {u}\n    every: 1m" for u in urls)
    path = tmp_path / "chips.yaml"
    text = WATCH.format(feeds=feeds, catch_up="on" if catch_up else "off")
    path.write_text(text, encoding="utf-8")
    rules = load_rules(path)
    sync_claims(engine, rules)
    return Context(engine=engine, fetcher=fetcher, rules=rules, **kw)  # type: ignore[arg-type]


def _state(engine: Engine, url: str) -> FeedState:
    with store.session(engine) as s:
        row = s.get(FeedState, url)
        assert row is not None
        return row


def _count(engine: Engine, model: type, *where: object) -> int:
    with store.session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_each_failure_is_recorded_for_its_feed_and_the_others_still_work(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    good = rss20(news_items(3))
    feed_server.route("/ok", good, headers={"Content-Type": "application/rss+xml"})
    feed_server.route("/gzip", rss20(news_items(2, prefix="gz")), gzip=True)
    feed_server.route(
        "/euc-kr",
        korean_rss(
            EUC_KR_TITLE,
            encoding="euc-kr",
            declared="euc-kr",
            pub_date="Tue, 14 Jul 2026 03:33:16 +0900",
        ),
    )
    cp949 = korean_rss(
        CP949_ONLY_TITLE,
        encoding="cp949",
        declared="euc-kr",
        pub_date="Tue, 14 Jul 2026 03:33:16 +0900",
    )
    feed_server.route("/cp949", cp949.replace(b"id=1", b"id=2"))  # its own story
    feed_server.route("/500", b"oops", status=500)
    feed_server.route("/429", b"slow down", status=429, headers={"Retry-After": "120"})
    feed_server.route("/slow", good, delay=2.0)
    feed_server.route("/endless", endless=True, headers={"Content-Type": "application/rss+xml"})
    feed_server.redirect("/loop-a", "/loop-b")
    feed_server.redirect("/loop-b", "/loop-a")
    feed_server.route(
        "/html",
        b"<!doctype html><html><body><h1>Welcome</h1></body></html>",
        headers={"Content-Type": "text/html"},
    )
    feed_server.route("/truncated", truncated(rss20(news_items(5, prefix="cut")), keep=0.1))
    # Cut after its first item: a bozo feed that still parses is used, with the warning kept.
    feed_server.route("/bozo", truncated(rss20(news_items(5, prefix="bozo")), keep=0.3))
    paths = [
        "/ok",
        "/gzip",
        "/euc-kr",
        "/cp949",
        "/500",
        "/429",
        "/slow",
        "/endless",
        "/loop-a",
        "/html",
        "/truncated",
        "/bozo",
    ]
    urls = {p: feed_server.url(p) for p in paths}
    ctx = _context(tmp_path, engine, fetcher, list(urls.values()))

    results = {p: poll_feed(ctx, u) for p, u in urls.items()}

    expected_failures = {
        "/500": "HTTP 500",
        "/429": "429",
        "/slow": "timed out",
        "/endless": "larger than",
        "/loop-a": "redirects",
        "/html": "HTML",
        "/truncated": "XML ended early",
    }
    for path, reason in expected_failures.items():
        state = _state(engine, urls[path])
        assert state.last_result == "failed", path
        assert state.failures == 1, path
        assert reason.lower() in (state.last_error or "").lower(), (path, state.last_error)
        assert results[path].result == "failed"
    for path, count in {"/ok": 3, "/gzip": 2, "/euc-kr": 1, "/cp949": 1, "/bozo": 1}.items():
        state = _state(engine, urls[path])
        assert (state.last_result, state.failures, state.last_error) == ("new", 0, None), path
        assert state.articles == count, path
    assert "XML ended early" in (_state(engine, urls["/bozo"]).warning or "")
    assert _state(engine, urls["/ok"]).warning is None
    with store.session(engine) as s:
        titles = set(s.exec(select(ArticleRow.title)).all())
    assert {EUC_KR_TITLE, CP949_ONLY_TITLE} <= titles
    assert _state(engine, urls["/429"]).last_status == 429
    assert _state(engine, urls["/500"]).last_status == 500


def test_conditional_get_then_304_costs_no_parse(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/etag", rss20(news_items(2)), etag='"v1"')
    feed_server.route(
        "/lm", rss20(news_items(2, prefix="lm")), last_modified="Tue, 14 Jul 2026 03:33:16 GMT"
    )
    urls = [feed_server.url("/etag"), feed_server.url("/lm")]
    ctx = _context(tmp_path, engine, fetcher, urls)
    for url in urls:
        assert poll_feed(ctx, url).result == "new"
    results = [poll_feed(ctx, url) for url in urls]
    assert [r.result for r in results] == ["not_modified", "not_modified"]
    assert [r.status for r in results] == [304, 304]
    assert feed_server.requests("/etag")[-1].headers["if-none-match"] == '"v1"'
    assert (
        feed_server.requests("/lm")[-1].headers["if-modified-since"]
        == "Tue, 14 Jul 2026 03:33:16 GMT"
    )
    assert _state(engine, urls[0]).articles == 2


def test_an_identical_body_is_unchanged_without_new_articles(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/same", rss20(news_items(4)))
    url = feed_server.url("/same")
    ctx = _context(tmp_path, engine, fetcher, [url])
    assert poll_feed(ctx, url).new_articles == 4
    again = poll_feed(ctx, url)
    assert (again.result, again.new_articles) == ("unchanged", 0)
    # Same items in a new order (new body hash): every id is known, still nothing new.
    feed_server.route("/same", rss20(list(reversed(news_items(4)))))
    assert poll_feed(ctx, url).result == "unchanged"
    assert _count(engine, ArticleRow) == 4


def test_quiet_polls_are_written_together_and_never_move_the_poll_time_back(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/quiet", rss20(news_items(2)))
    feed_server.route("/other", rss20(news_items(1, prefix="other")))
    urls = [feed_server.url("/quiet"), feed_server.url("/other")]
    ctx = _context(tmp_path, engine, fetcher, urls, quiet=QuietPolls(every=3600))
    start = datetime(2026, 7, 14, 3, 0, tzinfo=UTC)
    for url in urls:
        assert poll_feed(ctx, url, now=start).result == "new"  # written at once
    times = [start + timedelta(minutes=m) for m in (1, 2, 3)]
    for at in times:
        assert poll_feed(ctx, urls[0], now=at).result == "unchanged"
    # The first of them changed the last result, so was written at once; not the others.
    state = _state(engine, urls[0])
    assert (state.polls, state.last_poll_at) == (2, times[0])
    assert not ctx.quiet.due()
    ctx.quiet.flush(engine)
    state = _state(engine, urls[0])
    assert (state.polls, state.last_poll_at, state.last_result) == (4, times[-1], "unchanged")
    assert _state(engine, urls[1]).polls == 1

    # A quiet poll, then a failure written at once: the late batch keeps the failure's time.
    poll_feed(ctx, urls[0], now=start + timedelta(minutes=4))
    feed_server.route("/quiet", b"", status=500)
    failed_at = start + timedelta(minutes=5)
    assert poll_feed(ctx, urls[0], now=failed_at).result == "failed"
    ctx.quiet.flush(engine)
    state = _state(engine, urls[0])
    assert (state.polls, state.last_poll_at, state.last_result) == (6, failed_at, "failed")


def test_quiet_polls_are_kept_while_the_database_refuses_them(
    tmp_path: Path,
    engine: Engine,
    feed_server: FeedServer,
    fetcher: Fetcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed_server.route("/quiet", rss20(news_items(2)))
    url = feed_server.url("/quiet")
    ctx = _context(tmp_path, engine, fetcher, [url], quiet=QuietPolls(every=3600))
    for _ in range(3):
        poll_feed(ctx, url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE feed_state RENAME TO feed_state_away"))
    ctx.quiet.flush(engine)
    assert "could not write 1 quiet polls (their times and counts), kept" in caplog.text
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE feed_state_away RENAME TO feed_state"))
    poll_feed(ctx, url)
    ctx.quiet.flush(engine)
    assert _state(engine, url).polls == 4


def test_replicas_write_every_poll_at_once(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    # Another replica may have written the feed meanwhile: the cached state is no guide.
    feed_server.route("/quiet", rss20(news_items(2)))
    url = feed_server.url("/quiet")
    ctx = _context(tmp_path, engine, fetcher, [url], shared=True)
    for _ in range(3):
        poll_feed(ctx, url)
    assert _state(engine, url).polls == 3
    with engine.begin() as conn:  # as if another replica had recorded two failures
        conn.execute(text("UPDATE feed_state SET failures = 2, last_result = 'failed'"))
    poll_feed(ctx, url)
    state = _state(engine, url)
    assert (state.polls, state.failures, state.last_result) == (4, 0, "unchanged")


def test_a_failing_feed_backs_off_and_retry_after_is_honoured(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/429", b"", status=429, headers={"Retry-After": "600"})
    feed_server.route("/500", b"", status=500)
    urls = [feed_server.url("/429"), feed_server.url("/500")]
    ctx = _context(tmp_path, engine, fetcher, urls)
    now = datetime.now(UTC)
    for url in urls:
        poll_feed(ctx, url, now=now)
    wait = _state(engine, urls[0]).next_poll_at
    assert wait is not None and wait - now >= timedelta(seconds=500)
    assert poll_feed(ctx, urls[0], now=now + timedelta(seconds=60)).result == "waiting"
    assert len(feed_server.requests("/429")) == 1
    # Exponential: each failure doubles the wait of the 1-minute feed.
    waits = []
    for i in range(3):
        later = now + timedelta(days=i + 1)
        poll_feed(ctx, urls[1], now=later)
        waits.append((_state(engine, urls[1]).next_poll_at - later).total_seconds())  # type: ignore[operator]
    assert waits[0] < waits[1] < waits[2]
    feed_server.route("/500", rss20(news_items(1)))
    poll_feed(ctx, urls[1], force=True)
    state = _state(engine, urls[1])
    assert (state.failures, state.next_poll_at, state.last_result) == (0, None, "new")


def test_degraded_once_after_n_failures_and_recovered_once(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/down", b"", status=503)
    feed_server.route("/up", rss20(news_items(1)))
    urls = [feed_server.url("/down"), feed_server.url("/up")]
    ctx = _context(tmp_path, engine, fetcher, urls, degraded_after=3)
    for _ in range(6):
        for url in urls:
            poll_feed(ctx, url, force=True)
    kinds = lambda: [a.kind for a in _alerts(engine)]  # noqa: E731
    assert kinds() == ["feed_degraded"]
    degraded = json.loads(_alerts(engine)[0].payload)
    assert degraded["feed_url"] == urls[0] and degraded["failures"] == 3
    assert degraded["reason"].startswith("HTTP 503")
    feed_server.route("/down", rss20(news_items(1, prefix="back")))
    poll_feed(ctx, urls[0], force=True)
    poll_feed(ctx, urls[0], force=True)
    assert kinds() == ["feed_degraded", "feed_recovered"]
    assert _state(engine, urls[1]).failures == 0


def _alerts(engine: Engine) -> list[AlertRow]:
    with store.session(engine) as s:
        return list(s.exec(select(AlertRow).order_by(AlertRow.id)).all())  # type: ignore[arg-type]


def test_an_article_in_several_feeds_is_stored_once(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    story = Item(
        title="Chip fab news",
        link="https://news.example/a?utm_source=x#top",
        source=("Wire", "https://news.example"),
    )
    same_link = Item(
        title="Chip fab news",
        link="https://NEWS.example/a?fbclid=1",
        source=("Wire", "https://news.example"),
    )
    syndicated = Item(
        title="Chip Fab News!",
        link="https://mirror.example/copy/1",
        source=("Wire", "https://news.example"),
    )
    feed_server.route("/a", rss20([story], title="Wire"))
    feed_server.route("/b", rss20([same_link], title="Wire"))
    feed_server.route("/c", rss20([syndicated], title="Wire"))
    urls = [feed_server.url(p) for p in ("/a", "/b", "/c")]
    ctx = _context(tmp_path, engine, fetcher, urls)
    assert [poll_feed(ctx, u).new_articles for u in urls] == [1, 0, 0]
    assert _count(engine, ArticleRow) == 1


def test_a_new_figure_alerts_once_and_later_reports_corroborate(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    first = Item(
        title="Sam Altman now wants $8 trillion for his chip venture",
        link="https://one.example/altman-8",
        description="Sam Altman said the chip project could need $8 trillion.",
    )
    inside = Item(
        title="Altman's chip plan: up to $7 trillion",
        link="https://two.example/altman-7",
        description="Sam Altman seeks up to $7 trillion for chips.",
    )
    again = Item(
        title="알트먼, 반도체에 8조 달러 필요하다고 밝혀",
        link="https://three.example/altman-8-ko",
        description="샘 알트먼은 반도체 공급망에 8조 달러가 필요하다고 말했다.",
    )
    noise = Item(
        title="Samsung posts $5 billion profit",
        link="https://four.example/samsung-profit",
        description="Samsung reported a quarterly profit of $5 billion.",
    )
    feed_server.route("/1", rss20([first, noise]))
    feed_server.route("/2", rss20([inside]))
    feed_server.route("/3", rss20([again]))
    urls = [feed_server.url(p) for p in ("/1", "/2", "/3")]
    # Each feed's first poll: alerted one by one, as a watch without catch-up does.
    ctx = _context(tmp_path, engine, fetcher, urls, catch_up=False)
    for url in urls:
        poll_feed(ctx, url)
    alerts = _alerts(engine)
    assert [(a.kind, a.claim) for a in alerts] == [
        ("change", "venture-target"),
        ("corroboration", "venture-target"),
    ]
    change, reply = alerts
    assert (change.low, change.high, change.currency) == (8e12, 8e12, "USD")
    assert change.corroborations == 1 and reply.parent_id == change.id
    payload = json.loads(change.payload)
    assert payload["article_url"] == "https://one.example/altman-8"
    assert payload["previous"]["low"] == 5e12 and payload["previous"]["high"] == 7e12
    with store.session(engine) as s:
        outcomes = sorted(s.exec(select(ObservationRow.outcome)).all())
    assert "unchanged" in outcomes and outcomes.count("change") >= 1
    assert _count(engine, ObservationRow, ObservationRow.claim == "samsung-texas") == 0
    # Polling everything again changes nothing: no alert is repeated.
    feed_server.route("/1", rss20([first, noise, inside]))
    for url in urls:
        poll_feed(ctx, url)
    assert len(_alerts(engine)) == 2


def _backlog() -> list[Item]:
    """19 items, the oldest first: 7 values of the venture's target (each reported twice
    but one) and 3 of Samsung's Texas plan, all other than the values on record."""
    items = []
    for n in range(19):
        date = f"Mon, {n + 1:02d} Jul 2024 09:00:00 GMT"
        if n < 13:
            trillions = 8 + n // 2  # 8, 8, 9, 9, ... 14
            title = f"Altman chip plan, report {n}"
            text = f"Sam Altman said the chip venture needs ${trillions} trillion."
        else:
            billions = 50 + 20 * ((n - 13) // 2)  # 50, 50, 70, 70, 90, 90
            title = f"Samsung Texas, report {n}"
            text = f"Samsung will invest ${billions} billion in Texas."
        items.append(
            Item(title=title, link=f"https://news.example/{n}", description=text, pub_date=date)
        )
    return items


def _deliver_to(engine: Engine, slack: FakeSlack) -> None:
    bot = SlackBot(slack.token, channel="#funding-alerts", api_url=slack.api_url)
    deliver_pending(engine, bot, worker="test:1", min_interval=0.0)


def test_a_feeds_backlog_posts_one_catch_up_message_per_claim(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher, fake_slack: FakeSlack
) -> None:
    backlog = _backlog()
    feed_server.route("/backlog", rss20(list(reversed(backlog))))  # newest first, as feeds are
    url = feed_server.url("/backlog")
    ctx = _context(tmp_path, engine, fetcher, [url])
    assert poll_feed(ctx, url).new_articles == 19
    _deliver_to(engine, fake_slack)
    _deliver_to(engine, fake_slack)  # nothing is sent twice
    assert [p.metadata["event_type"] for p in fake_slack.posts] == [  # type: ignore[index]
        "funding_figures_catch_up",
        "funding_figures_catch_up",
    ]
    by_claim = {p.metadata["event_payload"]["claim"]: p for p in fake_slack.posts}  # type: ignore[index]
    venture = by_claim["venture-target"].metadata["event_payload"]  # type: ignore[index]
    assert [c["reported"]["low"] for c in venture["changes"]] == [t * 1e12 for t in range(8, 15)]
    first = venture["changes"][0]
    assert first == {
        "reported": {"low": 8e12, "high": 8e12, "currency": "USD", "text": "$8 trillion"},
        "article_url": "https://news.example/0",
        "publisher": "Test Wire",
        "published": "2024-07-01T09:00:00+00:00",
    }
    samsung = by_claim["samsung-texas"].metadata["event_payload"]  # type: ignore[index]
    assert [c["reported"]["low"] for c in samsung["changes"]] == [50e9, 70e9, 90e9]
    # The values are known now: a later report of one is a corroboration, not a change,
    # and replies in the catch-up message's thread.
    again = Item(
        title="Altman chip plan, again",
        link="https://news.example/again",
        description="Sam Altman said the chip venture needs $9 trillion.",
        pub_date="Mon, 05 Aug 2024 09:00:00 GMT",
    )
    feed_server.route("/backlog", rss20([again, *reversed(backlog)]))
    poll_feed(ctx, url)
    _deliver_to(engine, fake_slack)
    reply = fake_slack.posts[-1]
    assert reply.metadata["event_type"] == "funding_figure_corroborated"  # type: ignore[index]
    assert reply.thread_ts == by_claim["venture-target"].ts
    assert len(fake_slack.posts) == 3


def test_a_watch_without_catch_up_alerts_its_backlog_one_by_one(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/backlog", rss20(_backlog()))
    url = feed_server.url("/backlog")
    # Its 19 alerts (10 changes, 9 reports of them) are more than the default cap.
    ctx = _context(tmp_path, engine, fetcher, [url], catch_up=False, max_alerts_per_poll=19)
    poll_feed(ctx, url)
    kinds = [(a.kind, a.status) for a in _alerts(engine)]
    assert kinds.count(("change", "pending")) == 10
    assert all(kind != "catch_up" for kind, _ in kinds)


def _flood(values: int, reports: int) -> list[Item]:
    """`reports` items, the oldest first, cycling through `values` new targets of the
    venture 12% apart: the first `values` are changes, the rest report them again."""
    items = []
    for n in range(reports):
        trillions = round(8 * 1.12 ** (n % values), 1)
        items.append(
            Item(
                title=f"Altman chip plan, report {n}",
                link=f"https://news.example/flood/{n}",
                description=f"Sam Altman said the chip venture needs ${trillions} trillion.",
                pub_date=(datetime(2024, 7, 1, tzinfo=UTC) + timedelta(minutes=n)).strftime(
                    "%a, %d %b %Y %H:%M:%S GMT"
                ),
            )
        )
    return items


def test_one_poll_posts_at_most_its_cap_and_one_summary_of_the_rest(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher, fake_slack: FakeSlack
) -> None:
    """A 300-item feed of 30 new values once queued 299 messages; now 10 changes, 10
    replies in their threads, and a summary."""
    items = _flood(30, 300)
    feed_server.route("/flood", rss20([]))
    url = feed_server.url("/flood")
    ctx = _context(tmp_path, engine, fetcher, [url], max_alerts_per_poll=10)
    poll_feed(ctx, url)  # the first poll: nothing to catch up on
    feed_server.route("/flood", rss20(list(reversed(items))))
    assert poll_feed(ctx, url).new_articles == 300
    _deliver_to(engine, fake_slack)
    _deliver_to(engine, fake_slack)  # nothing is sent twice
    kinds = [p.metadata["event_type"] for p in fake_slack.posts]  # type: ignore[index]
    assert (
        sorted(kinds[:-1]) == ["funding_figure_changed"] * 10 + ["funding_figure_corroborated"] * 10
    )
    assert kinds[-1] == "funding_alerts_summarized"
    summary = fake_slack.posts[-1]
    assert summary.text == (
        f"and 20 more changes and 260 more reports of known values on {url}: see `monitor alerts`"
    )
    meta = summary.metadata["event_payload"]  # type: ignore[index]
    assert (meta["changes"], meta["corroborations"]) == (20, 260)
    assert meta["claims"] == {"venture-target": 20}
    [message] = [a for a in _alerts(engine) if a.kind == "poll_summary"]
    assert (message.status, message.ts, meta["key"]) == ("sent", summary.ts, message.key)
    # Nothing is lost: every report is observed, every change is a known value kept in
    # the outbox, summarized ones in the summary message.
    assert _count(engine, ObservationRow, ObservationRow.outcome == "change") == 30
    assert _count(engine, ObservationRow, ObservationRow.outcome == "corroboration") == 270
    rows = [a for a in _alerts(engine) if a.kind != "poll_summary"]
    summarized = [a for a in rows if a.status == "summarized"]
    assert len(summarized) == 280
    assert [a.parent_id for a in summarized if a.kind == "change"] == [message.id] * 20
    # A later report of a summarized value replies in the summary's thread.
    again = Item(
        title="Altman chip plan, once more",
        link="https://news.example/flood/again",
        description=f"Sam Altman said the chip venture needs ${round(8 * 1.12**25, 1)} trillion.",
        pub_date="Mon, 05 Aug 2024 09:00:00 GMT",
    )
    feed_server.route("/flood", rss20([again, *reversed(items)]))
    poll_feed(ctx, url)
    _deliver_to(engine, fake_slack)
    reply = fake_slack.posts[-1]
    assert reply.metadata["event_type"] == "funding_figure_corroborated"  # type: ignore[index]
    assert reply.thread_ts == summary.ts
    assert len(fake_slack.posts) == 22


def test_items_of_one_poll_are_decided_oldest_first(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """The feed lists the later report first; the first publisher gets the alert."""
    later = Item(
        title="Altman ups his chip ask",
        link="https://later.example/8",
        description="Sam Altman said the chip venture needs $8 trillion.",
        pub_date="Tue, 02 Jul 2024 09:00:00 GMT",
    )
    earlier = Item(
        title="Altman's new chip number",
        link="https://earlier.example/8",
        description="Sam Altman said the chip venture needs $8 trillion.",
        pub_date="Mon, 01 Jul 2024 09:00:00 GMT",
    )
    feed_server.route("/feed", rss20([]))
    url = feed_server.url("/feed")
    ctx = _context(tmp_path, engine, fetcher, [url])
    poll_feed(ctx, url)  # the first poll: nothing to catch up on
    feed_server.route("/feed", rss20([later, earlier]))
    poll_feed(ctx, url)
    change, reply = _alerts(engine)
    assert json.loads(change.payload)["article_url"] == "https://earlier.example/8"
    assert (reply.kind, json.loads(reply.payload)["article_url"]) == (
        "corroboration",
        "https://later.example/8",
    )


def test_an_item_edited_in_place_is_read_again(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, fetcher: Fetcher
) -> None:
    story = Item(
        title="Altman's chip plan",
        link="https://wire.example/altman",
        guid="altman-1",
        description="Sam Altman said the chip venture needs $8 trillion.",
        pub_date="Mon, 01 Jul 2024 09:00:00 GMT",
    )
    other = news_items(2)
    feed_server.route("/feed", rss20([story, *other]))
    url = feed_server.url("/feed")
    ctx = _context(tmp_path, engine, fetcher, [url], catch_up=False)
    poll_feed(ctx, url)
    assert [a.low for a in _alerts(engine)] == [8e12]
    # Only its date moved: the text is the same, nothing is read again.
    moved = replace(story, pub_date="Mon, 01 Jul 2024 10:00:00 GMT")
    feed_server.route("/feed", rss20([moved, *other]))
    assert poll_feed(ctx, url).result == "unchanged"
    # Corrected in place: the new figure is observed, and it is a change.
    edited = replace(moved, description="Sam Altman said the chip venture needs $9.5 trillion.")
    feed_server.route("/feed", rss20([edited, *other]))
    result = poll_feed(ctx, url)
    assert (result.result, result.new_articles) == ("new", 0)
    assert [a.low for a in _alerts(engine)] == [8e12, 9.5e12]
    with store.session(engine) as s:
        article = s.exec(select(ArticleRow).where(ArticleRow.guid == "altman-1")).one()
        observed = s.exec(
            select(ObservationRow.low).where(ObservationRow.article_id == article.id)
        ).all()
    assert "$9.5 trillion" in article.summary and observed == [9.5e12]
    assert _count(engine, ArticleRow) == 3
    # Unchanged since: the poll costs no parse.
    assert poll_feed(ctx, url).result == "unchanged"
