"""Stage Change: is a reported figure a change against what a claim is known to be?

Pure: no I/O. A claim's known values are its stated value, its `also` values and every
value it has alerted. A report is unchanged when it lies within one of them, widened by
the claim's tolerance. Amounts are compared in their own units when the currencies
match, and in US dollars at each value's own date when they do not, so a report in won
is checked against a claim in dollars at the rates of the days each was written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from monitor.currency import usd
from monitor.figures import Figure
from monitor.rules import ClaimRule

ToUsd = Callable[[float, str, date], float | None]
"""`to_usd(amount, currency, on)`: the amount in US dollars on that day, None without a rate."""

Outcome = Literal["unchanged", "change", "context", "mixup", "vague"]

# Tolerance edges are inclusive; this absorbs the float error of `high * (1 + tolerance)`.
_EDGE = 1e-9


@dataclass(frozen=True, slots=True)
class KnownValue:
    """A value a claim is known to hold: stated in the rules, or alerted since."""

    low: float
    high: float
    currency: str
    as_of: date
    text: str
    key: str | None = None  # the alert key when it came from an alert
    published: datetime | None = None  # when the alert's article was published


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a reported figure means for its claim.

    `outcome`: "unchanged" (lies within a known value), "change" (alert), "context" (the
    earlier figure of a change), "mixup" (suspected currency mix-up: listed, never alerted)
    or "vague" ("수조 달러": bounds a magnitude only).
    """

    outcome: Outcome
    matched: KnownValue | None  # the known value the figure lies within
    previous: KnownValue  # "was": `matched`, else the latest alerted value, else the stated one
    change_pct: float | None  # reported midpoint against `previous`, in USD, in percent
    usd: tuple[float, float] | None  # the reported figure in USD on the day it was reported


def ecb_usd(amount: float, currency: str, on: date) -> float | None:
    """`amount` in USD at the offline ECB rate of `on`; None for a currency the ECB lacks."""
    try:
        return usd(amount, currency, on)
    except ValueError:
        return None


def known_values(claim: ClaimRule, alerted: Sequence[KnownValue] = ()) -> list[KnownValue]:
    """The claim's stated value, its `also` values and the values it has alerted, in that order.

    A stated value flagged as a currency mix-up (the seed's "9천조 달러") is known in the
    currency the writer most likely meant, so a correct report of it is not a change.
    """
    stated = [(claim.figure, claim.value), *((also.figure, also.value) for also in claim.also)]
    return [
        *(
            KnownValue(figure.low, figure.high, figure.mixup or figure.currency, claim.as_of, text)
            for figure, text in stated
        ),
        *alerted,
    ]


def matching_value(
    figure: Figure,
    on: date,
    known: Sequence[KnownValue],
    tolerance: float,
    to_usd: ToUsd = ecb_usd,
) -> KnownValue | None:
    """The first known value `figure`, taken in its likely currency, lies within; else None.

    Vague figures lie within nothing: they bound a magnitude, not a value.
    """
    if figure.vague:
        return None
    meant = _as_meant(figure)
    return next((kv for kv in known if _within(meant, on, kv, tolerance, to_usd)), None)


def compare(
    figure: Figure,
    on: date,
    known: Sequence[KnownValue],
    tolerance: float,
    to_usd: ToUsd = ecb_usd,
) -> Verdict:
    """The verdict on `figure`, reported on `on`, against a claim's `known` values.

    Only "change" alerts. The earlier figure of a change ("from $44bn") is context, a
    suspected mix-up is judged in its likely currency but only listed, and a vague figure
    is never a change.
    """
    if not known:
        raise ValueError("a claim has at least its stated value; pass known_values(claim, ...)")
    meant = _as_meant(figure)
    reported_usd = _usd_range(meant, on, to_usd)
    matched = matching_value(figure, on, known, tolerance, to_usd)
    if figure.vague:
        return Verdict("vague", None, _latest(known), None, reported_usd)
    previous = matched or _headline(known)
    change_pct = _change_pct(meant, on, previous, to_usd)
    outcome: Outcome
    if figure.role == "from":
        outcome = "context"
    elif figure.mixup:
        outcome = "mixup"
    else:
        outcome = "unchanged" if matched else "change"
    return Verdict(outcome, matched, previous, change_pct, reported_usd)


def known_at(known: Sequence[KnownValue], when: datetime) -> list[KnownValue]:
    """The values of `known` a reader could have known at `when`, else the stated ones.

    A stated value counts from its `as_of` day, an alerted one from its article's
    publication: a 2024 story is compared with what was on record in 2024, not with a
    value reported since. When nothing was on record yet, the rules' stated values stand
    in (their `as_of`, after the story, says so).
    """
    # A stated value's day is a calendar day somewhere: a day of grace, so that a Seoul
    # morning on its `as_of` day (the evening before, in UTC) already knows it.
    grace = (when + timedelta(days=1)).date()
    then = [kv for kv in known if (kv.published <= when if kv.published else kv.as_of <= grace)]
    return then or [kv for kv in known if kv.key is None]


def value_key(watch: str, claim: str, figure: Figure) -> str:
    """The idempotency key of a reported value: watch, claim, currency and its exact ends.

    Exact, not rounded: whether a report is the same value as an alerted one is decided
    by the claim's tolerance (`compare`), and a rounded key would make two values that
    tolerance tells apart ($156bn and $165bn) one alert. The same value reported by
    another outlet, feed, replica or after a restart gets the same key, so it alerts
    once. Amounts stay in the currency as written (a mix-up too), so a suspected mix-up
    never shares a key with a genuine report.
    """
    ends = _ends(figure)
    return f"{watch}/{claim}/{figure.currency}:{min(ends):.15g}..{max(ends):.15g}"


def _as_meant(figure: Figure) -> Figure:
    """`figure` in the currency the writer most likely meant (itself unless a mix-up)."""
    return replace(figure, currency=figure.mixup, mixup=None) if figure.mixup else figure


def _ends(figure: Figure) -> tuple[float, ...]:
    """The ends of `figure` that must lie within a known value.

    "Up to $7T" says nothing about a floor, so only its high end is checked; "at least
    $5T" likewise only its low end. A range needs both ends, a point its one value.
    """
    if figure.qualifier == "at_most":
        return (figure.high,)
    if figure.qualifier == "at_least":
        return (figure.low,)
    return (figure.low, figure.high)


def _within(figure: Figure, on: date, known: KnownValue, tolerance: float, to_usd: ToUsd) -> bool:
    """Whether every end of `figure` lies within `known` widened by `tolerance`."""
    ends = list(_ends(figure))
    bounds = [known.low * (1 - tolerance), known.high * (1 + tolerance)]
    if figure.currency != known.currency:
        ends_usd = _in_usd(ends, figure.currency, on, to_usd)
        bounds_usd = _in_usd(bounds, known.currency, known.as_of, to_usd)
        if ends_usd is None or bounds_usd is None:
            return False
        ends, bounds = ends_usd, bounds_usd
    low, high = bounds
    slack = _EDGE * max(abs(high), 1.0)
    return all(low - slack <= end <= high + slack for end in ends)


def _in_usd(amounts: list[float], currency: str, on: date, to_usd: ToUsd) -> list[float] | None:
    """`amounts` in USD on `on`; None when there is no rate."""
    converted = [to_usd(amount, currency, on) for amount in amounts]
    found = [amount for amount in converted if amount is not None]
    return found if len(found) == len(converted) else None


def _usd_range(figure: Figure, on: date, to_usd: ToUsd) -> tuple[float, float] | None:
    converted = _in_usd([figure.low, figure.high], figure.currency, on, to_usd)
    return None if converted is None else (converted[0], converted[1])


def _midpoint(figure: Figure) -> float:
    ends = _ends(figure)
    return sum(ends) / len(ends)


def _ratio(figure: Figure, on: date, known: KnownValue, to_usd: ToUsd) -> float | None:
    """Reported midpoint over known midpoint: in USD at each value's date, else own units."""
    reported = to_usd(_midpoint(figure), figure.currency, on)
    was = to_usd((known.low + known.high) / 2, known.currency, known.as_of)
    if reported is None or was is None:
        if figure.currency != known.currency:
            return None
        reported, was = _midpoint(figure), (known.low + known.high) / 2
    return reported / was if was > 0 and reported > 0 else None


def _change_pct(figure: Figure, on: date, previous: KnownValue, to_usd: ToUsd) -> float | None:
    ratio = _ratio(figure, on, previous, to_usd)
    return None if ratio is None else (ratio - 1) * 100


def _latest(known: Sequence[KnownValue]) -> KnownValue:
    """The most recently published known value (a stated value at the end of its day); of
    equals, the later-listed one (alerts come last). Rows are not made in publication order
    (backlogs, takeovers), so their order says nothing."""
    return max(
        reversed(known),
        key=lambda kv: kv.published or datetime.combine(kv.as_of, time.max, tzinfo=UTC),
    )


def _headline(known: Sequence[KnownValue]) -> KnownValue:
    """What a reader knew last: the latest alerted value, else the claim's own stated value.

    Not the nearest value: an `also` value (a typo, a mix-up) is a reason not to alert,
    never the "was" of an alert.
    """
    alerted = [kv for kv in known if kv.key]
    return _latest(alerted) if alerted else known[0]
