"""The Slack incoming-webhook target: text and blocks only (no metadata, threads or ts).

A webhook cannot read its channel back, so after a lost response the outbox cannot
tell whether the message arrived: delivery through a webhook is at least once.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.webhook import WebhookClient

from monitor.notify.base import Message, delivery_error, network_errors, retry_after


class SlackWebhook:
    """Posts to the one channel an incoming-webhook URL is bound to."""

    threads = False
    min_interval = 1.0  # Slack: about one message per second per channel
    interactive = False  # a webhook's messages cannot be acted on or edited

    def __init__(self, url: str, *, timeout: int = 10) -> None:
        self._client = WebhookClient(url, timeout=timeout, retry_handlers=[])

    def check(self) -> None:
        """Nothing to check: a webhook can only be tested by posting to it."""

    def send(self, message: Message) -> str | None:
        with network_errors():
            response = self._client.send(
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        body = (response.body or "").strip()
        if response.status_code == 200 and body == "ok":
            return None
        if response.status_code == 429:
            raise delivery_error("ratelimited", retry_after=retry_after(response.headers))
        if response.status_code >= 500 or not body or " " in body:
            # An error page rather than one of Slack's codes.
            raise delivery_error(f"http_{response.status_code}")
        raise delivery_error(body)

    def update(self, message: Message, ts: str | None) -> None:
        """A webhook cannot edit what it posted: the decision goes out as a line of its own."""
        self.send(Message(channel=message.channel, text=message.text, blocks=[], metadata=None))

    def find(
        self, key: str, channel: str | None, oldest: datetime, *, thread_ts: str | None = None
    ) -> str | None:
        return None
