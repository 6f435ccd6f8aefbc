"""What the pages show, as plain data: the read layer (`monitor.web.read`) fills it, the
renderers (`monitor.web.chart`, `monitor.web.pages`) draw it, and neither knows the other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from monitor.currency import usd
from monitor.decisions import OnRecord

# The outcomes a chart tells apart; any other (context, mixup, vague) is drawn as "other".
CHANGE, CORROBORATION, UNCHANGED, DISMISSED = "change", "corroboration", "unchanged", "dismissed"


@dataclass(frozen=True, slots=True)
class Report:
    """One observation of a claim: a figure an outlet published, and what the monitor made of it."""

    published: datetime
    publisher: str
    title: str
    url: str
    text: str  # the figure as written
    low: float
    high: float
    currency: str
    usd_low: float | None  # at the publication day's rate; None when there is no rate
    usd_high: float | None
    outcome: str  # change | corroboration | unchanged | dismissed | context | mixup | vague
    quote: str
    why: str | None
    decision: str | None = None  # its alert's: accepted | dismissed


@dataclass(frozen=True, slots=True)
class Story:
    """A claim and every report of it, oldest first: what its page and `--plot` draw."""

    watch: str
    claim: str
    title: str
    currency: str  # the claim's own
    records: list[OnRecord]  # oldest first; the last is the value on record now
    reports: list[Report]


@dataclass(frozen=True, slots=True)
class ClaimSummary:
    """One row of the front page."""

    watch: str
    watch_title: str
    claim: str
    title: str
    record: OnRecord
    latest: Report | None  # the latest report of a value (not dismissed)
    sources: int  # distinct outlets
    reports: int
    open_alerts: int  # changes nobody has accepted or dismissed yet


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # accept | dismiss | retry
    by: str
    via: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One alert in the outbox, as `monitor alerts` lists it."""

    id: int
    kind: str
    watch: str
    claim: str | None
    publisher: str | None
    was: str | None
    reported: str | None
    url: str | None
    status: str
    attempts: int
    error: str | None
    decision: str | None
    decisions: list[Decision]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One feed, as `monitor status` lists it."""

    url: str
    watch: str
    last_poll: datetime | None
    status: int | None
    result: str  # new | unchanged | not_modified | failed | never polled
    failures: int
    error: str | None
    warning: str | None
    next_poll: datetime | None  # None: at start


def is_web(url: str | None) -> bool:
    """Whether `url` may be a link: http(s) only, never javascript: or data:."""
    return url is not None and url[:8].lower().startswith(("http://", "https://"))


def converter(currency: str) -> Callable[[float, str, date], float | None]:
    """`convert(amount, from_currency, day)` into `currency` through USD at the day's rate,
    or None where there is no rate; rates are looked up once per currency and day."""

    @cache
    def per_usd(code: str, day: date) -> float | None:
        try:
            return usd(1.0, code, day)
        except ValueError:
            return None

    def convert(amount: float, code: str, day: date) -> float | None:
        if code == currency:
            return amount
        here, there = per_usd(code, day), per_usd(currency, day)
        return None if here is None or not there else amount * here / there

    return convert
