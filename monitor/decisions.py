"""What a person decides about an alert: accept its value, dismiss it, or send it again.

A decision comes from a Slack button (`monitor.interactions`) or the CLI (`monitor
alerts accept|dismiss|retry`), on any replica: it is applied in the database, once
(`alert.decision` is set by a conditional update, so a delivery Slack repeats changes
nothing), and kept in the `decision` table with who, when and from where.

- **accept**: the alert's value becomes the claim's value on record (`on_record`).
- **dismiss**: the value stops being a known value of the claim; later reports of it
  are recorded and threaded quietly under the dismissed alert (`monitor.observe`).
- **retry**: a failed alert goes back to the outbox.

A sent alert's Slack message is then updated to show the decision: an outbox row of
kind "decision" that the delivery turns into `chat.update` once its alert is sent.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from monitor import store
from monitor.errors import MonitorError
from monitor.store import AlertRow, DecisionRow, ObservationRow

Action = Literal["accept", "dismiss", "retry"]
ACTIONS: tuple[Action, ...] = ("accept", "dismiss", "retry")
# The state an alert is left in by each deciding action (retry sets none).
DECIDED = {"accept": "accepted", "dismiss": "dismissed"}
# Decisions after which an alert's value is no longer a known value of its claim:
# dismissed by a person, or withdrawn by `replay --apply` (the rules no longer raise it).
NOT_KNOWN = ("dismissed", "withdrawn")
# Outbox statuses whose message is in Slack, or about to be: an update must follow it.
_IN_SLACK = ("sent", "sending")


class DecisionError(MonitorError):
    """A decision that cannot be applied: an unknown alert, or one that takes no such decision."""


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of one decision, in words (`said`) for the person who made it."""

    alert_id: int
    key: str
    action: Action
    fresh: bool  # False: the same decision was already applied (Slack delivered it twice)
    said: str


@dataclass(frozen=True, slots=True)
class OnRecord:
    """A claim's value on record: the rules' stated value, or a report a person accepted."""

    text: str
    low: float
    high: float
    currency: str
    as_of: date
    by: str | None = None  # who accepted it; None for the rules' value
    at: datetime | None = None
    via: str | None = None
    alert_key: str | None = None


def local_user() -> str:
    """Who decides from the CLI: the local user at this host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in a container
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def on_record(stated: OnRecord, accepted: Iterable[DecisionRow]) -> OnRecord:
    """The value on record now: the last of `history`."""
    return history(stated, accepted)[-1]


def history(stated: OnRecord, accepted: Iterable[DecisionRow]) -> list[OnRecord]:
    """Every value that was on record, oldest first: the stated value, then each accepted
    report from its `as_of` on.

    An accepted report counts from its article's publication date; on the same day it
    wins over the rules (a person chose it after reading them), and of two accepted on
    one day the later decision wins. One reported before the stated value's day was never
    on record. A value dismissed after it was accepted is not on record: its accept
    decision is passed only while the alert stays accepted.
    """
    held = sorted(
        (
            OnRecord(d.text or "", d.low, d.high, d.currency, d.as_of, d.by, d.at, d.via)
            for d in accepted
            if d.low is not None and d.high is not None and d.currency and d.as_of
        ),
        key=lambda r: (r.as_of, r.at),
    )
    return [stated, *(r for r in held if r.as_of >= stated.as_of)]


def find_alert(s: Session, ref: str) -> AlertRow:
    """The alert `ref` names: its id ("42") or its key (as in its Slack metadata)."""
    alert = s.get(AlertRow, int(ref)) if ref.isdigit() else None
    if alert is None:
        alert = s.exec(select(AlertRow).where(col(AlertRow.key) == ref)).first()
    if alert is None:
        raise DecisionError(
            f"no alert {ref!r}: give an alert's id or key, as `monitor alerts` lists them"
        )
    return alert


def decide(
    engine: Engine,
    ref: str,
    action: Action,
    *,
    by: str,
    via: str,
    user_id: str | None = None,
) -> Applied:
    """Apply `action` to the alert `ref` (an id or a key), once, and keep the decision.

    Raises `DecisionError` when the alert does not exist or takes no such decision (a
    corroboration cannot be accepted; a sent alert cannot be retried; a dismissed alert
    cannot be accepted). `user_id`: the Slack user, mentioned in the updated message.
    """
    with store.session(engine) as s:
        alert = find_alert(s, ref)
        if action == "retry":
            return _retry(s, alert, by=by, via=via)
        if alert.kind != "change":
            raise DecisionError(
                f"alert {alert.id} is a {alert.kind.replace('_', ' ')}: only a change "
                "can be accepted or dismissed"
            )
        decided = DECIDED[action]
        won = _set(s, AlertRow.id == alert.id, col(AlertRow.decision).is_(None), decision=decided)
        if not won:
            s.refresh(alert)
            earlier = _last_decision(s, alert)
            if alert.decision == decided:
                return Applied(alert.id, alert.key, action, False, _already(alert, earlier))  # type: ignore[arg-type]
            raise DecisionError(_already(alert, earlier) + f"; it cannot be {decided} now")
        record = keep(s, alert, action, by=by, via=via)
        shown = _shown_decision(record, user_id)
        if action == "dismiss":
            _dismiss(s, alert)
        _tell_slack(s, alert, shown)
        return Applied(alert.id, alert.key, action, True, _said(alert, record))  # type: ignore[arg-type]


def retry_failed(engine: Engine, *, by: str, via: str) -> list[Applied]:
    """Send every failed alert again (`monitor alerts retry --failed`)."""
    with store.session(engine) as s:
        ids = s.exec(select(AlertRow.id).where(col(AlertRow.status) == "failed")).all()
    return [decide(engine, str(i), "retry", by=by, via=via) for i in ids]


def decisions_of(s: Session, alert_ids: Sequence[int]) -> dict[int, list[DecisionRow]]:
    """Each alert's decisions, oldest first."""
    found: dict[int, list[DecisionRow]] = {}
    if alert_ids:
        rows = s.exec(
            select(DecisionRow)
            .where(col(DecisionRow.alert_id).in_(alert_ids))
            .order_by(col(DecisionRow.id))
        )
        for d in rows:
            found.setdefault(d.alert_id, []).append(d)
    return found


def accepted_values(s: Session, watch: str, claim: str) -> list[DecisionRow]:
    """The accept decisions of a claim whose alert is still accepted."""
    return list(
        s.exec(
            select(DecisionRow)
            .join(AlertRow, col(AlertRow.id) == col(DecisionRow.alert_id))
            .where(
                col(DecisionRow.watch) == watch,
                col(DecisionRow.claim) == claim,
                col(DecisionRow.action) == "accept",
                col(AlertRow.decision) == "accepted",
            )
            .order_by(col(DecisionRow.id))
        ).all()
    )


def _retry(s: Session, alert: AlertRow, *, by: str, via: str) -> Applied:
    """A failed alert back to pending, tried afresh (no lookup: it never reached Slack)."""
    won = _set(
        s,
        AlertRow.id == alert.id,
        AlertRow.status == "failed",
        status="pending",
        attempts=0,
        next_attempt_at=None,
        last_error=None,
    )
    if not won:
        s.refresh(alert)
        raise DecisionError(
            f"alert {alert.id} is {alert.status}, not failed: only a failed alert is retried"
        )
    keep(s, alert, "retry", by=by, via=via)
    said = (
        f"alert {alert.id} ({alert.kind.replace('_', ' ')}) is back in the outbox: "
        "it goes out at the daemon's next delivery"
    )
    return Applied(alert.id, alert.key, "retry", True, said)  # type: ignore[arg-type]


def keep(s: Session, alert: AlertRow, action: str, *, by: str, via: str) -> DecisionRow:
    """Keep a decision on `alert`: who, what, when, from where, and the value decided on
    (none for a retry, which decides nothing about the value)."""
    value = action != "retry"
    record = DecisionRow(
        alert_id=alert.id,  # type: ignore[arg-type]
        watch=alert.watch,
        claim=alert.claim,
        action=action,
        by=by,
        via=via,
        low=alert.low if value else None,
        high=alert.high if value else None,
        currency=alert.currency if value else None,
        as_of=alert.as_of if value else None,
        text=_reported(alert) if value else None,
    )
    s.add(record)
    s.flush()
    return record


def _dismiss(s: Session, alert: AlertRow) -> None:
    """A dismissed change is not sent when it has not been yet, nor are its replies; the
    reports that made it count as dismissed ones in the claim's history."""
    mine = or_(col(AlertRow.id) == alert.id, col(AlertRow.parent_id) == alert.id)
    _set(s, mine, AlertRow.status == "pending", status="dismissed")
    s.execute(
        update(ObservationRow)
        .where(
            col(ObservationRow.alert_id) == alert.id,
            col(ObservationRow.outcome).in_(("change", "corroboration")),
        )
        .values(outcome="dismissed")
    )


def _tell_slack(s: Session, alert: AlertRow, shown: dict[str, Any]) -> None:
    """Show the decision in the alert's message: in its payload while it is unsent,
    else by an update queued behind it (a message being sent is updated once sent)."""
    payload = json.loads(alert.payload)
    payload["decision"] = shown
    as_json = json.dumps(payload, ensure_ascii=False)
    if _set(s, AlertRow.id == alert.id, AlertRow.status == "pending", payload=as_json):
        return
    s.refresh(alert)
    if alert.status not in _IN_SLACK:  # dismissed unsent, failed, or inside a catch-up
        return
    store.insert_ignore(
        s,
        AlertRow,
        {
            "key": f"{alert.key}|{shown['action']}",
            "kind": "decision",
            "watch": alert.watch,
            "claim": alert.claim,
            "parent_id": alert.id,
            "payload": as_json,
            "channel": alert.channel,
        },
        ["key"],
    )


def _set(s: Session, *where: Any, **values: Any) -> bool:
    """A conditional update of alerts; True when it changed a row (this caller won)."""
    return bool(s.execute(update(AlertRow).where(*where).values(**values)).rowcount)  # type: ignore[attr-defined]


def _last_decision(s: Session, alert: AlertRow) -> DecisionRow | None:
    assert alert.id is not None
    made = decisions_of(s, [alert.id]).get(alert.id, [])
    return next((d for d in reversed(made) if d.action != "retry"), None)


def _shown_decision(d: DecisionRow, user_id: str | None) -> dict[str, Any]:
    """A decision as a message shows it (`alerts.render`)."""
    return {
        "action": d.action,
        "by": d.by,
        "user_id": user_id,
        "via": d.via,
        "at": d.at.isoformat(),
    }


def _reported(alert: AlertRow) -> str | None:
    reported = json.loads(alert.payload).get("reported") or {}
    return reported.get("text")


def _said(alert: AlertRow, d: DecisionRow) -> str:
    value = d.text or "the reported value"
    where = f"{alert.watch}/{alert.claim}"
    if d.action == "accept":
        return (
            f"accepted: {value} is now the value on record of {where}, as of {d.as_of}; "
            "the earlier value stays a known value"
        )
    unsent = " It had not been sent, and will not be." if alert.status == "dismissed" else ""
    return (
        f"dismissed: {value} is no longer a known value of {where}; later reports of it "
        f"are recorded under this alert and never alerted.{unsent}"
    )


def _already(alert: AlertRow, earlier: DecisionRow | None) -> str:
    who = f" by {earlier.by} on {earlier.at:%Y-%m-%d %H:%M} UTC" if earlier else ""
    return f"alert {alert.id} was already {alert.decision}{who}"
