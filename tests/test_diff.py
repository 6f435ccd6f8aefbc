"""Stage Change: which reported figures are changes against a claim's known values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.diff import KnownValue, compare, ecb_usd, known_at, known_values, value_key
from monitor.figures import Figure
from monitor.rules import ClaimRule

T = 1e12  # a trillion (조)
JAN, FEB, MAR = date(2024, 1, 15), date(2024, 2, 8), date(2024, 3, 6)

# A fake rate table that moves between the days, so a test can tell which day was used.
_KRW_PER_USD = {JAN: 1300.0, FEB: 1400.0, MAR: 1330.0}


def fake_usd(amount: float, currency: str, on: date) -> float | None:
    if currency == "USD":
        return amount
    if currency == "KRW" and on in _KRW_PER_USD:
        return amount / _KRW_PER_USD[on]
    return None


def fig(
    low: float, high: float | None = None, currency: str = "USD", text: str = "", **kw: object
) -> Figure:
    return Figure(text or f"{low}", 0, 1, low, low if high is None else high, currency, **kw)  # type: ignore[arg-type]


TARGET = KnownValue(5 * T, 7 * T, "USD", FEB, "5조~7조 달러")
CLUSTER = KnownValue(622 * T, 622 * T, "KRW", JAN, "622조원")  # $478.5bn in January


@pytest.mark.parametrize(
    ("figure", "known", "tolerance", "outcome"),
    [
        pytest.param(fig(6 * T), TARGET, 0.05, "unchanged", id="point inside a range"),
        pytest.param(fig(5 * T, 7 * T), TARGET, 0.05, "unchanged", id="the same range"),
        pytest.param(fig(5.5 * T, 6.5 * T), TARGET, 0.0, "unchanged", id="range inside range"),
        pytest.param(fig(6 * T, 8 * T), TARGET, 0.05, "change", id="range with one end out"),
        pytest.param(fig(8 * T), TARGET, 0.05, "change", id="point above"),
        pytest.param(fig(7.35 * T), TARGET, 0.05, "unchanged", id="high edge is inclusive"),
        pytest.param(fig(7.36 * T), TARGET, 0.05, "change", id="just past the high edge"),
        pytest.param(fig(4.75 * T), TARGET, 0.05, "unchanged", id="low edge is inclusive"),
        pytest.param(fig(4.74 * T), TARGET, 0.05, "change", id="just past the low edge"),
        pytest.param(fig(7 * T), TARGET, 0.0, "unchanged", id="zero tolerance, on the edge"),
        pytest.param(fig(7.01 * T), TARGET, 0.0, "change", id="zero tolerance, past it"),
        pytest.param(fig(7 * T, qualifier="at_most"), TARGET, 0.05, "unchanged", id="up to $7T"),
        pytest.param(fig(9 * T, qualifier="at_most"), TARGET, 0.05, "change", id="up to $9T"),
        pytest.param(
            fig(5 * T, qualifier="at_least"), TARGET, 0.05, "unchanged", id="at least $5T"
        ),
        pytest.param(fig(1 * T, qualifier="at_least"), TARGET, 0.05, "change", id="at least $1T"),
        pytest.param(fig(6 * T, qualifier="approx"), TARGET, 0.05, "unchanged", id="about $6T"),
        pytest.param(fig(622 * T, currency="KRW"), CLUSTER, 0.05, "unchanged", id="same in KRW"),
        pytest.param(fig(700 * T, currency="KRW"), CLUSTER, 0.05, "change", id="700조원"),
        pytest.param(
            fig(44e9, role="from"), TARGET, 0.05, "context", id="the earlier figure of a change"
        ),
        pytest.param(fig(2 * T, 9 * T, vague=True), TARGET, 0.05, "vague", id="수조 달러"),
        pytest.param(fig(9e15, mixup="KRW"), TARGET, 0.05, "mixup", id="9천조 달러, meant in won"),
        pytest.param(fig(9e18, mixup="KRW"), TARGET, 0.05, "mixup", id="a mixup never alerts"),
    ],
)
def test_outcome(figure: Figure, known: KnownValue, tolerance: float, outcome: str) -> None:
    assert compare(figure, MAR, [known], tolerance, fake_usd).outcome == outcome


def test_other_currency_is_compared_in_usd() -> None:
    """9천조 원 in 2024 is about $6.8 trillion: inside 5조~7조 달러."""
    verdict = compare(fig(9e15, currency="KRW"), MAR, [TARGET], 0.05, fake_usd)
    assert verdict.outcome == "unchanged"
    assert verdict.matched == TARGET
    assert verdict.usd == pytest.approx((9e15 / 1330, 9e15 / 1330))


def test_known_value_is_converted_on_its_own_day() -> None:
    # 622조원 is $478.5bn at January's rate, $444bn at February's; the report is of February.
    assert compare(fig(480e9), FEB, [CLUSTER], 0.05, fake_usd).outcome == "unchanged"
    assert compare(fig(444e9), FEB, [CLUSTER], 0.05, fake_usd).outcome == "change"


def test_reported_value_is_converted_on_its_own_day() -> None:
    known = [KnownValue(478.5e9, 478.5e9, "USD", JAN, "$478.5 billion")]
    assert compare(fig(622 * T, currency="KRW"), FEB, known, 0.05, fake_usd).outcome == "change"
    assert compare(fig(622 * T, currency="KRW"), JAN, known, 0.05, fake_usd).outcome == "unchanged"


def test_default_rates_are_the_offline_ecb_ones() -> None:
    """9천조 원 on 2024-03-06 is about $6.75 trillion at the ECB rate."""
    verdict = compare(fig(9e15, currency="KRW"), MAR, [TARGET], 0.05)
    assert verdict.outcome == "unchanged"
    assert verdict.usd is not None and 6.6 * T < verdict.usd[0] < 6.9 * T
    assert ecb_usd(1.0, "XXX", MAR) is None


def test_without_a_rate_other_currencies_do_not_match() -> None:
    verdict = compare(fig(9e15, currency="XXX"), MAR, [TARGET], 0.05, fake_usd)
    assert verdict.outcome == "change"
    assert (verdict.usd, verdict.change_pct, verdict.previous) == (None, None, TARGET)


def test_mixup_is_judged_in_its_likely_currency() -> None:
    verdict = compare(fig(9e15, mixup="KRW"), MAR, [TARGET], 0.05, fake_usd)
    assert verdict.matched == TARGET
    assert verdict.usd == pytest.approx((9e15 / 1330, 9e15 / 1330))


def test_change_shows_the_nearest_known_value_and_percent() -> None:
    alerted = KnownValue(10 * T, 10 * T, "USD", MAR, "$10 trillion", key="k")
    verdict = compare(fig(11 * T), MAR, [TARGET, alerted], 0.05, fake_usd)
    assert verdict.outcome == "change"
    assert verdict.matched is None
    assert verdict.previous == alerted
    assert verdict.change_pct == pytest.approx(10.0)
    assert compare(fig(8 * T), MAR, [TARGET], 0.05, fake_usd).change_pct == pytest.approx(100 / 3)


def test_unchanged_shows_the_matched_value() -> None:
    verdict = compare(fig(6 * T), MAR, [TARGET], 0.05, fake_usd)
    assert (verdict.matched, verdict.previous, verdict.change_pct) == (TARGET, TARGET, 0.0)


def test_no_known_values_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="known_values"):
        compare(fig(6 * T), MAR, [], 0.05, fake_usd)


def _claim() -> ClaimRule:
    return ClaimRule(
        id="chip-venture-target",
        about=["altman"],
        topic=["필요"],
        value="5조~7조 달러",
        as_of=FEB,
        also=[{"value": "9천조 달러"}],  # type: ignore[list-item]
    )


def test_known_values_are_stated_also_and_alerted() -> None:
    alerted = KnownValue(9 * T, 9 * T, "USD", MAR, "$9 trillion", key="k")
    known = known_values(_claim(), [alerted])
    assert known == [
        KnownValue(5 * T, 7 * T, "USD", FEB, "5조~7조 달러"),
        KnownValue(9e15, 9e15, "KRW", FEB, "9천조 달러"),  # a mix-up is known as meant: won
        alerted,
    ]


def test_an_alerted_value_is_no_change_the_second_time() -> None:
    claim = _claim()
    nine = fig(9 * T)
    assert compare(nine, MAR, known_values(claim), claim.tolerance, fake_usd).outcome == "change"
    alerted = KnownValue(9 * T, 9 * T, "USD", MAR, "$9 trillion", key="k")
    verdict = compare(nine, MAR, known_values(claim, [alerted]), claim.tolerance, fake_usd)
    assert (verdict.outcome, verdict.matched) == ("unchanged", alerted)


def test_value_key_is_the_same_for_the_same_value() -> None:
    key = value_key("w", "c", fig(7 * T, text="$7 trillion"))
    same = [
        Figure("7조 달러", 120, 125, 7 * T, 7 * T, "USD"),
        fig(7 * T, text="7,000,000,000,000 dollars"),
        fig(7 * T, qualifier="approx"),
    ]
    assert [value_key("w", "c", f) for f in same] == [key] * len(same)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("w", "c", fig(7.1 * T)), id="another value"),
        pytest.param(("w", "c", fig(7.04 * T)), id="another value within the tolerance"),
        pytest.param(("w", "c", fig(7 * T, currency="KRW")), id="another currency"),
        pytest.param(("w", "d", fig(7 * T)), id="another claim"),
        pytest.param(("v", "c", fig(7 * T)), id="another watch"),
        pytest.param(("w", "c", fig(5 * T, 7 * T)), id="a range"),
    ],
)
def test_value_key_differs(other: tuple[str, str, Figure]) -> None:
    assert value_key(*other) != value_key("w", "c", fig(7 * T))


def test_values_a_rounded_key_merged_are_told_apart_by_the_tolerance() -> None:
    """$156bn and $165bn round to the same two digits but lie 5.5% apart (tolerance 5%)."""
    b = 1e9
    alerted = KnownValue(165 * b, 165 * b, "USD", FEB, "$165 billion", key="k165")
    verdict = compare(fig(156 * b), MAR, [TARGET, alerted], 0.05, fake_usd)
    assert verdict.outcome == "change"
    assert value_key("w", "c", fig(156 * b)) != value_key("w", "c", fig(165 * b))


def test_mixup_never_shares_a_key_with_the_value_it_likely_meant() -> None:
    mixup = value_key("w", "c", fig(9e15, mixup="KRW"))
    assert mixup != value_key("w", "c", fig(9e15, currency="KRW"))


_amounts = st.floats(min_value=1.0, max_value=1e16, allow_nan=False)


@given(low=_amounts, span=st.floats(0, 10), at=st.floats(0, 1))
def test_any_point_of_a_known_range_is_unchanged(low: float, span: float, at: float) -> None:
    high = low * (1 + span)
    known = [KnownValue(low, high, "USD", FEB, "range")]
    point = min(high, max(low, low + (high - low) * at))
    assert compare(fig(point), MAR, known, 0.0, fake_usd).outcome == "unchanged"


@given(amount=_amounts, start=st.integers(0, 10_000), text=st.text(max_size=20))
def test_value_key_ignores_where_and_how_it_was_written(
    amount: float, start: int, text: str
) -> None:
    written = Figure(text, start, start + len(text), amount, amount, "USD")
    assert value_key("w", "c", written) == value_key("w", "c", fig(amount))


def test_was_is_the_stated_value_not_a_nearer_mixup() -> None:
    """The seed's "9천조 달러" (meant in won, ~$6.8T) is nearer to $8T, but "was" is 5조~7조."""
    mixup = KnownValue(9e15, 9e15, "KRW", MAR, "9천조 달러")
    verdict = compare(fig(8 * T), MAR, [TARGET, mixup], 0.05, fake_usd)
    assert verdict.outcome == "change"
    assert verdict.previous == TARGET
    assert verdict.change_pct == pytest.approx((8 / 6 - 1) * 100)


def test_was_is_the_latest_alerted_value_once_there_is_one() -> None:
    eight = KnownValue(8 * T, 8 * T, "USD", date(2024, 2, 20), "$8 trillion", key="k8")
    ten = KnownValue(10 * T, 10 * T, "USD", date(2024, 3, 1), "$10 trillion", key="k10")
    verdict = compare(fig(3 * T), MAR, [TARGET, ten, eight], 0.05, fake_usd)
    assert verdict.outcome == "change"
    assert verdict.previous == ten


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_story_is_compared_with_the_values_known_when_it_was_published() -> None:
    """A 2024 story is not compared with a value reported in 2026."""
    later = KnownValue(9 * T, 9 * T, "USD", date(2026, 5, 1), "$9T", "k9", _at(date(2026, 5, 1)))
    known = [TARGET, later]
    then = known_at(known, _at(MAR))
    assert then == [TARGET]
    verdict = compare(fig(9 * T), MAR, then, 0.05, fake_usd)
    assert (verdict.outcome, verdict.previous) == ("change", TARGET)
    assert known_at(known, _at(date(2026, 6, 1))) == known


def test_an_alerted_value_counts_from_its_articles_hour_not_its_day() -> None:
    morning = KnownValue(8 * T, 8 * T, "USD", MAR, "$8T", "k8", _at(MAR, 15))
    assert known_at([TARGET, morning], _at(MAR, 9)) == [TARGET]
    assert known_at([TARGET, morning], _at(MAR, 16)) == [TARGET, morning]


def test_before_anything_was_on_record_the_stated_values_stand_in() -> None:
    also = KnownValue(9e15, 9e15, "KRW", FEB, "9천조 달러")
    assert known_at([TARGET, also], _at(JAN)) == [TARGET, also]
