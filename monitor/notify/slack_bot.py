"""The Slack bot target: chat.postMessage with metadata and threads, and a way to read back.

Retries are the outbox's job (`monitor.delivery`), which knows the time budget and
looks in the channel before posting again, so the client is built with no retry
handlers: a client-side retry after a lost response could post a message twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from monitor.errors import ConfigError, DeliveryError
from monitor.notify.base import Message, delivery_error, explain, network_errors, retry_after

# Conversation IDs: public (C), private (G) and direct (D); anything else is a name.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_TOKEN_CODES = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})
_PAGE = 200


class SlackBot:
    """Posts as a Slack app with a bot token (`xoxb-`)."""

    threads = True
    min_interval = 1.0  # Slack: about one message per second per channel

    def __init__(
        self,
        token: str,
        *,
        channel: str | None = None,
        api_url: str | None = None,
        timeout: int = 10,
        interactive: bool = False,
    ) -> None:
        base_url = api_url or WebClient.BASE_URL
        self.channel = channel
        self.interactive = interactive
        self._client = WebClient(
            token=token,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=timeout,
            retry_handlers=[],
        )
        # conversations.history takes only IDs; names are resolved once per notifier.
        self._channel_ids: dict[str, str] = {}

    def check(self) -> None:
        try:
            with _slack_errors():
                self._client.auth_test()
        except DeliveryError as err:
            if err.code in _TOKEN_CODES:
                raise ConfigError(
                    f"Slack rejected the bot token ({err.code}): {explain(err.code)}. "
                    "A bot token starts with xoxb- and is on the app's OAuth & Permissions page."
                ) from err
            raise

    def send(self, message: Message) -> str | None:
        channel = self._target(message.channel)
        with _slack_errors():
            response = self._client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                metadata=message.metadata,
                thread_ts=message.thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        posted_in = response.get("channel")
        if posted_in and not _CHANNEL_ID.match(channel):
            self._channel_ids[channel.lstrip("#")] = posted_in
        return str(response["ts"])

    def update(self, message: Message, ts: str | None) -> None:
        if ts is None:  # posted by a webhook before the bot took over
            self.send(Message(channel=message.channel, text=message.text, blocks=[], metadata=None))
            return
        with _slack_errors():
            self._client.chat_update(
                channel=self._channel_id(self._target(message.channel)),
                ts=ts,
                text=message.text,
                blocks=message.blocks,
                metadata=message.metadata,
            )

    def find(
        self, key: str, channel: str | None, oldest: datetime, *, thread_ts: str | None = None
    ) -> str | None:
        channel_id = self._channel_id(self._target(channel))
        cursor: str | None = None
        while True:
            page = self._history_page(channel_id, oldest, thread_ts, cursor)
            for posted in page.get("messages") or []:
                payload = (posted.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == key:
                    return str(posted["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def _history_page(
        self, channel_id: str, oldest: datetime, thread_ts: str | None, cursor: str | None
    ) -> SlackResponse:
        common: dict[str, Any] = {
            "channel": channel_id,
            "oldest": f"{oldest.timestamp():.6f}",
            "include_all_metadata": True,
            "limit": _PAGE,
            "cursor": cursor,
        }
        with _slack_errors():
            if thread_ts:
                return self._client.conversations_replies(ts=thread_ts, **common)
            return self._client.conversations_history(**common)

    def _target(self, channel: str | None) -> str:
        target = channel or self.channel
        if not target:
            raise DeliveryError(
                "channel_not_set",
                "no channel to post to; set slack.channel in the rules or SLACK_CHANNEL",
                permanent=True,
            )
        return target

    def _channel_id(self, channel: str) -> str:
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.lstrip("#")
        if name not in self._channel_ids:
            self._channel_ids[name] = self._lookup_channel(name)
        return self._channel_ids[name]

    def _lookup_channel(self, name: str) -> str:
        cursor: str | None = None
        while True:
            with _slack_errors():
                page = self._client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=_PAGE,
                    cursor=cursor,
                )
            for conversation in page.get("channels") or []:
                if conversation.get("name") == name:
                    return str(conversation["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise delivery_error("channel_not_found")


@contextmanager
def _slack_errors() -> Iterator[None]:
    """Turn whatever slack-sdk and urllib raise into one classified `DeliveryError`."""
    try:
        with network_errors():
            yield
    except SlackApiError as exc:
        status = exc.response.status_code
        if status == 429:
            raise delivery_error(
                "ratelimited", retry_after=retry_after(exc.response.headers)
            ) from exc
        if status >= 500:
            raise delivery_error(f"http_{status}") from exc
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        raise delivery_error(str(code or f"http_{status}")) from exc
