"""Stage Alert, once a day: what a watch's claims and feeds did since the last digest.

`compose` is pure: the records of one period in, the digest's content out (the payload
that `alerts.render` shows). The rest reads those records and queues the digest in the
outbox under the key `digest/<watch>/<local date>`. The key is unique and the row is
inserted only if absent, so however many replicas check at once and however often a
process restarts, a day has one digest; a day whose time passed while no process ran
gets its digest at the next check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor import store
from monitor.rules import DigestRule, Rules, Watch
from monitor.store import AlertRow, DecisionRow, FeedState

FIRST_PERIOD = timedelta(hours=24)  # what the first digest of a watch looks back over
_UTC = DigestRule(at="00:00")  # `monitor digest` on a watch without `digest:`
_ALERT_KINDS = ("change", "corroboration", "feed_degraded", "feed_recovered")
_DONE = {"accept": "accepted", "dismiss": "dismissed", "retry": "retried"}


@dataclass(frozen=True, slots=True)
class Change:
    """A change alert of the period: a new value an outlet reported for a claim."""

    claim: str
    publisher: str
    was: str
    now: str
    article_url: str
    article_title: str
    published: str
    at: datetime
    decision: str | None = None  # accepted | dismissed, when a person decided


@dataclass(frozen=True, slots=True)
class Corroboration:
    """A later report of an alerted value."""

    claim: str
    publisher: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """What a person decided about an alert (`DecisionRow`)."""

    claim: str | None
    action: str  # accept | dismiss | retry
    by: str
    via: str
    at: datetime
    value: str | None = None


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """A feed of the watch degraded or recovered."""

    kind: str  # feed_degraded | feed_recovered
    feed_url: str
    reason: str
    failures: int
    at: datetime


@dataclass(frozen=True, slots=True)
class FailingFeed:
    """A feed of the watch whose last poll failed, as it stands when the digest is made."""

    feed_url: str
    failures: int
    error: str | None
    degraded: bool


def compose(
    watch: Watch,
    *,
    since: datetime,
    until: datetime,
    key: str,
    scheduled: bool,
    changes: Sequence[Change] = (),
    corroborations: Sequence[Corroboration] = (),
    decisions: Sequence[Decision] = (),
    feed_events: Sequence[FeedEvent] = (),
    failing: Sequence[FailingFeed] = (),
) -> dict[str, Any]:
    """The digest of [since, until) as a JSON-ready payload: per claim (in the rules' order,
    then claims no longer in the rules), its changes, corroborations and decisions; the
    claims with none of them as `quiet`; and the feeds' health."""
    rule = watch.digest or _UTC
    titles = {c.id: c.name for c in watch.claims}
    active: dict[str | None, dict[str, Any]] = {}

    def group(claim: str | None) -> dict[str, Any]:
        if claim not in active:
            active[claim] = {
                "claim": claim or "",
                "claim_title": titles.get(claim or "", claim or "Other alerts"),
                "changes": [],
                "corroborations": 0,
                "outlets": [],
                "decisions": [],
            }
        return active[claim]

    for change in sorted(changes, key=lambda c: c.at):
        group(change.claim)["changes"].append(
            {
                "publisher": change.publisher,
                "was": change.was,
                "now": change.now,
                "article_url": change.article_url,
                "article_title": change.article_title,
                "published": change.published,
                **({"decision": change.decision} if change.decision else {}),
            }
        )
    for corroboration in sorted(corroborations, key=lambda c: c.at):
        entry = group(corroboration.claim)
        entry["corroborations"] += 1
        if corroboration.publisher not in entry["outlets"]:
            entry["outlets"].append(corroboration.publisher)
    for decision in sorted(decisions, key=lambda d: d.at):
        group(decision.claim)["decisions"].append(
            {
                "action": _DONE.get(decision.action, decision.action),
                "by": decision.by,
                "via": decision.via,
                "at": decision.at.isoformat(),
                **({"value": decision.value} if decision.value else {}),
            }
        )
    order = {claim_id: index for index, claim_id in enumerate(titles)}
    claims = sorted(active.values(), key=lambda g: (order.get(g["claim"], len(order)), g["claim"]))
    events = sorted(feed_events, key=lambda e: e.at)
    return {
        "watch": watch.watch,
        "watch_title": watch.title,
        "since": since.astimezone(UTC).isoformat(),
        "until": until.astimezone(UTC).isoformat(),
        "date": until.astimezone(rule.zone).date().isoformat(),
        "tz": rule.tz,
        "scheduled": scheduled,
        "claims": claims,
        "quiet": [titles[c] for c in titles if c not in active],
        "feeds": {
            "degraded": [_event(e) for e in events if e.kind == "feed_degraded"],
            "recovered": [_event(e) for e in events if e.kind == "feed_recovered"],
            "failing": [
                {
                    "feed_url": f.feed_url,
                    "failures": f.failures,
                    "error": f.error or "",
                    "degraded": f.degraded,
                }
                for f in sorted(failing, key=lambda f: (-f.failures, f.feed_url))
            ],
        },
        "key": key,
    }


def _event(event: FeedEvent) -> dict[str, Any]:
    return {
        "feed_url": event.feed_url,
        "reason": event.reason,
        "failures": event.failures,
        "at": event.at.isoformat(),
    }


def last_time(rule: DigestRule, now: datetime) -> datetime:
    """The latest moment at or before `now` that is `rule.at` in `rule.tz`."""
    zone = rule.zone
    today = now.astimezone(zone).date()
    moment = datetime.combine(today, rule.time_of_day, tzinfo=zone)
    if moment > now:
        moment = datetime.combine(today - timedelta(days=1), rule.time_of_day, tzinfo=zone)
    return moment


def digest_key(watch: str, day: date) -> str:
    """The outbox key of a watch's scheduled digest of `day` (its local date)."""
    return f"digest/{watch}/{day.isoformat()}"


def queue_due(
    engine: Engine, rules: Rules, now: datetime, default_channel: str | None = None
) -> list[str]:
    """Queue the digest of every watch whose time of day has passed since its last one.

    A day's digest covers the time since the previous scheduled digest up to that day's
    time; if days were missed, one digest keyed by the latest day covers them all. A
    watch's first digest waits for that time today (not yesterday's). Returns the keys
    this call queued; a digest another process queued first is not among them.
    """
    due: dict[str, tuple[Watch, datetime]] = {}
    for watch in rules.watches:
        if watch.digest is not None:
            moment = last_time(watch.digest, now)
            due[digest_key(watch.watch, moment.date())] = (watch, moment)
    if not due:
        return []
    with store.session(engine) as s:
        done = set(s.exec(select(AlertRow.key).where(col(AlertRow.key).in_(due))).all())
    queued = []
    for key, (watch, moment) in due.items():
        if key in done:
            continue
        with store.session(engine) as s:
            last = last_until(s, watch.watch)
            if last is not None and last >= moment:
                continue  # covered already (the time of day moved later, or clocks differ)
            if last is None and moment.date() != now.astimezone(moment.tzinfo).date():
                continue  # a watch's first digest: not for a day before it was seen
            payload = build(
                s,
                watch,
                until=moment,
                key=key,
                scheduled=True,
                since=last,
                google_news_url=rules.google_news_url,
            )
            if _insert(s, watch, payload, watch.slack.channel or default_channel):
                queued.append(key)
    return queued


def preview(engine: Engine, watch: Watch, now: datetime, *, google_news_url: str) -> dict[str, Any]:
    """The digest from the last scheduled one until `now`, keyed for posting it now."""
    rule = watch.digest or _UTC
    local = now.astimezone(rule.zone)
    key = f"{digest_key(watch.watch, local.date())}/posted-{local.strftime('%H:%M:%S')}"
    with store.session(engine) as s:
        return build(
            s,
            watch,
            until=now,
            key=key,
            scheduled=False,
            since=last_until(s, watch.watch),
            google_news_url=google_news_url,
        )


def post(engine: Engine, payload: dict[str, Any], watch: Watch, channel: str | None) -> bool:
    """Queue a `preview` for the next delivery; False if that key was queued already."""
    with store.session(engine) as s:
        return _insert(s, watch, payload, watch.slack.channel or channel)


def last_until(s: Session, watch: str) -> datetime | None:
    """Where the watch's last scheduled digest ended; None before its first."""
    rows = s.exec(
        select(AlertRow.payload)
        .where(AlertRow.watch == watch, AlertRow.kind == "digest")
        .order_by(col(AlertRow.id).desc())
    )
    for payload in rows:
        p = json.loads(payload)
        if p.get("scheduled"):
            return datetime.fromisoformat(p["until"])
    return None


def build(
    s: Session,
    watch: Watch,
    *,
    until: datetime,
    key: str,
    scheduled: bool,
    since: datetime | None,
    google_news_url: str,
) -> dict[str, Any]:
    """Read the period's records (from `since`, else `FIRST_PERIOD` before) and compose.
    `google_news_url`: the base of the watch's searches, to know its feeds' URLs."""
    start = since or until - FIRST_PERIOD
    alerts = s.exec(
        select(AlertRow)
        .where(
            AlertRow.watch == watch.watch,
            col(AlertRow.kind).in_(_ALERT_KINDS),
            col(AlertRow.created_at) >= start,
            col(AlertRow.created_at) < until,
        )
        .order_by(col(AlertRow.id))
    ).all()
    decided = s.exec(
        select(DecisionRow).where(
            DecisionRow.watch == watch.watch,
            col(DecisionRow.at) >= start,
            col(DecisionRow.at) < until,
        )
    ).all()
    feeds = set(watch.feed_urls(google_news_url))
    failing = s.exec(
        select(FeedState).where(FeedState.watch == watch.watch, col(FeedState.failures) > 0)
    ).all()
    changes, corroborations, events = _records(alerts)
    return compose(
        watch,
        since=start,
        until=until,
        key=key,
        scheduled=scheduled,
        changes=changes,
        corroborations=corroborations,
        decisions=[Decision(d.claim, d.action, d.by, d.via, d.at, d.text) for d in decided],
        feed_events=events,
        failing=[
            FailingFeed(f.url, f.failures, f.last_error, f.degraded)
            for f in failing
            if f.url in feeds
        ],
    )


def _records(
    alerts: Iterable[AlertRow],
) -> tuple[list[Change], list[Corroboration], list[FeedEvent]]:
    changes, corroborations, events = [], [], []
    for alert in alerts:
        p = json.loads(alert.payload)
        if alert.kind == "change":
            changes.append(
                Change(
                    claim=alert.claim or "",
                    publisher=p.get("publisher") or "",
                    was=p["previous"]["text"],
                    now=p["reported"]["text"],
                    article_url=p.get("article_url") or "",
                    article_title=p.get("article_title") or "",
                    published=p.get("published") or "",
                    at=alert.created_at,
                    decision=alert.decision,
                )
            )
        elif alert.kind == "corroboration":
            corroborations.append(
                Corroboration(alert.claim or "", p.get("publisher") or "", alert.created_at)
            )
        else:
            events.append(
                FeedEvent(
                    alert.kind,
                    p["feed_url"],
                    p.get("reason") or "",
                    int(p.get("failures") or 0),
                    alert.created_at,
                )
            )
    return changes, corroborations, events


def _insert(s: Session, watch: Watch, payload: dict[str, Any], channel: str | None) -> bool:
    values = {
        "key": payload["key"],
        "kind": "digest",
        "watch": watch.watch,
        "payload": json.dumps(payload, ensure_ascii=False),
        "channel": channel,
    }
    return store.insert_ignore(s, AlertRow, values, ["key"]) is not None
