"""Logs never hold a secret: not slack-sdk's DEBUG lines, not a traceback, not a field."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import logs
from tests.daemon_helpers import monitor_env, run_monitor
from tests.fakeslack import FakeSlack
from tests.feeddocs import Item, rss20
from tests.feedserver import FeedServer
from tests.test_cli_output import WATCH

APP_TOKEN = "xapp-1-A0FAKE-123-abcdef"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _debug_run(tmp_path: Path, feed_server: FeedServer, **slack: str) -> str:
    """stderr of `monitor run --once` at DEBUG, with one change alert to deliver."""
    item = Item(
        title="Altman's chip plan",
        link="https://news.example/altman-chips",
        guid="altman-1",
        description="Altman seeks $8 trillion for chips.",
    )
    feed_server.route("/logs.xml", rss20([item]))
    rules = tmp_path / "logs.yaml"
    rules.write_text(WATCH.format(url=feed_server.url("/logs.xml")), encoding="utf-8")
    env = monitor_env(tmp_path, rules, MONITOR_LOG_LEVEL="DEBUG", **slack)
    result = run_monitor(["run", "--once"], env)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_the_webhook_url_is_in_no_log_line_at_debug(
    tmp_path: Path, feed_server: FeedServer, fake_slack: FakeSlack
) -> None:
    stderr = _debug_run(tmp_path, feed_server, SLACK_WEBHOOK_URL=fake_slack.webhook_url)
    assert [p.via for p in fake_slack.posts] == ["webhook"]
    assert "Sending a request - url: [redacted]" in stderr  # slack-sdk's DEBUG line, redacted
    assert fake_slack.webhook_url not in stderr


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger set up by `logs.setup`, writing to a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.setup("DEBUG", "json", secrets=(APP_TOKEN, SIGNING_SECRET, None))
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], root.level = saved


def test_secrets_are_redacted_from_messages_fields_and_tracebacks(captured: io.StringIO) -> None:
    log = logging.getLogger("monitor.test")
    log.debug("socket mode with %s", APP_TOKEN)
    log.info("posting", extra={"secret": SIGNING_SECRET, "n": 3})
    try:
        raise RuntimeError(f"rejected xoxb-1234-5678-abcd and {APP_TOKEN}")
    except RuntimeError:
        log.exception("failed at https://hooks.slack.com/services/T0/B0/XYZ")
    logging.getLogger("slack_sdk.web").debug("a token shaped xoxp-99-abc in a reply")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert len(lines) == 4
    text = captured.getvalue()
    for secret in (APP_TOKEN, SIGNING_SECRET, "xoxb-1234", "hooks.slack.com/services", "xoxp-99"):
        assert secret not in text, secret
    assert lines[0]["event"] == "socket mode with [redacted]"
    assert (lines[1]["secret"], lines[1]["n"]) == ("[redacted]", 3)
    assert "RuntimeError: rejected [redacted] and [redacted]" in lines[2]["exception"]
