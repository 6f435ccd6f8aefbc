"""The errors a person sees: each says what happened, where, and what to do next.

Callers catch at the level they can handle: `MonitorError` for anything of ours,
or one of its kinds below.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error funding-monitor reports to a person."""


class RulesError(MonitorError):
    """A rules file is invalid. `str()` is `file:line: key.path: what was expected`."""

    def __init__(self, file: str, line: int | None, path: str, message: str) -> None:
        self.file = file
        self.line = line
        self.path = path
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


class RulesErrors(MonitorError):
    """Every problem found in a set of rules files, so a person can fix them in one pass."""

    def __init__(self, errors: list[RulesError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class FeedError(MonitorError):
    """A poll failed: the feed URL and the reason, in words a person can act on."""

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{url}: {reason}")


class ItemError(MonitorError):
    """One feed item cannot be used (say, a URL too long to store); the rest of the feed is."""

    def __init__(self, item: str, reason: str) -> None:
        self.item = item
        self.reason = reason
        super().__init__(f"{item}: {reason}")


class DeliveryError(MonitorError):
    """Slack (or the webhook) did not take a message.

    `code` is Slack's error code (`channel_not_found`, `ratelimited`, `http_500`, ...);
    `permanent` says whether retrying could ever help.
    """

    def __init__(
        self, code: str, message: str, *, permanent: bool, retry_after: float | None = None
    ) -> None:
        self.code = code
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(f"{code}: {message}")


class ConfigError(MonitorError):
    """Settings or credentials that cannot work: a database that does not answer, a bad token."""
