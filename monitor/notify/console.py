"""The console target: each alert printed for a person, for trying rules without Slack."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console

from monitor.notify.base import Message

_LINK = re.compile(r"<([^|<>]+)\|([^<>]*)>")  # <url|label>, and <!date^...|fallback>
_BARE_LINK = re.compile(r"<((?:https?|mailto):[^<>|]+)>")
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(\S(?:.*?\S)?)\1(?![\w*_~])")


class ConsoleNotifier:
    """Prints to `out`; never fails and keeps nothing to find again."""

    threads = False
    min_interval = 0.0  # a terminal has no rate limit
    interactive = False

    def __init__(self, out: TextIO) -> None:
        self._console = Console(file=out, highlight=False, markup=False, emoji=False)

    def check(self) -> None:
        """Nothing to check: printing cannot be refused."""

    def send(self, message: Message) -> str | None:
        self._console.rule()
        for block in message.blocks:
            style = {"header": "bold", "context": "dim"}.get(block["type"])
            for line in _block_lines(block):
                self._console.print(line, style=style, soft_wrap=True)
        if not message.blocks:
            self._console.print(message.text, soft_wrap=True)
        return None

    def update(self, message: Message, ts: str | None) -> None:
        """A terminal keeps no message to edit: the decision is printed as a line."""
        self._console.print(message.text, soft_wrap=True)

    def find(
        self, key: str, channel: str | None, oldest: datetime, *, thread_ts: str | None = None
    ) -> str | None:
        return None


def _block_lines(block: dict[str, Any]) -> list[str]:
    """The plain lines a person should read for one Block Kit block."""
    kind = block["type"]
    if kind == "header":
        return [_plain(block["text"]["text"])]
    if kind == "section":
        lines = [_plain(block["text"]["text"])] if "text" in block else []
        return lines + [_plain(f["text"]).replace("\n", ": ", 1) for f in block.get("fields", [])]
    if kind == "context":
        return [" · ".join(_plain(e.get("text", "")) for e in block["elements"])]
    if kind == "actions":
        return [f"{_plain(e['text']['text'])}: {e['url']}" for e in block["elements"] if "url" in e]
    return []


def _plain(mrkdwn: str) -> str:
    """Slack mrkdwn as plain text: links as `label (url)`, dates as their fallback."""

    def link(match: re.Match[str]) -> str:
        target, label = match.groups()
        return label if target.startswith("!") else f"{label} ({target})"

    text = _BARE_LINK.sub(r"\1", _LINK.sub(link, mrkdwn))
    return html.unescape(_EMPHASIS.sub(r"\2", text))
