"""Stage Observation -> Change: record what new articles say about a watch's claims.

The worker (`monitor.poll`) hands over the articles a feed brought; this module stores
them, ties their figures to claims (`monitor.attribution`), diffs each against the
claim's known values (`monitor.diff`) and queues the alerts in the outbox. The deciding
stays in those pure modules; here are the transactions and their statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, select, update
from sqlmodel import Session

from monitor import store
from monitor.articles import Article
from monitor.attribution import Attribution, attribute
from monitor.currency import to_usd
from monitor.diff import KnownValue, Verdict, compare, known_values, value_key
from monitor.figures import Figure, extract
from monitor.rules import ClaimRule, Rules, Watch
from monitor.store import AlertRow, ArticleRow, ClaimRow, ObservationRow

SYNDICATION_WINDOW = timedelta(hours=48)
WRITE_BATCH = 10  # new articles stored per transaction


@dataclass(frozen=True, slots=True)
class Stored:
    """What one `store_articles` call recorded."""

    articles: int = 0  # new articles stored
    alerts: int = 0  # alerts queued
    figures: int = 0  # figures tied to a claim (or to several, ambiguous)


def store_articles(
    engine: Engine, watch: Watch, articles: list[Article], *, channel: str | None
) -> Stored:
    """Store the articles not yet known, then attribute and diff their figures.

    Reading and attributing figures needs no database, so it happens first; the writes
    then go WRITE_BATCH articles to a transaction. `channel`: where alerts go
    when the watch names none.
    """
    prepared = []
    for article in articles:
        text = "\n".join(p for p in (article.title, article.summary, article.body) if p)
        figures = extract(text)
        found = attribute(watch, article.title, text, figures) if figures else []
        prepared.append((article, found))
    stored = alerts = attributed = 0
    # A few articles a transaction: SQLite has one writer at a time, and a long write
    # would keep the other polling threads waiting (a first poll brings 50 at once).
    for start in range(0, len(prepared), WRITE_BATCH):
        chunk = prepared[start : start + WRITE_BATCH]
        with store.session(engine) as s:
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
                    alerts += _observe(
                        s, channel, watch, article, article_id, attribution, known or {}
                    )
                attributed += len(found)
    return Stored(stored, alerts, attributed)


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
    channel: str | None,
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
        made = _change(s, channel, watch, claim, article, figure, verdict, values, key)
        # The rest of this article compares against the value just alerted, too.
        known[claim.id].append(
            KnownValue(figure.low, figure.high, figure.currency, on, figure.text, key)
        )
        return made
    if verdict.outcome == "unchanged" and verdict.matched and verdict.matched.key:
        return _corroborate(s, watch, claim, article, verdict.matched.key, values)
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
    channel: str | None,
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
        "channel": watch.slack.channel or channel,
    }
    alert_id = store.insert_ignore(s, AlertRow, alert, ["key"])
    if alert_id is None:  # another article or replica reported the same new value first
        return _corroborate(s, watch, claim, article, key, values)
    return _insert_observation(s, values, "change", alert_id)


def _corroborate(
    s: Session,
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
