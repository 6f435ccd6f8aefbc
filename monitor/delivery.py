"""The outbox worker: sends pending alerts in id order, once each, and survives crashes.

An alert is claimed with one conditional UPDATE, so several processes can share an
outbox on SQLite or PostgreSQL, and no transaction stays open across an HTTP request.
Whenever an alert may already be in the channel (the process died while sending, a
response was lost, a server error came back), it is looked for by the key in its
message metadata before it is posted again. Targets that cannot read the channel back
(webhook, console) therefore deliver at least once rather than exactly once.

A claim names its worker and the process behind it (`worker_id`). It is settled by
another worker when that process is gone (same host: its pid no longer exists), or when
its lease ran out: the worker renews `claimed_at` every quarter of `lease` while it
sends, so a claim older than `lease` (default `LEASE`) belongs to a dead process.

Corroborations reply in their parent's thread, so with a threading target (the bot)
a corroboration waits until its parent is sent; if the parent failed, or the target
cannot thread, it is posted as a message of its own that names the claim. A change
recorded by a catch-up (`store.CAUGHT_UP`) is never sent alone: its catch-up message
is, and the change's corroborations reply in that message's thread. So does a change a
poll recorded beyond its cap (`store.SUMMARIZED`) with the poll's summary message; one
whose summary was never queued (the poll died) has its replies posted on their own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Update, func, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from monitor.alerts import render
from monitor.errors import DeliveryError
from monitor.notify.base import Message, Notifier
from monitor.store import CAUGHT_UP, SUMMARIZED, AlertRow, session, utcnow

log = logging.getLogger("monitor.delivery")

_FIRST_BACKOFF = 1.0  # seconds before the first retry; doubled each time
_MAX_BACKOFF = 60.0
_LOOKBACK = timedelta(minutes=1)  # clocks differ: look a little before the alert was made
# Seconds a claim lives without renewal. A live worker renews it every quarter of this
# while it sends (a Slack call takes at most 10 s), so a crashed worker's alert, on a
# host that cannot check its pid, is settled within this plus one delivery interval.
LEASE = 20.0


def worker_id(name: str) -> str:
    """What a worker named `name` writes in `claimed_by`: `name|host|pid`.

    `host` is this host as far as its process ids can be checked: its name, plus the
    kernel's boot and the pid namespace where Linux tells them, so that two containers
    sharing a hostname, or a rebooted machine, never take each other's pids for their own.
    """
    return f"{name}|{_host()}|{os.getpid()}"


def _host() -> str:
    marks = []
    with suppress(OSError):
        marks.append(Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    with suppress(OSError):
        marks.append(os.readlink("/proc/self/ns/pid"))
    digest = hashlib.blake2b("\n".join(marks).encode(), digest_size=4).hexdigest()
    return f"{socket.gethostname()}~{digest}" if marks else socket.gethostname()


@dataclass(frozen=True, slots=True)
class _Claimant:
    """A parsed `claimed_by`; one written before `worker_id` existed has only a name."""

    name: str
    host: str | None = None
    pid: int | None = None

    @classmethod
    def parse(cls, text: str) -> _Claimant:
        name, sep, rest = text.partition("|")
        host, _, pid = rest.rpartition("|")
        if not sep or not host or not pid.isdigit():
            return cls(text)
        return cls(name, host, int(pid))

    def gone(self, here: _Claimant) -> bool:
        """Whether this is a process of `here`'s host that no longer exists.

        A pid taken again by another process reads as alive: the lease settles it then.
        """
        if self.pid is None or self.host != here.host:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # exists, as another user
            return False
        return False


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one pass did; `pending` counts the alerts still waiting when it ended."""

    sent: int = 0
    failed: int = 0
    pending: int = 0
    reconciled: int = 0
    latencies: tuple[float, ...] = ()  # seconds from first try to Slack's answer, per sent alert


def deliver_pending(
    engine: Engine,
    notifier: Notifier,
    *,
    worker: str,
    budget: float = 30.0,
    min_interval: float = 1.0,
    lease: float = LEASE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send the due alerts within `budget` seconds; what Slack will not take yet stays pending.

    `worker` (from `worker_id`) names this worker and must differ between workers running
    at once: 'sending' rows under its name are taken for leftovers of an earlier run of it.
    At most one message per `min_interval` seconds goes to each channel.
    """
    reconciled = reconcile(engine, notifier, worker=worker, lease=lease)
    run = _Run(engine, notifier, worker, clock() + budget, min_interval, lease, clock, sleep)
    sent = failed = 0
    for alert_id in _due(engine):
        if clock() >= run.deadline:
            break
        outcome = run.deliver(alert_id)
        sent += outcome == "sent"
        failed += outcome == "failed"
        if outcome == "retry_later":
            # Slack is down or slowing us: later alerts would fail too, and would
            # overtake this one.
            break
    return DeliveryReport(
        sent=sent,
        failed=failed,
        pending=_count_pending(engine),
        reconciled=reconciled,
        latencies=tuple(run.latencies),
    )


def reconcile(engine: Engine, notifier: Notifier, *, worker: str, lease: float) -> int:
    """Settle alerts left 'sending' by a dead process: sent if the channel has them, else pending.

    Takes the 'sending' rows claimed under this `worker`'s name, by a process of this
    host that is gone, or over `lease` seconds ago; returns how many were settled. Rows
    the channel cannot be searched for now (Slack unreachable) are left for the next pass.
    """
    here = _Claimant.parse(worker)
    cutoff = utcnow() - timedelta(seconds=lease)
    with session(engine) as s:
        sending = s.exec(
            select(AlertRow).where(AlertRow.status == "sending").order_by(col(AlertRow.id))
        ).all()
        stuck = [(a, why) for a in sending if (why := _abandoned(a, here, cutoff)) is not None]
        threads = {alert.id: _thread_of(s, alert) for alert, _ in stuck}
    settled = 0
    for alert, why in stuck:
        try:
            ts = _find(notifier, alert, threads[alert.id])
        except DeliveryError as err:
            log.warning("alert=%s key=%s cannot reconcile yet: %s", alert.id, alert.key, err)
            continue
        if ts is not None:
            values: dict[str, Any] = {"status": "sent", "ts": ts, "sent_at": utcnow()}
        else:
            values = {"status": "pending", "last_error": "interrupted while sending; not found"}
        with session(engine) as s:
            # Unchanged claim only: a live worker refreshes `claimed_at` while it retries.
            updated = _rows_updated(
                s,
                update(AlertRow)
                .where(
                    col(AlertRow.id) == alert.id,
                    col(AlertRow.status) == "sending",
                    col(AlertRow.claimed_by) == alert.claimed_by,
                    col(AlertRow.claimed_at) == alert.claimed_at,
                )
                .values(**values),
            )
        if updated == 1:
            settled += 1
            log.info(
                "alert=%s key=%s outcome=reconciled_%s ts=%s claimed_by=%s because %s",
                alert.id,
                alert.key,
                values["status"],
                ts,
                alert.claimed_by,
                why,
            )
    return settled


def _abandoned(alert: AlertRow, here: _Claimant, cutoff: datetime) -> str | None:
    """Why the worker that claimed `alert` is taken for dead, or None if it may be alive."""
    claimant = _Claimant.parse(alert.claimed_by or "")
    if claimant.name == here.name:
        return "it was claimed under this worker's name, by an earlier run"
    if claimant.gone(here):
        return f"process {claimant.pid} that claimed it is gone"
    claimed_at = alert.claimed_at
    if claimed_at is not None and claimed_at.tzinfo is None:  # SQLite keeps no zone
        claimed_at = claimed_at.replace(tzinfo=UTC)
    if claimed_at is None or claimed_at < cutoff:
        return f"its lease ran out (not renewed since {claimed_at})"
    return None


@dataclass
class _Run:
    """One pass of the worker: its deadline, when it last posted to each channel, its timings."""

    engine: Engine
    notifier: Notifier
    worker: str
    deadline: float
    min_interval: float
    lease: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    last_post: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def deliver(self, alert_id: int) -> str:
        """sent | failed | retry_later (back to pending) | skipped (not ours, or waiting)."""
        claimed = self._claim(alert_id)
        if claimed is None:
            return "skipped"
        alert, thread_ts = claimed
        started = self.clock()
        try:
            message = render(
                kind=alert.kind,
                key=alert.key,
                payload=json.loads(alert.payload),
                channel=alert.channel,
                parent_ts=thread_ts,
                buttons=self.notifier.interactive,
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.exception("alert=%s key=%s cannot be rendered", alert.id, alert.key)
            return self._fail(
                alert, DeliveryError("invalid_alert", repr(exc), permanent=True), started
            )
        with self._lease_kept(alert):
            return self._send(alert, message, thread_ts, started)

    def _send(
        self, alert: AlertRow, message: Message, thread_ts: str | None, started: float
    ) -> str:
        """Post `alert` (or find it posted), retrying within the deadline; see `deliver`."""
        # Tried before: the earlier attempt may have reached the channel. An update of a
        # decision is the same edit however often it is made: nothing to look for.
        look_first = alert.attempts > 1 and alert.kind != "decision"
        backoff = _FIRST_BACKOFF
        while True:
            try:
                if alert.kind == "decision":
                    self.notifier.update(message, thread_ts)
                    ts = thread_ts
                else:
                    found = _find(self.notifier, alert, thread_ts) if look_first else None
                    ts = found if found is not None else self._post(message)
            except DeliveryError as err:
                if err.permanent:
                    return self._fail(alert, err, started)
                wait = err.retry_after if err.retry_after is not None else backoff
                backoff = min(backoff * 2, _MAX_BACKOFF)
                # Only a rate limit proves the message was not posted.
                look_first = look_first or err.code != "ratelimited"
                if self.clock() + wait > self.deadline:
                    return self._retry_later(alert, err, wait, started)
                self.sleep(wait)
                if not self._renew_claim(alert):
                    _log(alert, "claim_lost", err.code, started, self.clock())
                    return "skipped"
                continue
            self._write(alert, status="sent", ts=ts, sent_at=utcnow(), last_error=None)
            self.latencies.append(self.clock() - started)
            _log(alert, "sent", None, started, self.clock())
            return "sent"

    def _claim(self, alert_id: int) -> tuple[AlertRow, str | None] | None:
        """The alert and the thread to reply in, if this worker won it and it can go now."""
        with session(self.engine) as s:
            alert = s.get(AlertRow, alert_id)
            if alert is None or alert.status != "pending":
                return None
            thread_ts = None
            if alert.kind == "decision":  # the message it updates, once that is sent
                parent = s.get(AlertRow, alert.parent_id)
                if parent is None or parent.status != "sent":
                    return None
                thread_ts = parent.ts
            elif self.notifier.threads and alert.parent_id is not None:
                parent = _thread_parent(s, alert)
                if parent is not None and parent.status in ("pending", "sending", CAUGHT_UP):
                    return None  # its thread does not exist yet
                thread_ts = parent.ts if parent is not None else None
            now = utcnow()
            updated = _rows_updated(
                s,
                update(AlertRow)
                .where(
                    col(AlertRow.id) == alert_id,
                    col(AlertRow.status) == "pending",
                    or_(
                        col(AlertRow.next_attempt_at).is_(None),
                        col(AlertRow.next_attempt_at) <= now,
                    ),
                )
                .values(
                    status="sending",
                    claimed_at=now,
                    claimed_by=self.worker,
                    attempts=col(AlertRow.attempts) + 1,
                ),
            )
            if updated != 1:
                return None
            s.refresh(alert)
            return alert, thread_ts

    def _post(self, message: Message) -> str | None:
        """Send, keeping at least `min_interval` seconds between posts to one channel."""
        channel = message.channel or ""
        last = self.last_post.get(channel)
        if last is not None and (gap := self.min_interval - (self.clock() - last)) > 0:
            self.sleep(gap)
        try:
            return self.notifier.send(message)
        finally:
            self.last_post[channel] = self.clock()

    def _renew_claim(self, alert: AlertRow) -> bool:
        """Refresh `claimed_at` so nobody reconciles an alert still being retried."""
        return self._write(alert, claimed_at=utcnow())

    @contextmanager
    def _lease_kept(self, alert: AlertRow) -> Iterator[None]:
        """Renew the claim every quarter of the lease while the block runs.

        A post (up to the client's timeout) or a wait for a retry may outlast the lease;
        the renewals keep other workers from taking a live worker's alert for abandoned.
        """
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease / 4):
                # Silent when no longer held: the sending thread finds out and says so.
                try:
                    with session(self.engine) as s:
                        _rows_updated(s, self._held(alert).values(claimed_at=utcnow()))
                except SQLAlchemyError as exc:
                    log.warning("alert=%s lease not renewed: %s", alert.id, exc.args[0])

        thread = threading.Thread(target=renew, name=f"lease-alert-{alert.id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _held(self, alert: AlertRow) -> Update:
        """An UPDATE of `alert` that matches only while this worker holds it."""
        return update(AlertRow).where(
            col(AlertRow.id) == alert.id,
            col(AlertRow.status) == "sending",
            col(AlertRow.claimed_by) == self.worker,
        )

    def _fail(self, alert: AlertRow, err: DeliveryError, started: float) -> str:
        self._write(alert, status="failed", last_error=str(err))
        _log(alert, "failed", err.code, started, self.clock())
        return "failed"

    def _retry_later(self, alert: AlertRow, err: DeliveryError, wait: float, started: float) -> str:
        self._write(
            alert,
            status="pending",
            next_attempt_at=utcnow() + timedelta(seconds=wait),
            last_error=str(err),
        )
        _log(alert, "retry_later", err.code, started, self.clock())
        return "retry_later"

    def _write(self, alert: AlertRow, **values: Any) -> bool:
        """Update the alert while this worker still holds it; False if it no longer does."""
        with session(self.engine) as s:
            updated = _rows_updated(s, self._held(alert).values(**values))
        held = updated == 1
        if not held:
            log.warning("alert=%s key=%s was taken over while being sent", alert.id, alert.key)
        return held


def _find(notifier: Notifier, alert: AlertRow, thread_ts: str | None) -> str | None:
    """The ts of `alert` if it is already in its channel.

    When the channel cannot be searched at all (a missing scope), posting again is
    preferred to losing the alert.
    """
    try:
        return notifier.find(
            alert.key, alert.channel, alert.created_at - _LOOKBACK, thread_ts=thread_ts
        )
    except DeliveryError as err:
        if not err.permanent:
            raise
        log.warning(
            "alert=%s key=%s cannot search the channel (%s); it may be posted twice",
            alert.id,
            alert.key,
            err,
        )
        return None


def _thread_of(s: Session, alert: AlertRow) -> str | None:
    parent = _thread_parent(s, alert)
    return parent.ts if parent is not None else None


def _thread_parent(s: Session, alert: AlertRow) -> AlertRow | None:
    """The message whose thread `alert` replies in: its parent, or, for a change that
    went out in a catch-up or summary message, that message."""
    parent = s.get(AlertRow, alert.parent_id) if alert.parent_id is not None else None
    if (
        parent is not None
        and parent.status in (CAUGHT_UP, SUMMARIZED)
        and parent.parent_id is not None
    ):
        return s.get(AlertRow, parent.parent_id)
    return parent


def _rows_updated(s: Session, statement: Update) -> int:
    """How many rows a conditional UPDATE changed: 1 means this worker won the race."""
    return cast(CursorResult[Any], s.execute(statement)).rowcount


def _due(engine: Engine) -> list[int]:
    with session(engine) as s:
        ids = s.exec(
            select(AlertRow.id)
            .where(
                AlertRow.status == "pending",
                or_(
                    col(AlertRow.next_attempt_at).is_(None),
                    col(AlertRow.next_attempt_at) <= utcnow(),
                ),
            )
            .order_by(col(AlertRow.id))
        ).all()
    return [i for i in ids if i is not None]


def _count_pending(engine: Engine) -> int:
    with session(engine) as s:
        return s.exec(select(func.count()).where(AlertRow.status == "pending")).one()


def _log(alert: AlertRow, outcome: str, code: str | None, started: float, ended: float) -> None:
    """One line per delivery, as key=value text and as `extra` fields for JSON handlers."""
    latency_ms = round((ended - started) * 1000)
    fields = {
        "alert_id": alert.id,
        "alert_key": alert.key,
        "outcome": outcome,
        "slack_code": code,
        "latency_ms": latency_ms,
        "attempts": alert.attempts,
    }
    level = logging.INFO if outcome == "sent" else logging.WARNING
    log.log(
        level,
        "alert=%s key=%s outcome=%s code=%s latency_ms=%d attempts=%d",
        alert.id,
        alert.key,
        outcome,
        code or "-",
        latency_ms,
        alert.attempts,
        extra=fields,
    )
