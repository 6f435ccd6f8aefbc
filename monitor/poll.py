"""The worker: poll one feed and carry its new articles through every stage.

Feed -> Entry -> Article -> Figure -> Observation -> Change -> Alert. The deciding
stages are pure functions in their own modules; this one fetches, stores and counts,
and holds no database session across an HTTP request.
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

from sqlalchemy import Engine, bindparam, case, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from monitor import store
from monitor.articles import Article, full_text, to_article
from monitor.attribution import Attribution, attribute
from monitor.backoff import next_delay
from monitor.currency import to_usd
from monitor.diff import KnownValue, Verdict, compare, known_values, value_key
from monitor.errors import FeedError
from monitor.fetch import Fetcher
from monitor.figures import Figure, extract
from monitor.metrics import Metrics
from monitor.parse import ParsedFeed, QuickItem, only_items, parse_feed, quick_items
from monitor.rules import ClaimRule, FeedRule, Rules, Watch
from monitor.store import AlertRow, ArticleRow, ClaimRow, FeedState, ObservationRow

log = logging.getLogger("monitor.poll")
SYNDICATION_WINDOW = timedelta(hours=48)
WRITE_BATCH = 10  # new articles stored per transaction


_FEEDS = FeedState.__table__  # type: ignore[attr-defined]


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
    default_channel: str | None = None
    # The last known state of each feed, so that an unchanged poll costs no query: current
    # while this process alone writes feed states; with replicas (`shared`) a starting
    # point only, every write of it being checked again in the database.
    states: dict[str, FeedState] = field(default_factory=dict, repr=False)
    quiet: QuietPolls = field(default_factory=QuietPolls, repr=False)
    shared: bool = False  # other replicas poll and write the same feeds' states

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
    url = rule.feed_url
    fetched = ctx.fetcher.get(url, etag=state.etag, last_modified=state.last_modified)
    if fetched.status == 304:
        return _record_success(ctx, watch, state, now, 304, "not_modified", {}, 0)
    digest = hashlib.sha256(fetched.body).hexdigest()
    seen = set(json.loads(state.seen_ids or "[]"))
    cache = {"etag": fetched.etag, "last_modified": fetched.last_modified, "body_hash": digest}
    items = quick_items(fetched.body) if digest != state.body_hash else None
    ids = [item.id for item in items] if items else None
    if digest == state.body_hash or (ids and seen.issuperset(ids)):
        return _record_success(ctx, watch, state, now, fetched.status, "unchanged", cache, 0)
    parsed = _parse_new(fetched.body, fetched.headers, url, items, seen)
    # Oldest first, so that a backlog alerts in the order the numbers were reported.
    articles = sorted(
        (
            to_article(e, parsed, feed_url=url, fetched_at=now)
            for e in parsed.entries
            if e.id not in seen
        ),
        key=lambda a: a.published,
    )
    if rule.full_text:
        articles = [_with_body(ctx.fetcher, a) for a in articles]
    new, alerts = store_articles(ctx, watch, articles)
    cache["seen_ids"] = json.dumps(sorted(ids or {e.id for e in parsed.entries}))
    cache["warning"] = parsed.warning
    return _record_success(
        ctx,
        watch,
        state,
        now,
        fetched.status,
        "new" if new else "unchanged",
        cache,
        new,
        alerts,
    )


def _parse_new(
    body: bytes,
    headers: dict[str, str],
    url: str,
    items: list[QuickItem] | None,
    seen: set[str],
) -> ParsedFeed:
    """The feed with only its new items parsed, when the cheap scan could tell which.

    feedparser costs about half a millisecond an item; a feed that gained 5 of its 50
    items need not pay for the other 45. Falls back to the whole document on any doubt.
    """
    if items and seen:
        new = [item for item in items if item.id not in seen]
        parsed = parse_feed(only_items(body, items, new), headers, url)
        if [e.id for e in parsed.entries] == [item.id for item in new]:
            return parsed
    return parse_feed(body, headers, url)


def _with_body(fetcher: Fetcher, article: Article) -> Article:
    try:
        return replace(article, body=full_text(fetcher, article.url))
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


def store_articles(ctx: Context, watch: Watch, articles: list[Article]) -> tuple[int, int]:
    """Store the articles not yet known, then attribute and diff their figures.

    Reading and attributing figures needs no database, so it happens first; the writes
    then go WRITE_BATCH articles to a transaction. Returns (stored, alerts).
    """
    prepared = []
    for article in articles:
        text = "\n".join(p for p in (article.title, article.summary, article.body) if p)
        figures = extract(text)
        # Only the rules' own values count as evidence for attribution: were alerted values
        # to count too, one false alert would pull in every nearby figure as corroboration.
        found = (
            attribute(watch, article.title, text, figures, on=article.published.date())
            if figures
            else []
        )
        prepared.append((article, found))
    stored = alerts = attributed = 0
    # A few articles a transaction: SQLite has one writer at a time, and a long write
    # would keep the other polling threads waiting (a first poll brings 50 at once).
    for start in range(0, len(prepared), WRITE_BATCH):
        chunk = prepared[start : start + WRITE_BATCH]
        with store.session(ctx.engine) as s:
            known: dict[str, list[KnownValue]] | None = None
            alike = _stored_alike(s, [article for article, _ in chunk])
            for article, found in chunk:
                if _syndicated_copy(article, alike):
                    continue
                values = _article_values(article)
                article_id = store.insert_ignore(s, ArticleRow, values, ["url"])
                if article_id is None:
                    continue
                alike.append((article.title_key, article.publisher, article.published, article.url))
                stored += 1
                if found and known is None:
                    known = _lock_known_values(s, watch)
                for attribution in found:
                    alerts += _observe(s, ctx, watch, article, article_id, attribution, known or {})
                attributed += len(found)
    ctx.metrics.figures.inc(attributed)
    return stored, alerts


def _lock_known_values(s: Session, watch: Watch) -> dict[str, list[KnownValue]]:
    """Each claim's known values, read under a lock on the watch's claims.

    One writer per watch at a time, so that two outlets' reports of the same new number,
    handled at once by two threads or replicas, become one alert and one corroboration.
    """
    conn = s.connection()
    conn.execute(_LOCK_CLAIMS, {"watch": watch.watch}).all()
    alerted: dict[str, list[KnownValue]] = {c.id: [] for c in watch.claims}
    for claim, low, high, currency, as_of, key, payload in conn.execute(
        _ALERTED_VALUES, {"watch": watch.watch}
    ):
        if claim in alerted and None not in (low, high, currency, as_of):
            text = json.loads(payload)["reported"]["text"]
            alerted[claim].append(KnownValue(low, high, currency, as_of, text, key))
    return {c.id: known_values(c, alerted[c.id]) for c in watch.claims}


_Stored = tuple[str, str, datetime, str]  # title_key, publisher, published, url


def _stored_alike(s: Session, articles: list[Article]) -> list[_Stored]:
    """Stored articles that may be copies of `articles`: same title and publisher, near in time."""
    params = {
        "keys": sorted({a.title_key for a in articles}),
        "publishers": sorted({a.publisher for a in articles}),
        "earliest": min(a.published for a in articles) - SYNDICATION_WINDOW,
        "latest": max(a.published for a in articles) + SYNDICATION_WINDOW,
    }
    return [tuple(row) for row in s.connection().execute(_ALIKE, params)]  # type: ignore[misc]


# The statements of storing articles, built once (see `_SUCCESS_UPDATE`).
_ARTICLES = ArticleRow.__table__  # type: ignore[attr-defined]
_ALERTS = AlertRow.__table__  # type: ignore[attr-defined]
_CLAIMS = ClaimRow.__table__  # type: ignore[attr-defined]
_ALIKE = select(
    _ARTICLES.c.title_key, _ARTICLES.c.publisher, _ARTICLES.c.published, _ARTICLES.c.url
).where(
    _ARTICLES.c.title_key.in_(bindparam("keys", expanding=True)),
    _ARTICLES.c.publisher.in_(bindparam("publishers", expanding=True)),
    _ARTICLES.c.published.between(bindparam("earliest"), bindparam("latest")),
)
_LOCK_CLAIMS = (
    select(_CLAIMS.c.id)
    .where(_CLAIMS.c.watch == bindparam("watch"))
    .order_by(_CLAIMS.c.id)
    .with_for_update()
)
_ALERTED_VALUES = (
    select(
        _ALERTS.c.claim,
        _ALERTS.c.low,
        _ALERTS.c.high,
        _ALERTS.c.currency,
        _ALERTS.c.as_of,
        _ALERTS.c.key,
        _ALERTS.c.payload,
    )
    .where(_ALERTS.c.watch == bindparam("watch"), _ALERTS.c.kind == "change")
    .order_by(_ALERTS.c.id)
)
_ALERT_BY_KEY = select(_ALERTS.c.id, _ALERTS.c.payload, _ALERTS.c.channel).where(
    _ALERTS.c.key == bindparam("key")
)
_CORROBORATED = (
    _ALERTS.update()
    .where(_ALERTS.c.id == bindparam("parent"))
    .values(corroborations=_ALERTS.c.corroborations + 1)
)


def _syndicated_copy(article: Article, stored: list[_Stored]) -> bool:
    """Whether the same story from the same publisher is stored, within 48 hours of it."""
    return any(
        key == article.title_key
        and publisher == article.publisher
        and abs(published - article.published) <= SYNDICATION_WINDOW
        and url != article.url
        for key, publisher, published, url in stored
    )


def _article_values(article: Article) -> dict[str, object]:
    return {
        "url": article.url,
        "guid": article.guid,
        "title": article.title,
        "title_key": article.title_key,
        "summary": article.summary,
        "body": article.body,
        "published": article.published,
        "publisher": article.publisher,
        "lang": article.lang,
        "feed_url": article.feed_url,
        "fetched_at": datetime.now(UTC),
    }


def _observe(
    s: Session,
    ctx: Context,
    watch: Watch,
    article: Article,
    article_id: int,
    att: Attribution,
    known: dict[str, list[KnownValue]],
) -> int:
    """Record one attributed figure; create its alert when it is a change. Alerts created."""
    figure, on = att.figure, article.published.date()
    values: dict[str, object] = {
        "watch": watch.watch,
        "claim": att.claim,
        "candidates": ",".join(att.candidates) if att.claim is None else None,
        "article_id": article_id,
        "start": figure.start,
        "text": figure.text,
        "low": figure.low,
        "high": figure.high,
        "currency": figure.currency,
        "qualifier": figure.qualifier,
        "role": figure.role,
        "mixup": figure.mixup,
        "quote": att.quote,
    }
    values["usd_low"], values["usd_high"] = _usd(figure, on)
    if att.claim is None:
        return _insert_observation(s, values, "ambiguous")
    claim = next(c for c in watch.claims if c.id == att.claim)
    verdict = compare(figure, on, known[claim.id], claim.tolerance)
    if verdict.outcome == "change":
        key = value_key(watch.watch, claim.id, figure, on)
        made = _change(s, ctx, watch, claim, article, figure, verdict, values, key)
        # The rest of this article compares against the value just alerted, too.
        known[claim.id].append(
            KnownValue(figure.low, figure.high, figure.currency, on, figure.text, key)
        )
        return made
    if verdict.outcome == "unchanged" and verdict.matched and verdict.matched.key:
        return _corroborate(s, ctx, watch, claim, article, verdict.matched.key, values)
    return _insert_observation(s, values, verdict.outcome)


def _usd(figure: Figure, on: object) -> tuple[float | None, float | None]:
    try:
        return to_usd(figure, on)  # type: ignore[arg-type]
    except ValueError:
        return None, None


def _insert_observation(
    s: Session, values: dict[str, object], outcome: str, alert_id: int | None = None
) -> int:
    store.insert_ignore(
        s,
        ObservationRow,
        {**values, "outcome": outcome, "alert_id": alert_id},
        ["article_id", "watch", "start"],
    )
    return 1 if outcome == "change" and alert_id else 0


def _payload(
    watch: Watch,
    claim: ClaimRule,
    article: Article,
    figure: Figure,
    verdict: Verdict,
    key: str,
    quote: str,
) -> dict[str, object]:
    previous = verdict.previous
    usd = (
        {"low": verdict.usd[0], "high": verdict.usd[1]}
        if verdict.usd
        else {"low": None, "high": None}
    )
    return {
        "watch": watch.watch,
        "watch_title": watch.title,
        "claim": claim.id,
        "claim_title": claim.name,
        "previous": {
            "low": previous.low,
            "high": previous.high,
            "currency": previous.currency,
            "text": previous.text,
        },
        "reported": {
            "low": figure.low,
            "high": figure.high,
            "currency": figure.currency,
            "text": figure.text,
            "qualifier": figure.qualifier,
        },
        "usd": usd,
        "change_pct": verdict.change_pct,
        "article_url": article.url,
        "article_title": article.title,
        "publisher": article.publisher,
        "published": article.published.isoformat(),
        "quote": quote,
        "key": key,
    }


def _change(
    s: Session,
    ctx: Context,
    watch: Watch,
    claim: ClaimRule,
    article: Article,
    figure: Figure,
    verdict: Verdict,
    values: dict[str, object],
    key: str,
) -> int:
    alert = {
        "key": key,
        "kind": "change",
        "watch": watch.watch,
        "claim": claim.id,
        "low": figure.low,
        "high": figure.high,
        "currency": figure.currency,
        "as_of": article.published.date(),
        "payload": json.dumps(
            _payload(watch, claim, article, figure, verdict, key, str(values["quote"])),
            ensure_ascii=False,
        ),
        "channel": watch.slack.channel or ctx.default_channel,
    }
    alert_id = store.insert_ignore(s, AlertRow, alert, ["key"])
    if alert_id is None:  # another article or replica reported the same new value first
        return _corroborate(s, ctx, watch, claim, article, key, values)
    return _insert_observation(s, values, "change", alert_id)


def _corroborate(
    s: Session,
    ctx: Context,
    watch: Watch,
    claim: ClaimRule,
    article: Article,
    parent_key: str,
    values: dict[str, object],
) -> int:
    """A later report of an alerted value: count it, and queue a reply in the alert's thread."""
    conn = s.connection()
    parent_id, parent_json, channel = conn.execute(_ALERT_BY_KEY, {"key": parent_key}).one()
    parent_payload = json.loads(parent_json)
    if parent_payload["article_url"] == article.url:
        return _insert_observation(s, values, "change", parent_id)
    key = f"{parent_key}|{article.url}"
    payload = {
        **parent_payload,
        "reported": {**parent_payload["reported"], "text": values["text"]},
        "article_url": article.url,
        "article_title": article.title,
        "publisher": article.publisher,
        "published": article.published.isoformat(),
        "quote": values["quote"],
        "key": key,
    }
    reply = {
        "key": key,
        "kind": "corroboration",
        "watch": watch.watch,
        "claim": claim.id,
        "parent_id": parent_id,
        "payload": json.dumps(payload, ensure_ascii=False),
        "channel": channel,
    }
    made = 0
    if store.insert_ignore(s, AlertRow, reply, ["key"]) is not None:
        conn.execute(_CORROBORATED, {"parent": parent_id})
        made = 1
    _insert_observation(s, values, "corroboration", parent_id)
    return made


def sync_claims(engine: Engine, rules: Rules) -> None:
    """Make the claim table match the rules: what `monitor claims` shows and replicas lock."""
    with store.session(engine) as s:
        for watch in rules.watches:
            for claim in watch.claims:
                figure = claim.figure
                values = {
                    "title": claim.name,
                    "value": claim.value,
                    "as_of": claim.as_of,
                    "low": figure.low,
                    "high": figure.high,
                    "currency": figure.currency,
                    "tolerance": claim.tolerance,
                    "quote": claim.quote,
                }
                # Insert, then update: safe when several replicas start at once.
                key = {"watch": watch.watch, "id": claim.id}
                store.insert_ignore(s, ClaimRow, {**key, **values}, list(key))
                s.exec(
                    update(ClaimRow)
                    .where(ClaimRow.watch == watch.watch, ClaimRow.id == claim.id)  # type: ignore[arg-type]
                    .values(**values)
                )
