"""Stage Figure: read the money figures out of a text, in Korean and English.

Pure: no I/O. `extract(text)` returns every money figure with its span, its value in
the currency's own units, its currency and how the writer qualified it.

How it reads: a number (Arabic digits with an English scale word, Korean digit and unit
groups such as "1조 2천억", Hangul numerals such as "이천칠백삼십오만", a few English
number words, or a vague magnitude such as "수조" or "trillions of") becomes money only
when a currency marker sits right before or after it. Neighbouring figures are then
joined into ranges, marked as the two ends of a change, or linked as conversions.
See docs/figures.md for the forms and the rules.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Literal

Qualifier = Literal["exact", "approx", "at_most", "at_least"]
Role = Literal["value", "from"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One money figure as written. `low == high` for a point amount."""

    text: str
    start: int
    end: int
    low: float
    high: float
    currency: str  # ISO 4217
    qualifier: Qualifier = "exact"
    vague: bool = False  # "수조 달러", "trillions of dollars": low/high only bound the magnitude
    role: Role = "value"  # "from": the earlier figure of a change ("cut from $44bn to $37bn")
    conversion_of: int | None = (
        None  # index, in the same extract() list, of the figure this converts
    )
    mixup: str | None = None  # ISO code the writer most likely meant, when implausible as written


# ---------------------------------------------------------------------------------------------
# Currency markers. Every figure needs one, so they also drive the cheap pre-check.

# Codes read in any case. Codes that are also common words or names (ALL, TOP, CUP, COP, RON,
# TRY, PHP) are left out of this set: "All 70 of us" must not become Albanian lek.
_CODES = [
    "usd",
    "eur",
    "gbp",
    "jpy",
    "krw",
    "cny",
    "rmb",
    "chf",
    "cad",
    "aud",
    "nzd",
    "hkd",
    "sgd",
    "inr",
    "twd",
    "sek",
    "nok",
    "dkk",
    "mxn",
    "brl",
    "rub",
    "zar",
    "pln",
    "thb",
    "idr",
    "myr",
    "vnd",
    "sar",
    "aed",
    "kwd",
    "qar",
    "egp",
    "lbp",
    "bgn",
    "uah",
    "mnt",
    "czk",
    "huf",
    "isk",
    "kzt",
    "ngn",
    "pkr",
    "ils",
    "clp",
    "ars",
    "lak",
    "gel",
    "crc",
]
_UPPER_CODES = ("TRY", "PHP", "RON")
_ISO_ALIAS = {"RMB": "CNY"}

# Symbols that follow or precede a number; "$" alone is the US dollar, as news uses it.
_SYMBOLS = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "円": "JPY",
    "元": "CNY",
    "₩": "KRW",
    "₹": "INR",
    "₽": "RUB",
    "₺": "TRY",
    "₱": "PHP",
    "₪": "ILS",
    "₫": "VND",
    "₦": "NGN",
    "₴": "UAH",
    "₡": "CRC",
    "₾": "GEL",
    "₭": "LAK",
    "₮": "MNT",
    "฿": "THB",
    "ரூ": "LKR",
}
# Letters written in front of "$" ("US$", "C$", "HK$", "usd$").
_DOLLAR_PREFIX = {
    "us": "USD",
    "u.s.": "USD",
    "u.s": "USD",
    "usd": "USD",
    "c": "CAD",
    "ca": "CAD",
    "cad": "CAD",
    "au": "AUD",
    "aud": "AUD",
    "hk": "HKD",
    "hkd": "HKD",
    "nz": "NZD",
    "nzd": "NZD",
    "sg": "SGD",
    "sgd": "SGD",
    "nt": "TWD",
    "mex": "MXN",
    "mx": "MXN",
    "mxn": "MXN",
}
# One capital glued to "$" only: "a $300 million contract" is the article, not A$.
_DOLLAR_LETTER = {"A": "AUD", "S": "SGD", "R": "BRL"}
# English currency names after a number. Bare "francs", "dinars", "riyals", "pesos", "lira"
# name several currencies and are not read; the country-qualified forms are.
_EN_NAMES = {
    "dollar": "USD",
    "us dollar": "USD",
    "u.s. dollar": "USD",
    "american dollar": "USD",
    "canadian dollar": "CAD",
    "australian dollar": "AUD",
    "hong kong dollar": "HKD",
    "new zealand dollar": "NZD",
    "singapore dollar": "SGD",
    "taiwan dollar": "TWD",
    "new taiwan dollar": "TWD",
    "euro": "EUR",
    "pound sterling": "GBP",
    "british pound": "GBP",
    "sterling": "GBP",
    "yen": "JPY",
    "japanese yen": "JPY",
    "yuan": "CNY",
    "chinese yuan": "CNY",
    "renminbi": "CNY",
    "won": "KRW",
    "korean won": "KRW",
    "swiss franc": "CHF",
    "french franc": "FRF",
    "rupee": "INR",
    "indian rupee": "INR",
    "ruble": "RUB",
    "rouble": "RUB",
    "mexican peso": "MXN",
    "philippine peso": "PHP",
    "ringgit": "MYR",
    "malaysian ringgit": "MYR",
    "malaysia ringgit": "MYR",
    "saudi riyal": "SAR",
    "saudiriyal": "SAR",
    "qatari riyal": "QAR",
    "kuwaiti dinar": "KWD",
    "shekel": "ILS",
    "lebanese pound": "LBP",
    "egyptian pound": "EGP",
    "egyptianpound": "EGP",
    "turkish lira": "TRY",
    "rand": "ZAR",
    "baht": "THB",
    "rupiah": "IDR",
    "brazilian real": "BRL",
    "zloty": "PLN",
    "forint": "HUF",
    "hryvnia": "UAH",
    "naira": "NGN",
    "tugrik": "MNT",
    "finnish markka": "FIM",
    "markka": "FIM",
    "peseta": "ESP",
    "dutch guilder": "NLG",
    "guilder": "NLG",
    "swedish krona": "SEK",
    "norwegian krone": "NOK",
    "danish krone": "DKK",
    "dirham": "AED",
}
_KO_NAMES = {
    "달러": "USD",
    "불": "USD",
    "弗": "USD",  # the Hanja, in headlines: "64억弗"
    "미국달러": "USD",
    "미달러": "USD",
    "캐나다달러": "CAD",
    "호주달러": "AUD",
    "홍콩달러": "HKD",
    "싱가포르달러": "SGD",
    "대만달러": "TWD",
    "뉴질랜드달러": "NZD",
    "원": "KRW",
    "원화": "KRW",
    "엔": "JPY",
    "엔화": "JPY",
    "유로": "EUR",
    "유로화": "EUR",
    "위안": "CNY",
    "위안화": "CNY",
    "중국위안": "CNY",
    "파운드": "GBP",
    "영국파운드": "GBP",
    "스위스프랑": "CHF",
    "루블": "RUB",
    "링깃": "MYR",
    "바트": "THB",
    "멕시코페소": "MXN",
    "터키리라": "TRY",
    "헤알": "BRL",
    "인도루피": "INR",
    "킵": "LAK",
    "라리": "GEL",
    "콜론": "CRC",
    "페세타": "ESP",
    "마르카": "FIM",
    "핀란드마르카": "FIM",
    "휠던": "NLG",
    "네덜란드휠던": "NLG",
    "디르함": "AED",
    "리얄": "SAR",
}


def _trie(words: list[str]) -> str:
    """An alternation factored by common prefix, so `re` tries one branch per character."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


def _alt(words: list[str]) -> str:
    """Regex alternation, longest first so "hong kong dollars" wins over "dollars"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_EN_LAST_WORDS = {name.split()[-1] for name in _EN_NAMES} | {"pound"}
_EN_NAME_RE = _alt([n.replace(" ", "\0") for n in _EN_NAMES]).replace("\0", r"\s")
_KO_COUNTRY = (
    "미국|미|캐나다|호주|홍콩|싱가포르|대만|뉴질랜드|중국|영국|스위스|멕시코"
    "|터키|인도|핀란드|네덜란드"
)
_KO_UNIT = (
    # 원, 불 and 엔 also start common words (원인, 불만, 엔비디아): those words are excluded.
    r"달러|弗|불(?![가-힣])|불(?=[을를의에은는도로]|이(?!익)|까지)|원화"
    r"|원(?!인|칙|자|전|료|유|래|하|장|작|고|가(?!량)|조|소|론|리|본|룸|두|형|숭|산|정(?!도)|주|천)"
    r"|엔화|엔(?!비디아|진|터|지|씨|젤|딩|트|데)|유로화|유로|위안화|위안|파운드|프랑|루블|링깃|바트|페소|리라|헤알"
    r"|루피|킵|라리|콜론|페세타|마르카|휠던|디르함|리얄"
)
_KO_AFTER_SPACED_DIGITS = re.compile(rf"\s?(?:[십백천만억조경]|{_KO_UNIT})")
_SYMBOL_RE = _alt(list(_SYMBOLS))
_CODE_RE = rf"(?i:{_alt(_CODES)})|{_alt(list(_UPPER_CODES))}"

# After a number: "$7tn" has none; "7 trillion dollars", "7조 달러", "75 USD million", "30 MUSD".
_SUFFIX = re.compile(
    rf"""
    (?P<gap>\s?-?\s?)
    (?:
        (?P<en>(?:{_EN_NAME_RE}|pound)(?:e?s)?(?:\s+sterling)?)\b
      | (?P<mcode>M(?:{_CODE_RE}))\b
      | (?P<dp>{_alt(list(_DOLLAR_PREFIX))})\$
      | (?P<rs>Rs\.?|RM)\b
      | (?P<code>{_CODE_RE})(?![\w$])(?:\s(?P<scale>trillion|billion|million)\b)?
      | (?P<ko>(?:(?:{_KO_COUNTRY})\s?)?(?:{_KO_UNIT}))
      | (?P<sym>{_SYMBOL_RE})(?!\d)
      | (?P<cent>cents?\b|센트|¢)
    )
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Before a number: "$", "US$", "c $", "USD ", "EUR", "Rs.", "RM", "MAUD ", "₩".
_PREFIX = re.compile(
    rf"""
    (?:
        (?<![A-Za-z.])(?P<dp>{_alt(list(_DOLLAR_PREFIX))})\s?\$
      | (?<![A-Za-z.])(?-i:(?P<letter>[ASR]))\$
      | (?P<sym>{_SYMBOL_RE})
      | (?<![A-Za-z])(?P<mcode>M(?:{_CODE_RE}))
      | (?<![A-Za-z])(?P<code>{_CODE_RE})
      | (?<![A-Za-z])(?P<rs>Rs\.?|RM)
      | (?<![A-Za-z])(?P<en>ringgit|malaysian?\sringgits?)
    )
    \s?\Z
    """,
    re.VERBOSE | re.IGNORECASE,
)
_PREFIX_REACH = 20
_YEAR = re.compile(r"(?:19|20)\d\d")
_IN_YEAR = re.compile(r"\b(?:in|constant|real|of)\s\Z", re.IGNORECASE)
_YEAR_AFTER = re.compile(r"\s?년")
# Currencies whose own writers mean a thousand by "mil" even in "R$5 mil".
_MIL_THOUSAND = {"BRL", "MXN", "ARS", "CLP"}
_PREFIX_LAST = {"$", "."} | {s[-1] for s in _SYMBOLS}
_PREFIX_WORDS = (
    {c.lower() for c in (*_CODES, *_UPPER_CODES)}
    | {"m" + c.lower() for c in (*_CODES, *_UPPER_CODES)}
    | {"rs", "rm", "ringgit", "ringgits"}
)
_LAST_WORD = re.compile(r"[A-Za-z]+\Z")

# ---------------------------------------------------------------------------------------------
# Numbers.

_EN_SCALES = {
    "trillion": 1e12,
    "tn": 1e12,
    "trn": 1e12,
    "trln": 1e12,
    "t": 1e12,
    "billion": 1e9,
    "bn": 1e9,
    "bln": 1e9,
    "bil": 1e9,
    "b": 1e9,
    "million": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "mil": 1e6,
    "m": 1e6,
    "thousand": 1e3,
    "k": 1e3,
    "lakh": 1e5,
    "lakhs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
}
_EN_SCALE = re.compile(
    r"\s?-?\s?(?P<w>trillion|billion|million|thousand|lakhs?|crores?|trln|trn|tn|bln|bil|bn|mln|mil|mn)\b"
    r"|(?P<a>[TBMKkmb])(?![\w])",
    re.IGNORECASE,
)
_ARABIC = re.compile(
    r"\d{1,2}(?:,\d\d)+,\d{3}(?:\.\d+)?(?![\d,])"  # Indian grouping: 12,34,567.89
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
)
_KO_SMALL = {"십": 10.0, "백": 100.0, "천": 1000.0}
_KO_LARGE = {"만": 1e4, "억": 1e8, "조": 1e12, "경": 1e16}
_KO_DIGIT = {
    "영": 0,
    "일": 1,
    "이": 2,
    "삼": 3,
    "사": 4,
    "오": 5,
    "육": 6,
    "칠": 7,
    "팔": 8,
    "구": 9,
}
_KO_TOKEN = re.compile(
    r"(?P<sp>\s?)(?:(?P<d>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"|(?P<h>[일이삼사오육칠팔구])(?:[점쩜](?P<hf>[영일이삼사오육칠팔구]+))?|(?P<s>[십백천])|(?P<l>[만억조경]))"
)
_EN_WORD_VALUES = {
    w: float(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
} | {
    w: float(10 * i)
    for i, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 2
    )
}
_EN_WORD = re.compile(
    rf"(?P<frac>(?:a\s)?quarter|half|three\squarters)\s(?=trillion|billion|million)"
    rf"|(?P<n>{_alt(list(_EN_WORD_VALUES))})(?:-(?P<n2>{_alt(list(_EN_WORD_VALUES)[1:10])}))?"
    r"(?P<h>\shundred)?",
    re.IGNORECASE,
)
_FRACTIONS = {"quarter": 0.25, "a quarter": 0.25, "half": 0.5, "three quarters": 0.75}

# Vague magnitudes: 수조 = 2..9 x 조; "tens of billions" = 10..90 x billion.
_KO_VAGUE = re.compile(r"수\s?(?P<s>[십백천])?\s?(?P<l>[만억조])")
_EN_VAGUE = re.compile(
    r"(?P<q>several\shundred|a\sfew\shundred|several|a\sfew|a\scouple\sof|tens\sof|hundreds\sof)?"
    r"\s?(?P<s>trillion|billion|million)(?P<pl>s)?(?:\sof)?(?=\s)",
    re.IGNORECASE,
)
_EN_VAGUE_FACTOR = {
    "": (2.0, 9.0),
    "several": (2.0, 9.0),
    "a few": (2.0, 9.0),
    "a couple of": (2.0, 3.0),
    "tens of": (10.0, 90.0),
    "hundreds of": (100.0, 900.0),
    "several hundred": (200.0, 900.0),
    "a few hundred": (200.0, 900.0),
}

# Where a number may start: a digit, a Hangul numeral starting a word, or an English number
# word. One cheap character-class search finds the first two; the words are found on the
# lower-cased text through a prefix-factored alternation, which `re` scans quickly.
_START = re.compile(r"\d(?<![\d.,]\d)|[일이삼사오육칠팔구십백천만억조수](?<![가-힣][가-힣])")
# A Hangul numeral must lead to digits, a large unit or a currency: "이사회", "만들다" do not.
_KO_START = re.compile(
    r"수\s?[십백천]?\s?[만억조]|[일이삼사오육칠팔구십백천만억조][일이삼사오육칠팔구십백천만억조점쩜]*\s?(?=\d|"
    + _KO_UNIT
    + r"|[만억조])"
)
_NUMBER_WORDS = [
    *("several", "a few", "a couple", "tens", "hundreds", "trillions", "billions", "millions"),
    *_FRACTIONS,
    *(word for word in _EN_WORD_VALUES if word != "zero"),
]
_START_WORD = re.compile(_trie(_NUMBER_WORDS) + r"\b")
# Cheap pre-check on the lower-cased text: a sentence without any currency marker holds no
# figure. A superset ("won" the verb passes); the real tests come after. A Korean unit must
# follow a digit, a space, a numeral or a hyphen ("조원", "5-달러", not "연구원"); a Latin
# word must start a word (`m` may lead it: "musd") and end one, after an optional plural
# ("cents", not "centre": _SUFFIX and _PREFIX read a name, code, "rs" or "cent" only before
# a non-letter); a symbol may stand anywhere.
#
# `re` tries a pattern at every position unless the pattern starts with a character class or
# with literals, when it skips in C to the positions that can start a match. So the markers
# are split by the class of text they occur in, each written to start with such a prefix:
_KO_MARKERS = [*_KO_NAMES, "프랑", "페소", "리라", "루피", "센트"]
_LATIN_MARKERS = [*_EN_LAST_WORDS, "cent", "rs", "rm"]
_LATIN_MARKERS += [c.lower() for c in (*_CODES, *_UPPER_CODES)]
_LATIN_END = "(?:e?s)?(?![a-z])"
# In ASCII text: a non-letter that is `$` or comes before a Latin marker. Run on " " + text,
# so that the first word has a non-letter before it too; `[^a-z]` stops only at spaces,
# digits and punctuation.
_ASCII_MARKER = re.compile(rf"[^a-z](?:(?<=\$)|m?(?:{_trie(_LATIN_MARKERS)}){_LATIN_END})")


def _whole_words(words: list[str]) -> str:
    """`words` each as a whole word, one branch per first letter, each branch starting with
    that letter: in text with few Latin letters, `re` skips straight to them."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    return "|".join(
        f"{c}(?<![a-z]{c}){_trie(rest)}{_LATIN_END}" for c, rest in sorted(by_first.items())
    )


# In other text: any symbol or Latin marker, every branch starting with a literal ...
_SYMBOL_OR_LATIN_MARKER = re.compile(
    "|".join(re.escape(symbol) for symbol in (*_SYMBOLS, "¢"))
    + "|"
    + _whole_words([*_LATIN_MARKERS, *("m" + word for word in _LATIN_MARKERS)])
)
# ... or a Korean marker (all are non-ASCII), after the first character class that may lead it.
_KO_DIGIT_CLASS = "일이삼사오육칠팔구"
_KOREAN_MARKER = re.compile(
    rf"[-\d\s십백천만억조경점쩜{_KO_DIGIT_CLASS}](?:"
    rf"(?<=[-\d\s십백천만억조경])(?:{_trie(_KO_MARKERS)})"
    rf"|(?<=[{_KO_DIGIT_CLASS}])(?:{_trie([name for name in _KO_MARKERS if len(name) > 1])})"
    rf"|[{_KO_DIGIT_CLASS}][원불엔])"
)


def _has_currency_marker(lower: str) -> bool:
    """Whether the lower-cased text holds any currency marker (the pre-check above)."""
    if lower.isascii():
        return _ASCII_MARKER.search(" " + lower) is not None
    return (
        _SYMBOL_OR_LATIN_MARKER.search(lower) is not None
        or _KOREAN_MARKER.search(lower) is not None
    )


# ---------------------------------------------------------------------------------------------
# Qualifiers, changes, conversions.

_QUAL_BEFORE = re.compile(
    r"""(?:
        (?P<approx>\b(?:about|around|approximately|approx\.|roughly|nearly|almost|some|circa
            |an\sestimated|estimated)|~|(?<![가-힣])(?:약|대략|거의))
      | (?P<at_most>\b(?:up\sto|as\smuch\sas|as\smany\sas|at\smost|no\smore\sthan|less\sthan
            |fewer\sthan|under|below|lower\sthan|(?:a\s)?maximum\sof)|(?<![가-힣])최대)
      | (?P<at_least>\b(?:more\sthan|at\sleast|over|above|in\sexcess\sof|exceeding|exceeds?|exceeded
            |no\sless\sthan|upwards\sof|(?:a\s)?minimum\sof)|(?<![가-힣])(?:최소|적어도))
    )\s?\Z""",
    re.VERBOSE | re.IGNORECASE,
)
_QUAL_REACH = 24
_QUAL_AFTER = re.compile(
    r"""(?:
        (?P<at_least>\s?(?:이상|초과|[을를이가]?\s?(?:넘는|넘게|넘어|넘은|웃도는))|\sor\smore\b)
      | (?P<at_most>\s?(?:이하|미만|이내)|\sor\sless\b)
      | (?P<approx>\s?(?:가량|안팎|내외|정도|남짓|쯤))
    )""",
    re.VERBOSE | re.IGNORECASE,
)
# Evidence that a Hangul numeral is an amount: a money word or qualifier before it ("입장료는
# 만원", "단돈 천원"), or a word after it that only amounts take ("백원짜리", "만원 규모").
_KO_MONEY_BEFORE = re.compile(
    r"(?:(?<![가-힣])(?:약|대략|총|최대|최소|무려|단돈|불과|고작)|가격|금액|비용|요금|값|액수|예산|료)"
    # Not the object particles 을/를: "비용을 이유로" (for the reason of cost) is no price.
    r"(?:[은는이가도만]|으로|로)?\s?\Z"
)
_KO_MONEY_AFTER = re.compile(r"\s?(?:규모|짜리|어치|상당|씩)")
_PLUS = re.compile(r"-?plus\b|\+", re.IGNORECASE)
_RANGE_JOIN = re.compile(
    r"\s?(?:(?P<dash>[-–—~∼〜])|(?P<to>to|and)|(?P<eso>에서|부터))\s?", re.IGNORECASE
)
_BETWEEN = re.compile(r"\b(?:between|from)\s\Z", re.IGNORECASE)
_FROM_BEFORE = re.compile(r"\bfrom\s\Z", re.IGNORECASE)
_EN_CHANGE_VERB = re.compile(
    r"\b(?:cut|cuts|slash(?:ed|es)?|trim(?:med|s)?|reduc(?:e|ed|es|ing)|lower(?:ed|s|ing)?|rais(?:e|ed|es|ing)"
    r"|increas(?:e|ed|es|ing)|boost(?:ed|s|ing)?|lift(?:ed|s|ing)?|r[oi]se|rose|rising|grew|grow(?:s|n|ing)?"
    r"|fell|fall(?:s|en|ing)?|drop(?:ped|s|ping)?|decreas(?:e|ed|es|ing)|expand(?:ed|s|ing)?"
    r"|shr[ua]nk|shrink(?:s|ing)?|revis(?:e|ed|es|ing)|scal(?:e|ed|es|ing)|jump(?:ed|s)?|climb(?:ed|s)?"
    r"|doubl(?:e|ed|es)|halv(?:e|ed|es)|upped|hik(?:e|ed|es))\b[^.;]{0,60}\Z",
    re.IGNORECASE,
)
_TO_FROM = re.compile(r"\s?from\s?", re.IGNORECASE)
# "$37 billion in Texas through 2030, down from the $44 billion": the later figure comes first.
_DOWN_FROM = re.compile(
    r"[^.;!?]{0,80}?\b(?:down|up)\s+from\s+(?:the\s+|its\s+|an?\s+)?", re.IGNORECASE
)
# "Y로", "Y 이상으로", and a conversion between: "99억 유로(108억 달러)로 늘어난".
_KO_TO = re.compile(
    r"\s?(?:[(（][^()（）]{0,40}[)）]\s?)?"
    r"(?:(?:이상|이하|미만|초과|이내|가량|정도|규모|수준|안팎|내외|남짓|쯤)\s?)?(?:으로|로)"
)
# "기존 170억 달러에서 400억 달러": a value named as the earlier one starts a change.
_KO_EARLIER = re.compile(r"(?<![가-힣])(?:기존|당초|종전|종래|애초)(?:의|에는)?\s?(?:약\s?)?\Z")
_KO_NOW = re.compile(r"(?<![가-힣])(?:올해|금년|내년|현재|이번에)\s?\Z")
_KO_CHANGE_VERB = re.compile(
    r"\s?(?:[가-힣]+\s){0,2}?(?:늘|줄|확대|축소|상향|하향|증액|감액|인상|인하|증가|감소|올렸|올린|올리|올려"
    r"|내렸|내린|내리|낮춰|낮췄|낮춘|낮추|높였|높인|높이|높여|불어|삭감|깎|조정|변경|바뀌|바꿔|바꿨|바꾸|바꾼)"
)
# "7조달러 규모(약 9331조원)", "(85억 달러·11조 8000억 원)", "(한화 약 6조8778억원)".
_CONVERSION_JOIN = re.compile(
    r"\s?(?:규모|수준)?(?:\(|·|,\s?or\s|,\s?또는\s)\s?(?:(?:한화|원화)(?:로|으로)?\s?)?"
    r"(?:약|about|around|roughly|approximately|some|or\s)?\s?",
    re.IGNORECASE,
)

# Suspected mix-ups: a figure worth more than five years of world GDP (~5e14 USD) is not a
# funding figure. Rough units per US dollar, for this test only (not for conversion).
_ROUGH_PER_USD = {"USD": 1.0, "EUR": 0.9, "GBP": 0.8, "CHF": 0.9, "CAD": 1.35, "AUD": 1.5}
_IMPLAUSIBLE_USD = 5e14
_KRW_PER_USD = 1350.0


@dataclass(slots=True)
class _Num:
    """A number before its currency is known."""

    start: int
    end: int
    low: float
    high: float
    mult: float = 1.0  # scale after a lone leading number: 1e12 for "7조", 1e9 for "7bn"
    vague: bool = False
    scaled: bool = False  # has an English scale word, so "pounds" cannot be a weight
    mil: bool = False  # scaled by "mil", read as a million until _mil says otherwise
    hangul: bool = False  # Hangul numerals only ("만", "이천"), no digits


@dataclass(slots=True)
class _Money:
    """A figure being built; becomes a `Figure` at the end of `extract`."""

    start: int
    end: int
    low: float
    high: float
    currency: str
    mult: float = 1.0
    vague: bool = False
    weak: bool = False  # a Hangul numeral with no evidence yet that it is money (see _weak)
    qualifier: Qualifier = "exact"
    role: Role = "value"
    conversion_of: int | None = None


def _float(digits: str) -> float:
    return float(digits.replace(",", ""))


def _hangul_digits(digit: str, fraction: str | None) -> float:
    value = float(_KO_DIGIT[digit])
    if fraction:
        value += float("0." + "".join(str(_KO_DIGIT[c]) for c in fraction))
    return value


def _read_korean(text: str, pos: int) -> tuple[float, int, float] | None:
    """Korean digit/unit groups from `pos`: "1조 2천억", "38억7000만", "이천칠백삼십오만".

    Returns (value, end, mult) or None when no Korean unit is read. `mult` is the scale of a
    lone leading number ("7천억" -> 1e11), 1.0 when there is none.
    """
    total = group = 0.0
    pending: float | None = None
    last_large = float("inf")
    end = pos
    prev = ""  # kind of the previous token: d(igits), h(angul digit), s(mall unit), l(arge unit)
    numbers: list[float] = []
    while (m := _KO_TOKEN.match(text, end)) is not None:
        spaced = bool(m.group("sp"))
        if m.group("d") is not None:
            if pending is not None or prev == "h" or (spaced and prev not in ("s", "l")):
                break
            if spaced and _KO_AFTER_SPACED_DIGITS.match(text, m.end()) is None:
                break  # "5억 2020년": the year is not part of the amount
            pending = _float(m.group("d"))
            numbers.append(pending)
        elif m.group("h") is not None:
            if pending is not None or spaced or prev == "d":
                break
            pending = _hangul_digits(m.group("h"), m.group("hf"))
            numbers.append(pending)
        elif m.group("s") is not None:
            if spaced and prev not in ("d", "s", "l"):
                break
            group += (1.0 if pending is None else pending) * _KO_SMALL[m.group("s")]
            pending = None
        else:
            unit = _KO_LARGE[m.group("l")]
            if unit >= last_large or (spaced and prev not in ("d", "s", "l")):
                break
            total += (group + (pending or 0.0) or 1.0) * unit
            group, pending, last_large = 0.0, None, unit
        prev = "d" if m.group("d") else "h" if m.group("h") else "s" if m.group("s") else "l"
        end = m.end()
    if prev in ("", "d", "h") and total == group == 0.0:
        return None
    value = total + group + (pending or 0.0)
    mult = value / numbers[0] if len(numbers) == 1 and pending is None and numbers[0] else 1.0
    return value, end, mult


def _read_number(text: str, pos: int, korean: bool) -> _Num | None:
    """The number starting at `pos`, in whichever form it is written."""
    first = text[pos]
    if first.isdigit():
        if korean and (ko := _read_korean(text, pos)) is not None:
            return _Num(pos, ko[1], ko[0], ko[0], ko[2])
        m = _ARABIC.match(text, pos)
        assert m is not None  # _START only stops at a digit here
        value = _float(m.group())
        s = _EN_SCALE.match(text, m.end())
        if s is None:
            return _Num(pos, m.end(), value, value)
        word = (s.group("w") or s.group("a")).lower()
        unit = _EN_SCALES[word]
        return _Num(pos, s.end(), value * unit, value * unit, unit, scaled=True, mil=word == "mil")
    if "\uac00" <= first <= "\ud7a3":
        if not korean:
            return None
        if first == "수":
            v = _KO_VAGUE.match(text, pos)
            if v is None:
                return None
            unit = _KO_LARGE[v.group("l")] * (_KO_SMALL[v.group("s")] if v.group("s") else 1.0)
            return _Num(pos, v.end(), 2 * unit, 9 * unit, unit, vague=True)
        if (ko := _read_korean(text, pos)) is not None:
            hangul = not any(c.isdigit() for c in text[pos : ko[1]])
            return _Num(pos, ko[1], ko[0], ko[0], hangul=hangul)
        h = _KO_TOKEN.match(text, pos)  # a lone Hangul digit: "구파운드", "일점이삼달러"
        if h is None or h.group("h") is None:
            return None
        value = _hangul_digits(h.group("h"), h.group("hf"))
        return _Num(pos, h.end(), value, value, 0.0, hangul=True)
    vague = _EN_VAGUE.match(text, pos)
    if vague is not None and (vague.group("q") or vague.group("pl")):
        lo, hi = _EN_VAGUE_FACTOR[" ".join((vague.group("q") or "").lower().split())]
        unit = _EN_SCALES[vague.group("s").lower()]
        return _Num(pos, vague.end(), lo * unit, hi * unit, unit, vague=True, scaled=True)
    w = _EN_WORD.match(text, pos)
    if w is None:
        return None
    if w.group("frac"):
        value = _FRACTIONS[" ".join(w.group("frac").lower().split())]
    else:
        value = _EN_WORD_VALUES[w.group("n").lower()]
        if w.group("n2"):
            value += _EN_WORD_VALUES[w.group("n2").lower()]
        if w.group("h"):
            value *= 100
    s = _EN_SCALE.match(text, w.end())
    if s is not None and s.group("w"):
        unit = _EN_SCALES[s.group("w").lower()]
        return _Num(pos, s.end(), value * unit, value * unit, unit, scaled=True)
    return _Num(pos, w.end(), value, value)


def _iso(code: str) -> str:
    code = code.upper()
    return _ISO_ALIAS.get(code, code)


def _suffix_currency(text: str, num: _Num) -> tuple[str, int, float] | None:
    """(ISO code, end, extra scale) for a currency written after the number."""
    m = _SUFFIX.match(text, num.end)
    if m is None:
        return None
    hyphen = "-" in m.group("gap")
    if m.group("en") is not None:
        words = m.group("en").lower().split()
        if words[-1] == "sterling":
            return "GBP", m.end(), 1.0
        name = " ".join([*words[:-1], _singular(words[-1])])
        if name == "pound":
            return ("GBP", m.end(), 1.0) if num.scaled else None  # else a weight
        iso = _EN_NAMES.get(name)
        return (iso, m.end(), 1.0) if iso else None
    if m.group("mcode") is not None:
        return _iso(m.group("mcode")[1:]), m.end(), 1e6
    if m.group("dp") is not None:
        return _DOLLAR_PREFIX[m.group("dp").lower()], m.end(), 1.0
    if m.group("rs") is not None:
        return ("INR" if m.group("rs").lower().startswith("rs") else "MYR"), m.end(), 1.0
    if m.group("code") is not None:
        if hyphen:
            return None
        scale = _EN_SCALES[m.group("scale").lower()] if m.group("scale") else 1.0
        return _iso(m.group("code")), m.end(), scale
    if m.group("ko") is not None:
        name = m.group("ko").replace(" ", "")
        iso = _KO_NAMES.get(name)
        if iso is None:
            return None  # bare "프랑", "페소", "루피", "리라": several currencies share the name
        if num.mult == 0.0 and len(name) == 1 and num.low.is_integer():
            return None  # "사원", "일원", "이불" are words, not 4 won, 1 won or 2 dollars
        return iso, m.end(), 1.0
    if m.group("cent") is not None:
        return "USD", m.end(), 0.01
    if hyphen:
        return None
    return _SYMBOLS[m.group("sym")], m.end(), 1.0


def _singular(word: str) -> str:
    for ending in ("es", "s"):
        if word.endswith(ending) and word[: -len(ending)] in _EN_LAST_WORDS:
            return word[: -len(ending)]
    return word


def _prefix_currency(text: str, start: int) -> tuple[str, int, float] | None:
    """(ISO code, start, extra scale) for a currency written before the number."""
    before = text[max(0, start - _PREFIX_REACH) : start].rstrip()
    if not before or (before[-1] not in _PREFIX_LAST and not before[-1].isalpha()):
        return None  # most numbers: a space and a word or punctuation before them
    if before[-1].isalpha() or before[-1] == ".":
        word = _LAST_WORD.search(before.rstrip("."))
        if word is None or word.group().lower() not in _PREFIX_WORDS:
            return None
    m = _PREFIX.search(text, max(0, start - _PREFIX_REACH), start)
    if m is None:
        return None
    if m.group("dp") is not None:
        return _DOLLAR_PREFIX[m.group("dp").lower()], m.start(), 1.0
    if m.group("letter") is not None:
        return _DOLLAR_LETTER[m.group("letter")], m.start(), 1.0
    if m.group("sym") is not None:
        return _SYMBOLS[m.group("sym")], m.start(), 1.0
    if m.group("mcode") is not None:
        return _iso(m.group("mcode")[1:]), m.start(), 1e6
    if m.group("code") is not None:
        return _iso(m.group("code")), m.start(), 1.0
    if m.group("rs") is not None:
        return ("INR" if m.group("rs").lower().startswith("rs") else "MYR"), m.start(), 1.0
    return "MYR", m.start(), 1.0


def _starts(text: str, lower: str, korean: bool) -> list[int]:
    """Positions where a number may start, in order."""
    starts = [
        m.start()
        for m in _START.finditer(text)
        if text[m.start()].isdigit() or (korean and _KO_START.match(text, m.start()))
    ]
    words = [
        m.start()
        for m in _START_WORD.finditer(lower)
        if m.start() == 0 or not lower[m.start() - 1].isalnum()
    ]
    return sorted(starts + words) if words else starts


def _scan(text: str, lower: str, korean: bool) -> list[_Money | _Num]:
    """Numbers in order: with their currency as `_Money`, without as `_Num` (a range end)."""
    items: list[_Money | _Num] = []
    used_until = 0  # a currency marker belongs to one number only
    pos = 0
    for start in _starts(text, lower, korean):
        if start < pos:
            continue
        num = _read_number(text, start, korean)
        if num is None:
            continue
        pos = num.end
        pre = _prefix_currency(text, num.start)
        if pre is not None and pre[1] >= used_until:
            iso, start, scale = pre
            scale *= _mil(text, num, iso)
            items.append(
                _Money(start, num.end, num.low * scale, num.high * scale, iso, num.mult, num.vague)
            )
            used_until = num.end
            continue
        suf = _suffix_currency(text, num)
        if suf is not None and not _constant_dollars(text, num):
            iso, end, scale = suf
            scale *= _mil(text, num, None)
            mult = num.mult * scale if num.mult else scale
            low, high = num.low * scale, num.high * scale
            items.append(
                _Money(num.start, end, low, high, iso, mult, num.vague, _weak(text, num, end))
            )
            used_until = pos = end
            continue
        if not num.vague and not _year(text, num):
            items.append(num)
    return items


def _mil(text: str, num: _Num, prefix_iso: str | None) -> float:
    """ "$5 mil" is English for five million; "R$ 5 mil", "US$ 5 mil" and "20 mil euros" are
    Portuguese or Spanish for thousands (they space the symbol or put the name after)."""
    if not num.mil:
        return 1.0
    english = prefix_iso not in (None, *_MIL_THOUSAND) and text[num.start - 1] == "$"
    return 1.0 if english else 1e-3


def _weak(text: str, num: _Num, end: int) -> bool:
    """A Hangul numeral that may be a word: 이유로 (a reason), 만원 (packed), 조원동 (a name),
    구조엔 (구조에는). One syllable, or a number before 엔, is money only with evidence."""
    if not num.hangul:
        return False
    if num.end - num.start > 1 and not text.endswith("엔", num.start, end):
        return False
    if text[num.start] in "십백천만" and text[num.end].isspace():
        return False  # "만 원": spaced as Korean spells an amount; "이 원화" is "this won"
    return not (
        _KO_MONEY_BEFORE.search(text, max(0, num.start - 8), num.start)
        or _KO_MONEY_AFTER.match(text, end)
        or _QUAL_AFTER.match(text, end)
        or not (text[: num.start].strip() or text[end:].strip())  # the text is the amount
    )


def _year(text: str, num: _Num) -> bool:
    """ "2016년", "in 2020": a date, never the end of a money range."""
    return (
        _YEAR.fullmatch(text, num.start, num.end) is not None
        or _YEAR_AFTER.match(text, num.end) is not None
    )


def _constant_dollars(text: str, num: _Num) -> bool:
    """ "in 2020 dollars" names a price level, not an amount."""
    return (
        _YEAR.fullmatch(text, num.start, num.end) is not None
        and _IN_YEAR.search(text, max(0, num.start - 12), num.start) is not None
    )


def _before(text: str, start: int) -> str:
    return text[max(0, start - 80) : start]


def _is_change(text: str, left: _Money | _Num, right: _Money | _Num, join: re.Match[str]) -> bool:
    """ "cut from X to Y" and "X에서 Y로 늘렸다" are two figures, not a range."""
    if join.group("eso"):
        if _KO_EARLIER.search(_before(text, left.start)):
            return True
        to = _KO_TO.match(text, right.end)
        return to is not None and _KO_CHANGE_VERB.match(text, to.end()) is not None
    if join.group("to") and join.group("to").lower() == "to":
        before = _before(text, left.start)
        return _FROM_BEFORE.search(before) is not None and bool(
            _EN_CHANGE_VERB.search(before.rstrip()[:-4])
        )
    return False


def _range_join(text: str, left: _Money | _Num, right: _Money | _Num) -> bool:
    j = _RANGE_JOIN.fullmatch(text, left.end, right.start)
    if j is None or _is_change(text, left, right, j):
        return False
    if j.group("to") and j.group("to").lower() == "and":
        return _BETWEEN.search(_before(text, left.start)) is not None
    return True


def _join_ranges(text: str, items: list[_Money | _Num]) -> list[_Money]:
    """Join "5~7조 달러", "$5tn-$7tn", "$5-7 trillion", "between 10 and 20 dollars"."""
    out: list[_Money] = []
    i = 0
    while i < len(items):
        left = items[i]
        right = items[i + 1] if i + 1 < len(items) else None
        if right is not None and _range_join(text, left, right):
            joined = _join(left, right)
            if joined is not None:
                out.append(joined)
                i += 2
                continue
        if isinstance(left, _Money) and not left.weak:
            out.append(left)
        i += 1
    return out


def _join(left: _Money | _Num, right: _Money | _Num) -> _Money | None:
    """One range figure from two ends, the scale and currency shared ("5~7조 달러")."""
    if isinstance(left, _Num) and isinstance(right, _Num):
        return None
    if left.vague or right.vague or left.low != left.high or right.low != right.high:
        return None
    low, high = left.low, right.high
    if left.mult == 1.0 and right.mult > 1.0:
        low = left.low * right.mult  # "$5-7 trillion", "5~7조 달러"
    if not 0 < low < high:
        return None
    money = left if isinstance(left, _Money) else right
    assert isinstance(money, _Money)
    if isinstance(left, _Money) and isinstance(right, _Money) and left.currency != right.currency:
        return None
    return _Money(left.start, right.end, low, high, money.currency, right.mult)


def _changes(text: str, found: list[_Money]) -> None:
    """Mark the earlier value of a change: "cut from $44bn to $37bn", "to $37bn from $44bn"."""
    for a, b in itertools.pairwise(found):
        j = _RANGE_JOIN.fullmatch(text, a.end, _change_gap(text, a.end, b.start))
        if j is not None and _is_change(text, a, b, j):
            a.role = "from"
        elif _TO_FROM.fullmatch(text, a.end, b.start) or _DOWN_FROM.fullmatch(text, a.end, b.start):
            b.role = "from"


def _change_gap(text: str, start: int, end: int) -> int:
    """Where the join of a change ends: a qualifier or a time may come before the new value
    ("from $44bn to about $37bn", "3조원에서 올해 약 4조원으로"), though not inside a range."""
    if (q := _QUAL_BEFORE.search(text, start, end)) is not None:
        end = q.start()
    if (t := _KO_NOW.search(text, start, end)) is not None:
        end = t.start()
    return end


def _qualify(text: str, m: _Money) -> None:
    before = _QUAL_BEFORE.search(text, max(0, m.start - _QUAL_REACH), m.start)
    if before is not None:
        m.qualifier = before.lastgroup  # type: ignore[assignment]
    plus = _PLUS.match(text, m.end)
    if plus is not None:
        m.qualifier, m.end = "at_least", plus.end()
        return
    after = _QUAL_AFTER.match(text, m.end)
    if after is not None:
        m.qualifier = after.lastgroup  # type: ignore[assignment]


def _mixup(m: _Money) -> str | None:
    """'KRW' when a figure is implausible as written but plausible read as won."""
    per_usd = _ROUGH_PER_USD.get(m.currency)
    if per_usd is None or m.high / per_usd <= _IMPLAUSIBLE_USD:
        return None
    return "KRW" if m.high / _KRW_PER_USD <= _IMPLAUSIBLE_USD else None


def extract(text: str, *, lang: str | None = None) -> list[Figure]:
    """Every money figure in `text`, in order of appearance.

    `lang` is a hint: "en" skips the Korean forms; "ko" or None reads both, since Korean
    news writes "$5 billion" too.
    """
    if lang not in (None, "en", "ko"):
        raise ValueError(f"lang must be 'en', 'ko' or None, not {lang!r}")
    lower = text.lower()
    if len(lower) != len(text):  # a case fold that changes length ("İ"): keep offsets right
        lower = text
    if not _has_currency_marker(lower):
        return []
    # A run of 309 digits overflows a float: no amount, and infinity breaks JSON and diffs.
    read = [m for m in _scan(text, lower, korean=lang != "en") if math.isfinite(m.high)]
    found = _join_ranges(text, read)
    _changes(text, found)
    for m in found:
        _qualify(text, m)
    for i in range(1, len(found)):
        prev, cur = found[i - 1], found[i]
        if cur.currency != prev.currency and _CONVERSION_JOIN.fullmatch(text, prev.end, cur.start):
            cur.conversion_of = i - 1
    return [
        Figure(
            text=text[m.start : m.end],
            start=m.start,
            end=m.end,
            low=m.low,
            high=m.high,
            currency=m.currency,
            qualifier=m.qualifier,
            vague=m.vague,
            role=m.role,
            conversion_of=m.conversion_of,
            mixup=_mixup(m),
        )
        for m in found
    ]
