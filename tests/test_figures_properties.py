"""Property tests: random amounts rendered in each English and Korean form read back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.figures import extract

_KO_DIGITS = "영일이삼사오육칠팔구"


def _ko_group(n: int, *, arabic_small: bool) -> str:
    """0 < n < 10000 as "2천5백" style (Arabic digits before 천/백/십) or as plain "2500"."""
    if not arabic_small:
        return str(n)
    parts = []
    for unit, size in (("천", 1000), ("백", 100), ("십", 10)):
        digit, n = divmod(n, size)
        if digit:
            parts.append(f"{digit}{unit}")
    if n:
        parts.append(str(n))
    return "".join(parts)


def _hangul_group(n: int) -> str:
    """0 < n < 10000 in Hangul numerals: 2735 -> 이천칠백삼십오 (1 before a unit is dropped)."""
    out = []
    for unit, size in (("천", 1000), ("백", 100), ("십", 10)):
        digit, n = divmod(n, size)
        if digit:
            out.append(("" if digit == 1 else _KO_DIGITS[digit]) + unit)
    if n:
        out.append(_KO_DIGITS[n])
    return "".join(out)


def _ko_number(jo: int, eok: int, man: int, *, spaced: bool, arabic_small: bool) -> str:
    parts = [
        _ko_group(v, arabic_small=arabic_small) + u
        for v, u in ((jo, "조"), (eok, "억"), (man, "만"))
        if v
    ]
    return (" " if spaced else "").join(parts)


groups = st.integers(min_value=0, max_value=9999)


@given(
    groups, groups, groups, st.booleans(), st.booleans(), st.sampled_from(["원", " 원", " 달러"])
)
def test_korean_jo_eok_man(
    jo: int, eok: int, man: int, spaced: bool, arabic_small: bool, unit: str
) -> None:
    value = jo * 10**12 + eok * 10**8 + man * 10**4
    if value == 0:
        return
    text = _ko_number(jo, eok, man, spaced=spaced, arabic_small=arabic_small) + unit
    figs = extract(f"정부는 {text}을 투자한다.")
    assert [(f.text, f.low, f.high) for f in figs] == [(text, value, value)]
    assert figs[0].currency == ("KRW" if "원" in unit else "USD")


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=0, max_value=9999))
def test_hangul_numerals(man: int, rest: int) -> None:
    text = _hangul_group(man) + "만" + (_hangul_group(rest) if rest else "") + "원"
    value = man * 10**4 + rest
    figs = extract(f"가격은 {text}입니다")
    assert [(f.text, f.low, f.currency) for f in figs] == [(text, value, "KRW")]


scales = st.sampled_from(
    [
        ("trillion", 1e12),
        ("tn", 1e12),
        ("trln", 1e12),
        ("billion", 1e9),
        ("bn", 1e9),
        ("bln", 1e9),
        ("million", 1e6),
        ("mln", 1e6),
        ("m", 1e6),
    ]
)
amounts = st.decimals(min_value="0.1", max_value="999.9", places=1).map(str)


@given(amounts, scales, st.sampled_from(["$", "US$", "€", "£", "₩"]), st.booleans())
def test_english_symbol_scale(
    amount: str, scale: tuple[str, float], symbol: str, space: bool
) -> None:
    word, size = scale
    sep = " " if space and len(word) > 2 else ""
    text = f"{symbol}{amount}{sep}{word}"
    figs = extract(f"The fund raised {text} last year.")
    assert [f.text for f in figs] == [text]
    assert figs[0].low == pytest.approx(float(amount) * size, rel=1e-12)


@given(st.integers(min_value=1, max_value=10**13))
def test_english_grouped_digits(n: int) -> None:
    text = f"${n:,}"
    figs = extract(f"It paid {text} in cash.")
    assert [(f.text, f.low) for f in figs] == [(text, float(n))]


@given(
    st.integers(min_value=1, max_value=98),
    st.integers(min_value=1, max_value=98),
    st.sampled_from(
        [
            "$%s-%s trillion",
            "$%stn-$%stn",
            "$%s trillion to $%s trillion",
            "%s~%s조 달러",
            "%s조 달러에서 %s조 달러",
            "%s조-%s조 달러",
        ]
    ),
)
def test_ranges(a: int, b: int, template: str) -> None:
    low, high = sorted((a, a + b))
    text = template % (low, high)
    figs = extract(f"It needs {text} now.")
    assert [(f.text, f.low, f.high) for f in figs] == [(text, low * 1e12, high * 1e12)]


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999))
def test_change_is_two_figures(a: int, b: int) -> None:
    text = f"It cut the plan from ${a} billion to ${b} billion."
    figs = extract(text)
    assert [(f.low, f.role) for f in figs] == [(a * 1e9, "from"), (b * 1e9, "value")]


@given(st.text(max_size=80))
def test_any_text_gives_consistent_spans(text: str) -> None:
    for f in extract(text):
        assert text[f.start : f.end] == f.text
        assert 0 <= f.low <= f.high
        assert len(f.currency) == 3


@given(st.integers(min_value=1, max_value=99), st.sampled_from([" cents", "센트", "¢"]))
def test_cents(n: int, unit: str) -> None:
    text = f"{n}{unit}"
    figs = extract(f"The stock fell {text} on the day.")
    assert [(f.text, f.currency) for f in figs] == [(text, "USD")]
    assert figs[0].low == pytest.approx(n / 100, rel=1e-12)


@given(
    st.sampled_from("일이삼사오육칠팔구십백천만억조"),
    st.sampled_from(["원", "원화", "달러", "유로", "엔", "불"]),
    st.sampled_from(["제", "동", "장", "통", "존"]),
)
def test_one_numeral_syllable_glued_into_a_word_is_not_money(
    numeral: str, unit: str, rest: str
) -> None:
    assert extract(f"그는 {numeral}{unit}{rest} 이야기를 했다") == []
