"""What a money figure is, read from its own clause: what kind of money, where, and how it
relates to the figures around it (a part of a total, an increment, a comparison).

Pure: no I/O. The vocabulary here is the product's, not a watch's: a claim says which kinds
and places it is about (`kind:`, `where:`), and `monitor.attribution` matches figures to
claims on the roles read here. Each reading keeps the words it rests on, so a person can be
told why.

Cues are read from the figure's segment (its clause, cut also at "than" and "보다"), nearest
to the figure first. English puts the verb before the figure and the noun after ("invest $5
billion", "a $5 billion grant"); Korean mostly after ("5조 원을 투자", "보조금 64억 달러"), so
both sides count, and a longer cue beats a shorter one inside it ("투자를 유치" is money
raised, not an investment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

Kind = Literal[
    "investment",
    "target",
    "raised",
    "deal",
    "valuation",
    "grant",
    "loan",
    "revenue",
    "profit",
    "price",
    "market",
    "export",
    "fine",
]
KINDS: tuple[str, ...] = get_args(Kind)

# Built-in places: id -> names in English and Korean, with the regions, states and cities
# the news names in their place. A watch's `places:` adds ids or names to these.
PLACES: dict[str, tuple[str, ...]] = {
    "US": (
        "United States",
        "U.S.",
        "US",
        "USA",
        "America",
        "Texas",
        "Taylor",
        "Austin",
        "Arizona",
        "Phoenix",
        "Ohio",
        "New York",
        "Oregon",
        "Idaho",
        "Indiana",
        "California",
        "Silicon Valley",
        "Washington",
        "Virginia",
        "미국",
        "텍사스",
        "테일러",
        "오스틴",
        "애리조나",
        "오하이오",
        "뉴욕",
        "인디애나",
        "캘리포니아",
        "실리콘밸리",
        "워싱턴",
    ),
    "KR": (
        "South Korea",
        "Korea",
        "Seoul",
        "Gyeonggi",
        "Yongin",
        "Pyeongtaek",
        "Giheung",
        "Hwaseong",
        "Icheon",
        "Cheongju",
        "Gumi",
        "Busan",
        "한국",
        "국내",
        "대한민국",
        "서울",
        "경기도",
        "용인",
        "평택",
        "기흥",
        "화성시",
        "이천",
        "청주",
        "구미",
        "부산",
        "남사",
        "원삼",
        "고덕",
    ),
    "JP": ("Japan", "Tokyo", "Kumamoto", "Hokkaido", "일본", "도쿄", "구마모토"),
    "CN": ("China", "Beijing", "Shanghai", "Shenzhen", "중국", "베이징", "상하이"),
    "TW": ("Taiwan", "Taipei", "Hsinchu", "Tainan", "대만", "타이완", "타이베이"),
    "AE": (
        "UAE",
        "United Arab Emirates",
        "Abu Dhabi",
        "Dubai",
        "아랍에미리트",
        "아랍 에미리트",
        "아부다비",
        "두바이",
    ),
    "SA": ("Saudi Arabia", "Saudi", "Riyadh", "사우디아라비아", "사우디"),
    "EU": ("Europe", "European Union", "EU", "유럽", "유럽연합"),
    "DE": (
        "Germany",
        "Berlin",
        "Magdeburg",
        "Dresden",
        "독일",
        "베를린",
        "마그데부르크",
        "드레스덴",
    ),
    "UK": (
        "United Kingdom",
        "Britain",
        "UK",
        "England",
        "London",
        "Cambridge",
        "영국",
        "런던",
    ),
    "FR": ("France", "Paris", "프랑스", "파리"),
    "IN": ("India", "Gujarat", "인도 정부"),
    "VN": ("Vietnam", "베트남"),
    "SG": ("Singapore", "싱가포르"),
    "MY": ("Malaysia", "말레이시아"),
    "IL": ("Israel", "이스라엘"),
    "MX": ("Mexico", "멕시코"),
    "CA": ("Canada", "캐나다"),
}


Relation = Literal["part", "increment", "difference", "comparison", "per_period"]


@dataclass(frozen=True, slots=True)
class Cue:
    """A role read from the words of a figure's segment."""

    value: str  # the kind or relation
    words: str  # the words it rests on, as written


_Found = tuple[int, int, str, str]  # start, end, kind, words


def _kind_cues(segment: str) -> list[_Found]:
    """Every kind cue in `segment`, in order; of two that overlap the longer is kept
    ("투자 유치를 추진" is a target, not the "투자 유치" of money raised)."""
    found = sorted(
        (
            (match.start(), match.end(), kind, match.group())
            for kind, pattern in _KINDS
            for match in pattern.finditer(segment)
        ),
        key=lambda cue: (cue[0] - cue[1], cue[0]),
    )
    kept: list[_Found] = []
    for cue in found:
        if not any(cue[0] < other[1] and other[0] < cue[1] for other in kept):
            kept.append(cue)
    return sorted(kept)


_KIND_CUES: dict[str, list[str]] = {
    "target": [
        r"\b(?:to|would|will|could|hopes? to|aims? to|plans? to|seeks? to|trying to|looking to)"
        r"\s+raise\b",
        r"\bseek(?:s|ing)?\b",
        r"\bsought\b",
        r"\bneed(?:s|ed)?\b",
        r"\brequir\w*",
        r"\bgoal\b",
        r"\bambition\w*",
        r"\bfundraising target\b",
        r"\bpitch\w*",
        r"\braising\b",
        r"\bin talks\b",
        r"\baim(?:s|ing)? for\b",
        r"\bwish\b",
        # Pursuing money is a target: "투자 유치 추진", "자금 조달에 나서".
        r"(?:(?:투자|자금)\s?)?(?:유치|조달)(?:를|을|에)?\s?(?:추진|나서|나섰|나선|나설|모색|계획)",
        r"필요",
        r"목표",
        r"모으(?:려|고|는|기)",
        r"모금하려",
        r"조달하려",
        r"조달할",
        r"유치하려",
        r"투자받(?:기|으려)",
        r"투자를 모으",
        r"자금 조달이 필요",
        r"구상",
        r"모아",
        r"모은다",
        r"모을",
        r"펀딩",
        r"추진",
        r"마련(?:하|한|할|해)",
    ],
    "raised": [
        r"\brais(?:ed|es)\b(?!\s+(?:\S+\s+){0,4}?to\b)",
        r"\bsecured\b",
        r"\bcollected\b",
        r"\bin (?:new )?funding\b",
        r"\bfunding round\b",
        r"유치했",
        r"유치한",
        r"투자를 유치",
        r"투자 유치",
        r"조달했",
        r"조달한",
        r"확보했",
        r"모금했",
        r"투자 모금",
        r"투자받았",
        r"모았",
    ],
    "valuation": [
        r"\bvalu(?:e|es|ed|ing)\b(?:\s+\S+){0,3}?\s+at\b",
        r"\bvaluation\b",
        r"\bvalued\b",
        r"\bvalue (?:was|is|of|had|has)\b",
        r"\bmarket (?:cap|capitali[sz]ation|value)\b",
        r"기업가치",
        r"기업 가치",
        r"가치",
        r"시가총액",
        r"시총",
        r"평가",
    ],
    "grant": [
        r"\bgrants?\b",
        r"\bsubsid\w*",
        r"\bawards?\b",
        r"\bawarded\b",
        r"\bincentives?\b",
        r"\btax credits?\b",
        r"\bCHIPS (?:Act )?funding\b",
        r"\bdirect funding\b",
        r"\b(?:federal|government|state|public|CHIPS)\b[\w\s.]{0,30}?\b(?:funding|support|money|financing)\b",
        r"\bto help (?:the )?[A-Z]",
        r"\bfrom (?:the )?(?:CHIPS|federal|government|U\.?S\.? government|state)\b",
        r"보조금",
        r"보조(?=금|하|할|한|해|\s|$)",
        r"지원(?=을|를|액|은|이|의|\s|$)",
        r"(?<=[을를] )(?:주기로|주는|준다|줬|준|주었|주겠|주고)",
        r"지원(?:하|할|한|해|받)",
        r"지원금",
        r"세액공제",
        r"인센티브",
    ],
    "deal": [
        r"\bacqui\w+",
        r"\bbuy(?:s|ing)?\b",
        r"\bbought\b",
        r"\bdeal\b",
        r"\btakeover\b",
        r"\bpurchase\w*",
        r"\bsale\b",
        r"\bbid\b",
        r"\bmerger\b",
        r"\bcontracts?\b",
        r"\b(?:spend|pay)\w*\s+(?:\S+\s+){1,5}?to\s+(?:acquire|buy|purchase|take over)\b",
        r"수주",
        r"인수",
        r"매각",
        r"거래",
        r"합병",
    ],
    "investment": [
        r"\binvest\w*",
        r"\bspend\w*",
        r"\bspent\b",
        r"\bcapex\b",
        r"\bcapital expenditure\w*",
        r"\bbuild\w*",
        r"\bcommit(?:s|ted|ting|ments?)?\b",
        r"\bpledg\w*",
        r"\bexpansion\b",
        r"\bproject\b",
        r"\bplans? totall?ing\b",
        r"\bfactory\b",
        r"\bplant\b",
        r"\bfab\b",
        r"투자",
        r"투입",
        r"출자",
        r"\bequity\b",
        r"예산",
        r"\bbudget\w*",
        r"(?<=[을를] )들(?:이|인)",
        r"건설",
        r"짓",
        r"설립",
        r"증설",
        r"쏟",
        r"세우",
        r"(?<![가-힣])(?:공장|팹)",
        r"사업",
    ],
    "loan": [r"\bloans?\b", r"\blend\w*", r"대출", r"융자"],
    "revenue": [r"\brevenues?\b", r"\bsales\b", r"\bturnover\b", r"매출", r"수익"],
    "profit": [
        r"\bprofits?\b",
        r"\bearnings\b",
        r"\bnet income\b",
        r"\boperating income\b",
        r"\blosses\b",
        r"\bloss\b",
        r"이익",
        r"영업익",
        r"순익",
        r"적자",
        r"흑자",
    ],
    "price": [
        r"\bprice(?:d| target)?\b",
        r"\bapiece\b",
        r"\beach\b(?= chip)",
        r"\bper (?:share|chip|unit)\b",
        r"\bcosts?\b",
        r"\bbreak-?up fee\b",
        r"\bfee\b",
        r"가격",
        r"주식",
        r"지분",
        r"\bshares\b",
        r"\bstake\b",
        r"목표주가",
        r"주가",
        r"개당",
        r"위약금",
    ],
    "market": [
        r"\bmarket\b",
        r"\bindustry\b",
        r"\bforecast\w*",
        r"\bGDP\b",
        r"\beconom\w+",
        r"시장",
        r"전망치",
        r"생산 유발",
        r"생산유발",
        r"경제",
    ],
    "export": [r"\bexports?\b", r"수출"],
    "fine": [r"\bfines?\b", r"\bfined\b", r"\bpenalt\w+", r"과징금", r"벌금"],
}
_KINDS = [
    (kind, re.compile("|".join(regexes), re.IGNORECASE)) for kind, regexes in _KIND_CUES.items()
]

# Where a relation's words stand: just before the figure in its segment, just after it, or
# earlier in its sentence (Korean puts a period first: "올해 ... 민간 투자 60조 원").
Side = Literal["before", "after", "sentence", "opening"]
_WINDOW: dict[Side, int] = {"before": 60, "after": 40, "sentence": 40, "opening": 60}
_RELATION_CUES: list[tuple[Relation, Side, str]] = [
    ("difference", "after", r"^\s*(?:less|lower|smaller|fewer|higher|larger|bigger|below|above)\b"),
    (
        "difference",
        "before",
        r"(?<![\w-])by\s+(?:about |around |over |nearly |some |more than |roughly |up to )?$",
    ),
    (
        "difference",
        "after",
        r"^\s*(?:이상|넘게|가량|정도|가까이|이나)?\s*(?:줄|늘|감소|증가|삭감|축소|적|많|낮|높|깎)",
    ),
    ("increment", "before", r"\b(?:an? )?(?:additional|another|extra|further|more)\s*$"),
    ("increment", "before", r"\b(?:an? )?(?:additional|extra|further)\s+(?:[\w-]+\s+){0,2}of\s*$"),
    ("increment", "after", r"^\s*(?:more|extra)\b"),
    ("increment", "after", r"^\s*in\s+(?:additional|extra|further)\b"),
    ("increment", "before", r"추가(?:로|적으로|\s?투자|\s?자금)?\s*$"),
    ("increment", "after", r"^\S*\s?(?:을|를)?\s?더\b"),
    ("increment", "after", r"^\S*\s?(?:을|를)? 추가"),
    ("part", "after", r"^\s*(?:in cash|in (?:\w+ )?stock|in shares|in equity|in debt)\b"),
    ("part", "before", r"\b(?:each|per|every) (?:new )?(?:plant|fab|factory|site|phase|chip)\b"),
    (
        "part",
        "after",
        r"^\s*(?:(?:on|for|in) )?(?:each|every|per) (?:new )?"
        r"(?:plant|fab|factory|site|phase|chip)\b",
    ),
    ("part", "after", r"^.{0,24}\bearn-?out\b"),
    # "an initial $100 billion" is a first tranche; "the initial $17 billion" an earlier total.
    ("part", "before", r"\ban initial\s*$"),
    ("part", "before", r"\bfirst phase\b"),
    ("part", "before", r"\bfirst (?:new )?(?:plant|fab|facility|factory|site)\b"),
    ("part", "after", r"^.{0,30}포함"),
    ("part", "before", r"\binclud(?:ing|es?)\b"),
    ("part", "before", r"\bof which\b"),
    ("part", "opening", r"^\s*Of\s+(?:the|its|this|these|that)\b"),  # "Of the subsidies, X"
    ("part", "before", r"\bassigning\b"),
    ("part", "before", r"\bshare of\b"),
    ("part", "before", r"초기(?:\s?자금으로)?\s*$"),
    ("part", "before", r"(?<![가-힣0-9])[12]차(?:로|에|분)?(?=\s)"),
    ("part", "before", r"(?<![가-힣0-9])1단계"),
    ("part", "before", r"각각"),
    ("part", "before", r"(?<![가-힣])이 중(?:에서)?(?=\s)"),
    ("part", "after", r"^\S*\s?몫"),
    ("part", "before", r"혼자"),
    ("part", "before", r"나머지"),
    ("part", "before", r"(?<=[가-힣])당\s*$"),  # "건당 150억 원": per case
    ("per_period", "after", r"^\s*(?:a|per|each|every) (?:year|quarter|month)\b"),
    ("per_period", "after", r"^\s*(?:annually|yearly|this year)\b"),
    ("per_period", "after", r"^\s*since (?:19|20)\d\d\b"),
    ("per_period", "before", r"\b(?:annual|yearly|this year's|next year's)\s+(?:\S+\s+)?$"),
    ("per_period", "sentence", r"올해(?!\s?(?:초|말|상반기|하반기|들어|발표))"),
    ("per_period", "before", r"(?:연간|매년|한 해|분기당|분기별|매 분기)\s*(?:\S+\s+){0,2}$"),
]
_RELATIONS = [
    (relation, side, re.compile(regex, re.IGNORECASE)) for relation, side, regex in _RELATION_CUES
]

# The other side of a comparison: "far smaller than the $7.86 billion Intel received".
_COMPARISON = re.compile(
    r"(?<!more )(?<!less )(?<!rather )(?<!other )(?<!fewer )"
    r"\b(?:than|compared (?:with|to)|versus|vs\.?|unlike|dwarf\w*)\b|보다|대비|비해",
    re.IGNORECASE,
)


_HEAD_GAP = re.compile(r"\s?")  # between the words of one noun phrase
_NAMES_AMOUNT = re.compile(
    r"\s*(?:[(（][^()（）]{0,40}[)）]\s*)?(?:(?:in|of|as|worth of)\s+(?:[\w.-]+\s+){0,5}"
    r"|(?:규모|어치|상당)?의\s+(?:\S+\s+){0,2})"
)


def kind_of(segment: str, at: int, end: int) -> Cue | None:
    """The kind of money of the figure at `at:end` of `segment`: the nearest cue to it.

    After the figure, a noun compound is read to its head, its last word ("33조 원 규모의
    반도체 투자 지원금" is a grant, "a $6.4 billion CHIPS investment grant" too).
    """
    best: tuple[int, int, Cue] | None = None
    heads: list[_Found] = []
    for cue in _kind_cues(segment):
        if heads and cue[0] >= at and _HEAD_GAP.fullmatch(segment, heads[-1][1], cue[0]):
            heads[-1] = cue
        else:
            heads.append(cue)
    for start, stop, kind, words in heads:
        after = start >= at
        distance = start - end if after else at - stop
        # A cue right after the figure ("a $5 billion grant", "5조 원을 투자") outranks one
        # as near before it: a noun or verb attached to the amount says what it is. One that
        # names the amount ("732 billion yen in subsidies", "4760억엔의 보조금") outranks all.
        named = after and _NAMES_AMOUNT.fullmatch(segment, end, start)
        rank = (
            distance - 1000 if named else max(distance, 0) * 2 - (1 if after else 0),
            -len(words),
        )
        if best is None or rank < best[:2]:
            best = (*rank, Cue(kind, words))
    return best[2] if best else None


def relation_of(before: str, after: str, sentence_before: str) -> Cue | None:
    """How a figure relates to others, from the words just `before` and `after` it in its
    segment, or earlier in its sentence (`sentence_before`)."""
    texts: dict[Side, str] = {
        "before": before[-_WINDOW["before"] :],
        "after": after[: _WINDOW["after"]],
        "sentence": sentence_before[-_WINDOW["sentence"] :],
        "opening": sentence_before[: _WINDOW["opening"]],
    }
    for relation, side, pattern in _RELATIONS:
        match = pattern.search(texts[side])
        if match:
            return Cue(relation, match.group().strip())
    return None
