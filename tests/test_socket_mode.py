"""Slack Socket Mode: button presses over a loopback WebSocket, acked at once, applied once.

The fake Slack answers `apps.connections.open` with the URL of a loopback Socket Mode
endpoint (tests/fakesocketmode.py); slack-sdk's built-in client connects to it for real.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.fakeslack are test arguments)

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from monitor.delivery import deliver_pending
from monitor.errors import ConfigError
from monitor.notify.slack_bot import SlackBot
from monitor.settings import Settings
from monitor.socket_mode import SocketMode, from_settings
from monitor.store import AlertRow, DecisionRow, session
from tests.daemon_helpers import monitor_env, run_monitor, start_monitor, wait_for
from tests.fakeslack import FakeSlack, Posted, fake_slack  # noqa: F401
from tests.fakesocketmode import FakeSocketMode
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer
from tests.test_alerts import CHANGE

CHANNEL = "funding-alerts"
USER = {"id": "U0ANN", "username": "ann", "name": "ann", "team_id": "T0FAKE"}


@pytest.fixture
def socket_server(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    """A Socket Mode endpoint that the fake Slack's apps.connections.open hands out."""
    with FakeSocketMode() as server:
        fake_slack.socket_url = server.url
        yield server


@pytest.fixture
def connected(
    engine: Engine, fake_slack: FakeSlack, socket_server: FakeSocketMode
) -> Iterator[SocketMode]:
    """Our Socket Mode client, connected to `socket_server`."""
    client = SocketMode(engine, fake_slack.app_token, api_url=fake_slack.api_url)
    client.start()
    try:
        socket_server.wait_connected()
        yield client
    finally:
        client.close()


def _sent_change(engine: Engine, slack: FakeSlack) -> tuple[AlertRow, Posted]:
    """A change alert delivered to Slack with its decision buttons, as the daemon sends it."""
    with session(engine) as s:
        s.add(
            AlertRow(
                key=CHANGE["key"],
                kind="change",
                watch=CHANGE["watch"],
                claim=CHANGE["claim"],
                low=7e12,
                high=7e12,
                currency="USD",
                as_of=date(2024, 2, 9),
                payload=json.dumps(CHANGE),
                channel=CHANNEL,
            )
        )
    _deliver(engine, slack)
    [posted] = slack.posts
    return _alert(engine), posted


def _deliver(engine: Engine, slack: FakeSlack) -> None:
    bot = SlackBot(slack.token, channel=CHANNEL, api_url=slack.api_url, interactive=True)
    deliver_pending(engine, bot, worker="test:1", min_interval=0.0, budget=10.0)


def _alert(engine: Engine) -> AlertRow:
    with session(engine) as s:
        row = s.exec(select(AlertRow).where(col(AlertRow.key) == CHANGE["key"])).one()
        s.expunge(row)
        return row


def _decisions(engine: Engine) -> list[DecisionRow]:
    with session(engine) as s:
        rows = list(s.exec(select(DecisionRow)).all())
        for row in rows:
            s.expunge(row)
        return rows


def _button(posted: Posted, action_id: str) -> dict[str, Any]:
    """A button of the posted message, as Slack sends it back in `actions`."""
    for block in posted.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return {
                    "action_id": action_id,
                    "block_id": block.get("block_id", "actions"),
                    "type": "button",
                    "value": element.get("value"),
                    "action_ts": "1707480000.000100",
                }
    raise AssertionError(f"the message has no {action_id} button")


def _press(posted: Posted, action_id: str) -> dict[str, Any]:
    """A block_actions payload for a press of a button of `posted`."""
    return {
        "type": "block_actions",
        "user": USER,
        "team": {"id": "T0FAKE", "domain": "fake"},
        "channel": {"id": posted.channel, "name": CHANNEL},
        "container": {"type": "message", "message_ts": posted.ts, "channel_id": posted.channel},
        "message": {"ts": posted.ts, "text": posted.text, "blocks": posted.blocks},
        "actions": [_button(posted, action_id)],
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.invalid/actions/T0FAKE/1/x",
    }


def test_a_press_is_acked_applied_and_its_message_updated(
    engine: Engine, fake_slack: FakeSlack, socket_server: FakeSocketMode, connected: SocketMode
) -> None:
    alert, posted = _sent_change(engine, fake_slack)
    envelope_id = socket_server.send_interactive(_press(posted, "accept_value"))

    assert socket_server.wait_acks(1) == [{"envelope_id": envelope_id}]
    wait_for(lambda: _alert(engine).decision == "accepted", 10, "the decision applied")
    [decision] = _decisions(engine)
    assert (decision.alert_id, decision.action, decision.via) == (alert.id, "accept", "socket_mode")
    assert decision.by == "U0ANN ann"

    _deliver(engine, fake_slack)
    [updated] = fake_slack.updates
    assert (updated.channel, updated.ts) == (posted.channel, posted.ts)
    assert "$7 trillion accepted as the value on record" in updated.text
    shown = json.dumps(updated.blocks)
    assert "<@U0ANN>" in shown
    assert "accept_value" not in shown  # decided: no buttons left to press


def test_a_redelivered_press_is_acked_again_and_applied_once(
    engine: Engine, fake_slack: FakeSlack, socket_server: FakeSocketMode, connected: SocketMode
) -> None:
    """Slack sends an envelope again, same id, when our ack was late."""
    _, posted = _sent_change(engine, fake_slack)
    press = _press(posted, "dismiss_value")
    envelope_id = socket_server.send_interactive(press)
    socket_server.send_interactive(press, envelope_id=envelope_id, retry_attempt=1)

    assert socket_server.wait_acks(2) == [{"envelope_id": envelope_id}] * 2
    connected.close()  # finishes the presses in hand

    assert _alert(engine).decision == "dismissed"
    assert [(d.action, d.via) for d in _decisions(engine)] == [("dismiss", "socket_mode")]
    _deliver(engine, fake_slack)
    assert len(fake_slack.updates) == 1


def test_after_slack_asks_for_a_new_connection_presses_arrive_on_it(
    engine: Engine, fake_slack: FakeSlack, socket_server: FakeSocketMode, connected: SocketMode
) -> None:
    _, posted = _sent_change(engine, fake_slack)
    socket_server.refresh()
    wait_for(lambda: socket_server.connections == 2, 10, "a second connection")
    wait_for(lambda: socket_server.open == 1, 10, "the first connection closed")

    envelope_id = socket_server.send_interactive(_press(posted, "accept_value"))
    assert socket_server.wait_acks(1) == [{"envelope_id": envelope_id}]
    wait_for(lambda: _alert(engine).decision == "accepted", 10, "the decision applied")
    assert len(fake_slack.calls("apps.connections.open")) == 2


def test_other_buttons_and_requests_are_acked_and_change_nothing(
    engine: Engine, fake_slack: FakeSlack, socket_server: FakeSocketMode, connected: SocketMode
) -> None:
    _, posted = _sent_change(engine, fake_slack)
    ids = [
        socket_server.send_interactive(_press(posted, "open_article")),
        socket_server.send("slash_commands", {"command": "/funding", "text": "", "user_id": "U1"}),
        socket_server.send("events_api", {"type": "event_callback", "event": {"type": "x"}}),
    ]

    assert sorted(a["envelope_id"] for a in socket_server.wait_acks(3)) == sorted(ids)
    connected.close()
    assert _alert(engine).decision is None
    assert _decisions(engine) == []
    _deliver(engine, fake_slack)
    assert fake_slack.updates == []


def test_a_bot_token_for_an_app_token_is_refused_before_connecting(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    with pytest.raises(ConfigError) as err:
        SocketMode(engine, fake_slack.token, api_url=fake_slack.api_url)
    assert "SLACK_APP_TOKEN is a bot token (xoxb-...)" in str(err.value)
    assert "starts with xapp-" in str(err.value)
    assert fake_slack.calls("apps.connections.open") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_app_token_without_the_bot_starts_nothing_and_says_why(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    alone = Settings(slack_app_token="xapp-1-a", slack_bot_token=None, _env_file=None)
    assert from_settings(alone, engine) is None
    assert "SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN" in caplog.text
    both = Settings(slack_app_token="xapp-1-a", slack_bot_token="xoxb-1", _env_file=None)
    assert isinstance(from_settings(both, engine), SocketMode)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_rejected_app_token_is_said_once_and_retried_until_slack_takes_it(
    engine: Engine,
    fake_slack: FakeSlack,
    socket_server: FakeSocketMode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.socket_mode")
    client = SocketMode(engine, "xapp-1-revoked", api_url=fake_slack.api_url, retry_every=0.02)
    client.start()
    try:
        wait_for(lambda: len(fake_slack.calls("apps.connections.open")) >= 4, 10, "retries")
        ours = [r for r in caplog.records if r.getMessage().startswith("Socket Mode:")]
        assert [r.levelno for r in ours] == [logging.ERROR]
        said = ours[0].getMessage()
        assert "no connection to Slack (invalid_auth)" in said
        assert "check SLACK_APP_TOKEN" in said
        assert socket_server.connections == 0

        fake_slack.app_token = "xapp-1-revoked"  # the token is put right in Slack
        socket_server.wait_connected(timeout=20)
        assert "Slack gave a connection again" in caplog.text
    finally:
        client.close()
    wait_for(lambda: socket_server.open == 0, 10, "the connection closed")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wss_url_off_port_443_is_refused_as_it_would_go_without_tls(
    engine: Engine,
    fake_slack: FakeSlack,
    socket_server: FakeSocketMode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """slack-sdk's built-in client speaks TLS to port 443 only, whatever the scheme says."""
    fake_slack.socket_url = socket_server.url.replace("ws://", "wss://")
    client = SocketMode(engine, fake_slack.app_token, api_url=fake_slack.api_url, retry_every=0.02)
    client.start()
    try:
        wait_for(lambda: len(fake_slack.calls("apps.connections.open")) >= 2, 10, "a retry")
    finally:
        client.close()
    assert socket_server.connections == 0
    assert "no connection to Slack (insecure_url)" in caplog.text


WATCH = """\
watch: chips
title: AI chip funding
entities:
  altman: [Sam Altman, Altman]
catch_up: off
feeds:
  - url: {feed}
    every: 1h
claims:
  - id: venture-target
    about: [altman]
    topic: [chip, chips]
    value: "5조~7조 달러"
    as_of: 2024-02-08
slack:
  channel: "#funding-alerts"
"""
NEW_VALUE = Item(
    title="Altman ups the ante: $8 trillion for chips",
    link="https://verge.example/story",
    guid="verge",
    description="Sam Altman now says his chip plan needs $8 trillion.",
    pub_date="Tue, 20 Feb 2024 05:00:00 GMT",
)


def test_the_daemon_takes_presses_over_socket_mode_and_updates_the_message(
    tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack, socket_server: FakeSocketMode
) -> None:
    feed_server.route("/feed", rss20([NEW_VALUE]), headers={"Content-Type": "application/rss+xml"})
    rules = tmp_path / "chips.yaml"
    rules.write_text(WATCH.format(feed=feed_server.url("/feed")))
    env = monitor_env(
        tmp_path,
        rules,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_APP_TOKEN=fake_slack.app_token,
        SLACK_API_URL=fake_slack.api_url,
    )
    daemon = start_monitor(["run"], env, tmp_path / "daemon.log")
    try:
        wait_for(lambda: len(fake_slack.posts) == 1, 60, "the change message")
        socket_server.wait_connected(timeout=30)
        [posted] = fake_slack.posts
        envelope_id = socket_server.send_interactive(_press(posted, "accept_value"))
        assert socket_server.wait_acks(1) == [{"envelope_id": envelope_id}]
        wait_for(lambda: len(fake_slack.updates) == 1, 30, "the message updated")
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
    log = (tmp_path / "daemon.log").read_text()
    assert code == 0, log
    assert fake_slack.updates[0].ts == posted.ts
    assert "accepted as the value on record" in fake_slack.updates[0].text
    assert socket_server.open == 0


def test_run_refuses_a_bot_token_as_the_app_token(tmp_path: Path, fake_slack: FakeSlack) -> None:
    rules = tmp_path / "chips.yaml"
    rules.write_text(WATCH.format(feed="http://127.0.0.1:9/feed"))
    env = monitor_env(
        tmp_path,
        rules,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_APP_TOKEN=fake_slack.token,
        SLACK_API_URL=fake_slack.api_url,
    )
    done = run_monitor(["run", "--once"], env)
    assert done.returncode == 2, done.stderr
    assert "SLACK_APP_TOKEN is a bot token (xoxb-...)" in done.stderr
    assert fake_slack.calls("chat.postMessage") == []
