"""The pages' reads: a few queries per page, turned into the plain data of `monitor.web.story`.

Read-only. A claim's reports are read as plain columns, not as ORM objects: a claim with
10,000 observations is read in a few tens of milliseconds (bench/render.py).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from monitor.decisions import OnRecord, accepted_values, decisions_of, history, on_record
from monitor.store import AlertRow, ArticleRow, ClaimRow, FeedState, ObservationRow
from monitor.web.story import (
    CHANGE,
    DISMISSED,
    ClaimSummary,
    Decision,
    FeedHealth,
    OutboxEntry,
    Report,
    Story,
)

_REPORT_COLUMNS = (
    col(ArticleRow.published),
    col(ArticleRow.publisher),
    col(ArticleRow.title),
    col(ArticleRow.url),
    col(ObservationRow.text),
    col(ObservationRow.low),
    col(ObservationRow.high),
    col(ObservationRow.currency),
    col(ObservationRow.usd_low),
    col(ObservationRow.usd_high),
    col(ObservationRow.outcome),
    col(ObservationRow.quote),
    col(ObservationRow.why),
    col(AlertRow.decision),
)


def story(s: Session, watch: str, claim: str) -> Story | None:
    """A claim with every report of it, oldest first; None when there is no such claim."""
    row = s.get(ClaimRow, (watch, claim))
    if row is None:
        return None
    query = (
        columns(*_REPORT_COLUMNS)
        .join(ArticleRow, col(ArticleRow.id) == col(ObservationRow.article_id))
        .outerjoin(AlertRow, col(AlertRow.id) == col(ObservationRow.alert_id))
        .where(col(ObservationRow.watch) == watch, col(ObservationRow.claim) == claim)
        .order_by(col(ArticleRow.published), col(ObservationRow.id))
    )
    reports = [_report(r) for r in s.connection().execute(query).all()]
    return Story(watch, claim, row.title, row.currency, _records(s, row), reports)


def _report(row: Any) -> Report:
    # An alert's decision belongs to the change that made it, not to its corroborations.
    values = tuple(row)
    return Report(*values if row.outcome == CHANGE else (*values[:-1], None))


def _records(s: Session, row: ClaimRow) -> list[OnRecord]:
    """Every value that was on record, oldest first (`decisions.history`)."""
    stated = OnRecord(row.value, row.low, row.high, row.currency, row.as_of)
    return history(stated, accepted_values(s, row.watch, row.id))


def claims(s: Session, watch_titles: dict[str, str]) -> list[ClaimSummary]:
    """Every claim with its value on record, latest report, sources and open alerts."""
    key = (col(ObservationRow.watch), col(ObservationRow.claim))
    counts = {
        (w, c): (n, sources)
        for w, c, n, sources in s.connection()
        .execute(
            columns(*key, func.count(), func.count(func.distinct(ArticleRow.publisher)))
            .join(ArticleRow, col(ArticleRow.id) == col(ObservationRow.article_id))
            .group_by(*key)
        )
        .all()
    }
    open_alerts = dict(
        ((w, c), n)
        for w, c, n in s.connection()
        .execute(
            columns(col(AlertRow.watch), col(AlertRow.claim), func.count())
            .where(col(AlertRow.kind) == CHANGE, col(AlertRow.decision).is_(None))
            .group_by(col(AlertRow.watch), col(AlertRow.claim))
        )
        .all()
    )
    found = []
    for row in s.exec(select(ClaimRow).order_by(col(ClaimRow.watch), col(ClaimRow.id))).all():
        latest = (
            s.connection()
            .execute(
                columns(*_REPORT_COLUMNS)
                .join(ArticleRow, col(ArticleRow.id) == col(ObservationRow.article_id))
                .outerjoin(AlertRow, col(AlertRow.id) == col(ObservationRow.alert_id))
                .where(
                    col(ObservationRow.watch) == row.watch,
                    col(ObservationRow.claim) == row.id,
                    col(ObservationRow.role) == "value",
                    col(ObservationRow.outcome) != DISMISSED,
                )
                .order_by(col(ArticleRow.published).desc())
                .limit(1)
            )
            .first()
        )
        held = on_record(
            OnRecord(row.value, row.low, row.high, row.currency, row.as_of),
            accepted_values(s, row.watch, row.id),
        )
        n, sources = counts.get((row.watch, row.id), (0, 0))
        found.append(
            ClaimSummary(
                row.watch,
                watch_titles.get(row.watch, row.watch),
                row.id,
                row.title,
                held,
                _report(latest) if latest else None,
                sources,
                n,
                open_alerts.get((row.watch, row.id), 0),
            )
        )
    return found


def outbox(s: Session, offset: int, limit: int) -> tuple[int, list[OutboxEntry]]:
    """The number of alerts, and `limit` of them from `offset`, newest first."""
    total = s.exec(select(func.count()).select_from(AlertRow)).one()
    rows = s.exec(
        select(AlertRow).order_by(col(AlertRow.id).desc()).offset(offset).limit(limit)
    ).all()
    decided = decisions_of(s, [a.id for a in rows if a.id is not None])
    entries = []
    for a in rows:
        p = json.loads(a.payload)
        if "changes" in p:
            n = len(p["changes"])
            reported: str | None = f"{n} change{'' if n == 1 else 's'}"
        else:
            reported = (p.get("reported") or {}).get("text")
        entries.append(
            OutboxEntry(
                a.id or 0,
                a.kind,
                a.watch,
                a.claim,
                p.get("publisher"),
                (p.get("previous") or {}).get("text") if a.kind == CHANGE else None,
                reported,
                p.get("article_url"),
                a.status,
                a.attempts,
                a.last_error,
                a.decision,
                [Decision(d.action, d.by, d.via, d.at) for d in decided.get(a.id or 0, [])],
                a.created_at,
            )
        )
    return total, entries


def feeds(s: Session, rules: dict[str, tuple[str, float]]) -> list[FeedHealth]:
    """Every feed of the rules (url -> watch, seconds between polls) with its last poll."""
    states = {st.url: st for st in s.exec(select(FeedState)).all()}
    found = []
    for url, (watch, every) in rules.items():
        st = states.get(url)
        last = st.last_poll_at if st else None
        due = [last + timedelta(seconds=every)] if last else []
        if st and st.next_poll_at:
            due.append(st.next_poll_at)  # backing off
        found.append(
            FeedHealth(
                url,
                watch,
                last,
                st.last_status if st else None,
                (st.last_result or "never polled") if st else "never polled",
                st.failures if st else 0,
                st.last_error if st else None,
                st.warning if st else None,
                max(due, default=None),
            )
        )
    return found


def claim_ids(s: Session, claim: str) -> list[tuple[str, str]]:
    """The (watch, claim) pairs a CLI argument names: "watch/claim", or a claim id in any watch."""
    watch, _, claim_id = claim.rpartition("/")
    query = columns(col(ClaimRow.watch), col(ClaimRow.id)).where(col(ClaimRow.id) == claim_id)
    if watch:
        query = query.where(col(ClaimRow.watch) == watch)
    return [(w, c) for w, c in s.connection().execute(query)]
