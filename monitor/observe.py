"""Stage Observation -> Change: record what new and edited articles say about a watch's claims.

The worker (`monitor.poll`) hands over the articles a feed brought; this module stores
them, ties their figures to claims (`monitor.attribution`), diffs each against the
claim's values known when the article was published (`monitor.diff`) and queues the
alerts in the outbox. The deciding stays in those pure modules; here are the
transactions and their statements.

Articles are decided oldest first, so the first publisher of a new value gets its alert;
one published earlier than an alert's article but read later takes the credit over
while that alert is unsent (`_earlier_report`). On a feed's first poll (`catch_up`) the
changes are recorded as known values like any other but posted together, one catch-up
message per claim (`_gather_catch_up`), not one alert each. A poll queues at most
`max_alerts` messages to be sent one by one; what it finds beyond that is recorded the
same way (`store.SUMMARIZED`) and counted in one summary message (`_summarize`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlmodel import Session

from monitor import store
from monitor.articles import MAX_FIGURES, Article
from monitor.attribution import Attribution, attribute
from monitor.currency import to_usd
from monitor.diff import (
    KnownValue,
    Verdict,
    compare,
    known_at,
    known_values,
    matching_value,
    value_key,
)
from monitor.figures import Figure, extract
from monitor.rules import ClaimRule, Rules, Watch
from monitor.store import (
    CAUGHT_UP,
    RECORDED,
    SUMMARIZED,
    AlertRow,
    ArticleRow,
    ClaimRow,
    ObservationRow,
)

SYNDICATION_WINDOW = timedelta(hours=48)
WRITE_BATCH = 10  # articles stored per transaction
# What a report says and where: the parts of a payload that are one article's evidence.
_EVIDENCE = (
    "reported",
    "usd",
    "article_url",
    "article_title",
    "publisher",
    "published",
    "quote",
    "why",
)


@dataclass(frozen=True, slots=True)
class Stored:
    """What one `store_articles` call recorded."""

    articles: int = 0  # new articles stored
    reread: int = 0  # stored articles whose text had changed, read again
    alerts: int = 0  # outbox rows queued (a catch-up's recorded changes and its messages too)
    figures: int = 0  # figures tied to a claim (or to several, ambiguous)


def _in_thread(kind: str) -> bool:
    """Whether rows of `kind` are replies in a thread (not a channel message of their own)."""
    return kind != "change"


@dataclass(slots=True)
class _Recording:
    """One `store_articles` call: where its alerts go, whether it is a catch-up or a quiet
    one (nothing of it is ever posted), and how many rows it queued to be sent one by one
    against its cap."""

    watch: Watch
    channel: str | None
    catch_up: bool
    cap: int | None = None
    quiet: bool = False
    queued: Counter[bool] = field(default_factory=Counter)  # to send alone: replies, changes
    over: list[tuple[str, str]] = field(default_factory=list)  # (kind, key), summarized

    def status(self, kind: str, given: str | None = None) -> str:
        """The outbox status of its next row of `kind`: `given`, or sent one by one, in
        catch-up messages, or never (quiet); summarized once `cap` changes, or `cap`
        replies, are to be sent one by one. Changes and replies count apart: a burst of
        reports of known values (quiet replies in threads) never holds back a change."""
        status = given or (RECORDED if self.quiet else CAUGHT_UP if self.catch_up else "pending")
        if (
            status == "pending"
            and self.cap is not None
            and self.queued[_in_thread(kind)] >= self.cap
        ):
            return SUMMARIZED
        return status

    def queue(self, kind: str, key: str, status: str) -> None:
        """Count a row of `kind` it made with `status`."""
        if status == "pending":
            self.queued[_in_thread(kind)] += 1
        elif status == SUMMARIZED:
            self.over.append((kind, key))

    @property
    def sent_alone(self) -> int:
        return sum(self.queued.values())

    def claim(self, claim_id: str) -> ClaimRule:
        return next(c for c in self.watch.claims if c.id == claim_id)


def store_articles(
    engine: Engine,
    watch: Watch,
    articles: Iterable[Article],
    *,
    channel: str | None,
    catch_up: bool = False,
    quiet: bool = False,
    reread: Collection[str] = (),
    max_alerts: int | None = None,
    feed_url: str | None = None,
) -> Stored:
    """Store the articles not yet known, read again those whose text changed, and
    attribute and diff their figures, oldest first.

    Reading and attributing figures needs no database, so it happens first; the writes
    then go WRITE_BATCH articles to a transaction. `channel`: where alerts go when the
    watch names none. `catch_up`: a feed's first poll, whose changes go into one
    catch-up message per claim; `quiet` with it, none: the changes become known values
    and nothing is posted (`store.RECORDED`). `reread`: the URLs of articles the feed carried before
    whose item changed; any other article already stored is left as it is (another
    feed may carry the same story with another summary). `max_alerts`: how many messages
    to be sent one by one it may queue; the rest are summarized in one message that names
    `feed_url`.

    An edited article (same URL, another title or summary) has its observations
    replaced by those of its new text: history shows what each stored article says
    now, while whatever its earlier text alerted stays in the outbox, with its quote,
    and stays a known value of its claim.
    """
    rec = _Recording(watch, channel, catch_up, max_alerts, quiet and catch_up)
    prepared = []
    for article in sorted(articles, key=lambda a: a.published):
        text = "\n".join(p for p in (article.title, article.summary, article.body) if p)
        figures = extract(text)[:MAX_FIGURES]  # what one article may cost to attribute
        found = attribute(watch, article.title, text, figures) if figures else []
        prepared.append((article, found))
    stored = edited = alerts = attributed = 0
    # A few articles a transaction: SQLite has one writer at a time, and a long write
    # would keep the other polling threads waiting (a first poll brings 50 at once).
    for start in range(0, len(prepared), WRITE_BATCH):
        chunk = prepared[start : start + WRITE_BATCH]
        with store.session(engine) as s:
            known: _Known | None = None
            alike = _stored_alike(s, [article for article, _ in chunk])
            for article, found in chunk:
                if _syndicated_copy(article, alike):
                    continue
                article_id = store.insert_ignore(s, ArticleRow, _article_values(article), ["url"])
                if article_id is not None:
                    alike.append(
                        (article.title_key, article.publisher, article.published, article.url)
                    )
                    stored += 1
                elif article.url in reread:
                    article_id = _edited(s, watch, article)
                    if article_id is None:
                        continue
                    edited += 1
                else:
                    continue
                edited_now = article.url in reread
                if found and known is None:
                    known = _lock_known_values(s, watch)
                for attribution in found:
                    assert known is not None
                    alerts += _observe(
                        s, rec, article, article_id, attribution, known, edited=edited_now
                    )
                attributed += len(found)
    if catch_up and not quiet:
        with store.session(engine) as s:
            alerts += _gather_catch_up(s, rec)
    if rec.over:
        with store.session(engine) as s:
            alerts += _summarize(s, rec, feed_url)
    return Stored(stored, edited, alerts, attributed)


def _edited(s: Session, watch: Watch, article: Article) -> int | None:
    """The id of the stored `article` when its text changed, made ready to be read again.

    An article stored before texts were hashed takes its hash now, without a re-read:
    nothing tells whether it changed, and reading it again could alert old news.
    """
    conn = s.connection()
    article_id, digest = conn.execute(_VERSION, {"url": article.url}).one()
    if digest == article.content_hash:
        return None
    values = _article_values(article)
    conn.execute(_REWRITE, {"article": article_id, **{f"new_{k}": values[k] for k in _REWRITTEN}})
    if digest is None:
        return None
    conn.execute(_FORGET, {"article": article_id, "watch": watch.watch})
    return int(article_id)


@dataclass(frozen=True, slots=True)
class _Known:
    """Each claim's known values, and the values a person dismissed (never known)."""

    values: dict[str, list[KnownValue]]
    dismissed: dict[str, list[KnownValue]]


def _lock_known_values(s: Session, watch: Watch) -> _Known:
    """Each claim's known and dismissed values, read under a lock on the watch's claims.

    One writer per watch at a time, so that two outlets' reports of the same new number,
    handled at once by two threads or replicas, become one alert and one corroboration.
    """
    conn = s.connection()
    conn.execute(_LOCK_CLAIMS, {"watch": watch.watch}).all()
    alerted: dict[str, list[KnownValue]] = {c.id: [] for c in watch.claims}
    dismissed: dict[str, list[KnownValue]] = {c.id: [] for c in watch.claims}
    for claim, low, high, currency, as_of, key, payload, decision in conn.execute(
        _ALERTED_VALUES, {"watch": watch.watch}
    ):
        if claim in alerted and None not in (low, high, currency, as_of):
            p = json.loads(payload)
            published = datetime.fromisoformat(p["published"]) if p.get("published") else None
            value = KnownValue(low, high, currency, as_of, p["reported"]["text"], key, published)
            if decision == "dismissed":
                dismissed[claim].append(value)
            elif decision is None or decision == "accepted":
                alerted[claim].append(value)
    return _Known({c.id: known_values(c, alerted[c.id]) for c in watch.claims}, dismissed)


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


# The statements of storing articles, built once (see `poll._SUCCESS_UPDATE`).
_ARTICLES = ArticleRow.__table__  # type: ignore[attr-defined]
_ALERTS = AlertRow.__table__  # type: ignore[attr-defined]
_CLAIMS = ClaimRow.__table__  # type: ignore[attr-defined]
_OBSERVATIONS = ObservationRow.__table__  # type: ignore[attr-defined]
_ALIKE = select(
    _ARTICLES.c.title_key, _ARTICLES.c.publisher, _ARTICLES.c.published, _ARTICLES.c.url
).where(
    _ARTICLES.c.title_key.in_(bindparam("keys", expanding=True)),
    _ARTICLES.c.publisher.in_(bindparam("publishers", expanding=True)),
    _ARTICLES.c.published.between(bindparam("earliest"), bindparam("latest")),
)
_VERSION = select(_ARTICLES.c.id, _ARTICLES.c.content_hash).where(
    _ARTICLES.c.url == bindparam("url")
)
_REWRITTEN = ("title", "title_key", "summary", "body", "content_hash", "fetched_at")
_REWRITE = (
    _ARTICLES.update()
    .where(_ARTICLES.c.id == bindparam("article"))
    .values({name: bindparam(f"new_{name}") for name in _REWRITTEN})
)
_FORGET = delete(_OBSERVATIONS).where(
    _OBSERVATIONS.c.article_id == bindparam("article"),
    _OBSERVATIONS.c.watch == bindparam("watch"),
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
        _ALERTS.c.decision,
    )
    .where(_ALERTS.c.watch == bindparam("watch"), _ALERTS.c.kind == "change")
    .order_by(_ALERTS.c.id)
)
_ALERT_BY_KEY = select(_ALERTS.c.id, _ALERTS.c.payload, _ALERTS.c.channel, _ALERTS.c.status).where(
    _ALERTS.c.key == bindparam("key")
)
_CORROBORATED = (
    _ALERTS.update()
    .where(_ALERTS.c.id == bindparam("parent"))
    .values(corroborations=_ALERTS.c.corroborations + 1)
)
# The evidence of a change that is still unsent, handed to an earlier report of its value.
_RECREDIT = (
    _ALERTS.update()
    # Never tried: a message put back to "pending" after a timeout may be in the channel.
    .where(
        _ALERTS.c.id == bindparam("alert"),
        _ALERTS.c.status == "pending",
        _ALERTS.c.attempts == 0,
    )
    .values(
        {name: bindparam(name) for name in ("low", "high", "currency", "as_of", "payload")},
    )
)
_DEMOTED = (
    _OBSERVATIONS.update()
    .where(_OBSERVATIONS.c.alert_id == bindparam("alert"), _OBSERVATIONS.c.outcome == "change")
    .values(outcome="corroboration")
)


def _unjoined_changes(status: str, *columns: Any) -> Any:
    """The watch's changes of `status` not yet in a message: a catch-up's or a poll
    summary's, gathered into theirs at the end of a poll."""
    return (
        select(_ALERTS.c.id, _ALERTS.c.claim, *columns)
        .where(
            _ALERTS.c.watch == bindparam("watch"),
            _ALERTS.c.kind == "change",
            _ALERTS.c.status == status,
            _ALERTS.c.parent_id.is_(None),
        )
        .order_by(_ALERTS.c.id)
    )


_CAUGHT_UP_CHANGES = _unjoined_changes(CAUGHT_UP, _ALERTS.c.key, _ALERTS.c.payload)
_SUMMARIZED_CHANGES = _unjoined_changes(SUMMARIZED)

_IN_MESSAGE = (
    _ALERTS.update()
    .where(_ALERTS.c.id.in_(bindparam("ids", expanding=True)))
    .values(parent_id=bindparam("message"))
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
        "content_hash": article.content_hash,
        "published": article.published,
        "publisher": article.publisher,
        "lang": article.lang,
        "feed_url": article.feed_url,
        "fetched_at": datetime.now(UTC),
    }


def _observe(
    s: Session,
    rec: _Recording,
    article: Article,
    article_id: int,
    att: Attribution,
    known: _Known,
    *,
    edited: bool = False,
) -> int:
    """Record one attributed figure; create its alert when it is a change. Rows queued.

    `edited`: the article was read before and changed since; its new figure is news of now,
    so it takes no first-publisher credit from a report published in between. A report
    of a value a person dismissed is no change: it is threaded quietly under that alert.
    """
    figure, on = att.figure, article.published.date()
    values: dict[str, object] = {
        "watch": rec.watch.watch,
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
        "why": att.why,
    }
    values["usd_low"], values["usd_high"] = _usd(figure, on)
    if att.claim is None:
        return _insert_observation(s, values, "ambiguous")
    claim = rec.claim(att.claim)
    everything = known.values[claim.id]
    then = known_at(everything, article.published)
    verdict = compare(figure, on, then, claim.tolerance)
    if verdict.outcome == "change":
        dismissed = matching_value(figure, on, known.dismissed[claim.id], claim.tolerance)
        if dismissed is not None and dismissed.key:
            return _dismissed_again(s, rec, claim, article, dismissed.key, values)
        since = [kv for kv in everything if kv.key and kv not in then]
        later = matching_value(figure, on, since, claim.tolerance)
        if later is not None and later.key and edited:
            return _corroborate(s, rec, claim, article, later.key, values)
        if later is not None and later.key:
            return _earlier_report(
                s, rec, claim, article, figure, verdict, values, later, everything
            )
        key = value_key(rec.watch.watch, claim.id, figure)
        made = _change(s, rec, claim, article, figure, verdict, values, key)
        # The rest of this article, and later ones, compare against the value just alerted.
        everything.append(_alerted_value(figure, article, key))
        return made
    if verdict.outcome == "unchanged" and verdict.matched and verdict.matched.key:
        return _corroborate(s, rec, claim, article, verdict.matched.key, values)
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


def _evidence(article: Article, values: Mapping[str, object]) -> dict[str, object]:
    """What one article reports, and where: the `_EVIDENCE` of a payload."""
    return {
        "reported": {k: values[k] for k in ("low", "high", "currency", "text", "qualifier")},
        "usd": {"low": values["usd_low"], "high": values["usd_high"]},
        "article_url": article.url,
        "article_title": article.title,
        "publisher": article.publisher,
        "published": article.published.isoformat(),
        "quote": values["quote"],
        "why": values["why"],
    }


def _payload(
    watch: Watch,
    claim: ClaimRule,
    article: Article,
    verdict: Verdict,
    values: Mapping[str, object],
    key: str,
) -> dict[str, object]:
    """A change's payload. `previous.as_of` says when "was" was on record: after the
    article when nothing was yet (`diff.known_at`)."""
    previous = verdict.previous
    usd = {"low": verdict.usd[0], "high": verdict.usd[1]} if verdict.usd else None
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
            "as_of": previous.as_of.isoformat(),
        },
        "change_pct": verdict.change_pct,
        **_evidence(article, values),
        "usd": usd or {"low": None, "high": None},
        "key": key,
    }


def _change(
    s: Session,
    rec: _Recording,
    claim: ClaimRule,
    article: Article,
    figure: Figure,
    verdict: Verdict,
    values: dict[str, object],
    key: str,
) -> int:
    status = rec.status("change")
    alert = {
        "key": key,
        "kind": "change",
        "watch": rec.watch.watch,
        "claim": claim.id,
        "low": figure.low,
        "high": figure.high,
        "currency": figure.currency,
        "as_of": article.published.date(),
        "payload": _json(_payload(rec.watch, claim, article, verdict, values, key)),
        "channel": rec.watch.slack.channel or rec.channel,
        "status": status,
    }
    alert_id = store.insert_ignore(s, AlertRow, alert, ["key"])
    if alert_id is None:  # another article or replica reported the same new value first
        return _corroborate(s, rec, claim, article, key, values)
    rec.queue("change", key, status)
    return _insert_observation(s, values, "change", alert_id)


def _earlier_report(
    s: Session,
    rec: _Recording,
    claim: ClaimRule,
    article: Article,
    figure: Figure,
    verdict: Verdict,
    values: dict[str, object],
    later: KnownValue,
    known: list[KnownValue],
) -> int:
    """A new value, already alerted from an article published after this one.

    The first publisher gets the credit. While that alert is unsent, its evidence
    becomes this article's and its own article becomes a corroboration; once it is
    sent, this article is a corroboration that says it was published earlier.
    """
    assert later.key is not None
    conn = s.connection()
    alert_id, payload_json, channel, status = conn.execute(_ALERT_BY_KEY, {"key": later.key}).one()
    if json.loads(payload_json)["article_url"] == article.url:  # its own alert
        return _corroborate(s, rec, claim, article, later.key, values)
    # Only a value the alerted one lies within too takes the credit: otherwise the alert
    # would forget the value it was raised for ($7.61T is within 5% of $8T, not the reverse).
    if status != "pending" or not _covers(figure, later, claim.tolerance):
        return _corroborate(s, rec, claim, article, later.key, values, earlier=True)
    payload = _payload(rec.watch, claim, article, verdict, values, later.key)
    done = conn.execute(
        _RECREDIT,
        {
            "alert": alert_id,
            "low": figure.low,
            "high": figure.high,
            "currency": figure.currency,
            "as_of": article.published.date(),
            "payload": _json(payload),
        },
    ).rowcount
    if not done:  # taken to be sent meanwhile
        return _corroborate(s, rec, claim, article, later.key, values, earlier=True)
    conn.execute(_DEMOTED, {"alert": alert_id})
    was = json.loads(payload_json)
    evidence = {k: was.get(k) for k in _EVIDENCE}  # "why" is new in 0003
    # Sent with its alert, in its thread, even when this report came in a catch-up.
    made = _reply(
        s, rec, claim, alert_id, channel, payload, evidence, was["article_url"], status=status
    )
    known[known.index(later)] = _alerted_value(figure, article, later.key)
    _insert_observation(s, values, "change", alert_id)
    return made


def _covers(figure: Figure, known: KnownValue, tolerance: float) -> bool:
    """Whether `known` lies within `figure` widened by `tolerance` (same currency only)."""
    return (
        figure.currency == known.currency
        and figure.low * (1 - tolerance) <= known.low
        and known.high <= figure.high * (1 + tolerance)
    )


def _corroborate(
    s: Session,
    rec: _Recording,
    claim: ClaimRule,
    article: Article,
    parent_key: str,
    values: dict[str, object],
    *,
    earlier: bool = False,
) -> int:
    """A report of an alerted value: count it, and queue a reply in the alert's thread.

    `earlier`: the report was published before the alert's own article, which was sent
    first; the reply says so (`published_earlier`). A report of a value a quiet backfill
    recorded is recorded so too: there is no message to reply to.
    """
    conn = s.connection()
    parent_id, parent_json, channel, parent_status = conn.execute(
        _ALERT_BY_KEY, {"key": parent_key}
    ).one()
    parent_payload = json.loads(parent_json)
    if parent_payload["article_url"] == article.url:
        return _insert_observation(s, values, "change", parent_id)
    evidence = _evidence(article, values) | ({"published_earlier": True} if earlier else {})
    quietly = RECORDED if parent_status == RECORDED else None
    made = _reply(
        s, rec, claim, parent_id, channel, parent_payload, evidence, article.url, status=quietly
    )
    _insert_observation(s, values, "corroboration", parent_id)
    return made


def _dismissed_again(
    s: Session,
    rec: _Recording,
    claim: ClaimRule,
    article: Article,
    parent_key: str,
    values: dict[str, object],
) -> int:
    """A report of a value a person dismissed: recorded under that alert, never alerted;
    a quiet reply in its thread when it was sent (an unsent one stays unsent)."""
    conn = s.connection()
    parent_id, parent_json, channel, status = conn.execute(_ALERT_BY_KEY, {"key": parent_key}).one()
    made = 0
    if status not in ("dismissed", "failed"):
        key, queued = f"{parent_key}|{article.url}", rec.status("dismissed_report")
        evidence = {**_evidence(article, values), "key": key}
        reply = {
            "key": key,
            "kind": "dismissed_report",
            "watch": rec.watch.watch,
            "claim": claim.id,
            "parent_id": parent_id,
            "payload": _json({**json.loads(parent_json), **evidence}),
            "channel": channel,
            "status": queued,
        }
        if store.insert_ignore(s, AlertRow, reply, ["key"]) is not None:
            rec.queue("dismissed_report", key, queued)
            made = 1
    _insert_observation(s, values, "dismissed", parent_id)
    return made


def _reply(
    s: Session,
    rec: _Recording,
    claim: ClaimRule,
    parent_id: int,
    channel: str | None,
    parent_payload: Mapping[str, Any],
    evidence: Mapping[str, object],
    article_url: str,
    *,
    status: str | None = None,
) -> int:
    """Queue a corroboration of the alert `parent_id` with one article's `evidence`;
    1 if queued, 0 if that article already corroborates it. `status`: the outbox status,
    by default that of the rows this call makes."""
    key = f"{parent_payload['key']}|{article_url}"
    status = rec.status("corroboration", status)
    reply = {
        "key": key,
        "kind": "corroboration",
        "watch": rec.watch.watch,
        "claim": claim.id,
        "parent_id": parent_id,
        "payload": _json({**parent_payload, **evidence, "key": key}),
        "channel": channel,
        "status": status,
    }
    if store.insert_ignore(s, AlertRow, reply, ["key"]) is None:
        return 0
    rec.queue("corroboration", key, status)
    s.connection().execute(_CORROBORATED, {"parent": parent_id})
    return 1


def _gather_catch_up(s: Session, rec: _Recording) -> int:
    """Queue one catch-up message per claim for the watch's changes a catch-up recorded.

    Run at the end of a feed's first poll, under the claims lock: changes recorded by an
    interrupted first poll, or by another feed's first poll meanwhile, are gathered too,
    and each change goes into exactly one message. Returns the messages queued.
    """
    conn = s.connection()
    conn.execute(_LOCK_CLAIMS, {"watch": rec.watch.watch}).all()
    by_claim: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for alert_id, claim, key, payload in conn.execute(
        _CAUGHT_UP_CHANGES, {"watch": rec.watch.watch}
    ):
        by_claim.setdefault(claim, []).append((alert_id, key, json.loads(payload)))
    made = 0
    for claim_id, changes in by_claim.items():
        key = f"{changes[0][1]}|catch-up"
        claim = next((c for c in rec.watch.claims if c.id == claim_id), None)
        payload = {
            "watch": rec.watch.watch,
            "watch_title": rec.watch.title,
            "claim": claim_id,
            "claim_title": claim.name if claim else claim_id,
            "changes": [
                {
                    "reported": {k: p["reported"][k] for k in ("low", "high", "currency", "text")},
                    "article_url": p["article_url"],
                    "article_title": p.get("article_title"),
                    "publisher": p["publisher"],
                    "published": p["published"],
                }
                for _, _, p in sorted(changes, key=lambda c: c[2]["published"])
            ],
            "key": key,
        }
        message = {
            "key": key,
            "kind": "catch_up",
            "watch": rec.watch.watch,
            "claim": claim_id,
            "payload": _json(payload),
            "channel": rec.watch.slack.channel or rec.channel,
        }
        message_id = store.insert_ignore(s, AlertRow, message, ["key"])
        if message_id is not None:
            conn.execute(_IN_MESSAGE, {"ids": [c[0] for c in changes], "message": message_id})
            made += 1
    return made


def _summarize(s: Session, rec: _Recording, feed_url: str | None) -> int:
    """Queue the message that counts what a poll recorded beyond its cap; 1 if queued.

    The summarized changes join it (their later reports reply in its thread), with any
    left unlinked by a poll of the watch that died before its summary.
    """
    conn = s.connection()
    conn.execute(_LOCK_CLAIMS, {"watch": rec.watch.watch}).all()
    changes = conn.execute(_SUMMARIZED_CHANGES, {"watch": rec.watch.watch}).all()
    by_claim: dict[str, int] = {}
    for _, claim_id in changes:
        by_claim[claim_id] = by_claim.get(claim_id, 0) + 1
    titles = {c.id: c.name for c in rec.watch.claims}
    key = f"{rec.over[0][1]}|summary"
    payload = {
        "watch": rec.watch.watch,
        "watch_title": rec.watch.title,
        "feed_url": feed_url or "",
        "sent_alone": rec.sent_alone,
        "more_changes": len(changes),
        "more_corroborations": sum(kind == "corroboration" for kind, _ in rec.over),
        "claims": [
            {"claim": c, "claim_title": titles.get(c, c), "changes": n} for c, n in by_claim.items()
        ],
        "key": key,
    }
    message = {
        "key": key,
        "kind": "poll_summary",
        "watch": rec.watch.watch,
        "payload": _json(payload),
        "channel": rec.watch.slack.channel or rec.channel,
    }
    message_id = store.insert_ignore(s, AlertRow, message, ["key"])
    if message_id is None:
        return 0
    if changes:
        conn.execute(_IN_MESSAGE, {"ids": [c[0] for c in changes], "message": message_id})
    return 1


def _alerted_value(figure: Figure, article: Article, key: str) -> KnownValue:
    """The known value an alert of `figure`, reported in `article`, makes."""
    on = article.published.date()
    return KnownValue(
        figure.low, figure.high, figure.currency, on, figure.text, key, article.published
    )


def _json(payload: Mapping[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False)


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
