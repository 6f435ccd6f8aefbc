"""Slack interactivity: the decision buttons of change messages ("Accept", "Not a change").

Slack sends a button press to the interactivity request URL (`POST /slack/interactions`
on the daemon's HTTP server, checked by the signing secret) or over Socket Mode
(`monitor.socket_mode`); both hand the payload to `apply_payload`, which applies each
decision once in the database (`monitor.decisions`), on whichever replica received it.
The Slack message is then updated by the outbox, not here: Slack wants an answer
within 3 seconds, and an update that fails is retried like any message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from monitor.decisions import Action, Applied, DecisionError, decide

log = logging.getLogger(__name__)

PATH = "/slack/interactions"
# A block_actions payload carries the whole message it came from: up to 50 blocks.
MAX_BODY_BYTES = 1_000_000
ACTIONS: Mapping[str, Action] = {"accept_value": "accept", "dismiss_value": "dismiss"}
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


class Interactions:
    """What the HTTP server calls for `POST /slack/interactions`."""

    def __init__(self, engine: Engine, signing_secret: str) -> None:
        self._engine = engine
        self._verifier = SignatureVerifier(signing_secret)

    def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """The HTTP status and text to answer one request with.

        A request without a valid signature, or signed over 5 minutes ago, is refused
        with 401 and has no effect: anyone can reach the URL, only Slack can sign.
        """
        if not self._signed(body, headers):
            return 401, "invalid or stale Slack signature"
        try:
            payload = json.loads(parse_qs(body.decode())["payload"][0])
        except (KeyError, IndexError, ValueError) as exc:
            log.warning("a signed Slack interaction had no readable payload: %s", exc)
            return 400, "no payload"
        if isinstance(payload, dict):
            apply_payload(self._engine, payload, via="slack")
        return 200, ""

    def _signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        try:
            return self._verifier.is_valid_request(body, headers)
        except ValueError:  # a timestamp that is no number, a body that is no UTF-8
            return False


def apply_payload(engine: Engine, payload: Mapping[str, Any], *, via: str) -> list[Applied]:
    """Apply the decisions one interaction payload carries; other actions are ignored.

    A decision that cannot be applied (an unknown alert, one already decided the other
    way) is logged with who tried and why, and changes nothing.
    """
    if payload.get("type") != "block_actions":
        return []
    user = payload.get("user") or {}
    # Shown as a mention (<@U024BE7LH>) in the updated message: only Slack's own shape.
    given = str(user.get("id") or "")
    user_id = given if _USER_ID.fullmatch(given) else None
    name = user.get("username") or user.get("name")
    by = " ".join(str(part) for part in (user_id, name) if part) or "a Slack user"
    applied = []
    for action in payload.get("actions") or []:
        act = ACTIONS.get(str(action.get("action_id")))
        if act is None:  # "Read the article" and other buttons
            continue
        ref = str(action.get("value") or "")
        try:
            done = decide(engine, ref, act, by=by, via=via, user_id=user_id)
        except DecisionError as err:
            log.warning("Slack decision %s by %s not applied: %s", act, by, err)
            continue
        log.info("alert=%s key=%s %s by %s via %s", done.alert_id, done.key, act, by, via)
        applied.append(done)
    return applied
