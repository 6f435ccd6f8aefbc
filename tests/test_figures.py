"""Table-driven tests of `monitor.figures.extract`: every form the issue names, and the
negatives. Each row gives the text and every figure expected in it, field by field."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from monitor.figures import Figure, extract
from tests.needs import shared

T, B, M, K = 1e12, 1e9, 1e6, 1e3
JO, EOK, MAN = 1e12, 1e8, 1e4


@dataclass(frozen=True)
class Want:
    """One expected figure; `high` defaults to `low`."""

    text: str
    low: float
    high: float | None = None
    currency: str = "USD"
    qualifier: str = "exact"
    vague: bool = False
    role: str = "value"
    conversion_of: int | None = None
    mixup: str | None = None


def check(text: str, wants: list[Want], lang: str | None = None) -> None:
    got = extract(text, lang=lang)
    assert [f.text for f in got] == [w.text for w in wants], text
    at = 0
    for f, w in zip(got, wants, strict=True):
        start = text.index(w.text, at)
        at = start + len(w.text)
        assert (f.start, f.end) == (start, at), text
        assert text[f.start : f.end] == f.text
        assert f.low == pytest.approx(w.low, rel=1e-12)
        assert f.high == pytest.approx(w.low if w.high is None else w.high, rel=1e-12)
        assert (f.currency, f.qualifier, f.vague, f.role, f.conversion_of, f.mixup) == (
            w.currency,
            w.qualifier,
            w.vague,
            w.role,
            w.conversion_of,
            w.mixup,
        ), text


# --- English amounts -------------------------------------------------------------------------
EN_AMOUNTS = [
    ("$7 trillion", 7 * T, "USD"),
    ("$7tn", 7 * T, "USD"),
    ("$7T", 7 * T, "USD"),
    ("7 trillion dollars", 7 * T, "USD"),
    ("US$7 trillion", 7 * T, "USD"),
    ("USD 7 trillion", 7 * T, "USD"),
    ("$7-trillion", 7 * T, "USD"),
    ("$1.5bn", 1.5 * B, "USD"),
    ("$250m", 250 * M, "USD"),
    ("$250M", 250 * M, "USD"),
    ("$250 million", 250 * M, "USD"),
    ("$40,000,000,000", 40 * B, "USD"),
    ("$ 75 million", 75 * M, "USD"),
    ("$48.2 million", 48.2 * M, "USD"),
    ("$1.5B", 1.5 * B, "USD"),
    ("$10K", 10 * K, "USD"),
    ("10k$", 10 * K, "USD"),
    ("$2.75", 2.75, "USD"),
    ("$94,000", 94000, "USD"),
    ("7 trillion US dollars", 7 * T, "USD"),
    ("USD115", 115, "USD"),
    ("115USD", 115, "USD"),
    ("usd$ 15", 15, "USD"),
    ("u.s $ 100,000,000", 100 * M, "USD"),
    ("75 USD million", 75 * M, "USD"),
    ("30 MUSD", 30 * M, "USD"),
    ("120 MEUR", 120 * M, "EUR"),
    ("five million yen", 5 * M, "JPY"),
    ("twenty-five billion dollars", 25 * B, "USD"),
    ("a quarter million us dollars", 250 * K, "USD"),
    ("half million usd", 500 * K, "USD"),
    ("three quarters billion us dollars", 750 * M, "USD"),
    ("35 lakh rupees", 3.5 * M, "INR"),
    ("four crore rupees", 40 * M, "INR"),
    ("12,34,567.89 rupees", 1234567.89, "INR"),
    ("$7 trillion-plus", 7 * T, "USD"),
]
# Other currencies.
EN_CURRENCIES = [
    ("€5 million", 5 * M, "EUR"),
    ("EUR 5 million", 5 * M, "EUR"),
    ("5 million euros", 5 * M, "EUR"),
    ("£8.10 million", 8.1 * M, "GBP"),
    ("361 million pounds", 361 * M, "GBP"),
    ("10 pounds sterling", 10, "GBP"),
    ("GBP 350", 350, "GBP"),
    ("¥100 billion", 100 * B, "JPY"),
    ("300 billion yen", 300 * B, "JPY"),
    ("JPY 5 billion", 5 * B, "JPY"),
    ("100 billion yuan", 100 * B, "CNY"),
    ("RMB 5 billion", 5 * B, "CNY"),
    ("40 rmb", 40, "CNY"),
    ("5 billion renminbi", 5 * B, "CNY"),
    ("100元", 100, "CNY"),
    ("₩450 trillion", 450 * T, "KRW"),
    ("450 trillion won", 450 * T, "KRW"),
    ("KRW 5 trillion", 5 * T, "KRW"),
    ("5 trillion Korean won", 5 * T, "KRW"),
    ("C$16.4 million", 16.4 * M, "CAD"),
    ("c $ 1.34", 1.34, "CAD"),
    ("HK$10.05 billion", 10.05 * B, "HKD"),
    ("A$2 billion", 2 * B, "AUD"),
    ("125 million australian dollars", 125 * M, "AUD"),
    ("10,000 swiss francs", 10 * K, "CHF"),
    ("CHF 3.04", 3.04, "CHF"),
    ("₹500 crore", 5 * B, "INR"),
    ("Rs. 20", 20, "INR"),
    ("RM 42", 42, "MYR"),
    ("42 malaysian ringgits", 42, "MYR"),
    ("10 turkish lira", 10, "TRY"),
    ("ten shekels", 10, "ILS"),
    ("42 KWD", 42, "KWD"),
    ("420 million finnish markka", 420 * M, "FIM"),
    ("6.65 billion pesetas", 6.65 * B, "ESP"),
    ("100 ₡", 100, "CRC"),
    ("100,000 ₭", 100 * K, "LAK"),
    ("mex$ 10 million", 10 * M, "MXN"),
    ("NZ$15", 15, "NZD"),
    ("S$3 billion", 3 * B, "SGD"),
]


@pytest.mark.parametrize(("text", "value", "currency"), EN_AMOUNTS + EN_CURRENCIES)
def test_english_amounts(text: str, value: float, currency: str) -> None:
    qualifier = "at_least" if text.endswith("-plus") else "exact"
    check(f"It said {text} on Monday.", [Want(text, value, currency=currency, qualifier=qualifier)])


# --- Korean amounts --------------------------------------------------------------------------
KO_AMOUNTS = [
    ("7조 달러", 7 * JO, "USD"),
    ("7조달러", 7 * JO, "USD"),
    ("9천조 원", 9000 * JO, "KRW"),
    ("9,000조 원", 9000 * JO, "KRW"),
    ("1조 2천억 원", 1.2 * JO, "KRW"),
    ("1조2000억원", 1.2 * JO, "KRW"),
    ("3조 5000억 원", 3.5 * JO, "KRW"),
    ("400억 달러", 400 * EOK, "USD"),
    ("4백억 달러", 400 * EOK, "USD"),
    ("천억 달러", 1000 * EOK, "USD"),
    ("38억7000만 달러", 38.7 * EOK, "USD"),
    ("450만 원", 450 * MAN, "KRW"),
    ("70억불", 70 * EOK, "USD"),
    ("50억 달러", 50 * EOK, "USD"),
    ("9200억 엔", 9200 * EOK, "JPY"),
    ("6억 유로", 6 * EOK, "EUR"),
    ("3440억 위안", 3440 * EOK, "CNY"),
    ("622조원", 622 * JO, "KRW"),
    ("2.5조 원", 2.5 * JO, "KRW"),
    ("7천 5백만 달러", 75 * M, "USD"),
    ("2억 4천 7백만 달러", 247 * M, "USD"),
    ("천 4백만 달러", 14 * M, "USD"),
    ("1천 1백 70만 달러", 11.7 * M, "USD"),
    ("4천 820만 달러", 48.2 * M, "USD"),
    ("1만 2천 345 달러", 12345, "USD"),
    ("30만9천381엔", 309381, "JPY"),
    ("7천5백30만 달러", 75.3 * M, "USD"),
    ("1백억 5천만 홍콩 달러", 10.05 * B, "HKD"),
    ("1억 5천만 미국 달러", 150 * M, "USD"),
    ("3억 캐나다 달러", 300 * M, "CAD"),
    ("5 억 달러", 500 * M, "USD"),
    ("50만 9375달러", 509375, "USD"),
    ("800 달러", 800, "USD"),
    ("2.75 달러", 2.75, "USD"),
    ("1만 스위스 프랑", 10 * K, "CHF"),
    ("5천만 파운드", 50 * M, "GBP"),
    ("100 중국 위안", 100, "CNY"),
    ("27,350,000원", 27.35 * M, "KRW"),
    ("10₩", 10, "KRW"),
    ("$5 billion", 5 * B, "USD"),
    # Hangul numerals, as the peer corpora write them.
    ("이천칠백삼십오만원", 27.35 * M, "KRW"),
    ("이만오천원", 25000, "KRW"),
    ("오천원", 5000, "KRW"),
    ("백원", 100, "KRW"),
    ("만원", 10000, "KRW"),
    ("십달러", 10, "USD"),
    ("만불", 10000, "USD"),
    ("일점이삼달러", 1.23, "USD"),
    ("이십구점구구유로", 29.99, "EUR"),
    ("구파운드", 9, "GBP"),
]


@pytest.mark.parametrize(("text", "value", "currency"), KO_AMOUNTS)
def test_korean_amounts(text: str, value: float, currency: str) -> None:
    check(f"회사는 {text} 규모의 투자를 밝혔다.", [Want(text, value, currency=currency)])


@pytest.mark.parametrize(("text", "value", "currency"), KO_AMOUNTS[:20])
def test_korean_amounts_before_particles(text: str, value: float, currency: str) -> None:
    for particle in ("의", "도", "에", "까지"):
        check(f"{text}{particle} 넘겼다", [Want(text, value, currency=currency)])


def test_prefix_modifier_migwa_is_read_as_usd() -> None:
    check("미화 50억 달러 규모", [Want("50억 달러", 50 * EOK)])


# --- Ranges ----------------------------------------------------------------------------------
RANGES = [
    ("$5 trillion to $7 trillion", 5 * T, 7 * T, "USD"),
    ("$5-7 trillion", 5 * T, 7 * T, "USD"),
    ("$5tn-$7tn", 5 * T, 7 * T, "USD"),
    ("$5 to $7 trillion", 5 * T, 7 * T, "USD"),
    ("$5 billion to 7 billion", 5 * B, 7 * B, "USD"),
    ("5-7 trillion dollars", 5 * T, 7 * T, "USD"),
    ("10-20 dollars", 10, 20, "USD"),
    ("$10-$20", 10, 20, "USD"),
    ("€2bn–€3bn", 2 * B, 3 * B, "EUR"),
    ("5조 달러에서 7조 달러", 5 * JO, 7 * JO, "USD"),
    ("5조~7조 달러", 5 * JO, 7 * JO, "USD"),
    ("5~7조 달러", 5 * JO, 7 * JO, "USD"),
    ("5조-7조 달러", 5 * JO, 7 * JO, "USD"),
    ("5조에서 7조 달러", 5 * JO, 7 * JO, "USD"),
    ("3천억~5천억 원", 3000 * EOK, 5000 * EOK, "KRW"),
    ("3~5천억 원", 3000 * EOK, 5000 * EOK, "KRW"),
    ("25000 - 30000원", 25000, 30000, "KRW"),
    ("25000원 - 30000원", 25000, 30000, "KRW"),
    ("이만오천원 - 삼만원", 25000, 30000, "KRW"),
    ("10달러 - 20달러", 10, 20, "USD"),
    ("1.2조에서 1조 5천억 원", 1.2 * JO, 1.5 * JO, "KRW"),
    ("1 to 2.5 trillion dollars", 1 * T, 2.5 * T, "USD"),
]


@pytest.mark.parametrize(("text", "low", "high", "currency"), RANGES)
def test_ranges(text: str, low: float, high: float, currency: str) -> None:
    check(f"It needs {text} now.", [Want(text, low, high, currency)])


def test_between_and_is_a_range_without_the_word_between() -> None:
    check("between $5tn and $7tn", [Want("$5tn and $7tn", 5 * T, 7 * T)])
    check("between 10 and 20 dollars", [Want("10 and 20 dollars", 10, 20)])
    check("from 10 to 20 dollars", [Want("10 to 20 dollars", 10, 20)])


def test_and_without_between_is_two_figures() -> None:
    check("$5tn and $7tn", [Want("$5tn", 5 * T), Want("$7tn", 7 * T)])


def test_descending_pair_is_not_a_range() -> None:
    check("$7 trillion to $5 trillion", [Want("$7 trillion", 7 * T), Want("$5 trillion", 5 * T)])


def test_year_before_to_is_not_a_range_end() -> None:
    check("It rose in 2020 to $7 billion.", [Want("$7 billion", 7 * B)])


# --- Changes ---------------------------------------------------------------------------------
CHANGES = [
    ("to $37 billion from $44 billion", "$37 billion", 37 * B, "$44 billion", 44 * B, "USD", 1),
    ("cut from $44 billion to $37 billion", "$44 billion", 44 * B, "$37 billion", 37 * B, "USD", 0),
    (
        "now plans $37 billion in Texas through 2030, down from the $44 billion pledged",
        "$37 billion",
        37 * B,
        "$44 billion",
        44 * B,
        "USD",
        1,
    ),
    ("revenue of $5bn, up from $4bn", "$5bn", 5 * B, "$4bn", 4 * B, "USD", 1),
    ("raised its target from $5bn to $7bn", "$5bn", 5 * B, "$7bn", 7 * B, "USD", 0),
    ("increased from €2bn to €3bn", "€2bn", 2 * B, "€3bn", 3 * B, "EUR", 0),
    ("5조 달러에서 7조 달러로 늘렸다", "5조 달러", 5 * JO, "7조 달러", 7 * JO, "USD", 0),
    ("5조 달러에서 7조 달러로 늘린다", "5조 달러", 5 * JO, "7조 달러", 7 * JO, "USD", 0),
    ("3조원에서 2조원으로 줄였다", "3조원", 3 * JO, "2조원", 2 * JO, "KRW", 0),
    ("3조원에서 2조원으로 축소했다", "3조원", 3 * JO, "2조원", 2 * JO, "KRW", 0),
    ("1조원에서 2조원으로 확대한다", "1조원", 1 * JO, "2조원", 2 * JO, "KRW", 0),
    ("1조원에서 2조원으로 상향 조정했다", "1조원", 1 * JO, "2조원", 2 * JO, "KRW", 0),
    ("2조원에서 1조원으로 하향했다", "2조원", 2 * JO, "1조원", 1 * JO, "KRW", 0),
    ("1조원에서 2조원으로 증액했다", "1조원", 1 * JO, "2조원", 2 * JO, "KRW", 0),
    ("2조원에서 1조원으로 감액했다", "2조원", 2 * JO, "1조원", 1 * JO, "KRW", 0),
    (
        "100억 달러에서 200억 달러로 크게 늘렸다",
        "100억 달러",
        100 * EOK,
        "200억 달러",
        200 * EOK,
        "USD",
        0,
    ),
]


@pytest.mark.parametrize(("text", "t1", "v1", "t2", "v2", "currency", "from_index"), CHANGES)
def test_changes_are_two_figures(
    text: str, t1: str, v1: float, t2: str, v2: float, currency: str, from_index: int
) -> None:
    roles = ["value", "value"]
    roles[from_index] = "from"
    check(
        text,
        [
            Want(t1, v1, currency=currency, role=roles[0]),
            Want(t2, v2, currency=currency, role=roles[1]),
        ],
    )


def test_from_to_without_a_change_verb_is_a_range() -> None:
    check("prices ranging from $5 to $7", [Want("$5 to $7", 5, 7)])


# --- Qualifiers ------------------------------------------------------------------------------
EN_QUALIFIERS = [
    ("about", "approx"),
    ("around", "approx"),
    ("roughly", "approx"),
    ("nearly", "approx"),
    ("approximately", "approx"),
    ("almost", "approx"),
    ("an estimated", "approx"),
    ("up to", "at_most"),
    ("as much as", "at_most"),
    ("no more than", "at_most"),
    ("less than", "at_most"),
    ("under", "at_most"),
    ("at most", "at_most"),
    ("more than", "at_least"),
    ("at least", "at_least"),
    ("over", "at_least"),
    ("in excess of", "at_least"),
    ("no less than", "at_least"),
    ("upwards of", "at_least"),
]


@pytest.mark.parametrize(("word", "qualifier"), EN_QUALIFIERS)
def test_english_qualifiers(word: str, qualifier: str) -> None:
    check(f"It raised {word} $5 billion.", [Want("$5 billion", 5 * B, qualifier=qualifier)])


@pytest.mark.parametrize(
    ("text", "fig", "qualifier"),
    [
        ("$1 trillion or more", "$1 trillion", "at_least"),
        ("$1 trillion or less", "$1 trillion", "at_most"),
        ("$1 trillion-plus", "$1 trillion-plus", "at_least"),
        ("$1 trillion+", "$1 trillion+", "at_least"),
        ("$1 trillion plus interest", "$1 trillion", "exact"),  # "plus" apart is a conjunction
    ],
)
def test_english_trailing_qualifiers(text: str, fig: str, qualifier: str) -> None:
    check(text, [Want(fig, 1 * T, qualifier=qualifier)])


KO_QUALIFIERS = [
    ("약 5조 달러", "5조 달러", "approx"),
    ("약5조 달러", "5조 달러", "approx"),
    ("대략 5조 달러", "5조 달러", "approx"),
    ("최대 5조 달러", "5조 달러", "at_most"),
    ("최소 5조 달러", "5조 달러", "at_least"),
    ("적어도 5조 달러", "5조 달러", "at_least"),
    ("5조 달러 이상", "5조 달러", "at_least"),
    ("5조 달러 초과", "5조 달러", "at_least"),
    ("5조 달러를 넘는", "5조 달러", "at_least"),
    ("5조 달러 이하", "5조 달러", "at_most"),
    ("5조 달러 미만", "5조 달러", "at_most"),
    ("5조 달러 이내", "5조 달러", "at_most"),
    ("5조 달러 가량", "5조 달러", "approx"),
    ("5조 달러 안팎", "5조 달러", "approx"),
    ("5조 달러 정도", "5조 달러", "approx"),
]


@pytest.mark.parametrize(("text", "fig", "qualifier"), KO_QUALIFIERS)
def test_korean_qualifiers(text: str, fig: str, qualifier: str) -> None:
    check(f"투자 규모는 {text}다.", [Want(fig, 5 * JO, qualifier=qualifier)])


# --- Vague amounts ---------------------------------------------------------------------------
VAGUE = [
    ("수조 달러", 2 * JO, 9 * JO, "USD"),
    ("수조원", 2 * JO, 9 * JO, "KRW"),
    ("수천억 원", 2000 * EOK, 9000 * EOK, "KRW"),
    ("수백억 원", 200 * EOK, 900 * EOK, "KRW"),
    ("수십억 달러", 20 * EOK, 90 * EOK, "USD"),
    ("수억 원", 2 * EOK, 9 * EOK, "KRW"),
    ("수십조 원", 20 * JO, 90 * JO, "KRW"),
    ("trillions of dollars", 2 * T, 9 * T, "USD"),
    ("billions of dollars", 2 * B, 9 * B, "USD"),
    ("several billion dollars", 2 * B, 9 * B, "USD"),
    ("a few billion euros", 2 * B, 9 * B, "EUR"),
    ("tens of billions of dollars", 10 * B, 90 * B, "USD"),
    ("hundreds of millions of dollars", 100 * M, 900 * M, "USD"),
    ("several hundred million dollars", 200 * M, 900 * M, "USD"),
]


@pytest.mark.parametrize(("text", "low", "high", "currency"), VAGUE)
def test_vague_amounts(text: str, low: float, high: float, currency: str) -> None:
    check(f"It will cost {text} to build.", [Want(text, low, high, currency, vague=True)])


# --- Conversions and mix-ups -----------------------------------------------------------------
def test_conversion_in_parentheses() -> None:
    check(
        "₩450 trillion ($360 billion)",
        [
            Want("₩450 trillion", 450 * T, currency="KRW"),
            Want("$360 billion", 360 * B, conversion_of=0),
        ],
    )


def test_korean_conversion_with_approx() -> None:
    check(
        "7조 달러(약 9천조 원)",
        [
            Want("7조 달러", 7 * JO),
            Want("9천조 원", 9000 * JO, currency="KRW", qualifier="approx", conversion_of=0),
        ],
    )


def test_conversion_after_or() -> None:
    check(
        "about 450 trillion won, or $360 billion",
        [
            Want("450 trillion won", 450 * T, currency="KRW", qualifier="approx"),
            Want("$360 billion", 360 * B, conversion_of=0),
        ],
    )


@pytest.mark.parametrize(
    ("text", "first", "second", "qualifier"),
    [
        ("최대 5조달러 규모(6700조원)의 자금", "5조달러", "6700조원", "exact"),
        ("지원액(5조달러·6700조원)은 컸다", "5조달러", "6700조원", "exact"),
        ("보조금 5조달러(한화 약 6700조원)를 받는다", "5조달러", "6700조원", "approx"),
        ("보조금 5조달러(원화로 6700조원)를 받는다", "5조달러", "6700조원", "exact"),
    ],
)
def test_korean_conversion_forms(text: str, first: str, second: str, qualifier: str) -> None:
    check(
        text,
        [
            Want(first, 5 * JO, qualifier="at_most" if text.startswith("최대") else "exact"),
            Want(second, 6700 * JO, currency="KRW", qualifier=qualifier, conversion_of=0),
        ],
    )


def test_same_currency_in_parentheses_is_not_a_conversion() -> None:
    check("$5 billion ($4 billion net)", [Want("$5 billion", 5 * B), Want("$4 billion", 4 * B)])


@pytest.mark.parametrize("text", ["9천조 달러", "9천 조달러", "9,000조 달러"])
def test_implausible_dollars_are_flagged_as_won(text: str) -> None:
    check(f"샘 알트먼은 {text} 투자를 모으려 한다.", [Want(text, 9e15, mixup="KRW")])


def test_plausible_amounts_are_not_flagged() -> None:
    check("7조 달러 투자", [Want("7조 달러", 7 * JO)])
    check("9천조 원 투자", [Want("9천조 원", 9e15, currency="KRW")])


# --- Hangul numerals need evidence -----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "노조는 임금 체불을 이유로 파업에 들어갔다",  # 이 + 유로
        "인텔은 높은 건설 비용을 이유로 보조금 증액을 요구했다",  # a money word, then 을
        "출근길 만원 버스에 시달렸다",  # 만원: packed full
        "회사는 사원 이원화 제도를 도입했다",  # 이 + 원화
        "조원동 전 경제수석이 법정에 섰다",  # a name
        "이 원화 약세가 수출을 도왔다",  # 이: "this"
        "이 달러 강세는 오래가지 않는다",
        "이런 구조엔 한계가 있다",  # 구조 + 엔 (에는)
        "이천엔 밤새 비가 내렸다",  # a city + 엔 (에는)
    ],
)
def test_hangul_numeral_glued_into_a_word_is_not_money(text: str) -> None:
    assert extract(text) == []


@pytest.mark.parametrize(
    ("text", "fig", "value", "currency"),
    [
        ("입장료는 만원이다", "만원", 10000, "KRW"),  # a money noun before it
        ("단돈 천원에 팔았다", "천원", 1000, "KRW"),
        ("총 만불을 모았다", "만불", 10000, "USD"),
        ("백원짜리 동전을 넣었다", "백원", 100, "KRW"),  # a money word after it
        ("만 원을 냈다", "만 원", 10000, "KRW"),  # a unit spaced as Korean spells amounts
        ("오만 원을 냈다", "오만 원", 50000, "KRW"),  # more than one syllable
        ("만원", "만원", 10000, "KRW"),  # the whole text is the amount
        ("가격은 이천엔이다", "이천엔", 2000, "JPY"),
    ],
)
def test_hangul_numeral_with_evidence_is_money(
    text: str, fig: str, value: float, currency: str
) -> None:
    check(text, [Want(fig, value, currency=currency)])


def test_hangul_numeral_with_a_qualifier_is_money() -> None:
    check("회비는 만원 이하", [Want("만원", 10000, currency="KRW", qualifier="at_most")])


def test_hangul_numeral_in_a_range_is_money() -> None:
    check("입장권은 십달러~이십달러", [Want("십달러~이십달러", 10, 20)])


# --- Abbreviated scales and cents ------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("$66 bln", 66 * B, "USD"),
        ("US$1.2 bln", 1.2 * B, "USD"),
        ("66 bln dollars", 66 * B, "USD"),
        ("$3 mln", 3 * M, "USD"),
        ("$2 trln", 2 * T, "USD"),
        ("$4 bil", 4 * B, "USD"),
        ("$3 mil", 3 * M, "USD"),
        ("€40 mln", 40 * M, "EUR"),
        # "mil" is a thousand in Portuguese and Spanish, which space the symbol or name after
        ("R$ 5 mil", 5 * K, "BRL"),
        ("US$ 5 mil", 5 * K, "USD"),
        ("20 mil euros", 20 * K, "EUR"),
    ],
)
def test_abbreviated_scales(text: str, value: float, currency: str) -> None:
    check(f"The fund agreed a {text} deal on Monday.", [Want(text, value, currency=currency)])


def test_abbreviated_scale_without_currency_is_not_money() -> None:
    assert extract("a coating 5 mil thick") == []


@pytest.mark.parametrize(
    ("text", "fig", "value"),
    [
        ("Earnings rose to 50 cents a share.", "50 cents", 0.5),
        ("Shares closed 1 cent lower.", "1 cent", 0.01),
        ("주가는 99센트로 마감했다", "99센트", 0.99),
        ("Stock fell to $1.50 on Friday.", "$1.50", 1.5),
    ],
)
def test_cents(text: str, fig: str, value: float) -> None:
    check(text, [Want(fig, value)])


def test_cents_without_a_number_is_nothing() -> None:
    assert extract("It costs a few cents more.") == []


# --- Years are not range ends ----------------------------------------------------------------
def test_year_with_nyeon_is_not_a_range_end() -> None:
    check(
        "평균 가격은 176유로에서 2016년까지 114유로로 떨어졌다",
        [Want("176유로", 176, currency="EUR"), Want("114유로", 114, currency="EUR")],
    )


def test_bare_year_is_not_a_range_end() -> None:
    check(
        "Rent rose from $1,500 in 2020 to $2,400 this year.",
        [Want("$1,500", 1500), Want("$2,400", 2400)],
    )


# --- Changes with a qualifier, and earlier values named as such --------------------------------
@pytest.mark.parametrize(
    ("text", "t1", "v1", "t2", "v2", "qualifier"),
    [
        (
            "설비 투자를 기존 250억 달러에서 300억 달러 이상으로 확대하는 것이다",
            "250억 달러",
            250 * EOK,
            "300억 달러",
            300 * EOK,
            "at_least",
        ),
        ("사업비를 당초 2조원에서 3조원 규모로 늘렸다", "2조원", 2 * JO, "3조원", 3 * JO, "exact"),
        ("예산은 1조원에서 2조원 가량으로 늘어난다", "1조원", 1 * JO, "2조원", 2 * JO, "approx"),
    ],
)
def test_korean_change_with_a_qualifier(
    text: str, t1: str, v1: float, t2: str, v2: float, qualifier: str
) -> None:
    currency = "USD" if "달러" in t1 else "KRW"
    check(
        text,
        [
            Want(t1, v1, currency=currency, role="from"),
            Want(t2, v2, currency=currency, qualifier=qualifier),
        ],
    )


@pytest.mark.parametrize(
    "text",
    [
        "기금은 종전 5천억원에서 7천억원으로 바뀌었다",
        "펀드는 기존 5천억원에서 7천억원을 확대한다",
    ],
)
def test_earlier_value_word_makes_a_change(text: str) -> None:
    check(
        text,
        [
            Want("5천억원", 5000 * EOK, currency="KRW", role="from"),
            Want("7천억원", 7000 * EOK, currency="KRW"),
        ],
    )


@pytest.mark.parametrize(
    "text", ["5조원에서 7조원으로 늘어난 예산", "5조원에서 7조원으로 증액된 사업비"]
)
def test_korean_adjectival_change(text: str) -> None:
    check(
        text,
        [Want("5조원", 5 * JO, currency="KRW", role="from"), Want("7조원", 7 * JO, currency="KRW")],
    )


@pytest.mark.parametrize(
    ("text", "t1", "t2", "qualifier"),
    [
        (
            "Intel cut the plan from $40 billion to about $30 billion.",
            "$40 billion",
            "$30 billion",
            "approx",
        ),
        (
            "The fund grew from $40 billion to more than $30 billion.",
            "$40 billion",
            "$30 billion",
            "at_least",
        ),
        ("지원금을 400억 달러에서 약 300억 달러로 줄였다", "400억 달러", "300억 달러", "approx"),
        (
            "예산은 지난해 400억 달러에서 올해 300억 달러로 줄었다",
            "400억 달러",
            "300억 달러",
            "exact",
        ),
    ],
)
def test_change_with_a_qualifier_or_a_time_before_the_new_value(
    text: str, t1: str, t2: str, qualifier: str
) -> None:
    check(text, [Want(t1, 40 * B, role="from"), Want(t2, 30 * B, qualifier=qualifier)])


def test_english_down_from_after_a_comma() -> None:
    check(
        "Capital spending will be $44 billion, down from $45 billion.",
        [Want("$44 billion", 44 * B), Want("$45 billion", 45 * B, role="from")],
    )


# --- Forms seen in real reporting ------------------------------------------------------------
def test_hanja_dollar_in_a_headline() -> None:
    check("보조금 64억弗 받는다", [Want("64억弗", 64 * EOK)])


def test_won_glued_to_garyang() -> None:
    check(
        "보조금이 2조4000억원가량 감소했다",
        [Want("2조4000억원", 2.4 * JO, currency="KRW", qualifier="approx")],
    )


# --- Not money -------------------------------------------------------------------------------
NOT_MONEY = [
    "Shares rose 13% in 2020.",
    "13 percent of the market",
    "2040년까지 반도체 클러스터를 짓는다",
    "It happened in 2020.",
    "13배나 높다",
    "100 times more than expected",
    "20개 공장",
    "36 fabs",
    "1,000 engineers joined",
    "H100 chips",
    "a 3nm process",
    "5G networks",
    "시가총액 1위",
    "a 7 trillion parameter model",
    "9천 조의 투자규모",
    "수천 조를 투자해",
    "All 70 of us.",
    "ALL 5 solutions are wrong.",
    "I tried to call Bob 3 times already.",
    "이 프로젝트는 매우 크다",
    "신입 사원 3명",
    "팀의 일원으로 일했다",
    "이불을 덮고 잤다",
    "엔비디아 3위",
    "연구원 5명이 원인을 찾았다",
    "They paid in 2020 dollars.",
    "The team won 3 games.",
    "He weighs 200 pounds.",
    "It costs 1,015 francs.",
    "470 pence a share",
    "10 dinars",
    "10만 루피",
    "Growth was 7.5 per cent in the 12 months.",
    "the 1990s boom",
    "Europe added 3 plants",
    "brand 5 stores",
    "3 hours later",
]


@pytest.mark.parametrize("text", NOT_MONEY)
def test_not_money(text: str) -> None:
    assert extract(text) == []


def test_figures_mixed_with_non_money_numbers() -> None:
    check(
        "In 2020, 36 fabs cost $40 billion, 13 times the 2019 figure.",
        [Want("$40 billion", 40 * B)],
    )


# --- The seed article ------------------------------------------------------------------------
def test_seed_article() -> None:
    seed = shared("seed", "article-ko-2024-02.txt")
    figs = extract(seed.read_text(encoding="utf-8"), lang="ko")
    summary = [(f.text, f.low, f.high, f.currency, f.vague, f.mixup) for f in figs]
    assert summary == [
        ("9천조 달러", 9e15, 9e15, "USD", False, "KRW"),
        ("9천조 달러", 9e15, 9e15, "USD", False, "KRW"),
        ("5조 달러에서 7조 달러", 5e12, 7e12, "USD", False, None),
        ("1조 달러", 1e12, 1e12, "USD", False, None),
        ("9천조 달러", 9e15, 9e15, "USD", False, "KRW"),
        ("9천조 달러", 9e15, 9e15, "USD", False, "KRW"),
        ("수조 달러", 2e12, 9e12, "USD", True, None),
        ("5조 달러에서 7조 달러", 5e12, 7e12, "USD", False, None),
        ("1조 달러", 1e12, 1e12, "USD", False, None),
        ("수조 달러", 2e12, 9e12, "USD", True, None),
        ("9천 조달러", 9e15, 9e15, "USD", False, "KRW"),
        ("622조원", 622e12, 622e12, "KRW", False, None),
        ("9조 달러", 9e12, 9e12, "USD", False, None),
        ("450만 원", 4.5e6, 4.5e6, "KRW", False, None),
        ("400억 달러", 4e10, 4e10, "USD", False, None),
    ]
    assert figs[10].qualifier == "exact"


# --- API -------------------------------------------------------------------------------------
def test_lang_en_skips_korean_forms() -> None:
    assert extract("7조 달러", lang="en") == []
    assert [f.text for f in extract("$7tn", lang="en")] == ["$7tn"]


def test_unknown_lang_is_an_error() -> None:
    with pytest.raises(ValueError, match="lang"):
        extract("$5", lang="fr")


def test_figures_are_frozen() -> None:
    fig = extract("$5 billion")[0]
    assert isinstance(fig, Figure)
    with pytest.raises(AttributeError):
        fig.low = 1.0  # type: ignore[misc]


def test_empty_and_whitespace() -> None:
    assert extract("") == []
    assert extract("   \n") == []


def test_a_korean_change_reads_past_a_conversion() -> None:
    text = "보조금은 68억 유로에서 99억 유로(108억 달러)로 늘어났다"
    got = [(f.text, f.role, f.conversion_of) for f in extract(text)]
    assert got == [
        ("68억 유로", "from", None),
        ("99억 유로", "value", None),
        ("108억 달러", "value", 1),
    ]
