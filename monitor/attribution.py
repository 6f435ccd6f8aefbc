"""Stage Observation: which of a watch's claims each money figure of an article is about.

Pure: no I/O. A figure is attributed to a claim when its sentence, or the article's
title, names one of the claim's `about` entities, and its sentence names one of the
claim's `topic` words (or restates one of the claim's known values, see below).

Scoring, when a figure fits several claims; the highest score wins and a tie is
ambiguous (recorded, never alerted):

- each of the claim's entities named in the sentence: 2; named only in the title: 1;
- each of the claim's topic words in the figure's own clause: 3; elsewhere in the
  sentence: 1. One sentence often carries figures of several claims ("5조~7조 달러가
  필요한데, 1조 달러를 조달했으며"); the clause, cut at commas and at Korean and English
  clause endings, tells which words go with which figure;
- the figure lies within one of the claim's known values (tolerance included): 3, and this
  also stands in for a topic word. Articles repeat a figure without repeating why it
  matters ("그러나 9천조 달러는 ... 비현실적인 수치입니다"); and a figure that lies within a
  known value can only ever be "unchanged", so this rule cannot raise a false alert.

Aliases and topic words: Latin ones match on word boundaries, with an optional plural or
possessive ("fabs", "Nvidia's", not "fabulous"); short ones with a capital ("Arm", "US",
"TSMC") match case-sensitively and take only a possessive, so "army" and "Arms" are not
Arm. Hangul ones match at the start of a word with any ending, so particles attach
("알트먼은", "엔비디아의") but 한국 is not found inside 대한민국. A word inside a figure's own
text ("9천 조달러" holds 조달) counts for nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from monitor.diff import KnownValue, ToUsd, ecb_usd, known_values, matching_value
from monitor.figures import Figure
from monitor.rules import ClaimRule, Watch

_IN_SENTENCE, _IN_TITLE = 2, 1
_IN_CLAUSE, _ELSEWHERE = 3, 1
_KNOWN_VALUE = 3

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
# A clause ends at a comma or semicolon, a dash, an English conjunction, or a Korean
# connective ending: -는데/-ㄴ데, -지만, -며/-면서, and -고 after a verb stem.
_CLAUSE_END = re.compile(
    r"[,;，](?=\s)|…|\s[—–-]\s|\s(?:and|but|while|whereas|although|though)\s"
    r"|(?<=[가-힣])(?:데|지만|며|면서|[하되있했였됐않이았었겠]고)(?=\s)"
)


@dataclass(frozen=True, slots=True)
class Attribution:
    """The claim a figure of an article is about; `claim` is None when claims tie."""

    figure: Figure
    index: int  # index of the figure in the extract() list
    claim: str | None  # claim id; None when ambiguous
    candidates: tuple[str, ...]  # the tied claims when ambiguous (else (claim,))
    quote: str  # the sentence holding the figure, stripped
    score: int


@dataclass(frozen=True, slots=True)
class _Terms:
    """A watch's aliases and topic words compiled into one pattern."""

    pattern: re.Pattern[str]
    terms: tuple[str, ...]  # group gN of `pattern` matches terms[N]
    entities: Mapping[str, frozenset[str]]  # alias -> the entities it names


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


def attribute(
    watch: Watch,
    title: str,
    text: str,
    figures: Sequence[Figure],
    *,
    on: date | None = None,
    known: Mapping[str, Sequence[KnownValue]] | None = None,
    to_usd: ToUsd = ecb_usd,
) -> list[Attribution]:
    """The claim each of `figures` (from `extract(text)`) is about; those fitting none are left out.

    `title` only supplies entities, so `text` may or may not start with it. `on` is the
    day the article was published (default: each claim's `as_of`), `known` the known
    values by claim id (default: the values stated in the rules). A figure that restates
    another (`conversion_of`) is left out: its original is attributed.
    """
    if not figures or not watch.claims:
        return []
    terms = _compile(watch)
    in_title = _entities(terms, _matches(terms, title, 0, ()))
    spans = sentences(text)
    masked = [(figure.start, figure.end) for figure in figures]
    values = {
        claim.id: known[claim.id] if known and claim.id in known else known_values(claim)
        for claim in watch.claims
    }
    words_of: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    out: list[Attribution] = []
    for index, figure in enumerate(figures):
        if figure.conversion_of is not None:
            continue
        start, end = _sentence_of(spans, figure)
        if (start, end) not in words_of:
            words_of[start, end] = _matches(terms, text[start:end], start, masked)
        words = words_of[start, end]
        clause_start, clause_end = _clause_of(text, start, end, figure)
        near = {term for s, e, term in words if clause_start <= s and e <= clause_end}
        far = {term for _, _, term in words} - near
        named = _entities(terms, words)
        scores: dict[str, int] = {}
        for claim in watch.claims:
            restated = matching_value(
                figure, on or claim.as_of, values[claim.id], claim.tolerance, to_usd
            )
            score = _score(claim, named, in_title, near, far, restated is not None)
            if score:
                scores[claim.id] = score
        if not scores:
            continue
        best = max(scores.values())
        tied = tuple(claim for claim, score in scores.items() if score == best)
        winner = tied[0] if len(tied) == 1 else None
        out.append(Attribution(figure, index, winner, tied, text[start:end], best))
    return out


def _score(
    claim: ClaimRule,
    named: set[str],
    in_title: set[str],
    near: set[str],
    far: set[str],
    restated: bool,
) -> int:
    """How strongly a figure belongs to `claim`; 0 when it does not (see the module doc).

    `named`/`in_title`: entities in the figure's sentence and in the title; `near`/`far`:
    terms in the figure's clause and elsewhere in its sentence; `restated`: the figure
    lies within one of the claim's known values. A word of the claim's `unless` list in
    the figure's clause rules the claim out ("a $6.4 billion grant" is not an investment).
    """
    entity = sum(
        _IN_SENTENCE if e in named else _IN_TITLE if e in in_title else 0 for e in claim.about
    )
    topic = sum(
        _IN_CLAUSE if word in near else _ELSEWHERE if word in far else 0 for word in claim.topic
    )
    if not entity or not (topic or restated) or near.intersection(claim.unless):
        return 0
    return entity + topic + (_KNOWN_VALUE if restated else 0)


@lru_cache(maxsize=64)
def _compile_terms(
    aliases: tuple[tuple[str, tuple[str, ...]], ...], topics: frozenset[str]
) -> _Terms:
    entities: dict[str, set[str]] = {}
    for entity, names in aliases:
        for alias in names:
            entities.setdefault(alias, set()).add(entity)
    terms = tuple(sorted({*entities, *topics}, key=lambda t: (-len(t), t)))
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
    frozen = {alias: frozenset(names) for alias, names in entities.items()}
    return _Terms(re.compile(pattern), terms, frozen)


def _compile(watch: Watch) -> _Terms:
    """The watch's compiled terms, cached by content so an edited rules file recompiles."""
    aliases = tuple((entity, tuple(names)) for entity, names in watch.entities.items())
    topics = frozenset(word for claim in watch.claims for word in (*claim.topic, *claim.unless))
    return _compile_terms(aliases, topics)


def _term_pattern(term: str) -> str:
    """The regex of one alias or topic word after its start (see `_compile_terms`).

    Latin terms end on a word boundary, after an optional plural or possessive; Hangul ones
    take any ending (particles). Short terms with a capital are case-sensitive.
    """
    body = r"\s+".join(re.escape(word) for word in term.split())
    sensitive = len(term) <= 4 and any(c.isupper() for c in term)
    if _LATIN.match(term[-1]):
        suffix = r"(?:['’]s)?" if sensitive else r"(?:['’]s|s|es)?"
        body = f"{body}{suffix}(?![A-Za-z0-9])"
    return body if sensitive else f"(?i:{body})"


def _matches(
    terms: _Terms, text: str, offset: int, masked: Sequence[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """Every term in `text` as `(start, end, term)` in article offsets, skipping masked spans."""
    found = []
    for match in terms.pattern.finditer(text):
        start, end = match.start() + offset, match.end() + offset
        if any(start < m_end and m_start < end for m_start, m_end in masked):
            continue
        found.append((start, end, terms.terms[int((match.lastgroup or "g0")[1:])]))
    return found


def _entities(terms: _Terms, words: list[tuple[int, int, str]]) -> set[str]:
    return {entity for _, _, term in words for entity in terms.entities.get(term, ())}


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


def _sentence_of(spans: list[tuple[int, int]], figure: Figure) -> tuple[int, int]:
    """The span of the sentence(s) holding `figure`: from its first character to its last."""
    first = next((s for s in spans if s[1] > figure.start), (figure.start, figure.end))
    last = next((s for s in spans if s[1] >= figure.end), (figure.start, figure.end))
    return min(first[0], figure.start), max(last[1], figure.end)


def _clause_of(text: str, start: int, end: int, figure: Figure) -> tuple[int, int]:
    """The span, in article offsets, of the clause of the sentence `start:end` holding `figure`."""
    low, high = start, end
    for match in _CLAUSE_END.finditer(text, start, end):
        if match.end() <= figure.start:
            low = match.end()
        elif match.start() >= figure.end:
            high = match.start()
            break
    return low, high
