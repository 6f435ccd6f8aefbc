"""Tests of `monitor.currency`: historical ECB rates, offline, with explicit date notes."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.currency import RateNote, last_rate_date, rate_date, to_usd, usd
from monitor.figures import extract


def test_622_jo_won_on_2024_02_08_is_about_467_billion_dollars() -> None:
    low, high = to_usd(extract("622조원")[0], dt.date(2024, 2, 8))
    assert low == high == pytest.approx(467e9, rel=0.005)


def test_9000_jo_won_on_2024_03_06_is_about_6_75_trillion_dollars() -> None:
    low, _ = to_usd(extract("9천조 원")[0], dt.date(2024, 3, 6))
    assert low == pytest.approx(6.75e12, rel=0.005)


def test_range_converts_both_ends() -> None:
    low, high = to_usd(extract("5조~7조 원")[0], dt.date(2024, 3, 6))
    assert high / low == pytest.approx(7 / 5)


def test_weekend_uses_prior_business_day() -> None:
    saturday, friday = dt.date(2024, 2, 10), dt.date(2024, 2, 9)
    used, note = rate_date("KRW", saturday)
    assert used == friday
    assert note == RateNote(saturday, friday, "prior_business_day")
    assert "weekend" in str(note)
    assert usd(1e9, "KRW", saturday) == usd(1e9, "KRW", friday)


def test_business_day_is_exact() -> None:
    day = dt.date(2024, 2, 8)
    assert rate_date("EUR", day) == (day, RateNote(day, day, "exact"))


def test_holiday_uses_prior_business_day() -> None:
    used, note = rate_date("JPY", dt.date(2024, 12, 25))
    assert used == dt.date(2024, 12, 24)
    assert note.kind == "prior_business_day"


def test_before_first_date_uses_first_rate_and_says_so() -> None:
    used, note = rate_date("KRW", dt.date(1990, 1, 1))
    assert used == dt.date(1999, 1, 4)
    assert note.kind == "before_first_rate"
    assert usd(1000, "KRW", dt.date(1990, 1, 1)) == usd(1000, "KRW", used)


def test_after_last_date_uses_last_rate_and_says_so() -> None:
    later = last_rate_date() + dt.timedelta(days=400)
    used, note = rate_date("EUR", later)
    assert used == last_rate_date()
    assert note.kind == "after_last_rate"
    assert "last" in str(note)


def test_last_rate_date_is_a_recent_date() -> None:
    assert last_rate_date() >= dt.date(2024, 1, 1)


def test_usd_is_identity() -> None:
    assert usd(123.0, "USD", dt.date(2024, 2, 10)) == 123.0


def test_unknown_currency_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no ECB rate for currency 'XYZ'"):
        usd(1.0, "XYZ", dt.date(2024, 2, 8))


def test_currency_without_ecb_rate_is_an_error() -> None:
    fig = extract("100 ₡")[0]
    with pytest.raises(ValueError, match="CRC"):
        to_usd(fig, dt.date(2024, 2, 8))


@pytest.mark.parametrize(
    ("amount", "currency", "low", "high"),
    [
        (1.0, "EUR", 1.0, 1.2),
        (1.0, "GBP", 1.1, 1.4),
        (100.0, "JPY", 0.5, 1.0),
        (1000.0, "KRW", 0.6, 0.9),
        (1.0, "CNY", 0.12, 0.16),
    ],
)
def test_rates_are_in_a_sane_band_in_2024(
    amount: float, currency: str, low: float, high: float
) -> None:
    assert low <= usd(amount, currency, dt.date(2024, 6, 3)) <= high


def test_lazily_read_rates_are_the_librarys_and_only_asked_currencies_are_built() -> None:
    from currency_converter import CurrencyConverter

    from monitor.currency import _lazy_converter_class

    options = {"fallback_on_missing_rate": True, "fallback_on_missing_rate_method": "last_known"}
    lazy = _lazy_converter_class()(**options)
    day = dt.date(2024, 2, 9)
    lazy.convert(1e9, "KRW", "USD", date=day)
    assert set(lazy._rates) == {"KRW", "USD"}  # of 42 in the file: the work a run does
    eager = CurrencyConverter(**options)
    assert lazy.convert(1e9, "KRW", "USD", date=day) == eager.convert(1e9, "KRW", "USD", date=day)
    assert lazy.currencies == eager.currencies
    assert lazy.bounds == eager.bounds
    for currency in eager._rates:
        assert lazy._rates[currency] == eager._rates[currency], currency
