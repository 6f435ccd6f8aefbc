"""Draft a watch from one article: its money claims, who holds them, words and searches.

Pure: text in, a `Draft` out, and the Draft as a rules file (`to_yaml`). Each figure is
read the way attribution reads it (`monitor.attribution.explain`, over a watch that
knows nothing yet): a figure that is someone's money of a known kind becomes a claim;
a conversion, a comparison, an increment, a vague magnitude, a price or a figure no one
holds is noted, with the reason, and left out. The draft is then checked against its
own article, as a feed carrying it would be: a claim that another of the article's
figures would tie to keeps that value as an `also`, so the article never alerts
against its own draft; what a person must decide is marked `# check`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from monitor.attribution import Attribution, explain
from monitor.figures import Figure, extract
from monitor.roles import PLACES
from monitor.rules import Watch

# Kinds that are someone's money raised, held, spent or owed; a price or a market's size is not.
_CLAIM_KINDS = {
    "investment": "investment",
    "target": "money sought",
    "raised": "money raised",
    "deal": "deal price",
    "valuation": "valuation",
    "grant": "grant",
    "loan": "loan",
    "revenue": "revenue",
    "profit": "profit",
    "fine": "fine",
    "export": "exports",
}
_NOTED_RELATIONS = {"comparison", "increment", "difference", "per_period"}
MAX_CLAIMS = 30
MAX_TOPIC = 5  # topic words per claim, nearest the figure first
MAX_KEYWORDS = 8
MAX_SEARCHES = 3  # per language

# Korean particles after a name: subject, topic, possessive, "and", "also", "to".
_KO_PARTICLE = re.compile(
    r"(?:은|는|이|가|의|과|와|도|을|를|에게|에서|에|로|으로|이며|이자|까지|부터|보다|만)$"
)
# Verb and adjective endings, cut to the stem a topic word matches within: "조달했으며" ->
# "조달", "건설하고" -> "건설", "필요한데" -> "필요".
_KO_ENDING = re.compile(
    r"(?:했으며|했습니다|했다|했고|하며|하고|하기|하는|한데|할|한|하려는|하겠다|이라는|이라|"
    r"으며|습니다|된|되는|될)$"
)
_KO_SUBJECT_END = re.compile(r"(?:은|는|이|가|도)$")
_KO_TITLES = frozenset({"회장", "부회장", "사장", "대표", "CEO", "총리", "대통령", "장관", "의장"})
# Words that point back or say when, never whose money: "이 프로젝트는", "이는", "현재".
_KO_NOT_HOLDERS = frozenset(
    {
        "이",
        "그",
        "이는",
        "그는",
        "이들",
        "그들",
        "이번",
        "현재",
        "올해",
        "최근",
        "당시",
        "이후",
        "지난해",
        "작년",
        "프로젝트",
        "계획",
        "회사",
        "정부",
        "기업",
        "업계",
        "시장",
        "규모",
        "금액",
        "투자",
        "자금",
    }
)
_PLACE_NAMES = frozenset(
    name.rstrip(".") for names in PLACES.values() for name in names
) | frozenset(name for names in PLACES.values() for name in names)
_HANGUL_WORD = re.compile(r"[가-힣][가-힣A-Za-z0-9]*")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]{3,}")
_STOP_EN = frozenset(
    [
        "about",
        "after",
        "also",
        "amid",
        "among",
        "back",
        "been",
        "before",
        "being",
        "billion",
        "could",
        "dollars",
        "does",
        "during",
        "each",
        "from",
        "have",
        "into",
        "just",
        "last",
        "like",
        "made",
        "make",
        "many",
        "more",
        "most",
        "much",
        "next",
        "over",
        "plan",
        "plans",
        "said",
        "says",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "trillion",
        "under",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "year",
        "years",
        "million",
        "percent",
        "company",
        "companies",
    ]
)
_STOP_KO = frozenset(
    [
        "달러",
        "조원",
        "억원",
        "만원",
        "원",
        "조",
        "억",
        "약",
        "총",
        "현재",
        "이는",
        "이를",
        "있다",
        "있는",
        "있습니다",
        "했다",
        "했으며",
        "밝혔다",
        "밝혔습니다",
        "위해",
        "대해",
        "통해",
        "따르면",
        "등",
        "것",
        "것으로",
        "수",
        "더",
        "또",
        "및",
        "그",
        "이",
        "저",
        "정도",
        "가장",
    ]
)
_PAREN_ALIAS = re.compile(r"\s*\(([A-Za-z][A-Za-z0-9&.\- ]{1,40}|[가-힣][가-힣 ]{0,20})\)")


@dataclass(frozen=True, slots=True)
class DraftClaim:
    """One claim of the draft: a figure the article states as someone's money."""

    id: str
    title: str
    value: str  # as written
    quote: str
    about: tuple[str, ...]
    kind: tuple[str, ...]
    where: tuple[str, ...]
    topic: tuple[str, ...]
    also: tuple[str, ...] = ()  # other values of the article the claim's words would tie
    checks: tuple[str, ...] = ()  # what a person must decide


@dataclass(frozen=True, slots=True)
class Noted:
    """A figure the article states that is not a claim, and why."""

    text: str
    quote: str
    why: str


@dataclass(slots=True)
class Draft:
    """A watch drafted from one article."""

    watch: str
    title: str
    as_of: date
    entities: dict[str, list[str]]
    claims: list[DraftClaim]
    keywords: list[str]
    searches: list[tuple[str, str]]  # (query, lang)
    noted: list[Noted]
    checks: list[str] = field(default_factory=list)


def draft(
    text: str, *, published: date, title: str | None = None, lang: str | None = None
) -> Draft:
    """The watch one article suggests. `title`: the headline (default: the first line)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    headline = (title or text.strip().split("\n", 1)[0]).strip()
    figures = extract(text, lang=lang if lang in ("en", "ko") else None)
    empty = Watch(watch="draft", title=headline or "draft", entities={})
    read = explain(empty, headline, text, figures)
    fallback = _title_holder(headline)
    holders: dict[int, list[str]] = {}
    noted: list[Noted] = []
    for a in read:
        why = _not_a_claim(a, figures)
        found = [] if why else _holders_of(a, text, fallback)
        if why is None and not found:
            why = "no one's money is named near it"
        if why:
            noted.append(Noted(a.figure.text, a.quote, why))
        else:
            holders[a.index] = found
    entities = _entities(text, [name for names in holders.values() for name in names])
    entity_of = {name: eid for eid, names in entities.items() for name in names}
    claims = _claims(text, read, figures, holders, entity_of, entities)
    keywords = _keywords(text, claims)
    result = Draft(
        watch=_watch_slug(entities, claims, keywords),
        title=headline or "Drafted watch",
        as_of=published,
        entities={eid: names for eid, names in entities.items() if _used(eid, claims)},
        claims=claims,
        keywords=keywords,
        searches=_searches(entities, claims, keywords),
        noted=noted,
    )
    return _checked(result, text, headline, figures)


def _not_a_claim(a: Attribution, figures: Sequence[Figure]) -> str | None:
    """Why figure `a` is noted rather than drafted as a claim; None when it is a claim."""
    f, role = a.figure, a.role
    if f.conversion_of is not None:
        return f"a conversion of {figures[f.conversion_of].text}"
    if f.vague:
        return "vague: it bounds a magnitude, not a value"
    if f.role == "from":
        return "the earlier value of a change the sentence reports"
    if role is None:
        return a.why or "not read"
    if role.relation is not None and role.relation.value in _NOTED_RELATIONS:
        return f"{role.relation.value.replace('_', ' ')} ({role.relation.words!r})"
    if role.kind is None:
        return "no word says what money it is"
    if role.kind.value not in _CLAIM_KINDS:
        return f"{role.kind.value} ({role.kind.words!r}), not someone's funding"
    return None


def _holders_of(a: Attribution, text: str, fallback: str | None) -> list[str]:
    """Whose money `a` is, first the holder: in Korean the subject marked before it
    ("엔비디아가 ... ARM을 400억 달러에"), then the party attribution read (the other side of
    a deal); else that party; else the headline's subject."""
    role = a.role
    quote_at = text.find(a.quote)
    before = text[quote_at : a.figure.start] if quote_at >= 0 else ""
    read = _name(role.holder) if role and role.holder and role.holder_from != "none" else None
    # A place named in passing ("in U.S. factories") is where, not whose,
    # unless it acts as a state ("the Korean government", "대한민국이").
    if read and read in _PLACE_NAMES and not (role and role.state):
        read = None
    subject = _ko_subject(before) if _HANGUL_WORD.search(before) else None
    found = [name for name in (subject, read) if name]
    return list(dict.fromkeys(found)) or ([fallback] if fallback else [])


def _ko_subject(before: str) -> str | None:
    """The last subject-marked name before a figure: "샘 알트먼은" -> "샘 알트먼", "삼성전자의
    이재용 부회장은" -> "삼성전자" (a title's holder is the company before it)."""
    tokens = before.split()
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        if not _KO_SUBJECT_END.search(token):
            continue
        stem = _KO_PARTICLE.sub("", token)
        if stem in _KO_TITLES and i >= 2 and tokens[i - 2].endswith("의"):
            return _KO_PARTICLE.sub("", tokens[i - 2])
        if stem in _KO_NOT_HOLDERS or len(stem) < 2 or not _HANGUL_WORD.fullmatch(stem):
            if stem in _KO_NOT_HOLDERS:
                return None  # "이 프로젝트는": the story's subject, from the headline
            continue
        # A one-syllable given name before it: "샘 알트먼".
        if i >= 1 and len(tokens[i - 1]) == 1 and _HANGUL_WORD.fullmatch(tokens[i - 1]):
            return f"{tokens[i - 1]} {stem}"
        return stem
    return None


def _title_holder(headline: str) -> str | None:
    """The headline's subject: its first name, Korean or English."""
    match = re.match(
        r"\s*((?:[가-힣]\s)?[가-힣A-Za-z0-9]+?)(?:과|와|의|은|는|이|가|,|\s|$)", headline
    )
    if match and len(match.group(1)) >= 2 and match.group(1) not in _KO_NOT_HOLDERS:
        return match.group(1)
    names = re.findall(r"[A-Z][A-Za-z0-9&.\-]*(?:\s+[A-Z][A-Za-z0-9&.\-]*)*", headline)
    return names[0] if names else None


def _name(holder: str) -> str:
    holder = re.sub(r"(?:'s|’s)$", "", holder.strip())
    return _KO_PARTICLE.sub("", holder) if _HANGUL_WORD.match(holder) else holder


def _entities(text: str, names: list[str]) -> dict[str, list[str]]:
    """Entity id -> aliases: names that share a last word are one ("Sam Altman", "Altman");
    a multi-word name's last word is an alias when the article uses it alone; a name in
    parentheses after one ("오픈AI(OpenAI)") is an alias in the other language."""
    groups: list[list[str]] = []
    for name in sorted(set(names), key=lambda n: (-len(n), n)):
        last = name.split()[-1]
        home = next((g for g in groups if g[0].split()[-1] == last or last in g[0]), None)
        if home is None:
            groups.append([name])
        elif name not in home:
            home.append(name)
    entities: dict[str, list[str]] = {}
    for group in groups:
        full = group[0]
        last = full.split()[-1]
        if last != full and len(last) >= 2 and re.search(rf"(?<![\w가-힣]){re.escape(last)}", text):
            group.append(last)
        for alias in list(group):
            for match in re.finditer(re.escape(alias) + _PAREN_ALIAS.pattern, text):
                group.append(match.group(1).strip())
        aliases = list(dict.fromkeys(group))
        ascii_alias = next((a for a in aliases if a.isascii()), None)
        eid = _slug(ascii_alias or full, "entity")
        while eid in entities:
            eid += "-2"
        entities[eid] = aliases
    return entities


def _claims(
    text: str,
    read: list[Attribution],
    figures: Sequence[Figure],
    holders: dict[int, list[str]],
    entity_of: dict[str, str],
    entities: dict[str, list[str]],
) -> list[DraftClaim]:
    """One claim per distinct value, from its first mention; restatements join it."""
    claims: list[DraftClaim] = []
    seen: dict[tuple[str, float, float], int] = {}
    for a in read:
        if a.index not in holders or len(claims) >= MAX_CLAIMS:
            continue
        f, role = a.figure, a.role
        assert role is not None and role.kind is not None
        value = (f.currency, f.low, f.high)
        if value in seen:
            continue
        seen[value] = len(claims)
        holder = holders[a.index][0]
        about = tuple(dict.fromkeys(entity_of[name] for name in holders[a.index]))
        eid = about[0]
        kind = role.kind.value
        where = _where(a.quote)
        base = f"{eid}-{kind}"
        cid, n = base, 2
        while any(c.id == cid for c in claims):
            cid, n = f"{base}-{n}", n + 1
        place = f" in {where[0]}" if where else ""
        claims.append(
            DraftClaim(
                id=cid,
                title=f"{holder}: {_CLAIM_KINDS[kind]}{place}",
                value=_value_text(f),
                quote=a.quote,
                about=about,
                kind=(kind,),
                where=where,
                topic=_topic(text, a, holder),
                checks=()
                if role.holder_from != "title"
                else ("whose money: read from the headline",),
            )
        )
    return claims


def _value_text(f: Figure) -> str:
    """The value as written, made a single amount or range a rules file reads back."""
    written = f.text.strip()
    return written if len(extract(written)) == 1 else f"{f.low:g}..{f.high:g} {f.currency}"


def _where(quote: str) -> tuple[str, ...]:
    """The one place the figure's sentence names, if exactly one."""
    named = [
        pid
        for pid, names in PLACES.items()
        if any(re.search(rf"(?<![\w가-힣]){re.escape(n)}", quote) for n in names)
    ]
    return tuple(named) if len(named) == 1 else ()


def _topic(text: str, a: Attribution, holder: str) -> tuple[str, ...]:
    """Content words of the figure's sentence, nearest the figure first."""
    quote_at = max(text.find(a.quote), 0)
    at = a.figure.start - quote_at
    words: list[tuple[int, str]] = []
    for pattern, stop in ((_HANGUL_WORD, _STOP_KO), (_LATIN_WORD, _STOP_EN)):
        for match in pattern.finditer(a.quote):
            if match.start() and a.quote[match.start() - 1].isdigit():
                continue  # the unit of a number: "622조원이라는"
            word = match.group()
            if pattern is _HANGUL_WORD:
                stem = _KO_ENDING.sub("", _KO_PARTICLE.sub("", word))
                word = stem if len(stem) >= 2 else _KO_PARTICLE.sub("", word)
            word = re.sub(r"(?:'s|’s)$", "", word)
            if (
                len(word) < 2
                or word.lower() in stop
                or word.lower() in holder.lower()
                or word in a.figure.text
                or any(ch.isdigit() for ch in word)
            ):
                continue
            distance = min(abs(match.start() - at), abs(match.end() - at))
            words.append((distance, word if pattern is _HANGUL_WORD else word.lower()))
    ordered = [w for _, w in sorted(words)]
    return tuple(dict.fromkeys(ordered))[:MAX_TOPIC]


def _keywords(text: str, claims: list[DraftClaim]) -> list[str]:
    """The claims' topic words the article uses most."""
    counts = Counter({w: text.count(w) for c in claims for w in c.topic})
    return [w for w, _ in counts.most_common(MAX_KEYWORDS)]


def _searches(
    entities: dict[str, list[str]], claims: list[DraftClaim], keywords: list[str]
) -> list[tuple[str, str]]:
    """Google News searches in Korean and English: an entity's name and the keyword of its
    claims the article uses most, for the entities holding most claims."""
    held = Counter(c.about[0] for c in claims)
    searches: list[tuple[str, str]] = []
    for lang, script in (("ko", _HANGUL_WORD), ("en-US", re.compile(r"[A-Za-z]"))):
        for eid, _ in held.most_common():
            name = next((n for n in entities.get(eid, []) if script.match(n)), None)
            if name is None:
                continue
            own = {t for c in claims if c.about[0] == eid for t in c.topic}
            word = next(
                (k for k in keywords if k in own and script.match(k) and k not in name), None
            )
            query = f"{name} {word}" if word else name
            if (query, lang) not in searches:
                searches.append((query, lang))
            if sum(1 for _, lg in searches if lg == lang) >= MAX_SEARCHES:
                break
    return searches


def _watch_slug(
    entities: dict[str, list[str]], claims: list[DraftClaim], keywords: list[str]
) -> str:
    """The watch's slug: the entity holding most claims, and the top keyword."""
    held = Counter(c.about[0] for c in claims)
    parts = [held.most_common(1)[0][0]] if held else ["draft"]
    if keywords:
        parts.append(_slug(keywords[0], ""))
    return "-".join(p for p in parts if p)[:60].strip("-") or "draft"


def _used(eid: str, claims: list[DraftClaim]) -> bool:
    return any(eid in c.about for c in claims)


def _checked(d: Draft, text: str, headline: str, figures: Sequence[Figure]) -> Draft:
    """The draft run over its own article: a claim another value of it ties to takes that
    value as `also` (the article states both); a claim its own figure does not tie to is
    marked for a person to check."""
    if not d.claims:
        d.checks.append("no money claim found: the article states no figure as someone's money")
        return d
    watch = Watch.model_validate(_as_data(d))
    found = explain(watch, headline, text, figures)
    claims = []
    for claim in d.claims:
        own = watch_claim = next(c for c in watch.claims if c.id == claim.id)
        mine = [a for a in found if a.claim == claim.id or claim.id in a.candidates]
        also: list[str] = []
        for a in mine:
            f = a.figure
            if (f.currency, f.low, f.high) != (
                own.figure.currency,
                own.figure.low,
                own.figure.high,
            ) and not (f.vague or f.conversion_of is not None or f.role == "from"):
                written = _value_text(f)
                if written not in also and written != claim.value:
                    also.append(written)
        checks = list(claim.checks)
        if not any(
            a.figure.text == claim.value or a.figure.low == watch_claim.figure.low for a in mine
        ):
            reason = next(
                (
                    why
                    for a in found
                    if a.figure.low == watch_claim.figure.low
                    for c, why in a.rejected
                    if c == claim.id
                ),
                "not tied",
            )
            checks.append(f"its own sentence does not tie to it: {reason}")
        if also:
            checks.append("the article states other values its words tie to; kept as `also`")
        claims.append(
            DraftClaim(
                claim.id,
                claim.title,
                claim.value,
                claim.quote,
                claim.about,
                claim.kind,
                claim.where,
                claim.topic,
                tuple(also),
                tuple(checks),
            )
        )
    d.claims = claims
    return d


def _as_data(d: Draft) -> dict[str, object]:
    """The draft as the plain data of a rules file."""
    return {
        "watch": d.watch,
        "title": d.title,
        "entities": d.entities,
        "keywords": d.keywords,
        "feeds": [{"google_news": q, "lang": lang, "every": "30m"} for q, lang in d.searches],
        "claims": [
            {
                "id": c.id,
                "title": c.title,
                "about": list(c.about),
                **({"kind": list(c.kind)} if c.kind else {}),
                **({"where": list(c.where)} if c.where else {}),
                "topic": list(c.topic) or [c.value],
                "value": c.value,
                "as_of": d.as_of.isoformat(),
                "quote": c.quote,
                **({"also": [{"value": v} for v in c.also]} if c.also else {}),
            }
            for c in d.claims
        ],
    }


def to_yaml(d: Draft, *, source: str) -> str:
    """The draft as a rules file, with `# check` comments where a person must decide."""
    data = _as_data(d)
    q = _quoted
    lines = [
        f"# Drafted by `monitor rules draft` from {source}.",
        "# Read every `# check` line, then `monitor rules check` this file.",
        f"watch: {d.watch}",
        f"title: {q(d.title)}",
        *(f"# check: {c}" for c in d.checks),
        "",
        "entities:",
    ]
    for eid, names in d.entities.items():
        lines.append(f"  {eid}: [{', '.join(q(n) for n in names)}]")
    if not d.entities:
        lines[-1] = "entities: {}"
    lines += ["", f"keywords: [{', '.join(q(k) for k in d.keywords)}]", ""]
    if d.searches:
        lines.append("feeds:")
        for feed in data["feeds"]:  # type: ignore[attr-defined]
            lines += [
                f"  - google_news: {q(feed['google_news'])}",
                f"    lang: {feed['lang']}",
                f"    every: {feed['every']}",
            ]
    else:
        lines.append("feeds: []  # check: add feeds; no search could be built")
    if not any(lang == "en-US" for _, lang in d.searches):
        lines.append("# check: the article names no one in English; add an English search")
    lines += ["", "claims:" if d.claims else "claims: []"]
    for claim, c in zip(d.claims, data["claims"], strict=True):  # type: ignore[call-overload]
        lines.append(f"  - id: {c['id']}")
        lines += [f"    # check: {text}" for text in claim.checks]
        lines += [f"    title: {q(c['title'])}", f"    about: [{', '.join(c['about'])}]"]
        if "kind" in c:
            lines.append(f"    kind: [{', '.join(c['kind'])}]")
        if "where" in c:
            lines.append(f"    where: [{', '.join(c['where'])}]")
        lines += [
            f"    topic: [{', '.join(q(t) for t in c['topic'])}]",
            f"    value: {q(c['value'])}",
            f"    as_of: {c['as_of']}",
            f"    quote: {q(c['quote'])}",
        ]
        if "also" in c:
            lines.append("    also:")
            lines += [f"      - value: {q(v['value'])}" for v in c["also"]]
    if d.noted:
        lines += ["", "# Figures the article states that are not claims:"]
        lines += [f"#   {n.text}: {n.why}" for n in d.noted]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax, which YAML reads)."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def _slug(text: str, default: str) -> str:
    """A rules slug: ASCII words, or a romanization of Korean ("샘 알트먼" -> "saem-alteumeon")."""
    romanized = "".join(_romanize(ch) for ch in text)
    slug = re.sub(r"[^a-z0-9]+", "-", romanized.lower()).strip("-")
    return slug or default


_INITIALS = [
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "-",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
]
_MEDIALS = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_FINALS = [
    "",
    *[
        "k",
        "k",
        "k",
        "n",
        "n",
        "n",
        "t",
        "l",
        "k",
        "m",
        "l",
        "l",
        "l",
        "l",
        "l",
        "m",
        "p",
        "p",
        "t",
        "t",
        "ng",
        "t",
        "t",
        "k",
        "t",
        "p",
        "t",
    ],
]


def _romanize(ch: str) -> str:
    """One Hangul syllable in Revised Romanization (letter by letter); other text as is."""
    code = ord(ch) - 0xAC00
    if not 0 <= code < 11172:
        return ch
    initial, medial, final = code // 588, (code % 588) // 28, code % 28
    return _INITIALS[initial].replace("-", "") + _MEDIALS[medial] + _FINALS[final]


@dataclass(frozen=True, slots=True)
class Page:
    """An article page's main text, headline and date, as trafilatura reads them."""

    text: str
    title: str | None
    published: date | None


def read_page(html: str | bytes, url: str | None = None) -> Page:
    """The main text of an HTML page (boilerplate left out), its headline and its date."""
    # Imported here: trafilatura and its dependencies are heavy and serve only this.
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False) or ""
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None else None
    published = None
    if meta is not None and meta.date:
        try:
            published = date.fromisoformat(meta.date[:10])
        except ValueError:
            published = None
    body = text.strip()
    if title and not body.startswith(title):
        body = f"{title}\n{body}"
    return Page(body, title, published)
