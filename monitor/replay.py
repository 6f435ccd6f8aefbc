"""Replay: what the current rules make of the articles already stored.

After a rule is fixed (a topic word removed, a `where:` added), a person wants to see what
the fix changes without waiting for news. Replay runs the daemon's own pipeline
(`observe.store_articles`: extraction, attribution, diff, in publication order) over a
watch's stored articles, into a scratch SQLite database in memory, and compares the result
with what is stored: observations gained, lost or decided otherwise, and the alerts that
would or would not have been raised, per claim. Values a person dismissed stay dismissed.

`apply` then writes the replayed observations over the stored ones and records the values
the replay would have alerted as known values (status `recorded`, as a quiet backfill
records them: never posted, nor are later reports of them); an alert
the rules no longer raise is withdrawn (its value no longer known; its message stays).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from monitor import store
from monitor.articles import Article
from monitor.decisions import NOT_KNOWN, keep, local_user
from monitor.observe import store_articles, sync_claims
from monitor.rules import Rules, Watch
from monitor.store import RECORDED, AlertRow, ArticleRow, ObservationRow

_Observed = tuple[str, int]  # article URL, figure offset


@dataclass(frozen=True, slots=True)
class Seen:
    """One figure's observation: which claim, what outcome, where."""

    claim: str | None
    candidates: str | None
    outcome: str
    figure: str
    url: str
    publisher: str
    published: str


@dataclass(slots=True)
class ClaimReplay:
    """What the replay changes for one claim."""

    gained: list[Seen] = field(default_factory=list)  # tied now, not before
    lost: list[Seen] = field(default_factory=list)  # tied before, not now
    changed: list[tuple[Seen, Seen]] = field(default_factory=list)  # (before, now)
    would_alert: list[str] = field(default_factory=list)  # alert keys not raised before
    would_not: list[str] = field(default_factory=list)  # raised before, not now


@dataclass(slots=True)
class Replay:
    """A watch's replay: articles read, and the differences per claim."""

    watch: str
    articles: int
    claims: dict[str, ClaimReplay]
    _scratch: Engine | None = None

    @property
    def unchanged(self) -> bool:
        return not self.claims


def replay(engine: Engine, rules: Rules, watch: Watch, *, since: datetime | None = None) -> Replay:
    """Replay `watch`'s stored articles (published `since`, when given) under `rules`."""
    with store.session(engine) as s:
        articles = _stored_articles(s, watch, list(watch.feed_urls(rules.google_news_url)), since)
        before = _observations(s, watch.watch, [a.url for a in articles])
        alerted = _alert_keys(s, watch.watch, [a.url for a in articles])
        dismissed = _dismissed(s, watch.watch)
    scratch = store.open_store("sqlite://")
    sync_claims(scratch, Rules(watches=[watch], files=rules.files))
    with store.session(scratch) as s:
        for row in dismissed:
            s.add(AlertRow(**{**row.model_dump(), "id": None, "parent_id": None}))
    store_articles(scratch, watch, articles, channel=None)
    with store.session(scratch) as s:
        after = _observations(s, watch.watch, [a.url for a in articles])
        raised = _alert_keys(s, watch.watch, [a.url for a in articles])
    result = Replay(watch.watch, len(articles), {}, scratch)
    for spot in sorted(before.keys() | after.keys()):
        old, new = before.get(spot), after.get(spot)
        if old == new:
            continue
        if old is not None and new is not None:
            if (old.claim, old.candidates, old.outcome) != (new.claim, new.candidates, new.outcome):
                _claim(result, new.claim or old.claim).changed.append((old, new))
        elif new is not None:
            _claim(result, new.claim).gained.append(new)
        elif old is not None:
            _claim(result, old.claim).lost.append(old)
    for key, claim in raised.items():
        if key not in alerted:
            _claim(result, claim).would_alert.append(key)
    for key, claim in alerted.items():
        if key not in raised:
            _claim(result, claim).would_not.append(key)
    return result


def apply(engine: Engine, done: Replay) -> int:
    """Write a replay's observations over the stored ones; record the values it would have
    alerted as known values that are never posted. Returns the observations written."""
    assert done._scratch is not None
    with store.session(done._scratch) as s:
        alerts = {a.id: a for a in s.exec(select(AlertRow).where(AlertRow.watch == done.watch))}
        urls = {a.id: a.url for a in s.exec(select(ArticleRow))}
        rows = list(s.exec(select(ObservationRow).where(ObservationRow.watch == done.watch)))
    written = 0
    with store.session(engine) as s:
        stored = select(ArticleRow).where(col(ArticleRow.url).in_(list(urls.values())))
        ids = {a.url: a.id for a in s.exec(stored)}
        for key in (k for claim in done.claims.values() for k in claim.would_alert):
            made = next(a for a in alerts.values() if a.key == key)
            known = {**made.model_dump(), "id": None, "parent_id": None, "status": RECORDED}
            s.add(AlertRow(**known))
        for key in (k for claim in done.claims.values() for k in claim.would_not):
            _withdraw(s, key)
        s.flush()
        keys = {a.key: a.id for a in s.exec(select(AlertRow).where(AlertRow.watch == done.watch))}
        s.execute(
            delete(ObservationRow).where(
                col(ObservationRow.watch) == done.watch,
                col(ObservationRow.article_id).in_([i for i in ids.values() if i is not None]),
            )
        )
        for observed in rows:
            alert = alerts.get(observed.alert_id) if observed.alert_id is not None else None
            values = observed.model_dump()
            values.update(
                id=None,
                article_id=ids[urls[observed.article_id]],
                alert_id=keys.get(alert.key) if alert is not None else None,
            )
            s.add(ObservationRow(**values))
            written += 1
    return written


def _withdraw(s: Session, key: str) -> None:
    """An alert the rules no longer raise: its value is no longer known (its message stays)."""
    alert = s.exec(select(AlertRow).where(AlertRow.key == key)).one()
    if alert.decision is not None:
        return
    alert.decision = "withdrawn"
    s.add(alert)
    keep(s, alert, "withdraw", by=local_user(), via="replay")


def _claim(result: Replay, claim: str | None) -> ClaimReplay:
    return result.claims.setdefault(claim or "(ambiguous)", ClaimReplay())


def _stored_articles(
    s: Session, watch: Watch, feeds: list[str], since: datetime | None
) -> list[Article]:
    """The watch's articles: from its `feeds`, or observed for it from another watch's."""
    observed = select(ObservationRow.article_id).where(ObservationRow.watch == watch.watch)
    query = select(ArticleRow).where(
        col(ArticleRow.feed_url).in_(feeds) | col(ArticleRow.id).in_(observed)
    )
    if since is not None:
        query = query.where(col(ArticleRow.published) >= since)
    return [
        Article(
            a.url,
            a.title,
            a.summary,
            a.published if a.published.tzinfo else a.published.replace(tzinfo=UTC),
            a.publisher,
            a.lang,
            a.guid,
            a.feed_url,
            a.body,
        )
        for a in s.exec(query.order_by(col(ArticleRow.published), col(ArticleRow.id)))
    ]


def _observations(s: Session, watch: str, urls: Iterable[str]) -> dict[_Observed, Seen]:
    rows = s.exec(
        select(ObservationRow, ArticleRow)
        .join(ArticleRow, col(ArticleRow.id) == col(ObservationRow.article_id))
        .where(ObservationRow.watch == watch, col(ArticleRow.url).in_(list(urls)))
    )
    return {
        (a.url, o.start): Seen(
            o.claim, o.candidates, o.outcome, o.text, a.url, a.publisher, a.published.isoformat()
        )
        for o, a in rows
    }


def _alert_keys(s: Session, watch: str, urls: Iterable[str]) -> dict[str, str | None]:
    """The change alerts raised from these articles, key -> claim."""
    wanted = set(urls)
    found = {}
    for alert in s.exec(select(AlertRow).where(AlertRow.watch == watch, AlertRow.kind == "change")):
        if (
            json.loads(alert.payload).get("article_url") in wanted
            and alert.decision not in NOT_KNOWN
        ):
            found[alert.key] = alert.claim
    return found


def _dismissed(s: Session, watch: str) -> list[AlertRow]:
    """The watch's dismissed changes: carried into the replay, so they stay dismissed."""
    return list(
        s.exec(select(AlertRow).where(AlertRow.watch == watch, AlertRow.decision == "dismissed"))
    )
