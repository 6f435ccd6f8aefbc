"""Stage Observation: which of a watch's claims each money figure of an article states.

Pure: no I/O. A figure is tied to a claim by its role, read from its own clause, never by
the words that merely sit near it:

- **whose money** (the holder): the party the figure is attached to ("Samsung's $17
  billion", "인텔(85억 달러)"), else the subject of its segment (English: the first party;
  Korean: the one marked 은/는/이/가/도; else the nearest), else the party after it, else its
  sentence's subject; a sentence that names no party takes the title's. A party is a watch
  entity or another name ("Intel plans to spend $100 billion" is Intel's money in a story
  about Samsung). Who reports it ("according to Reuters") or sells ("from SoftBank") is no
  holder; parties named together ("Samsung and SK hynix") share it; a subject that points
  back ("the company") is the watch entity named last. It must be one of the claim's `about`
  entities, except that a deal belongs to both its sides, and a grant to its recipient
  named in the sentence, not to the state that gives it.
- **what kind** (`monitor.roles.kind_of`: investment, target, raised, deal, valuation,
  grant, loan, ...): when the claim lists kinds (`kind:`), a figure of another kind is not
  tied; a figure whose kind cannot be read needs a topic word in its sentence. What a state
  puts into a company named beside it is aid, a grant, unless it is a stake (invest, 출자).
- **where**: when the claim lists places (`where:`), a figure whose segment, sentence, title
  or article names only other places is not tied.
- **how it relates** (`monitor.roles.relation_of`): a part of a total ("$12 billion in
  cash", "each plant", amounts of one kind and holder listed together), an increment ("an
  additional $100 billion", "20조원을 더"), a difference ("$600 million less") or one
  period's amount ("올해 민간 투자 60조 원") is never a claim's total. A comparison ("smaller
  than the $7.86 billion Intel received") is its own segment, with its own holder.
- **what about**: one of the claim's `topic` words in the figure's segment or sentence, or in
  the article when its sentence names no party or its title or lede name the topic; an
  `unless` word in the segment rules the claim out.

A known value is no evidence: a figure equal to a claim's value is tied on the same
evidence as any other. A figure that restates an earlier one of the same value ("The $6.4
billion ...", "그러나 9천조 달러는 ...") takes that figure's role, unless its own sentence
names another holder. When several claims fit, the strongest evidence wins; a tie is
ambiguous (recorded, never alerted). Every decision carries its reasons in words
(`Attribution.why`, `Attribution.rejected`), which `monitor explain` shows.

Work is bounded for hostile text: words are read within `_REACH` characters of a figure, and
at most `MAX_PER_SENTENCE` amounts a sentence and `MAX_PER_ARTICLE` an article are decided.

Aliases, topic words and places: Latin ones match on word boundaries, with an optional
plural or possessive ("fabs", "Nvidia's", not "fabulous"); short ones with a capital ("Arm",
"US", "TSMC") and all-capital ones ("CHIPS") match case-sensitively and take only a
possessive, so "army" and "Arms" are not Arm. Hangul ones match at the start of a word with
any ending, so particles attach ("알트먼은", "엔비디아의") but 한국 is not found inside
대한민국. A word inside a figure's own text ("9천 조달러" holds 조달) counts for nothing.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from monitor.figures import Figure
from monitor.roles import _COMPARISON, PLACES, Cue, kind_of, relation_of
from monitor.rules import ClaimRule, Watch

_LATIN = re.compile(r"[A-Za-z0-9]")
_HANGUL = re.compile(r"[가-힣]")

# A sentence ends at a line break, or at . ? ! … (with closing quotes) before a space or the
# end; a period right after a Hangul syllable ends one even when no space follows ("다.그").
_SENTENCE_END = re.compile(r"\n|[.?!…？！。]+[\"'”’»)\]]*(?=\s|$)|(?<=[가-힣])\.")
# Periods that end abbreviations, not sentences: initialisms ("U.S.", "e.g.") and these.
_INITIALISM = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Z]\.")
_ABBREVIATIONS = frozenset(
    {"Inc", "Corp", "Co", "Ltd", "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "vs", "No"}
    | {"Gov", "Sen", "Rep", "Gen", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep"}
    | {"Sept", "Oct", "Nov", "Dec", "approx", "est"}
)
# A clause ends at a comma or semicolon, a colon, a dash, an ellipsis, an English conjunction,
# or a Korean connective ending: -는데/-ㄴ데, -지만, -며/-면서, and -고 after a verb stem.
_CLAUSE_END = re.compile(
    r"[,;:，](?=\s)|…|\s[—–-]\s|[·‘“\"]|\s(?:and|but|while|whereas|although|though|after)\s"
    r"|(?<!\bmuch)(?<!\bmany)(?<!\bwell)\sas\s(?!(?:much|many|well|of|part|a|an)\b)"
    r"|(?<=[가-힣])(?:데|지만|며|면서|[하되있했였됐않이았었겠]고)(?=\s)"
)
# A capitalised name in English that is no watch entity: "Intel", "SK hynix", "Jim Keller".
_NAME = re.compile(r"(?<![\w$])[A-Z][A-Za-z0-9&.\-]*(?:\s+(?:[A-Z][A-Za-z0-9&.\-]*|hynix|de|von))*")
# Who reports a figure is not whose money it is: "according to Reuters", "CNBC said".
_SOURCE_BEFORE = re.compile(
    r"(?:according to|reported by|told|sources? (?:at|in))\s+(?:the\s+)?$", re.I
)
# "Intel said it plans to spend ..." keeps Intel: it speaks of its own money.
_SOURCE_AFTER = re.compile(
    r"\s*(?:(?:reports?|reported|said|says|wrote|estimated|noted)"
    r"(?!\s+(?:that\s+)?(?:it|its|they|their|he|she)\b)|could not|did not"
    r"|(?:\w+\s+)?(?:confirmed|announced|stated)\s+that"
    r"|에 따르면|는 전했|가 전했)",
    re.I,
)
# The other side of a deal: "buy Arm from SoftBank".
_COUNTERPARTY = re.compile(r"\bfrom\s+(?:the\s+)?$", re.I)
_COUNTERPARTY_AFTER = re.compile(r"(?:로부터|으로부터|에 이어|에서)(?=\s)")
# Words of a state: who gives a grant, never who holds it ("Commerce finalized $7.86 billion
# for Intel"); after a country's name they make it a party ("the U.S. government plans").
_STATE_WORDS = (
    r"department|commerce|administration|government|treasury|congress|ministry|agency|"
    r"white house|officials?|federal|state"
)
_STATE_KO = r"정부|당국|상무부|행정부|재무부|의회|경산성|경제산업성"
_NATIONALITY = r"American|Japanese|German|Chinese|Korean|Taiwanese|British|French|Indian|European"
_GRANTOR = re.compile(rf"(?i)\b(?:{_STATE_WORDS}|{_NATIONALITY})\b|{_STATE_KO}")
_GOVERNMENT = re.compile(
    rf"(?i)(?:['’]s?)?\s*(?:federal\s+)?(?:{_STATE_WORDS})\b|\s*(?:{_STATE_KO})"
)
# A Korean sentence's first word as its topic ("칩스법은 527억 달러를 배정했고"): a party,
# unless it points back ("이는", "그는", "이번에는") or names a time ("올해는").
_KO_TOPIC = re.compile(
    r"^(?:(?:\d{4}년|지난\S*|올해|최근)\s)?"  # a time first: "2022년 칩스법은"
    r"((?:\S+\s)?(?:대통령|장관|총리|회장|대표|위원장)|[가-힣A-Za-z][^\s]*?)(?:은|는)(?=\s)"
)
_KO_POINTING = frozenset(
    {
        "이",
        "그",
        "이들",
        "그들",
        "이번",
        "이번에",
        "올해",
        "이에",
        "해당",
        "회사",
        "업계",
    }
)
_NOT_NAMES = frozenset(
    [
        "The",
        "Why",
        "What",
        "How",
        "Who",
        "Where",
        "Could",
        "Would",
        "Can",
        "Will",
        "Is",
        "Does",
        "Did",
        "A",
        "An",
        "In",
        "On",
        "At",
        "It",
        "Its",
        "This",
        "That",
        "These",
        "Those",
        "He",
        "She",
        "They",
        "We",
        "I",
        "You",
        "But",
        "And",
        "Or",
        "As",
        "By",
        "For",
        "With",
        "From",
        "To",
        "According",
        "After",
        "Before",
        "While",
        "When",
        "Under",
        "Over",
        "If",
        "Last",
        "Next",
        "Such",
        "Some",
        "Most",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "AI",
        "CEO",
        "CFO",
        "CTO",
        "GPU",
        "GPUs",
        "CPU",
        "CPUs",
        "IPO",
        "HBM",
        "EV",
        "GDP",
        "FY",
        "R&D",
        "Buy",
        "Sell",
        "Hold",
        "Overweight",
        "Neutral",
        "Chips",
        "Fund",
        "Group",
        "Holdings",
        "Inc",
        "Corp",
        "Co",
        "Ltd",
        "Electronics",
    ]
)
_AFTER_INITIAL_NAME = re.compile(
    r"\s+(?:is|was|has|had|will|would|could|may|can|said|says|plans?|agreed|announced|kept|"
    r"\w+ed|\w+s)\b"
)
_AS_SUBJECT = re.compile(
    r"\s+(?:to\s+[a-z]+|will|would|has|had|is|was|plans?|agreed|approved|offered|gives?|"
    r"gave|grants?|granted|awarded|pledged|committed|provides?|provided)\b"
)
_CONVERSION_AFTER = re.compile(r"\s?[(（][^()（）]{0,40}[)）]")

HolderFrom = Literal["attached", "segment", "list", "sentence", "title", "none"]
# A party named in a list ("삼성전자와 SK하이닉스 등 민간 기업이", "Samsung and SK hynix") holds
# the money together with others: not the sole holder.
_JOINER = re.compile(r"(?:와|과|및|\s?,|\s?·|\s+and|\s*&)\s*(?:and\s+)?")
_AND_OTHERS = re.compile(r"[^\s,]+\s+등")  # "SK하이닉스 등": another name, and others


def _in_list(text: str, parties: Sequence[_Party], n: int) -> bool:
    """Whether party `n` is named in a list with another ("Samsung and SK hynix",
    "삼성전자와 SK하이닉스 등"): then it holds the money together with others. A government
    named with a company ("Commerce and SK Hynix signed ...") is the other side of a grant,
    not a co-holder."""
    start, end, name, _ = parties[n]
    if _GRANTOR.search(name):
        return False
    others = [p for i, p in enumerate(parties) if i != n and not _GRANTOR.search(p[2])]
    joined = _JOINER.match(text, end)
    # "Samsung, Intel's biggest rival, will invest": an apposition, not a list.
    if joined and (
        any(p[0] == joined.end() and not _possessive(text, p[0], p[1]) for p in others)
        or _AND_OTHERS.match(text, joined.end())
    ):
        return True
    return any(
        (m := _JOINER.match(text, p[1])) is not None and m.end() == start
        for p in others
        if p[1] <= start
    )


# A Korean subject's particle, after its title if it has one ("올트먼 CEO가").
_KO_SUBJECT = re.compile(
    r"(?:\s(?:CEO|최고경영자(?:\(CEO\))?|회장|부회장|사장|대표|총리|대통령|장관))?"
    r"(?:은|는|이|가|도)(?=\s)"
)
_ANAPHOR_IN = re.compile(
    r"\b(?:the\s+(?:[\w.-]+\s+){0,2}(?:company|firm|chipmaker|group|maker|manufacturer|"
    r"giant|startup|supplier)|회사)\b",
    re.I,
)
_POSSESSIVE = re.compile(r"(?:['’]s?|의)\s")
_EQUITY = re.compile(r"(?i)invest|투자|출자|equity|stake")
_GOVERNS = re.compile(r"(?:['’]s?)?\s+(?:[A-Za-z-]+\s+){1,4}")  # "'s plan to raise "
_ITS = re.compile(r"(?i)\b(?:its|their)\s+(?:\w+\s+)?$")
_FROM_INVESTOR = re.compile(
    r"\s*(?:in\s+)?(?:[\w-]+\s+)?(?:investments?|funding)\s+from\s+(?:the\s+)?"
)
_ATTACHED = re.compile(r"(?:(?<=['’]s)|['’]s?)\s*(?:\(\s*|(?:about|some)\s+)?|\s*\(\s*")
_ATTACHED_KO = re.compile(r"(?:의)?\s*(?:\(\s*|약\s*)?")
_BEFORE_A_NAME = re.compile(r"\s*[A-Z]")  # "South Korea's Samsung": the place only modifies


def _possessive(text: str, start: int, end: int) -> bool:
    """Whether the name at `start:end` is possessive: "Samsung's", "Texas'", "삼성의"."""
    return text[start:end].endswith(("'s", "’s")) or bool(_POSSESSIVE.match(text, end))


def _past_possessive(text: str, end: int) -> int:
    """Where the words after the name ending at `end` start, past its possessive ending."""
    match = re.compile(r"(?:['’]s?)").match(text, end)
    return match.end() if match else end


def _unpossessed(name: str) -> str:
    """`name` without its possessive ending ("Japan's" -> "Japan", "Texas'" -> "Texas")."""
    return re.sub(r"(?:['’]s|(?<=s)['’])$", "", name)


def _overlaps(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether `start:end` overlaps one of `spans` (sorted by start, not overlapping)."""
    n = bisect.bisect_left(spans, (end,))
    return n > 0 and spans[n - 1][1] > start


@dataclass(frozen=True, slots=True)
class Role:
    """What a figure is, as read from its words; each part keeps the words it rests on."""

    holder: str | None  # the party whose money it is, as written; None when none is named
    entities: tuple[str, ...]  # the watch entities that party is (empty for another name)
    holder_from: HolderFrom
    kind: Cue | None
    places: tuple[str, ...]  # place ids named where the figure is
    relation: Cue | None
    named: tuple[str, ...] = ()  # watch entities named in the figure's segment
    in_sentence: tuple[str, ...] = ()  # watch entities named in its sentence
    restates: int | None = None  # index of the earlier figure this one restates
    sentence_kind: bool = False  # the kind was read from the sentence, not the segment
    state: bool = False  # the holder is a state: a government, a ministry, a country


@dataclass(frozen=True, slots=True)
class _Article:
    """What the whole article says, the same for each of its figures."""

    words: set[str]  # every watch term in it
    lede: frozenset[str]  # the watch terms of its title and lede


@dataclass(frozen=True, slots=True)
class Attribution:
    """The decision on one figure: the claim it states, or why none."""

    figure: Figure
    index: int  # index of the figure in the extract() list
    claim: str | None  # claim id; None when ambiguous or tied to none
    candidates: tuple[str, ...]  # the tied claims when ambiguous (else (claim,), or ())
    quote: str  # the sentence holding the figure, stripped
    score: int
    role: Role | None = None  # None for a conversion, which follows its original
    why: str = ""  # the evidence, in words
    rejected: tuple[tuple[str, str], ...] = ()  # (claim id, why not) for every other claim

    @property
    def tied(self) -> bool:
        """Whether the figure is tied to a claim, or ambiguous between several."""
        return bool(self.candidates)


@dataclass(frozen=True, slots=True)
class _Terms:
    """A watch's aliases, topic words and place names compiled into one pattern."""

    pattern: re.Pattern[str]
    terms: tuple[str, ...]  # group gN of `pattern` matches terms[N]
    entities: Mapping[str, frozenset[str]]  # alias -> the entities it names
    places: Mapping[str, frozenset[str]]  # place name -> the place ids it names
    written: Mapping[str, str]  # another way to write a topic word -> the word ("2nd fab")


_Mention = tuple[int, int, str]  # start, end, term (article offsets)
_Party = tuple[int, int, str, tuple[str, ...]]  # start, end, name, the watch entities it is

# Bounds, so that hostile text costs time in proportion to its length: how far from a figure
# its words are read, and how many figures are decided at all (the rest are listed unread).
_REACH = 300
MAX_PER_SENTENCE = 50
MAX_PER_ARTICLE = 500


def sentences(text: str) -> list[tuple[int, int]]:
    """The `(start, end)` span of every sentence of `text`, stripped of surrounding space.

    Korean and English: ends at periods (not in "$1.5bn", "U.S." or "Inc."), question
    and exclamation marks, and line breaks, so a headline without punctuation is one.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "." and _is_abbreviation(text, match.start()):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    stripped = [_strip(text, start, end) for start, end in spans]
    return [(start, end) for start, end in stripped if start < end]


def attribute(watch: Watch, title: str, text: str, figures: Sequence[Figure]) -> list[Attribution]:
    """The figures of `figures` (from `extract(text)`) tied to a claim, or ambiguous between
    several; the others are left out (`explain` keeps them, with the reasons)."""
    return [a for a in explain(watch, title, text, figures) if a.tied]


def explain(watch: Watch, title: str, text: str, figures: Sequence[Figure]) -> list[Attribution]:
    """The decision on every figure of `figures` (from `extract(text)`), with its reasons.

    `title` supplies the parties of sentences that name none, so `text` may or may not
    start with it. A figure that restates another (`conversion_of`) follows its original.
    """
    if not figures:
        return []
    terms = _compile(watch)
    spans = sentences(text)
    masked = [(figure.start, figure.end) for figure in figures]
    title_mentions = _matches(terms, title, 0, ())
    title_entities = _entities(terms, title_mentions)
    title_places = _places(terms, title_mentions)
    # The title and the lede say what the story is about.
    lede_end = spans[1][1] if len(spans) > 1 else len(text)
    lede_words = frozenset(
        term for _, _, term in (*title_mentions, *_matches(terms, text[:lede_end], 0, masked))
    )
    # "SoftBank, OpenAI and Oracle form $500 billion Stargate venture": a story of several
    # parties together; its sentences that name no party are theirs together.
    title_parties = _parties(terms, title, (0, len(title)), title_mentions, ())
    title_listed = any(_in_list(title, title_parties, n) for n in range(len(title_parties)))
    everywhere = _matches(terms, text, 0, masked)
    article = _Article({term for _, _, term in everywhere}, lede_words)
    article_places = _places(terms, everywhere)
    context: dict[tuple[int, int], tuple[list[_Mention], list[_Party]]] = {}
    per_sentence: dict[tuple[int, int], int] = {}
    ends = [end for _, end in spans]
    read: list[tuple[str, Role | None, set[str], set[str]]] = []  # quote, role, near, far
    roles: list[Role | None] = []
    unread: dict[int, str] = {}
    for index, figure in enumerate(figures):
        start, end = _sentence_of(spans, ends, figure)
        per_sentence[start, end] = per_sentence.get((start, end), 0) + 1
        too_many = (
            f"not read: more than {MAX_PER_SENTENCE} amounts in one sentence"
            if per_sentence[start, end] > MAX_PER_SENTENCE
            else f"not read: more than {MAX_PER_ARTICLE} amounts in one article"
            if index >= MAX_PER_ARTICLE
            else None
        )
        if figure.conversion_of is not None or too_many:
            if too_many:
                unread[index] = too_many
            roles.append(None)
            read.append((text[start:end], None, set(), set()))
            continue
        if (start, end) not in context:
            mentions = _matches(terms, text[start:end], start, masked)
            context[start, end] = (mentions, _parties(terms, text, (start, end), mentions, masked))
        mentions, parties = context[start, end]
        seg_start, seg_end, compared = _segment_of(text, start, end, figure)
        role = _read_role(
            terms,
            text,
            (start, end),
            (seg_start, seg_end),
            figure,
            mentions,
            parties,
            title_entities,
            title_places,
            title_listed,
            article_places,
            compared,
        )
        # "The $6.4 billion ..." refers back whatever it says; a bare figure does when its
        # own words say nothing ("그러나 9천조 달러는 ...").
        definite = text[start : figure.start].strip() in ("The", "the", "This", "That")
        weak = role.kind is None or role.sentence_kind
        restated = _restated(figures, index, roles) if definite or weak else None
        earlier = roles[restated] if restated is not None else None
        # Unless its own sentence names another holder ("Intel has $17 billion too").
        if earlier is not None and (definite or _same_holder(role, earlier)):
            role = replace(earlier, restates=restated, sentence_kind=False)
        roles.append(role)
        near = {t for s, e, t in mentions if seg_start <= s and e <= seg_end}
        read.append((text[start:end], role, near, {t for _, _, t in mentions} - near))
    out = []
    for index, (figure, (quote, read_role, near, far)) in enumerate(
        zip(figures, read, strict=True)
    ):
        if read_role is None:
            why = unread.get(index) or f"a conversion of {figures[figure.conversion_of or 0].text}"
            out.append(Attribution(figure, index, None, (), quote, 0, None, why))
            continue
        listed = read_role.relation is None and _listed(text, index, figures, roles)
        role = (
            replace(read_role, relation=Cue("part", "one of several amounts listed together"))
            if listed
            else read_role
        )
        out.append(_decide(watch, figure, index, quote, role, near, far, article))
    return out


def _decide(
    watch: Watch,
    figure: Figure,
    index: int,
    quote: str,
    role: Role,
    near: set[str],
    far: set[str],
    article: _Article,
) -> Attribution:
    """Judge `figure` of `role` against every claim: the best fit wins, a tie is ambiguous."""
    scores: dict[str, int] = {}
    rejected: list[tuple[str, str]] = []
    reasons: dict[str, str] = {}
    for claim in watch.claims:
        score, why = _judge(claim, role, near, far, article)
        if score:
            scores[claim.id] = score
            reasons[claim.id] = why
        else:
            rejected.append((claim.id, why))
    if not scores:
        return Attribution(
            figure, index, None, (), quote, 0, role, "tied to no claim", tuple(rejected)
        )
    best = max(scores.values())
    tied = tuple(claim for claim, score in scores.items() if score == best)
    winner = tied[0] if len(tied) == 1 else None
    why = (
        reasons[tied[0]]
        if winner
        else f"ambiguous between {', '.join(tied)}, on equal evidence: {reasons[tied[0]]}"
    )
    rejected += [
        (c, f"weaker evidence than {tied[0]}: {reasons[c]}") for c in scores if c not in tied
    ]
    return Attribution(figure, index, winner, tied, quote, best, role, why, tuple(rejected))


def _judge(
    claim: ClaimRule, role: Role, near: set[str], far: set[str], article: _Article
) -> tuple[int, str]:
    """How strongly a figure of `role` states `claim` (0: not at all), and why, in words.

    `near`/`far`: terms in the figure's segment and elsewhere in its sentence; `article`:
    the terms of the whole article and of its title and lede.
    """
    holder = role.holder or "nobody named"
    if role.relation and role.relation.value != "comparison":
        what = {
            "part": "a part of a total",
            "increment": "an increment",
            "difference": "the difference between two amounts",
            "per_period": "an amount for one period",
        }[role.relation.value]
        return 0, f'{what} ("{role.relation.words}"), not a total'
    about = set(claim.about)
    kind = role.kind.value if role.kind else None
    # What a state puts into a company named beside it is aid ("Japan to spend 732 billion
    # yen ... for TSMC's second plant"): a grant, unless it is a stake (invest, 투자, 출자).
    # Not a state's stake ("plans to invest 100 billion yen in Rapidus", "출자"): equity.
    equity = role.kind is not None and _EQUITY.search(role.kind.words) is not None
    aid = (
        role.state
        and kind in (None, "investment")
        and not equity
        and not set(role.entities) & about
        and bool(about & set(role.named))
    )
    if aid:
        kind = "grant"
    # A deal's price belongs to both sides: "SoftBank's $66 bln sale of Arm to Nvidia".
    sides = set(role.in_sentence) | (set(role.entities) if role.holder_from == "title" else set())
    deal = kind == "deal" and len(about & sides) > 1
    # A claim on a deal between parties takes a valuation only with both named: "the deal
    # values Arm at $40 billion", not "Arm's IPO valuation".
    if kind == "valuation" and len(about) > 1 and len(about & sides) < 2:
        return 0, f"a valuation naming one side only ({holder}), not the deal's"
    # A grant is the recipient's: whoever gives it (a department, a government) is not.
    granted = (
        kind == "grant"
        and not set(role.entities) & about
        and role.state
        and bool(about & set(role.in_sentence))
    )
    listed = role.holder_from == "list"
    held_by = (bool(set(role.entities) & about) and not listed) or deal or granted
    # Parties named together ("삼성전자와 SK하이닉스 등 민간 기업이 622조원을 들이는 반도체 메가
    # 클러스터") leave the money to a claim's entity named beside them.
    named = set(role.named) & about - set(role.entities)
    beside = bool(named) and listed and kind not in ("deal", "valuation")
    if listed and not held_by and not beside:
        return 0, f"is shared by {holder} and others named with it"
    if not held_by and not beside:
        if role.holder is None:
            return 0, "names no party whose money it is"
        return 0, f"is {_unpossessed(holder)}'s money, not {' or '.join(claim.about)}'s"
    unless = near & set(claim.unless)
    if unless:
        return 0, f"its clause says {sorted(unless)[0]!r}, which rules this claim out"
    if claim.where and role.places and not set(role.places) & set(claim.where):
        return 0, f"is placed in {', '.join(role.places)}, not {', '.join(claim.where)}"
    # A topic word inside a longer name counts ("반도체 메가 클러스터" holds 클러스터).
    topic_near = _contained(claim.topic, near)
    topic_far = _contained(claim.topic, far)
    # The article's words count when its story speaks for the figure: the sentence names no
    # party, or it says what kind of money and the title or lede name the claim's topic.
    topic_article = (
        _contained(claim.topic, article.words)
        if role.holder_from == "title" or (kind and _contained(claim.topic, article.lede))
        else set()
    )
    if claim.kind and kind is not None and kind not in claim.kind:
        return (
            0,
            f'is {_a(kind)} ("{role.kind.words if role.kind else ""}"), '
            f"not {' or '.join(claim.kind)}",
        )
    if claim.kind and (kind is None or role.sentence_kind) and not (topic_near or topic_far):
        return (
            0,
            "no word of its clause says what kind of money it is, and its sentence has no "
            "topic word",
        )
    topic = 3 if topic_near else 2 if topic_far else 1 if topic_article else 0
    if not topic:
        return 0, f"names none of the claim's topic words ({', '.join(claim.topic[:4])}, ...)"
    held = {"attached": 3, "segment": 3, "list": 2, "sentence": 2, "title": 1, "none": 0}[
        role.holder_from
    ]
    if not held_by:
        held, holder = 1, f"{holder}, beside {'/'.join(sorted(set(role.named) & about))}"
    word = sorted(topic_near or topic_far or topic_article)[0]
    parts = [f"held by {_unpossessed(holder)}{_HELD_WHERE[role.holder_from]}"]
    if aid:
        parts.append(f"a grant (state money for {'/'.join(sorted(about & set(role.named)))})")
    elif kind:
        parts.append(f'{kind} ("{role.kind.words if role.kind else ""}")')
    if role.places:
        parts.append(f"in {', '.join(role.places)}")
    where = {3: "its clause", 2: "its sentence", 1: "the article"}[topic]
    parts.append(f"topic {word!r} in {where}")
    # More of the claim's own words is better evidence ("제2공장 ... 지원" over "지원" alone),
    # but never as good as a word one level nearer.
    matched = topic_near or topic_far or topic_article
    score = held + 2 * topic + min(len(matched) - 1, 1) + (3 if kind else 0)
    return score, "; ".join(parts)


# How the holder was found, as the reason says it.
_HELD_WHERE: dict[HolderFrom, str] = {
    "attached": " (attached to the figure)",
    "segment": " (its clause)",
    "list": " (named with others)",
    "sentence": " (its sentence)",
    "title": "",
    "none": "",
}


def _contained(words: Sequence[str], found: Set[str]) -> set[str]:
    """The `words` found, alone or inside a longer term found."""
    lowered = [term.lower() for term in found]
    return {
        word
        for word in words
        if any(
            word.lower() == term
            or (
                re.search(rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])", term)
                if _LATIN.match(word)
                else word.lower() in term
            )
            for term in lowered
        )
    }


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _read_role(
    terms: _Terms,
    text: str,
    sentence: tuple[int, int],
    segment: tuple[int, int],
    figure: Figure,
    mentions: list[_Mention],
    parties: list[_Party],
    title_entities: set[str],
    title_places: set[str],
    title_listed: bool,
    article_places: set[str],
    compared: bool,
) -> Role:
    """The role of `figure` from its segment, its sentence and the title (see module doc)."""
    seg_start, seg_end = segment
    holder, entities, holder_from = _holder(text, segment, sentence, figure, parties)
    if holder_from == "none" and title_entities:
        holder, entities, holder_from = (
            "the title's " + "/".join(sorted(title_entities)),
            tuple(sorted(title_entities)),
            "list" if title_listed else "title",
        )
    # A conversion right after the figure ("64억 달러(약 8조 원)의 보조금") is skipped, so the
    # word after it reads as near.
    after = _CONVERSION_AFTER.match(text, figure.end, seg_end)
    rest = after.end() if after else figure.end
    # The nearest cue wins, so a window around the figure is all that is read; a figure
    # with its holder attached ("보조금이 삼성의 370억 달러 넘는 대미 투자") is not named by
    # words before that holder.
    low = max(seg_start, figure.start - _REACH)
    if holder_from == "attached" and holder:
        low = max(low, text.rfind(holder, low, figure.start))
    kind = kind_of(
        text[low : figure.end] + text[rest : min(seg_end, rest + _REACH)],
        figure.start - low,
        figure.end - low,
    )
    # With no word of its own, the sentence's nearest says what kind it is, more weakly.
    sentence_kind = kind is None
    if sentence_kind:
        low = max(sentence[0], figure.start - _REACH)
        high = min(sentence[1], figure.end + _REACH)
        kind = kind_of(text[low:high], figure.start - low, figure.end - low)
    # "$40 billion in investment from Samsung", "a $10bn investment from Microsoft": the
    # money is the investor's.
    source = _FROM_INVESTOR.match(text, rest, seg_end)
    if source and kind is not None and kind.value == "investment":
        investor = next((p for p in parties if p[0] == source.end()), None)
        if investor is not None:
            holder, entities, holder_from = investor[2], investor[3], "attached"
    relation = relation_of(
        text[seg_start : figure.start], text[rest:seg_end], text[sentence[0] : figure.start]
    )
    if compared and relation is None:
        relation = Cue("comparison", "than")
    in_segment = [m for m in mentions if seg_start <= m[0] and m[1] <= seg_end]
    places = (
        _places(terms, in_segment) or _places(terms, mentions) or title_places or article_places
    )
    return Role(
        holder,
        entities,
        holder_from,
        kind,
        tuple(sorted(places)),
        relation,
        tuple(sorted(_entities(terms, in_segment))),
        tuple(sorted(_entities(terms, mentions))),
        sentence_kind=sentence_kind and kind is not None,
        state=bool(holder and (_GRANTOR.search(holder) or _unpossessed(holder) in terms.places)),
    )


def _parties(
    terms: _Terms,
    text: str,
    sentence: tuple[int, int],
    mentions: list[_Mention],
    masked: Sequence[tuple[int, int]],
) -> list[_Party]:
    """Every party named in the sentence: watch entities and other capitalised names."""
    parties = [
        (s, e, text[s:e], tuple(sorted(terms.entities.get(t, ()))))
        for s, e, t in mentions
        if t in terms.entities
        or (
            t in terms.places
            and (
                (
                    (_possessive(text, s, e))
                    and not _BEFORE_A_NAME.match(text, _past_possessive(text, e))
                )
                or _GOVERNMENT.match(text, e)
                or _AS_SUBJECT.match(text, e)  # "Berlin approved", "Japan to spend"
            )
        )
    ]
    # A name may hold a place ("Texas Instruments"); it may not hold another term or a figure.
    taken = sorted([*((s, e) for s, e, t in mentions if t not in terms.places), *masked])
    start, end = sentence
    topic = _KO_TOPIC.match(text[start:end])
    if (
        topic
        and topic.group(1) not in _KO_POINTING
        and not any(s < start + topic.end(1) for s, _, t in mentions if t in terms.entities)
    ):
        parties.append((start + topic.start(1), start + topic.end(1), topic.group(1), ()))
    # In a headline written in Title Case every word has a capital: only known names count.
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text[start:end])
    title_case = len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)
    for match in () if title_case else _NAME.finditer(text, start, end):
        tokens = [
            (match.start() + t.start(), match.start() + t.end(), t.group())
            for t in re.finditer(r"\S+", match.group())
        ]
        first, last = 0, len(tokens)
        while first < last and _unpossessed(tokens[first][2]) in _NOT_NAMES:
            first += 1
        # "... promised in March.": a sentence's last word keeps its period.
        while last > first and tokens[last - 1][2].rstrip(".") in _NOT_NAMES:
            last -= 1
        if first == last:
            continue
        s, e = tokens[first][0], tokens[last - 1][1] - tokens[last - 1][2].endswith(".")
        name = text[s:e]
        if name in terms.places or _overlaps(taken, s, e):
            continue
        initial = not text[start:s].strip()
        if (
            initial
            and last - first == 1
            and not any(c.isupper() for c in name[1:])
            and not _AFTER_INITIAL_NAME.match(text, e)
            and not _possessive(text, s, e)
        ):
            continue  # "Chip supply may ...": a capital that only starts the sentence
        parties.append((s, e, name, ()))
    return sorted(parties)


def _holder(
    text: str,
    segment: tuple[int, int],
    sentence: tuple[int, int],
    figure: Figure,
    parties: list[_Party],
) -> tuple[str | None, tuple[str, ...], HolderFrom]:
    """The party whose money `figure` is: attached to it, else nearest in its segment, else
    nearest before it in its sentence."""
    seg_start, seg_end = segment
    parties = [
        p
        for p in parties
        if not _SOURCE_BEFORE.search(text[max(0, p[0] - 30) : p[0]])
        and not _SOURCE_AFTER.match(text, p[1])
        and not _COUNTERPARTY.search(text[max(0, p[0] - 10) : p[0]])
        and not _COUNTERPARTY_AFTER.match(text, p[1])
    ]
    for _, e, name, entities in parties:
        if e > figure.start:
            break
        # "Samsung's $17 billion", "인텔(85억 달러", a Korean headline's "삼성전자 170억 달러";
        # not English "grants TSMC 900B yen", where TSMC receives.
        attached = _ATTACHED_KO if _HANGUL.search(name) else _ATTACHED
        if attached.fullmatch(text, e, figure.start):
            return name, entities, "attached"
    # "SK Hynix will ... build its $3.87 billion packaging facility": the sentence's subject's.
    if _ITS.search(text, max(seg_start, figure.start - 12), figure.start):
        subject = next((p for p in parties if p[1] <= figure.start), None)
        if subject is not None:
            return subject[2], subject[3], "attached"
    before = [p for p in parties if seg_start <= p[0] and p[1] <= figure.start]
    # Korean marks the subject ("삼성전자도 인텔과 TSMC에 이어 64억 달러의 보조금을"): it
    # outranks a nearer party named in passing.
    # English puts the subject first ("SoftBank acquired Arm in 2016 for £24.3 billion"),
    # unless a possessive governs the figure ("Jim Keller on Sam Altman's plan to raise $7
    # trillion").
    governing = [
        p
        for p in before
        if _possessive(text, p[0], p[1]) and _GOVERNS.fullmatch(text, p[1], figure.start)
    ]
    if governing:
        return governing[-1][2], governing[-1][3], "segment"
    subjects = [p for p in before if _KO_SUBJECT.match(text, p[1])]
    if not subjects and before and not _HANGUL.search(text, seg_start, figure.start):
        subjects = before[:1]
    before = subjects or before
    after = [p for p in parties if figure.end <= p[0] and p[1] <= seg_end]
    # Outside its segment, the sentence's subject: its first party.
    earlier = [p for p in parties if sentence[0] <= p[0] and p[1] <= seg_start]
    # A subject that points back ("the U.S. company investing", "the chipmaker says") nearer
    # to the figure than any party names the watch entity named last before it.
    last = before[-1][1] if before else seg_start
    if _ANAPHOR_IN.search(text, last, figure.start):
        named = [p for p in parties if p[3] and p[1] <= figure.start]
        if named:
            return named[-1][2], named[-1][3], "sentence"
    for chosen, found in (
        (before[-1:], "segment"),
        (after[:1], "segment"),
        (earlier[:1], "sentence"),
    ):
        if chosen:
            _, _, name, entities = chosen[0]
            listed = _in_list(text, parties, parties.index(chosen[0]))
            return name, entities, "list" if listed else found  # type: ignore[return-value]
    return None, (), "none"


# Between two amounts of one list: a few words of what the first is for, a comma or "and",
# and a word or two of what the next is ("생산 390억 달러, 연구 110억 달러", "$65 million for
# training, $5 million for childcare"); never "from", "to" or "than", which make a change.
# Words that make a change, a verb or a total, never the gap between items of one list.
_NOT_IN_LIST = (
    r"(?!(?:from|to|than|up|down|has|have|had|is|was|were|will|would|could|may|\w+ed|total"
    r"|combined|총|합계|모두)(?:\b|(?=\s)))"
)
_LIST_GAP = re.compile(
    rf"(?:\s+{_NOT_IN_LIST}[^\s,]+){{0,4}}\s*(?:,|、|·|와|과|및|\band)\s*(?:and\s+)?"
    rf"(?:{_NOT_IN_LIST}[^\s,0-9$]+\s+){{0,2}}"
)


def _listed(text: str, index: int, figures: Sequence[Figure], roles: Sequence[Role | None]) -> bool:
    """Whether figure `index` stands in a list of amounts of one kind and one holder
    ("360조원, 122조원으로", "$12 billion in cash and $21.5 billion in stock"): each is a part.
    Amounts of different kinds ("a $450 million grant and $500 million in loans") or holders
    ("Samsung will invest $17 billion and Intel $20 billion") listed together are not."""
    figure, role = figures[index], roles[index]
    if role is None:
        return False
    for n in (index - 1, index + 1):  # figures are in text order: a list is of neighbours
        if not 0 <= n < len(figures) or roles[n] is None:
            continue
        other, other_role = figures[n], roles[n]
        assert other_role is not None
        gap = (figure.end, other.start) if n > index else (other.end, figure.start)
        if gap[0] > gap[1] or not _LIST_GAP.fullmatch(text, *gap):
            continue
        kinds = {r.kind.value for r in (role, other_role) if r.kind and not r.sentence_kind}
        owned = ("attached", "segment")
        holders = {r.holder for r in (role, other_role) if r.holder_from in owned and r.holder}
        if len(kinds) <= 1 and len(holders) <= 1:
            return True
    return False


def _same_holder(role: Role, earlier: Role) -> bool:
    """Whether `role` names no single holder of its own, or the same as `earlier`."""
    return (
        role.holder_from in ("none", "title", "list")
        or role.holder == earlier.holder
        or bool(set(role.entities) & set(earlier.entities))
    )


def _restated(figures: Sequence[Figure], index: int, roles: Sequence[Role | None]) -> int | None:
    """The latest figure before `index` of the same value, which figure `index` restates
    ("The $6.4 billion further bolsters ...", "그러나 9천조 달러는 ...")."""
    figure = figures[index]
    return next(
        (
            n
            for n in range(index - 1, -1, -1)
            if roles[n] is not None
            and figures[n].currency == figure.currency
            and (figures[n].low, figures[n].high) == (figure.low, figure.high)
        ),
        None,
    )


def _segment_of(text: str, start: int, end: int, figure: Figure) -> tuple[int, int, bool]:
    """The figure's clause, cut again at a comparison; True when the figure is the compared one.

    English names the compared figure after the marker ("smaller than the $7.86 billion"),
    Korean before it ("인텔의 85억 달러보다").
    """
    low, high = _clause_of(text, start, end, figure)
    compared = False
    for match in _COMPARISON.finditer(text, low, high):
        korean = _HANGUL.match(match.group()) is not None
        if match.end() <= figure.start and not korean:
            low, compared = match.end(), True
        elif match.start() >= figure.end:
            if korean and not text[figure.end : match.start()].strip(" 를을이가의도"):
                compared = True
            elif korean:
                # "9천조 달러는 전 세계 반도체 시장의 매출보다": what comes before 보다 is
                # the other side; the figure keeps its own word.
                space = text.find(" ", figure.end, match.start())
                high = space if space != -1 else high
            else:
                high = match.start()
            break
    return low, high, compared


@lru_cache(maxsize=64)
def _compile_terms(
    aliases: tuple[tuple[str, tuple[str, ...]], ...],
    places: tuple[tuple[str, tuple[str, ...]], ...],
    topics: frozenset[str],
) -> _Terms:
    entities: dict[str, set[str]] = {}
    for entity, names in aliases:
        for alias in names:
            entities.setdefault(alias, set()).add(entity)
    where: dict[str, set[str]] = {}
    for place, names in places:
        for name in (place, *names):
            where.setdefault(name, set()).add(place)
    written = {variant: word for word in topics for variant in _ordinal_variants(word)}
    terms = tuple(sorted({*entities, *where, *topics, *written}, key=lambda t: (-len(t), t)))
    # Terms are grouped by the script they start with, behind one check of the character
    # before and the one at the position: most positions fail that and skip every term.
    by_script: dict[str, list[str]] = {"latin": [], "hangul": [], "other": []}
    for n, term in enumerate(terms):
        script = "latin" if _LATIN.match(term) else "hangul" if _HANGUL.match(term) else "other"
        by_script[script].append(f"(?P<g{n}>{_term_pattern(term)})")
    firsts = "".join(sorted({re.escape(t[0]) for t in terms if _HANGUL.match(t)}))
    gates = {
        "latin": r"(?<![A-Za-z0-9])(?=[A-Za-z0-9])",
        "hangul": rf"(?<![가-힣])(?=[{firsts}])",
        "other": "",
    }
    pattern = "|".join(
        f"{gates[script]}(?:{'|'.join(alternatives)})"
        for script, alternatives in by_script.items()
        if alternatives
    )
    return _Terms(
        re.compile(pattern),
        terms,
        {alias: frozenset(names) for alias, names in entities.items()},
        {name: frozenset(ids) for name, ids in where.items()},
        written,
    )


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_ORDINAL_WORD = re.compile(rf"(?i)({'|'.join(_ORDINALS)}) ([a-z]+)")


def _ordinal_variants(word: str) -> tuple[str, ...]:
    """How news also writes an ordinal topic word: "second plant" as "2nd plant", "plant 2"
    and "Plant No. 2"; "제2공장" as "2공장"."""
    match = _ORDINAL_WORD.fullmatch(word)
    if match:
        n = _ORDINALS.index(match.group(1).lower()) + 1
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n, "th")
        noun = match.group(2)
        return (f"{n}{suffix} {noun}", f"{noun} {n}", f"{noun} No. {n}")
    korean = re.fullmatch(r"제(\d)(공장|팹|라인)", word)
    return (f"{korean.group(1)}{korean.group(2)}",) if korean else ()


def _compile(watch: Watch) -> _Terms:
    """The watch's compiled terms, cached by content so an edited rules file recompiles."""
    aliases = tuple((entity, tuple(names)) for entity, names in watch.entities.items())
    places = {**PLACES, **{p: (*PLACES.get(p, ()), *names) for p, names in watch.places.items()}}
    topics = frozenset(word for claim in watch.claims for word in (*claim.topic, *claim.unless))
    return _compile_terms(aliases, tuple(sorted(places.items())), topics)


def mentions(watch: Watch, text: str) -> bool:
    """Whether `text` names one of the watch's entities or keywords, matched as a figure's
    words are (above). A watch with neither matches everything: it has nothing to ask."""
    aliases = tuple((entity, tuple(names)) for entity, names in watch.entities.items())
    if not aliases and not watch.keywords:
        return True
    terms = _compile_terms(aliases, (), frozenset(watch.keywords))
    return terms.pattern.search(text) is not None


def _term_pattern(term: str) -> str:
    """The regex of one alias or topic word after its start (see `_compile_terms`).

    Latin terms end on a word boundary, after an optional plural or possessive; Hangul ones
    take any ending (particles). Short terms with a capital are case-sensitive.
    """
    body = r"\s+".join(re.escape(word) for word in term.split())
    sensitive = (len(term) <= 4 and any(c.isupper() for c in term)) or term.isupper()
    if _LATIN.match(term[-1]):
        suffix = r"(?:['’]s)?" if sensitive else r"(?:['’]s|s|es)?"
        body = f"{body}{suffix}(?![A-Za-z0-9])"
    return body if sensitive else f"(?i:{body})"


def _matches(
    terms: _Terms, text: str, offset: int, masked: Sequence[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """Every term in `text` as `(start, end, term)` in article offsets, skipping masked spans
    (sorted by start, as figures are)."""
    found = []
    for match in terms.pattern.finditer(text):
        start, end = match.start() + offset, match.end() + offset
        if _overlaps(masked, start, end):
            continue
        term = terms.terms[int((match.lastgroup or "g0")[1:])]
        found.append((start, end, terms.written.get(term, term)))
    return found


def _entities(terms: _Terms, words: list[_Mention]) -> set[str]:
    return {entity for _, _, term in words for entity in terms.entities.get(term, ())}


def _places(terms: _Terms, words: list[_Mention]) -> set[str]:
    return {place for _, _, term in words for place in terms.places.get(term, ())}


def _is_abbreviation(text: str, period: int) -> bool:
    """Whether the period at `period` ends an abbreviation like "U.S." or "Inc."."""
    word = text[: period + 1].rsplit(maxsplit=1)[-1].lstrip("\"'“‘([")
    return bool(_INITIALISM.fullmatch(word)) or word[:-1] in _ABBREVIATIONS


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentence_of(spans: list[tuple[int, int]], ends: list[int], figure: Figure) -> tuple[int, int]:
    """The span of the sentence(s) holding `figure`: from its first character to its last.
    `ends` are the spans' ends, for bisection."""
    n_first = bisect.bisect_right(ends, figure.start)
    n_last = bisect.bisect_left(ends, figure.end)
    first = spans[n_first] if n_first < len(spans) else (figure.start, figure.end)
    last = spans[n_last] if n_last < len(spans) else (figure.start, figure.end)
    return min(first[0], figure.start), max(last[1], figure.end)


def _clause_of(text: str, start: int, end: int, figure: Figure) -> tuple[int, int]:
    """The span, in article offsets, of the clause of the sentence `start:end` holding `figure`
    (at most twice `_REACH` on each side of it)."""
    low, high = max(start, figure.start - 2 * _REACH), min(end, figure.end + 2 * _REACH)
    for match in _CLAUSE_END.finditer(text, low, high):
        if match.end() <= figure.start:
            low = match.end()
        elif match.start() >= figure.end:
            high = match.start()
            break
    return low, high
