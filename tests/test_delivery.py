"""The outbox worker against a fake Slack, on SQLite and PostgreSQL: once each, in order."""

# ruff: noqa: F811  (pytest fixtures imported from tests.fakeslack are test arguments)

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from time import sleep
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select

from monitor.delivery import LEASE, deliver_pending, reconcile, worker_id
from monitor.notify.console import ConsoleNotifier
from monitor.notify.slack_bot import SlackBot
from monitor.notify.slack_webhook import SlackWebhook
from monitor.settings import Settings
from monitor.store import AlertRow, session, utcnow
from tests.daemon_helpers import wait_for
from tests.fakeslack import FakeSlack, fake_slack  # noqa: F401
from tests.test_alerts import CHANGE

CHANNEL = "funding-alerts"


class FakeTime:
    """A clock that moves only when the worker sleeps, so budgets cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _add(
    engine: Engine,
    key: str,
    *,
    kind: str = "change",
    parent_id: int | None = None,
    payload: dict[str, Any] | None = None,
    channel: str | None = CHANNEL,
    **columns: Any,
) -> int:
    """An alert in the outbox; `columns` set its state (status, claimed_by, ...)."""
    body = payload if payload is not None else {**CHANGE, "key": key}
    row = AlertRow(
        key=key,
        kind=kind,
        watch="ai-chip-funding",
        claim="chip-venture-target",
        parent_id=parent_id,
        payload=json.dumps(body),
        channel=channel,
        **columns,
    )
    with session(engine) as s:
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _alert(engine: Engine, alert_id: int) -> AlertRow:
    with session(engine) as s:
        row = s.get(AlertRow, alert_id)
        assert row is not None
        return row


def _keys(slack: FakeSlack) -> list[str]:
    return [p.metadata["event_payload"]["key"] for p in slack.posts if p.metadata]


def _bot(slack: FakeSlack, *, timeout: int = 5) -> SlackBot:
    return SlackBot(slack.token, channel=CHANNEL, api_url=slack.api_url, timeout=timeout)


def _deliver(engine: Engine, notifier: Any, time: FakeTime | None = None, **kwargs: Any) -> Any:
    time = time or FakeTime()
    options = {"worker": "host:1", "min_interval": 0.0, "budget": 10.0, **kwargs}
    return deliver_pending(engine, notifier, clock=time.clock, sleep=time.sleep, **options)


def _make_due(engine: Engine, alert_id: int) -> None:
    """Let the time of a retry pass."""
    with session(engine) as s:
        s.execute(
            update(AlertRow)
            .where(col(AlertRow.id) == alert_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def test_sends_pending_alerts_in_id_order_and_records_ts(engine, fake_slack):
    ids = [_add(engine, f"k{i}") for i in range(3)]
    report = _deliver(engine, _bot(fake_slack))
    assert (report.sent, report.failed, report.pending) == (3, 0, 0)
    assert _keys(fake_slack) == ["k0", "k1", "k2"]
    for alert_id, posted in zip(ids, fake_slack.posts, strict=True):
        row = _alert(engine, alert_id)
        assert (row.status, row.ts, row.attempts, row.last_error) == ("sent", posted.ts, 1, None)
        assert row.sent_at is not None
    assert _deliver(engine, _bot(fake_slack)).sent == 0  # nothing twice


def test_rate_limit_waits_retry_after_then_delivers_once(engine, fake_slack):
    alert_id = _add(engine, "k")
    fake_slack.fail("chat.postMessage", status=429, retry_after=2)
    time = FakeTime()
    report = _deliver(engine, _bot(fake_slack), time)
    assert report.sent == 1
    assert time.sleeps == [2.0]
    assert report.latencies == (2.0,)
    assert len(fake_slack.calls("chat.postMessage")) == 2
    assert _keys(fake_slack) == ["k"]
    assert fake_slack.calls("conversations.history") == []  # a 429 proves nothing was posted
    assert _alert(engine, alert_id).status == "sent"


def test_server_errors_beyond_the_budget_leave_it_pending_for_the_next_run(engine, fake_slack):
    alert_id = _add(engine, "k")
    fake_slack.fail("chat.postMessage", status=500, times=2)
    first = _deliver(engine, _bot(fake_slack), budget=2.5)
    assert (first.sent, first.pending) == (0, 1)
    row = _alert(engine, alert_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "http_500: Slack had a server error"
    assert row.next_attempt_at is not None and row.next_attempt_at > utcnow()
    assert len(fake_slack.calls("chat.postMessage")) == 2

    assert _deliver(engine, _bot(fake_slack)).sent == 0  # not due yet
    _make_due(engine, alert_id)
    second = _deliver(engine, _bot(fake_slack))
    assert (second.sent, second.pending) == (1, 0)
    assert _keys(fake_slack) == ["k"]
    assert _alert(engine, alert_id).attempts == 2


def test_a_retry_after_longer_than_the_budget_is_kept_for_the_next_run(engine, fake_slack):
    alert_id = _add(engine, "k")
    later = _add(engine, "later")
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    time = FakeTime()
    report = _deliver(engine, _bot(fake_slack), time, budget=5)
    assert time.sleeps == []
    assert (report.sent, report.pending) == (0, 2)
    row = _alert(engine, alert_id)
    assert row.next_attempt_at is not None
    assert timedelta(seconds=25) < row.next_attempt_at - utcnow() <= timedelta(seconds=30)
    assert _alert(engine, later).status == "pending"  # it does not overtake
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_a_permanent_refusal_fails_that_alert_and_the_next_is_still_sent(engine, fake_slack):
    bad, good = _add(engine, "bad"), _add(engine, "good")
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    report = _deliver(engine, _bot(fake_slack))
    assert (report.sent, report.failed, report.pending) == (1, 1, 0)
    row = _alert(engine, bad)
    assert row.status == "failed"
    assert row.last_error is not None and row.last_error.startswith("channel_not_found: ")
    assert "SLACK_CHANNEL" in row.last_error
    assert _alert(engine, good).status == "sent"
    assert _keys(fake_slack) == ["good"]


def test_a_lost_response_is_found_in_the_channel_not_posted_again(engine, fake_slack):
    alert_id = _add(engine, "k")
    fake_slack.fail("chat.postMessage", delay=1.5)
    report = _deliver(engine, _bot(fake_slack, timeout=1))
    assert report.sent == 1
    [posted] = fake_slack.posts
    assert _alert(engine, alert_id).ts == posted.ts


def test_stale_sending_row_already_in_the_channel_is_marked_sent_without_a_post(engine, fake_slack):
    metadata = {"event_type": "funding_figure_changed", "event_payload": {"key": "k"}}
    ts = fake_slack.seed(CHANNEL, text="posted before the crash", metadata=metadata)
    claimed_at = utcnow() - timedelta(minutes=10)
    alert_id = _add(engine, "k", status="sending", claimed_by="dead:9", claimed_at=claimed_at)
    report = _deliver(engine, _bot(fake_slack))
    assert (report.reconciled, report.sent) == (1, 0)
    row = _alert(engine, alert_id)
    assert (row.status, row.ts) == ("sent", ts)
    assert fake_slack.calls("chat.postMessage") == []


def test_stale_sending_row_not_in_the_channel_is_sent_once(engine, fake_slack):
    claimed_at = utcnow() - timedelta(minutes=10)
    alert_id = _add(engine, "k", status="sending", claimed_by="dead:9", claimed_at=claimed_at)
    report = _deliver(engine, _bot(fake_slack))
    assert (report.reconciled, report.sent) == (1, 1)
    assert _keys(fake_slack) == ["k"]
    assert _alert(engine, alert_id).status == "sent"


def test_own_sending_rows_are_reconciled_at_startup_others_recent_ones_are_left(engine, fake_slack):
    mine = _add(engine, "mine", status="sending", claimed_by="host:1", claimed_at=utcnow())
    theirs = _add(engine, "theirs", status="sending", claimed_by="host:2", claimed_at=utcnow())
    settled = reconcile(engine, _bot(fake_slack), worker="host:1", lease=120)
    assert settled == 1
    assert _alert(engine, mine).status == "pending"
    assert _alert(engine, theirs).status == "sending"


def _claimed_by(name: str, *, pid: int, host: str | None = None) -> str:
    """A `claimed_by` of process `pid`, on this host unless `host` is given."""
    _, this_host, _ = worker_id(name).split("|")
    return f"{name}|{host or this_host}|{pid}"


def test_a_fresh_claim_of_a_gone_process_on_this_host_is_settled_at_once(engine, fake_slack):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _add(
            engine,
            "dead",
            status="sending",
            claimed_at=utcnow(),
            claimed_by=_claimed_by("host-1", pid=gone.pid),
        )
        live = _add(
            engine,
            "live",
            status="sending",
            claimed_at=utcnow(),
            claimed_by=_claimed_by("host-2", pid=alive.pid),
        )
        settled = reconcile(engine, _bot(fake_slack), worker=worker_id("host-3"), lease=LEASE)
    finally:
        alive.kill()
        alive.wait()
    assert settled == 1
    assert _alert(engine, dead).status == "pending"  # not in the channel: to be sent again
    assert _alert(engine, live).status == "sending"


def test_another_hosts_claim_is_settled_once_its_lease_has_run_out(engine, fake_slack):
    # The bound a restart promises: a dead worker's alert is settled within 30 s.
    assert LEASE + Settings().delivery_every <= 30
    other = _claimed_by("replica-2", pid=os.getpid(), host="elsewhere~0000")
    lapsed = _add(
        engine,
        "lapsed",
        status="sending",
        claimed_by=other,
        claimed_at=utcnow() - timedelta(seconds=LEASE + 1),
    )
    held = _add(
        engine,
        "held",
        status="sending",
        claimed_by=other,
        claimed_at=utcnow() - timedelta(seconds=LEASE / 2),
    )
    settled = reconcile(engine, _bot(fake_slack), worker=worker_id("replica-1"), lease=LEASE)
    assert settled == 1
    assert _alert(engine, lapsed).status == "pending"
    assert _alert(engine, held).status == "sending"


def test_the_lease_is_renewed_while_a_slow_post_is_in_flight(engine, fake_slack):
    """Slack answers after three leases: another worker must not take the alert meanwhile."""
    alert_id = _add(engine, "k")
    fake_slack.fail("chat.postMessage", delay=3.0)
    worker = worker_id("replica-1")
    sender = threading.Thread(
        target=deliver_pending,
        args=(engine, _bot(fake_slack)),
        kwargs={"worker": worker, "min_interval": 0.0, "lease": 1.0},
    )
    sender.start()
    try:
        wait_for(lambda: len(fake_slack.posts) == 1, 10, "the post to reach Slack")
        sleep(1.5)  # the first claim is older than the lease now
        other = _claimed_by("replica-2", pid=os.getpid(), host="elsewhere~0000")
        assert reconcile(engine, _bot(fake_slack), worker=other, lease=1.0) == 0
        row = _alert(engine, alert_id)
        assert (row.status, row.claimed_by) == ("sending", worker)
    finally:
        sender.join(30)
    assert _alert(engine, alert_id).status == "sent"
    assert _keys(fake_slack) == ["k"]


def test_reconcile_leaves_the_row_when_slack_cannot_be_searched_now(engine, fake_slack):
    claimed_at = utcnow() - timedelta(minutes=10)
    alert_id = _add(engine, "k", status="sending", claimed_by="dead:9", claimed_at=claimed_at)
    fake_slack.fail("conversations.history", status=503)
    assert reconcile(engine, _bot(fake_slack), worker="host:1", lease=120) == 0
    assert _alert(engine, alert_id).status == "sending"


def test_two_workers_post_each_alert_exactly_once(engine, fake_slack):
    keys = [f"k{i:02}" for i in range(24)]
    for key in keys:
        _add(engine, key)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        try:
            start.wait()
            deliver_pending(engine, _bot(fake_slack), worker=worker, min_interval=0.0, budget=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"host:{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(_keys(fake_slack)) == keys
    with session(engine) as s:
        rows = s.exec(select(AlertRow)).all()
    assert {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}
    assert {r.claimed_by for r in rows} == {"host:1", "host:2"}  # both took a share


def test_corroboration_replies_in_the_thread_of_its_change(engine, fake_slack):
    parent = _add(engine, "change")
    child = _add(engine, "corr", kind="corroboration", parent_id=parent)
    assert _deliver(engine, _bot(fake_slack)).sent == 2
    change, corroboration = fake_slack.posts
    assert corroboration.thread_ts == change.ts
    assert corroboration.metadata is not None
    assert corroboration.metadata["event_type"] == "funding_figure_corroborated"
    assert _alert(engine, child).ts == corroboration.ts


def test_corroboration_waits_while_its_parent_is_not_sent(engine, fake_slack):
    later = utcnow() + timedelta(hours=1)
    parent = _add(engine, "change", next_attempt_at=later)
    child = _add(engine, "corr", kind="corroboration", parent_id=parent)
    report = _deliver(engine, _bot(fake_slack))
    assert (report.sent, report.pending) == (0, 2)
    assert _alert(engine, child).attempts == 0
    assert fake_slack.posts == []


def test_corroboration_of_a_failed_change_is_posted_on_its_own(engine, fake_slack):
    parent = _add(engine, "change", status="failed")
    _add(engine, "corr", kind="corroboration", parent_id=parent)
    assert _deliver(engine, _bot(fake_slack)).sent == 1
    [posted] = fake_slack.posts
    assert posted.thread_ts is None
    assert posted.text.startswith("Altman's AI-chip venture, money needed: Also reported by")


def test_posts_to_one_channel_are_spaced_by_min_interval(engine, fake_slack):
    for i in range(3):
        _add(engine, f"k{i}")
    deliver_pending(engine, _bot(fake_slack), worker="host:1", min_interval=0.2)
    arrivals = fake_slack.calls("chat.postMessage")
    assert len(arrivals) == 3
    assert all(b - a >= 0.19 for a, b in pairwise(arrivals))


def test_webhook_mode_posts_blocks_and_threads_nothing(engine, fake_slack):
    parent = _add(engine, "change", channel=None)
    _add(engine, "corr", kind="corroboration", parent_id=parent, channel=None)
    assert _deliver(engine, SlackWebhook(fake_slack.webhook_url)).sent == 2
    change, corroboration = fake_slack.posts
    assert change.via == "webhook"
    assert change.blocks[0]["type"] == "header"
    assert corroboration.thread_ts is None
    assert _alert(engine, parent).ts is None


def test_console_mode_prints_each_alert(engine):
    _add(engine, "k", channel=None)
    out = io.StringIO()
    assert _deliver(engine, ConsoleNotifier(out)).sent == 1
    assert "Funding figure changed: Altman's AI-chip venture, money needed" in out.getvalue()


def test_an_alert_that_cannot_be_rendered_fails_and_does_not_block(engine, fake_slack):
    broken = _add(engine, "broken", payload={"watch": "ai-chip-funding"})
    _add(engine, "fine")
    report = _deliver(engine, _bot(fake_slack))
    assert (report.sent, report.failed) == (1, 1)
    row = _alert(engine, broken)
    assert row.status == "failed"
    assert row.last_error is not None and row.last_error.startswith("invalid_alert: ")


def test_each_delivery_logs_one_structured_line(engine, fake_slack, caplog):
    alert_id = _add(engine, "k")
    with caplog.at_level(logging.INFO, logger="monitor.delivery"):
        _deliver(engine, _bot(fake_slack))
    [record] = [r for r in caplog.records if r.name == "monitor.delivery"]
    assert record.getMessage().startswith(f"alert={alert_id} key=k outcome=sent code=- latency_ms=")
    fields = (record.alert_id, record.alert_key, record.outcome, record.slack_code)
    assert fields == (alert_id, "k", "sent", None)


@pytest.mark.parametrize("status", ["sent", "failed"])
def test_finished_alerts_are_never_sent_again(engine, fake_slack, status):
    _add(engine, "k", status=status, claimed_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert _deliver(engine, _bot(fake_slack)).sent == 0
    assert fake_slack.posts == []
