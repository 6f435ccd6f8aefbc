"""No duplicate after a crash: SIGKILL while Slack is slow to answer, restart, count the posts."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from monitor.alerts import EVENT_TYPES
from tests.daemon_helpers import monitor_env, run_monitor, start_monitor, wait_for
from tests.fakeslack import FakeSlack
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer

WATCH = """\
watch: crash
title: Crash test
entities:
  altman: [Sam Altman]
  samsung: [Samsung]
feeds:
  - url: {url}
    every: 1s
claims:
  - id: venture-target
    about: [altman]
    topic: [chip]
    value: "$5 trillion to $7 trillion"
    as_of: 2024-02-08
  - id: samsung-texas
    about: [samsung]
    topic: [Texas]
    value: "$44 billion"
    as_of: 2024-04-15
slack:
  channel: "#funding-alerts"
catch_up: {catch_up}
"""

STORIES = [
    Item(
        title="Sam Altman now wants $8 trillion for chip plants",
        link="https://a.example/1",
        description="Sam Altman said the chip plan needs $8 trillion.",
    ),
    Item(
        title="Samsung trims Texas plan",
        link="https://b.example/2",
        description="Samsung cut its Texas investment to $37 billion from $44 billion.",
    ),
]


def _keys(slack: FakeSlack) -> list[str]:
    return [p.metadata["event_payload"]["key"] for p in slack.posts if p.metadata]


@pytest.mark.parametrize(
    ("catch_up", "kind"),
    [("off", "change"), ("on", "catch_up")],
    ids=["alerts", "catch-up messages"],
)
def test_sigkill_while_slack_is_slow_then_restart_delivers_each_alert_once(
    tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack, catch_up: str, kind: str
) -> None:
    """The feed's first poll makes two change alerts, or (catch-up) one message per claim."""
    feed_server.route("/feed", rss20(STORIES), headers={"Content-Type": "application/rss+xml"})
    rules = tmp_path / "crash.yaml"
    text = WATCH.format(url=feed_server.url("/feed"), catch_up=catch_up)
    rules.write_text(text, encoding="utf-8")
    env = monitor_env(
        tmp_path,
        rules,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_API_URL=fake_slack.api_url,
        MONITOR_REPLICA_ID="crash-test-1",
    )
    # Slack takes the first message, then answers too late: the daemon dies not knowing.
    fake_slack.fail("chat.postMessage", delay=8.0, times=1)
    first = start_monitor(["run"], env, tmp_path / "first.log")
    try:
        wait_for(lambda: len(fake_slack.posts) >= 1, 30, "the first post to reach Slack")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(fake_slack.posts) == 1

    second = start_monitor(["run"], env, tmp_path / "second.log")
    try:
        wait_for(lambda: len(fake_slack.posts) >= 2, 30, "the second alert to be posted")
        wait_for(
            lambda: [a["status"] for a in _alerts(env, kind)] == ["sent", "sent"],
            30,
            "both alerts marked sent",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    finally:
        if second.poll() is None:
            second.kill()

    keys = _keys(fake_slack)
    assert len(keys) == 2 and len(set(keys)) == 2, keys
    claims = sorted(p.metadata["event_payload"]["claim"] for p in fake_slack.posts if p.metadata)
    assert claims == ["samsung-texas", "venture-target"]
    # The reconciled alert carries the ts Slack gave the message before the crash.
    assert {p.metadata["event_type"] for p in fake_slack.posts if p.metadata} == {EVENT_TYPES[kind]}
    by_key = {a["key"]: a for a in _alerts(env, kind)}
    for post in fake_slack.posts:
        assert by_key[post.metadata["event_payload"]["key"]]["ts"] == post.ts  # type: ignore[index]


def test_a_restart_without_a_replica_id_settles_the_dead_process_alert_at_once(
    tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack
) -> None:
    """Its worker id is host-pid, so the restarted daemon has another: it sees the pid gone."""
    feed_server.route("/feed", rss20(STORIES), headers={"Content-Type": "application/rss+xml"})
    rules = tmp_path / "crash.yaml"
    rules.write_text(WATCH.format(url=feed_server.url("/feed"), catch_up="off"), encoding="utf-8")
    env = monitor_env(
        tmp_path, rules, SLACK_BOT_TOKEN=fake_slack.token, SLACK_API_URL=fake_slack.api_url
    )
    fake_slack.fail("chat.postMessage", delay=8.0, times=1)
    first = start_monitor(["run"], env, tmp_path / "first.log")
    try:
        wait_for(lambda: len(fake_slack.posts) >= 1, 30, "the first post to reach Slack")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    [in_flight] = [a for a in _alerts(env, "change") if a["status"] == "sending"]

    second = start_monitor(["run"], env, tmp_path / "second.log")
    try:
        # Before, the alert waited out a 120 s lease; the pid check needs no wait at all.
        wait_for(
            lambda: [a["status"] for a in _alerts(env, "change")] == ["sent", "sent"],
            60,
            "both alerts marked sent",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    finally:
        if second.poll() is None:
            second.kill()
    log = (tmp_path / "second.log").read_text(encoding="utf-8")
    assert f"key={in_flight['key']} outcome=reconciled_sent" in log
    assert f"because process {first.pid} that claimed it is gone" in log
    assert sorted(_keys(fake_slack)) == sorted(a["key"] for a in _alerts(env, "change"))


def _alerts(env: dict[str, str], kind: str) -> list[dict[str, object]]:
    """The outbox's messages of `kind` (a catch-up's changes are kept, never sent alone)."""
    result = run_monitor(["alerts", "--json"], env)
    assert result.returncode == 0, result.stderr
    return [a for a in json.loads(result.stdout) if a["kind"] == kind]
