"""Slack interactions over Socket Mode: the decision buttons without a public URL.

With an app-level token (`SLACK_APP_TOKEN`, xapp-...) the daemon asks Slack for a
WebSocket (`apps.connections.open`) and Slack sends the button presses down it; slack-sdk's
built-in client keeps the connection (pings, Slack's hourly refresh, reconnects). Each
request is acked at once, since Slack sends again one not acked within 3 seconds, and a
press is then applied like one from the request URL (`monitor.interactions.apply_payload`),
so a press Slack sends twice is applied once.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import Engine

from monitor.backoff import next_delay
from monitor.errors import ConfigError
from monitor.interactions import apply_payload
from monitor.settings import Settings

log = logging.getLogger(__name__)

APP_TOKEN_PREFIX = "xapp-"
_OTHER_TOKENS = {"xoxb-": "a bot token", "xoxp-": "a user token", "xoxa-": "a workspace token"}
# Until the first connection the retries are ours; after it, the client's own (every 5 s).
RETRY_EVERY = 5.0
RETRY_CAP = 300.0
API_TIMEOUT = 10  # seconds for apps.connections.open; also bounds how long close() waits
_TOKEN_HINT = (
    "check SLACK_APP_TOKEN: it must be an app-level token of this Slack app (Basic "
    "Information > App-Level Tokens, scope connections:write), not revoked"
)
_EXPLANATIONS = {
    "invalid_auth": "Slack does not know the app token; " + _TOKEN_HINT,
    "not_authed": "no app token reached Slack; " + _TOKEN_HINT,
    "token_revoked": "the app token was revoked; make a new one and " + _TOKEN_HINT,
    "account_inactive": "the app token belongs to a deactivated app; " + _TOKEN_HINT,
    "not_allowed_token_type": "SLACK_APP_TOKEN is not an app-level token; " + _TOKEN_HINT,
    "missing_scope": "the app token lacks the connections:write scope; add it under Basic "
    "Information > App-Level Tokens",
    "insecure_url": "the WebSocket URL is wss:// on a port other than 443, which slack-sdk's "
    "built-in client opens without TLS (it decides by the port); check SLACK_API_URL",
}


def check_app_token(token: str) -> None:
    """Refuse, before anything connects, a token that cannot open Socket Mode."""
    if token.startswith(APP_TOKEN_PREFIX):
        return
    kind = next(
        (f"{k} ({p}...)" for p, k in _OTHER_TOKENS.items() if token.startswith(p)),
        "not a Slack token",
    )
    raise ConfigError(
        f"SLACK_APP_TOKEN is {kind}, but Socket Mode needs an app-level "
        "token, which starts with xapp-: make one on the Slack app's Basic Information page "
        "(App-Level Tokens, scope connections:write). To take button presses at a public "
        "URL instead, unset SLACK_APP_TOKEN and set SLACK_SIGNING_SECRET."
    )


def from_settings(settings: Settings, engine: Engine) -> SocketMode | None:
    """The daemon's Socket Mode connection when `SLACK_APP_TOKEN` is set; the token checked."""
    token = settings.slack_app_token
    if not token:
        return None
    check_app_token(token)
    if not settings.slack_bot_token:
        log.warning(
            "SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: the decision buttons come with "
            "the bot's messages only, so Socket Mode is not started; set SLACK_BOT_TOKEN"
        )
        return None
    return SocketMode(engine, token, api_url=settings.slack_api_url)


class SocketMode:
    """Button presses from Slack over Socket Mode, applied to `engine`.

    `start()` connects in the background and retries until Slack accepts; a failure is
    logged with Slack's error code and never stops the daemon. `close()` disconnects.
    """

    def __init__(
        self,
        engine: Engine,
        app_token: str,
        *,
        api_url: str | None = None,
        retry_every: float = RETRY_EVERY,
    ) -> None:
        check_app_token(app_token)
        self._engine = engine
        self._app_token = app_token
        base_url = api_url or WebClient.BASE_URL
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._retry_every = retry_every
        self._stop = threading.Event()
        self._client: _Client | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect in the background; returns at once."""
        client = _Client(
            app_token=self._app_token,
            logger=log,
            web_client=WebClient(base_url=self._base_url, timeout=API_TIMEOUT),
        )
        client.socket_mode_request_listeners.append(self._on_request)
        self._client = client
        self._thread = threading.Thread(target=self._connect, name="socket-mode", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Disconnect and stop the client's threads; presses in hand are finished first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(API_TIMEOUT + 1)
        if self._client is not None:
            self._client.close()

    def _connect(self) -> None:
        """Connect, retrying with a doubling delay: the client reconnects by itself only
        once it has connected."""
        assert self._client is not None
        failures = 0
        while not self._stop.is_set():
            try:
                self._client.connect()
                return
            except (SlackApiError, OSError, ConfigError):
                pass  # said by `_Client.issue_new_wss_url`
            failures += 1
            self._stop.wait(next_delay(self._retry_every, failures - 1, cap=RETRY_CAP))

    def _on_request(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        """Ack every request (Slack would send it again), then apply a button press."""
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type != "interactive":
            log.debug("Socket Mode request of type %s ignored", req.type)
            return
        try:
            apply_payload(self._engine, req.payload, via="socket_mode")
        except Exception:
            log.exception(
                "a Slack button press (envelope %s) was acknowledged but not applied; "
                "the message keeps its buttons: press again once the database answers",
                req.envelope_id,
            )


class _Client(SocketModeClient):
    """slack-sdk's client, saying in words why Slack gave no connection (once per outage)."""

    _failing: str | None = None

    def issue_new_wss_url(self) -> str:
        try:
            url = super().issue_new_wss_url()
        except SlackApiError as err:
            self._failed(str(err.response.get("error") or "unknown_error"))
            raise
        except OSError as err:
            self._failed("connection_error", str(err))
            raise
        parts = urlsplit(url)
        if parts.scheme == "wss" and parts.port not in (None, 443):
            self._failed("insecure_url")
            raise ConfigError(f"Socket Mode: {_EXPLANATIONS['insecure_url']}")
        if self._failing is not None:
            log.info("Socket Mode: Slack gave a connection again")
            self._failing = None
        return url

    def _failed(self, code: str, detail: str = "") -> None:
        why = _EXPLANATIONS.get(code)
        if why is None and code == "connection_error":
            why = f"Slack's Web API at {self.web_client.base_url} could not be reached ({detail})"
        if why is None:
            why = (
                "Slack refused to open a connection; check that Socket Mode is enabled in "
                "the app's settings and that SLACK_APP_TOKEN is that app's app-level token"
            )
        level = logging.ERROR if code != self._failing else logging.DEBUG
        self._failing = code
        log.log(
            level,
            "Socket Mode: no connection to Slack (%s): %s. Retrying; until then Slack "
            "cannot deliver button presses to this daemon",
            code,
            why,
        )
