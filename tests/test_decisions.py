"""Acting on an alert: accept or dismiss it from Slack (signed as Slack signs) or the CLI.

Alerts are made the way the daemon makes them (`store_articles`), sent to the fake Slack
over real HTTP, and decided through the daemon's own HTTP server on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from monitor import store
from monitor.decisions import DecisionError, OnRecord, decide, on_record
from monitor.delivery import deliver_pending
from monitor.health import serve
from monitor.interactions import Interactions
from monitor.metrics import Metrics
from monitor.notify.slack_bot import SlackBot
from monitor.observe import store_articles, sync_claims
from monitor.rules import Watch, load_rules
from monitor.store import AlertRow, ArticleRow, DecisionRow, ObservationRow
from tests.daemon_helpers import free_port, monitor_env, run_monitor
from tests.fakeslack import FakeSlack
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer
from tests.test_observe import _article, day

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
WATCH = """\
watch: chips-act
title: CHIPS Act awards
entities:
  intel: [Intel, 인텔]
claims:
  - id: intel-award
    about: [intel]
    topic: [CHIPS Act, award, grant]
    value: "$8.5 billion"
    as_of: 2024-03-20
slack:
  channel: "#funding-alerts"
"""


@pytest.fixture
def watch(tmp_path: Path, engine: Engine) -> Watch:
    path = tmp_path / "chips-act.yaml"
    path.write_text(WATCH, encoding="utf-8")
    rules = load_rules(path)
    sync_claims(engine, rules)
    return rules.watches[0]


def award(slug: str, amount: str, published: datetime) -> Any:
    """An article reporting `amount` as Intel's CHIPS Act award."""
    text = f"Intel's CHIPS Act award is now {amount}, the Commerce Department said."
    return _article(slug, f"Intel's CHIPS Act award: {amount}", text, published)


@pytest.fixture
def bot(fake_slack: FakeSlack) -> SlackBot:
    return SlackBot(fake_slack.token, api_url=fake_slack.api_url, interactive=True)


def _deliver(engine: Engine, bot: SlackBot, worker: str = "host:1") -> None:
    deliver_pending(engine, bot, worker=worker, min_interval=0.0, budget=10.0)


def _alert(engine: Engine, kind: str = "change") -> AlertRow:
    with store.session(engine) as s:
        return s.exec(select(AlertRow).where(AlertRow.kind == kind).order_by(AlertRow.id)).first()  # type: ignore[arg-type,return-value]


def _decisions(engine: Engine) -> list[DecisionRow]:
    with store.session(engine) as s:
        return list(s.exec(select(DecisionRow).order_by(DecisionRow.id)).all())  # type: ignore[arg-type]


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The daemon's HTTP server with interactivity, on a free loopback port."""
    addr = f"127.0.0.1:{free_port()}"
    http = serve(addr, lambda: None, Metrics(), Interactions(engine, SECRET))
    yield f"http://{addr}/slack/interactions"
    http.shutdown()
    http.server_close()


def press(key: str, action_id: str = "accept_value", user: str = "U024BE7LH") -> bytes:
    """The form body Slack posts when a person presses a button of a message."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "name": "alice"},
        "channel": {"id": "C0FUNDING1", "name": "funding-alerts"},
        "message": {"ts": "1.0", "text": "…"},
        "actions": [{"action_id": action_id, "value": key, "type": "button"}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def post(url: str, body: bytes, *, secret: str = SECRET, age: float = 0.0) -> int:
    """POST `body` signed as Slack signs it (v0, HMAC-SHA256), `age` seconds ago."""
    stamp = str(int(time.time() - age))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id -> value of every button in a message."""
    return {
        e["action_id"]: e.get("value", e.get("url", ""))
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }


def test_a_change_offers_accept_and_dismiss_buttons_valued_with_its_key(
    engine: Engine, watch: Watch, bot: SlackBot, fake_slack: FakeSlack
) -> None:
    store_articles(engine, watch, [award("cnbc", "$7.86 billion", day(2024, 11, 26))], channel=None)
    _deliver(engine, bot)
    (posted,) = fake_slack.posts
    alert = _alert(engine)
    buttons = _buttons(posted.blocks)
    assert buttons["accept_value"] == buttons["dismiss_value"] == alert.key
    assert posted.metadata["event_payload"]["key"] == alert.key  # type: ignore[index]
    # Without interactivity set up, no button that would lead nowhere.
    plain = SlackBot(fake_slack.token, api_url=fake_slack.api_url)
    store_articles(engine, watch, [award("wsj", "$6 billion", day(2024, 12, 1))], channel=None)
    _deliver(engine, plain)
    assert set(_buttons(fake_slack.posts[-1].blocks)) == {"open_article"}


def test_accept_from_slack_puts_the_value_on_record_and_updates_the_message(
    engine: Engine, watch: Watch, bot: SlackBot, fake_slack: FakeSlack, server: str
) -> None:
    store_articles(engine, watch, [award("cnbc", "$7.86 billion", day(2024, 11, 26))], channel=None)
    _deliver(engine, bot)
    alert = _alert(engine)
    body = press(alert.key)
    assert post(server, body) == 200
    assert post(server, body) == 200  # Slack delivers again when an answer is late
    (decision,) = _decisions(engine)
    assert (decision.action, decision.by, decision.via) == ("accept", "U024BE7LH alice", "slack")
    assert (decision.low, decision.as_of) == (7.86e9, date(2024, 11, 26))
    assert _alert(engine).decision == "accepted"
    _deliver(engine, bot)
    (updated,) = fake_slack.updates
    assert updated.ts == fake_slack.posts[0].ts
    assert "accept_value" not in _buttons(updated.blocks)
    shown = json.dumps(updated.blocks)
    assert "Accepted as the value on record" in shown and "<@U024BE7LH>" in shown
    assert updated.metadata["event_payload"]["key"] == alert.key  # type: ignore[index]
    with store.session(engine) as s:
        from monitor.decisions import accepted_values

        record = on_record(
            OnRecord("$8.5 billion", 8.5e9, 8.5e9, "USD", date(2024, 3, 20)),
            accepted_values(s, "chips-act", "intel-award"),
        )
    assert (record.low, record.as_of, record.by) == (7.86e9, date(2024, 11, 26), decision.by)


def test_refused_requests_change_nothing(
    engine: Engine, watch: Watch, bot: SlackBot, fake_slack: FakeSlack, server: str
) -> None:
    store_articles(engine, watch, [award("cnbc", "$7.86 billion", day(2024, 11, 26))], channel=None)
    _deliver(engine, bot)
    key = _alert(engine).key
    assert post(server, press(key), secret="not-the-secret") == 401
    assert post(server, press(key), age=6 * 60) == 401  # older than Slack's 5 minutes
    unsigned = urllib.request.Request(server, data=press(key), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)
    assert refused.value.code == 401
    assert post(server, press("chips-act/intel-award/USD:1..2")) == 200  # an unknown key
    assert post(server, press(key, action_id="open_article")) == 200  # not a decision
    assert _decisions(engine) == [] and _alert(engine).decision is None
    _deliver(engine, bot)
    assert fake_slack.updates == []


def test_dismissed_value_never_alerts_again_nor_becomes_was(
    engine: Engine, watch: Watch, bot: SlackBot, fake_slack: FakeSlack, server: str
) -> None:
    store_articles(engine, watch, [award("cnbc", "$4.75 billion", day(2024, 11, 26))], channel=None)
    _deliver(engine, bot)
    false_alarm = _alert(engine)
    assert post(server, press(false_alarm.key, "dismiss_value")) == 200
    # The same figure from another outlet: recorded under the dismissed alert, no change.
    store_articles(engine, watch, [award("mk", "$4.75 billion", day(2024, 11, 27))], channel=None)
    # A real change next: compared with the value on record, not the dismissed one.
    store_articles(
        engine, watch, [award("reuters", "$7.86 billion", day(2024, 11, 28))], channel=None
    )
    _deliver(engine, bot)
    with store.session(engine) as s:
        alerts = s.exec(select(AlertRow).order_by(AlertRow.id)).all()  # type: ignore[arg-type]
        outcomes = {
            (url, outcome)
            for url, outcome in s.exec(
                select(ArticleRow.url, ObservationRow.outcome).join(ArticleRow)  # type: ignore[call-overload]
            ).all()
        }
    changes = [a for a in alerts if a.kind == "change"]
    assert [json.loads(a.payload)["publisher"] for a in changes] == ["Cnbc", "Reuters"]
    assert json.loads(changes[1].payload)["previous"]["low"] == 8.5e9
    (again,) = [a for a in alerts if a.kind == "dismissed_report"]
    assert again.parent_id == false_alarm.id and again.status == "sent"
    assert outcomes == {
        ("https://cnbc.example/story", "dismissed"),
        ("https://mk.example/story", "dismissed"),
        ("https://reuters.example/story", "change"),
    }
    reply = next(
        p
        for p in fake_slack.posts
        if p.metadata and p.metadata["event_payload"]["key"] == again.key
    )  # type: ignore[index]
    assert reply.thread_ts == fake_slack.posts[0].ts
    assert reply.metadata["event_type"] == "funding_figure_dismissed_report"  # type: ignore[index]
    (updated,) = fake_slack.updates
    assert "Dismissed: not a change" in json.dumps(updated.blocks)


def test_dismissed_before_it_was_sent_is_never_sent(
    engine: Engine, watch: Watch, bot: SlackBot, fake_slack: FakeSlack
) -> None:
    store_articles(engine, watch, [award("cnbc", "$4.75 billion", day(2024, 11, 26))], channel=None)
    done = decide(engine, str(_alert(engine).id), "dismiss", by="ed@desk", via="cli")
    assert done.fresh and "will not be" in done.said
    store_articles(engine, watch, [award("mk", "$4.75 billion", day(2024, 11, 27))], channel=None)
    _deliver(engine, bot)
    assert fake_slack.posts == [] and fake_slack.updates == []
    assert _alert(engine).status == "dismissed"


def test_decisions_are_refused_with_a_reason(
    engine: Engine, watch: Watch, bot: SlackBot, fake_slack: FakeSlack
) -> None:
    store_articles(engine, watch, [award("cnbc", "$7.86 billion", day(2024, 11, 26))], channel=None)
    store_articles(engine, watch, [award("wsj", "$7.86 billion", day(2024, 11, 27))], channel=None)
    with pytest.raises(DecisionError, match="no alert"):
        decide(engine, "999", "accept", by="ed", via="cli")
    reply = _alert(engine, "corroboration")
    with pytest.raises(DecisionError, match="only a change"):
        decide(engine, reply.key, "accept", by="ed", via="cli")
    decide(engine, _alert(engine).key, "accept", by="ed", via="cli")
    with pytest.raises(DecisionError, match="already accepted by ed"):
        decide(engine, _alert(engine).key, "dismiss", by="bo", via="cli")
    with pytest.raises(DecisionError, match="not failed"):
        decide(engine, _alert(engine).key, "retry", by="ed", via="cli")


def test_retry_sends_a_failed_alert_once_its_cause_is_fixed(
    engine: Engine, watch: Watch, fake_slack: FakeSlack
) -> None:
    store_articles(engine, watch, [award("cnbc", "$7.86 billion", day(2024, 11, 26))], channel=None)
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    bot = SlackBot(fake_slack.token, api_url=fake_slack.api_url)
    _deliver(engine, bot)
    assert _alert(engine).status == "failed" and fake_slack.posts == []
    decide(engine, _alert(engine).key, "retry", by="ed", via="cli")
    _deliver(engine, bot)
    assert _alert(engine).status == "sent" and len(fake_slack.posts) == 1
    assert [d.action for d in _decisions(engine)] == ["retry"]


def test_a_replica_that_did_not_send_the_alert_applies_the_decision(
    postgres_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Two replicas on one PostgreSQL database: A sends, B receives the press and updates."""
    from sqlalchemy import create_engine, text

    name = f"decide_{int(time.time() * 1000)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    first, second = store.open_store(url), store.open_store(url)
    try:
        path = tmp_path / "w.yaml"
        path.write_text(WATCH, encoding="utf-8")
        rules = load_rules(path)
        sync_claims(first, rules)
        watch = rules.watches[0]
        store_articles(
            first, watch, [award("cnbc", "$7.86 billion", day(2024, 11, 26))], channel=None
        )
        bot_a = SlackBot(fake_slack.token, api_url=fake_slack.api_url, interactive=True)
        _deliver(first, bot_a, worker="replica-a")
        addr = f"127.0.0.1:{free_port()}"
        http = serve(addr, lambda: None, Metrics(), Interactions(second, SECRET))
        try:
            key = _alert(first).key
            assert post(f"http://{addr}/slack/interactions", press(key)) == 200
        finally:
            http.shutdown()
            http.server_close()
        assert _alert(first).decision == "accepted"
        bot_b = SlackBot(fake_slack.token, api_url=fake_slack.api_url, interactive=True)
        _deliver(second, bot_b, worker="replica-b")
        assert len(fake_slack.updates) == 1
    finally:
        first.dispose()
        second.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_on_record_is_the_latest_of_the_rules_and_accepted_values() -> None:
    stated = OnRecord("$8.5 billion", 8.5e9, 8.5e9, "USD", date(2024, 3, 20))

    def accepted(low: float, on: date, at: int) -> DecisionRow:
        return DecisionRow(
            alert_id=1, watch="w", action="accept", by="ed", via="cli",
            at=datetime(2024, 12, at, tzinfo=UTC), low=low, high=low, currency="USD",
            as_of=on, text=f"${low / 1e9:g} billion",
        )  # fmt: skip

    assert on_record(stated, []) == stated
    older = accepted(6e9, date(2024, 1, 5), 1)  # reported before the rules' value
    assert on_record(stated, [older]) == stated
    newer = accepted(7.86e9, date(2024, 11, 26), 2)
    assert on_record(stated, [newer, older]).low == 7.86e9
    same_day_later = accepted(7.9e9, date(2024, 11, 26), 3)
    assert on_record(stated, [same_day_later, newer]).low == 7.9e9


def test_end_to_end_dismiss_then_accept_from_the_cli(
    tmp_path: Path,
    feed_server: FeedServer,
    fake_slack: FakeSlack,
) -> None:
    """As a person runs it: `run --once` against loopback feeds, decisions from the CLI."""
    rules = tmp_path / "chips-act.yaml"
    rules.write_text(WATCH + f"feeds:\n  - url: {feed_server.url('/wire')}\n", encoding="utf-8")
    env = monitor_env(
        tmp_path,
        rules,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_API_URL=fake_slack.api_url,
        SLACK_SIGNING_SECRET=SECRET,
    )

    def publish(*items: Item) -> None:
        feed_server.route(
            "/wire", rss20(list(items)), headers={"Content-Type": "application/rss+xml"}
        )

    def monitor(*args: str) -> str:
        result = run_monitor(list(args), env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def item(slug: str, amount: str, when: str) -> Item:
        text = f"Intel's CHIPS Act award is now {amount}, the Commerce Department said."
        title = f"Intel's CHIPS Act award: {amount}"
        return Item(
            title,
            f"https://{slug}.example/a",
            slug,
            text,
            when,
            (slug.upper(), f"https://{slug}.example"),
        )

    publish()
    monitor("run", "--once")  # the first poll: nothing to catch up on
    false_alarm = item("cnbc", "$4.75 billion", "Tue, 26 Nov 2024 09:00:00 GMT")
    publish(false_alarm)
    monitor("run", "--once")
    (listed,) = json.loads(monitor("alerts", "--json"))
    assert (listed["was"], listed["reported"], listed["publisher"]) == (
        "$8.5 billion",
        "$4.75 billion",
        "CNBC",
    )
    said = monitor("alerts", "dismiss", str(listed["id"]), "--by", "ed")
    assert "dismissed: $4.75 billion is no longer a known value" in said
    publish(false_alarm, item("mk", "$4.75 billion", "Wed, 27 Nov 2024 09:00:00 GMT"))
    monitor("run", "--once")
    publish(item("reuters", "$7.86 billion", "Thu, 28 Nov 2024 09:00:00 GMT"))
    monitor("run", "--once")
    changes = [
        p
        for p in fake_slack.posts
        if p.metadata and p.metadata["event_type"] == "funding_figure_changed"
    ]
    assert [c.metadata["event_payload"]["reported"]["text"] for c in changes] == [  # type: ignore[index]
        "$4.75 billion",
        "$7.86 billion",
    ]
    assert changes[1].metadata["event_payload"]["previous"]["low"] == 8.5e9  # type: ignore[index]
    assert "Dismissed: not a change" in json.dumps(fake_slack.updates[0].blocks)
    real = next(
        a
        for a in json.loads(monitor("alerts", "--json"))
        if a["reported"] == "$7.86 billion" and a["kind"] == "change"
    )
    monitor("alerts", "accept", real["key"], "--by", "ed")
    (claim,) = json.loads(monitor("claims", "--json"))
    assert claim["on_record"] == {
        "text": "$7.86 billion",
        "low": 7.86e9,
        "high": 7.86e9,
        "currency": "USD",
        "as_of": "2024-11-28",
        "source": "accepted",
        "by": "ed",
        "via": "cli",
        "at": claim["on_record"]["at"],
    }
    assert claim["stored"] == "$8.5 billion"  # the rules' own value, as before
    assert [d["action"] for d in claim["decisions"]] == ["dismiss", "accept"]
    assert "$4.75 billion" not in claim["known"]
    table = monitor("claims")
    assert "accepted by ed" in table and "$4.75 billion dismissed by ed (cli)" in table
    history = json.loads(monitor("history", "intel-award", "--json"))
    assert {r["outcome"] for r in history} == {"dismissed", "change"}
    assert all(r["decisions"] for r in history)
