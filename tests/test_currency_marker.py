"""The pre-check that lets `extract` skip sentences without money (`_has_currency_marker`) is
written for `re` to scan quickly and to pass few texts without money. It must never skip a
text in which the reader finds money, and it only narrows the simpler pattern it replaced
(which passed "research centre", and skipped "5-달러" though the reader reads it)."""

from __future__ import annotations

import itertools
import random
import re

from monitor.figures import (
    _CODES,
    _EN_LAST_WORDS,
    _KO_MARKERS,
    _SYMBOLS,
    _UPPER_CODES,
    _has_currency_marker,
    _Money,
    _scan,
    _trie,
    extract,
)

# The pre-check as one alternation, as it was written before (plus the hyphen before a unit).
_LATIN = [*_EN_LAST_WORDS, "cent", "rs", "rm", *(c.lower() for c in (*_CODES, *_UPPER_CODES))]
REFERENCE = re.compile(
    _trie([*_SYMBOLS, "¢"])
    + r"|[-\d\s십백천만억조경](?:"
    + _trie(_KO_MARKERS)
    + r")|[일이삼사오육칠팔구](?:"
    + _trie([name for name in _KO_MARKERS if len(name) > 1])
    + r")|[\d\s십백천만억조경점쩜일이삼사오육칠팔구][일이삼사오육칠팔구][원불엔]|(?<![a-z])m?(?:"
    + _trie(_LATIN)
    + ")"
)
MARKERS = [*_SYMBOLS, "¢", *_LATIN, *("m" + w for w in _LATIN), *_KO_MARKERS, "원", "불", "엔"]
# What may stand before a marker: nothing, space, Latin letters (m leads "musd"), digits,
# Hangul numerals and other syllables, punctuation, a non-ASCII Latin letter.
BEFORE = ["", " ", "\t", "a", "m", "z", "5", "x5", "-", ".", "é", "$"]
BEFORE += ["가", "조", "일", "이", "십", "점", "5일", "가이"]
AFTER = ["", " ", "s", "x", "화", "인", "5"]


AMOUNTS = ["5", " 5", "5 ", "1.5", "five", " five ", "조", "억", "5조", "오", "천"]


def _check(text: str) -> None:
    """Skipped only if the reader finds no money in it; passed only if the old one passed it."""
    lower = text.lower()
    if _has_currency_marker(lower):
        assert REFERENCE.search(lower), text
    else:
        money = [m for m in _scan(text, lower, korean=True) if isinstance(m, _Money)]
        assert not money, (text, money)


def test_every_marker_in_every_context_next_to_an_amount() -> None:
    for before, marker, after in itertools.product(BEFORE, MARKERS, AFTER):
        for amount in ("", "5", "five"):
            for text in (amount + before + marker + after, before + marker + after + amount):
                _check(text)
                _check(text.upper())
                _check(f"the plan {text} was")  # inside longer ASCII or mixed text
                _check(f"계획은 {text}이다")


def test_random_glued_text() -> None:
    rng = random.Random(13)
    pieces = [*MARKERS, *BEFORE, *AFTER, *AMOUNTS, "percent", "centre", "years", "연구원", "AI"]
    pieces += [piece.upper() for piece in pieces]
    for _ in range(30_000):
        _check("".join(rng.choice(pieces) for _ in range(rng.randint(1, 7))))


def test_sentences_without_a_marker_are_skipped_and_with_one_are_read() -> None:
    assert not _has_currency_marker("shares rose 5% in 2024, the decade's best, in seoul.")
    assert not _has_currency_marker("it opened a new research centre in london.")
    assert not _has_currency_marker("연구원들은 3배 빠른 3nm 공정을 시연했다.")
    assert extract("It raised $5bn.")[0].currency == "USD"
    assert extract("회사는 1조 5천억 원 규모의 투자를 발표했다.")[0].low == 1.5e12
    assert extract("5-달러")[0].currency == "USD"
    assert extract("Die Firma sammelte 5 Mio. EUR ein, während €3bn fehlten.")
    assert [f.currency for f in extract("5 cents, MUSD 3, Rs 5 crore and 7 pounds sterling")] == [
        "USD",
        "USD",
        "INR",
        "GBP",
    ]
