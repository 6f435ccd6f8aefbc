"""Notification targets against a fake Slack over real HTTP: what is sent, and how errors read."""

# ruff: noqa: F811  (pytest fixtures imported from tests.fakeslack are test arguments)

from __future__ import annotations

import io
import socket
from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts import render
from monitor.errors import ConfigError, DeliveryError
from monitor.notify import Message, make_notifier
from monitor.notify.console import ConsoleNotifier
from monitor.notify.slack_bot import SlackBot
from monitor.notify.slack_webhook import SlackWebhook
from tests.fakeslack import FakeSlack, fake_slack  # noqa: F401
from tests.test_alerts import CHANGE

CHANNEL = "funding-alerts"
CHANNEL_ID = "C0FUNDING1"


def _message(key: str = "k1", *, thread_ts: str | None = None) -> Message:
    message = render(kind="change", key=key, payload={**CHANGE, "key": key}, channel=CHANNEL)
    return Message(message.channel, message.text, message.blocks, message.metadata, thread_ts)


def _bot(slack: FakeSlack, *, timeout: int = 10) -> SlackBot:
    return SlackBot(slack.token, channel=CHANNEL, api_url=slack.api_url, timeout=timeout)


def _an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def test_bot_posts_text_blocks_metadata_with_unfurling_off(fake_slack):
    message = _message()
    ts = _bot(fake_slack).send(message)
    [posted] = fake_slack.posts
    assert posted.ts == ts
    assert posted.channel == CHANNEL_ID
    assert (posted.text, posted.blocks, posted.metadata) == (
        message.text,
        message.blocks,
        message.metadata,
    )
    assert posted.thread_ts is None
    assert posted.options == {"unfurl_links": False, "unfurl_media": False}


def test_bot_replies_in_a_thread(fake_slack):
    bot = _bot(fake_slack)
    parent = bot.send(_message("parent"))
    bot.send(_message("reply", thread_ts=parent))
    assert fake_slack.posts[1].thread_ts == parent


def test_bot_check_accepts_a_good_token(fake_slack):
    _bot(fake_slack).check()
    assert len(fake_slack.calls("auth.test")) == 1


def test_bot_check_explains_a_rejected_token(fake_slack):
    bot = SlackBot("xoxb-wrong", api_url=fake_slack.api_url)
    with pytest.raises(
        ConfigError, match=r"rejected the bot token \(invalid_auth\).*SLACK_BOT_TOKEN"
    ):
        bot.check()


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "invalid_blocks"])
def test_bot_refusals_are_permanent_with_slacks_code(fake_slack, code):
    fake_slack.fail("chat.postMessage", error=code)
    with pytest.raises(DeliveryError) as caught:
        _bot(fake_slack).send(_message())
    assert (caught.value.code, caught.value.permanent) == (code, True)
    assert fake_slack.posts == []


def test_bot_rate_limit_is_transient_with_retry_after(fake_slack):
    fake_slack.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(DeliveryError) as caught:
        _bot(fake_slack).send(_message())
    assert (caught.value.code, caught.value.permanent, caught.value.retry_after) == (
        "ratelimited",
        False,
        7.0,
    )


def test_bot_server_error_is_transient(fake_slack):
    fake_slack.fail("chat.postMessage", status=503)
    with pytest.raises(DeliveryError) as caught:
        _bot(fake_slack).send(_message())
    assert (caught.value.code, caught.value.permanent) == ("http_503", False)


def test_bot_slow_answer_is_a_transient_timeout(fake_slack):
    fake_slack.fail("chat.postMessage", delay=1.5)
    with pytest.raises(DeliveryError) as caught:
        _bot(fake_slack, timeout=1).send(_message())
    assert (caught.value.code, caught.value.permanent) == ("timeout", False)
    assert len(fake_slack.posts) == 1  # Slack took it; only the answer was lost


def test_bot_unreachable_is_a_transient_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = SlackBot("xoxb-x", channel=CHANNEL, api_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(DeliveryError) as caught:
        bot.send(_message())
    assert (caught.value.code, caught.value.permanent) == ("connection_error", False)


def test_bot_without_a_channel_says_where_to_set_one(fake_slack):
    bot = SlackBot(fake_slack.token, api_url=fake_slack.api_url)
    message = Message(None, "text", [], None)
    with pytest.raises(DeliveryError, match="SLACK_CHANNEL") as caught:
        bot.send(message)
    assert caught.value.permanent


def test_find_pages_through_history_by_metadata_key(fake_slack):
    bot = _bot(fake_slack)
    target = bot.send(_message("wanted"))
    for i in range(250):  # more than one page, and newer than the one we look for
        fake_slack.seed(
            CHANNEL, text=f"n{i}", metadata={"event_type": "x", "event_payload": {"key": f"o{i}"}}
        )
    assert bot.find("wanted", CHANNEL, _an_hour_ago()) == target
    assert len(fake_slack.calls("conversations.history")) == 2
    assert bot.find("absent", CHANNEL, _an_hour_ago()) is None


def test_find_looks_only_after_oldest(fake_slack):
    bot = _bot(fake_slack)
    bot.send(_message("old"))
    assert bot.find("old", CHANNEL, datetime.now(UTC) + timedelta(seconds=5)) is None


def test_find_looks_in_a_thread_for_replies(fake_slack):
    bot = _bot(fake_slack)
    parent = bot.send(_message("parent"))
    reply = bot.send(_message("reply", thread_ts=parent))
    assert bot.find("reply", CHANNEL, _an_hour_ago()) is None  # replies are not in the history
    assert bot.find("reply", CHANNEL, _an_hour_ago(), thread_ts=parent) == reply


def test_find_resolves_a_channel_name_once(fake_slack):
    bot = _bot(fake_slack)
    bot.find("k", "#funding-alerts", _an_hour_ago())
    bot.find("k", "funding-alerts", _an_hour_ago())
    bot.find("k", CHANNEL_ID, _an_hour_ago())
    assert len(fake_slack.calls("conversations.list")) == 1
    assert len(fake_slack.calls("conversations.history")) == 3


def test_find_in_an_unknown_channel_is_a_permanent_error(fake_slack):
    with pytest.raises(DeliveryError) as caught:
        _bot(fake_slack).find("k", "no-such-channel", _an_hour_ago())
    assert (caught.value.code, caught.value.permanent) == ("channel_not_found", True)


def test_webhook_posts_text_and_blocks_without_metadata(fake_slack):
    message = _message()
    assert SlackWebhook(fake_slack.webhook_url).send(message) is None
    [posted] = fake_slack.posts
    assert (posted.via, posted.text, posted.blocks, posted.metadata) == (
        "webhook",
        message.text,
        message.blocks,
        None,
    )
    assert posted.options == {"unfurl_links": False, "unfurl_media": False}


@pytest.mark.parametrize(("code", "status"), [("no_service", 404), ("invalid_blocks", 400)])
def test_webhook_refusals_are_permanent(fake_slack, code, status):
    fake_slack.fail("webhook", error=code, status=status)
    with pytest.raises(DeliveryError, match=code) as caught:
        SlackWebhook(fake_slack.webhook_url).send(_message())
    assert caught.value.permanent


def test_webhook_server_errors_and_rate_limits_are_transient(fake_slack):
    webhook = SlackWebhook(fake_slack.webhook_url)
    fake_slack.fail("webhook", status=500)
    fake_slack.fail("webhook", status=429, retry_after=3)
    with pytest.raises(DeliveryError) as server_error:
        webhook.send(_message())
    with pytest.raises(DeliveryError) as rate_limit:
        webhook.send(_message())
    assert (server_error.value.code, server_error.value.permanent) == ("http_500", False)
    assert (rate_limit.value.code, rate_limit.value.retry_after) == ("ratelimited", 3.0)
    assert webhook.find("k", None, _an_hour_ago()) is None


def test_console_prints_the_alert_for_a_person():
    out = io.StringIO()
    assert ConsoleNotifier(out).send(_message()) is None
    lines = out.getvalue().splitlines()
    assert lines[1] == "Funding figure changed: Altman's AI-chip venture, money needed"
    assert "Was → Now: 5조~7조 달러 ($5T–$7T) → about $7 trillion" in lines
    assert "Published: 2024-02-09 14:00 UTC" in lines
    assert f"Read the article: {CHANGE['article_url']}" in lines
    assert "*" not in out.getvalue()
    assert "&amp;" not in out.getvalue()


def test_make_notifier_prefers_bot_then_webhook_then_console(fake_slack):
    common = {"channel": CHANNEL, "api_url": fake_slack.api_url}
    bot = make_notifier(bot_token=fake_slack.token, webhook_url=fake_slack.webhook_url, **common)
    webhook = make_notifier(bot_token=None, webhook_url=fake_slack.webhook_url, **common)
    console = make_notifier(bot_token=None, webhook_url=None, **common)
    assert (type(bot), type(webhook), type(console)) == (SlackBot, SlackWebhook, ConsoleNotifier)
    assert (bot.threads, webhook.threads, console.threads) == (True, False, False)


def test_the_console_prints_a_catch_up_message() -> None:
    from tests.test_alerts import _catch_up

    payload = _catch_up(12)
    out = io.StringIO()
    ConsoleNotifier(out).send(render(kind="catch_up", key="k", payload=payload, channel=None))
    printed = out.getvalue()
    assert "Catch-up: Altman's AI-chip venture, money needed" in printed
    assert "$8 trillion: R&D <Wire>" in printed and "$17 trillion" in printed
    assert "and 2 more" in printed
