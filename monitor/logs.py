"""Structured logs: one line per event, `key=value` for people or JSON for machines.

No secret reaches a log: slack-sdk logs a webhook's URL (a secret) at DEBUG, and an
error may quote a token; `Redact` removes them from every record our handler writes.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
REDACTED = "[redacted]"
# Slack's secrets by their shape, configured or not: tokens (bot, user, app, config) and
# webhook URLs, whose path is the secret.
_SLACK_SECRET = re.compile(
    r"\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+|https://hooks\.slack\.com/[^\s'\"<>]+"
)


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class Redact(logging.Filter):
    """Replaces each secret (and anything shaped like a Slack token or webhook URL) in a
    record's message, fields and traceback with `[redacted]`, at every level."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is removed whole.
        known = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, known))) if known else None

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return _SLACK_SECRET.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: keep the words alone
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        for key, value in _fields(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The record's traceback, formatted once (and kept redacted when `Redact` has run)."""
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return record.exc_text or None


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [when, record.levelname.lower(), record.name, record.getMessage()]
        parts += [f"{k}={_quote(v)}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if exception := _exception(self, record):
            line += "\n" + exception
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if exception := _exception(self, record):
            data["exception"] = exception
        return json.dumps(data, ensure_ascii=False, default=str)


def _quote(value: object) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


def setup(level: str = "INFO", fmt: str = "text", secrets: Iterable[str | None] = ()) -> None:
    """Log to stderr; stdout is for what a command prints. `secrets` never appear in it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
