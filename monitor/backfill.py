"""`monitor backfill`: a watch's history, from Google News searches restricted by date.

Each of the watch's searches (as written, or built by `google_news: auto`) is asked for
[since, until) in date windows (`googlenews.dated`). Google returns at most CAP items for
a search, so a window that returns CAP is split in two, down to one day. Items are read
as a poll reads them (`poll.read_articles`) and stored together, oldest first, as a
catch-up (`observe.store_articles`): no alert per change, one catch-up message per claim
at the end, or nothing at all when `quiet`. Requests go through the daemon's `Fetcher`
(its limits), one at a time with a pause between them; a 429 or 503 is waited out, within
bounds, and any other failure stops the fetching: what was fetched is stored, and a second
run over the same days adds only what is missing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select

from monitor import store
from monitor.articles import Article
from monitor.backoff import next_delay
from monitor.errors import FeedError, MonitorError
from monitor.fetch import Fetcher
from monitor.googlenews import dated, search_url
from monitor.observe import Stored, store_articles
from monitor.parse import parse_feed
from monitor.poll import read_articles
from monitor.rules import FeedRule, Watch
from monitor.store import AlertRow

CAP = 100  # items Google News returns for one search, at most
FIRST_WINDOW = timedelta(days=31)  # the windows asked first, before any split
RETRIES = 3  # times a request refused with 429 or 503 is tried again
MAX_WAIT = 120.0  # seconds waited before one retry, at most (Retry-After included)
_ALERTS = AlertRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Asked:
    """One request answered: a search over the days [start, end), for progress reports."""

    url: str  # the search's URL without dates, as the daemon polls it
    start: date
    end: date
    items: int  # items it returned
    split: bool  # returned CAP items over more than a day: asked again in two halves
    left: int  # windows still to ask, as known now (a split adds to them)


@dataclass(slots=True)
class Backfilled:
    """What one backfill did, for its summary."""

    searches: list[str] = field(default_factory=list)  # search URLs, without dates
    windows: int = 0  # requests answered
    split: int = 0  # windows split in two
    capped: list[tuple[str, date]] = field(default_factory=list)  # full one-day windows
    items: int = 0  # items returned, repeats across windows and searches included
    in_range: int = 0  # distinct articles published in [since, until)
    stored: Stored = field(default_factory=Stored)
    changes: dict[str, int] = field(default_factory=dict)  # claim id -> changes recorded
    messages: int = 0  # catch-up messages queued
    error: str | None = None  # what stopped the fetching early


def backfill(
    engine: Engine,
    fetcher: Fetcher,
    watch: Watch,
    since: date,
    until: date,
    *,
    google_news_url: str,
    channel: str | None,
    quiet: bool = False,
    pause: float = 1.0,
    full_text_budget: float = 60.0,
    progress: Callable[[Asked], None] = lambda asked: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Backfilled:
    """Fill `watch`'s history with the articles its Google News searches find published in
    [since, until), as a catch-up; see the module's docstring. `full_text_budget`: seconds
    the article pages of one search window may take, for `full_text` feeds."""
    if since >= until:
        raise MonitorError(
            f"--since {since} is not before --until {until}: nothing to fill; "
            "--until is the first day left out"
        )
    searches = [(rule, q) for rule in watch.feeds for q in rule.queries(watch)]
    if not searches:
        raise MonitorError(
            f"watch {watch.watch} has no google_news feed to fill its history from; add one "
            "(`google_news: auto` builds searches from its entities and keywords)"
        )
    done = Backfilled(searches=[search_url(q, r.lang, google_news_url) for r, q in searches])
    found: dict[str, Article] = {}
    last_request = None
    for (rule, query), url in zip(searches, done.searches, strict=True):
        todo = _windows(since, until)
        while todo and done.error is None:
            start, end = todo.pop(0)
            if last_request is not None:
                sleep(max(0.0, pause - (time.monotonic() - last_request)))
            try:
                asked = search_url(dated(query, start, end), rule.lang, google_news_url)
                items, articles = _ask(fetcher, watch, rule, asked, url, sleep, full_text_budget)
            except FeedError as exc:
                done.error = f"{exc} (asking for {start} to {end}, the last day left out)"
                break
            finally:
                last_request = time.monotonic()
            done.windows += 1
            done.items += items
            split = items >= CAP and end - start > timedelta(days=1)
            if split:
                middle = start + (end - start) // 2
                todo[:0] = [(start, middle), (middle, end)]
                done.split += 1
            else:
                if items >= CAP:
                    done.capped.append((url, start))
                for article in articles:
                    if since <= article.published.astimezone(UTC).date() < until:
                        found.setdefault(article.url, article)
            progress(Asked(url, start, end, items, split, len(todo)))
    done.in_range = len(found)
    before = _outbox(engine, watch)
    done.stored = store_articles(
        engine, watch, found.values(), channel=channel, catch_up=True, quiet=quiet
    )
    after = _outbox(engine, watch)
    for (kind, claim), n in (after - before).items():
        if kind == "change" and claim:
            done.changes[claim] = n
        elif kind == "catch_up":
            done.messages += n
    return done


def _windows(since: date, until: date) -> list[tuple[date, date]]:
    """[since, until) in windows of FIRST_WINDOW, oldest first."""
    out = []
    while since < until:
        out.append((since, min(until, since + FIRST_WINDOW)))
        since = out[-1][1]
    return out


def _ask(
    fetcher: Fetcher,
    watch: Watch,
    rule: FeedRule,
    url: str,
    feed_url: str,
    sleep: Callable[[float], None],
    full_text_budget: float,
) -> tuple[int, list[Article]]:
    """The number of items at `url` (a dated search), and its articles, each from
    `feed_url` (the search the daemon polls); a refusal (429, 503) is waited out RETRIES
    times."""
    for attempt in range(RETRIES + 1):
        try:
            # The operator's own search (its base may be a proxy they set up on their network).
            fetched = fetcher.get(url, configured=True)
            break
        except FeedError as exc:
            if exc.status not in (429, 503) or attempt == RETRIES:
                raise
            wait = next_delay(1.0, attempt + 1, exc.retry_after, cap=MAX_WAIT)
            if wait > MAX_WAIT:
                raise FeedError(
                    url,
                    f"{exc.reason}: asked to wait longer than {MAX_WAIT:g} s; run the "
                    "backfill again later (what is stored already is not stored twice)",
                    status=exc.status,
                ) from exc
            sleep(wait)
    parsed = parse_feed(fetched.body, fetched.headers, url)
    now = datetime.now(UTC)
    read = read_articles(
        fetcher,
        watch,
        rule,
        parsed,
        parsed.entries,
        url=feed_url,
        now=now,
        full_text_budget=full_text_budget,
    )
    return len(parsed.entries), [article for article, _ in read]


def _outbox(engine: Engine, watch: Watch) -> Counter[tuple[str, str | None]]:
    """The watch's outbox rows, counted by kind and claim."""
    query = (
        select(_ALERTS.c.kind, _ALERTS.c.claim, func.count())
        .where(_ALERTS.c.watch == watch.watch)
        .group_by(_ALERTS.c.kind, _ALERTS.c.claim)
    )
    with store.session(engine) as s:
        return Counter({(kind, claim): n for kind, claim, n in s.execute(query)})
