"""What every notification target shares: the message, the interface, Slack's error codes.

A target (Slack bot, Slack webhook, console) takes a rendered `Message` and either
delivers it or raises `DeliveryError` saying whether retrying could help.
"""

from __future__ import annotations

import http.client
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol, TextIO
from urllib.error import URLError

from monitor.errors import DeliveryError


@dataclass(frozen=True, slots=True)
class Message:
    """One message as Slack takes it; `text` is the fallback shown in notifications."""

    channel: str | None
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None  # {"event_type": ..., "event_payload": {...}}
    thread_ts: str | None = None


class Notifier(Protocol):
    """A place alerts go. `threads` says whether replies can go in a thread (bot only)."""

    threads: bool
    min_interval: float  # seconds to keep between two posts to one channel
    # Whether change messages offer decision buttons: a bot with Slack interactivity set up.
    interactive: bool

    def check(self) -> None:
        """Fail early with `ConfigError` when the target cannot work (a rejected token)."""

    def send(self, message: Message) -> str | None:
        """Deliver `message`; Slack's `ts` when there is one. Raises `DeliveryError`."""

    def update(self, message: Message, ts: str | None) -> None:
        """Show `message` in place of the one posted at `ts` (a decision was made).

        A target that cannot edit what it posted (or a message it holds no `ts` of,
        posted by a webhook before) posts `message.text` instead. Raises
        `DeliveryError`.
        """

    def find(
        self, key: str, channel: str | None, oldest: datetime, *, thread_ts: str | None = None
    ) -> str | None:
        """The `ts` of a message already posted since `oldest` whose metadata key is `key`.

        Looks in the thread of `thread_ts` when given (replies are not in the history).
        Targets that cannot read the channel back answer None.
        """


# Codes after which the same request may succeed later; every other code is permanent.
TRANSIENT = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "timeout",
        "connection_error",
    }
)

_EXPLANATIONS = MappingProxyType(
    {
        "channel_not_found": "the channel does not exist or the bot cannot see it; check "
        "slack.channel in the rules or SLACK_CHANNEL, and invite the bot to private channels",
        "not_in_channel": "the bot is not a member of the channel; invite it with /invite",
        "is_archived": "the channel is archived; unarchive it or choose another channel",
        "channel_is_archived": "the channel is archived; unarchive it or choose another channel",
        "msg_too_long": "the message text is too long for Slack",
        "msg_blocks_too_long": "the message blocks are too long for Slack (about 13k characters)",
        "invalid_blocks": "Slack rejected the message layout; this is a bug, please report it",
        "invalid_metadata_format": "Slack rejected the message metadata; this is a bug",
        "invalid_auth": "Slack rejected the token; check SLACK_BOT_TOKEN",
        "not_authed": "no token was sent; set SLACK_BOT_TOKEN",
        "token_revoked": "the token was revoked; install the app again and update SLACK_BOT_TOKEN",
        "account_inactive": "the token belongs to a deactivated user or app",
        "missing_scope": "the token lacks a scope: give the app chat:write, channels:read, "
        "channels:history (and groups:* for private channels)",
        "no_service": "the webhook was disabled or removed; create a new incoming webhook",
        "invalid_token": "the webhook URL is not valid; copy it again from the Slack app",
        "no_active_hooks": "the webhook is disabled; enable incoming webhooks for the app",
        "action_prohibited": "a workspace admin restricts posting to this channel",
        "posting_to_general_channel_denied": "only admins may post to this channel",
        "invalid_payload": "Slack could not read the message; this is a bug, please report it",
        "ratelimited": "Slack asked us to slow down",
        "timeout": "Slack did not answer in time",
        "connection_error": "Slack could not be reached",
    }
)


def explain(code: str) -> str:
    """Slack's error code in words a person can act on."""
    if code in _EXPLANATIONS:
        return _EXPLANATIONS[code]
    if code.startswith("http_5"):
        return "Slack had a server error"
    return "Slack refused the message"


def delivery_error(code: str, *, retry_after: float | None = None) -> DeliveryError:
    """A `DeliveryError` for `code`, classified and explained in one place."""
    permanent = code not in TRANSIENT and not code.startswith("http_5")
    return DeliveryError(code, explain(code), permanent=permanent, retry_after=retry_after)


def retry_after(headers: dict[str, Any]) -> float | None:
    """The Retry-After header in seconds, whatever its case or list wrapping."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


@contextmanager
def network_errors() -> Iterator[None]:
    """Turn a timeout or a broken connection (urllib, under slack-sdk) into a `DeliveryError`."""
    try:
        yield
    except TimeoutError as exc:
        raise delivery_error("timeout") from exc
    except URLError as exc:
        code = "timeout" if isinstance(exc.reason, TimeoutError) else "connection_error"
        raise delivery_error(code) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise delivery_error("connection_error") from exc


def make_notifier(
    *,
    bot_token: str | None,
    channel: str | None,
    webhook_url: str | None,
    api_url: str | None,
    interactive: bool = False,
    out: TextIO = sys.stdout,
) -> Notifier:
    """The Slack bot when there is a token, else the webhook, else the console.

    `interactive`: Slack interactivity is set up (a signing secret or an app token), so
    the bot's change messages offer decision buttons.
    """
    # Imported here because each target imports this module for `Message`.
    if bot_token:
        from monitor.notify.slack_bot import SlackBot

        return SlackBot(bot_token, channel=channel, api_url=api_url, interactive=interactive)
    if webhook_url:
        from monitor.notify.slack_webhook import SlackWebhook

        return SlackWebhook(webhook_url)
    from monitor.notify.console import ConsoleNotifier

    return ConsoleNotifier(out)
