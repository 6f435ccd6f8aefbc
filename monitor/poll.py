"""The worker: poll one feed, and hand its new articles over to be recorded.

Feed -> Entry -> Article here (fetch, parse, clean, and the feed's own state: conditional
GET, backoff, health); then `monitor.observe` records what the articles say
(Observation -> Change -> Alert). No database session is held across an HTTP request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property

from sqlalchemy import Engine, bindparam, case, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from monitor import store
from monitor.articles import Article, full_text, to_article
from monitor.attribution import mentions
from monitor.backoff import next_delay
from monitor.errors import FeedError, ItemError
from monitor.fetch import Fetcher
from monitor.metrics import Metrics
from monitor.observe import store_articles
from monitor.parse import (
    Entry,
    ParsedFeed,
    QuickItem,
    item_digest,
    only_items,
    parse_feed,
    quick_items,
)
from monitor.rules import FeedRule, Rules, Watch
from monitor.store import AlertRow, FeedState

log = logging.getLogger("monitor.poll")


_FEEDS = FeedState.__table__  # type: ignore[attr-defined]
# What one poll reads at most (README.md, Limits): articles, and their titles and summaries
# in characters, about ten seconds of reading figures at worst. The rest of such a feed is
# left unread, with a warning; real feeds hold tens of items.
MAX_ITEMS_PER_POLL = 500
MAX_POLL_TEXT_CHARS = 1_000_000


class QuietPolls:
    """Polls that changed nothing but their time, written to the database in batches.

    They are most polls: a feed is mostly unchanged. One UPDATE each cost a third of their
    CPU with 16 polling threads (bench/poll.py); one statement every few seconds costs
    next to nothing. What waits is only `polls` and `last_poll_at`, which `monitor status`
    shows up to `every` seconds late; a crash loses those, nothing a poll decides by.
    """

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[datetime, int]] = {}
        self._since = 0.0  # monotonic time of the oldest pending poll

    def record(self, url: str, at: datetime) -> None:
        """Note a quiet poll of `url`, to be written by the next `flush`."""
        with self._lock:
            if not self._pending:
                self._since = time.monotonic()
            self._add(url, at, 1)

    def due(self) -> bool:
        """Whether the oldest pending poll has waited `every` seconds."""
        with self._lock:
            return bool(self._pending) and time.monotonic() - self._since >= self.every

    def flush(self, engine: Engine) -> None:
        """Write every pending poll in one statement; on a database error, keep them."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return
        rows = [{"feed": url, "at": at, "n": n} for url, (at, n) in batch.items()]
        try:
            with engine.begin() as conn:
                conn.execute(_QUIET_UPDATE, rows)
        except SQLAlchemyError as exc:
            log.warning(
                "could not write %d quiet polls (their times and counts), kept for the next "
                "write: %s",
                len(rows),
                exc.args[0],
            )
            with self._lock:
                for url, (at, n) in batch.items():
                    self._add(url, at, n)
                self._since = time.monotonic()

    def _add(self, url: str, at: datetime, polls: int) -> None:
        """Add `polls` polls of `url`, the latest at `at` (under the lock)."""
        latest, pending = self._pending.get(url, (at, 0))
        self._pending[url] = (max(at, latest), pending + polls)


_QUIET_AT = bindparam("at", type_=_FEEDS.c.last_poll_at.type)
# Never moves last_poll_at back: a failed poll may have been written directly meanwhile.
_QUIET_UPDATE = (
    _FEEDS.update()
    .where(_FEEDS.c.url == bindparam("feed"))
    .values(
        polls=_FEEDS.c.polls + bindparam("n"),
        last_poll_at=case(
            (or_(_FEEDS.c.last_poll_at.is_(None), _FEEDS.c.last_poll_at < _QUIET_AT), _QUIET_AT),
            else_=_FEEDS.c.last_poll_at,
        ),
    )
)


@dataclass
class Context:
    """What a poll needs; replaced on a rules reload, with `states` and `quiet` carried over."""

    engine: Engine
    fetcher: Fetcher
    rules: Rules
    metrics: Metrics = field(default_factory=Metrics)
    degraded_after: int = 5
    full_text_budget: float = 60.0  # seconds of article-page fetching per poll
    default_channel: str | None = None
    # The last known state of each feed, so that an unchanged poll costs no query: current
    # while this process alone writes feed states; with replicas (`shared`) a starting
    # point only, every write of it being checked again in the database.
    states: dict[str, FeedState] = field(default_factory=dict, repr=False)
    quiet: QuietPolls = field(default_factory=QuietPolls, repr=False)
    shared: bool = False  # other replicas poll and write the same feeds' states
    # Messages one poll may queue to be sent one by one; the rest go into one summary.
    max_alerts_per_poll: int = 10

    @cached_property
    def _feeds(self) -> dict[str, tuple[Watch, FeedRule]]:
        return self.rules.feeds()

    def feeds(self) -> dict[str, tuple[Watch, FeedRule]]:
        """Every feed URL to poll, with the watch and rule it came from."""
        return self._feeds


@dataclass(frozen=True, slots=True)
class PollResult:
    url: str
    result: str  # new | unchanged | not_modified | failed | waiting
    status: int | None = None
    new_articles: int = 0
    alerts: int = 0
    error: str | None = None
    dropped: int = 0  # new items of a feed that is not a search, naming nothing of the watch


def poll_feed(
    ctx: Context, url: str, *, now: datetime | None = None, force: bool = False
) -> PollResult:
    """Poll `url` once and record the outcome; unless `force`, not while it is backing off."""
    watch, rule = ctx.feeds()[url]
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    state = _feed_state(ctx, url, watch.watch)
    if not force and state.next_poll_at and state.next_poll_at > now:
        return PollResult(url, "waiting", state.last_status)
    try:
        result = _poll(ctx, watch, rule, state, now)
    except FeedError as exc:
        result = _record_failure(ctx, watch, url, exc, now, rule.every)
    except Exception as exc:
        # A bug or a database refusal must not stop a feed silently, poll after poll: it
        # is a failed poll like any other, with a reason, and counts toward "degraded".
        log.exception("poll crashed", extra={"feed": url})
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        reason = (
            f"the poll crashed ({type(exc).__name__}: {first}); this is a bug in "
            "funding-monitor or a database problem: the log has the traceback"
        )
        result = _record_failure(ctx, watch, url, FeedError(url, reason), now, rule.every)
    elapsed = time.perf_counter() - started
    ctx.metrics.polls.labels(result.result).inc()
    ctx.metrics.poll_seconds.observe(elapsed)
    log.info(
        "poll",
        extra={
            "feed": url,
            "result": result.result,
            "status": result.status,
            "new_articles": result.new_articles,
            "alerts": result.alerts,
            **({"dropped": result.dropped} if result.dropped else {}),
            "duration_ms": round(elapsed * 1000, 1),
            **({"error": result.error} if result.error else {}),
        },
    )
    return result


def _feed_state(ctx: Context, url: str, watch: str) -> FeedState:
    state = ctx.states.get(url)
    if state is None:
        with store.session(ctx.engine) as s:
            store.insert_ignore(s, FeedState, {"url": url, "watch": watch}, ["url"])
            state = s.get(FeedState, url)
            assert state is not None
        ctx.states[url] = state
    return state


def _poll(
    ctx: Context, watch: Watch, rule: FeedRule, state: FeedState, now: datetime
) -> PollResult:
    url = state.url
    fetched = ctx.fetcher.get(
        url, etag=state.etag, last_modified=state.last_modified, configured=True
    )
    if fetched.status == 304:
        return _record_success(ctx, watch, state, now, 304, "not_modified", {}, 0)
    digest = hashlib.sha256(fetched.body).hexdigest()
    cache = {"etag": fetched.etag, "last_modified": fetched.last_modified, "body_hash": digest}
    if digest == state.body_hash:
        return _record_success(ctx, watch, state, now, fetched.status, "unchanged", cache, 0)
    seen = _seen(state.seen_ids)
    items = quick_items(fetched.body, fetched.headers)
    stale: set[str] = set()  # known items whose bytes did not change: nothing to read
    if items is not None:
        digests = {item.id: item_digest(fetched.body, item) for item in items}
        stale = {item.id for item in items if _unchanged(seen, item.id, digests[item.id])}
        cache["seen_ids"] = json.dumps(digests, sort_keys=True)
        if len(stale) == len(digests):
            return _record_success(ctx, watch, state, now, fetched.status, "unchanged", cache, 0)
    parsed = _parse_fresh(fetched.body, fetched.headers, url, items, stale)
    entries = [e for e in parsed.entries if e.id not in stale]
    if items is None:
        cache["seen_ids"] = json.dumps(dict.fromkeys(sorted({e.id for e in entries})))
    read = read_articles(
        ctx.fetcher,
        watch,
        rule,
        parsed,
        entries,
        url=url,
        now=now,
        full_text_budget=ctx.full_text_budget,
    )
    ctx.metrics.dropped.inc(len(entries) - len(read))
    stored = store_articles(
        ctx.engine,
        watch,
        [article for article, _ in read],
        channel=ctx.default_channel,
        # Items the feed held at its first successful poll: its backlog.
        catch_up=watch.catch_up and state.body_hash is None,
        reread={article.url for article, entry in read if entry.id in seen},
        max_alerts=ctx.max_alerts_per_poll,
        feed_url=url,
    )
    ctx.metrics.figures.inc(stored.figures)
    cache["warning"] = parsed.warning
    result = _record_success(
        ctx,
        watch,
        state,
        now,
        fetched.status,
        "new" if stored.articles or stored.reread else "unchanged",
        cache,
        stored.articles,
        stored.alerts,
    )
    return replace(result, dropped=len(entries) - len(read))


def read_articles(
    fetcher: Fetcher,
    watch: Watch,
    rule: FeedRule,
    parsed: ParsedFeed,
    entries: list[Entry],
    *,
    url: str,
    now: datetime,
    full_text_budget: float,
) -> list[tuple[Article, Entry]]:
    """The entries as the articles a poll stores, each with its entry.

    A feed that is not a search (a publisher's section) keeps only the items whose title
    or summary names an entity or keyword of the watch: the rest of the section is not
    news of it, and its full text is not fetched either. `now` dates an undated entry;
    `full_text_budget` bounds the time all the article pages may take.
    """
    read = _articles(entries, parsed, url, now)
    if not rule.is_search:
        read = [(a, e) for a, e in read if mentions(watch, f"{a.title}\n{a.summary}")]
    if rule.full_text:
        bodies = _with_bodies(fetcher, url, [a for a, _ in read], full_text_budget)
        read = [(body, e) for body, (_, e) in zip(bodies, read, strict=True)]
    return read


def _seen(stored: str | None) -> dict[str, str | None]:
    """The item ids (and digests) of the last document; a list from before digests."""
    seen = json.loads(stored or "{}")
    return dict.fromkeys(seen) if isinstance(seen, list) else seen


def _unchanged(seen: dict[str, str | None], item_id: str, digest: str) -> bool:
    """Whether the item was in the last document as it is now.

    An item known without a digest (stored before digests were kept, or by a poll the
    regex scan could not read) is taken as unchanged: its digest is kept from now on.
    """
    return item_id in seen and seen[item_id] in (None, digest)


def _parse_fresh(
    body: bytes,
    headers: dict[str, str],
    url: str,
    items: list[QuickItem] | None,
    stale: set[str],
) -> ParsedFeed:
    """The feed with only its new and edited items parsed, when the cheap scan could tell.

    feedparser costs about half a millisecond an item; a feed that gained 5 of its 50
    items need not pay for the other 45. Falls back to the whole document on any doubt.
    """
    if items and stale:
        fresh = [item for item in items if item.id not in stale]
        parsed = parse_feed(only_items(body, items, fresh), headers, url)
        if [e.id for e in parsed.entries] == [item.id for item in fresh]:
            return parsed
    return parse_feed(body, headers, url)


def _articles(
    entries: list[Entry], parsed: ParsedFeed, url: str, now: datetime
) -> list[tuple[Article, Entry]]:
    """The entries as articles, each with its entry: a bad item is skipped, with a
    warning, and the rest of the feed is read, within the poll's budget."""
    kept: list[tuple[Article, Entry]] = []
    text = 0
    for index, entry in enumerate(entries):
        if index == MAX_ITEMS_PER_POLL or text > MAX_POLL_TEXT_CHARS:
            log.warning(
                "items left unread: the poll's budget is spent; a feed this large is not "
                "news, check what it is",
                extra={"feed": url, "read": index, "unread": len(entries) - index},
            )
            break
        try:
            article = to_article(entry, parsed, feed_url=url, fetched_at=now)
        except ItemError as exc:
            log.warning("item skipped", extra={"feed": url, "item": exc.item, "error": exc.reason})
            continue
        kept.append((article, entry))
        text += len(article.title) + len(article.summary)
    return kept


def _with_bodies(
    fetcher: Fetcher, url: str, articles: list[Article], budget: float
) -> list[Article]:
    """The articles with their pages' text, fetched within the poll's full-text budget.

    Each page has the fetch timeout, and all of them `budget` seconds: 10 stalled
    pages once held one poll for 10 timeouts. Those left when it is spent keep the feed's
    summary only.
    """
    deadline = time.monotonic() + budget
    done: list[Article] = []
    for article in articles:
        if time.monotonic() >= deadline:
            log.warning(
                "full-text budget spent: the other articles are read from the feed alone",
                extra={"feed": url, "skipped": len(articles) - len(done)},
            )
            return done + articles[len(done) :]
        done.append(_with_body(fetcher, article, deadline))
    return done


def _with_body(fetcher: Fetcher, article: Article, deadline: float) -> Article:
    try:
        return replace(article, body=full_text(fetcher, article.url, deadline=deadline))
    except FeedError as exc:
        log.warning("full text unavailable", extra={"article": article.url, "error": exc.reason})
        return article


def _record_success(
    ctx: Context,
    watch: Watch,
    state: FeedState,
    now: datetime,
    status: int,
    result: str,
    cache: dict[str, str | None],
    new: int,
    alerts: int = 0,
) -> PollResult:
    ctx.metrics.articles.inc(new)
    values = {
        **cache,
        "last_poll_at": now,
        "last_status": status,
        "last_result": result,
        "last_error": None,
        "failures": 0,
        "next_poll_at": None,
    }
    if not state.degraded:
        # The common case in one plain statement; a feed that another replica marked
        # degraded meanwhile matches no row and takes the full path, which sends
        # "recovered". Unless `shared`, this process alone writes feed states: the cached
        # state is current, and only what changed need be written.
        changed = (
            values if ctx.shared else {k: v for k, v in values.items() if getattr(state, k) != v}
        )
        if not new and changed.keys() <= {"last_poll_at"}:
            ctx.quiet.record(state.url, now)
            state.last_poll_at, state.polls = now, state.polls + 1
            return PollResult(state.url, result, status, new, alerts)
        with ctx.engine.begin() as conn:
            params = {**changed, "feed": state.url, "new": new}
            done = conn.execute(_SUCCESS_UPDATE, params).rowcount
        if done:
            for key, value in changed.items():
                setattr(state, key, value)
            state.polls, state.articles = state.polls + 1, state.articles + new
            return PollResult(state.url, result, status, new, alerts)
    with store.session(ctx.engine) as s:
        row = s.get_one(FeedState, state.url, with_for_update=True)
        was_degraded, failures = row.degraded, row.failures
        for key, value in values.items():
            setattr(row, key, value)
        row.degraded = False
        row.polls += 1
        row.articles += new
        if was_degraded:
            alerts += _feed_health_alert(
                s, ctx, watch, row, "feed_recovered", f"working again after {failures} failed polls"
            )
    ctx.states[state.url] = row
    return PollResult(state.url, result, status, new, alerts)


# One statement for every successful poll: the columns that changed come as parameters,
# each set compiled once; building the statement anew cost more than running it.
_SUCCESS_UPDATE = (
    _FEEDS.update()
    .where(_FEEDS.c.url == bindparam("feed"), _FEEDS.c.degraded.is_(False))
    .values(polls=_FEEDS.c.polls + 1, articles=_FEEDS.c.articles + bindparam("new"))
)


def _record_failure(
    ctx: Context, watch: Watch, url: str, exc: FeedError, now: datetime, every: float
) -> PollResult:
    alerts = 0
    with store.session(ctx.engine) as s:
        row = s.get_one(FeedState, url, with_for_update=True)
        ctx.states[url] = row
        row.failures += 1
        row.polls += 1
        row.last_poll_at, row.last_status, row.last_result = now, exc.status, "failed"
        row.last_error = exc.reason
        delay = next_delay(every, row.failures, exc.retry_after)
        row.next_poll_at = now + timedelta(seconds=delay) - timedelta(seconds=every * 0.1)
        if row.failures >= ctx.degraded_after and not row.degraded:
            row.degraded = True
            alerts += _feed_health_alert(
                s,
                ctx,
                watch,
                row,
                "feed_degraded",
                exc.reason,
            )
    return PollResult(url, "failed", exc.status, 0, alerts, exc.reason)


def _feed_health_alert(
    s: Session, ctx: Context, watch: Watch, row: FeedState, kind: str, reason: str
) -> int:
    since = (row.last_poll_at or datetime.now(UTC)).isoformat()
    payload = {
        "watch": watch.watch,
        "feed_url": row.url,
        "reason": reason,
        "failures": row.failures,
        "since": since,
    }
    values = {
        "key": f"{kind}:{row.url}:{since}",
        "kind": kind,
        "watch": watch.watch,
        "payload": json.dumps(payload, ensure_ascii=False),
        "channel": watch.slack.channel or ctx.default_channel,
    }
    return 1 if store.insert_ignore(s, AlertRow, values, ["key"]) else 0
